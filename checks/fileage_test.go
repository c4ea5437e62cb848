package checks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"patrol/i18n"
	"patrol/module"
)

func TestParseStatListing(t *testing.T) {
	out := []byte("1767225600\n1767218400 1048576 /backup/full 2026-01-01.dmp\n1767132000 0 /backup/empty.dmp\nnot a stat line\n")
	l, err := ParseStatListing(out)
	if err != nil {
		t.Fatal(err)
	}
	if !l.Now.Equal(time.Unix(1767225600, 0)) || len(l.Files) != 2 {
		t.Fatalf("listing = %+v", l)
	}
	if l.Files[0].Name != "/backup/full 2026-01-01.dmp" || l.Files[0].Size != 1048576 {
		t.Errorf("file with a space = %+v", l.Files[0])
	}
	if _, err := ParseStatListing([]byte("")); err == nil {
		t.Error("empty output accepted")
	}
}

func TestFindScript(t *testing.T) {
	tests := map[string]string{
		"/backup/*.dmp":   `date +%s; find '/backup' -mindepth 1 -maxdepth 1 -path '/backup/*.dmp' -type f -exec stat -L -c '%Y %s %n' {} +`,
		"/data/*/rman/*":  `date +%s; find '/data' -mindepth 3 -maxdepth 3 -path '/data/*/rman/*' -type f -exec stat -L -c '%Y %s %n' {} +`,
		"/backup/it's.gz": `date +%s; if [ -e '/backup/it'\''s.gz' ]; then stat -L -c '%Y %s %n' -- '/backup/it'\''s.gz'; fi`,
	}
	for glob, want := range tests {
		if got := findScript(glob); got != want {
			t.Errorf("findScript(%q) =\n%s\nwant\n%s", glob, got, want)
		}
	}
}

// TestFileAgeLocal runs check.file_age on real files with set modification times.
func TestFileAgeLocal(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	files := []struct {
		name string
		size int
		age  time.Duration
	}{
		{"db 2026-01-01.dmp", 2 << 20, 50 * time.Hour},
		{"db-2026-01-02.dmp", 3 << 20, 3 * time.Hour},
		{"db-broken.dmp", 10, 30 * time.Hour},
		{"notes.txt", 10, time.Minute},
	}
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, make([]byte, f.size), 0o644); err != nil {
			t.Fatal(err)
		}
		mtime := now.Add(-f.age)
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "deeper.dmp"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}

	glob := filepath.Join(dir, "*.dmp")
	res := runCheck(t, localEnv(t), fileAgeCheck, module.Args{"path": glob, "min_size": "1M", "count": 3})
	if len(res.Findings) != 3 {
		t.Fatalf("got %d findings %+v, want age, size and copies", len(res.Findings), res.Findings)
	}
	age, size, copies := res.Findings[0], res.Findings[1], res.Findings[2]
	if age.Status != module.StatusOK || !strings.HasPrefix(age.Value.EN, "newest 3h") || !strings.HasPrefix(age.Value.ZH, "最新文件生成于 3 小时") || age.Metrics["files"] != 3 {
		t.Errorf("age = %s %q files %v, want ok, newest 3h old, 3 files (sub/ not matched)", age.Status, age.Value, age.Metrics["files"])
	}
	if size.Status != module.StatusOK || size.Value != i18n.T("3.0 MiB", "3.0 MiB") {
		t.Errorf("size = %s %q, want ok 3.0 MiB", size.Status, size.Value)
	}
	if copies.Status != module.StatusFail || copies.Value != i18n.T("2 files", "2 个文件") || copies.Threshold != i18n.T("fail <3 files", "不合格 <3 个文件") {
		t.Errorf("copies = %s %q, want fail with 2 files (the 10-byte dump does not count)", copies.Status, copies.Value)
	}

	res = runCheck(t, localEnv(t), fileAgeCheck, module.Args{"path": glob, "max_age": 2 * time.Hour})
	if res.Findings[0].Status != module.StatusFail || !res.Failed {
		t.Errorf("2h limit on a 3h-old file: %+v", res.Findings[0])
	}

	res = runCheck(t, localEnv(t), fileAgeCheck, module.Args{"path": filepath.Join(dir, "missing", "*.dmp")})
	if len(res.Findings) != 1 || res.Findings[0].Status != module.StatusFail || res.Findings[0].Value != i18n.T("no files", "无文件") {
		t.Errorf("missing directory: %+v, want fail no files", res.Findings)
	}

	res = runCheck(t, localEnv(t), fileAgeCheck, module.Args{"path": filepath.Join(dir, "notes.txt")})
	if res.Findings[0].Status != module.StatusOK {
		t.Errorf("exact path: %+v, want ok", res.Findings[0])
	}
}
