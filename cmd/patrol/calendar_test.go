package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The expected 2026 dates follow the State Council notice on the 2026 holidays,
// dated 2025-11-04. The 2027 dates follow the lunar-go v1.4.7 data. The tests
// of package workday cite both sources in full.

func TestCalendarDeadlineLastLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		// National Day 2026: Oct 1-7 off.
		{[]string{"--severity", "urgent", "--arrived", "2026-09-30T17:00:00+08:00"}, "2026-10-08T18:00:00+08:00"},
		{[]string{"--severity", "normal", "--arrived", "2026-09-30T17:00:00+08:00"}, "2026-10-09T18:00:00+08:00"},
		// Chinese severity names; Sunday Sep 20 2026 is a make-up working day.
		{[]string{"--severity", "严重", "--arrived", "2026-09-18T20:00:00+08:00"}, "2026-09-20T18:00:00+08:00"},
		// 16:30 UTC on Feb 13 is already the make-up Saturday Feb 14 in
		// Shanghai; Feb 15-23 are the Spring Festival.
		{[]string{"--severity", "urgent", "--arrived", "2026-02-13T16:30:00Z"}, "2026-02-24T18:00:00+08:00"},
		// No offset: the calendar's zone.
		{[]string{"--severity", "urgent", "--arrived", "2026-02-13T23:30"}, "2026-02-14T18:00:00+08:00"},
		// --workdays overrides the severity's default of 1.
		{[]string{"--severity", "urgent", "--workdays", "3", "--arrived", "2026-09-30T17:00:00+08:00"}, "2026-10-10T18:00:00+08:00"},
		// Business hours move the deadline to the closing time.
		{[]string{"--severity", "urgent", "--business-hours", "09:00-17:30", "--arrived", "2026-09-30T17:00:00+08:00"}, "2026-10-08T17:30:00+08:00"},
		// Spring Festival 2027 (lunar-go): Feb 5-13 off, Sunday Feb 14 worked.
		{[]string{"--severity", "urgent", "--arrived", "2027-02-04T20:00:00+08:00"}, "2027-02-14T18:00:00+08:00"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			res := runPatrol(t, t.TempDir(), t.TempDir(), append([]string{"calendar", "deadline"}, tc.args...)...)
			if res.code != exitOK {
				t.Fatalf("exit code = %d, want 0\nstderr:\n%s", res.code, res.stderr)
			}
			if got := lastLine(res.stdout); got != tc.want {
				t.Errorf("last line = %q, want %q\nstdout:\n%s", got, tc.want, res.stdout)
			}
		})
	}
}

func TestCalendarDeadlineExplains(t *testing.T) {
	res := runPatrol(t, t.TempDir(), t.TempDir(), "calendar", "deadline", "--severity", "urgent",
		"--arrived", "2026-09-30T17:00:00+08:00", "--now", "2026-09-30T17:00:00+08:00")
	if res.code != exitOK {
		t.Fatalf("exit code = %d\nstderr:\n%s", res.code, res.stderr)
	}
	for _, want := range []string{
		"rule: urgent: 1 working day after the arrival day",
		"skipped: 2026-10-01 … 2026-10-07 holiday National Day",
		"counted: 2026-10-08 Thu workday",
		"time left: 8d 1h 0m (10h 30m of business hours; due on the next working day)",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
		}
	}

	zh := runPatrolEnv(t, []string{"PATROL_LANG=zh"}, t.TempDir(), "calendar", "deadline", "--severity", "urgent",
		"--arrived", "2026-09-30T17:00:00+08:00", "--now", "2026-10-09T09:00:00+08:00")
	for _, want := range []string{"规则：紧急：到达当天之后 1 个工作日", "跳过：2026-10-01 … 2026-10-07 节假日 国庆节", "已超期 15 小时 0 分"} {
		if !strings.Contains(zh.stdout, want) {
			t.Errorf("Chinese stdout lacks %q:\n%s", want, zh.stdout)
		}
	}
	if got := lastLine(zh.stdout); got != "2026-10-08T18:00:00+08:00" {
		t.Errorf("Chinese last line = %q", got)
	}
}

