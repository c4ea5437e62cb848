package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
