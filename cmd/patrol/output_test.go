package main

import (
	"bytes"
	"strings"
	"testing"

	"patrol/i18n"
	"patrol/runner"
)

func TestProgressLine(t *testing.T) {
	var stderr bytes.Buffer
	a := &app{lang: i18n.EN, stderr: &stderr}
	p := newProgress(a, 3)
	p.enabled = true

	p.result(runner.TaskResult{Host: "h1", Status: runner.StatusUnreachable})
	p.hostDone("h1", true)
	p.hostDone("h2", true)
	p.hostDone("h3", false)
	p.finish()

	last := stderr.String()[strings.LastIndex(stderr.String(), "\r"):]
	for _, want := range []string{"hosts 3/3", "failed 1", "unreachable 1"} {
		if !strings.Contains(last, want) {
			t.Errorf("last progress line %q lacks %q", last, want)
		}
	}
}

func TestProgressOffWithoutTerminal(t *testing.T) {
	var stderr bytes.Buffer
	p := newProgress(&app{lang: i18n.EN, stderr: &stderr}, 1)
	p.hostDone("h1", false)
	p.finish()
	if stderr.Len() != 0 {
		t.Errorf("progress written to a non-terminal: %q", stderr.String())
	}
}
