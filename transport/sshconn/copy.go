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

// maxConcurrentRequests is the number of SFTP write (or read) requests kept
// in flight per file, so a copy over a link with a long round trip is not
// limited to one 32 KiB packet per round trip.
const maxConcurrentRequests = 64

// remoteFile is the state of a remote path as reported by statRemote.
type remoteFile struct {
	exists bool
	sha256 string
	mode   os.FileMode
	owner  string
	group  string
}

// Put copies src to dst through SFTP on the shared connection. The data goes
// to a temporary name next to dst (or, with Become, to a private temporary
// file then copied by sudo), its SHA-256 is computed on the host and
// compared, and only then is it renamed over dst. A dst with the same
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
	sum, err := fileSHA256(local)
	if err != nil {
		return transport.PutResult{}, fmt.Errorf("put %s: %w", src, err)
	}

	current, err := c.statRemote(ctx, dst, opts.Become)
	if err != nil {
		return transport.PutResult{}, fmt.Errorf("put %s: %w", dst, err)
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
		err := c.finish(ctx, "", dst, mode, opts)
		return transport.PutResult{Changed: true, SHA256: sum}, err
	}

	tmp, sent, err := c.upload(ctx, local, info.Size(), dst, sum, opts.Become != nil)
	if err != nil {
		return transport.PutResult{}, fmt.Errorf("put %s to %s: %w", src, dst, err)
	}
	err = c.finish(ctx, tmp, dst, mode, opts)
	if opts.Become != nil || err != nil {
		c.removeRemote(tmp)
	}
	if err != nil {
		return transport.PutResult{}, err
	}
	return transport.PutResult{Changed: true, SHA256: sum, Bytes: sent}, nil
}

// upload writes local to a temporary remote file and verifies its checksum.
// It returns the temporary name.
func (c *Conn) upload(ctx context.Context, local *os.File, size int64, dst, sum string, private bool) (string, int64, error) {
	client, err := c.sftp()
	if err != nil {
		return "", 0, err
	}
	tmp := tempName(path.Dir(dst), path.Base(dst))
	if private {
		// With become the login user may not write next to dst, so sudo
		// copies the file there later. The upload sits in a directory others
		// may pass through but not list, under a random name, so that a
		// non-root target user can read it while other users cannot find it.
		dir := tempName("/tmp", "upload")
		if err := client.Mkdir(dir); err != nil {
			return "", 0, fmt.Errorf("create %s: %w", dir, err)
		}
		if err := client.Chmod(dir, 0o711); err != nil {
			client.RemoveDirectory(dir)
			return "", 0, fmt.Errorf("chmod %s: %w", dir, err)
		}
		tmp = tempName(dir, path.Base(dst))
	}

	remote, err := client.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return "", 0, fmt.Errorf("create %s: %w", tmp, err)
	}
	mode := os.FileMode(0o600)
	if private {
		mode = 0o644
	}
	if err := remote.Chmod(mode); err != nil {
		remote.Close()
		c.removeRemote(tmp)
		return "", 0, fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if _, err := local.Seek(0, io.SeekStart); err != nil {
		remote.Close()
		c.removeRemote(tmp)
		return "", 0, err
	}
	sent, err := remote.ReadFrom(&contextReader{ctx: ctx, r: local, size: size})
	closeErr := remote.Close()
	if err = errors.Join(err, closeErr); err != nil {
		c.removeRemote(tmp)
		return "", 0, fmt.Errorf("write %s: %w", tmp, err)
	}

	arrived, err := c.remoteSHA256(ctx, tmp, nil)
	if err != nil {
		c.removeRemote(tmp)
		return "", 0, err
	}
	if arrived != sum {
		c.removeRemote(tmp)
		return "", 0, fmt.Errorf("checksum mismatch after transfer: sent sha256 %s, host has %s; retry the copy", sum, arrived)
	}
	return tmp, sent, nil
}

// finish gives the file its mode and owner and renames it over dst. With an
// empty tmp it only changes the attributes of dst.
func (c *Conn) finish(ctx context.Context, tmp, dst string, mode os.FileMode, opts transport.PutOptions) error {
	owner := opts.Owner
	if opts.Group != "" {
		owner += ":" + opts.Group
	}

	if opts.Become == nil && tmp != "" {
		client, err := c.sftp()
		if err != nil {
			return err
		}
		if err := client.Chmod(tmp, mode); err != nil {
			return fmt.Errorf("chmod %s: %w", tmp, err)
		}
		if owner != "" {
			if err := c.runChecked(ctx, nil, "chown", "--", owner, tmp); err != nil {
				return err
			}
		}
		if err := client.PosixRename(tmp, dst); err != nil {
			return fmt.Errorf("rename %s to %s: %w", tmp, dst, err)
		}
		return nil
	}

	// One shell script run through sudo when Become is set: copy next to
	// dst, set attributes, rename. The caller removes the private upload.
	var script strings.Builder
	script.WriteString("set -e\n")
	target := ShellQuote(dst)
	if tmp != "" {
		next := ShellQuote(tempName(path.Dir(dst), path.Base(dst)))
		fmt.Fprintf(&script, "t=%s\ntrap 'rm -f -- \"$t\"' EXIT\ncp -- %s \"$t\"\n", next, ShellQuote(tmp))
		target = `"$t"`
	}
	fmt.Fprintf(&script, "chmod %s %s\n", strconv.FormatUint(uint64(mode), 8), target)
	if owner != "" {
		fmt.Fprintf(&script, "chown -- %s %s\n", ShellQuote(owner), target)
	}
	if tmp != "" {
		fmt.Fprintf(&script, "mv -f -- \"$t\" %s\n", ShellQuote(dst))
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
	script := `f=$1
[ -e "$f" ] || { echo missing; exit 0; }
[ -f "$f" ] || { echo "not a regular file" >&2; exit 2; }
s=$(sha256sum < "$f") || exit 1
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
