package sshconn

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"patrol/internal/sshtest"
	"patrol/inventory"
	"patrol/transport"
)

// testEnv is one test's patrol side: its own known_hosts and options.
type testEnv struct {
	t          *testing.T
	knownHosts string
	opts       Options
	hosts      map[string]*inventory.Host
}

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	t.Setenv("SSH_AUTH_SOCK", "")
	dir := t.TempDir()
	env := &testEnv{
		t:          t,
		knownHosts: filepath.Join(dir, "known_hosts"),
		hosts:      map[string]*inventory.Host{},
	}
	env.opts = Options{
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		ConnectTimeout:  5 * time.Second,
		KnownHostsFiles: []string{env.knownHosts},
		ResolveJump: func(name string) (*inventory.Host, bool) {
			h, ok := env.hosts[name]
			return h, ok
		},
	}
	return env
}

// trust appends the server's plain known_hosts line.
func (e *testEnv) trust(servers ...*sshtest.Server) {
	e.t.Helper()
	f, err := os.OpenFile(e.knownHosts, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	for _, s := range servers {
		if _, err := f.WriteString(s.KnownHostsLine() + "\n"); err != nil {
			e.t.Fatal(err)
		}
	}
}

// host returns an inventory host for the server that logs in as root with the
// harness's client key, registered under name for jump lookups.
func (e *testEnv) host(name string, s *sshtest.Server) *inventory.Host {
	noAgent := false
	h := &inventory.Host{
		Name:       name,
		Address:    s.Host,
		Port:       s.Port,
		Connection: inventory.ConnSSH,
		User:       "root",
		KeyFile:    s.ClientKeyPath,
		Agent:      &noAgent,
	}
	e.hosts[name] = h
	return h
}

// passwordHost logs in as the harness's password user, with no key.
func (e *testEnv) passwordHost(name string, s *sshtest.Server, password string) *inventory.Host {
	e.t.Helper()
	user, _ := sshtest.PasswordUser(e.t)
	h := e.host(name, s)
	h.User = user
	h.KeyFile = ""
	h.PasswordEnv = "PATROL_TEST_PASSWORD"
	e.t.Setenv("PATROL_TEST_PASSWORD", password)
	e.t.Setenv("HOME", e.t.TempDir()) // no default keys from ~/.ssh
	return h
}

func (e *testEnv) dial(h *inventory.Host) (*Conn, error) {
	e.t.Helper()
	cfg, err := ConfigFromHost(h, e.opts)
	if err != nil {
		e.t.Fatalf("ConfigFromHost(%s): %v", h.Name, err)
	}
	conn, err := Dial(context.Background(), cfg)
	if err == nil {
		e.t.Cleanup(func() { conn.Close() })
	}
	return conn, err
}

func (e *testEnv) mustDial(h *inventory.Host) *Conn {
	e.t.Helper()
	conn, err := e.dial(h)
	if err != nil {
		e.t.Fatalf("dial %s: %v", h.Name, err)
	}
	return conn
}

// unreachable asserts err is an UnreachableError with the reason.
func unreachableReason(t *testing.T, err error, reason string) *transport.UnreachableError {
	t.Helper()
	var u *transport.UnreachableError
	if !errors.As(err, &u) {
		t.Fatalf("error %v (%T) is not an UnreachableError", err, err)
	}
	if u.Reason != reason {
		t.Fatalf("reason = %q, want %q; error: %v", u.Reason, reason, err)
	}
	return u
}

func run(t *testing.T, c *Conn, cmd transport.Command) transport.Result {
	t.Helper()
	result, err := c.Run(context.Background(), cmd)
	if err != nil {
		t.Fatalf("run %q%q: %v", cmd.Argv, cmd.Script, err)
	}
	return result
}

func stdout(t *testing.T, c *Conn, script string) string {
	t.Helper()
	result := run(t, c, transport.Command{Script: script})
	if result.ExitCode != 0 {
		t.Fatalf("%q exited %d: %s", script, result.ExitCode, result.Stderr)
	}
	return strings.TrimSpace(string(result.Stdout))
}
