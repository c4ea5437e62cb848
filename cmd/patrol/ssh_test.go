package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"patrol/internal/sshtest"
	"patrol/journal"
)

// smokePlaybook is the minimal playbook that must work exactly as written.
const smokePlaybook = `- name: smoke
  hosts: linux
  tasks:
    - name: say hello
      command: echo hello
    - name: root disk
      check.disk: {warn: 80, fail: 90}
`

// minimalInventory is the minimal inventory that must work exactly as written,
// with only the port and key file of the test server put in.
func minimalInventory(port int, keyFile string) string {
	return fmt.Sprintf(`vars:
  user: root
hosts:
  web1:
    address: 127.0.0.1
    port: %d
    connection: ssh
    key_file: %s
    os: debian
    system: seal
groups:
  linux:
    hosts: [web1]
`, port, keyFile)
}

// trustHost writes the server's key into patrol's own known_hosts under home.
func trustHost(t *testing.T, home string, servers ...*sshtest.Server) {
	t.Helper()
	var lines strings.Builder
	for _, s := range servers {
		lines.WriteString(s.KnownHostsLine() + "\n")
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(home, "known_hosts"), lines.String())
}

func TestSSHMinimalInventoryAndPlaybook(t *testing.T) {
	srv := sshtest.Start(t, sshtest.Options{})
	home, dir := t.TempDir(), t.TempDir()
	trustHost(t, home, srv)
	inv := writeFile(t, filepath.Join(dir, "inventory.yml"), minimalInventory(srv.Port, srv.ClientKeyPath))
	book := writeFile(t, filepath.Join(dir, "smoke.yml"), smokePlaybook)

	res := runPatrol(t, home, dir, "run", book, "-i", inv, "-o", "json")

	if res.code != exitOK {
		t.Fatalf("exit code = %d, want 0\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, `"stdout":"hello\n"`) {
		t.Errorf("no hello in the JSON output:\n%s", res.stdout)
	}
	if !strings.Contains(res.stdout, `"check":"check.disk"`) {
		t.Errorf("no check.disk finding in the JSON output:\n%s", res.stdout)
	}
	if n := strings.Count(res.stdout, "\n"); n != 2 {
		t.Errorf("JSON output has %d lines, want one per task result (2):\n%s", n, res.stdout)
	}
}

func TestSSHChangedHostKeyExitsThree(t *testing.T) {
	srv := sshtest.Start(t, sshtest.Options{})
	home, dir := t.TempDir(), t.TempDir()
	trustHost(t, home, srv)
	oldFingerprint := ssh.FingerprintSHA256(srv.HostKey)
	inv := writeFile(t, filepath.Join(dir, "inventory.yml"), minimalInventory(srv.Port, srv.ClientKeyPath))
	book := writeFile(t, filepath.Join(dir, "smoke.yml"), smokePlaybook)

	srv.RestartWithNewHostKey(t)
	res := runPatrol(t, home, dir, "run", book, "-i", inv, "--accept-new-host-keys")

	if res.code != exitUnreachable {
		t.Fatalf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, exitUnreachable, res.stdout, res.stderr)
	}
	out := res.stdout + res.stderr
	for _, want := range []string{"web1", oldFingerprint, ssh.FingerprintSHA256(srv.HostKey), filepath.Join(home, "known_hosts")} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not name %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hello") {
		t.Error("a task ran on a host whose key changed")
	}
}

func TestSSHUnreachablePortExitsThree(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	srv := sshtest.Start(t, sshtest.Options{})
	port := srv.Port
	inv := writeFile(t, filepath.Join(dir, "inventory.yml"), minimalInventory(port, srv.ClientKeyPath))
	book := writeFile(t, filepath.Join(dir, "smoke.yml"), smokePlaybook)
	trustHost(t, home, srv)
	srv.Stop()

	res := runPatrol(t, home, dir, "run", book, "-i", inv, "--connect-timeout", "3s")

	if res.code != exitUnreachable {
		t.Fatalf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, exitUnreachable, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, "UNREACHABLE") {
		t.Errorf("output does not report the host unreachable:\n%s", res.stdout)
	}
}

// TestSSHHundredHosts runs ten checks on each of 100 hosts at once and checks
// that the journal holds every result in a valid chain.
func TestSSHHundredHosts(t *testing.T) {
	servers := sshtest.StartMany(t, 100, sshtest.Options{})
	home, dir := t.TempDir(), t.TempDir()
	trustHost(t, home, servers...)

	var inv strings.Builder
	inv.WriteString("vars:\n  user: root\nhosts:\n")
	for i, s := range servers {
		fmt.Fprintf(&inv, "  h%03d: {address: 127.0.0.1, port: %d, key_file: %s, os: debian, system: hotel}\n", i, s.Port, s.ClientKeyPath)
	}
	invPath := writeFile(t, filepath.Join(dir, "inventory.yml"), inv.String())
	logFile := writeFile(t, filepath.Join(dir, "app.log"), "start\nerror: disk slow\n")
	book := writeFile(t, filepath.Join(dir, "ten.yml"), `- name: ten checks
  hosts: all
  tasks:
    - check.disk: {warn: 95, fail: 99}
    - check.memory: {warn: 95, fail: 99}
    - check.load: {warn: 50, fail: 100}
    - check.port: {ports: [`+fmt.Sprint(servers[0].Port)+`]}
    - check.file_age: {path: `+logFile+`, max_age: 1h}
    - check.log: {path: `+logFile+`, patterns: [error], warn: 5}
    - command: uname -a
    - command: cat /proc/uptime
    - shell: echo $((6 * 7))
    - command: hostname
`)

	res := runPatrol(t, home, dir, "run", book, "-i", invPath, "--forks", "100")

	if res.code != exitOK {
		t.Fatalf("exit code = %d, want 0\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout[:min(len(res.stdout), 3000)], res.stderr)
	}
	path, err := journal.Latest(filepath.Join(home, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := journal.Verify(path)
	if err != nil {
		t.Fatalf("journal chain: %v", err)
	}
	if sum.Results != 1000 {
		t.Errorf("journal holds %d results, want 1000", sum.Results)
	}
	if !sum.Ended || sum.EndStatus != journal.RunOK {
		t.Errorf("journal end = %v %q, want an ok end record", sum.Ended, sum.EndStatus)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
