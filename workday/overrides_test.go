package workday

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"patrol/i18n"
)

func TestOverridesWholeYear(t *testing.T) {
	ov, err := LoadOverrides("testdata/override-2028.yml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Overrides: ov})
	if err != nil {
		t.Fatal(err)
	}

	if !c.Covers(2028) {
		t.Error("Covers(2028) = false after the file listed 2028 in years")
	}
	if got := c.Hours().String(); got != "09:00-17:30" {
		t.Errorf("Hours = %s, want the file's 09:00-17:30", got)
	}
	for _, tc := range []struct {
		date   string
		kind   Kind
		nameEN string
		line   int
	}{
		{"2028-01-01", Holiday, "New Year's Day", 7},
		{"2028-01-25", Holiday, "Spring Festival", 9},
		{"2028-02-01", Holiday, "Spring Festival", 9},
		{"2028-03-08", Holiday, "City Day", 12},
		{"2028-01-23", MakeupWorkday, "Spring Festival", 16}, // a Sunday
		{"2028-02-12", MakeupWorkday, "Spring Festival", 18}, // a Saturday
		{"2028-02-02", Workday, "", 0},
	} {
		day := c.Day(mustDate(t, tc.date))
		if day.Kind != tc.kind {
			t.Errorf("%s is %s, want %s", tc.date, day.Kind, tc.kind)
		}
		if day.Name.EN != tc.nameEN {
			t.Errorf("%s is named %q, want %q", tc.date, day.Name.EN, tc.nameEN)
		}
		if tc.line > 0 {
			if want := "testdata/override-2028.yml:" + strconv.Itoa(tc.line); day.Source != want {
				t.Errorf("%s comes from %q, want %q", tc.date, day.Source, want)
			}
		}
	}

	// Monday Jan 24 works, Jan 25 - Feb 1 are off.
	got := c.Deadline(mustTime(t, "2028-01-24T20:00:00+08:00"), 1)
	if want := "2028-02-02T17:30:00+08:00"; got.Format(time.RFC3339) != want {
		t.Errorf("Deadline = %s, want %s", got.Format(time.RFC3339), want)
	}
}

func TestOverridesAddToBuiltinYear(t *testing.T) {
	// A holiday and a make-up Sunday added to 2026 without replacing the
	// year: the built-in National Day stays.
	path := writeTemp(t, "extra.yml", `holidays:
  - date: 2026-12-31
    name: 跨年检修日
    name_en: Year-end maintenance day
workdays:
  - date: 2026-12-27
`)
	ov, err := LoadOverrides(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Overrides: ov})
	if err != nil {
		t.Fatal(err)
	}

	if k := c.Kind(mustDate(t, "2026-12-31")); k != Holiday {
		t.Errorf("2026-12-31 is %s, want holiday", k)
	}
	if k := c.Kind(mustDate(t, "2026-12-27")); k != MakeupWorkday {
		t.Errorf("2026-12-27 (Sunday) is %s, want makeup_workday", k)
	}
	if k := c.Kind(mustDate(t, "2026-10-01")); k != Holiday {
		t.Errorf("built-in 2026-10-01 is %s, want holiday", k)
	}
	// Friday Dec 25 -> Sunday Dec 27 is now a working day.
	if got := c.Deadline(mustTime(t, "2026-12-25T19:00:00+08:00"), 1).Format(time.RFC3339); got != "2026-12-27T18:00:00+08:00" {
		t.Errorf("Deadline from Friday Dec 25 = %s, want the make-up Sunday", got)
	}
	// Wednesday Dec 30 -> Dec 31 is off, Jan 1-3 2027 are off.
	if got := c.Deadline(mustTime(t, "2026-12-30T10:00:00+08:00"), 1).Format(time.RFC3339); got != "2027-01-04T18:00:00+08:00" {
		t.Errorf("Deadline from Dec 30 = %s, want 2027-01-04T18:00:00+08:00", got)
	}
}

func TestOverridesYearReplacesBuiltin(t *testing.T) {
	// Listing 2026 in years drops the built-in 2026 entries.
	path := writeTemp(t, "replace.yml", "years: [2026]\nholidays:\n  - date: 2026-10-01\n    name: 国庆节\n")
	ov, err := LoadOverrides(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Overrides: ov})
	if err != nil {
		t.Fatal(err)
	}
	if k := c.Kind(mustDate(t, "2026-10-01")); k != Holiday {
		t.Errorf("2026-10-01 is %s, want the file's holiday", k)
	}
	if k := c.Kind(mustDate(t, "2026-10-02")); k != Workday {
		t.Errorf("2026-10-02 is %s, want workday once the built-in year is replaced", k)
	}
	if k := c.Kind(mustDate(t, "2027-10-01")); k != Holiday {
		t.Errorf("2027-10-01 is %s, want the built-in holiday", k)
	}
}

