package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInvalidPlaybookExitsTwo(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	marker := filepath.Join(dir, "ran")
	book, err := os.ReadFile("testdata/three-problems.yml")
	if err != nil {
		t.Fatal(err)
	}
	// A first task that would leave a file behind proves nothing ran.
	text := strings.Replace(string(book), "  tasks:\n", "  tasks:\n    - name: leave a mark\n      command: touch "+marker+"\n", 1)
	path := writeFile(t, filepath.Join(dir, "three-problems.yml"), text)

	res := runPatrol(t, home, dir, "run", path)

	if res.code != exitInvalid {
		t.Fatalf("exit code = %d, want %d\nstderr:\n%s", res.code, exitInvalid, res.stderr)
	}
	for _, want := range []string{
		path + ":8:",  // retrys, an unknown task key
		path + ":10:", // comand, an unknown module
		path + ":13:", // register indented one column too little
		`"retries"`,   // did you mean
		`"command"`,
	} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr does not name %s:\n%s", want, res.stderr)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("a task ran although the playbook is invalid")
	}
	if _, err := os.Stat(filepath.Join(home, "journal")); err == nil {
		t.Error("a journal was written although nothing ran")
	}
}

func TestUnknownLimitExitsTwo(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	res := runPatrol(t, home, dir, "run", "daily-inspection", "--limit", "no-such-host")
	if res.code != exitInvalid {
		t.Fatalf("exit code = %d, want %d\nstderr:\n%s", res.code, exitInvalid, res.stderr)
	}
	if !strings.Contains(res.stderr, "no-such-host") {
		t.Errorf("stderr does not name the pattern:\n%s", res.stderr)
	}
}

func TestBadFlagExitsTwo(t *testing.T) {
	res := runPatrol(t, t.TempDir(), t.TempDir(), "run", "--no-such-flag", "x.yml")
	if res.code != exitInvalid {
		t.Fatalf("exit code = %d, want %d", res.code, exitInvalid)
	}
}
