// Package local implements transport.Connection on the machine patrol runs on, so
// that playbooks and checks written for remote hosts run here unchanged.
package local

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"patrol/transport"
)

// Conn runs commands and copies files on this machine.
type Conn struct{}

// New returns a connection to this machine.
func New() *Conn { return &Conn{} }

// Run executes cmd in its own process group, so a timeout kills the whole tree the
// command started.
func (c *Conn) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	if cmd.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, cmd.Timeout, errCommandTimeout)
		defer cancel()
	}

	argv, stdin := buildArgv(cmd)
	proc := exec.Command(argv[0], argv[1:]...)
	proc.Env = append(loginEnv(), "LC_ALL=C")
	for k, v := range cmd.Env {
		proc.Env = append(proc.Env, k+"="+v)
	}
	proc.Stdin = stdin
	var stdout, stderr bytes.Buffer
	proc.Stdout = &stdout
	proc.Stderr = &stderr
	proc.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}

	start := time.Now()
	if err := proc.Start(); err != nil {
		return transport.Result{ExitCode: 127, Stderr: []byte(err.Error())}, nil
	}
	done := make(chan error, 1)
	go func() { done <- proc.Wait() }()

	var waitErr error
	select {
	case waitErr = <-done:
	case <-ctx.Done():
		_ = syscall.Kill(-proc.Process.Pid, syscall.SIGKILL)
		// NOTE: a process that left the group (setsid, a daemon) and still holds
		// stdout or stderr open keeps this wait going until it exits.
		<-done
		res := transport.Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: -1, Duration: time.Since(start)}
		return res, killedError(ctx, cmd.Timeout)
	}

	res := transport.Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), Duration: time.Since(start)}
	var exitErr *exec.ExitError
	switch {
	case waitErr == nil:
	case errors.As(waitErr, &exitErr):
		res.ExitCode = exitErr.ExitCode()
	default:
		return res, fmt.Errorf("run command: %w", waitErr)
	}
	return res, nil
}

// errCommandTimeout is the cause of a context ended by Command.Timeout, so that
// Run can distinguish it from a deadline the caller set.
var errCommandTimeout = errors.New("command timeout")

// killedError describes a command whose process group was killed because ctx
// ended. A deadline, the command's own or the caller's, wraps
// transport.ErrTimeout as well as ctx.Err().
func killedError(ctx context.Context, timeout time.Duration) error {
	switch {
	case errors.Is(context.Cause(ctx), errCommandTimeout):
		return fmt.Errorf("process group killed: %w after %s (%w)", transport.ErrTimeout, timeout, ctx.Err())
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("process group killed: %w (%w)", transport.ErrTimeout, ctx.Err())
	}
	return fmt.Errorf("process group killed: %w", ctx.Err())
}

// loginEnv returns the variables a command gets on this machine: the few a login
// session would set, not patrol's whole environment, which may hold the
// passwords that inventories name in password_env and become_password_env.
func loginEnv() []string {
	var env []string
	for _, name := range []string{"PATH", "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR", "TZ"} {
		if v, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+v)
		}
	}
	return env
}

// buildArgv turns cmd into the program to start and its standard input. Become
// goes through sudo with the password written ahead of the command's own input.
func buildArgv(cmd transport.Command) ([]string, io.Reader) {
	argv := cmd.Argv
	if len(argv) == 0 {
		argv = []string{"/bin/sh", "-c", cmd.Script}
	}
	stdin := cmd.Stdin
	if cmd.Become == nil {
		return argv, stdin
	}

	sudo := []string{"sudo"}
	if cmd.Become.Password != "" {
		sudo = append(sudo, "-S", "-p", "")
		pw := bytes.NewBufferString(cmd.Become.Password + "\n")
		if stdin != nil {
			stdin = io.MultiReader(pw, stdin)
		} else {
			stdin = pw
		}
	} else {
		sudo = append(sudo, "-n")
	}
	if cmd.Become.User != "" {
		sudo = append(sudo, "-u", cmd.Become.User)
	}
	return append(append(sudo, "--"), argv...), stdin
}

// Put copies src to dst through a temporary file in dst's folder, verified by
// SHA-256 before the rename. When dst already has the same content only its
// mode, owner and group are fixed.
func (c *Conn) Put(ctx context.Context, src, dst string, opts transport.PutOptions) (transport.PutResult, error) {
	return copyVerified(src, dst, opts)
}

