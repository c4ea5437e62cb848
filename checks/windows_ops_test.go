package checks

import (
	"os"
	"strings"
	"testing"
	"time"

	"patrol/inventory"
	"patrol/module"
)

func TestParseW32tmStatusPublicUnsynced(t *testing.T) {
	s := ParseW32tmStatus(readTestdata(t, "public-win2022-w32tm-status-unsynced.txt"), "M/d/yyyy")
	if s.Leap != 3 || !s.LeapKnown || s.Stratum != 0 || !s.StratumKnown || s.Source != "Local CMOS Clock" || s.LastSyncKnown {
		t.Errorf("status = %+v", s)
	}
	f := JudgeW32tm(TimeProbe{Service: "Running", Status: s}, 8*24*time.Hour)
	if f.Status != module.StatusFail {
		t.Errorf("unsynchronized clock: status %s, want fail: %s", f.Status, f.Message.EN)
	}
}

// The recording comes from a host whose culture writes dd/MM/yyyy.
func TestParseW32tmStatusPublicDayFirst(t *testing.T) {
	s := ParseW32tmStatus(readTestdata(t, "public-win-ddmmyyyy-w32tm-status.txt"), "dd/MM/yyyy")
	want := time.Date(2023, time.May, 30, 20, 21, 27, 0, time.UTC)
	if !s.LastSyncKnown || !s.LastSync.Equal(want) {
		t.Errorf("last sync = %v (known %t), want %v", s.LastSync, s.LastSyncKnown, want)
	}
	if s.Stratum != 2 || s.Leap != 0 || s.Source != "time.windows.com,0x9" {
		t.Errorf("status = %+v", s)
	}
	if d := s.RootDispersion.Seconds(); d < 7.77 || d > 7.771 {
		t.Errorf("root dispersion = %v", s.RootDispersion)
	}
}

func TestParseTimeProbeChinese(t *testing.T) {
	p := ParseTimeProbe(readTestdata(t, "constructed-win2012r2-zh-time-probe.txt"))
	if p.Culture.Name != "zh-CN" || p.Service != "Running" || !p.LocalTimeKnown {
		t.Fatalf("probe = %+v", p)
	}
	s := p.Status
	if s.Stratum != 3 || s.Source != "192.168.10.1" || !s.LastSync.Equal(time.Date(2020, 6, 1, 9, 12, 45, 0, time.UTC)) {
		t.Errorf("status = %+v", s)
	}
	f := JudgeW32tm(p, 8*24*time.Hour)
	if f.Status != module.StatusOK || !strings.Contains(f.Message.ZH, "192.168.10.1") {
		t.Errorf("finding = %s %s", f.Status, f.Message.ZH)
	}
	if stale := JudgeW32tm(p, 10*time.Minute); stale.Status != module.StatusWarn {
		t.Errorf("17 minutes since sync with max 10m: status %s, want warn", stale.Status)
	}
}

func TestParseTimeProbeServiceStopped(t *testing.T) {
	p := ParseTimeProbe(readTestdata(t, "constructed-win2012r2-zh-time-probe-stopped.txt"))
	if p.Status.ErrorCode != "0x80070426" {
		t.Errorf("error code = %q", p.Status.ErrorCode)
	}
	if f := JudgeW32tm(p, 8*24*time.Hour); f.Status != module.StatusFail {
		t.Errorf("stopped W32Time: status %s, want fail", f.Status)
	}
}

// A line whose label is in neither language is read by its position.
func TestParseW32tmStatusOtherLanguage(t *testing.T) {
	out := "Indicateur de saut : 0(aucun avertissement)\nStrate : 4 (référence secondaire)\nPrécision : -6\nDélai racine : 0.0312500s\nDispersion racine : 7.8s\nID de référence : 0x0A000001\nDernière synchronisation réussie : 2020-06-01 09:12:45\nSource : 10.0.0.1\nIntervalle d'interrogation : 10 (1024s)\n"
	s := ParseW32tmStatus([]byte(out), "")
	if s.Stratum != 4 || s.Source != "10.0.0.1" || !s.LastSyncKnown {
		t.Errorf("status = %+v", s)
	}
}

