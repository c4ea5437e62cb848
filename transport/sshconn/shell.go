package sshconn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"golang.org/x/crypto/ssh"

	"patrol/transport"
)

// probeShell is a /bin/sh that a connection keeps open for probe commands
// (transport.Command.Probe). Each probe is written to the shell's stdin as
//
//	( <command line as for a session> ) </dev/null; printf '\n%s %d\n' M "$?"; printf '\n%s\n' M >&2
//
// where M is a random marker, and its output and exit status are read back up
// to the marker lines. A new session costs sshd a fork and a login shell, and
// on an inspection of many short probes that is most of the host's work. A
// subshell costs a fork only.
type probeShell struct {
	session *ssh.Session
	stdin   io.WriteCloser
	stdout  io.Reader
	stderr  io.Reader
}

// errShellUnavailable means the probe must run in a session of its own.
var errShellUnavailable = errors.New("probe shell unavailable")

// runInShell runs cmd in the connection's probe shell, opening it on first use.
// It returns errShellUnavailable, before anything was sent, when the shell is
// busy with another probe or cannot be opened; the caller then uses a session.
func (c *Conn) runInShell(ctx context.Context, cmd transport.Command, sudo []string, start time.Time) (transport.Result, error) {
	if !c.shellMu.TryLock() {
		return transport.Result{}, errShellUnavailable
	}
	defer c.shellMu.Unlock()

	sh, err := c.openShell()
	if err != nil {
		return transport.Result{}, errShellUnavailable
	}
	marker := newMarker()
	line, err := buildCommandIn(cmd, sudo, marker, true)
	if err != nil {
		return transport.Result{}, err
	}
	script := fmt.Sprintf("( %s ) </dev/null; printf '\\n%%s %%d\\n' %s \"$?\"; printf '\\n%%s\\n' %s >&2\n", line, marker, marker)
	if _, err := io.WriteString(sh.stdin, script); err != nil {
		// The shell is gone and the probe never reached it: a session may run it.
		c.dropShell()
		return transport.Result{}, errShellUnavailable
	}

	stderr := newPIDFilter(marker)
	type readOut struct {
		data     []byte
		exitCode int
		err      error
	}
	outDone := make(chan readOut, 1)
	errDone := make(chan error, 1)
	finished := make(chan error, 1)
	go func() {
		data, code, err := readStdout(sh.stdout, marker)
		outDone <- readOut{data, code, err}
		finished <- err
	}()
	go func() { errDone <- readStderr(sh.stderr, marker, stderr) }()

	var out readOut
	select {
	case out = <-outDone:
	case <-ctx.Done():
		// The kill ends the shell with the probe: they share a process group,
		// because a non-interactive sh has no job control.
		killErr := c.killRemote(cmd.Become, sudo, stderr, finished)
		c.dropShell()
		select {
		case out = <-outDone:
		case <-time.After(5 * time.Second):
		}
		result := transport.Result{Stdout: out.data, Stderr: stderr.Bytes(), ExitCode: -1, Duration: time.Since(start)}
		return result, stopError(ctx, killErr, true)
	}

	var errErr error
	select {
	case errErr = <-errDone:
	case <-time.After(5 * time.Second):
		errErr = errors.New("stderr end marker missing")
	}
	result := transport.Result{Stdout: out.data, Stderr: stderr.Bytes(), ExitCode: out.exitCode, Duration: time.Since(start)}
	if out.err != nil || errErr != nil {
		c.dropShell()
		return result, c.lostError(fmt.Errorf("probe shell ended before the command did: %w", errors.Join(out.err, errErr)))
	}
	return result, nil
}

// openShell returns the probe shell, starting it when there is none. The shell
// holds one session slot for as long as it lives.
func (c *Conn) openShell() (*probeShell, error) {
	if c.shell != nil {
		return c.shell, nil
	}
	select {
	case c.sessions <- struct{}{}:
	default:
		return nil, errShellUnavailable
	}

	sh, err := c.startShell()
	if err != nil {
		<-c.sessions
		return nil, err
	}
	c.shell = sh
	return sh, nil
}

func (c *Conn) startShell() (*probeShell, error) {
	session, err := c.client.NewSession()
	if err != nil {
		return nil, err
	}
	sh := &probeShell{session: session}
	if sh.stdin, err = session.StdinPipe(); err == nil {
		if sh.stdout, err = session.StdoutPipe(); err == nil {
			sh.stderr, err = session.StderrPipe()
		}
	}
	if err == nil {
		err = session.Start("exec /bin/sh")
	}
	if err != nil {
		session.Close()
		return nil, err
	}
	return sh, nil
}

// dropShell closes the probe shell; the next probe starts a new one. The caller
// holds shellMu.
func (c *Conn) dropShell() {
	if c.shell == nil {
		return
	}
	c.shell.stdin.Close()
	c.shell.session.Close()
	c.shell = nil
	<-c.sessions
}

// closeShell ends an idle probe shell by closing its stdin and waits briefly
// for it to exit, so that the host's sshd reaps it before the link goes. A
// probe still running keeps shellMu, and then the closing link ends it.
func (c *Conn) closeShell() {
	if !c.shellMu.TryLock() {
		return
	}
	defer c.shellMu.Unlock()
	if c.shell == nil {
		return
	}

	sh := c.shell
	sh.stdin.Close()
	exited := make(chan struct{})
	go func() {
		sh.session.Wait()
		close(exited)
	}()
	select {
	case <-exited:
	case <-time.After(time.Second):
	}
	c.dropShell()
}

// readStdout reads a probe's stdout up to the line "M <exit status>", which
// follows a newline the shell writes after the probe's own output.
func readStdout(r io.Reader, marker string) ([]byte, int, error) {
	term := []byte("\n" + marker + " ")
	var buf []byte
	chunk := make([]byte, 32<<10)
	for {
		if i := bytes.Index(buf, term); i >= 0 {
			rest := buf[i+len(term):]
			if nl := bytes.IndexByte(rest, '\n'); nl >= 0 {
				code, err := strconv.Atoi(string(rest[:nl]))
				if err != nil {
					return buf[:i], -1, fmt.Errorf("invalid exit status %q after the end marker", rest[:nl])
				}
				if len(rest) > nl+1 {
					// Output after the marker can only come from a process the
					// probe left behind; the shell must not be reused.
					return buf[:i], code, errors.New("output after the end marker")
				}
				return buf[:i], code, nil
			}
		}
		n, err := r.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return buf, -1, err
		}
	}
}

// readStderr copies a probe's stderr into w up to the line "M". The first line,
// the process group report, is passed on as soon as it is complete, so that a
// kill can find the group while the probe still runs. After it, only bytes that
// cannot be the start of the end marker are passed on.
func readStderr(r io.Reader, marker string, w io.Writer) error {
	term := []byte("\n" + marker + "\n")
	var held []byte
	reported := false
	chunk := make([]byte, 32<<10)
	for {
		n, err := r.Read(chunk)
		held = append(held, chunk[:n]...)
		if !reported {
			if nl := bytes.IndexByte(held, '\n'); nl >= 0 {
				w.Write(held[:nl+1])
				held = held[nl+1:]
				reported = true
			}
		}
		if reported {
			if i := bytes.Index(held, term); i >= 0 {
				w.Write(held[:i])
				if len(held) > i+len(term) {
					return errors.New("output after the end marker")
				}
				return nil
			}
			if keep := len(term) - 1; len(held) > keep {
				w.Write(held[:len(held)-keep])
				held = held[len(held)-keep:]
			}
		}
		if err != nil {
			w.Write(held)
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
}
