package main

import (
	"encoding/json"
	"fmt"
	"net"
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
	disks, err := os.ReadFile("../../checks/testdata/constructed-win2012r2-logicaldisk.csv")
	if err != nil {
		t.Fatal(err)
	}
	replay := writeFile(t, filepath.Join(dir, "seal-db.yml"), "- match: Win32_LogicalDisk\n  stdout: "+jsonString(t, string(disks))+"\n")
	entries, err := winrmlab.LoadReplay(replay)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := winrmlab.New(winrmlab.Config{Entries: entries, User: "Administrator", Password: "s3cret-Pw", TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	caFile, err := srv.WriteCACert(replay)
	if err != nil {
		t.Fatal(err)
	}

	inv := writeFile(t, filepath.Join(dir, "inventory.yml"), `hosts:
  seal-db-1:
    address: 127.0.0.1
    port: `+portOf(ln)+`
    connection: winrm
    auth: basic
    tls: true
    ca_file: `+caFile+`
    user: Administrator
    password_env: SEAL_DB_PASSWORD
    os: win2012r2
    system: seal
`)
	book := writeFile(t, filepath.Join(dir, "disk.yml"), "- hosts: all\n  tasks:\n    - check.disk: {warn: 80, fail: 90}\n")

	res := runPatrolEnv(t, []string{"PATROL_HOME=" + home, "PATROL_INVENTORY=", "PATROL_LANG=en", "SEAL_DB_PASSWORD=s3cret-Pw"},
		dir, "run", book, "-i", inv, "-o", "json")

	if res.code != exitFailed {
		t.Fatalf("exit code = %d, want 1 (C: is 93%% full)\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	for _, want := range []string{`"item":"C:"`, `"item":"D:"`, `"status":"fail"`} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %s:\n%s", want, res.stdout)
		}
	}
	if strings.Contains(res.stdout+res.stderr, "s3cret-Pw") {
		t.Error("the WinRM password appears in patrol's output")
	}
}

func jsonString(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func portOf(ln net.Listener) string {
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// startReplayedWindows starts the replaying WinRM server with the recorded
// Windows probe outputs, over HTTPS, and returns its port and CA file.
func startReplayedWindows(t *testing.T, dir, user, password string) (port, caFile string) {
	t.Helper()
	var replay strings.Builder
	for _, e := range []struct{ match, file string }{
		{"Win32_QuickFixEngineering", "constructed-win2012r2-zh-hotfix-probe.txt"},
		{"CBSRebootPending", "constructed-win2012r2-reboot-signals.txt"},
		{"Win32_OperatingSystem", "constructed-win2012r2-uptime-probe.txt"},
		{"w32tm /query /status", "constructed-win2012r2-zh-time-probe.txt"},
		{"Get-WinEvent", "constructed-win2012r2-zh-eventlog-probe.csv"},
		{"Win32_LogicalDisk", "constructed-win2012r2-logicaldisk.csv"},
		{"Win32_Service", "constructed-win2012r2-zh-services.csv"},
		{"Get-NetFirewallProfile", "constructed-win2012r2-firewall-profiles.csv"},
	} {
		data, err := os.ReadFile(filepath.Join("..", "..", "checks", "testdata", e.file))
		if err != nil {
			t.Fatal(err)
		}
		replay.WriteString("- match: " + e.match + "\n  stdout: " + jsonString(t, string(data)) + "\n")
	}
	path := writeFile(t, filepath.Join(dir, "windows.yml"), replay.String())
	entries, err := winrmlab.LoadReplay(path)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := winrmlab.New(winrmlab.Config{Entries: entries, User: user, Password: password, TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	caFile, err = srv.WriteCACert(path)
	if err != nil {
		t.Fatal(err)
	}
	return portOf(ln), caFile
}

// TestInspectMonthlyMixedEstate inspects a Linux host over SSH, a Windows host
// over WinRM and this machine in one run, and expects one report covering all
// three.
func TestInspectMonthlyMixedEstate(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	sshd := sshtest.Start(t, sshtest.Options{})
	trustHost(t, home, sshd)
	winPort, caFile := startReplayedWindows(t, dir, "Administrator", "s3cret-Pw")
	inv := writeFile(t, filepath.Join(dir, "inventory.yml"), fmt.Sprintf(`hosts:
  seal-app-1: {address: 127.0.0.1, port: %d, user: root, key_file: %s, os: debian, system: seal}
  seal-db-1:
    address: 127.0.0.1
    port: %s
    connection: winrm
    auth: basic
    tls: true
    ca_file: %s
    user: Administrator
    password_env: SEAL_DB_PASSWORD
    os: win2012r2
    system: seal
  patrol-host: {connection: local, os: debian, system: hotel}
`, sshd.Port, sshd.ClientKeyPath, winPort, caFile))
	out := filepath.Join(dir, "report")

	res := runPatrolEnv(t, []string{"PATROL_HOME=" + home, "PATROL_INVENTORY=", "PATROL_LANG=en", "SEAL_DB_PASSWORD=s3cret-Pw"},
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