func TestParseLocalDateTime(t *testing.T) {
	tests := []struct {
		raw, pattern string
		want         time.Time
		ok           bool
	}{
		{"6/1/2020 9:12:45 PM", "M/d/yyyy", time.Date(2020, 6, 1, 21, 12, 45, 0, time.UTC), true},
		{"2020/6/1 下午 9:12:45", "yyyy/M/d", time.Date(2020, 6, 1, 21, 12, 45, 0, time.UTC), true},
		{"2020/6/1 12:05:00 AM", "yyyy/M/d", time.Date(2020, 6, 1, 0, 5, 0, 0, time.UTC), true},
		{"unspecified", "M/d/yyyy", time.Time{}, false},
		{"未指定", "yyyy/M/d", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := parseLocalDateTime(tt.raw, tt.pattern)
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("parseLocalDateTime(%q, %q) = %v, %t; want %v, %t", tt.raw, tt.pattern, got, ok, tt.want, tt.ok)
		}
	}
}

// The parser reads this machine's own /proc/uptime.
func TestParseProcUptimeLocal(t *testing.T) {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("read /proc/uptime: %v", err)
		}
		t.Skipf("no /proc/uptime: %v", err)
	}
	d, ok := ParseProcUptime(b)
	if !ok || d <= 0 {
		t.Errorf("ParseProcUptime(%q) = %v, %t", b, d, ok)
	}
	if _, ok := ParseProcUptime([]byte("abc 1.0")); ok {
		t.Error("non-number read as uptime")
	}
}

func TestParseWinUptime(t *testing.T) {
	up, missing := ParseWinUptime(readTestdata(t, "constructed-win2012r2-uptime-probe.txt"))
	if missing != "" || up.Uptime != 30*time.Minute+40*time.Second || len(up.UnexpectedShutdowns) != 1 || !up.ShutdownEventsChecked {
		t.Fatalf("uptime = %+v, missing %q", up, missing)
	}
	if !strings.Contains(up.UnexpectedShutdowns[0], "关闭是意外的") {
		t.Errorf("Chinese message lost: %q", up.UnexpectedShutdowns[0])
	}
	if _, missing := ParseWinUptime([]byte("Now=2020-06-01T01:30:00Z\n")); missing != "LastBootUpTime" {
		t.Errorf("missing = %q, want LastBootUpTime", missing)
	}
}

func TestEvaluateUptime(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name     string
		up       Uptime
		min, max time.Duration
		want     module.Status
		wantText string
	}{
		{"recent crash", Uptime{Uptime: time.Hour, UnexpectedShutdowns: []string{"6008"}, ShutdownEventsChecked: true}, day, 0, module.StatusWarn, "unexpected"},
		{"recent clean reboot", Uptime{Uptime: time.Hour, ShutdownEventsChecked: true}, day, 0, module.StatusWarn, "clean restart"},
		{"recent reboot on Linux", Uptime{Uptime: time.Hour}, day, 0, module.StatusWarn, "planned"},
		{"long enough", Uptime{Uptime: 3 * day}, day, 90 * day, module.StatusOK, "run 3d"},
		{"too long", Uptime{Uptime: 120 * day}, day, 90 * day, module.StatusWarn, "without a reboot"},
		{"min disabled", Uptime{Uptime: time.Minute}, 0, 0, module.StatusOK, "run 1m"},
	}
	for _, tt := range tests {
		f := EvaluateUptime(tt.up, tt.min, tt.max)
		if f.Status != tt.want || !strings.Contains(f.Message.EN, tt.wantText) || f.Message.ZH == "" {
			t.Errorf("%s: %s %q, want %s containing %q", tt.name, f.Status, f.Message.EN, tt.want, tt.wantText)
		}
	}
}

