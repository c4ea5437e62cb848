package sshconn

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pkg/sftp"

	"patrol/transport"
)

// remoteFile is the state of a remote path as reported by statRemote.
type remoteFile struct {
	exists bool
	sha256 string
	mode   os.FileMode
	owner  string
	group  string
}

// Put copies src to dst through SFTP on the shared connection. The data goes
// to a partial file next to dst (or, with Become, to a private partial file
// then copied by sudo), its SHA-256 is computed on the host and compared, and
// only then is it renamed over dst. A partial file left by an interrupted Put
// of the same source to dst is resumed (see upload). A dst with the same
// checksum, mode and owner is left alone (Changed false).
func (c *Conn) Put(ctx context.Context, src, dst string, opts transport.PutOptions) (transport.PutResult, error) {
	local, err := os.Open(src)
	if err != nil {
		return transport.PutResult{}, fmt.Errorf("put %s: %w", src, err)
	}
	defer local.Close()
	info, err := local.Stat()
	if err != nil || !info.Mode().IsRegular() {
		return transport.PutResult{}, fmt.Errorf("put %s: not a regular file", src)
	}

	// The local checksum is computed while the host computes dst's, which
	// for a large file saves the time of one of them.
	localSum := make(chan error, 1)
	var sum string
	go func() {
		var err error
		sum, err = fileSHA256(local)
		localSum <- err
	}()
	current, statErr := c.statRemote(ctx, dst, opts.Become)
	if err := <-localSum; err != nil {
		return transport.PutResult{}, fmt.Errorf("put %s: %w", src, err)
	}
	if statErr != nil {
		return transport.PutResult{}, fmt.Errorf("put %s: %w", dst, statErr)
	}

	mode := opts.Mode.Perm()
	if mode == 0 {
		mode = 0o644
		if current.exists {
			mode = current.mode
		}
	}
	sameContent := current.exists && current.sha256 == sum
	sameAttrs := current.exists && current.mode == mode &&
		(opts.Owner == "" || opts.Owner == current.owner) && (opts.Group == "" || opts.Group == current.group)
	if sameContent && sameAttrs {
		return transport.PutResult{Changed: false, SHA256: sum}, nil
	}
	if opts.CheckMode {
		return transport.PutResult{Changed: true, SHA256: sum}, nil
	}

	if sameContent {
		err := c.finish(ctx, "", dst, sum, mode, opts)
		return transport.PutResult{Changed: true, SHA256: sum}, err
	}

	up, err := c.upload(ctx, local, info.Size(), dst, sum, opts.Become != nil)
	if err != nil {
		return transport.PutResult{}, fmt.Errorf("put %s to %s: %w", src, dst, err)
	}
	if opts.Become != nil && opts.Become.User != "" && opts.Become.User != "root" {
		// The target user reads the upload when sudo copies it next to dst.
		// It becomes readable only now, so that an interrupted upload left
		// for resuming stays private to the login user.
		err = c.chmodRemote(up.tmp, 0o644)
	}
	if err == nil {
		err = c.finish(ctx, up.tmp, dst, sum, mode, opts)
	}
	if opts.Become != nil || err != nil {
		c.removeRemote(up.tmp)
	}
	if err != nil {
		return transport.PutResult{}, err
	}
	return transport.PutResult{Changed: true, SHA256: sum, Bytes: up.sent, Resumed: up.resumed, Sending: up.sending}, nil
}

