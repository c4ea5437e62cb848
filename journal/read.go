package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Read returns the records of a journal. It does not check the hash chain (call
// Verify for that) so that the results of a damaged or interrupted run can still
// be shown. An incomplete last line, left by a run that died while writing it,
// is skipped; End is nil when the run wrote no end record.
func Read(path string) (Header, []Record, *End, error) {
	var (
		header  Header
		records []Record
		end     *End
	)
	f, err := os.Open(path)
	if err != nil {
		return header, nil, nil, fmt.Errorf("read journal: %w", err)
	}
	defer f.Close()

	r := bufio.NewReader(f)
	for num := 1; ; num++ {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			break // an empty or incomplete last line
		}
		if err != nil {
			return header, records, end, fmt.Errorf("read journal %s: %w", path, err)
		}
		line = bytes.TrimSuffix(line, []byte("\n"))

		if err := decodeLine(line, num, &header, &records, &end); err != nil {
			return header, records, end, fmt.Errorf("read journal %s: line %d: %w", path, num, err)
		}
	}

	if header.Type != TypeHeader {
		return header, records, end, fmt.Errorf("read journal %s: no header line (is it a patrol journal?)", path)
	}
	return header, records, end, nil
}

func decodeLine(line []byte, num int, header *Header, records *[]Record, end **End) error {
	var kind struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(line, &kind); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}

	switch {
	case kind.Type == TypeHeader && num == 1:
		return json.Unmarshal(line, header)
	case kind.Type == TypeResult:
		var rec Record
		if err := json.Unmarshal(line, &rec); err != nil {
			return err
		}
		*records = append(*records, rec)
		return nil
	case kind.Type == TypeEnd:
		var e End
		if err := json.Unmarshal(line, &e); err != nil {
			return err
		}
		*end = &e
		return nil
	}
	return fmt.Errorf("unexpected record type %q", kind.Type)
}

// List returns the paths of the journals in dir, oldest run first (run ids sort
// by start time). A missing directory holds no journals.
func List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list journals: %w", err)
	}

	var paths []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), Ext) {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(paths)
	return paths, nil
}

// Latest returns the path of the newest journal in dir. When there is none, the
// error wraps fs.ErrNotExist.
func Latest(dir string) (string, error) {
	paths, err := List(dir)
	if err != nil {
		return "", err
	}
	if len(paths) == 0 {
		return "", fmt.Errorf("no journal in %s (run a playbook first): %w", dir, fs.ErrNotExist)
	}
	return paths[len(paths)-1], nil
}
