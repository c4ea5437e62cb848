package winrmlab

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"patrol/transport/winrmconn/copyscript"
)

// fileChunkSize is the bytes per stream per Receive response of an emulated
// copy script; the client's MaxEnvelopeSize lowers it further.
const fileChunkSize = 256 * 1024

// fileSystem carries out patrol's copy scripts (copyscript.Parse)
// on a local directory, so that copy tests see real files arrive. A Windows
// path such as C:\patches\kb.msu maps to <root>/C/patches/kb.msu.
type fileSystem struct {
	root string
}

// hostPath maps an absolute Windows path into the root directory. Relative,
// UNC and device paths and ".." segments are rejected.
func (fs *fileSystem) hostPath(windows string) (string, error) {
	if len(windows) < 3 || windows[1] != ':' || (windows[2] != '\\' && windows[2] != '/') {
		return "", fmt.Errorf("path %q is not an absolute path with a drive letter", windows)
	}
	drive := strings.ToUpper(windows[:1])
	if drive < "A" || drive > "Z" {
		return "", fmt.Errorf("path %q has an invalid drive letter", windows)
	}

	parts := []string{fs.root, drive}
	for _, segment := range strings.FieldsFunc(windows[3:], func(r rune) bool { return r == '\\' || r == '/' }) {
		if segment == "." || segment == ".." {
			return "", fmt.Errorf("path %q contains %q, which the lab does not resolve", windows, segment)
		}
		parts = append(parts, segment)
	}
	return filepath.Join(parts...), nil
}

// fileCommand is a copy script in progress: its output so far, the partial
// line of stdin not yet decoded, and its exit code once it ended.
type fileCommand struct {
	mu        sync.Mutex
	stdout    []byte
	stderr    []byte
	exitCode  *int64
	changed   chan struct{}
	pending   []byte
	onData    func([]byte) error
	onEnd     func() (string, int64)
	readFrom  *os.File
	readError error
}

// startFileCommand returns the emulated command for text, or nil when text
// is not one of patrol's copy scripts.
func (s *Server) startFileCommand(text string) *fileCommand {
	if s.files == nil {
		return nil
	}
	parsed, ok := copyscript.Parse(text)
	if !ok {
		return nil
	}

	fc := &fileCommand{changed: make(chan struct{})}
	var err error
	switch parsed.Kind {
	case copyscript.FileStat:
		err = s.files.stat(fc, parsed)
	case copyscript.FileUpload:
		err = s.files.startUpload(fc, parsed)
	case copyscript.FileRead:
		err = s.files.startRead(fc, parsed)
	}
	if err != nil {
		fc.fail(err)
	}
	return fc
}

func (fs *fileSystem) stat(fc *fileCommand, cmd copyscript.FileCommand) error {
	path, err := fs.hostPath(cmd.Path)
	if err != nil {
		return err
	}
	sum, size, err := hashFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		fc.finish(copyscript.ReplyMissing+"\r\n", 0)
	case err != nil:
		return err
	default:
		fc.finish(fmt.Sprintf("%s %d\r\n", sum, size), 0)
	}
	return nil
}

// startUpload opens the partial file as the upload script does, writes the
// offset line and decodes stdin lines into the file until stdin ends.
func (fs *fileSystem) startUpload(fc *fileCommand, cmd copyscript.FileCommand) error {
	part, err := fs.hostPath(cmd.Part)
	if err != nil {
		return err
	}
	dst, err := fs.hostPath(cmd.Path)
	if err != nil {
		return err
	}
	if info, err := os.Stat(dst); err == nil && info.IsDir() {
		return fmt.Errorf("%s is a directory: give the full path of the file to write", cmd.Path)
	}
	if err := os.MkdirAll(filepath.Dir(part), 0o755); err != nil {
		return err
	}

	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	offset := info.Size()
	if offset > cmd.Size {
		if err := f.Truncate(0); err != nil {
			return err
		}
		offset = 0
	}

	fc.onData = func(data []byte) error { return appendFile(part, data) }
	fc.onEnd = func() (string, int64) {
		sum, _, err := hashFile(part)
		if err != nil {
			return "", 1
		}
		if sum != cmd.SHA256 {
			_ = os.Remove(part)
			return copyscript.ReplyMismatch + sum + "\r\n", copyscript.ExitMismatch
		}
		if err := os.Rename(part, dst); err != nil {
			return "", 1
		}
		return copyscript.ReplyDone + sum + "\r\n", 0
	}
	fc.write(copyscript.ReplyOffset + strconv.FormatInt(offset, 10) + "\r\n")
	return nil
}

// startRead opens the file; receiveFile encodes it as base64 lines of
// copyscript.ReadLineBytes bytes as the client asks for output.
func (fs *fileSystem) startRead(fc *fileCommand, cmd copyscript.FileCommand) error {
	path, err := fs.hostPath(cmd.Path)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	if _, err := f.Seek(cmd.Offset, io.SeekStart); err != nil {
		f.Close()
		return err
	}
	fc.readFrom = f
	return nil
}

