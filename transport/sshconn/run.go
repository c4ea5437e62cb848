package sshconn

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"patrol/transport"
)

// killGrace is how long a timed-out command gets after SIGTERM before SIGKILL.
const killGrace = 3 * time.Second

// errCommandTimeout is the context cause when Command.Timeout passes.
var errCommandTimeout = errors.New("command timeout")

// Run executes cmd in a new session. Before the command, a shell reports its
// PID and process group from /proc. When ctx ends or cmd.Timeout passes, a
// second session kills that process group, because servers before OpenSSH
// 7.9 (CentOS 7 has 7.4) ignore the "signal" channel request.
func (c *Conn) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	start := time.Now()
	if cmd.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, cmd.Timeout, errCommandTimeout)
		defer cancel()
	}

	sudo, err := c.sudoPrefix(ctx, cmd.Become)
	if err != nil {
		return transport.Result{}, err
	}

	if cmd.Probe && cmd.Stdin == nil && !slices.Contains(sudo, "-S") {
		result, err := c.runInShell(ctx, cmd, sudo, start)
		if !errors.Is(err, errShellUnavailable) {
			return result, err
		}
	}

	select {
	case c.sessions <- struct{}{}:
		defer func() { <-c.sessions }()
	case <-ctx.Done():
		return transport.Result{}, stopError(ctx, nil, false)
	case <-c.dead:
		return transport.Result{}, c.lostError(errors.New("no new session"))
	}
	return c.run(ctx, cmd, sudo, start)
}

// run executes cmd in a new session. Run calls it holding a session slot;
// killRemote calls it without one, so a kill never waits behind the commands
// it ends.
func (c *Conn) run(ctx context.Context, cmd transport.Command, sudo []string, start time.Time) (transport.Result, error) {
	marker := newMarker()
	commandLine, err := buildCommand(cmd, sudo, marker)
	if err != nil {
		return transport.Result{}, err
	}

	session, err := c.newSession(ctx)
	if err != nil {
		return transport.Result{}, err
	}
	defer session.Close()

	stdout := &lockedBuffer{}
	stderr := newPIDFilter(marker)
	session.Stdout = stdout
	session.Stderr = stderr
	session.Stdin = commandStdin(cmd, sudo)

	if err := session.Start(commandLine); err != nil {
		return transport.Result{}, c.lostError(fmt.Errorf("start command: %w", err))
	}
	done := make(chan error, 1)
	go func() { done <- session.Wait() }()

	var waitErr error
	select {
	case waitErr = <-done:
	case <-ctx.Done():
		killErr := c.killRemote(cmd.Become, sudo, stderr, done)
		session.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
		result := transport.Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: -1, Duration: time.Since(start)}
		return result, stopError(ctx, killErr, true)
	}

	result := transport.Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), Duration: time.Since(start)}
	var exitErr *ssh.ExitError
	switch {
	case waitErr == nil:
	case errors.As(waitErr, &exitErr):
		result.ExitCode = exitErr.ExitStatus()
	default:
		result.ExitCode = -1
		return result, c.lostError(fmt.Errorf("command did not finish: %w", waitErr))
	}
	return result, nil
}

