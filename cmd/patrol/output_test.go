package main

import (
	"bytes"
	"strings"
	"testing"

	"patrol/i18n"
	"patrol/module"
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

func TestResultColumnsAlignByDisplayWidth(t *testing.T) {
	for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
		var out bytes.Buffer
		a := &app{lang: lang, stdout: &out, verbose: true}
		for _, status := range []string{runner.StatusFailed, runner.StatusUnreachable, runner.StatusChanged, runner.StatusOK} {
			a.printResult(runner.TaskResult{Host: "seal-app-1", Task: "disk", Status: status})
		}
		findings := []module.Finding{
			{Item: "/", Status: module.StatusOK}, {Item: "/", Status: module.StatusWarn},
			{Item: "/", Status: module.StatusFail}, {Item: "/", Status: module.StatusError},
		}
		a.printResult(runner.TaskResult{Host: "seal-app-1", Task: "disk", Status: runner.StatusFailed, Result: module.Result{Findings: findings}})

		hostColumns, itemColumns := map[int]bool{}, map[int]bool{}
		for line := range strings.Lines(out.String()) {
			if before, _, ok := strings.Cut(line, "seal-app-1"); ok {
				hostColumns[displayWidth(before)] = true
			} else if before, _, ok := strings.Cut(line, " / "); ok {
				itemColumns[displayWidth(before)] = true
			}
		}
		if len(hostColumns) != 1 {
			t.Errorf("%s: host names start at display columns %v, want one column:\n%s", lang, hostColumns, out.String())
		}
		if len(itemColumns) != 1 {
			t.Errorf("%s: finding items start at display columns %v, want one column:\n%s", lang, itemColumns, out.String())
		}
	}
}

func TestIgnoredFailureMarked(t *testing.T) {
	ignored := runner.TaskResult{Host: "seal-app-1", Task: "may fail", Status: runner.StatusFailed, Ignored: true,
		Result: module.Result{Failed: true, RC: 1, Msg: "exit code 1"}}
	for _, tc := range []struct {
		lang i18n.Lang
		want string
	}{
		{i18n.EN, "FAILED      seal-app-1 | may fail: exit code 1 ...ignoring\n"},
		{i18n.ZH, "失败        seal-app-1 | may fail：exit code 1（已忽略）\n"},
	} {
		var out bytes.Buffer
		a := &app{lang: tc.lang, stdout: &out}
		a.printResult(ignored)
		if out.String() != tc.want {
			t.Errorf("%s: printed %q, want %q", tc.lang, out.String(), tc.want)
		}
	}
}

func TestIgnoredInJSONLine(t *testing.T) {
	var out bytes.Buffer
	a := &app{lang: i18n.EN, stdout: &out, output: "json"}
	a.printResult(runner.TaskResult{Host: "h1", Task: "may fail", Status: runner.StatusFailed, Ignored: true})
	a.printResult(runner.TaskResult{Host: "h1", Task: "must work", Status: runner.StatusFailed})

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("printed %d lines, want 2:\n%s", len(lines), out.String())
	}
	if !strings.Contains(lines[0], `"ignored":true`) {
		t.Errorf("ignored failure lacks \"ignored\":true: %s", lines[0])
	}
	if strings.Contains(lines[1], `"ignored"`) {
		t.Errorf("failure that was not ignored has an ignored key: %s", lines[1])
	}
}

func TestRecapLabels(t *testing.T) {
	results := []runner.TaskResult{
		{Host: "seal-app-1", Status: runner.StatusOK},
		{Host: "seal-app-1", Status: runner.StatusChanged},
		{Host: "seal-app-1", Status: runner.StatusFailed, Ignored: true},
		{Host: "seal-app-2", Status: runner.StatusFailed},
	}
	for _, tc := range []struct {
		lang i18n.Lang
		want []string
	}{
		{i18n.EN, []string{
			"RECAP\n",
			"  seal-app-1               ok=1 changed=1 failed=0 skipped=0 unreachable=0 ignored=1\n",
			"  seal-app-2               ok=0 changed=0 failed=1 skipped=0 unreachable=0 ignored=0\n",
			"journal: /j.jsonl\n",
		}},
		{i18n.ZH, []string{
			"汇总\n",
			"  seal-app-1               成功=1 已变更=1 失败=0 跳过=0 无法连接=0 已忽略=1\n",
			"  seal-app-2               成功=0 已变更=0 失败=1 跳过=0 无法连接=0 已忽略=0\n",
			"运行日志：/j.jsonl\n",
		}},
	} {
		var out bytes.Buffer
		a := &app{lang: tc.lang, stdout: &out}
		a.printRecap(results, "/j.jsonl")
		if got, want := out.String(), strings.Join(tc.want, ""); got != want {
			t.Errorf("%s recap:\n%s\nwant:\n%s", tc.lang, got, want)
		}
	}
}