func TestCalendarDeadlineJSON(t *testing.T) {
	res := runPatrol(t, t.TempDir(), t.TempDir(), "calendar", "deadline", "--output", "json", "--severity", "normal",
		"--arrived", "2026-09-30T09:00:00Z", "--now", "2026-10-08T18:00:00+08:00")
	if res.code != exitOK {
		t.Fatalf("exit code = %d\nstderr:\n%s", res.code, res.stderr)
	}
	var out struct {
		Severity   string   `json:"severity"`
		Workdays   int      `json:"workdays"`
		Arrived    string   `json:"arrived"`
		ArrivalDay string   `json:"arrival_day"`
		Deadline   string   `json:"deadline"`
		Counted    []string `json:"counted"`
		Skipped    []struct {
			Date string            `json:"date"`
			Kind string            `json:"kind"`
			Name map[string]string `json:"name"`
		} `json:"skipped"`
		Remaining struct {
			Overdue        bool  `json:"overdue"`
			WorkingSeconds int64 `json:"working_seconds"`
			Workdays       int   `json:"workdays"`
		} `json:"remaining"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, res.stdout)
	}
	if out.Severity != "normal" || out.Workdays != 2 {
		t.Errorf("severity, workdays = %q, %d; want normal, 2", out.Severity, out.Workdays)
	}
	if out.Arrived != "2026-09-30T17:00:00+08:00" || out.ArrivalDay != "2026-09-30" {
		t.Errorf("arrived = %s on %s; want 17:00 in Shanghai on 2026-09-30", out.Arrived, out.ArrivalDay)
	}
	if out.Deadline != "2026-10-09T18:00:00+08:00" {
		t.Errorf("deadline = %s, want 2026-10-09T18:00:00+08:00", out.Deadline)
	}
	if strings.Join(out.Counted, ",") != "2026-10-08,2026-10-09" {
		t.Errorf("counted = %v", out.Counted)
	}
	if len(out.Skipped) != 7 || out.Skipped[0].Kind != "holiday" || out.Skipped[0].Name["zh"] != "国庆节" {
		t.Errorf("skipped = %+v, want the 7 days of 国庆节", out.Skipped)
	}
	if out.Remaining.Overdue || out.Remaining.WorkingSeconds != 9*3600+30*60 || out.Remaining.Workdays != 1 {
		t.Errorf("remaining = %+v, want 9h30m and 1 working day left", out.Remaining)
	}
}

// TestCalendarGridColumns checks that every day of the grid ends at the
// same display column as the other days of its weekday, in both languages,
// although a Chinese mark is two columns wide.
func TestCalendarGridColumns(t *testing.T) {
	day := regexp.MustCompile(`\d+`)
	for _, lang := range []string{"en", "zh"} {
		res := runPatrol(t, t.TempDir(), t.TempDir(), "calendar", "--month", "2026-10", "--lang", lang)
		lines := strings.Split(res.stdout, "\n")
		rows := 0
		for _, line := range lines[2:] {
			if !strings.HasPrefix(line, " ") {
				break
			}
			rows++
			for _, loc := range day.FindAllStringIndex(line, -1) {
				if end := displayWidth(line[:loc[1]]); end%gridCell != 3 {
					t.Errorf("%s: day %s ends at display column %d, not under a weekday:\n%s", lang, line[loc[0]:loc[1]], end, res.stdout)
				}
			}
		}
		if rows != 5 {
			t.Errorf("%s: %d grid rows, want 5 for October 2026:\n%s", lang, rows, res.stdout)
		}
	}
}

func TestCalendarMonthGrid(t *testing.T) {
	res := runPatrol(t, t.TempDir(), t.TempDir(), "calendar", "--month", "2026-10")
	if res.code != exitOK {
		t.Fatalf("exit code = %d\nstderr:\n%s", res.code, res.stderr)
	}
	for _, want := range []string{
		" Mon  Tue  Wed  Thu  Fri  Sat  Sun\n                 1H   2H   3H   4H\n",
		"  5H   6H   7H   8    9   10M  11\n",
		"2026-10-01 … 2026-10-07 holiday National Day\n",
		"2026-10-10 Sat make-up workday National Day\n",
		"working days: 18, days off: 13\n",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
		}
	}

	zh := runPatrol(t, t.TempDir(), t.TempDir(), "calendar", "--month", "2026-02", "--lang", "zh")
	for _, want := range []string{"  9   10   11   12   13   14班 15休\n", "2026-02-15 … 2026-02-23 节假日 春节", "2026-02-28 周六 调休上班 春节", "工作日 16 天，休息日 12 天"} {
		if !strings.Contains(zh.stdout, want) {
			t.Errorf("Chinese stdout lacks %q:\n%s", want, zh.stdout)
		}
	}
}

func TestCalendarMonthJSON(t *testing.T) {
	res := runPatrol(t, t.TempDir(), t.TempDir(), "calendar", "--month", "2027-09", "-o", "json")
	if res.code != exitOK {
		t.Fatalf("exit code = %d\nstderr:\n%s", res.code, res.stderr)
	}
	var out struct {
		Month    string `json:"month"`
		Covered  bool   `json:"covered"`
		Workdays int    `json:"workdays"`
		Days     []struct {
			Date    string `json:"date"`
			Kind    string `json:"kind"`
			Working bool   `json:"working"`
		} `json:"days"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, res.stdout)
	}
	if out.Month != "2027-09" || !out.Covered || len(out.Days) != 30 {
		t.Fatalf("month %s covered %v with %d days", out.Month, out.Covered, len(out.Days))
	}
	// September 2027 (lunar-go): Mid-Autumn Wednesday 15 off, Sunday 26 worked.
	if d := out.Days[14]; d.Date != "2027-09-15" || d.Kind != "holiday" || d.Working {
		t.Errorf("Sep 15 = %+v, want a holiday", d)
	}
	if d := out.Days[25]; d.Date != "2027-09-26" || d.Kind != "makeup_workday" || !d.Working {
		t.Errorf("Sep 26 = %+v, want a make-up workday", d)
	}
	if out.Workdays != 22 {
		t.Errorf("workdays = %d, want 22", out.Workdays)
	}
}

