package patches

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// buildRPM builds a small noarch RPM with rpmbuild and returns its path.
func buildRPM(t *testing.T, name, version string) string {
	t.Helper()
	dir := t.TempDir()
	spec := filepath.Join(dir, name+".spec")
	content := "Name: " + name + "\nVersion: " + version + "\nRelease: 1\nSummary: test\nLicense: MIT\nBuildArch: noarch\n" +
		"%global debug_package %{nil}\n%global __os_install_post %{nil}\n%description\ntest\n" +
		"%install\nmkdir -p %{buildroot}/opt/" + name + "\necho " + version + " > %{buildroot}/opt/" + name + "/version\n" +
		"%files\n/opt/" + name + "/version\n"
	if err := os.WriteFile(spec, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("rpmbuild", "-bb", "--define", "_topdir "+filepath.Join(dir, "top"), spec).CombinedOutput()
	if err != nil {
		t.Fatalf("rpmbuild: %v\n%s", err, out)
	}
	return filepath.Join(dir, "top", "RPMS", "noarch", name+"-"+version+"-1.noarch.rpm")
}

func sumOf(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// catalogWithComments is an existing catalog whose comments an import must
// keep.
const catalogWithComments = `# Seal system patches, kept by the operations team.
repository: repo # next to this file
patches:
  # Windows rollup of March 2017
  - id: KB4012213
    severity: serious
    arrived: 2026-09-30T17:00:00+08:00
    method: wusa
    files:
      - {path: win2012r2/windows8.1-kb4012213-x64.msu, sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08}
    verify: {kb: KB4012213}
    rollback: none
`

func TestImportRPMKeepsComments(t *testing.T) {
	dir := t.TempDir()
	catalog := filepath.Join(dir, "catalog.yml")
	if err := os.WriteFile(catalog, []byte(catalogWithComments), 0o644); err != nil {
		t.Fatal(err)
	}
	app11, app10 := buildRPM(t, "app", "1.1"), buildRPM(t, "app", "1.0")
	arrived := time.Date(2026, 12, 4, 20, 0, 0, 0, time.FixedZone("", 8*3600))
	req := ImportRequest{
		CatalogPath: catalog, Files: []string{app11}, ID: "RHSA-2026:1", Title: "app 安全更新", Severity: Urgent,
		Arrived: arrived, Method: MethodRPM, OS: []string{"centos7"}, Systems: []string{"seal"},
		SHA256: []string{sumOf(t, app11)}, RollbackFiles: []string{app10}, RollbackSHA256: []string{sumOf(t, app10)},
		StopServices: []string{"httpd"},
	}

	res, err := Import(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}

	if res.Unchanged || !slices.Equal(res.Copied, []string{"centos7/app-1.1-1.noarch.rpm", "centos7/rollback/app-1.0-1.noarch.rpm"}) {
		t.Errorf("result = %+v", res)
	}
	data, _ := os.ReadFile(catalog)
	for _, comment := range []string{"# Seal system patches, kept by the operations team.", "# next to this file", "# Windows rollup of March 2017"} {
		if !strings.Contains(string(data), comment) {
			t.Errorf("comment %q lost:\n%s", comment, data)
		}
	}
	cat, err := LoadCatalog(catalog)
	if err != nil {
		t.Fatalf("the written catalog does not load: %v\n%s", err, data)
	}
	p := cat.Patch("RHSA-2026:1")
	if p == nil || len(cat.Patches) != 2 {
		t.Fatalf("catalog patches = %d, new patch %v", len(cat.Patches), p)
	}
	if !slices.Equal(p.Verify.Packages, []string{"app-1.1-1.noarch"}) {
		t.Errorf("verify.packages = %v, want the NEVRA from the RPM header", p.Verify.Packages)
	}
	if !p.Arrived.Equal(arrived) || p.Severity != Urgent || p.Title != "app 安全更新" || !slices.Equal(p.StopServices, []string{"httpd"}) {
		t.Errorf("patch = %+v", p)
	}
	if len(p.Rollback.Files) != 1 || p.Files[0].SHA256 != sumOf(t, app11) {
		t.Errorf("files = %+v, rollback = %+v", p.Files, p.Rollback)
	}
	if got := sumOf(t, cat.FilePath(p.Files[0])); got != p.Files[0].SHA256 {
		t.Errorf("repository copy has SHA-256 %s, want %s", got, p.Files[0].SHA256)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, "repo", "centos7", ".*")); len(leftovers) != 0 {
		t.Errorf("temporary files left in the repository: %v", leftovers)
	}

	// The same files again: nothing changes.
	again, err := Import(context.Background(), req)
	after, _ := os.ReadFile(catalog)
	if err != nil || !again.Unchanged || len(again.Copied) != 0 || string(after) != string(data) {
		t.Errorf("re-import = %+v, %v; catalog changed: %v", again, err, string(after) != string(data))
	}

	// A lost repository file is written again, the catalog left alone.
	os.Remove(cat.FilePath(p.Files[0]))
	repaired, err := Import(context.Background(), req)
	if err != nil || !repaired.Unchanged || !slices.Equal(repaired.Copied, []string{"centos7/app-1.1-1.noarch.rpm"}) {
		t.Errorf("re-import after a lost file = %+v, %v", repaired, err)
	}

	// The same id with another file is refused.
	other := req
	other.Files, other.SHA256 = []string{app10}, []string{sumOf(t, app10)}
	_, err = Import(context.Background(), other)
	var ie *ImportError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "already in the catalog") || !strings.Contains(err.Error(), "with other files") {
		t.Errorf("same id, other files: %v", err)
	}

	// The same files with another rollback file are rejected, and the error
	// names the rollback files as the only difference.
	otherRollback := req
	otherRollback.RollbackFiles, otherRollback.RollbackSHA256 = []string{app11}, []string{sumOf(t, app11)}
	_, err = Import(context.Background(), otherRollback)
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "the same files but other rollback files") {
		t.Errorf("same id, other rollback files: %v", err)
	}
}

