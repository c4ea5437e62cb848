package checks

import (
	"errors"
	"strings"
	"testing"
	"time"

	"patrol/i18n"
	"patrol/module"
)

func TestParseYumCheckUpdate(t *testing.T) {
	pkgs := ParseYumCheckUpdate(readTestdata(t, "constructed-yum-check-update-q.txt"))
	want := []PendingPackage{
		{Name: "NetworkManager", Arch: "x86_64", Version: "1:1.18.8-2.el7_9", Repo: "updates"},
		{Name: "bind-libs-lite", Arch: "x86_64", Version: "32:9.11.4-26.P2.el7_9.15", Repo: "updates"},
		{Name: "java-1.8.0-openjdk-headless", Arch: "x86_64", Version: "1:1.8.0.412.b08-1.el7_9", Repo: "updates"},
		{Name: "kernel", Arch: "x86_64", Version: "3.10.0-1160.119.1.el7", Repo: "updates"},
		{Name: "openssl-libs", Arch: "x86_64", Version: "1:1.0.2k-26.el7_9", Repo: "updates"},
	}
	if len(pkgs) != len(want) {
		t.Fatalf("got %d packages %+v, want %d (Obsoleting section and chatter skipped)", len(pkgs), pkgs, len(want))
	}
	for i := range want {
		if pkgs[i] != want[i] {
			t.Errorf("package %d = %+v, want %+v", i, pkgs[i], want[i])
		}
	}
}

// Case 05: yum check-update's exit status is data.
func TestYumReportExitCodes(t *testing.T) {
	list := readTestdata(t, "constructed-yum-check-update-q.txt")
	tests := []struct {
		name       string
		out        probeOutput
		wantError  bool
		wantCount  int
		wantStderr string
	}{
		{name: "100 updates listed", out: probeOutput{Stdout: list, ExitCode: 100}, wantCount: 5},
		{name: "0 no updates", out: probeOutput{Stdout: []byte("Loaded plugins: fastestmirror\n"), ExitCode: 0}, wantCount: 0},
		{
			name:       "1 error is not zero updates",
			out:        probeOutput{Stdout: []byte("Loaded plugins: fastestmirror\n"), Stderr: []byte("Error: Cannot retrieve repository metadata (repomd.xml) for repository: base\n"), ExitCode: 1},
			wantError:  true,
			wantStderr: "Cannot retrieve repository metadata",
		},
		{name: "other status is an error", out: probeOutput{Stderr: []byte("Existing lock /var/run/yum.pid: another copy is running\n"), ExitCode: 200}, wantError: true, wantStderr: "Existing lock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			report, failed := yumReport("yum", tt.out, nil)
			if tt.wantError {
				if failed == nil {
					t.Fatalf("got report %+v, want an error finding", report)
				}
				if failed.Status != module.StatusError {
					t.Errorf("status = %s, want error", failed.Status)
				}
				if !strings.Contains(failed.Message.EN, tt.wantStderr) || !strings.Contains(failed.Message.EN, "not zero") {
					t.Errorf("message %q does not carry stderr and say the count is unknown", failed.Message.EN)
				}
				return
			}
			if failed != nil {
				t.Fatalf("got error finding %+v", failed)
			}
			if len(report.Packages) != tt.wantCount {
				t.Errorf("got %d packages, want %d", len(report.Packages), tt.wantCount)
			}
		})
	}
}

