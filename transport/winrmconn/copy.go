package winrmconn

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/masterzen/winrm"

	"patrol/transport"
	"patrol/transport/winrmconn/copyscript"
)

// sendOverhead is the room kept in each Send request for everything but the
// stdin data: the SOAP envelope, headers and the Stream element. A Send
// request to a host named seal-db-1.example.internal is 1332 bytes without
// data; the rest covers longer host names and URLs.
const sendOverhead = 4096

// MaxCopyChunkSize returns the largest number of file bytes Put can send in
// one Send request to a host whose MaxEnvelopeSize is envelope bytes.
//
// The file travels base64-encoded twice: the upload script reads base64
// lines of copyscript.UploadLineBytes bytes (4/3 larger, plus a newline), and the Send
// request carries those stdin bytes base64-encoded again. The command line
// does not count, because it is sent once in the Command request. With the
// 500 KB default of Windows Server 2012 R2 (512000 bytes): (512000 - 4096) *
// 3/4 = 380928 stdin bytes, which hold 92 lines of 4097 bytes, which carry
// 92 * 3072 = 282624 file bytes.
func MaxCopyChunkSize(envelope int) int {
	stdinBytes := (envelope - sendOverhead) / 4 * 3
	lineBytes := base64.StdEncoding.EncodedLen(copyscript.UploadLineBytes) + 1
	return stdinBytes / lineBytes * copyscript.UploadLineBytes
}

// Put copies the local file src to dst on the host. The file is streamed to
// one upload script through stdin, so the host starts PowerShell once per
// copy, not once per chunk. The script writes to a partial file next to dst,
// checks its SHA-256 on the host and moves it over dst. A copy cut short
// leaves the partial file, and the next Put of the same content continues
// from its length.
//
// Owner, Group and Become are rejected, and Mode is ignored, because Windows
// files have ACLs instead.
func (c *Conn) Put(ctx context.Context, src, dst string, opts transport.PutOptions) (transport.PutResult, error) {
	if opts.Become != nil || opts.Owner != "" || opts.Group != "" {
		return transport.PutResult{}, fmt.Errorf("host %s: copy %s to %s: owner, group and become are %w: set the ACL with a command after the copy", c.cfg.Host, src, dst, ErrNotSupported)
	}

	sum, size, err := fileSHA256(src)
	if err != nil {
		return transport.PutResult{}, fmt.Errorf("host %s: copy %s: %w", c.cfg.Host, src, err)
	}

	remote, err := c.stat(ctx, dst)
	if err != nil {
		return transport.PutResult{}, err
	}
	if remote.exists && strings.EqualFold(remote.sha256, sum) {
		return transport.PutResult{Changed: false, SHA256: sum}, nil
	}
	if opts.CheckMode {
		return transport.PutResult{Changed: true, SHA256: sum}, nil
	}

	sent, sending, err := c.uploadFile(ctx, src, dst, size, sum)
	if err != nil {
		return transport.PutResult{}, fmt.Errorf("host %s: copy %s to %s: %w", c.cfg.Host, src, dst, err)
	}
	return transport.PutResult{Changed: true, SHA256: sum, Bytes: sent, Sending: sending}, nil
}

// Get copies the file src on the host to the local file dst. It reads the
// file with one script that writes it as base64 lines, into a partial file
// next to dst that a later Get of the same content continues. The partial
// file is checked against the SHA-256 the host reported before the rename.
func (c *Conn) Get(ctx context.Context, src, dst string) (transport.PutResult, error) {
	remote, err := c.stat(ctx, src)
	if err != nil {
		return transport.PutResult{}, err
	}
	if !remote.exists {
		return transport.PutResult{}, fmt.Errorf("host %s: fetch %s: file not found on the host: check the path", c.cfg.Host, src)
	}

	if local, _, err := fileSHA256(dst); err == nil && strings.EqualFold(local, remote.sha256) {
		return transport.PutResult{Changed: false, SHA256: local}, nil
	}

	received, err := c.download(ctx, src, dst, remote)
	if err != nil {
		return transport.PutResult{}, fmt.Errorf("host %s: fetch %s to %s: %w", c.cfg.Host, src, dst, err)
	}
	return transport.PutResult{Changed: true, SHA256: strings.ToLower(remote.sha256), Bytes: received}, nil
}

