package checks

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"patrol/module"
	"patrol/transport/winrmconn"
)

// Tests on output that Windows hosts printed and that others published:
// firewall profiles from netsh (Chinese and English), the boot time from
// Win32_OperatingSystem, and install dates from a Chinese host's
// Win32_QuickFixEngineering. testdata/README.md names the source of each
// public-win* file.

// wantProfile is one profile as the parser must read it.
type wantProfile struct {
	name    string
	enabled string
}

func TestParseNetshFirewallRecordings(t *testing.T) {
	tests := []struct {
		file string
		want []wantProfile
		// statuses are the findings of EvaluateFirewallProfiles, in the
		// order Domain, Private, Public.
		statuses []module.Status
	}{
		{
			// Chinese Windows 7 writes the ON state as 打开.
			file:     "public-win7-zh-netsh-advfirewall-show-allprofiles.txt",
			want:     []wantProfile{{"Domain", "True"}, {"Private", "True"}, {"Public", "True"}},
			statuses: []module.Status{module.StatusOK, module.StatusOK, module.StatusOK},
		},
		{
			// Newer Chinese Windows writes the ON state as 启用. `show
			// currentprofile` lists only the profile in use.
			file:     "public-win-zh-netsh-advfirewall-show-currentprofile.txt",
			want:     []wantProfile{{"Public", "True"}},
			statuses: []module.Status{module.StatusError, module.StatusError, module.StatusOK},
		},
		{
			file:     "public-win-netsh-advfirewall-show-currentprofile-off.txt",
			want:     []wantProfile{{"Domain", "False"}},
			statuses: []module.Status{module.StatusFail, module.StatusError, module.StatusError},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			profiles, err := ParseNetshFirewallProfiles(readTestdata(t, tt.file))
			if err != nil {
				t.Fatalf("ParseNetshFirewallProfiles: %v", err)
			}
			if len(profiles) != len(tt.want) {
				t.Fatalf("got %d profiles %+v, want %d", len(profiles), profiles, len(tt.want))
			}
			for i, w := range tt.want {
				if profiles[i].Name != w.name || profiles[i].Enabled != w.enabled {
					t.Errorf("profile %d = %+v, want %s %s", i, profiles[i], w.name, w.enabled)
				}
			}

			findings := EvaluateFirewallProfiles(profiles)
			if len(findings) != len(tt.statuses) {
				t.Fatalf("got %d findings, want %d", len(findings), len(tt.statuses))
			}
			for i, want := range tt.statuses {
				if findings[i].Status != want {
					t.Errorf("%s = %s %q, want %s", findings[i].Item, findings[i].Status, findings[i].Message.EN, want)
				}
			}
		})
	}
}

// The Chinese recordings were published as UTF-8, but netsh writes the OEM
// code page, GBK (936) on Chinese Windows. The bytes go through the WinRM
// transport's decoder as they would arrive, alone and after a UTF-8 line.
func TestNetshChineseRecordingThroughGBK(t *testing.T) {
	for _, file := range []string{
		"public-win7-zh-netsh-advfirewall-show-allprofiles.txt",
		"public-win-zh-netsh-advfirewall-show-currentprofile.txt",
	} {
		t.Run(file, func(t *testing.T) {
			text := readTestdata(t, file)
			gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes(text)
			if err != nil {
				t.Fatalf("encode to GBK: %v", err)
			}
			if bytes.Equal(gbk, text) {
				t.Fatal("the recording has no Chinese text, so GBK is not exercised")
			}

			for _, forced := range []bool{true, false} {
				decoded := winrmconn.DecodeOutput(gbk, forced)
				if decoded != string(text) {
					t.Fatalf("DecodeOutput(utf8Forced=%t) changed the text:\n%q", forced, decoded)
				}
			}

			// A PowerShell probe prints its own lines as UTF-8 before netsh
			// writes GBK to the same stream.
			mixed := append([]byte("Culture=zh-CN 中文\r\n"), gbk...)
			decoded := winrmconn.DecodeOutput(mixed, true)
			want := "Culture=zh-CN 中文\r\n" + string(text)
			if decoded != want {
				t.Fatalf("mixed UTF-8 and GBK output decoded as\n%q", decoded)
			}

			fromGBK, err := ParseNetshFirewallProfiles([]byte(decoded))
			if err != nil {
				t.Fatalf("parse after decoding: %v", err)
			}
			fromUTF8, err := ParseNetshFirewallProfiles(text)
			if err != nil {
				t.Fatalf("parse the recording: %v", err)
			}
			if len(fromGBK) != len(fromUTF8) {
				t.Fatalf("after GBK %+v, as recorded %+v", fromGBK, fromUTF8)
			}
			for i := range fromUTF8 {
				if fromGBK[i] != fromUTF8[i] {
					t.Errorf("profile %d after GBK %+v, as recorded %+v", i, fromGBK[i], fromUTF8[i])
				}
			}
		})
	}
}

