// Package transport runs commands and moves files on one host, whatever the way in
// (SSH, WinRM or this machine). Implementations live in subpackages; this package
// holds the shared interface, options and error kinds. It must not import the
// playbooks or runner packages.
package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Connection is an open way into one host. It is safe for concurrent use: each Run
// opens its own session on the shared connection.
type Connection interface {
	// Run executes cmd and waits for it. A non-zero exit status is not an error;
	// it is reported in Result.ExitCode. An error means the command could not be
	// run to its end: the link failed, the context ended, or the timeout passed
	// (then the remote process is killed and the error wraps ErrTimeout).
	Run(ctx context.Context, cmd Command) (Result, error)

	// Put copies the local file src to dst on the host. It writes to a temporary
	// name, verifies the SHA-256 of what arrived, then renames it into place, and
	// skips the transfer when dst already has the same checksum.
	Put(ctx context.Context, src, dst string, opts PutOptions) (PutResult, error)

	// Get copies the file src on the host to the local file dst, with the same
	// temporary-name, checksum and skip rules as Put.
	Get(ctx context.Context, src, dst string) (PutResult, error)

	// Close releases the connection. Commands still running are ended.
	Close() error
}

// Command is one command to run on a host.
type Command struct {
	// Argv, when set, runs a program with these arguments and no shell
	// interpretation: each element reaches the program as one argument.
	Argv []string

	// Script, used when Argv is empty, is shell text run by /bin/sh on Linux
	// hosts (PowerShell on Windows hosts).
	Script string

	// Stdin feeds the command's standard input. Secrets travel here, never in
	// Argv or Script.
	Stdin io.Reader

	// Env sets variables for the command. Linux transports always add LC_ALL=C
	// so that parsers see stable output whatever the host's locale.
	Env map[string]string

	// Become, when set, runs the command through sudo.
	Become *Become

	// Timeout bounds the command; zero means only ctx bounds it.
	Timeout time.Duration

	// Probe marks a short, read-only command that reads no stdin and leaves no
	// process behind, such as a check's probe. A transport may run it in a
	// shell it keeps open across commands instead of a new session, which saves
	// the host a login per command.
	Probe bool
}

// Become holds the privilege escalation settings of a command.
type Become struct {
	// User is the target user; empty means root.
	User string
	// Password is the sudo password, sent over stdin; empty means sudo must not ask.
	Password string
}

// Result is what a finished command produced.
type Result struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int
	Duration time.Duration
}

// PutOptions are the attributes a copied file gets.
type PutOptions struct {
	// Mode is the file mode; zero keeps 0644 for new files.
	Mode os.FileMode
	// Owner and Group, when set, are applied with chown after the rename.
	Owner string
	Group string
	// CheckMode reports whether the file would change without writing it.
	CheckMode bool
	// Become runs the final rename and chown through sudo.
	Become *Become
}

// PutResult describes a finished (or skipped) transfer.
type PutResult struct {
	// Changed is false when the destination already had the same content.
	Changed bool
	// SHA256 is the hex checksum of the file as verified at the destination.
	SHA256 string
	// Bytes is the number of bytes sent; zero when skipped.
	Bytes int64
	// Resumed is the number of bytes an interrupted earlier transfer had left
	// on the host that were verified and kept instead of sent again.
	Resumed int64
	// Sending is how long sending Bytes took, from the first byte written to
	// the host's acknowledgement of the last. Over SSH and locally it leaves
	// out the checksums and the rename, so Bytes/Sending is the link's rate.
	// Over WinRM it includes the host's checksum of the whole file.
	Sending time.Duration
}

// ErrTimeout marks a command that ran longer than its timeout and was killed.
var ErrTimeout = errors.New("command timed out")

// UnreachableError means the host could not be reached or logged in to. The runner
// counts these hosts as unreachable (exit code 3) rather than failed.
type UnreachableError struct {
	Host string
	// Reason is a short class: "network", "timeout", "auth", "hostkey", "negotiation".
	Reason string
	Err    error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("host %s unreachable (%s): %v", e.Host, e.Reason, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// IsUnreachable reports whether err means the host could not be reached.
func IsUnreachable(err error) bool {
	var u *UnreachableError
	return errors.As(err, &u)
}
