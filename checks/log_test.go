package checks

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"patrol/module"
)

func TestLineTime(t *testing.T) {
	cst := time.FixedZone("+0800", 8*3600)
	ref := time.Date(2026, 1, 3, 10, 0, 0, 0, cst)
	tests := []struct {
		line string
		want time.Time
	}{
		{"Jan  3 09:15:02 host sshd[1]: Failed password", time.Date(2026, 1, 3, 9, 15, 2, 0, cst)},
		{"Dec 31 23:59:59 host kernel: x", time.Date(2025, 12, 31, 23, 59, 59, 0, cst)},
		{"2026-01-02T08:00:00Z ERROR x", time.Date(2026, 1, 2, 8, 0, 0, 0, time.UTC)},
		{"2026-01-02T08:00:00.123+0530 x", time.Date(2026, 1, 2, 2, 30, 0, 0, time.UTC)},
		{"2026-01-02 08:00:00,123 ERROR [main] x", time.Date(2026, 1, 2, 8, 0, 0, 0, cst)},
		{"[2026-01-02 08:00:00] x", time.Date(2026, 1, 2, 8, 0, 0, 0, cst)},
	}
	for _, tt := range tests {
		got, ok := LineTime(tt.line, cst, ref)
		if !ok || !got.Equal(tt.want) {
			t.Errorf("LineTime(%q) = %v, %v; want %v", tt.line, got, ok, tt.want)
		}
	}
	if _, ok := LineTime("\tat java.lang.Thread.run", cst, ref); ok {
		t.Error("a stack trace line was read as stamped")
	}
}

func TestScanLogWindow(t *testing.T) {
	loc := time.UTC
	now := time.Date(2026, 3, 5, 12, 0, 0, 0, loc)
	data := []byte(`Mar  3 10:00:00 h app: ERROR old failure
Mar  5 01:00:00 h app: ERROR first
java.lang.IllegalStateException: ERROR inside a trace
Mar  5 11:00:00 h app: ORA-00600 internal error
Mar  5 11:30:00 h app: all fine
`)
	patterns := []LogPattern{{"error", regexp.MustCompile(`ERROR`)}, {"ora", regexp.MustCompile(`ORA-\d+`)}}
	scan := ScanLog(data, patterns, now.Add(-24*time.Hour), loc, now, 5)

	if scan.Matches[0].Count != 2 {
		t.Errorf("ERROR count = %d, want 2 (the old line is outside the window, the trace line belongs to 01:00)", scan.Matches[0].Count)
	}
	if scan.Matches[1].Count != 1 {
		t.Errorf("ORA count = %d, want 1", scan.Matches[1].Count)
	}
	if scan.Lines != 4 {
		t.Errorf("lines in window = %d, want 4", scan.Lines)
	}
	if scan.NoTimestamps {
		t.Error("NoTimestamps set on a stamped log")
	}
}

func TestScanLogExcerptsKeepLatest(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 10; i++ {
		b.WriteString("ERROR number " + string(rune('0'+i)) + "\n")
	}
	scan := ScanLog([]byte(b.String()), []LogPattern{{"e", regexp.MustCompile("ERROR")}}, time.Time{}, time.UTC, time.Now(), 3)
	m := scan.Matches[0]
	if m.Count != 10 {
		t.Errorf("count = %d, want 10", m.Count)
	}
	want := []string{"ERROR number 7", "ERROR number 8", "ERROR number 9"}
	if strings.Join(m.Excerpts, "|") != strings.Join(want, "|") {
		t.Errorf("excerpts = %q, want %q", m.Excerpts, want)
	}
}

func TestScanLogWindowWithoutTimestamps(t *testing.T) {
	now := time.Now()
	scan := ScanLog([]byte("ERROR a\nERROR b\n"), []LogPattern{{"e", regexp.MustCompile("ERROR")}}, now.Add(-time.Hour), time.UTC, now, 5)
	if !scan.NoTimestamps || scan.Matches[0].Count != 2 {
		t.Errorf("scan = %+v, want both lines counted and NoTimestamps", scan)
	}
}