// Case 06: on CentOS "No packages needed for security" is not "security-clean".
func TestYumSecurityCentOS(t *testing.T) {
	for _, file := range []string{"case06-yum-security-centos7.txt", "case06-yum-security-centos67-list.txt"} {
		sec, avail, ok := ParseYumSecuritySummary(readTestdata(t, file))
		if !ok || sec != 0 {
			t.Errorf("%s: summary = %d security, ok %v", file, sec, ok)
		}
		if want := map[string]int{"case06-yum-security-centos7.txt": 28, "case06-yum-security-centos67-list.txt": 7}[file]; avail != want {
			t.Errorf("%s: available = %d, want %d", file, avail, want)
		}
	}

	// The package lines after the sentence are ordinary updates: counted as
	// pending, never as security.
	pkgs := ParseYumCheckUpdate(readTestdata(t, "case06-yum-security-centos67-list.txt"))
	if len(pkgs) != 2 || pkgs[0].Name != "php" || pkgs[0].Security {
		t.Errorf("packages = %+v, want php and php-cli, not security", pkgs)
	}

	pending := make([]PendingPackage, 28)
	report := updateReport{Manager: "yum", Packages: pending, SecurityNote: centosSecurityNote}
	findings := evaluateUpdates(report, countThreshold(1, 0), countThreshold(1, 0))
	if findings[0].Value != i18n.T("28 pending (yum)", "28 个待安装（yum）") || findings[0].Status != module.StatusWarn {
		t.Errorf("updates = %s %q, want warn 28 pending", findings[0].Status, findings[0].Value)
	}
	sec := findings[1]
	if sec.Value != i18n.T("unknown (28 updates pending)", "未知（共 28 个更新待安装）") || sec.Status != module.StatusWarn {
		t.Errorf("security = %s %q, want warn unknown", sec.Status, sec.Value)
	}
	if !strings.Contains(sec.Message.EN, "security status unknown") || !strings.Contains(sec.Message.ZH, "安全更新状态未知") {
		t.Errorf("security message = %+v", sec.Message)
	}

	// With no updates at all, "no security updates" is true even on CentOS.
	clean := evaluateUpdates(updateReport{Manager: "yum", SecurityNote: centosSecurityNote}, countThreshold(1, 0), countThreshold(1, 0))
	if clean[1].Status != module.StatusOK {
		t.Errorf("security with nothing pending = %s, want ok", clean[1].Status)
	}
}

func TestYumSecurityCountErrata(t *testing.T) {
	out := probeOutput{Stdout: []byte("3 package(s) needed for security, out of 28 available\n"), ExitCode: 100}
	if n, known := yumSecurityCount(out); n != 3 || !known {
		t.Errorf("security = %d known %v, want 3", n, known)
	}
}

func TestParseAptRecorded(t *testing.T) {
	pkgs := ParseAptSimulate(readTestdata(t, "debian12-apt-get-s-dist-upgrade.txt"))
	security := 0
	for _, p := range pkgs {
		if p.Security {
			security++
		}
	}
	if len(pkgs) != 128 || security != 86 {
		t.Errorf("got %d packages, %d security; want 128 and 86", len(pkgs), security)
	}
	first := pkgs[0]
	if first.Name == "" || first.Version == "" || first.Arch == "" {
		t.Errorf("first package incomplete: %+v", first)
	}

	listed := ParseAptListUpgradable(readTestdata(t, "debian12-apt-list-upgradable.txt"))
	if len(listed) != 128 {
		t.Errorf("apt list gives %d packages, want the same 128", len(listed))
	}
	for _, p := range listed {
		if p.Name == "apt" && (!p.Security || p.Version != "2.6.2") {
			t.Errorf("apt = %+v, want security 2.6.2", p)
		}
	}
}

func TestParseAptInstLine(t *testing.T) {
	out := []byte("Inst apt [2.6.1] (2.6.2 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64])\n" +
		"Inst newpkg (1.0 Debian:12.15/oldstable [all])\n" +
		"Conf apt (2.6.2 Debian:12.15/oldstable [amd64])\n")
	pkgs := ParseAptSimulate(out)
	if len(pkgs) != 2 {
		t.Fatalf("got %+v, want 2 packages", pkgs)
	}
	if pkgs[0].Name != "apt" || pkgs[0].Version != "2.6.2" || pkgs[0].Arch != "amd64" || !pkgs[0].Security {
		t.Errorf("apt = %+v", pkgs[0])
	}
	if pkgs[1].Name != "newpkg" || pkgs[1].Security || pkgs[1].Arch != "all" {
		t.Errorf("newpkg = %+v", pkgs[1])
	}
}

func TestParseYumObsoletingTranslatedHeader(t *testing.T) {
	// Under a Chinese locale the "Obsoleting Packages" header is translated;
	// the installed "@repo" line still marks the section.
	out := strings.Replace(string(readTestdata(t, "constructed-yum-check-update-q.txt")), "Obsoleting Packages", "废弃的软件包", 1)
	if n := len(ParseYumCheckUpdate([]byte(out))); n != 5 {
		t.Errorf("got %d packages, want 5", n)
	}
}

