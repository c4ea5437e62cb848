package workday

import (
	"testing"
	"time"
)

// The expected deadlines follow from the arrangements cited at the top of
// calendar_test.go: notice2026 for 2026, lunar2027 for 2027. Each row's
// comment lists the days between arrival and deadline.
func TestDeadlineAroundHolidays(t *testing.T) {
	c := Default()
	for _, tc := range []struct {
		name     string
		source   string
		arrived  string
		workdays int
		want     string
	}{
		// New Year 2026: Jan 1-3 off, Sunday Jan 4 worked.
		{"new year eve urgent", notice2026, "2025-12-31T15:00:00+08:00", 1, "2026-01-04T18:00:00+08:00"},
		{"new year eve normal", notice2026, "2025-12-31T15:00:00+08:00", 2, "2026-01-05T18:00:00+08:00"},

		// Spring Festival 2026: Saturday Feb 14 worked, Feb 15-23 off,
		// Saturday Feb 28 worked.
		{"spring festival friday serious", notice2026, "2026-02-13T10:00:00+08:00", 1, "2026-02-14T18:00:00+08:00"},
		{"spring festival friday normal", notice2026, "2026-02-13T10:00:00+08:00", 2, "2026-02-24T18:00:00+08:00"},
		{"spring festival make-up saturday", notice2026, "2026-02-14T09:00:00+08:00", 1, "2026-02-24T18:00:00+08:00"},
		{"spring festival first day off", notice2026, "2026-02-15T11:00:00+08:00", 1, "2026-02-24T18:00:00+08:00"},
		{"friday before make-up saturday", notice2026, "2026-02-27T16:00:00+08:00", 1, "2026-02-28T18:00:00+08:00"},

		// Qingming 2026: Apr 4-6 off.
		{"qingming friday urgent", notice2026, "2026-04-03T16:00:00+08:00", 1, "2026-04-07T18:00:00+08:00"},

		// Labour Day 2026: May 1-5 off, Saturday May 9 worked.
		{"labour day eve urgent", notice2026, "2026-04-30T09:00:00+08:00", 1, "2026-05-06T18:00:00+08:00"},
		{"labour day eve normal", notice2026, "2026-04-30T09:00:00+08:00", 2, "2026-05-07T18:00:00+08:00"},
		{"labour day make-up saturday normal", notice2026, "2026-05-08T17:00:00+08:00", 2, "2026-05-11T18:00:00+08:00"},

		// Dragon Boat 2026: Jun 19-21 off.
		{"dragon boat eve urgent", notice2026, "2026-06-18T12:00:00+08:00", 1, "2026-06-22T18:00:00+08:00"},

		// Mid-Autumn 2026: Friday Sep 25 to Sunday Sep 27 off, so a patch that
		// arrives on the Friday evening before the National Day week has
		// arrived on a holiday and is due on Monday.
		{"friday evening mid-autumn urgent", notice2026, "2026-09-25T20:00:00+08:00", 1, "2026-09-28T18:00:00+08:00"},
		{"friday evening mid-autumn normal", notice2026, "2026-09-25T20:00:00+08:00", 2, "2026-09-29T18:00:00+08:00"},

		// National Day 2026: Sunday Sep 20 worked, Oct 1-7 off, Saturday
		// Oct 10 worked.
		{"friday evening before make-up sunday", notice2026, "2026-09-18T20:00:00+08:00", 1, "2026-09-20T18:00:00+08:00"},
		{"on the make-up sunday", notice2026, "2026-09-20T09:00:00+08:00", 1, "2026-09-21T18:00:00+08:00"},
		{"national day eve urgent", notice2026, "2026-09-30T17:00:00+08:00", 1, "2026-10-08T18:00:00+08:00"},
		{"national day eve serious", notice2026, "2026-09-30T17:00:00+08:00", 1, "2026-10-08T18:00:00+08:00"},
		{"national day eve normal", notice2026, "2026-09-30T17:00:00+08:00", 2, "2026-10-09T18:00:00+08:00"},
		{"on national day", notice2026, "2026-10-03T10:00:00+08:00", 1, "2026-10-08T18:00:00+08:00"},
		{"last minute before make-up saturday", notice2026, "2026-10-09T23:59:00+08:00", 1, "2026-10-10T18:00:00+08:00"},
		{"midnight of make-up saturday", notice2026, "2026-10-10T00:00:00+08:00", 1, "2026-10-12T18:00:00+08:00"},

		// Arrival times in UTC are converted to Asia/Shanghai first: 15:30Z
		// on Feb 13 is Friday 23:30 there, 16:30Z is already the make-up
		// Saturday.
		{"utc friday in shanghai", notice2026, "2026-02-13T15:30:00Z", 1, "2026-02-14T18:00:00+08:00"},
		{"utc saturday in shanghai", notice2026, "2026-02-13T16:30:00Z", 1, "2026-02-24T18:00:00+08:00"},
		// 09:00 in Los Angeles on Sep 30 is midnight of Oct 1 in Shanghai.
		{"los angeles into national day", notice2026, "2026-09-30T09:00:00-07:00", 1, "2026-10-08T18:00:00+08:00"},

		// New Year 2027: Jan 1-3 off; the patch crosses the year.
		{"new year 2027 eve urgent", lunar2027, "2026-12-31T12:00:00+08:00", 1, "2027-01-04T18:00:00+08:00"},

		// Spring Festival 2027: Sunday Jan 31 worked, Feb 5-13 off, Sunday
		// Feb 14 worked.
		{"friday before make-up sunday 2027", lunar2027, "2027-01-29T19:00:00+08:00", 1, "2027-01-31T18:00:00+08:00"},
		{"spring festival 2027 eve urgent", lunar2027, "2027-02-04T20:00:00+08:00", 1, "2027-02-14T18:00:00+08:00"},
		{"spring festival 2027 eve normal", lunar2027, "2027-02-04T20:00:00+08:00", 2, "2027-02-15T18:00:00+08:00"},

		// Mid-Autumn 2027: Wednesday Sep 15 off.
		{"mid-autumn 2027 eve urgent", lunar2027, "2027-09-14T10:00:00+08:00", 1, "2027-09-16T18:00:00+08:00"},

		// National Day 2027: Sunday Sep 26 worked, Oct 1-7 off, Saturday Oct 9
		// worked.
		{"friday evening before national day week 2027", lunar2027, "2027-09-24T20:00:00+08:00", 1, "2027-09-26T18:00:00+08:00"},
		{"national day 2027 eve serious", lunar2027, "2027-09-30T11:00:00+08:00", 1, "2027-10-08T18:00:00+08:00"},
		{"national day 2027 eve normal", lunar2027, "2027-09-30T11:00:00+08:00", 2, "2027-10-09T18:00:00+08:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			arrived := mustTime(t, tc.arrived)
			want := mustTime(t, tc.want)
			got := c.Deadline(arrived, tc.workdays)
			if !got.Equal(want) {
				t.Errorf("Deadline(%s, %d) = %s, want %s (%s)", tc.arrived, tc.workdays,
					got.Format(time.RFC3339), tc.want, tc.source)
			}
			if got.Location() != c.Location() {
				t.Errorf("deadline is in %s, want the calendar's zone %s", got.Location(), c.Location())
			}
		})
	}
}

