package patches

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"patrol/i18n"
)

func TestLoadCatalog(t *testing.T) {
	cat, err := LoadCatalog("testdata/catalog.yml")
	if err != nil {
		t.Fatal(err)
	}

	if want, _ := filepath.Abs("testdata/repo"); cat.Repository != want {
		t.Errorf("Repository = %q, want %q", cat.Repository, want)
	}
	if len(cat.Patches) != 3 {
		t.Fatalf("got %d patches, want 3", len(cat.Patches))
	}
	if cat.Days(Normal) != 3 || cat.Days(Urgent) != 1 || cat.Days(Serious) != 1 {
		t.Errorf("Days = %d/%d/%d, want 1/1/3", cat.Days(Urgent), cat.Days(Serious), cat.Days(Normal))
	}

	ssl := cat.Patch("openssl-1.0.2k-26.el7_9")
	if ssl == nil {
		t.Fatal("openssl patch not found")
	}
	wantArrived := time.Date(2026, 9, 25, 20, 0, 0, 0, time.FixedZone("", 8*3600))
	if !ssl.Arrived.Equal(wantArrived) {
		t.Errorf("Arrived = %v, want %v", ssl.Arrived, wantArrived)
	}
	if ssl.Severity != Urgent || ssl.Method != MethodRPM || len(ssl.Files) != 2 || ssl.Files[0].Size != 503120 {
		t.Errorf("openssl patch = %+v", ssl)
	}
	if !slices.Equal(ssl.Verify.Packages, []string{"openssl-1:1.0.2k-26.el7_9.x86_64", "openssl-libs-1:1.0.2k-26.el7_9.x86_64"}) {
		t.Errorf("Verify.Packages = %v", ssl.Verify.Packages)
	}
	if len(ssl.Rollback.Files) != 1 || ssl.Rollback.None || !slices.Equal(ssl.StopServices, []string{"httpd"}) {
		t.Errorf("rollback/stop = %+v / %v", ssl.Rollback, ssl.StopServices)
	}
	if ssl.Source != "testdata/catalog.yml:6" {
		t.Errorf("Source = %q", ssl.Source)
	}

	kb := cat.Patch("KB4012213")
	if kb.Severity != Serious || kb.Verify.KB != "KB4012213" || !kb.Reboot || !kb.Rollback.None {
		t.Errorf("KB patch = %+v", kb)
	}
	psu := cat.Patch("31537677")
	if psu.AppliesTo.Product != "oracle" || psu.AppliesTo.Version != "11.2.0.4" || psu.Verify.OPatch != "31537677" {
		t.Errorf("PSU patch = %+v", psu)
	}
	if got := cat.FilePath(psu.Files[0]); got != filepath.Join(cat.Repository, "oracle", "p31537677_112040_MSWIN-x86-64.zip") {
		t.Errorf("FilePath = %q", got)
	}
}

func TestLoadCatalogMissingIsEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.yml")
	cat, err := LoadCatalog(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Patches) != 0 || cat.Repository != filepath.Join(filepath.Dir(path), "repo") {
		t.Errorf("catalog = %+v", cat)
	}
}

func TestLoadCatalogInvalid(t *testing.T) {
	_, err := LoadCatalog("testdata/catalog-invalid.yml")
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("error = %v, want *ValidationError", err)
	}
	want := []string{
		`testdata/catalog-invalid.yml:2:25: deadline_days.normal must be a whole number of working days from 1 to 30, got "0"`,
		`testdata/catalog-invalid.yml:5:15: patch KB1: invalid severity "critical"; valid values: urgent (紧急), serious (严重), normal (普通)`,
		`testdata/catalog-invalid.yml:6:14: patch KB1: arrived "2026-09-30 17:00" is not a time with a zone; write it as RFC 3339`,
		`testdata/catalog-invalid.yml:9:15: patch KB1: files: path "../outside.msu" must be relative to the repository and stay inside it`,
		`testdata/catalog-invalid.yml:10:17: patch KB1: files: sha256 "abc" is not 64 hexadecimal digits`,
		`testdata/catalog-invalid.yml:11:18: patch KB1: verify.kb "4012213" is not a KB number such as KB4012213`,
		`testdata/catalog-invalid.yml:16:13: patch dup: method rpm installs .rpm files, but "a.msu" is not one`,
		`testdata/catalog-invalid.yml:17:22: patch dup: applies_to.os: unknown value "centos8x" (did you mean "centos8"?)`,
		`testdata/catalog-invalid.yml:18:5: unknown key "rebot" in a patch (did you mean "reboot"?)`,
		`testdata/catalog-invalid.yml:12:5: patch dup: method rpm needs verify.packages`,
		`testdata/catalog-invalid.yml:19:5: patch id "dup" is listed twice, first at line 12`,
		`testdata/catalog-invalid.yml:25:5: patch is missing id, severity, arrived, files, method`,
	}
	got := make([]string, len(verr.Problems))
	for i, p := range verr.Problems {
		got[i] = p.In(i18n.EN)
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, w) }) {
			t.Errorf("missing problem %q", w)
		}
	}
	if len(got) != len(want)+1 {
		t.Errorf("got %d problems, want %d (the second dup entry also lacks applies_to.product):\n%s", len(got), len(want)+1, strings.Join(got, "\n"))
	}
	if zh := verr.In(i18n.ZH); !strings.Contains(zh, "补丁编号 \"dup\" 重复出现") {
		t.Errorf("Chinese messages missing:\n%s", zh)
	}
}
