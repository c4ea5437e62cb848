package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// patrolBin is the patrol binary built once for the tests that run it as a user
// would.
var patrolBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "patrol-bin-*")
	if err != nil {
		panic(err)
	}
	patrolBin = filepath.Join(dir, "patrol")
	build := exec.Command("go", "build", "-o", patrolBin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("build patrol: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one patrol invocation printed and returned.
type result struct {
	stdout string
	stderr string
	code   int
}

// runPatrol runs the binary with PATROL_HOME set to home and the working
// folder set to dir.
func runPatrol(t *testing.T, home, dir string, args ...string) result {
	t.Helper()
	return runPatrolEnv(t, []string{"PATROL_HOME=" + home, "PATROL_INVENTORY=", "PATROL_LANG=en"}, dir, args...)
}

// runPatrolEnv runs the binary with env added to this process's environment.
func runPatrolEnv(t *testing.T, env []string, dir string, args ...string) result {
	t.Helper()
	cmd := exec.Command(patrolBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	code := 0
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("run patrol %v: %v", args, err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
