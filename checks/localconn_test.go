package checks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"patrol/inventory"
	"patrol/module"
	"patrol/transport"
)

// localConn is a test-only transport.Connection that runs commands on this
// machine through /bin/sh with LC_ALL=C, as the Linux transports do. The real
// local transport lives in another package.
type localConn struct{}

func (localConn) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	if cmd.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cmd.Timeout)
		defer cancel()
	}

	argv := cmd.Argv
	if len(argv) == 0 {
		argv = []string{"/bin/sh", "-c", cmd.Script}
	}
	c := exec.CommandContext(ctx, argv[0], argv[1:]...)
	c.Env = append(os.Environ(), "LC_ALL=C")
	for k, v := range cmd.Env {
		c.Env = append(c.Env, k+"="+v)
	}
	c.Stdin = cmd.Stdin
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr

	start := time.Now()
	err := c.Run()
	res := transport.Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), Duration: time.Since(start)}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return res, fmt.Errorf("run %q: %w", argv[0], transport.ErrTimeout)
	case errors.As(err, &exitErr):
		res.ExitCode = exitErr.ExitCode()
	default:
		return res, err
	}
	return res, nil
}

func (localConn) Put(context.Context, string, string, transport.PutOptions) (transport.PutResult, error) {
	return transport.PutResult{}, errors.New("localConn: Put is not implemented in tests")
}

func (localConn) Get(context.Context, string, string) (transport.PutResult, error) {
	return transport.PutResult{}, errors.New("localConn: Get is not implemented in tests")
}

func (localConn) Close() error { return nil }

// memState is an in-memory module.State.
type memState struct {
	mu     sync.Mutex
	values map[string]string
}

func (s *memState) Get(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.values[key]
	return v, ok
}

func (s *memState) Set(key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.values == nil {
		s.values = map[string]string{}
	}
	s.values[key] = value
	return nil
}

// localEnv returns a module environment for this machine.
func localEnv(t *testing.T) *module.Env {
	t.Helper()
	return &module.Env{
		Host:  &inventory.Host{Name: "localhost", Connection: inventory.ConnLocal, OS: "debian"},
		Conn:  localConn{},
		State: &memState{},
		Log:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Now:   time.Now,
	}
}

// runCheck runs a registered check with its declared defaults filled in, the
// way the runner calls it after validation.
func runCheck(t *testing.T, env *module.Env, name string, args module.Args) module.Result {
	t.Helper()
	r := module.NewRegistry()
	Register(r)
	spec, ok := r.Lookup(name)
	if !ok {
		t.Fatalf("check %s is not registered", name)
	}
	full := module.Args{}
	for _, a := range spec.Args {
		if a.Default != nil {
			full[a.Name] = a.Default
		}
	}
	for k, v := range args {
		full[k] = v
	}
	res, err := spec.Run(context.Background(), env, full)
	if err != nil {
		t.Fatalf("%s returned an error instead of findings: %v", name, err)
	}
	return res
}