// remoteFile is the output of the stat script.
type remoteFile struct {
	exists bool
	sha256 string
	size   int64
}

func (c *Conn) stat(ctx context.Context, path string) (remoteFile, error) {
	line, err := c.commandLine(ctx, StatScript(path))
	if err != nil {
		return remoteFile{}, err
	}
	stdout, stderr, code, err := c.execute(ctx, line, nil)
	if err != nil {
		return remoteFile{}, err
	}
	if code != 0 {
		return remoteFile{}, fmt.Errorf("host %s: checksum of %s failed with exit code %d: %s", c.cfg.Host, path, code, scriptError(stderr))
	}

	out := strings.TrimSpace(DecodeOutput(stdout, true))
	if out == copyscript.ReplyMissing {
		return remoteFile{}, nil
	}
	hash, length, ok := strings.Cut(out, " ")
	size, err := strconv.ParseInt(length, 10, 64)
	if !ok || err != nil || len(hash) != sha256.Size*2 {
		return remoteFile{}, fmt.Errorf("host %s: checksum of %s: unexpected output %q", c.cfg.Host, path, truncateText(out, 200))
	}
	return remoteFile{exists: true, sha256: hash, size: size}, nil
}

// uploadFile runs the upload script and streams src to it from the offset the
// script reports. It returns the number of file bytes sent and how long
// sending them and the host's checksum of the whole file took.
func (c *Conn) uploadFile(ctx context.Context, src, dst string, size int64, sum string) (int64, time.Duration, error) {
	f, err := os.Open(src)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()

	line, err := c.commandLine(ctx, UploadScript(uploadPartName(dst, sum), dst, size, sum))
	if err != nil {
		return 0, 0, err
	}
	command, release, err := c.start(ctx, line)
	if err != nil {
		return 0, 0, err
	}
	defer release()
	out, first, err := readFirstLine(command)
	if err != nil {
		return 0, 0, c.scriptFailed(ctx, command, out, err)
	}
	offset, err := strconv.ParseInt(strings.TrimPrefix(first, copyscript.ReplyOffset), 10, 64)
	if !strings.HasPrefix(first, copyscript.ReplyOffset) || err != nil || offset < 0 || offset > size {
		command.Close()
		return 0, 0, fmt.Errorf("upload script wrote %q instead of the offset", truncateText(first, 200))
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		command.Close()
		return 0, 0, err
	}

	start := time.Now()
	if err := c.sendFile(ctx, command, f); err != nil {
		return 0, 0, c.scriptFailed(ctx, command, out, err)
	}

	stdout, stderr, code, err := out.wait(ctx, command)
	sending := time.Since(start)
	if err != nil {
		return 0, 0, c.runError(ctx, err)
	}
	last := lastLine(stdout)
	switch {
	case code == copyscript.ExitMismatch && strings.HasPrefix(last, copyscript.ReplyMismatch):
		return 0, 0, fmt.Errorf("checksum on the host is %s, want %s: the partial file was deleted, copy again", strings.TrimPrefix(last, copyscript.ReplyMismatch), sum)
	case code != 0:
		return 0, 0, fmt.Errorf("upload script failed with exit code %d: %s", code, scriptError(stderr))
	case !strings.EqualFold(last, copyscript.ReplyDone+sum):
		return 0, 0, fmt.Errorf("upload script ended without confirming checksum %s: output %q", sum, truncateText(last, 200))
	}
	return size - offset, sending, nil
}