func TestPlanLogRead(t *testing.T) {
	tests := []struct {
		name      string
		prev      logOffset
		havePrev  bool
		inode     string
		size, max int64
		want      readPlan
	}{
		{"first run", logOffset{}, false, "7", 100, 1000, readPlan{Start: 0}},
		{"resume", logOffset{"7", 60}, true, "7", 100, 1000, readPlan{Start: 60}},
		{"rotated", logOffset{"7", 60}, true, "8", 100, 1000, readPlan{Start: 0, Restarted: true}},
		{"truncated", logOffset{"7", 600}, true, "7", 100, 1000, readPlan{Start: 0, Restarted: true}},
		{"capped", logOffset{"7", 10}, true, "7", 1000, 100, readPlan{Start: 900, Skipped: 890}},
	}
	for _, tt := range tests {
		if got := planLogRead(tt.prev, tt.havePrev, tt.inode, tt.size, tt.max); got != tt.want {
			t.Errorf("%s: plan = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// TestLogCheckLocalRotation runs check.log on real files through /bin/sh: the
// offset is remembered, a partial last line waits for the next run, and a
// rotated or truncated file is read from its start.
func TestLogCheckLocalRotation(t *testing.T) {
	env := localEnv(t)
	path := filepath.Join(t.TempDir(), "app.log")
	args := module.Args{"path": path, "named_patterns": map[string]any{"errors": "ERROR", "oracle": `ORA-\d{5}`}}

	write := func(flag int, text string) {
		t.Helper()
		f, err := os.OpenFile(path, flag|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(text); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	counts := func(res module.Result) map[string]float64 {
		t.Helper()
		out := map[string]float64{}
		for _, f := range res.Findings {
			out[strings.TrimPrefix(f.Item, path+": ")] = f.Metrics["matches"]
		}
		return out
	}

	write(os.O_CREATE|os.O_TRUNC, "ERROR one\nok\nORA-01555 snapshot too old\nERROR partial")
	res := runCheck(t, env, logCheck, args)
	if c := counts(res); c["errors"] != 1 || c["oracle"] != 1 {
		t.Fatalf("first run counts = %v, want errors 1, oracle 1 (partial line left)", c)
	}
	if res.Findings[0].Status != module.StatusWarn || len(res.Findings[0].Evidence) != 1 {
		t.Errorf("errors finding = %+v, want warn with one excerpt", res.Findings[0])
	}

	write(os.O_APPEND, " line\nERROR two\n")
	if c := counts(runCheck(t, env, logCheck, args)); c["errors"] != 2 || c["oracle"] != 0 {
		t.Fatalf("second run counts = %v, want errors 2 (the completed line and the new one), oracle 0", c)
	}

	if c := counts(runCheck(t, env, logCheck, args)); c["errors"] != 0 {
		t.Fatalf("third run without new lines counts %v, want 0", c)
	}

	// Rotation: the file is renamed and a new one created with a new inode.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	write(os.O_CREATE|os.O_TRUNC, "ERROR after rotation\n")
	res = runCheck(t, env, logCheck, args)
	if c := counts(res); c["errors"] != 1 {
		t.Fatalf("after rotation counts = %v, want 1", c)
	}
	if !strings.Contains(res.Findings[0].Message.EN, "rotated or truncated") {
		t.Errorf("message does not mention rotation: %q", res.Findings[0].Message.EN)
	}

	// Truncation in place: same inode, smaller size.
	write(os.O_APPEND, strings.Repeat("filler line\n", 20))
	runCheck(t, env, logCheck, args)
	write(os.O_TRUNC, "ERROR x\n")
	if c := counts(runCheck(t, env, logCheck, args)); c["errors"] != 1 {
		t.Fatalf("after truncation counts = %v, want 1", c)
	}
}

func TestLogCheckMissingFile(t *testing.T) {
	res := runCheck(t, localEnv(t), logCheck, module.Args{"path": "/nonexistent/patrol.log", "patterns": []string{"ERROR"}})
	if len(res.Findings) != 1 || res.Findings[0].Status != module.StatusError {
		t.Fatalf("findings = %+v, want one error finding", res.Findings)
	}
	msg := res.Findings[0].Message
	for _, want := range []string{"/nonexistent/patrol.log does not exist", "os_log", "rsyslog"} {
		if !strings.Contains(msg.EN, want) {
			t.Errorf("message = %q, want it to contain %q", msg.EN, want)
		}
	}
	if !strings.Contains(msg.ZH, "日志文件 /nonexistent/patrol.log 不存在") {
		t.Errorf("Chinese message = %q", msg.ZH)
	}
}

func TestLogCheckBadArgs(t *testing.T) {
	tests := []module.Args{
		{"path": "/var/log/x", "patterns": []string{"("}},
		{"path": "/var/log/x"},
		{"path": "/var/log/x", "patterns": []string{"x"}, "since": "yesterday"},
	}
	for _, args := range tests {
		res := runCheck(t, localEnv(t), logCheck, args)
		if len(res.Findings) != 1 || res.Findings[0].Status != module.StatusError || !strings.Contains(res.Findings[0].Message.EN, "invalid arguments") {
			t.Errorf("args %v: findings = %+v, want one invalid-arguments error", args, res.Findings)
		}
	}
}