// Get copies src to dst on this machine; on the local connection it is Put.
func (c *Conn) Get(ctx context.Context, src, dst string) (transport.PutResult, error) {
	return copyVerified(src, dst, transport.PutOptions{})
}

// Close does nothing: there is no link to release.
func (c *Conn) Close() error { return nil }

// copyVerified copies src to dst through a temporary file in dst's folder. A dst
// that already has the same content only gets its mode, owner and group fixed,
// and check mode writes nothing. A zero opts.Mode keeps the mode of an existing
// dst and gives a new one 0644, as the SSH transport does.
func copyVerified(src, dst string, opts transport.PutOptions) (transport.PutResult, error) {
	want, err := fileSHA256(src)
	if err != nil {
		return transport.PutResult{}, err
	}
	current, statErr := os.Stat(dst)
	mode := opts.Mode.Perm()
	if mode == 0 {
		mode = 0o644
		if statErr == nil {
			mode = current.Mode().Perm()
		}
	}

	if statErr == nil && current.Mode().IsRegular() {
		if have, err := fileSHA256(dst); err == nil && have == want {
			changed, err := fixAttributes(dst, current, mode, opts)
			return transport.PutResult{Changed: changed, SHA256: want}, err
		}
	}
	if opts.CheckMode {
		return transport.PutResult{Changed: true, SHA256: want}, nil
	}

	in, err := os.Open(src)
	if err != nil {
		return transport.PutResult{}, fmt.Errorf("open %s: %w", src, err)
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".patrol-*")
	if err != nil {
		return transport.PutResult{}, fmt.Errorf("create temporary file for %s: %w", dst, err)
	}
	defer os.Remove(tmp.Name())
	start := time.Now()
	n, err := io.Copy(tmp, in)
	if err == nil {
		err = tmp.Sync()
	}
	sending := time.Since(start)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return transport.PutResult{}, fmt.Errorf("write %s: %w", tmp.Name(), err)
	}

	got, err := fileSHA256(tmp.Name())
	if err != nil {
		return transport.PutResult{}, err
	}
	if got != want {
		return transport.PutResult{}, fmt.Errorf("checksum of %s is %s after copy, expected %s: the source changed or the disk is failing", dst, got, want)
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return transport.PutResult{}, fmt.Errorf("chmod %s: %w", tmp.Name(), err)
	}
	uid, gid, err := lookupOwnership(opts)
	if err != nil {
		return transport.PutResult{}, err
	}
	if err := chown(tmp.Name(), uid, gid); err != nil {
		return transport.PutResult{}, err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return transport.PutResult{}, fmt.Errorf("rename into %s: %w", dst, err)
	}
	return transport.PutResult{Changed: true, SHA256: want, Bytes: n, Sending: sending}, nil
}

// fixAttributes gives an existing dst the mode, owner and group asked for and
// reports whether any of them differed. In check mode it only reports.
func fixAttributes(dst string, current os.FileInfo, mode os.FileMode, opts transport.PutOptions) (bool, error) {
	uid, gid, err := lookupOwnership(opts)
	if err != nil {
		return false, err
	}
	differs := current.Mode().Perm() != mode
	if st, ok := current.Sys().(*syscall.Stat_t); ok {
		differs = differs || uid >= 0 && int(st.Uid) != uid || gid >= 0 && int(st.Gid) != gid
	}
	if !differs || opts.CheckMode {
		return differs, nil
	}

	if err := os.Chmod(dst, mode); err != nil {
		return false, fmt.Errorf("chmod %s: %w", dst, err)
	}
	return true, chown(dst, uid, gid)
}

// lookupOwnership returns the numeric ids of opts.Owner and opts.Group, -1 for
// each that is not set.
func lookupOwnership(opts transport.PutOptions) (uid, gid int, err error) {
	uid, gid = -1, -1
	if opts.Owner != "" {
		u, err := user.Lookup(opts.Owner)
		if err != nil {
			return 0, 0, fmt.Errorf("owner %q: %w", opts.Owner, err)
		}
		uid, _ = strconv.Atoi(u.Uid)
	}
	if opts.Group != "" {
		g, err := user.LookupGroup(opts.Group)
		if err != nil {
			return 0, 0, fmt.Errorf("group %q: %w", opts.Group, err)
		}
		gid, _ = strconv.Atoi(g.Gid)
	}
	return uid, gid, nil
}

func chown(path string, uid, gid int) error {
	if uid < 0 && gid < 0 {
		return nil
	}
	if err := os.Chown(path, uid, gid); err != nil {
		return fmt.Errorf("chown %s: %w", path, err)
	}
	return nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
