package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"patrol/internal/sshtest"
)

// A host whose SSH port refuses connections is reported in Chinese in a
// Chinese run: the terminal and report.md give the cause and what to check,
// and the report keeps the transport's English error as evidence.
func TestUnreachableHostInChineseReport(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	srv := sshtest.Start(t, sshtest.Options{})
	port := srv.Port
	inv := writeFile(t, filepath.Join(dir, "inventory.yml"), minimalInventory(port, srv.ClientKeyPath))
	trustHost(t, home, srv)
	srv.Stop()
	out := filepath.Join(dir, "report")

	env := []string{"PATROL_HOME=" + home, "PATROL_INVENTORY=", "PATROL_LANG=zh"}
	res := runPatrolEnv(t, env, dir, "inspect", "daily", "-i", inv, "--out", out, "--connect-timeout", "3s")

	if res.code != exitUnreachable {
		t.Fatalf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, exitUnreachable, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, "连接被拒绝") || !strings.Contains(res.stdout, "connection refused") {
		t.Errorf("terminal does not give the cause in Chinese with the system error:\n%s", res.stdout)
	}

	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	var row string
	for _, line := range strings.Split(string(md), "\n") {
		if strings.Contains(line, "| 主机连接 |") {
			row = line
		}
	}
	cells := strings.Split(row, " | ")
	if len(cells) < 10 {
		t.Fatalf("no host connection row with ten columns in report.md:\n%s", md)
	}
	message, evidence := cells[7], cells[8]
	if !strings.Contains(message, "连接被拒绝") {
		t.Errorf("说明 = %q, want the refused connection named", message)
	}
	if words := regexp.MustCompile(`[A-Za-z]{2,}`).FindAllString(strings.ReplaceAll(message, "SSH", ""), -1); len(words) > 0 {
		t.Errorf("说明 = %q has English words %q", message, words)
	}
	if !strings.Contains(evidence, "connection refused") {
		t.Errorf("证据 = %q, want the transport's error", evidence)
	}
}