func TestParseSchedTasks(t *testing.T) {
	tasks, err := ParseSchedTasks(readTestdata(t, "constructed-win2012r2-schedtasks.txt"), "")
	if err != nil || len(tasks) != 5 {
		t.Fatalf("tasks = %+v, err %v", tasks, err)
	}
	if tasks[1].LastResult != 0x80070002 {
		t.Errorf("signed COM result read as 0x%X, want 0x80070002", tasks[1].LastResult)
	}
	if !tasks[2].LastRun.IsZero() {
		t.Errorf("1999-11-30 placeholder read as a run: %v", tasks[2].LastRun)
	}

	at := time.Date(2020, 6, 1, 2, 0, 0, 0, time.UTC)
	want := []module.Status{module.StatusOK, module.StatusFail, module.StatusWarn, module.StatusFail, module.StatusFail}
	for i, task := range tasks {
		f := EvaluateSchedTask(task, 26*time.Hour, at)
		if f.Status != want[i] || f.Message.EN == "" || f.Message.ZH == "" {
			t.Errorf("%s: %s %q, want %s", task.Requested, f.Status, f.Message.EN, want[i])
		}
	}
	if f := EvaluateSchedTask(tasks[0], 6*time.Hour, at); f.Status != module.StatusFail {
		t.Errorf("backup 8h old with max_age 6h: %s, want fail", f.Status)
	}
}

func TestDecodeTaskResult(t *testing.T) {
	tests := map[uint32]string{
		0:          "succeeded",
		267011:     "never run",
		267009:     "running",
		1:          "exited with code 1",
		0x8004131F: "already running",
		0x80041399: "0x80041399",
	}
	for code, want := range tests {
		if got := DecodeTaskResult(code); !strings.Contains(got.EN, want) || got.ZH == "" {
			t.Errorf("DecodeTaskResult(%d) = %+v, want %q", code, got, want)
		}
	}
}

func TestEvaluateEventLogChinese(t *testing.T) {
	reads, err := ParseEventLogProbe(readTestdata(t, "constructed-win2012r2-zh-eventlog-probe.txt"), "")
	if err != nil || len(reads) != 3 {
		t.Fatalf("reads = %+v, err %v", reads, err)
	}
	req := eventLogRequest{FirstWindow: 24 * time.Hour, MaxLevel: 2, MaxExcerpts: 2, MaxEvents: 500, Threshold: HigherIsWorse(1, 3, "")}

	system := EvaluateEventLog(req, reads[0], 48000, true)
	if system.Status != module.StatusFail || system.Metrics["events"] != 4 {
		t.Errorf("System: %s with %v events, want fail with 4", system.Status, system.Metrics["events"])
	}
	if system.Evidence[0] != "Service Control Manager/7000 ×2" {
		t.Errorf("first evidence line = %q", system.Evidence[0])
	}
	joined := strings.Join(system.Evidence, "\n")
	if !strings.Contains(joined, "服务启动失败: 系统找不到指定的文件。") || !strings.Contains(joined, "#48210") {
		t.Errorf("Chinese excerpt of the latest event missing:\n%s", joined)
	}
	if strings.Contains(joined, "#48100") {
		t.Errorf("more than max_excerpts events kept:\n%s", joined)
	}

	req.Ignore = []string{"Service Control Manager/7000", "41"}
	if f := EvaluateEventLog(req, reads[0], 48000, true); f.Metrics["events"] != 1 || f.Metrics["ignored"] != 3 {
		t.Errorf("with ignore: %v events, %v ignored; want 1 and 3", f.Metrics["events"], f.Metrics["ignored"])
	}
	if f := EvaluateEventLog(req, reads[0], 20000, true); !strings.Contains(f.Message.EN, "overwritten") {
		t.Errorf("records lost to wrapping not reported: %s", f.Message.EN)
	}
	if f := EvaluateEventLog(req, reads[2], 0, false); f.Status != module.StatusError || !strings.Contains(f.Message.ZH, "HardwareEvents") {
		t.Errorf("unreadable log: %s %s", f.Status, f.Message.ZH)
	}
}