func TestImportChecksumMismatchWritesNothing(t *testing.T) {
	dir := t.TempDir()
	catalog := filepath.Join(dir, "catalog.yml")
	file := filepath.Join(dir, "in", "windows8.1-kb4012213-x64.msu")
	os.MkdirAll(filepath.Dir(file), 0o755)
	os.WriteFile(file, []byte("update"), 0o644)

	_, err := Import(context.Background(), ImportRequest{
		CatalogPath: catalog, Files: []string{file}, ID: "KB4012213", Severity: Serious, Method: MethodWUSA,
		SHA256: []string{strings.Repeat("0", 64)},
	})

	var ie *ImportError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "checksum mismatch for "+file) {
		t.Fatalf("error = %v, want a checksum mismatch naming the file", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the refused import left %v in %s", entries, dir)
	}
}

func TestImportReadsIDsFromFileNames(t *testing.T) {
	dir := t.TempDir()
	catalog := filepath.Join(dir, "catalog.yml")
	msu := filepath.Join(dir, "windows8.1-kb3037315-x64.msu")
	zip := filepath.Join(dir, "p31537677_112040_MSWIN-x86-64.zip")
	os.WriteFile(msu, []byte("msu"), 0o644)
	os.WriteFile(zip, []byte("zip"), 0o644)

	if _, err := Import(context.Background(), ImportRequest{CatalogPath: catalog, Files: []string{msu}, SHA256: []string{sumOf(t, msu)}, ID: "KB3037315", Severity: Serious, Method: MethodWUSA, OS: []string{"win2012r2"}, Reboot: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := Import(context.Background(), ImportRequest{CatalogPath: catalog, Files: []string{zip}, SHA256: []string{sumOf(t, zip)}, ID: "31537677", Severity: Normal, Method: MethodOPatch, Version: "11.2.0.4"}); err != nil {
		t.Fatal(err)
	}

	cat, err := LoadCatalog(catalog)
	if err != nil {
		t.Fatal(err)
	}
	kb, psu := cat.Patch("KB3037315"), cat.Patch("31537677")
	if kb == nil || kb.Verify.KB != "KB3037315" || !kb.Reboot || kb.Files[0].Path != "win2012r2/windows8.1-kb3037315-x64.msu" {
		t.Errorf("wusa patch = %+v", kb)
	}
	if psu == nil || psu.Verify.OPatch != "31537677" || psu.AppliesTo.Product != "oracle" || psu.AppliesTo.Version != "11.2.0.4" || psu.Files[0].Path != "opatch/p31537677_112040_MSWIN-x86-64.zip" {
		t.Errorf("opatch patch = %+v", psu)
	}

	// A file name without a KB number needs --kb.
	plain := filepath.Join(dir, "rollup.msu")
	os.WriteFile(plain, []byte("x"), 0o644)
	_, err = Import(context.Background(), ImportRequest{CatalogPath: catalog, Files: []string{plain}, SHA256: []string{sumOf(t, plain)}, ID: "rollup", Severity: Serious, Method: MethodWUSA})
	if err == nil || !strings.Contains(err.Error(), "--kb") {
		t.Errorf("import without a KB number: %v", err)
	}
}

func TestImportRejectsBadRequests(t *testing.T) {
	dir := t.TempDir()
	catalog := filepath.Join(dir, "catalog.yml")
	rpm := filepath.Join(dir, "a.rpm")
	msu := filepath.Join(dir, "b.msu")
	os.WriteFile(rpm, []byte("x"), 0o644)
	os.WriteFile(msu, []byte("x"), 0o644)
	os.MkdirAll(filepath.Join(dir, "repo", "centos7"), 0o755)
	os.WriteFile(filepath.Join(dir, "repo", "centos7", "a.rpm"), []byte("another file"), 0o644)

	for _, tc := range []struct {
		name string
		req  ImportRequest
		want string
	}{
		{"no id", ImportRequest{Files: []string{rpm}, Method: MethodRPM}, "--id is required"},
		{"wrong extension", ImportRequest{ID: "x", Files: []string{msu}, Method: MethodRPM}, "method rpm installs .rpm files"},
		{"missing file", ImportRequest{ID: "x", Files: []string{filepath.Join(dir, "nope.rpm")}, Method: MethodRPM, Packages: []string{"a-1-1.noarch"}}, "cannot read patch file"},
		{"too many checksums", ImportRequest{ID: "x", Files: []string{rpm}, Method: MethodRPM, SHA256: []string{"a", "b"}}, "2 checksums given for 1 files"},
		{"too many rollback checksums", ImportRequest{ID: "x", Files: []string{rpm}, Method: MethodRPM, RollbackSHA256: []string{strings.Repeat("a", 64)}}, "1 checksums given for 0 files: give one --rollback-sha256 per file"},
		{"checksum not hex", ImportRequest{ID: "x", Files: []string{rpm}, Method: MethodRPM, SHA256: []string{"abc"}}, `--sha256 "abc" for ` + rpm + " is not a SHA-256"},
		{"rollback for wusa", ImportRequest{ID: "x", Files: []string{msu}, Method: MethodWUSA, RollbackFiles: []string{msu}}, "rollback files are only for rpm and yum"},
		{"another file at the path", ImportRequest{ID: "x", Files: []string{rpm}, Method: MethodRPM, OS: []string{"centos7"}, Packages: []string{"a-1-1.noarch"}}, "already has a different file at centos7/a.rpm"},
	} {
		// These cases are about other inputs, so files may lack a checksum.
		tc.req.CatalogPath, tc.req.Severity, tc.req.NoDeliveredChecksum = catalog, Normal, true
		_, err := Import(context.Background(), tc.req)
		var ie *ImportError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want an ImportError containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := os.Stat(catalog); err == nil {
		t.Error("a refused import wrote the catalog")
	}
}

func TestImportRequiresDeliveredChecksums(t *testing.T) {
	dir := t.TempDir()
	catalog := filepath.Join(dir, "catalog.yml")
	app11, app10 := filepath.Join(dir, "app-1.1-1.noarch.rpm"), filepath.Join(dir, "app-1.0-1.noarch.rpm")
	os.WriteFile(app11, []byte("new"), 0o644)
	os.WriteFile(app10, []byte("old"), 0o644)
	base := ImportRequest{
		CatalogPath: catalog, ID: "RHSA-2026:2", Severity: Urgent, Method: MethodRPM, OS: []string{"centos7"},
		Files: []string{app11}, RollbackFiles: []string{app10}, Packages: []string{"app-1.1-1.noarch"},
	}

	for _, tc := range []struct {
		name           string
		sums, rollback []string
		want           string
		// file and flag are what both languages must name.
		file, flag string
	}{
		{"no checksums", nil, nil, "no delivered checksum for " + app11 + ": give the SHA-256 delivered with each file with --sha256", app11, "--sha256"},
		{"empty checksum", []string{""}, []string{sumOf(t, app10)}, "no delivered checksum for " + app11 + ": ", app11, "--sha256"},
		{"rollback file without one", []string{sumOf(t, app11)}, nil, "no delivered checksum for " + app10 + ": give the SHA-256 delivered with each file with --rollback-sha256", app10, "--rollback-sha256"},
		{"wrong rollback checksum", []string{sumOf(t, app11)}, []string{sumOf(t, app11)}, "checksum mismatch for " + app10, app10, "--rollback-sha256"},
	} {
		req := base
		req.SHA256, req.RollbackSHA256 = tc.sums, tc.rollback
		_, err := Import(context.Background(), req)
		var ie *ImportError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want an ImportError containing %q", tc.name, err, tc.want)
			continue
		}
		for _, text := range []string{ie.Text.EN, ie.Text.ZH} {
			if !strings.Contains(text, tc.file) || !strings.Contains(text, tc.flag) {
				t.Errorf("%s: message %q does not name %s and %s", tc.name, text, tc.file, tc.flag)
			}
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 2 {
			t.Errorf("%s: the refused import wrote %v", tc.name, entries)
		}
	}

	// The opt-out imports the files and lists them as unchecked.
	req := base
	req.NoDeliveredChecksum = true
	res, err := Import(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Unchecked, []string{app11, app10}) {
		t.Errorf("unchecked = %v, want both files", res.Unchecked)
	}

	// With both checksums, nothing is unchecked.
	req = base
	req.SHA256, req.RollbackSHA256 = []string{sumOf(t, app11)}, []string{sumOf(t, app10)}
	res, err = Import(context.Background(), req)
	if err != nil || len(res.Unchecked) != 0 {
		t.Errorf("import with both checksums = %+v, %v; want no unchecked files", res, err)
	}
}
