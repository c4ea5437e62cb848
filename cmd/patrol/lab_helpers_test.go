package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	winrmlab "patrol/lab/winrm"
)

// Credentials of the Windows hosts the lab plays in these tests.
const (
	labUser     = "Administrator"
	labPassword = "s3cret-Pw"
)

// recorded names a checks/testdata file whose content the lab replays for
// commands matching a regular expression.
type recorded struct{ match, file string }

// replayOfTestdata writes a replay file whose entries, in order, answer each
// match with the content of its checks/testdata file.
func replayOfTestdata(t *testing.T, path string, entries []recorded) string {
	t.Helper()
	var replay strings.Builder
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join("..", "..", "checks", "testdata", e.file))
		if err != nil {
			t.Fatal(err)
		}
		replay.WriteString("- match: " + jsonString(t, e.match) + "\n  stdout: " + jsonString(t, string(data)) + "\n")
	}
	return writeFile(t, path, replay.String())
}

// startLab serves the replay file over HTTPS with cfg's other settings and
// returns the port and the CA file that trusts the server.
func startLab(t *testing.T, replayPath string, cfg winrmlab.Config) (port, caFile string) {
	t.Helper()
	entries, err := winrmlab.LoadReplay(replayPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Entries, cfg.User, cfg.Password, cfg.TLS = entries, labUser, labPassword, true
	srv, err := winrmlab.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	caFile, err = srv.WriteCACert(replayPath)
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return port, caFile
}

// windowsHost returns the inventory entry of a Windows host the lab plays,
// indented for the hosts: mapping.
func windowsHost(name, port, caFile, passwordEnv string) string {
	return fmt.Sprintf(`  %s:
    address: 127.0.0.1
    port: %s
    connection: winrm
    auth: basic
    tls: true
    ca_file: %s
    user: %s
    password_env: %s
    os: win2012r2
    system: seal
`, name, port, caFile, labUser, passwordEnv)
}

func jsonString(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
