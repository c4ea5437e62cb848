package workday

import (
	"strings"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // "" for an error
	}{
		{"2026-10-01", "2026-10-01"},
		{"2028-02-29", "2028-02-29"},
		{"2026-02-29", ""},
		{"2026-02-30", ""},
		{"2026-13-01", ""},
		{"2026-1-1", ""},
		{"2026/10/01", ""},
		{"", ""},
	} {
		d, err := ParseDate(tc.in)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("ParseDate(%q) = %s, want an error", tc.in, d)
		case tc.want != "" && err != nil:
			t.Errorf("ParseDate(%q): %v", tc.in, err)
		case tc.want != "" && d.String() != tc.want:
			t.Errorf("ParseDate(%q) = %s, want %s", tc.in, d, tc.want)
		}
	}
}

func TestDateArithmetic(t *testing.T) {
	d := NewDate(2026, time.December, 31)
	if got := d.AddDays(1).String(); got != "2027-01-01" {
		t.Errorf("AddDays(1) = %s", got)
	}
	if got := NewDate(2028, time.March, 1).AddDays(-1).String(); got != "2028-02-29" {
		t.Errorf("AddDays(-1) = %s", got)
	}
	if d.Weekday() != time.Thursday {
		t.Errorf("2026-12-31 is a %s, want Thursday", d.Weekday())
	}
	if !d.Before(d.AddDays(1)) || d.After(d.AddDays(1)) || d.Compare(d) != 0 {
		t.Error("Before/After/Compare disagree")
	}
	if n := daysBetween(NewDate(2026, time.January, 1), NewDate(2027, time.January, 1)); n != 365 {
		t.Errorf("daysBetween over 2026 = %d, want 365", n)
	}
}

func TestParseBusinessHours(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{"08:30-18:00", "08:30-18:00", ""},
		{"00:00-24:00", "00:00-24:00", ""},
		{"9:00-17:30", "09:00-17:30", ""},
		{"18:00-08:30", "", "opening time must be earlier"},
		{"08:30", "", "HH:MM-HH:MM"},
		{"08:60-18:00", "", `invalid time of day "08:60"`},
		{"24:30-25:00", "", `invalid time of day "24:30"`},
		{"8h-18h", "", `invalid time of day "8h"`},
	} {
		h, err := ParseBusinessHours(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseBusinessHours(%q) error = %v, want one containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseBusinessHours(%q): %v", tc.in, err)
			continue
		}
		if h.String() != tc.want {
			t.Errorf("ParseBusinessHours(%q) = %s, want %s", tc.in, h, tc.want)
		}
	}
	if got := DefaultHours.Length(); got != 9*time.Hour+30*time.Minute {
		t.Errorf("DefaultHours.Length = %s", got)
	}
}

func TestParseSeverity(t *testing.T) {
	for in, want := range map[string]Severity{
		"urgent": Urgent, "URGENT": Urgent, "紧急": Urgent,
		"serious": Serious, "严重": Serious,
		"normal": Normal, " 普通 ": Normal,
	} {
		got, err := ParseSeverity(in)
		if err != nil || got != want {
			t.Errorf("ParseSeverity(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseSeverity("critical"); err == nil || !strings.Contains(err.Error(), `"critical"`) {
		t.Errorf("ParseSeverity(critical) error = %v, want one naming the value", err)
	}
}

func TestDefaultPolicy(t *testing.T) {
	p := DefaultPolicy()
	for sev, want := range map[Severity]int{Urgent: 1, Serious: 1, Normal: 2} {
		if got, err := p.Workdays(sev); err != nil || got != want {
			t.Errorf("Workdays(%s) = %d, %v; want %d", sev, got, err, want)
		}
	}
	if err := p.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	p[Normal] = 0
	if err := p.Validate(); err == nil {
		t.Error("Validate accepted a deadline of 0 working days")
	}
	if DefaultPolicy()[Normal] != 2 {
		t.Error("changing one DefaultPolicy map changed the next one")
	}
	if _, err := (Policy{Urgent: 1}).Workdays(Normal); err == nil {
		t.Error("Workdays of a severity the policy lacks returned no error")
	}
}