func TestCalendarInvalidInputExitsTwo(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"calendar", "--month", "2026-13"}, `--month "2026-13"`},
		{[]string{"calendar", "--month", "10/2026"}, "YYYY-MM"},
		{[]string{"calendar", "deadline", "--severity", "critical"}, `--severity "critical"`},
		{[]string{"calendar", "deadline", "--severity", "urgent", "--arrived", "2026-09-31T10:00:00+08:00"}, `--arrived "2026-09-31T10:00:00+08:00"`},
		{[]string{"calendar", "deadline", "--severity", "urgent", "--arrived", "yesterday"}, "RFC 3339"},
		{[]string{"calendar", "deadline"}, "--severity"},
		{[]string{"calendar", "deadline", "--workdays", "0"}, "--workdays 0"},
		{[]string{"calendar", "--business-hours", "18:00-08:30"}, `--business-hours "18:00-08:30"`},
		{[]string{"calendar", "--timezone", "Asia/Peking"}, `--timezone "Asia/Peking"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			res := runPatrol(t, t.TempDir(), t.TempDir(), tc.args...)
			if res.code != exitInvalid {
				t.Fatalf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, exitInvalid, res.stdout, res.stderr)
			}
			if !strings.Contains(res.stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, res.stderr)
			}
		})
	}
}

func TestCalendarOverrideFile(t *testing.T) {
	dir := t.TempDir()
	// A holiday on Wednesday Dec 30 2026 and Sunday Jan 10 2027 made a
	// working day, as a newer announcement might set them.
	file := writeFile(t, filepath.Join(dir, "calendar.yml"), `holidays:
  - date: 2026-12-30
    name: 检修日
    name_en: Maintenance day
workdays:
  - date: 2027-01-10
    name: 检修日
`)
	res := runPatrol(t, dir, dir, "calendar", "deadline", "--calendar", file, "--severity", "urgent", "--arrived", "2026-12-29T10:00:00+08:00")
	if res.code != exitOK {
		t.Fatalf("exit code = %d\nstderr:\n%s", res.code, res.stderr)
	}
	// Dec 30 is now off; Dec 31 is a Thursday.
	if got := lastLine(res.stdout); got != "2026-12-31T18:00:00+08:00" {
		t.Errorf("deadline = %s, want 2026-12-31T18:00:00+08:00\n%s", got, res.stdout)
	}
	if !strings.Contains(res.stdout, "skipped: 2026-12-30 Wed holiday Maintenance day") {
		t.Errorf("stdout does not show the added holiday:\n%s", res.stdout)
	}

	// PATROL_CALENDAR names the same file when --calendar is absent.
	env := runPatrolEnv(t, []string{"PATROL_LANG=en", "PATROL_CALENDAR=" + file}, dir,
		"calendar", "deadline", "--severity", "urgent", "--arrived", "2027-01-08T20:00:00+08:00")
	// Friday Jan 8 -> Sunday Jan 10, now a make-up working day.
	if got := lastLine(env.stdout); got != "2027-01-10T18:00:00+08:00" {
		t.Errorf("deadline with PATROL_CALENDAR = %s, want 2027-01-10T18:00:00+08:00\nstderr:\n%s", got, env.stderr)
	}

	month := runPatrol(t, dir, dir, "calendar", "--calendar", file, "--month", "2027-01")
	if !strings.Contains(month.stdout, "2027-01-10 Sun make-up workday") {
		t.Errorf("month view lacks the make-up Sunday:\n%s", month.stdout)
	}
}

func TestCalendarOverrideErrorsExitTwo(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, filepath.Join(dir, "calendar.yml"), `holidays:
  - date: 2027-02-30
    name: 春节
  - date: 2027-03-01
    name: 春节
    kind: holiday
workdays:
  - date: 2027-03-01
`)
	res := runPatrol(t, dir, dir, "calendar", "--calendar", file)
	if res.code != exitInvalid {
		t.Fatalf("exit code = %d, want %d\nstderr:\n%s", res.code, exitInvalid, res.stderr)
	}
	for _, want := range []string{
		file + `:2:11: invalid date "2027-02-30"`,
		file + `:6:5: unknown key "kind" in a holidays entry`,
		file + ":8:5: 2027-03-01 is listed as a workday here and as a holiday at " + file + ":4",
	} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
		}
	}

	zh := runPatrolEnv(t, []string{"PATROL_LANG=zh"}, dir, "calendar", "--calendar", file)
	if zh.code != exitInvalid || !strings.Contains(zh.stderr, file+`:2:11: date 中的日期 "2027-02-30" 无效`) {
		t.Errorf("Chinese: exit %d, stderr:\n%s", zh.code, zh.stderr)
	}
}

func TestCalendarWarnsBeyondBuiltinYears(t *testing.T) {
	res := runPatrol(t, t.TempDir(), t.TempDir(), "calendar", "deadline", "--severity", "urgent", "--arrived", "2028-09-29T10:00:00+08:00")
	if res.code != exitOK {
		t.Fatalf("exit code = %d\nstderr:\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "warning: 2028 has no holiday arrangement") {
		t.Errorf("stderr lacks the warning about 2028:\n%s", res.stderr)
	}
	if got := lastLine(res.stdout); got != "2028-10-02T18:00:00+08:00" {
		t.Errorf("last line = %q", got)
	}
}

// TestCalendarWithoutZoneinfo runs patrol where /usr/share/zoneinfo is empty
// and GOROOT names no Go tree, as on a bare server: Asia/Shanghai must come
// from the tz database linked into the binary.
func TestCalendarWithoutZoneinfo(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("hiding /usr/share/zoneinfo needs root; CI runs as root")
		}
		t.Skip("hiding /usr/share/zoneinfo needs root")
	}
	empty := t.TempDir()
	script := `mount --bind "$1" /usr/share/zoneinfo && test -z "$(ls /usr/share/zoneinfo)" && exec "$2" calendar deadline --severity urgent --arrived 2026-09-30T09:00:00Z`
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", empty, patrolBin)
	cmd.Env = append(os.Environ(), "GOROOT=/nonexistent", "ZONEINFO=", "TZ=", "PATROL_LANG=en")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("patrol without zoneinfo: %v\n%s", err, out)
	}
	if got := lastLine(string(out)); got != "2026-10-08T18:00:00+08:00" {
		t.Errorf("last line = %q, want 2026-10-08T18:00:00+08:00\n%s", got, out)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}