// sendFile writes the rest of f to the command's stdin as base64 lines, one
// Send request per chunk, and then closes stdin. Meanwhile the library keeps
// a Receive request waiting on the host, and the host holds it until the
// script writes output or OperationTimeout passes. Every transport therefore
// sends the Send requests over another connection than that Receive, and
// SealedNTLM keeps several NTLM-authenticated connections for this.
func (c *Conn) sendFile(ctx context.Context, command *winrm.Command, f *os.File) error {
	chunkSize := c.cfg.CopyChunkSize
	if chunkSize == 0 {
		chunkSize = MaxCopyChunkSize(DefaultEnvelopeSize)
	}
	chunkSize = max(copyscript.UploadLineBytes, chunkSize/copyscript.UploadLineBytes*copyscript.UploadLineBytes)

	raw := make([]byte, chunkSize)
	lines := make([]byte, 0, chunkSize/copyscript.UploadLineBytes*(base64.StdEncoding.EncodedLen(copyscript.UploadLineBytes)+1))
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := io.ReadFull(f, raw)
		if n > 0 {
			lines = appendBase64Lines(lines[:0], raw[:n])
			// One Write is one Send request, because lines is smaller than
			// the library's limit of its envelope size minus 1000 bytes.
			if _, werr := command.Stdin.Write(lines); werr != nil {
				return fmt.Errorf("send file data: %w", c.inputError(werr))
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return err
		}
	}
	if err := command.Stdin.Close(); err != nil {
		return fmt.Errorf("close stdin: %w", c.inputError(err))
	}
	return nil
}

func appendBase64Lines(dst, raw []byte) []byte {
	for len(raw) > 0 {
		n := min(copyscript.UploadLineBytes, len(raw))
		dst = base64.StdEncoding.AppendEncode(dst, raw[:n])
		dst = append(dst, '\n')
		raw = raw[n:]
	}
	return dst
}

// download runs the read script from the length of the local partial file
// and appends the decoded lines to it, then checks and renames it. It
// returns the number of file bytes received.
func (c *Conn) download(ctx context.Context, src, dst string, remote remoteFile) (int64, error) {
	part := uploadPartName(dst, remote.sha256)
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return 0, err
	}
	defer f.Close()

	offset, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, err
	}
	if offset > remote.size {
		if err := f.Truncate(0); err != nil {
			return 0, err
		}
		offset, _ = f.Seek(0, io.SeekStart)
	}

	line, err := c.commandLine(ctx, ReadScript(src, offset))
	if err != nil {
		return 0, err
	}
	command, release, err := c.start(ctx, line)
	if err != nil {
		return 0, err
	}
	defer release()
	received, stderr, err := receiveFile(command, f)
	if err != nil {
		_ = command.Close()
		return 0, c.runError(ctx, err)
	}
	command.Wait()
	if ctx.Err() != nil {
		return 0, c.runError(ctx, ctx.Err())
	}
	if code := command.ExitCode(); code != 0 {
		return 0, fmt.Errorf("read script failed with exit code %d: %s", code, scriptError(stderr))
	}

	if err := f.Sync(); err != nil {
		return 0, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return 0, err
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, remote.sha256) {
		_ = os.Remove(part)
		return 0, fmt.Errorf("checksum of the received file is %s, want %s: the partial file was deleted, fetch again", got, strings.ToLower(remote.sha256))
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	if err := os.Rename(part, dst); err != nil {
		return 0, err
	}
	return received, nil
}

// receiveFile decodes the base64 lines of the read script's stdout into f
// and returns the number of bytes written and the script's stderr.
func receiveFile(command *winrm.Command, f *os.File) (int64, []byte, error) {
	var stderr bytes.Buffer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = io.Copy(&stderr, command.Stderr)
	}()

	received, err := decodeLines(command.Stdout, f)
	if err != nil {
		// Drain stdout so that the library's receive loop can end.
		go func() { _, _ = io.Copy(io.Discard, command.Stdout) }()
		return received, nil, err
	}
	wg.Wait()
	return received, stderr.Bytes(), nil
}