func TestOverridesErrorsNameFileAndLine(t *testing.T) {
	_, err := LoadOverrides("testdata/override-errors.yml")
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error = %v, want a *ValidationError", err)
	}
	text := ve.In(i18n.EN)
	for _, want := range []string{
		`override-errors.yml:1:1: unknown top-level key "holiday" (did you mean "holidays"?)`,
		`override-errors.yml:5:11: invalid date "2028-02-30" in date`,
		`override-errors.yml:7:5: a holiday needs a name`,
		`override-errors.yml:8:5: unknown key "nmae" in a holidays entry (did you mean "name"?)`,
		`override-errors.yml:10:9: to 2028-01-25 is earlier than from 2028-02-01`,
		`override-errors.yml:15:5: 2028-10-01 is listed as a make-up workday here and as a holiday at testdata/override-errors.yml:12`,
		`override-errors.yml:17:17: invalid business_hours "18:00-08:30"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("errors do not contain %q:\n%s", want, text)
		}
	}
	if n := len(ve.Problems); n != 7 {
		t.Errorf("%d problems, want 7:\n%s", n, text)
	}

	zh := ve.In(i18n.ZH)
	for _, want := range []string{"未知的顶层键 \"holiday\"", "日期 \"2028-02-30\" 无效", "又列为节假日"} {
		if !strings.Contains(zh, want) {
			t.Errorf("Chinese errors do not contain %q:\n%s", want, zh)
		}
	}
}

func TestOverridesSmallErrors(t *testing.T) {
	for _, tc := range []struct {
		name, content, want string
	}{
		{"yaml syntax", "timezone: Asia/Shanghai\n years: [2028]\n", "f.yml:2: invalid YAML: mapping values are not allowed"},
		{"not a mapping", "- 2028-01-01\n", "f.yml:1:1: the calendar file must be a mapping"},
		{"bad year", "years: [28]\n", `f.yml:1:9: invalid year "28"`},
		{"bad timezone", "timezone: Asia/Peking\n", `f.yml:1:11: unknown timezone "Asia/Peking"`},
		{"date and period", "holidays:\n  - date: 2028-01-01\n    from: 2028-01-01\n    to: 2028-01-02\n    name: x\n", "f.yml:2:5: an entry has date and also from/to"},
		{"no date", "workdays:\n  - name: 春节\n", "f.yml:2:5: an entry has no date"},
		{"from without to", "holidays:\n  - from: 2028-01-01\n    name: x\n", "f.yml:2:5: a period needs both from and to"},
		{"period too long", "holidays:\n  - from: 2028-01-01\n    to: 2029-01-01\n    name: x\n", "f.yml:3:9: the period 2028-01-01 to 2029-01-01 is 367 days long"},
		{"same date two names", "holidays:\n  - date: 2028-01-01\n    name: 元旦\n  - date: 2028-01-01\n    name: 春节\n", `f.yml:4:5: 2028-01-01 is listed twice with different names`},
		{"duplicate key", "holidays: []\nholidays: []\n", `f.yml:2:1: duplicate key "holidays", first written at line 1`},
		{"list expected", "holidays: 2028-01-01\n", "f.yml:1:11: holidays must be a list"},
		{"slash date", "holidays:\n  - date: 2028/01/01\n    name: x\n", `f.yml:2:11: invalid date "2028/01/01"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseOverrides("f.yml", []byte(tc.content))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestOverridesEmptyAndIdenticalRepeat(t *testing.T) {
	for _, content := range []string{"", "# nothing yet\n", "holidays:\n  - date: 2028-01-01\n    name: 元旦\n  - date: 2028-01-01\n    name: 元旦\n"} {
		if _, err := ParseOverrides("f.yml", []byte(content)); err != nil {
			t.Errorf("ParseOverrides(%q): %v", content, err)
		}
	}
}

func TestOverridesMissingFile(t *testing.T) {
	_, err := LoadOverrides(filepath.Join(t.TempDir(), "none.yml"))
	if err == nil || !strings.Contains(err.Error(), "none.yml: cannot read the calendar file") {
		t.Errorf("error = %v, want one naming the file", err)
	}
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
