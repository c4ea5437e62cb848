package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
)

// fileState is module.State kept as one JSON file per host under the state
// folder. Each Set rewrites the file through a temporary name, so a crash leaves
// either the old or the new content.
type fileState struct {
	path string
	log  *slog.Logger

	mu     sync.Mutex
	values map[string]string
	loaded bool
}

func newFileState(dir, host string, log *slog.Logger) *fileState {
	if dir == "" {
		return &fileState{values: map[string]string{}, loaded: true, log: log}
	}
	return &fileState{path: filepath.Join(dir, host+".json"), log: log}
}

func (s *fileState) load() {
	if s.loaded {
		return
	}
	s.loaded = true
	s.values = map[string]string{}
	data, err := os.ReadFile(s.path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("state unreadable; checks start over, such as check.log reading whole files", "path", s.path, "err", err)
		}
		return
	}
	if err := json.Unmarshal(data, &s.values); err != nil {
		s.values = map[string]string{}
		s.log.Warn("state file corrupt; checks start over, such as check.log reading whole files", "path", s.path, "err", err)
	}
}

// Get returns the stored value for key.
func (s *fileState) Get(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	v, ok := s.values[key]
	return v, ok
}

// Set stores value under key and writes the file.
func (s *fileState) Set(key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	s.values[key] = value
	if s.path == "" {
		return nil
	}

	data, err := json.MarshalIndent(s.values, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("create state folder: %w", err)
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write state %s: %w", tmp, err)
	}
	return os.Rename(tmp, s.path)
}