func TestDueCountsAndSkips(t *testing.T) {
	c := Default()
	due := c.Due(mustTime(t, "2026-09-30T17:00:00+08:00"), 2)

	if due.ArrivalDay.String() != "2026-09-30" {
		t.Errorf("ArrivalDay = %s", due.ArrivalDay)
	}
	if len(due.Counted) != 2 || due.Counted[0].String() != "2026-10-08" || due.Counted[1].String() != "2026-10-09" {
		t.Errorf("Counted = %v, want [2026-10-08 2026-10-09]", due.Counted)
	}
	if len(due.Skipped) != 7 {
		t.Fatalf("Skipped %d days, want the 7 days of National Day: %v", len(due.Skipped), due.Skipped)
	}
	if due.Skipped[0].Name.EN != "National Day" {
		t.Errorf("first skipped day is %v, want National Day", due.Skipped[0])
	}
	if len(due.Uncovered) != 0 {
		t.Errorf("Uncovered = %v, want none for 2026", due.Uncovered)
	}
}

func TestDueBeyondBuiltinData(t *testing.T) {
	due := Default().Due(mustTime(t, "2028-09-29T10:00:00+08:00"), 1)
	if len(due.Uncovered) != 1 || due.Uncovered[0] != 2028 {
		t.Errorf("Uncovered = %v, want [2028]", due.Uncovered)
	}
	// Without data for 2028 only the weekend is skipped.
	if got := due.Deadline.Format(time.RFC3339); got != "2028-10-02T18:00:00+08:00" {
		t.Errorf("Deadline = %s, want 2028-10-02T18:00:00+08:00", got)
	}
}

