package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	winrmlab "patrol/lab/winrm"
)

// TestWinRMRebootWaitsForHost reboots a Windows host played by the WinRM lab
// over HTTPS. The lab takes the host down after shutdown.exe's delay and
// reports a new boot time when it is back. The run must wait for that, report
// the reboot as a change between two boot identities, and then run the next
// task on the rebooted host.
func TestWinRMRebootWaitsForHost(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	// The next task echoes both identities, so its command text only matches
	// this entry when the reboot module reported two boot times.
	replay := writeFile(t, filepath.Join(dir, "rebooting.yml"),
		"- match: 'after reboot: boot_time=\\d{4}-\\S+Z -> boot_time=\\d{4}-\\S+Z'\n  stdout: \"WIN-LAB\\r\\n\"\n")
	labLog := &syncBuffer{}
	port, caFile := startLab(t, replay, winrmlab.Config{
		SimulateReboot: true, RebootDownTime: 3 * time.Second,
		Logger: slog.New(slog.NewTextHandler(labLog, nil)),
	})
	inv := writeFile(t, filepath.Join(dir, "inventory.yml"), "hosts:\n"+windowsHost("seal-db-1", port, caFile, "SEAL_DB_PASSWORD"))
	book := writeFile(t, filepath.Join(dir, "reboot.yml"), `- hosts: all
  tasks:
    - name: restart
      reboot: {timeout: 60s}
      register: r
    - name: after
      shell: {cmd: "Write-Output 'after reboot: {{ .r.data.boot_identity_before }} -> {{ .r.data.boot_identity_after }}'"}
      when: "{{ ne .r.data.boot_identity_before .r.data.boot_identity_after }}"
`)

	res := runPatrolEnv(t, []string{"PATROL_HOME=" + home, "PATROL_INVENTORY=", "PATROL_LANG=en", "SEAL_DB_PASSWORD=" + labPassword},
		dir, "run", book, "-i", inv, "-o", "json")

	if res.code != exitOK {
		t.Fatalf("exit code = %d, want 0\nstdout:\n%s\nstderr:\n%s\nlab log:\n%s", res.code, res.stdout, res.stderr, labLog)
	}
	results := map[string]jsonResult{}
	for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		var r jsonResult
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("output line %q: %v", line, err)
		}
		results[r.Task] = r
	}
	if r := results["restart"]; !r.Changed || r.Module != "reboot" {
		t.Errorf("reboot result = %+v, want a changed reboot task", r)
	}
	if r := results["after"]; r.Status != "changed" || !strings.Contains(r.Stdout, "WIN-LAB") {
		t.Errorf("task after the reboot = %+v, want it run with the replayed output", r)
	}
	if !strings.Contains(labLog.String(), "host down") {
		t.Errorf("the lab host never went down:\n%s", labLog)
	}
	if strings.Contains(res.stdout+res.stderr, labPassword) {
		t.Error("the WinRM password appears in patrol's output")
	}
}

// syncBuffer is a bytes.Buffer the lab's request goroutines may write to
// while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
