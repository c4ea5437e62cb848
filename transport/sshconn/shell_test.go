package sshconn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"patrol/internal/sshtest"
	"patrol/transport"
)

// shellParent returns the PID of the shell a probe ran in ($$, which a subshell
// inherits): the probe shell's PID when probes share it, a new process for each
// session otherwise.
func shellParent(t *testing.T, c *Conn) string {
	t.Helper()
	res := run(t, c, transport.Command{Script: "echo $$", Probe: true})
	return strings.TrimSpace(string(res.Stdout))
}

func TestProbeShellReusedAcrossProbes(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	env := newEnv(t)
	env.trust(s)
	c := env.mustDial(env.host("probe1", s))

	first := shellParent(t, c)
	for i := 0; i < 5; i++ {
		if got := shellParent(t, c); got != first {
			t.Fatalf("probe %d ran under %s, want the probe shell %s", i, got, first)
		}
	}
	plain := strings.TrimSpace(string(run(t, c, transport.Command{Script: "echo $$"}).Stdout))
	if plain == first {
		t.Error("a command without Probe ran in the probe shell")
	}
}

func TestProbeShellOutputAndStatus(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	env := newEnv(t)
	env.trust(s)
	c := env.mustDial(env.host("probe2", s))

	for _, tc := range []struct {
		name   string
		script string
		stdout string
		stderr string
		code   int
	}{
		{"plain", "echo out; echo err >&2", "out\n", "err\n", 0},
		{"no final newline", "printf 'a b'; printf 'c' >&2; exit 3", "a b", "c", 3},
		{"empty", "true", "", "", 0},
		{"marker-like text", "echo; echo 'm 5'", "\nm 5\n", "", 0},
		{"exit in the probe keeps the shell", "exit 7", "", "", 7},
		{"locale", "echo $LC_ALL", "C\n", "", 0},
		{"reads no stdin", "cat; echo done", "done\n", "", 0},
		{"quotes", `echo "it's" '$HOME'`, "it's $HOME\n", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, c, transport.Command{Script: tc.script, Probe: true})
			if string(res.Stdout) != tc.stdout {
				t.Errorf("stdout = %q, want %q", res.Stdout, tc.stdout)
			}
			if string(res.Stderr) != tc.stderr {
				t.Errorf("stderr = %q, want %q", res.Stderr, tc.stderr)
			}
			if res.ExitCode != tc.code {
				t.Errorf("exit code = %d, want %d", res.ExitCode, tc.code)
			}
		})
	}
}

func TestProbeShellLargeOutput(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	env := newEnv(t)
	env.trust(s)
	c := env.mustDial(env.host("probe3", s))

	res := run(t, c, transport.Command{Script: "head -c 3000000 /dev/zero | tr '\\0' x; head -c 200000 /dev/zero | tr '\\0' y >&2", Probe: true})

	if len(res.Stdout) != 3000000 || bytes.Count(res.Stdout, []byte("x")) != 3000000 {
		t.Errorf("stdout has %d bytes, want 3000000 x", len(res.Stdout))
	}
	if len(res.Stderr) != 200000 {
		t.Errorf("stderr has %d bytes, want 200000", len(res.Stderr))
	}
}

func TestProbeShellTimeoutKillsAndRecovers(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	env := newEnv(t)
	env.trust(s)
	c := env.mustDial(env.host("probe4", s))
	before := shellParent(t, c)

	res, err := c.Run(context.Background(), transport.Command{Script: "sleep 300 & echo $!; wait", Timeout: time.Second, Probe: true})

	if !errors.Is(err, transport.ErrTimeout) {
		t.Fatalf("error = %v, want ErrTimeout", err)
	}
	pid := strings.TrimSpace(string(res.Stdout))
	if _, convErr := strconv.Atoi(pid); convErr != nil {
		t.Fatalf("stdout %q holds no PID", res.Stdout)
	}
	if alive := run(t, c, transport.Command{Argv: []string{"kill", "-0", pid}}); alive.ExitCode == 0 {
		t.Errorf("remote sleep %s still runs after the timeout", pid)
	}
	after := shellParent(t, c)
	if after == before {
		t.Error("the probe shell of the killed probe is still in use")
	}
	if got := run(t, c, transport.Command{Script: "echo ok", Probe: true}); string(got.Stdout) != "ok\n" {
		t.Errorf("probe after the timeout: stdout %q", got.Stdout)
	}
}

func TestProbeShellConcurrentProbes(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	env := newEnv(t)
	env.trust(s)
	c := env.mustDial(env.host("probe5", s))

	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := fmt.Sprintf("probe %d", i)
			res, err := c.Run(context.Background(), transport.Command{Script: "echo '" + want + "'; exit " + strconv.Itoa(i%4), Probe: true})
			switch {
			case err != nil:
				errs <- err
			case string(res.Stdout) != want+"\n" || res.ExitCode != i%4:
				errs <- fmt.Errorf("probe %d: stdout %q exit %d", i, res.Stdout, res.ExitCode)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
