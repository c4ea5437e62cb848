package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// complianceCatalog lists three rpm patches of the test packages: one the
// rpm root has (met), one still missing years after its deadline (missed)
// and one missing that arrived now (pending).
const complianceCatalog = `repository: repo
patches:
  - id: RHSA-test-base
    title: test base
    severity: urgent
    arrived: %[1]s
    applies_to: {os: [centos7], systems: [seal]}
    method: rpm
    files:
      - {path: centos7/patrol-test-base-1-1.x86_64.rpm, sha256: 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824}
    verify: {packages: [patrol-test-base-1-1.x86_64]}
    rollback: none
  - id: RHSA-test-old
    title: test app, long overdue
    severity: normal
    arrived: 2020-01-06T09:00:00+08:00
    applies_to: {os: [centos7], systems: [seal]}
    method: rpm
    files:
      - {path: centos7/patrol-test-app-1.1-1.noarch.rpm, sha256: 486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7}
    verify: {packages: [patrol-test-app-1.1-1.noarch]}
    rollback: none
  - id: RHSA-test-new
    title: test app, just arrived
    severity: serious
    arrived: %[1]s
    applies_to: {os: [centos7], systems: [seal]}
    method: rpm
    files:
      - {path: centos7/patrol-test-app-1.1-1.noarch.rpm, sha256: 486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7}
    verify: {packages: [patrol-test-app-1.1-1.noarch]}
    rollback: none
`

// TestInspectMonthlyPatchCompliance runs the monthly inspection with a
// catalog on two local hosts: one whose rpm root holds the test packages,
// and one whose rpm_root is a plain file, so rpm cannot read it. The report
// must show each verdict, and patrol report must show the same section from
// the journal alone.
func TestInspectMonthlyPatchCompliance(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	rpms := buildTestRPMs(t)
	root := filepath.Join(dir, "root")
	runCmd(t, "rpm", "--root", root, "--dbpath", rpmDBPath, "--initdb")
	runCmd(t, "rpm", "--root", root, "--dbpath", rpmDBPath, "-i", rpms.base, rpms.app10)
	// Debian's rpm keeps its database under $HOME unless told otherwise.
	userHome := t.TempDir()
	writeFile(t, filepath.Join(userHome, ".rpmmacros"), "%_dbpath "+rpmDBPath+"\n")
	notRoot := writeFile(t, filepath.Join(dir, "not-a-root"), "")

	arrived := time.Now().Add(-time.Hour).Format(time.RFC3339)
	catalog := writeFile(t, filepath.Join(dir, "catalog.yml"), fmt.Sprintf(complianceCatalog, arrived))
	inv := writeFile(t, filepath.Join(dir, "inventory.yml"), fmt.Sprintf(`hosts:
  seal-app:
    connection: local
    os: centos7
    system: seal
    vars: {rpm_root: %s}
  seal-broken:
    connection: local
    os: centos7
    system: seal
    vars: {rpm_root: %s}
`, root, notRoot))
	env := []string{"PATROL_HOME=" + home, "PATROL_INVENTORY=", "PATROL_LANG=", "PATROL_CALENDAR=", "HOME=" + userHome}
	out := filepath.Join(dir, "report")

	res := runPatrolEnv(t, env, dir, "inspect", "monthly", "-i", inv, "--catalog", catalog, "--out", out)

	// The checks decide the exit code; neither the missed patch nor the
	// host rpm cannot read may make it 2 or 3.
	if res.code != exitOK && res.code != exitFailed {
		t.Fatalf("exit code = %d, want 0 or 1\nstderr:\n%s", res.code, res.stderr)
	}
	md := readFile(t, filepath.Join(out, "report.md"))
	section := patchSection(t, md)
	for _, want := range []string{
		"| RHSA-test-base | test base | 紧急 | seal-app |",
		"| RHSA-test-old | test app, long overdue | 普通 | seal-app | 2020-01-06 09:00 | 2020-01-08 18:00 | 未安装 | **超期** |",
		"| RHSA-test-new | test app, just arrived | 严重 | seal-app |",
		"| RHSA-test-base | test base | 紧急 | seal-broken |",
		"| RHSA-test-old | test app, long overdue | 普通 | seal-broken |",
	} {
		if !strings.Contains(section, want) {
			t.Errorf("patch section lacks %q:\n%s", want, section)
		}
	}
	wantVerdicts := map[string]string{
		"RHSA-test-base/seal-app": "按期完成", "RHSA-test-old/seal-app": "**超期**", "RHSA-test-new/seal-app": "待安装",
		"RHSA-test-base/seal-broken": "**未知**", "RHSA-test-old/seal-broken": "**未知**", "RHSA-test-new/seal-broken": "**未知**",
	}
	if got := sectionVerdicts(section); !maps.Equal(got, wantVerdicts) {
		t.Errorf("verdicts = %v, want %v", got, wantVerdicts)
	}
	if !strings.Contains(md, "| 6 | 1 | 1 | 1 | 3 |") {
		t.Errorf("report.md summary lacks the patch counts 6/1/1/1/3:\n%s", md[:min(len(md), 2000)])
	}

	var rep struct {
		Patches struct {
			Rows []struct {
				Patch   string `json:"patch"`
				Host    string `json:"host"`
				Verdict string `json:"verdict"`
			} `json:"rows"`
		} `json:"patch_compliance"`
	}
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(out, "report.json"))), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Patches.Rows) != 6 {
		t.Errorf("report.json has %d patch rows, want 6", len(rep.Patches.Rows))
	}

	if res := runPatrolEnv(t, env, dir, "journal", "verify"); res.code != exitOK {
		t.Errorf("journal verify: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}

	// Without the rpm root, the host query would now fail: the report must
	// come from the journal.
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	again := filepath.Join(dir, "again")
	res = runPatrolEnv(t, env, dir, "report", "--out", again)
	if res.code != exitOK {
		t.Fatalf("report: exit %d\n%s", res.code, res.stderr)
	}
	t.Logf("patch section:\n%s", section)
	if got := patchSection(t, readFile(t, filepath.Join(again, "report.md"))); got != section {
		t.Errorf("patrol report renders another patch section:\n%s\nwant:\n%s", got, section)
	}
}

// patchSection returns the patch compliance section of a Chinese report.md.
func patchSection(t *testing.T, md string) string {
	t.Helper()
	start := strings.Index(md, "## 补丁合规\n")
	end := strings.Index(md, "## 检查明细\n")
	if start < 0 || end < start {
		t.Fatalf("report.md has no patch compliance section before the item details:\n%s", md)
	}
	return md[start:end]
}

// sectionVerdicts maps patch/host to the verdict cell of each table row.
func sectionVerdicts(section string) map[string]string {
	got := map[string]string{}
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, " | ")
		if len(cells) < 10 || !strings.HasPrefix(cells[1], "RHSA") {
			continue
		}
		got[cells[1]+"/"+cells[4]] = cells[8]
	}
	return got
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
