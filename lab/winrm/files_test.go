package winrmlab

import (
	"path/filepath"
	"testing"
)

func TestFileSystemHostPath(t *testing.T) {
	fs := &fileSystem{root: "/lab"}
	valid := map[string]string{
		`C:\patches\kb.msu`: filepath.Join("/lab", "C", "patches", "kb.msu"),
		`d:/backup/x.bak`:   filepath.Join("/lab", "D", "backup", "x.bak"),
		`C:\a\\b`:           filepath.Join("/lab", "C", "a", "b"),
	}
	for in, want := range valid {
		got, err := fs.hostPath(in)
		if err != nil || got != want {
			t.Errorf("hostPath(%q) = %q, %v, want %q", in, got, err, want)
		}
	}

	for _, in := range []string{`patches\kb.msu`, `\\server\share\x`, `C:\a\..\..\etc\passwd`, `1:\x`, `C:`} {
		if got, err := fs.hostPath(in); err == nil {
			t.Errorf("hostPath(%q) = %q, want an error", in, got)
		}
	}
}