func TestParseNetshFirewallRejectsUnknownState(t *testing.T) {
	text := strings.Replace(string(readTestdata(t, "public-win-netsh-advfirewall-show-currentprofile-off.txt")), "OFF", "AUS", 1)
	_, err := ParseNetshFirewallProfiles([]byte(text))
	if err == nil {
		t.Fatal("a state word in an unknown language was accepted")
	}
	for _, part := range []string{"line 4", `"AUS"`, "Domain"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not name %s", err, part)
		}
	}

	if _, err := ParseNetshFirewallProfiles([]byte("\r\nThe Windows Firewall service is not running.\r\n")); err == nil {
		t.Error("output without any profile was accepted")
	}
}

// The firewall probe prints netsh output on hosts without
// Get-NetFirewallProfile (Windows Server 2008 R2), and the check reads it.
func TestFirewallProbeReadsNetsh(t *testing.T) {
	env, conn := windowsEnv(t)
	conn.replies = []replay{{"Get-NetFirewallProfile", readTestdata(t, "public-win7-zh-netsh-advfirewall-show-allprofiles.txt")}}
	res := runCheck(t, env, firewallCheck, nil)

	want := []string{"Domain profile ok", "Private profile ok", "Public profile ok"}
	if len(res.Findings) != len(want) {
		t.Fatalf("findings = %+v", res.Findings)
	}
	for i, w := range want {
		f := res.Findings[i]
		if f.Item+" "+string(f.Status) != w {
			t.Errorf("finding %d = %s %s, want %s", i, f.Item, f.Status, w)
		}
	}
	if res.Findings[1].ItemTitle.ZH != "专用配置文件" {
		t.Errorf("Chinese title = %q", res.Findings[1].ItemTitle.ZH)
	}
	if !strings.Contains(conn.scripts[0], "netsh advfirewall show allprofiles state") {
		t.Error("the firewall probe has no netsh fallback")
	}
}

