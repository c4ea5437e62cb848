package runner

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

func TestFileStateSetGet(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s := newFileState(dir, "web1", slog.New(slog.DiscardHandler))

	if _, ok := s.Get("missing"); ok {
		t.Error("Get of a missing key reported ok")
	}
	if err := s.Set("check.log:/var/log/app.log", "123:4567"); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if err := s.Set("other", "x"); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if v, ok := s.Get("check.log:/var/log/app.log"); !ok || v != "123:4567" {
		t.Errorf("Get = %q, %v", v, ok)
	}

	// A new fileState, as the next run makes, reads what the last one wrote.
	next := newFileState(dir, "web1", slog.New(slog.DiscardHandler))
	if v, ok := next.Get("check.log:/var/log/app.log"); !ok || v != "123:4567" {
		t.Errorf("next run Get = %q, %v; want the saved value", v, ok)
	}
	if v, ok := next.Get("other"); !ok || v != "x" {
		t.Errorf("next run Get(other) = %q, %v", v, ok)
	}
	if _, ok := newFileState(dir, "web2", slog.New(slog.DiscardHandler)).Get("other"); ok {
		t.Error("another host sees web1's state")
	}

	info, err := os.Stat(filepath.Join(dir, "web1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("state file mode %o, want 600", perm)
	}
	if _, err := os.Stat(filepath.Join(dir, "web1.json.tmp")); !os.IsNotExist(err) {
		t.Errorf("temporary state file left behind: %v", err)
	}
}

func TestFileStateWithoutFolder(t *testing.T) {
	s := newFileState("", "web1", slog.New(slog.DiscardHandler))
	if err := s.Set("k", "v"); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if v, ok := s.Get("k"); !ok || v != "v" {
		t.Errorf("Get = %q, %v; want the value kept in memory", v, ok)
	}
}

func TestFileStateCorruptFileStartsEmpty(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "web1.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newFileState(dir, "web1", slog.New(slog.DiscardHandler))
	if _, ok := s.Get("k"); ok {
		t.Error("Get from a corrupt file reported ok")
	}
	if err := s.Set("k", "v"); err != nil {
		t.Fatalf("Set over a corrupt file: %v", err)
	}
	if v, ok := newFileState(dir, "web1", slog.New(slog.DiscardHandler)).Get("k"); !ok || v != "v" {
		t.Errorf("Get after rewrite = %q, %v", v, ok)
	}
}
