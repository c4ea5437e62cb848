package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"patrol/internal/sshtest"
	winrmlab "patrol/lab/winrm"
)

// TestWinRMHostChecks runs check.disk on a Windows host played by the replaying
// WinRM server over HTTPS, with the server's CA given in the inventory.
func TestWinRMHostChecks(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	replay := replayOfTestdata(t, filepath.Join(dir, "seal-db.yml"), []recorded{
		{"Win32_LogicalDisk", "constructed-win2012r2-logicaldisk.txt"},
	})
	port, caFile := startLab(t, replay, winrmlab.Config{})
	inv := writeFile(t, filepath.Join(dir, "inventory.yml"), "hosts:\n"+windowsHost("seal-db-1", port, caFile, "SEAL_DB_PASSWORD"))
	book := writeFile(t, filepath.Join(dir, "disk.yml"), "- hosts: all\n  tasks:\n    - check.disk: {warn: 80, fail: 90}\n")

	res := runPatrolEnv(t, []string{"PATROL_HOME=" + home, "PATROL_INVENTORY=", "PATROL_LANG=en", "SEAL_DB_PASSWORD=" + labPassword},
		dir, "run", book, "-i", inv, "-o", "json")

	if res.code != exitFailed {
		t.Fatalf("exit code = %d, want 1 (C: is 93%% full)\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	for _, want := range []string{`"item":"C:"`, `"item":"D:"`, `"status":"fail"`} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %s:\n%s", want, res.stdout)
		}
	}
	if strings.Contains(res.stdout+res.stderr, labPassword) {
		t.Error("the WinRM password appears in patrol's output")
	}
}

// TestInspectMonthlyMixedEstate inspects a Linux host over SSH, a Windows host
// over WinRM and this machine in one run, and expects one report covering all
// three.
func TestInspectMonthlyMixedEstate(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	sshd := sshtest.Start(t, sshtest.Options{})
	trustHost(t, home, sshd)
	replay := replayOfTestdata(t, filepath.Join(dir, "windows.yml"), []recorded{
		{"Win32_QuickFixEngineering", "constructed-win2012r2-zh-hotfix-probe.txt"},
		{"WindowsUpdateAutoUpdate", "constructed-win2012r2-reboot-signals.txt"},
		{"Win32_OperatingSystem", "constructed-win2012r2-uptime-probe.txt"},
		{"w32tm /query /status", "constructed-win2012r2-zh-time-probe.txt"},
		{"Get-WinEvent", "constructed-win2012r2-zh-eventlog-probe.txt"},
		{"Win32_LogicalDisk", "constructed-win2012r2-logicaldisk.txt"},
		{"Win32_Service", "constructed-win2012r2-zh-services.txt"},
		{"Get-NetFirewallProfile", "constructed-win2012r2-firewall-profiles.csv"},
	})
	winPort, caFile := startLab(t, replay, winrmlab.Config{})
	inv := writeFile(t, filepath.Join(dir, "inventory.yml"), fmt.Sprintf(`hosts:
  seal-app-1: {address: 127.0.0.1, port: %d, user: root, key_file: %s, os: debian, system: seal}
%s  patrol-host: {connection: local, os: debian, system: hotel}
`, sshd.Port, sshd.ClientKeyPath, windowsHost("seal-db-1", winPort, caFile, "SEAL_DB_PASSWORD")))
	out := filepath.Join(dir, "report")

	res := runPatrolEnv(t, []string{"PATROL_HOME=" + home, "PATROL_INVENTORY=", "PATROL_LANG=en", "SEAL_DB_PASSWORD=" + labPassword},
		dir, "inspect", "monthly", "-i", inv, "--out", out)

	if res.code != exitOK && res.code != exitFailed {
		t.Fatalf("exit code = %d, want 0 or 1\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	data, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Hosts []struct {
			Name      string `json:"name"`
			Reachable bool   `json:"reachable"`
			Items     []struct {
				Check  string `json:"check"`
				Item   string `json:"item"`
				Status string `json:"status"`
			} `json:"items"`
		} `json:"hosts"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	// The recordings hold two items that cannot be measured on purpose: a disk
	// without a file system and a log the host does not keep.
	expectedErrors := map[string]bool{"check.disk Win32_LogicalDisk": true, "check.eventlog HardwareEvents": true}
	checksOf := map[string]map[string]bool{}
	for _, h := range rep.Hosts {
		if !h.Reachable {
			t.Errorf("%s is unreachable in the report", h.Name)
		}
		checksOf[h.Name] = map[string]bool{}
		for _, it := range h.Items {
			checksOf[h.Name][it.Check] = true
			if h.Name == "seal-db-1" && it.Status == "error" && !expectedErrors[it.Check+" "+it.Item] {
				t.Errorf("seal-db-1 %s %s could not be measured from the replayed output", it.Check, it.Item)
			}
		}
	}
	if len(rep.Hosts) != 3 {
		t.Fatalf("report covers %d hosts, want 3: %v", len(rep.Hosts), checksOf)
	}
	for host, want := range map[string][]string{
		"seal-app-1": {"check.disk", "check.memory", "check.firewall"},
		"seal-db-1": {"check.disk", "check.service", "check.firewall", "check.hotfix", "check.reboot_pending",
			"check.uptime", "check.time", "check.eventlog"},
		"patrol-host": {"check.disk", "check.memory"},
	} {
		for _, check := range want {
			if !checksOf[host][check] {
				t.Errorf("%s has no %s item; it has %v", host, check, checksOf[host])
			}
		}
	}
	if checksOf["seal-db-1"]["check.memory"] {
		t.Error("a Linux-only check ran on the Windows host")
	}
}
