// Package workday is the Chinese official working-day calendar behind patch
// deadlines, schedules and fault SLAs: weekends, statutory holidays and the
// weekend days made working days (调休), in one time zone with business
// hours.
//
// The built-in arrangement comes from the State Council notices as recorded by
// github.com/6tail/lunar-go; an override file adds announcements newer than the
// binary. The package reads no clock: callers pass the times they mean.
package workday

import (
	"fmt"
	"slices"
	"time"

	// The tz database is linked into the binary so that Asia/Shanghai loads on
	// hosts without /usr/share/zoneinfo.
	_ "time/tzdata"

	"patrol/i18n"
)

// DefaultZone is the calendar's time zone unless a flag or the override file
// sets another.
const DefaultZone = "Asia/Shanghai"

// Kind is the category of a day in the official calendar.
type Kind int

// The kinds of day. A working day is a Workday or a MakeupWorkday.
const (
	// Workday is a Monday to Friday that is not a holiday.
	Workday Kind = iota
	// Weekend is a Saturday or Sunday that is not a make-up working day.
	Weekend
	// Holiday is a day off of a statutory holiday period, weekdays and weekends
	// alike.
	Holiday
	// MakeupWorkday is a Saturday or Sunday made a working day (调休上班).
	MakeupWorkday
)

var kindNames = [...]string{Workday: "workday", Weekend: "weekend", Holiday: "holiday", MakeupWorkday: "makeup_workday"}

var kindTexts = [...]i18n.Text{
	Workday:       i18n.T("workday", "工作日"),
	Weekend:       i18n.T("weekend", "周末"),
	Holiday:       i18n.T("holiday", "节假日"),
	MakeupWorkday: i18n.T("make-up workday", "调休上班"),
}

// String returns the kind's name as JSON writes it: workday, weekend, holiday
// or makeup_workday.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return kindNames[k]
}

// Text returns the kind's name for users in both languages.
func (k Kind) Text() i18n.Text {
	if k < 0 || int(k) >= len(kindTexts) {
		return i18n.T(k.String(), k.String())
	}
	return kindTexts[k]
}

// IsWorking reports whether a day of this kind is a working day.
func (k Kind) IsWorking() bool { return k == Workday || k == MakeupWorkday }

// MarshalText writes the kind's name, so JSON shows "holiday".
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Day is one date of the calendar with its kind.
type Day struct {
	Date Date `json:"date"`
	Kind Kind `json:"kind"`
	// Name is the holiday that a holiday or a make-up working day belongs to;
	// empty for ordinary weekdays and weekends.
	Name i18n.Text `json:"name,omitzero"`
	// Source is where the entry comes from: SourceOfficial for the built-in
	// data, "file:line" for an override file, empty for ordinary days.
	Source string `json:"source,omitempty"`
}

// SourceOfficial is the Source of days from the built-in official data.
const SourceOfficial = "official"

// Calendar computes working days and deadlines in one time zone. It is
// immutable and safe for concurrent use.
type Calendar struct {
	loc   *time.Location
	hours BusinessHours
	// days holds every date whose kind the arrangement sets; every other date
	// is a Workday or a Weekend by its weekday.
	days map[Date]Day
	// years holds the years whose whole arrangement is known.
	years map[int]bool
}

// Config sets up a Calendar. The zero Config is the official calendar in
// Asia/Shanghai with business hours 08:30-18:00.
type Config struct {
	// Location is the calendar's time zone; nil means the override file's
	// timezone, else Asia/Shanghai.
	Location *time.Location
	// Hours are the business hours; the zero value means the override file's
	// business_hours, else DefaultHours.
	Hours BusinessHours
	// Overrides is an override file read with LoadOverrides, or nil.
	Overrides *Overrides
}

// New builds a calendar from the built-in official data and cfg.
func New(cfg Config) (*Calendar, error) {
	c := &Calendar{loc: cfg.Location, hours: cfg.Hours, days: map[Date]Day{}, years: map[int]bool{}}

	ov := cfg.Overrides
	if c.loc == nil && ov != nil && ov.Location != nil {
		c.loc = ov.Location
	}
	if c.loc == nil {
		loc, err := time.LoadLocation(DefaultZone)
		if err != nil {
			return nil, fmt.Errorf("load time zone %s: %w", DefaultZone, err)
		}
		c.loc = loc
	}
	if c.hours == (BusinessHours{}) && ov != nil && ov.Hours != nil {
		c.hours = *ov.Hours
	}
	if c.hours == (BusinessHours{}) {
		c.hours = DefaultHours
	}
	if err := c.hours.Validate(); err != nil {
		return nil, err
	}

	official := officialData()
	replaced := map[int]bool{}
	if ov != nil {
		for _, y := range ov.Years {
			replaced[y] = true
		}
	}
	for _, d := range official.days {
		if !replaced[d.Date.Year] {
			c.days[d.Date] = d
		}
	}
	for y := range official.years {
		c.years[y] = true
	}
	if ov != nil {
		for y := range replaced {
			c.years[y] = true
		}
		for _, d := range ov.Days {
			c.days[d.Date] = d
		}
	}
	return c, nil
}

// Default returns the official calendar in Asia/Shanghai with business hours
// 08:30-18:00.
func Default() *Calendar {
	c, err := New(Config{})
	if err != nil {
		// The zero Config has valid hours and Asia/Shanghai comes from the
		// linked time/tzdata, so New cannot fail here.
		panic(err)
	}
	return c
}

// Location returns the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// Hours returns the calendar's business hours.
func (c *Calendar) Hours() BusinessHours { return c.hours }

// DateOf returns the calendar day of t in the calendar's time zone.
func (c *Calendar) DateOf(t time.Time) Date { return DateOf(t.In(c.loc)) }

// Day returns d with its kind, holiday name and source.
func (c *Calendar) Day(d Date) Day {
	if day, ok := c.days[d]; ok {
		return day
	}
	if d.IsWeekend() {
		return Day{Date: d, Kind: Weekend}
	}
	return Day{Date: d, Kind: Workday}
}

// Kind returns what d is: a workday, a weekend day, a holiday or a make-up
// working day.
func (c *Calendar) Kind(d Date) Kind { return c.Day(d).Kind }

// IsWorkday reports whether d is a working day: an ordinary weekday that is no
// holiday, or a weekend day made a working day.
func (c *Calendar) IsWorkday(d Date) bool { return c.Kind(d).IsWorking() }

// Month returns every day of the month in order.
func (c *Calendar) Month(year int, month time.Month) []Day {
	first := NewDate(year, month, 1)
	var days []Day
	for d := first; d.Month == first.Month; d = d.AddDays(1) {
		days = append(days, c.Day(d))
	}
	return days
}

// Covers reports whether the calendar contains the holiday arrangement of year,
// from the built-in data or an override file's years list. For other years
// only weekends are days off.
//
// NOTE: a notice can move days of the year before it (the 2002 notice made
// 2001-12-29 a working day), so the last days of a covered year can still
// change when the next year's notice comes out.
func (c *Calendar) Covers(year int) bool { return c.years[year] }

// Coverage returns the covered years in order.
func (c *Calendar) Coverage() []int {
	years := make([]int, 0, len(c.years))
	for y := range c.years {
		years = append(years, y)
	}
	slices.Sort(years)
	return years
}