// newSession opens a session channel. sshd counts a closed session against
// MaxSessions until its side of the close is done, so a rejected open is
// retried up to 20 times with a growing delay. A retry is no login attempt.
func (c *Conn) newSession(ctx context.Context) (*ssh.Session, error) {
	delay := 10 * time.Millisecond
	for attempt := 1; ; attempt++ {
		session, err := c.client.NewSession()
		if err == nil {
			return session, nil
		}
		var rejected *ssh.OpenChannelError
		if !errors.As(err, &rejected) || attempt == 20 {
			return nil, c.lostError(fmt.Errorf("open session: %w", err))
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, stopError(ctx, nil, false)
		case <-c.dead:
			return nil, c.lostError(fmt.Errorf("open session: %w", err))
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
}

// stopError builds the error of a command ended by its context.
func stopError(ctx context.Context, killErr error, started bool) error {
	what := "command not started"
	if started {
		what = "remote process killed"
	}
	var err error
	if errors.Is(context.Cause(ctx), errCommandTimeout) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("%s: %w (%w)", what, transport.ErrTimeout, ctx.Err())
	} else {
		err = fmt.Errorf("%s: %w", what, ctx.Err())
	}
	if killErr != nil {
		err = fmt.Errorf("%w; the remote process may still run: %v", err, killErr)
	}
	return err
}

// killRemote ends the command's process group: SIGTERM, then SIGKILL after
// killGrace. It runs as the same user as the command (through the same sudo),
// which may signal the command but not a root-owned sudo in its group.
func (c *Conn) killRemote(become *transport.Become, sudo []string, stderr *pidFilter, done <-chan error) error {
	var group int
	select {
	case group = <-stderr.group:
	case <-done:
		return nil
	case <-time.After(5 * time.Second):
		return errors.New("the command never reported its process group")
	}

	ctx, cancel := context.WithTimeout(context.Background(), killGrace+10*time.Second)
	defer cancel()
	target := "-" + strconv.Itoa(group)
	// dash's kill takes no "--"; a negative PID after the signal is a group.
	script := fmt.Sprintf("kill -TERM %[1]s 2>/dev/null || exit 0; i=0; "+
		"while [ $i -lt %[2]d ]; do kill -0 %[1]s 2>/dev/null || exit 0; sleep 0.1; i=$((i+1)); done; "+
		"kill -KILL %[1]s 2>/dev/null; exit 0", target, int(killGrace/(100*time.Millisecond)))

	result, err := c.run(ctx, transport.Command{Script: script, Become: become}, sudo, time.Now())
	if err != nil {
		return fmt.Errorf("kill process group %d: %w", group, err)
	}
	if result.ExitCode != 0 {
		return fmt.Errorf("kill process group %d: exit status %d: %s", group, result.ExitCode, bytes.TrimSpace(result.Stderr))
	}
	return nil
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// reportGroup writes the marker, the shell's PID and its /proc stat line
// (which holds the process group) to stderr, so that a timed-out command can be
// killed from a second session. Without sudo the shell running it is the login
// shell, which sshd made a session leader.
const reportGroup = `read -r s </proc/$$/stat 2>/dev/null; echo "%s:$$ $s" >&2`

// buildCommand returns the command line for the login shell. Without sudo the
// login shell itself reports its process group, sets the environment and execs
// the program:
//
//	<report>; LC_ALL=C; export LC_ALL; K='v'; export K; exec program…
//
// With sudo, which resets the environment, a /bin/sh started by sudo does it:
//
//	exec sudo … /bin/sh -c '<report>; LC_ALL=C; export LC_ALL; …; exec "$@"' sh program…
//
// program is the single-quoted Argv, or /bin/sh -c with the quoted Script. No
// argument is interpreted by any shell on the way. Each command costs sshd one
// login shell and the program, and nothing more, because on hosts with many
// checks every extra process start is paid hundreds of times.
func buildCommand(cmd transport.Command, sudo []string, marker string) (string, error) {
	return buildCommandIn(cmd, sudo, marker, false)
}

// buildCommandIn is buildCommand with one option. With inShell, a Script run
// without sudo is evaluated by the shell the line is given to, which must be a
// /bin/sh, instead of by an exec'd /bin/sh. In the probe shell that saves a
// process start.
func buildCommandIn(cmd transport.Command, sudo []string, marker string, inShell bool) (string, error) {
	var program []string
	switch {
	case len(cmd.Argv) > 0:
		program = cmd.Argv
	case cmd.Script != "":
		program = []string{"/bin/sh", "-c", cmd.Script}
	default:
		return "", errors.New("command has neither argv nor script")
	}

	setup := []string{fmt.Sprintf(reportGroup, marker), "LC_ALL=C", "export LC_ALL"}
	for _, name := range slices.Sorted(maps.Keys(cmd.Env)) {
		if !envName.MatchString(name) {
			return "", fmt.Errorf("invalid environment variable name %q: use letters, digits and _", name)
		}
		if name == "LC_ALL" {
			continue
		}
		setup = append(setup, name+"="+ShellQuote(cmd.Env[name]), "export "+name)
	}

	switch {
	case len(sudo) == 0 && inShell && len(cmd.Argv) == 0:
		return strings.Join(setup, "; ") + "; eval " + ShellQuote(cmd.Script), nil
	case len(sudo) == 0:
		return strings.Join(setup, "; ") + "; exec " + quoteWords(program), nil
	}
	return sudoCommand(setup, sudo, program), nil
}

// sudoCommand returns the command line that runs program through sudo, with
// the setup done by a /bin/sh that sudo starts.
func sudoCommand(setup, sudo, program []string) string {
	inner := strings.Join(setup, "; ") + `; exec "$@"`
	words := append(append(slices.Clone(sudo), "/bin/sh", "-c", inner, "sh"), program...)
	return "exec " + quoteWords(words)
}

func quoteWords(words []string) string {
	quoted := make([]string, len(words))
	for i, word := range words {
		quoted[i] = ShellQuote(word)
	}
	return strings.Join(quoted, " ")
}

// ShellQuote quotes s for a POSIX shell with single quotes, so the shell
// passes it on as one literal word.
func ShellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%_-+=:,./", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// commandStdin puts the sudo password, when sudo will read one, before the
// command's own input.
func commandStdin(cmd transport.Command, sudo []string) io.Reader {
	input := cmd.Stdin
	if slices.Contains(sudo, "-S") {
		password := strings.NewReader(cmd.Become.Password + "\n")
		if input == nil {
			return password
		}
		return io.MultiReader(password, input)
	}
	return input
}

// sudoPrefix returns the sudo words for become, or nil. With a password it
// runs `sudo -n true` once per target user to learn whether sudo reads a
// password at all, because a password written to a sudo that does not read
// it would reach the command's stdin.
func (c *Conn) sudoPrefix(ctx context.Context, become *transport.Become) ([]string, error) {
	if become == nil {
		return nil, nil
	}
	target := become.User
	if target == "" {
		target = "root"
	}
	if become.Password == "" {
		return []string{"sudo", "-n", "-u", target, "--"}, nil
	}

	c.sudoMu.Lock()
	needsPassword, known := c.sudoNeedsPassword[target]
	c.sudoMu.Unlock()
	if !known {
		probe := transport.Command{Argv: []string{"sudo", "-n", "-u", target, "--", "true"}}
		result, err := c.Run(ctx, probe)
		if err != nil {
			return nil, fmt.Errorf("check whether sudo needs a password: %w", err)
		}
		needsPassword = result.ExitCode != 0
		c.sudoMu.Lock()
		c.sudoNeedsPassword[target] = needsPassword
		c.sudoMu.Unlock()
	}
	if !needsPassword {
		return []string{"sudo", "-n", "-u", target, "--"}, nil
	}
	// -k ignores cached credentials, so sudo always reads the password line.
	return []string{"sudo", "-k", "-S", "-p", "", "-u", target, "--"}, nil
}

func newMarker() string {
	var b [8]byte
	rand.Read(b[:])
	return "patrol-pid-" + hex.EncodeToString(b[:])
}

// pidFilter is the command's stderr. It takes the marker line out of the
// stream, sends the process group it names, and passes everything else on.
type pidFilter struct {
	marker string
	group  chan int

	mu      sync.Mutex
	out     bytes.Buffer
	pending []byte
	found   bool
}

// maxMarkerSearch bounds how much stderr is held back looking for the marker.
const maxMarkerSearch = 64 << 10

func newPIDFilter(marker string) *pidFilter {
	return &pidFilter{marker: marker + ":", group: make(chan int, 1)}
}

func (f *pidFilter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.found {
		return f.out.Write(p)
	}

	f.pending = append(f.pending, p...)
	for {
		line, rest, complete := bytes.Cut(f.pending, []byte("\n"))
		if !complete {
			break
		}
		f.pending = rest
		if report, ok := strings.CutPrefix(string(line), f.marker); ok {
			if group, ok := parseGroup(report); ok {
				f.group <- group
			}
			f.found = true
			f.out.Write(f.pending)
			f.pending = nil
			return len(p), nil
		}
		f.out.Write(line)
		f.out.WriteByte('\n')
	}
	if len(f.pending) > maxMarkerSearch {
		f.found = true
		f.out.Write(f.pending)
		f.pending = nil
	}
	return len(p), nil
}

// Bytes returns the stderr output without the marker line.
func (f *pidFilter) Bytes() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Clone(f.out.Bytes())
	return append(out, f.pending...)
}

// parseGroup reads the process group from "PID <contents of /proc/PID/stat>".
// The stat line is "pid (comm) state ppid pgrp …"; comm may contain spaces,
// so fields are counted after the last ')'. Without a stat line the PID is
// taken as the group, which holds for the login shell.
func parseGroup(report string) (int, bool) {
	pidText, stat, _ := strings.Cut(report, " ")
	pid, err := strconv.Atoi(pidText)
	if err != nil {
		return 0, false
	}
	paren := strings.LastIndexByte(stat, ')')
	if paren < 0 {
		return pid, true
	}
	fields := strings.Fields(stat[paren+1:])
	if len(fields) < 3 {
		return pid, true
	}
	group, err := strconv.Atoi(fields[2])
	if err != nil || group <= 1 {
		return pid, true
	}
	return group, true
}

// lockedBuffer is a bytes.Buffer safe for the session's copy goroutine and a
// reader that gives up waiting for it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Bytes returns a copy of the contents.
func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.buf.Bytes())
}