func TestDeadlineBusinessHoursAndZone(t *testing.T) {
	urumqi, err := time.LoadLocation("Asia/Urumqi") // UTC+6, no DST
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Location: urumqi, Hours: BusinessHours{Open: NewClock(9, 0), Close: NewClock(17, 30)}})
	if err != nil {
		t.Fatal(err)
	}
	// 23:30 in Shanghai on Friday Feb 13 is 21:30 in Urumqi, still Friday.
	got := c.Deadline(mustTime(t, "2026-02-13T23:30:00+08:00"), 1)
	if want := "2026-02-14T17:30:00+06:00"; got.Format(time.RFC3339) != want {
		t.Errorf("Deadline = %s, want %s", got.Format(time.RFC3339), want)
	}
}

func TestDeadlineRejectsZeroWorkdays(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Deadline with 0 working days did not panic")
		}
	}()
	Default().Deadline(time.Now(), 0)
}

func TestAddWorkdaysAndBetween(t *testing.T) {
	c := Default()
	for _, tc := range []struct {
		from string
		n    int
		want string
	}{
		{"2026-09-30", 1, "2026-10-08"},
		{"2026-09-30", 3, "2026-10-10"}, // Oct 10 is the make-up Saturday
		{"2026-10-08", -1, "2026-09-30"},
		{"2026-10-12", -2, "2026-10-09"},
		{"2026-10-03", 0, "2026-10-03"},
	} {
		from := mustDate(t, tc.from)
		got := c.AddWorkdays(from, tc.n)
		if got.String() != tc.want {
			t.Errorf("AddWorkdays(%s, %d) = %s, want %s", tc.from, tc.n, got, tc.want)
		}
		if back := c.WorkdaysBetween(from, got); back != tc.n {
			t.Errorf("WorkdaysBetween(%s, %s) = %d, want %d", tc.from, got, back, tc.n)
		}
	}
}

func TestWorkingTime(t *testing.T) {
	c := Default()
	for _, tc := range []struct {
		from, to string
		want     time.Duration
	}{
		// Within one working day.
		{"2026-09-30T10:00:00+08:00", "2026-09-30T12:00:00+08:00", 2 * time.Hour},
		// Starts before opening: counted from 08:30.
		{"2026-09-30T06:00:00+08:00", "2026-09-30T09:00:00+08:00", 30 * time.Minute},
		// National Day eve 17:00 to the deadline: 1 h on Sep 30, nothing on
		// Oct 1-7, 9 h 30 min on Oct 8.
		{"2026-09-30T17:00:00+08:00", "2026-10-08T18:00:00+08:00", 10*time.Hour + 30*time.Minute},
		// A whole holiday: nothing.
		{"2026-10-01T00:00:00+08:00", "2026-10-07T23:59:00+08:00", 0},
		// Backwards: negative.
		{"2026-09-30T12:00:00+08:00", "2026-09-30T10:00:00+08:00", -2 * time.Hour},
	} {
		got := c.WorkingTime(mustTime(t, tc.from), mustTime(t, tc.to))
		if got != tc.want {
			t.Errorf("WorkingTime(%s, %s) = %s, want %s", tc.from, tc.to, got, tc.want)
		}
	}
}

func TestRemaining(t *testing.T) {
	c := Default()
	deadline := mustTime(t, "2026-10-08T18:00:00+08:00")

	left := c.Remaining(mustTime(t, "2026-10-03T10:00:00+08:00"), deadline)
	if left.Calendar != 5*24*time.Hour+8*time.Hour {
		t.Errorf("Calendar = %s, want 128h", left.Calendar)
	}
	if left.Working != 9*time.Hour+30*time.Minute {
		t.Errorf("Working = %s, want 9h30m", left.Working)
	}
	if left.Workdays != 1 {
		t.Errorf("Workdays = %d, want 1", left.Workdays)
	}
	if left.Overdue {
		t.Error("Overdue = true before the deadline")
	}

	late := c.Remaining(mustTime(t, "2026-10-09T09:30:00+08:00"), deadline)
	if !late.Overdue {
		t.Error("Overdue = false the day after the deadline")
	}
	if late.Working != -(time.Hour) {
		t.Errorf("Working = %s, want -1h (08:30-09:30 on Oct 9)", late.Working)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
