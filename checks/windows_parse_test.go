package checks

import (
	"testing"
	"time"

	"patrol/module"
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// Case 14: wmic qfe list output from a US host. 7/3/2017 is 3 July, not 7 March.
func TestParseHotfixListingCase14(t *testing.T) {
	listing := ParseHotfixListing(readTestdata(t, "case14-wmic-qfe-list.txt"))
	want := []struct {
		id   string
		date time.Time
	}{
		{"KB2999226", date(2017, time.June, 30)},
		{"KB3000483", date(2017, time.July, 3)},
	}
	if len(listing.Hotfixes) != len(want) {
		t.Fatalf("got %d hotfixes, want %d: %+v", len(listing.Hotfixes), len(want), listing.Hotfixes)
	}
	for i, w := range want {
		h := listing.Hotfixes[i]
		if h.ID != w.id || !h.DateKnown || !h.InstalledOn.Equal(w.date) || h.DateAmbiguous {
			t.Errorf("hotfix %d = %+v, want %s on %s", i, h, w.id, w.date.Format("2006-01-02"))
		}
	}
}

func TestParseHotfixListingPublicWufuc(t *testing.T) {
	listing := ParseHotfixListing(readTestdata(t, "public-wufuc92-wmic-qfe-list.txt"))
	if len(listing.Hotfixes) != 32 {
		t.Fatalf("got %d hotfixes, want 32", len(listing.Hotfixes))
	}
	for _, h := range listing.Hotfixes {
		if !h.DateKnown {
			t.Errorf("%s: date %q not read", h.ID, h.InstalledOnRaw)
		}
	}
	if h := listing.Hotfixes[5]; h.ID != "KB2973351" || !h.InstalledOn.Equal(date(2017, time.July, 3)) {
		t.Errorf("hotfix 5 = %+v, want KB2973351 on 2017-07-03", h)
	}
}

// A Chinese 2012 R2 host: culture yyyy/M/d, one blank InstalledOn, one value in
// the US form WMI also writes, and one hexadecimal FILETIME.
func TestParseHotfixListingChineseHost(t *testing.T) {
	listing := ParseHotfixListing(readTestdata(t, "constructed-win2012r2-zh-hotfix-probe.txt"))
	if listing.Culture != (HostCulture{Name: "zh-CN", ShortDatePattern: "yyyy/M/d"}) || !listing.RebootPending {
		t.Fatalf("culture %+v, reboot pending %t", listing.Culture, listing.RebootPending)
	}
	want := []Hotfix{
		{ID: "KB2919355", Description: "Update", InstalledBy: `NT AUTHORITY\SYSTEM`, InstalledOnRaw: "2014/3/18", InstalledOn: date(2014, time.March, 18), DateKnown: true},
		{ID: "KB3000850", Description: "Update"},
		{ID: "KB4012213", Description: "Security Update", InstalledBy: `NT AUTHORITY\SYSTEM`, InstalledOnRaw: "3/14/2017", InstalledOn: date(2017, time.March, 14), DateKnown: true},
		{ID: "KB4556853", Description: "Security Update", InstalledBy: `WIN-SEALDB1\Administrator`, InstalledOnRaw: "2020/5/12", InstalledOn: date(2020, time.May, 12), DateKnown: true},
		{ID: "KB890830", Description: "Update", InstalledBy: `NT AUTHORITY\SYSTEM`, InstalledOnRaw: "01d5f2c3a1b2c3d4", InstalledOn: date(2020, time.March, 5), DateKnown: true},
	}
	if len(listing.Hotfixes) != len(want) {
		t.Fatalf("got %d hotfixes, want %d: %+v", len(listing.Hotfixes), len(want), listing.Hotfixes)
	}
	for i, w := range want {
		if listing.Hotfixes[i] != w {
			t.Errorf("hotfix %d = %+v\nwant %+v", i, listing.Hotfixes[i], w)
		}
	}
}

func TestParseInstalledOn(t *testing.T) {
	tests := []struct {
		raw, pattern  string
		want          time.Time
		ok, ambiguous bool
	}{
		{"6/30/2017", "", date(2017, 6, 30), true, false},
		{"7/3/2017", "M/d/yyyy", date(2017, 7, 3), true, false},
		{"7/3/2017", "yyyy/M/d", date(2017, 7, 3), true, false},
		{"2017/7/3", "yyyy/M/d", date(2017, 7, 3), true, false},
		{"2017-07-03", "yyyy/M/d", date(2017, 7, 3), true, false},
		{"03.07.2017", "dd.MM.yyyy", date(2017, 7, 3), true, false},
		{"7/3/2017", "d/M/yyyy", date(2017, 3, 7), true, true},
		{"30/6/2017", "d/M/yyyy", date(2017, 6, 30), true, false},
		{"6/30/2017 12:00:00 AM", "", date(2017, 6, 30), true, false},
		{"", "M/d/yyyy", time.Time{}, false, false},
		{"   ", "M/d/yyyy", time.Time{}, false, false},
		{"2/30/2017", "M/d/yyyy", time.Time{}, false, false},
		{"unknown", "M/d/yyyy", time.Time{}, false, false},
		{"01d5f2c3a1b2c3d4", "", date(2020, 3, 5), true, false},
	}
	for _, tt := range tests {
		got, ok, amb := ParseInstalledOn(tt.raw, tt.pattern)
		if !got.Equal(tt.want) || ok != tt.ok || amb != tt.ambiguous {
			t.Errorf("ParseInstalledOn(%q, %q) = %v, %t, %t; want %v, %t, %t", tt.raw, tt.pattern, got, ok, amb, tt.want, tt.ok, tt.ambiguous)
		}
	}
}

func TestEvaluateHotfixes(t *testing.T) {
	listing := ParseHotfixListing(readTestdata(t, "constructed-win2012r2-zh-hotfix-probe.txt"))
	opts := hotfixOptions{
		Required:  []string{"kb4012213", "3000850", "KB5000001"},
		MaxAge:    45 * 24 * time.Hour,
		HasMaxAge: true,
		Now:       date(2020, time.June, 30),
	}
	findings := EvaluateHotfixes(listing, opts)
	want := []struct {
		item   string
		status module.Status
	}{
		{"installed hotfixes", module.StatusWarn}, // newest 2020-05-12 is 49 days old
		{"KB4012213", module.StatusOK},
		{"KB3000850", module.StatusOK}, // blank date, still installed
		{"KB5000001", module.StatusWarn},
	}
	if len(findings) != len(want) {
		t.Fatalf("got %d findings: %+v", len(findings), findings)
	}
	for i, w := range want {
		f := findings[i]
		if f.Item != w.item || f.Status != w.status || f.Message.EN == "" || f.Message.ZH == "" || f.Value.ZH == "" {
			t.Errorf("finding %d = %s %s %q; want %s %s", i, f.Item, f.Status, f.Message.EN, w.item, w.status)
		}
	}
	if findings[0].Metrics["date_unknown"] != 1 || findings[0].Metrics["newest_age_days"] != 49 {
		t.Errorf("summary metrics = %v", findings[0].Metrics)
	}
	if findings[2].Value.EN != "installed date unknown" {
		t.Errorf("KB3000850 value = %q", findings[2].Value.EN)
	}

	// Without a pending reboot the missing KB fails.
	listing.RebootPending = false
	if f := EvaluateHotfixes(listing, opts)[3]; f.Status != module.StatusFail {
		t.Errorf("missing KB without a pending reboot = %s, want fail", f.Status)
	}
}

func TestParseWinLogicalDisks(t *testing.T) {
	rows, skipped, err := ParseWinLogicalDisks(readTestdata(t, "constructed-win2012r2-logicaldisk.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := []DFRow{
		{Filesystem: "", Type: "NTFS", Total: 128034672640, Used: 128034672640 - 9431904256, Avail: 9431904256, UsePercent: 93, Mount: "C:"},
		{Filesystem: "数据", Type: "NTFS", Total: 536867876864, Used: 536867876864 - 338274488320, Avail: 338274488320, UsePercent: 37, Mount: "D:"},
	}
	if len(rows) != len(want) {
		t.Fatalf("got %+v", rows)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, rows[i], want[i])
		}
	}
	if len(skipped) != 1 {
		t.Errorf("skipped = %q, want the E: drive without a size", skipped)
	}

	findings := evaluateDisk(diskUsage{Blocks: rows}, diskOptions{Threshold: HigherIsWorse(80, 90, "%")})
	if len(findings) != 2 || findings[0].Status != module.StatusFail || findings[1].Status != module.StatusOK {
		t.Errorf("findings = %+v", findings)
	}
}

