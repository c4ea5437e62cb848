package workday

import (
	"testing"
	"time"
)

// Sources of the expected arrangements in these tests:
//
//   - notice2026: 国务院办公厅关于2026年部分节假日安排的通知, dated 2025-11-04, as
//     published by Xinhua and read at
//     https://politics.gmw.cn/2025-11/04/content_38391083.htm
//   - lunar2027: the HolidayUtil table of github.com/6tail/lunar-go v1.4.7
//     (published 2026-11-06). The State Council notice for 2027 could not be
//     found with the search tools while these tests were written, so the 2027
//     rows check patrol against lunar-go, not against the notice itself.
const (
	notice2026 = "2026 notice"
	lunar2027  = "lunar-go v1.4.7"
)

// period is one holiday period of a notice: the days off from first to last
// and the weekend days worked in exchange.
type period struct {
	source  string
	name    string // Chinese name as the calendar reports it
	nameEN  string
	first   string
	last    string
	makeups []string
}

var periods = []period{
	// 一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
	{notice2026, "元旦", "New Year's Day", "2026-01-01", "2026-01-03", []string{"2026-01-04"}},
	// 二、春节：2月15日（周日）至23日（周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。
	{notice2026, "春节", "Spring Festival", "2026-02-15", "2026-02-23", []string{"2026-02-14", "2026-02-28"}},
	// 三、清明节：4月4日（周六）至6日（周一）放假，共3天。
	{notice2026, "清明节", "Qingming Festival", "2026-04-04", "2026-04-06", nil},
	// 四、劳动节：5月1日（周五）至5日（周二）放假调休，共5天。5月9日（周六）上班。
	{notice2026, "劳动节", "Labour Day", "2026-05-01", "2026-05-05", []string{"2026-05-09"}},
	// 五、端午节：6月19日（周五）至21日（周日）放假，共3天。
	{notice2026, "端午节", "Dragon Boat Festival", "2026-06-19", "2026-06-21", nil},
	// 六、中秋节：9月25日（周五）至27日（周日）放假，共3天。
	{notice2026, "中秋节", "Mid-Autumn Festival", "2026-09-25", "2026-09-27", nil},
	// 七、国庆节：10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。
	{notice2026, "国庆节", "National Day", "2026-10-01", "2026-10-07", []string{"2026-09-20", "2026-10-10"}},

	{lunar2027, "元旦", "New Year's Day", "2027-01-01", "2027-01-03", nil},
	{lunar2027, "春节", "Spring Festival", "2027-02-05", "2027-02-13", []string{"2027-01-31", "2027-02-14"}},
	{lunar2027, "国庆节", "National Day", "2027-10-01", "2027-10-07", []string{"2027-09-26", "2027-10-09"}},
}

func TestCalendarOfficialPeriods(t *testing.T) {
	c := Default()
	for _, p := range periods {
		first, last := mustDate(t, p.first), mustDate(t, p.last)
		for d := first; !d.After(last); d = d.AddDays(1) {
			day := c.Day(d)
			if day.Kind != Holiday {
				t.Errorf("%s (%s): %s is %s, want holiday", p.name, p.source, d, day.Kind)
			}
			if day.Name.ZH != p.name || day.Name.EN != p.nameEN {
				t.Errorf("%s (%s): %s is named %q / %q", p.name, p.source, d, day.Name.ZH, day.Name.EN)
			}
			if c.IsWorkday(d) {
				t.Errorf("%s (%s): IsWorkday(%s) = true", p.name, p.source, d)
			}
		}
		// The day before and the day after a period are no part of it.
		for _, d := range []Date{first.AddDays(-1), last.AddDays(1)} {
			if day := c.Day(d); day.Kind == Holiday && day.Name.ZH == p.name {
				t.Errorf("%s (%s): %s, outside the period, is a holiday", p.name, p.source, d)
			}
		}
		for _, s := range p.makeups {
			d := mustDate(t, s)
			day := c.Day(d)
			if day.Kind != MakeupWorkday {
				t.Errorf("%s (%s): %s (%s) is %s, want makeup_workday", p.name, p.source, d, d.Weekday(), day.Kind)
			}
			if day.Name.ZH != p.name {
				t.Errorf("%s (%s): make-up day %s is named %q", p.name, p.source, d, day.Name.ZH)
			}
			if !c.IsWorkday(d) {
				t.Errorf("%s (%s): IsWorkday(%s) = false for a make-up day", p.name, p.source, d)
			}
		}
	}
}

func TestCalendarOrdinaryDays(t *testing.T) {
	c := Default()
	for _, tc := range []struct {
		date string
		want Kind
	}{
		{"2026-09-19", Weekend},       // Saturday before the make-up Sunday of National Day
		{"2026-09-21", Workday},       // Monday
		{"2026-10-08", Workday},       // Thursday after National Day
		{"2026-10-11", Weekend},       // Sunday after the make-up Saturday
		{"2026-12-31", Workday},       // Thursday
		{"2027-09-15", Holiday},       // Mid-Autumn Festival 2027, one day (lunar-go)
		{"2027-06-09", Holiday},       // Dragon Boat Festival 2027, one day (lunar-go)
		{"2027-05-08", MakeupWorkday}, // Labour Day 2027 make-up Saturday (lunar-go)
		{"2028-10-02", Workday},       // beyond the built-in data: weekdays only
		{"2028-10-01", Weekend},
	} {
		if got := c.Kind(mustDate(t, tc.date)); got != tc.want {
			t.Errorf("Kind(%s) = %s, want %s", tc.date, got, tc.want)
		}
	}
}

func TestCalendarCoverage(t *testing.T) {
	c := Default()
	for _, y := range []int{2002, 2015, 2020, 2025, 2026, 2027} {
		if !c.Covers(y) {
			t.Errorf("Covers(%d) = false, want true", y)
		}
	}
	for _, y := range []int{2001, 2028} {
		if c.Covers(y) {
			t.Errorf("Covers(%d) = true, want false", y)
		}
	}
	years := c.Coverage()
	if len(years) == 0 || years[0] != 2002 || years[len(years)-1] != 2027 {
		t.Errorf("Coverage() = %v, want 2002 … 2027", years)
	}
}

func TestCalendarMonth(t *testing.T) {
	c := Default()
	days := c.Month(2026, time.October)
	if len(days) != 31 {
		t.Fatalf("October 2026 has %d days, want 31", len(days))
	}
	counts := map[Kind]int{}
	for i, d := range days {
		if d.Date.Day != i+1 || d.Date.Month != time.October {
			t.Fatalf("day %d is %s", i, d.Date)
		}
		counts[d.Kind]++
	}
	// October 2026: 1-7 holiday; 10 a make-up Saturday; weekends 11, 17, 18,
	// 24, 25, 31; the other 17 days ordinary weekdays.
	want := map[Kind]int{Holiday: 7, MakeupWorkday: 1, Weekend: 6, Workday: 17}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("October 2026 has %d days of kind %s, want %d", counts[k], k, n)
		}
	}
	if days := c.Month(2028, time.February); len(days) != 29 {
		t.Errorf("February 2028 has %d days, want 29", len(days))
	}
}

func TestCalendarDefaultZoneAndHours(t *testing.T) {
	c := Default()
	if got := c.Location().String(); got != "Asia/Shanghai" {
		t.Errorf("Location = %s, want Asia/Shanghai", got)
	}
	if got := c.Hours().String(); got != "08:30-18:00" {
		t.Errorf("Hours = %s, want 08:30-18:00", got)
	}
}

func mustDate(t *testing.T, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
