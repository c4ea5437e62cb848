package main

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	winrmlab "patrol/lab/winrm"
)

// labOutput is what `patrol lab winrm` printed before it started serving.
type labOutput struct {
	port                      string
	caFile, certFile, keyFile string
}

// startLabCommand runs `patrol lab winrm` with args, reads its output up to the
// line that gives the address it serves, and stops it when the test ends.
func startLabCommand(t *testing.T, args ...string) labOutput {
	t.Helper()
	lab := exec.Command(patrolBin, append([]string{"lab", "winrm", "--listen", "127.0.0.1:0"}, args...)...)
	lab.Env = append(os.Environ(), "PATROL_LANG=en")
	stdout, err := lab.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	lab.Stderr = &stderr
	if err := lab.Start(); err != nil {
		t.Fatalf("start patrol lab winrm: %v", err)
	}
	t.Cleanup(func() {
		_ = lab.Process.Signal(os.Interrupt)
		_ = lab.Wait()
	})

	var out labOutput
	var printed strings.Builder
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		line := lines.Text()
		printed.WriteString(line + "\n")
		name, value, _ := strings.Cut(line, ": ")
		switch name {
		case "CA certificate":
			out.caFile = value
		case "client certificate (cert_file)":
			out.certFile = value
		case "client key (cert_key_file)":
			out.keyFile = value
		}
		if address, ok := strings.CutPrefix(line, "serving WinRM at "); ok {
			served, err := url.Parse(strings.Fields(address)[0])
			if err != nil {
				t.Fatalf("address in %q: %v", line, err)
			}
			out.port = served.Port()
			return out
		}
	}
	_ = lab.Wait()
	t.Fatalf("patrol lab winrm stopped before serving\nstdout:\n%s\nstderr:\n%s", printed.String(), stderr.String())
	return out
}

// certHost returns the inventory entry of a Windows host that patrol logs in
// to with a client certificate.
func certHost(name, port, caFile, certFile, keyFile string) string {
	return fmt.Sprintf(`  %s:
    address: 127.0.0.1
    port: %s
    connection: winrm
    auth: cert
    tls: true
    ca_file: %s
    cert_file: %s
    cert_key_file: %s
    os: win2012r2
    system: seal
`, name, port, caFile, certFile, keyFile)
}

// TestLabWinRMCertAuthRun starts `patrol lab winrm --tls --auth cert`, takes
// the client certificate and key it writes, and runs check.disk over
// certificate authentication with them.
func TestLabWinRMCertAuthRun(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	replay := replayOfTestdata(t, filepath.Join(dir, "seal-db.yml"), []recorded{
		{"Win32_LogicalDisk", "constructed-win2012r2-logicaldisk.txt"},
	})
	lab := startLabCommand(t, "--replay", replay, "--user", labUser, "--tls", "--auth", "cert")
	if lab.certFile != filepath.Join(dir, "seal-db-client.pem") || lab.keyFile != filepath.Join(dir, "seal-db-client-key.pem") {
		t.Errorf("client files = %q, %q; want seal-db-client.pem and seal-db-client-key.pem next to the replay file", lab.certFile, lab.keyFile)
	}
	inv := writeFile(t, filepath.Join(dir, "inventory.yml"), "hosts:\n"+certHost("seal-db-1", lab.port, lab.caFile, lab.certFile, lab.keyFile))
	book := writeFile(t, filepath.Join(dir, "disk.yml"), "- hosts: all\n  tasks:\n    - check.disk: {warn: 80, fail: 90}\n")

	res := runPatrol(t, home, dir, "run", book, "-i", inv, "-o", "json")

	if res.code != exitFailed {
		t.Fatalf("exit code = %d, want 1 (C: is 93%% full)\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	for _, want := range []string{`"item":"C:"`, `"item":"D:"`, `"status":"fail"`} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %s:\n%s", want, res.stdout)
		}
	}
}

// TestWinRMCertAuthMissingKey checks that a cert_key_file that does not exist
// is invalid input, named in the user's language, before any host is dialed.
func TestWinRMCertAuthMissingKey(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	generated, err := winrmlab.GenerateClientCertificate(labUser)
	if err != nil {
		t.Fatal(err)
	}
	certFile := writeFile(t, filepath.Join(dir, "patrol-client.pem"), string(generated.CertPEM))
	missing := filepath.Join(dir, "patrol-client-key.pem")
	// Port 9 on loopback: nothing may be sent there, and nothing is.
	inv := writeFile(t, filepath.Join(dir, "inventory.yml"), "hosts:\n"+certHost("seal-db-1", "9", certFile, certFile, missing))
	book := writeFile(t, filepath.Join(dir, "disk.yml"), "- hosts: all\n  tasks:\n    - check.disk: {warn: 80, fail: 90}\n")

	for _, lang := range []struct{ name, want string }{{"en", "file not found"}, {"zh", "文件不存在"}} {
		t.Run(lang.name, func(t *testing.T) {
			res := runPatrolEnv(t, []string{"PATROL_HOME=" + home, "PATROL_INVENTORY=", "PATROL_LANG=" + lang.name}, dir, "run", book, "-i", inv)
			if res.code != exitInvalid {
				t.Fatalf("exit code = %d, want 2\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}
			for _, want := range []string{"cert_key_file", missing, lang.want, "seal-db-1"} {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
				}
			}
		})
	}
}

func TestLabWinRMCertAuthNeedsTLS(t *testing.T) {
	dir := t.TempDir()
	replay := replayOfTestdata(t, filepath.Join(dir, "seal-db.yml"), []recorded{
		{"Win32_LogicalDisk", "constructed-win2012r2-logicaldisk.txt"},
	})

	res := runPatrol(t, dir, dir, "lab", "winrm", "--replay", replay, "--user", labUser, "--auth", "cert")

	if res.code != exitInvalid {
		t.Fatalf("exit code = %d, want 2\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stderr, "--tls") {
		t.Errorf("stderr does not name --tls:\n%s", res.stderr)
	}
}