func TestFormatAge(t *testing.T) {
	tests := map[time.Duration]i18n.Text{
		26 * time.Hour:   i18n.T("1d 2h", "1 天 2 小时"),
		48 * time.Hour:   i18n.T("2d", "2 天"),
		3 * time.Hour:    i18n.T("3h", "3 小时"),
		82 * time.Minute: i18n.T("1h 22m", "1 小时 22 分"),
		90 * time.Second: i18n.T("1m 30s", "1 分 30 秒"),
		40 * time.Second: i18n.T("40s", "40 秒"),
		-5 * time.Hour:   i18n.T("-5h", "-5 小时"),
	}
	for d, want := range tests {
		if got := AgeText(d); got != want {
			t.Errorf("AgeText(%v) = %+v, want %+v", d, got, want)
		}
		if got := FormatAge(d); got != want.EN {
			t.Errorf("FormatAge(%v) = %q, want %q", d, got, want.EN)
		}
	}
}

func TestUpdatesEvidenceKeepsEveryPackage(t *testing.T) {
	pkgs := ParseAptSimulate(readTestdata(t, "debian12-apt-get-s-dist-upgrade.txt"))
	report := updateReport{Manager: "apt-get", Packages: pkgs, Security: 86, SecurityKnown: true}

	findings := evaluateUpdates(report, countThreshold(1, 0), countThreshold(1, 0))

	if len(findings) != 2 {
		t.Fatalf("got %d findings, want updates and security updates", len(findings))
	}
	if n := len(findings[0].Evidence); n != 128 {
		t.Errorf("updates evidence has %d lines, want all 128 packages", n)
	}
	if n := len(findings[1].Evidence); n != 86 {
		t.Errorf("security evidence has %d lines, want all 86 security packages", n)
	}
	for _, line := range findings[0].Evidence {
		if strings.Contains(line, "more") {
			t.Errorf("evidence line %q is a truncation note; the report adds its own in its language", line)
		}
	}
}

// A failed `yum --security check-update` leaves the security count unknown,
// which both languages state alike, and keeps yum's error as evidence.
func TestYumSecurityQueryFailed(t *testing.T) {
	pending := ParseYumCheckUpdate(readTestdata(t, "constructed-yum-check-update-q.txt"))
	out := probeOutput{
		Stderr:   []byte("Error: Cannot retrieve repository metadata (repomd.xml) for repository: base. Please verify its path and try again\n"),
		ExitCode: 1,
	}
	note, evidence := securityQueryFailed("yum", out, nil)
	report := updateReport{Manager: "yum", Packages: pending, SecurityNote: note, SecurityEvidence: evidence}

	f := evaluateUpdates(report, countThreshold(1, 0), countThreshold(1, 0))[1]

	if f.Status != module.StatusWarn {
		t.Errorf("status = %s, want warn for an unknown security count", f.Status)
	}
	if want := "yum --security check-update 执行失败，退出码 1，安全更新数量未知（错误输出见证据）"; f.Message.ZH != want {
		t.Errorf("zh = %q, want %q", f.Message.ZH, want)
	}
	if want := "yum --security check-update failed with exit status 1, so the number of security updates is unknown (error output in the evidence)"; f.Message.EN != want {
		t.Errorf("en = %q, want %q", f.Message.EN, want)
	}
	if len(f.Evidence) != 1 || !strings.Contains(f.Evidence[0], "Cannot retrieve repository metadata") {
		t.Errorf("evidence = %q, want yum's error output", f.Evidence)
	}

	note, evidence = securityQueryFailed("yum", probeOutput{}, errors.New(`run "yum --security check-update": host web1: command timed out (the command was stopped)`))
	if want := "无法执行 yum --security check-update：命令超过时限，已被终止；安全更新数量未知"; note.ZH != want {
		t.Errorf("transport error: zh = %q, want %q", note.ZH, want)
	}
	if len(evidence) != 1 || !strings.Contains(evidence[0], "command timed out") {
		t.Errorf("transport error: evidence = %q", evidence)
	}
}