func TestParseCSVRecordsForms(t *testing.T) {
	in := "\xef\xbb\xbf#TYPE Selected.System.Management.ManagementObject\r\n\"Name\",\"Enabled\"\r\n\"Domain\",\"True\"\r\n\r\n"
	recs, err := parseCSVRecords([]byte(in))
	if err != nil || len(recs) != 1 || recs[0]["Name"] != "Domain" || recs[0]["Enabled"] != "True" {
		t.Errorf("records = %v, %v", recs, err)
	}
	if _, err := parseCSVRecords([]byte("\"a\",\"b\n\"x")); err == nil {
		t.Error("broken quoting was accepted")
	}
}

func TestEvaluateWinServices(t *testing.T) {
	services, err := ParseWinServices(readTestdata(t, "constructed-win2012r2-zh-services.txt"))
	if err != nil || len(services) != 10 {
		t.Fatalf("services = %d, %v", len(services), err)
	}

	units := []string{"OracleServiceORCL", "winrm", "打印后台处理程序", "MSSQLSERVER"}
	got := EvaluateWinServices(units, services, true)
	want := []struct {
		item   string
		status module.Status
	}{
		{"OracleServiceORCL", module.StatusFail}, // stopped
		{"WinRM", module.StatusOK},
		{"Spooler", module.StatusFail}, // found by its Chinese name; running but Manual
		{"MSSQLSERVER", module.StatusFail},
	}
	for i, w := range want {
		if got[i].Item != w.item || got[i].Status != w.status {
			t.Errorf("finding %d = %s %s %q; want %s %s", i, got[i].Item, got[i].Status, got[i].Message.EN, w.item, w.status)
		}
	}
	if got[2].Message.ZH != "服务 Spooler (打印后台处理程序) 正在运行，但启动类型为手动，应为自动；重启后不会自动启动" {
		t.Errorf("Chinese message = %q", got[2].Message.ZH)
	}

	stopped := EvaluateStoppedAutoServices(services, defaultIgnoredWinServices)
	if len(stopped) != 1 || stopped[0].Item != "OracleServiceORCL" {
		t.Errorf("stopped automatic services = %+v, want only OracleServiceORCL", stopped)
	}
	all := EvaluateStoppedAutoServices(services, nil)
	if len(all) != 4 {
		t.Errorf("without ignore patterns %d stopped, want 4", len(all))
	}
}