// check.eventlog saves the newest record per log and resumes after it.
func TestEventLogResumesAfterSavedRecord(t *testing.T) {
	env, conn := windowsEnv(t)
	conn.replies = append(conn.replies, replay{"ReadLog", readTestdata(t, "constructed-win2012r2-zh-eventlog-probe.txt")})
	args := module.Args{"logs": []any{"System", "Application", "HardwareEvents"}}

	first := runCheck(t, env, eventLogCheck, args)
	if len(first.Findings) != 3 {
		t.Fatalf("findings = %+v", first.Findings)
	}
	if !strings.Contains(conn.scripts[0], "ReadLog 'System' -1 'Level=1 or Level=2' 86400000 500") {
		t.Errorf("first run did not read the first window:\n%s", conn.scripts[0])
	}
	if v, ok := env.State.Get(eventLogStateKey("System")); !ok || v != "48213" {
		t.Errorf("saved System record = %q, %t; want 48213", v, ok)
	}
	if _, ok := env.State.Get(eventLogStateKey("HardwareEvents")); ok {
		t.Error("a position was saved for a log that could not be read")
	}

	runCheck(t, env, eventLogCheck, args)
	if !strings.Contains(conn.scripts[1], "ReadLog 'System' 48213 ") || !strings.Contains(conn.scripts[1], "ReadLog 'Application' 9120 ") {
		t.Errorf("second run did not resume:\n%s", conn.scripts[1])
	}
}

func TestWindowsOpsChecksRun(t *testing.T) {
	tests := []struct {
		check  string
		marker string
		file   string
		args   module.Args
		want   string
	}{
		{timeCheck, "w32tm /query /status", "constructed-win2012r2-zh-time-probe.txt", nil, "clock ok"},
		{uptimeCheck, "LastBootUpTime", "constructed-win2012r2-uptime-probe.txt", nil, "uptime warn"},
		{schedTaskCheck, "Get-ScheduledTask", "constructed-win2012r2-schedtasks.txt", module.Args{"tasks": []any{"OracleFullBackup"}}, "OracleFullBackup ok"},
	}
	for _, tt := range tests {
		t.Run(tt.check, func(t *testing.T) {
			env, conn := windowsEnv(t)
			conn.replies = []replay{{tt.marker, readTestdata(t, tt.file)}}
			env.Now = func() time.Time { return time.Date(2020, 6, 1, 2, 0, 0, 0, time.UTC) }
			res := runCheck(t, env, tt.check, tt.args)
			if len(res.Findings) == 0 || res.Findings[0].Item+" "+string(res.Findings[0].Status) != tt.want {
				t.Fatalf("findings = %+v, want %s", res.Findings, tt.want)
			}
			for _, s := range conn.scripts {
				if !strings.HasPrefix(s, psPrelude) {
					t.Errorf("a non-PowerShell script reached the Windows host: %q", firstLine(s))
				}
			}
		})
	}
}

func TestWindowsOnlyChecksOnLinux(t *testing.T) {
	for _, check := range []string{eventLogCheck, schedTaskCheck} {
		env, conn := windowsEnv(t)
		env.Host = &inventory.Host{Name: "web-1", OS: "centos7", Connection: "ssh"}
		res := runCheck(t, env, check, module.Args{"tasks": []any{"x"}})
		if len(res.Findings) != 1 || res.Findings[0].Status != module.StatusError || len(conn.scripts) != 0 {
			t.Errorf("%s on Linux: %+v, scripts %q", check, res.Findings, conn.scripts)
		}
	}
}

func TestPSQuote(t *testing.T) {
	tests := map[string]string{
		`\Backup\Oracle`: `'\Backup\Oracle'`,
		"it's":           "'it''s'",
		"a\u2019b":       "'a\u2019\u2019b'",
		"$env:x":         "'$env:x'",
	}
	for in, want := range tests {
		if got := psQuote(in); got != want {
			t.Errorf("psQuote(%q) = %q, want %q", in, got, want)
		}
	}
}

// check.uptime runs its Linux probe on this machine.
func TestUptimeLocal(t *testing.T) {
	res := runCheck(t, localEnv(t), uptimeCheck, module.Args{"min": "0"})
	if len(res.Findings) != 1 || res.Findings[0].Status != module.StatusOK || res.Findings[0].Metrics["uptime_seconds"] <= 0 {
		t.Errorf("findings = %+v", res.Findings)
	}
}