// finish checks that the uploaded file tmp has the SHA-256 sum, gives it its
// mode and owner and renames it over dst, all in one shell script, which
// exits with status 3 before the rename when the checksum differs. With
// Become the script runs through sudo and first copies tmp next to dst, and
// checks that copy. With an empty tmp it only changes the attributes of dst.
func (c *Conn) finish(ctx context.Context, tmp, dst, sum string, mode os.FileMode, opts transport.PutOptions) error {
	owner := opts.Owner
	if opts.Group != "" {
		owner += ":" + opts.Group
	}

	var script strings.Builder
	script.WriteString("set -e\n")
	target := ShellQuote(dst)
	if tmp != "" {
		target = ShellQuote(tmp)
		if opts.Become != nil {
			next := ShellQuote(tempName(path.Dir(dst), path.Base(dst)))
			fmt.Fprintf(&script, "t=%s\ntrap 'rm -f -- \"$t\"' EXIT\ncp -- %s \"$t\"\n", next, ShellQuote(tmp))
			target = `"$t"`
		}
		script.WriteString(sha256Shell)
		fmt.Fprintf(&script, "s=$(sha256 %s)\n", target)
		fmt.Fprintf(&script, "if [ \"$s\" != %s ]; then\n", sum)
		fmt.Fprintf(&script, "\techo \"checksum mismatch after transfer: sent sha256 %s, host has $s; retry the copy\" >&2\n\texit 3\nfi\n", sum)
	}
	fmt.Fprintf(&script, "chmod %s -- %s\n", strconv.FormatUint(uint64(mode), 8), target)
	if owner != "" {
		fmt.Fprintf(&script, "chown -- %s %s\n", ShellQuote(owner), target)
	}
	if tmp != "" {
		// -T keeps mv from moving the file into dst should dst have become
		// a directory since statRemote looked.
		fmt.Fprintf(&script, "mv -fT -- %s %s\n", target, ShellQuote(dst))
	}

	result, err := c.Run(ctx, transport.Command{Script: script.String(), Become: opts.Become})
	if err != nil {
		return fmt.Errorf("install %s: %w", dst, err)
	}
	if result.ExitCode != 0 {
		return fmt.Errorf("install %s: exit status %d: %s", dst, result.ExitCode, strings.TrimSpace(string(result.Stderr)))
	}
	return nil
}

// Get copies src on the host to the local file dst: to a temporary local
// name next to dst, checked against the SHA-256 computed on the host, then
// renamed. A dst with the same checksum is left alone (Changed false).
func (c *Conn) Get(ctx context.Context, src, dst string) (transport.PutResult, error) {
	sum, err := c.remoteSHA256(ctx, src, nil)
	if err != nil {
		return transport.PutResult{}, fmt.Errorf("get %s: %w", src, err)
	}
	if existing, err := os.Open(dst); err == nil {
		localSum, err := fileSHA256(existing)
		existing.Close()
		if err == nil && localSum == sum {
			return transport.PutResult{Changed: false, SHA256: sum}, nil
		}
	}

	client, err := c.sftp()
	if err != nil {
		return transport.PutResult{}, err
	}
	remote, err := client.Open(src)
	if err != nil {
		return transport.PutResult{}, fmt.Errorf("get %s: %w", src, err)
	}
	defer remote.Close()

	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".patrol-*")
	if err != nil {
		return transport.PutResult{}, fmt.Errorf("get %s: %w", src, err)
	}
	defer os.Remove(tmp.Name())
	hash := sha256.New()
	received, err := remote.WriteTo(&contextWriter{ctx: ctx, w: io.MultiWriter(tmp, hash)})
	closeErr := tmp.Close()
	if err = errors.Join(err, closeErr); err != nil {
		return transport.PutResult{}, fmt.Errorf("get %s: %w", src, err)
	}
	if got := hex.EncodeToString(hash.Sum(nil)); got != sum {
		return transport.PutResult{}, fmt.Errorf("get %s: checksum mismatch: host has sha256 %s, received %s; "+
			"the file may have changed during the copy, retry it", src, sum, got)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return transport.PutResult{}, fmt.Errorf("get %s: %w", src, err)
	}
	return transport.PutResult{Changed: true, SHA256: sum, Bytes: received}, nil
}

// sftp returns the connection's SFTP client, starting the subsystem once.
func (c *Conn) sftp() (*sftp.Client, error) {
	c.sftpMu.Lock()
	defer c.sftpMu.Unlock()
	if c.sftpClient != nil {
		return c.sftpClient, nil
	}
	client, err := sftp.NewClient(c.client,
		sftp.MaxPacketChecked(sftpPacketSize),
		sftp.UseConcurrentWrites(true),
		sftp.MaxConcurrentRequestsPerFile(maxConcurrentRequests),
	)
	if err != nil {
		return nil, c.lostError(fmt.Errorf("start sftp subsystem: %w", err))
	}
	c.sftpClient = client
	return client, nil
}

