package workday

import (
	"fmt"
	"time"
)

// Date is a calendar day without a time or a time zone. The zero Date is
// invalid; build one with NewDate, ParseDate or DateOf.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// dateLayout is the ISO 8601 date form of override files, JSON and messages.
const dateLayout = "2006-01-02"

// NewDate returns the date y-m-d, normalized the way time.Date normalizes
// (2026-02-30 becomes 2026-03-02). Use ParseDate to reject such dates.
func NewDate(year int, month time.Month, day int) Date {
	return DateOf(time.Date(year, month, day, 12, 0, 0, 0, time.UTC))
}

// ParseDate reads a date written as YYYY-MM-DD and rejects days that do not
// exist, such as 2026-02-30.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return Date{}, fmt.Errorf("invalid date %q: write it as YYYY-MM-DD, for example 2026-10-01", s)
	}
	return DateOf(t), nil
}

// DateOf returns the calendar day of t in t's own location. Convert t with
// t.In(loc) first to get the day somewhere else.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// String formats the date as YYYY-MM-DD.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.noonUTC().Weekday() }

// IsWeekend reports whether d is a Saturday or a Sunday.
func (d Date) IsWeekend() bool {
	wd := d.Weekday()
	return wd == time.Saturday || wd == time.Sunday
}

// AddDays returns the date n days after d (before d when n is negative).
func (d Date) AddDays(n int) Date {
	return DateOf(d.noonUTC().AddDate(0, 0, n))
}

// Before reports whether d is earlier than other.
func (d Date) Before(other Date) bool { return d.Compare(other) < 0 }

// After reports whether d is later than other.
func (d Date) After(other Date) bool { return d.Compare(other) > 0 }

// Compare returns -1, 0 or +1 as d is earlier than, the same as or later
// than other.
func (d Date) Compare(other Date) int {
	switch {
	case d.Year != other.Year:
		return sign(d.Year - other.Year)
	case d.Month != other.Month:
		return sign(int(d.Month) - int(other.Month))
	default:
		return sign(d.Day - other.Day)
	}
}

// At returns the instant on d at the given time of day in loc.
func (d Date) At(clock Clock, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, clock.Hour(), clock.Minute(), 0, 0, loc)
}

// MarshalText writes the date as YYYY-MM-DD, so JSON shows "2026-10-01".
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a date written as YYYY-MM-DD.
func (d *Date) UnmarshalText(b []byte) error {
	parsed, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}

// noonUTC places d at noon UTC, where adding days never crosses a zone
// transition.
func (d Date) noonUTC() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC)
}

// daysBetween returns the number of days from a to b (negative when b is
// earlier).
func daysBetween(a, b Date) int {
	return int(b.noonUTC().Sub(a.noonUTC()).Hours() / 24)
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
