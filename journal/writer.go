package journal

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ErrClosed is returned by Append and Close on a Writer that was already closed.
var ErrClosed = errors.New("journal already closed")

// Writer appends the records of one run to its journal file. Every record is
// written with a single write call and synced to disk before Append returns, so a
// run that dies leaves at most one partial last line. Its methods are safe for
// concurrent use by the goroutines of many hosts.
type Writer struct {
	mu       sync.Mutex
	file     *os.File
	path     string
	redactor *redactor
	// lastHash is the hex SHA-256 of the last line written, the next line's prev.
	lastHash string
	seq      int
	counts   Counts
	hosts    map[string]bool
	// err is the first write failure; after it the chain on disk may be broken,
	// so every later call returns it instead of writing.
	err    error
	closed bool
}

// Create starts the journal of a new run at dir/<run-id>.jsonl and writes its
// header. The directory is created with mode 0700 and the file with mode 0600,
// and an existing journal is never overwritten. Each string in secrets is
// replaced by Mask wherever it appears in a string of any record, header
// included.
func Create(dir string, h Header, secrets ...string) (*Writer, error) {
	if err := checkRunID(h.RunID); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create journal directory %s: %w", dir, err)
	}

	path := filepath.Join(dir, h.RunID+Ext)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create journal %s: %w", path, err)
	}
	w := &Writer{file: f, path: path, redactor: newRedactor(secrets), hosts: map[string]bool{}}

	h.Type = TypeHeader
	if h.StartedAt.IsZero() {
		h.StartedAt = time.Now()
	}
	if err := w.writeLine(redact(w.redactor, h)); err != nil {
		f.Close()
		return nil, err
	}

	// Sync the directory too, so the new file's entry survives a crash.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return w, nil
}

// Path returns the journal file's path.
func (w *Writer) Path() string { return w.path }

// Append writes one task result. It sets the record's Type, Seq and Prev, and
// its Time when that is zero; the record the caller passed is not changed.
func (w *Writer) Append(r Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()

	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}

	r.Type = TypeResult
	r.Seq = w.seq + 1
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	r.Prev = w.lastHash
	if err := w.writeLine(redact(w.redactor, r)); err != nil {
		return err
	}

	w.seq++
	w.count(r)
	return nil
}

// Close writes the end record and closes the file. It fills Counts from the
// results written and derives an empty Status from them (failed, then
// unreachable, then ok). A zero EndedAt becomes the current time.
func (w *Writer) Close(end End) error {
	w.mu.Lock()
	defer w.mu.Unlock()

	if w.closed {
		return ErrClosed
	}
	w.closed = true
	if w.err != nil {
		w.file.Close()
		return w.err
	}

	end.Type = TypeEnd
	end.Counts = w.counts
	if end.Status == "" {
		end.Status = statusFromCounts(w.counts)
	}
	if end.EndedAt.IsZero() {
		end.EndedAt = time.Now()
	}
	end.Prev = w.lastHash
	writeErr := w.writeLine(redact(w.redactor, end))

	if err := w.file.Close(); err != nil && writeErr == nil {
		return fmt.Errorf("close journal %s: %w", w.path, err)
	}
	return writeErr
}

// writeLine encodes v as one JSON line, writes and syncs it, and remembers its
// hash. The caller holds w.mu, or owns w alone as Create does.
func (w *Writer) writeLine(v any) error {
	line, err := encodeLine(v)
	if err != nil {
		w.err = fmt.Errorf("encode journal record for %s: %w", w.path, err)
		return w.err
	}

	if _, err := w.file.Write(append(line, '\n')); err != nil {
		w.err = fmt.Errorf("write journal %s: %w", w.path, err)
		return w.err
	}
	if err := w.file.Sync(); err != nil {
		w.err = fmt.Errorf("sync journal %s: %w", w.path, err)
		return w.err
	}

	w.lastHash = lineHash(line)
	return nil
}

func (w *Writer) count(r Record) {
	switch r.Status {
	case StatusOK:
		w.counts.OK++
	case StatusChanged:
		w.counts.Changed++
	case StatusFailed:
		w.counts.Failed++
		if r.Ignored {
			w.counts.Ignored++
		}
	case StatusSkipped:
		w.counts.Skipped++
	case StatusUnreachable:
		w.counts.Unreachable++
	}
	if !w.hosts[r.Host] {
		w.hosts[r.Host] = true
		w.counts.Hosts++
	}
}

func statusFromCounts(c Counts) RunStatus {
	switch {
	case c.Failed > c.Ignored:
		return RunFailed
	case c.Unreachable > 0:
		return RunUnreachable
	}
	return RunOK
}

// encodeLine returns v as JSON without a trailing newline. HTML characters are
// kept as they are, so that log lines in findings stay readable in the file.
func encodeLine(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// lineHash returns the hex SHA-256 of one line's bytes, newline excluded.
func lineHash(line []byte) string {
	sum := sha256.Sum256(line)
	return hex.EncodeToString(sum[:])
}

// checkRunID rejects ids that would not make a plain file name in dir.
func checkRunID(id string) error {
	if id == "" {
		return errors.New("create journal: empty run id (use journal.NewRunID)")
	}
	if strings.ContainsAny(id, `/\`) || id == "." || id == ".." || strings.ContainsRune(id, 0) {
		return fmt.Errorf("create journal: invalid run id %q: it must be a plain file name such as 20261204T210745.123Z-3fa9c1", id)
	}
	return nil
}