// input takes the stdin bytes of one Send request. The complete base64 lines
// are decoded and go to onData; the end of stdin runs onEnd.
func (fc *fileCommand) input(data []byte, end bool) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if fc.exitCode != nil {
		return
	}

	// The lines of one Send request are decoded into one write, as the
	// script's FileStream buffers them.
	fc.pending = append(fc.pending, data...)
	var decoded []byte
	for {
		i := bytes.IndexByte(fc.pending, '\n')
		if i < 0 {
			break
		}
		line := bytes.TrimRight(fc.pending[:i], "\r")
		fc.pending = fc.pending[i+1:]
		if len(line) == 0 {
			continue
		}
		var err error
		if decoded, err = base64.StdEncoding.AppendDecode(decoded, line); err != nil {
			fc.failLocked(fmt.Errorf("stdin line is not base64: %w", err))
			return
		}
	}
	if len(decoded) > 0 && fc.onData != nil {
		if err := fc.onData(decoded); err != nil {
			fc.failLocked(err)
			return
		}
	}

	if end {
		out, code := "", int64(0)
		if fc.onEnd != nil {
			out, code = fc.onEnd()
		}
		fc.stdout = append(fc.stdout, out...)
		fc.exitCode = &code
		fc.notifyLocked()
	}
}

// next returns the output to send now, up to size bytes per stream, and the
// exit code once all output is out. ok is false when there is nothing to
// send yet.
func (fc *fileCommand) next(size int) (stdout, stderr []byte, exitCode *int64, ok bool) {
	fc.mu.Lock()
	defer fc.mu.Unlock()

	if fc.readFrom != nil && len(fc.stdout) < size {
		fc.fillFromFileLocked(size)
	}
	stdout = fc.stdout[:min(size, len(fc.stdout))]
	fc.stdout = fc.stdout[len(stdout):]
	stderr = fc.stderr[:min(size, len(fc.stderr))]
	fc.stderr = fc.stderr[len(stderr):]

	if len(fc.stdout) == 0 && len(fc.stderr) == 0 {
		exitCode = fc.exitCode
	}
	return stdout, stderr, exitCode, len(stdout) > 0 || len(stderr) > 0 || exitCode != nil
}

func (fc *fileCommand) fillFromFileLocked(size int) {
	buf := make([]byte, copyscript.ReadLineBytes)
	for len(fc.stdout) < size {
		n, err := io.ReadFull(fc.readFrom, buf)
		if n > 0 {
			fc.stdout = base64.StdEncoding.AppendEncode(fc.stdout, buf[:n])
			fc.stdout = append(fc.stdout, '\n')
		}
		if err != nil {
			fc.readFrom.Close()
			fc.readFrom = nil
			code := int64(0)
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				fc.stderr = append(fc.stderr, err.Error()+"\r\n"...)
				code = 1
			}
			fc.exitCode = &code
			return
		}
	}
}

func (fc *fileCommand) write(out string) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.stdout = append(fc.stdout, out...)
	fc.notifyLocked()
}

func (fc *fileCommand) finish(out string, code int64) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.stdout = append(fc.stdout, out...)
	fc.exitCode = &code
	fc.notifyLocked()
}

func (fc *fileCommand) fail(err error) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.failLocked(err)
}

// failLocked ends the command the way an uncaught PowerShell error does:
// the message on stderr and exit code 1.
func (fc *fileCommand) failLocked(err error) {
	code := int64(1)
	fc.stderr = append(fc.stderr, err.Error()+"\r\n"...)
	fc.exitCode = &code
	fc.notifyLocked()
}

// notifyLocked wakes Receive requests waiting for output.
func (fc *fileCommand) notifyLocked() {
	close(fc.changed)
	fc.changed = make(chan struct{})
}

func (fc *fileCommand) waitChannel() <-chan struct{} {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.changed
}

// receiveFile answers a Receive for an emulated copy script: output as soon
// as there is some, else the TimedOut fault after the OperationTimeout.
func (s *Server) receiveFile(r *http.Request, req *request, cmd *command) ([]byte, *fault) {
	size := s.chunkSize(&Entry{ChunkSize: fileChunkSize}, req.maxResponseSize())
	timer := time.NewTimer(req.operationTimeout(defaultOperationTimeout))
	defer timer.Stop()

	for {
		if cmd.isStopped() {
			code := int64(exitCodeTerminated)
			return receiveResponse(req.Header.MessageID, cmd.id, nil, nil, &code), nil
		}
		changed := cmd.file.waitChannel()
		stdout, stderr, exitCode, ok := cmd.file.next(size)
		if ok {
			if exitCode != nil {
				cmd.mu.Lock()
				cmd.done = true
				cmd.mu.Unlock()
			}
			return receiveResponse(req.Header.MessageID, cmd.id, stdout, stderr, exitCode), nil
		}

		select {
		case <-changed:
		case <-cmd.stopped:
		case <-s.closed:
			return nil, &fault{status: http.StatusServiceUnavailable, subcode: "w:InternalError", message: "the lab server is stopping"}
		case <-r.Context().Done():
			return nil, &fault{status: http.StatusServiceUnavailable, subcode: "w:InternalError", message: "the client went away"}
		case <-timer.C:
			return nil, &fault{
				status:  http.StatusInternalServerError,
				subcode: "w:TimedOut",
				code:    codeOperationTimeout,
				message: "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.",
			}
		}
	}
}

// sendFile passes the stdin of one Send stream to an emulated copy script.
func sendFile(cmd *command, data string, end string) *fault {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(data))
	if err != nil {
		return &fault{status: http.StatusBadRequest, subcode: "w:SchemaValidationError", message: "the stdin stream is not base64: " + err.Error()}
	}
	if cmd.isStopped() {
		return nil
	}
	cmd.file.input(raw, end == "true")
	return nil
}

func appendFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// hashFile returns the upper-case hex SHA-256 of a file, as Get-FileHash
// writes it, and its length.
func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil))), n, nil
}