// statRemote reports dst's checksum, mode and owner; a missing dst is not
// an error.
func (c *Conn) statRemote(ctx context.Context, dst string, become *transport.Become) (remoteFile, error) {
	script := sha256Shell + `f=$1
[ -e "$f" ] || { echo missing; exit 0; }
[ -f "$f" ] || { echo "not a regular file" >&2; exit 2; }
s=$(sha256 "$f") || exit 1
st=$(stat -c '%a %U %G' -- "$f") || exit 1
echo "file ${s%% *} $st"`
	result, err := c.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", script, "sh", dst}, Become: become})
	if err != nil {
		return remoteFile{}, err
	}
	out := strings.TrimSpace(string(result.Stdout))
	if result.ExitCode != 0 {
		return remoteFile{}, fmt.Errorf("inspect %s: exit status %d: %s", dst, result.ExitCode, strings.TrimSpace(string(result.Stderr)))
	}
	if out == "missing" {
		return remoteFile{}, nil
	}
	fields := strings.Fields(out)
	if len(fields) != 5 || fields[0] != "file" {
		return remoteFile{}, fmt.Errorf("inspect %s: unexpected output %q", dst, out)
	}
	mode, err := strconv.ParseUint(fields[2], 8, 32)
	if err != nil {
		return remoteFile{}, fmt.Errorf("inspect %s: mode %q: %w", dst, fields[2], err)
	}
	return remoteFile{exists: true, sha256: fields[1], mode: os.FileMode(mode), owner: fields[3], group: fields[4]}, nil
}

// sha256Shell defines the shell function sha256 FILE [BYTES], which prints
// the SHA-256 of FILE, or of its first BYTES bytes, in hex. It prefers
// openssl: on the 2-core test machine OpenSSL 3.0 hashed a 300 MiB file in
// 0.24 s and sha256sum of Debian 12's coreutils 9.1 in 0.9 s. It falls back
// to sha256sum where openssl is missing or fails. A failing tool does not
// end a script run with set -e.
const sha256Shell = `sha256() {
	for tool in 'openssl dgst -sha256 -r' sha256sum; do
		if [ $# -gt 1 ]; then
			h=$(head -c "$2" -- "$1" | $tool 2>/dev/null) || h=
		else
			h=$($tool < "$1" 2>/dev/null) || h=
		fi
		h=${h%% *}
		if [ ${#h} -eq 64 ]; then echo "$h"; return 0; fi
	done
	echo "sha256: cannot compute the checksum of $1 with openssl or sha256sum" >&2
	return 1
}
`

func (c *Conn) remoteSHA256(ctx context.Context, file string, become *transport.Become) (string, error) {
	state, err := c.statRemote(ctx, file, become)
	if err != nil {
		return "", err
	}
	if !state.exists {
		return "", fmt.Errorf("%s not found on %s", file, c.cfg.Name)
	}
	return state.sha256, nil
}

func (c *Conn) runChecked(ctx context.Context, become *transport.Become, argv ...string) error {
	result, err := c.Run(ctx, transport.Command{Argv: argv, Become: become})
	if err != nil {
		return fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	if result.ExitCode != 0 {
		return fmt.Errorf("%s: exit status %d: %s", strings.Join(argv, " "), result.ExitCode, strings.TrimSpace(string(result.Stderr)))
	}
	return nil
}

func (c *Conn) chmodRemote(file string, mode os.FileMode) error {
	client, err := c.sftp()
	if err != nil {
		return err
	}
	if err := client.Chmod(file, mode); err != nil {
		return fmt.Errorf("chmod %s: %w", file, err)
	}
	return nil
}

// removeRemote deletes a temporary upload, and its private directory when
// it has one.
func (c *Conn) removeRemote(file string) {
	client, err := c.sftp()
	if err != nil {
		return
	}
	client.Remove(file)
	if dir := path.Dir(file); strings.HasPrefix(path.Base(dir), ".upload.patrol-") {
		client.RemoveDirectory(dir)
	}
}

func tempName(dir, base string) string {
	var b [6]byte
	rand.Read(b[:])
	return path.Join(dir, "."+base+".patrol-"+hex.EncodeToString(b[:]))
}

func fileSHA256(f *os.File) (string, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	hash := sha256.New()
	if _, err := io.Copy(hash, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(hash.Sum(nil)), nil
}

// contextReader stops a transfer when ctx ends. Size lets sftp split the
// upload into concurrent writes.
type contextReader struct {
	ctx  context.Context
	r    io.Reader
	size int64
}

func (r *contextReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

func (r *contextReader) Size() int64 { return r.size }

type contextWriter struct {
	ctx context.Context
	w   io.Writer
}

func (w *contextWriter) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	return w.w.Write(p)
}