func TestEvaluateFirewallProfiles(t *testing.T) {
	profiles, err := ParseFirewallProfiles(readTestdata(t, "constructed-win2012r2-firewall-profiles.csv"))
	if err != nil {
		t.Fatal(err)
	}
	got := EvaluateFirewallProfiles(profiles)
	want := []module.Status{module.StatusOK, module.StatusOK, module.StatusFail}
	for i, w := range want {
		if got[i].Status != w {
			t.Errorf("%s = %s, want %s", got[i].Item, got[i].Status, w)
		}
	}
	if got := EvaluateFirewallProfiles(profiles[:2]); got[2].Status != module.StatusError {
		t.Errorf("unlisted Public profile = %s, want error", got[2].Status)
	}
}

func TestEvaluateRebootSignals(t *testing.T) {
	s := ParseRebootSignals(readTestdata(t, "constructed-win2012r2-reboot-signals.txt"))
	if s.CBS || !s.WindowsUpdate || s.ComputerRename || len(s.FileRenames) != 2 || len(s.Missing) != 0 {
		t.Fatalf("signals = %+v", s)
	}
	if f := EvaluateRebootSignals(s, false, false); f.Status != module.StatusWarn || f.Value.ZH != "等待重启" {
		t.Errorf("pending = %s %q", f.Status, f.Value.ZH)
	}
	if f := EvaluateRebootSignals(s, true, false); f.Status != module.StatusFail {
		t.Errorf("pending with fail = %s", f.Status)
	}

	s.WindowsUpdate = false
	if f := EvaluateRebootSignals(s, true, false); f.Status != module.StatusWarn {
		t.Errorf("file renames alone = %s, want warn", f.Status)
	}
	if f := EvaluateRebootSignals(s, true, true); f.Status != module.StatusOK {
		t.Errorf("file renames ignored = %s, want ok", f.Status)
	}

	cut := ParseRebootSignals([]byte("\r\nComponentBasedServicing : False\r\n"))
	if f := EvaluateRebootSignals(cut, false, false); f.Status != module.StatusError {
		t.Errorf("cut-short output = %s, want error", f.Status)
	}
}