func decodeLines(r io.Reader, f io.Writer) (int64, error) {
	lineReader := bufio.NewReaderSize(r, 2*base64.StdEncoding.EncodedLen(copyscript.ReadLineBytes))
	w := bufio.NewWriterSize(f, 1<<20)
	decoded := make([]byte, copyscript.ReadLineBytes)
	var received int64
	for {
		line, err := lineReader.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return received, fmt.Errorf("read script wrote a line longer than %d bytes", lineReader.Size())
		}
		if errors.Is(err, io.EOF) && len(line) > 0 {
			return received, fmt.Errorf("read script output ended inside a line")
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return received, err
		}

		line = bytes.TrimRight(line, "\r\n")
		if base64.StdEncoding.DecodedLen(len(line)) > len(decoded) {
			return received, fmt.Errorf("read script wrote a line of %d characters, more than %d bytes decoded", len(line), len(decoded))
		}
		n, derr := base64.StdEncoding.Decode(decoded, line)
		if derr != nil {
			return received, fmt.Errorf("read script output is not base64: %w", derr)
		}
		if _, werr := w.Write(decoded[:n]); werr != nil {
			return received, werr
		}
		received += int64(n)

		if errors.Is(err, io.EOF) {
			return received, w.Flush()
		}
	}
}

// scriptOutput collects the output of a copy script that the caller also
// feeds. Both streams are drained in the background, so that the library's
// receive loop never blocks on an unread pipe.
type scriptOutput struct {
	wg     sync.WaitGroup
	rest   bytes.Buffer
	stderr bytes.Buffer
}

// readFirstLine waits for the first stdout line of command, then drains the
// rest of its output in the background.
func readFirstLine(command *winrm.Command) (*scriptOutput, string, error) {
	out := &scriptOutput{}
	out.wg.Add(2)
	go func() {
		defer out.wg.Done()
		_, _ = io.Copy(&out.stderr, command.Stderr)
	}()

	stdout := bufio.NewReader(command.Stdout)
	first, err := stdout.ReadString('\n')
	go func() {
		defer out.wg.Done()
		_, _ = io.Copy(&out.rest, stdout)
	}()
	if err != nil {
		return out, "", fmt.Errorf("read first line of output: %w", err)
	}
	return out, strings.TrimRight(first, "\r\n"), nil
}

// wait waits for the command to end and returns the stdout after the first
// line, stderr and the exit code.
func (out *scriptOutput) wait(ctx context.Context, command *winrm.Command) ([]byte, []byte, int, error) {
	done := make(chan struct{})
	go func() {
		command.Wait()
		out.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return nil, nil, 0, ctx.Err()
	}
	return out.rest.Bytes(), out.stderr.Bytes(), command.ExitCode(), nil
}

// scriptFailed stops a copy script that could not be fed and returns an
// error with its stderr, or the context's error when ctx ended.
func (c *Conn) scriptFailed(ctx context.Context, command *winrm.Command, out *scriptOutput, err error) error {
	if ctx.Err() != nil {
		return c.runError(ctx, ctx.Err())
	}
	_ = command.Close()
	_, stderr, code, waitErr := out.wait(ctx, command)
	if waitErr == nil && len(bytes.TrimSpace(stderr)) > 0 {
		return fmt.Errorf("%w: script exit code %d: %s", err, code, scriptError(stderr))
	}
	return c.runError(ctx, err)
}

// scriptError turns the stderr of a script, usually CLIXML, into text.
func scriptError(stderr []byte) string {
	text := DecodeOutput(stderr, true)
	if plain, ok := ParseCLIXML(text); ok {
		text = plain
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return "no error output"
	}
	return truncateText(text, 2000)
}

func lastLine(stdout []byte) string {
	text := strings.TrimRight(string(stdout), "\r\n")
	if i := strings.LastIndexAny(text, "\r\n"); i >= 0 {
		text = text[i+1:]
	}
	return text
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// fileSHA256 returns the hex SHA-256 and the length of a local file.
func fileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()

	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