func TestParseDMTFDateTime(t *testing.T) {
	tests := []struct {
		raw  string
		want time.Time
		ok   bool
	}{
		{"20171019094424.510250+000", time.Date(2017, 10, 19, 9, 44, 24, 510250000, time.UTC), true},
		// UTC+8 (China): 08:03:21 local is 00:03:21 UTC.
		{"20190612080321.500000+480", time.Date(2019, 6, 12, 0, 3, 21, 500000000, time.UTC), true},
		{"20190612080321.500000-300", time.Date(2019, 6, 12, 13, 3, 21, 500000000, time.UTC), true},
		{"20190612080321", time.Time{}, false},
		{"2019061208032a.500000+480", time.Time{}, false},
		{"20190612080321.500000+4x0", time.Time{}, false},
		{"20191312080321.500000+480", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tt := range tests {
		got, err := ParseDMTFDateTime(tt.raw)
		if (err == nil) != tt.ok || !got.Equal(tt.want) {
			t.Errorf("ParseDMTFDateTime(%q) = %v, %v; want %v, ok %t", tt.raw, got, err, tt.want, tt.ok)
		}
	}
}

// The real wmic listing has LastBootUpTime and LocalDateTime in DMTF form,
// the form the uptime probe prints, and one value wrapped at 80 columns.
func TestParseWinUptimeWmicRecording(t *testing.T) {
	raw := readTestdata(t, "public-win2003r2-wmic-os-list.txt")
	// wmic ends its lines with CR CR LF when its output is redirected.
	crcrlf := bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\r\r\n"))

	for name, out := range map[string][]byte{"CRLF": raw, "CR CR LF": crcrlf} {
		t.Run(name, func(t *testing.T) {
			up, missing := ParseWinUptime(out)
			if missing != "" {
				t.Fatalf("missing %q", missing)
			}
			wantBoot := time.Date(2017, 10, 19, 9, 44, 24, 510250000, time.UTC)
			if !up.Boot.Equal(wantBoot) {
				t.Errorf("boot = %v, want %v", up.Boot, wantBoot)
			}
			wantUptime := time.Hour + 56*time.Minute + 32*time.Second + 198750*time.Microsecond
			if up.Uptime != wantUptime {
				t.Errorf("uptime = %v, want %v", up.Uptime, wantUptime)
			}
			if up.ShutdownEventsChecked || len(up.UnexpectedShutdowns) != 0 {
				t.Errorf("shutdown events = %t %q, want none checked", up.ShutdownEventsChecked, up.UnexpectedShutdowns)
			}

			f := EvaluateUptime(up, 24*time.Hour, 0)
			if f.Status != module.StatusWarn {
				t.Errorf("status = %s, want warn for a boot 1h56m ago", f.Status)
			}
			// The boot at 09:44:24 UTC is shown in the client's zone, UTC+8.
			wantEN := "the host booted 1h 56m ago (booted 2017-10-19 17:44:24); check with the team whether the reboot was planned"
			if f.Message.EN != wantEN {
				t.Errorf("message = %q\nwant      %q", f.Message.EN, wantEN)
			}
		})
	}
}

func TestParseWinUptimeRejectsCutRecording(t *testing.T) {
	raw := string(readTestdata(t, "public-win2003r2-wmic-os-list.txt"))
	cut, _, _ := strings.Cut(raw, "LocalDateTime=")
	if _, missing := ParseWinUptime([]byte(cut)); missing != "LocalDateTime" {
		t.Errorf("missing = %q, want LocalDateTime", missing)
	}
	bad := strings.Replace(raw, "LastBootUpTime=20171019094424", "LastBootUpTime=2017101909442x", 1)
	if _, missing := ParseWinUptime([]byte(bad)); missing != "LastBootUpTime" {
		t.Errorf("missing = %q, want LastBootUpTime", missing)
	}
}

func TestUptimeProbePrintsDMTF(t *testing.T) {
	for _, part := range []string{"ToDmtfDateTime", `"LastBootUpTime=`, `"LocalDateTime=`} {
		if !strings.Contains(winUptimeScript, part) {
			t.Errorf("the uptime probe lacks %s", part)
		}
	}
}

// qfeTableRow is one row of a Get-WmiObject Win32_QuickFixEngineering table.
type qfeTableRow struct {
	id, description, installedOn string
}

// readQFETable cuts the default table that PowerShell prints for
// Win32_QuickFixEngineering at the columns its header line gives. The table
// is not the hotfix probe's format, so only its values are fed to the parser.
func readQFETable(t *testing.T, out []byte) []qfeTableRow {
	t.Helper()
	lines := strings.Split(strings.ReplaceAll(string(out), "\r\n", "\n"), "\n")
	header := lines[0]
	col := func(name string) int {
		i := strings.Index(header, name)
		if i < 0 {
			t.Fatalf("column %s not in header %q", name, header)
		}
		return i
	}
	desc, id, by, on := col("Description"), col("HotFixID"), col("InstalledBy"), col("InstalledOn")

	var rows []qfeTableRow
	for _, line := range lines[2:] {
		if strings.TrimSpace(line) == "" {
			continue
		}
		rows = append(rows, qfeTableRow{
			description: strings.TrimSpace(line[desc:id]),
			id:          strings.TrimSpace(line[id:by]),
			installedOn: strings.TrimSpace(line[on:]),
		})
	}
	return rows
}

// A Chinese host shows InstalledOn in its culture, year first (yyyy/M/d),
// with a time; the parser reads the date with the culture's pattern.
func TestInstalledOnChineseRecording(t *testing.T) {
	rows := readQFETable(t, readTestdata(t, "public-win10-zh-get-wmiobject-qfe.txt"))
	want := []struct {
		id   string
		date time.Time
	}{
		{"KB4483452", date(2019, time.February, 14)},
		{"KB4465477", date(2018, time.October, 30)},
		{"KB4465664", date(2018, time.November, 16)},
		{"KB4469041", date(2018, time.December, 7)},
		{"KB4470502", date(2018, time.December, 18)},
		{"KB4470788", date(2018, time.November, 17)},
		{"KB4471331", date(2018, time.December, 7)},
		{"KB4480056", date(2019, time.January, 10)},
		{"KB4480979", date(2019, time.January, 10)},
		{"KB4487038", date(2019, time.February, 14)},
		{"KB4482887", date(2019, time.February, 21)},
	}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d: %+v", len(rows), len(want), rows)
	}

	listing := HotfixListing{Culture: HostCulture{Name: "zh-CN", ShortDatePattern: "yyyy/M/d"}}
	for i, w := range want {
		r := rows[i]
		got, ok, ambiguous := ParseInstalledOn(r.installedOn, listing.Culture.ShortDatePattern)
		if r.id != w.id || !ok || ambiguous || !got.Equal(w.date) {
			t.Errorf("row %d: %s %q read as %v ok=%t ambiguous=%t; want %s on %s",
				i, r.id, r.installedOn, got, ok, ambiguous, w.id, w.date.Format("2006-01-02"))
		}
		listing.Hotfixes = append(listing.Hotfixes, Hotfix{
			ID: r.id, Description: r.description, InstalledOnRaw: r.installedOn,
			InstalledOn: got, DateKnown: ok, DateAmbiguous: ambiguous,
		})
	}

	// Without the culture the year-first dates are not read as month-first.
	if _, ok, _ := ParseInstalledOn(rows[0].installedOn, ""); ok {
		t.Errorf("%q read without a culture pattern", rows[0].installedOn)
	}

	opts := hotfixOptions{
		Required:  []string{"KB4487038", "KB4489899"},
		MaxAge:    45 * 24 * time.Hour,
		HasMaxAge: true,
		Now:       date(2019, time.April, 15),
	}
	findings := EvaluateHotfixes(listing, opts)
	wantFindings := []struct {
		item, valueEN string
		status        module.Status
	}{
		{"installed hotfixes", "11 installed, newest 2019-02-21", module.StatusWarn},
		{"KB4487038", "installed 2019-02-14", module.StatusOK},
		{"KB4489899", "not installed", module.StatusFail},
	}
	if len(findings) != len(wantFindings) {
		t.Fatalf("got %d findings: %+v", len(findings), findings)
	}
	for i, w := range wantFindings {
		f := findings[i]
		if f.Item != w.item || f.Value.EN != w.valueEN || f.Status != w.status {
			t.Errorf("finding %d = %s %q %s, want %s %q %s", i, f.Item, f.Value.EN, f.Status, w.item, w.valueEN, w.status)
		}
	}
	if got := findings[0].Metrics["newest_age_days"]; got != 53 {
		t.Errorf("newest_age_days = %v, want 53", got)
	}
	if got := findings[0].Value.ZH; got != "已安装 11 个，最近一次 2019-02-21" {
		t.Errorf("Chinese value = %q", got)
	}
}

func TestParseFirewallProbeChoosesFormat(t *testing.T) {
	tests := []struct {
		file, source string
		profiles     int
	}{
		{"constructed-win2012r2-firewall-profiles.csv", "Get-NetFirewallProfile", 3},
		{"public-win7-zh-netsh-advfirewall-show-allprofiles.txt", "netsh advfirewall", 3},
		{"public-win-netsh-advfirewall-show-currentprofile-off.txt", "netsh advfirewall", 1},
	}
	for _, tt := range tests {
		profiles, source, err := parseFirewallProbe(readTestdata(t, tt.file))
		if err != nil || source != tt.source || len(profiles) != tt.profiles {
			t.Errorf("%s: %d profiles from %q, %v; want %d from %q", tt.file, len(profiles), source, err, tt.profiles, tt.source)
		}
	}

	profiles, source, err := parseFirewallProbe([]byte("\r\n"))
	if err != nil || len(profiles) != 0 || source != "Get-NetFirewallProfile" {
		t.Errorf("empty output = %+v from %q, %v; want no profiles and no error", profiles, source, err)
	}
}
