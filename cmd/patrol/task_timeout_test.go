package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A task that runs past its timeout on the machine running patrol is named
// as a task timeout in a Chinese run, on the terminal and in the report,
// never as a network timeout.
func TestTaskTimeoutInChinese(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(dir, "inventory.yml"), "hosts:\n  here: {connection: local, os: debian, system: seal}\n")
	book := writeFile(t, filepath.Join(dir, "slow.yml"), `- hosts: all
  tasks:
    - name: slow job
      command: sleep 5
      timeout: 1s
`)
	env := []string{"PATROL_HOME=" + home, "PATROL_INVENTORY=", "PATROL_LANG=zh"}

	res := runPatrolEnv(t, env, dir, "run", book, "-i", "inventory.yml")

	if res.code != exitFailed {
		t.Fatalf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, exitFailed, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, "| slow job：任务超过时限 1s，已终止；如确需更长时间，请调大该任务的 timeout（") {
		t.Errorf("terminal does not name the task timeout in Chinese:\n%s", res.stdout)
	}

	out := filepath.Join(dir, "report")
	rep := runPatrolEnv(t, env, dir, "report", "--kind", "daily", "--out", out)
	if rep.code != exitOK {
		t.Fatalf("report: exit %d\n%s", rep.code, rep.stderr)
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "任务执行失败：任务超过时限 1s，已终止") {
		t.Errorf("report.md does not name the task timeout:\n%s", md)
	}
	if strings.Contains(string(md), "连接超时") {
		t.Errorf("report.md calls the task timeout a connection timeout:\n%s", md)
	}
}
