package workday

import (
	"fmt"
	"time"
)

// Due is a patch deadline with the days counted to reach it.
type Due struct {
	// Arrived is the arrival time in the calendar's zone.
	Arrived time.Time `json:"arrived"`
	// ArrivalDay is the calendar day of Arrived in the calendar's zone.
	ArrivalDay Date `json:"arrival_day"`
	// Workdays is the number of working days allowed.
	Workdays int `json:"workdays"`
	// Deadline is the close of business on the last counted working day.
	Deadline time.Time `json:"deadline"`
	// Counted are the working days counted, in order; the last is the
	// deadline's day.
	Counted []Date `json:"counted"`
	// Skipped are the days off between the arrival day and the deadline's day.
	Skipped []Day `json:"skipped,omitempty"`
	// Uncovered are the years from the arrival day to the deadline's day whose
	// holiday arrangement the calendar does not know, so only weekends were
	// skipped in them.
	Uncovered []int `json:"uncovered_years,omitempty"`
}

// Deadline returns when a patch that arrived at arrived and may wait workdays
// working days is due: the close of business on the workdays-th working day
// strictly after the calendar day of arrival, in the calendar's zone. The hour
// of arrival and whether the arrival day was a working day do not matter.
// workdays must be at least 1; Policy.Validate rejects smaller values.
func (c *Calendar) Deadline(arrived time.Time, workdays int) time.Time {
	return c.Due(arrived, workdays).Deadline
}

// Due computes the deadline as Deadline does, with the days it counted and
// skipped.
func (c *Calendar) Due(arrived time.Time, workdays int) Due {
	if workdays < 1 {
		panic(fmt.Sprintf("workday: a deadline of %d working days; it must be at least 1", workdays))
	}
	arrived = arrived.In(c.loc)
	due := Due{Arrived: arrived, ArrivalDay: DateOf(arrived), Workdays: workdays}

	d := due.ArrivalDay
	for len(due.Counted) < workdays {
		d = d.AddDays(1)
		if day := c.Day(d); day.Kind.IsWorking() {
			due.Counted = append(due.Counted, d)
		} else {
			due.Skipped = append(due.Skipped, day)
		}
	}
	due.Deadline = d.At(c.hours.Close, c.loc)

	for y := due.ArrivalDay.Year; y <= d.Year; y++ {
		if !c.Covers(y) {
			due.Uncovered = append(due.Uncovered, y)
		}
	}
	return due
}

// AddWorkdays returns the n-th working day strictly after d, or d itself when
// n is 0. A negative n counts backwards: the |n|-th working day before d.
func (c *Calendar) AddWorkdays(d Date, n int) Date {
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		d = d.AddDays(step)
		if c.IsWorkday(d) {
			n--
		}
	}
	return d
}

// WorkdaysBetween counts the working days after from up to and including to,
// so that WorkdaysBetween(d, c.AddWorkdays(d, n)) == n. It is negative when
// to is earlier than from.
func (c *Calendar) WorkdaysBetween(from, to Date) int {
	if to.Before(from) {
		return -c.WorkdaysBetween(to, from)
	}
	n := 0
	for d := from.AddDays(1); !d.After(to); d = d.AddDays(1) {
		if c.IsWorkday(d) {
			n++
		}
	}
	return n
}

// WorkingTime returns the business hours on working days between from and
// to: the time during which the work can be done. It is negative when to is
// earlier than from.
func (c *Calendar) WorkingTime(from, to time.Time) time.Duration {
	if to.Before(from) {
		return -c.WorkingTime(to, from)
	}
	var total time.Duration
	for d, last := c.DateOf(from), c.DateOf(to); !d.After(last); d = d.AddDays(1) {
		if !c.IsWorkday(d) {
			continue
		}
		open, closing := d.At(c.hours.Open, c.loc), d.At(c.hours.Close, c.loc)
		start, end := later(open, from), earlier(closing, to)
		if end.After(start) {
			total += end.Sub(start)
		}
	}
	return total
}

// Remaining is the time left from a moment until a deadline.
type Remaining struct {
	// Calendar is the wall-clock time left; negative once overdue.
	Calendar time.Duration
	// Working is the business time on working days left; negative once
	// overdue.
	Working time.Duration
	// Workdays counts the working days after today up to the deadline's day,
	// as WorkdaysBetween does: 0 when the deadline is at today's close.
	Workdays int
	// Overdue reports whether the deadline has passed.
	Overdue bool
}

// Remaining returns the time left from now until deadline, in wall-clock time,
// business time and working days.
func (c *Calendar) Remaining(now, deadline time.Time) Remaining {
	return Remaining{
		Calendar: deadline.Sub(now),
		Working:  c.WorkingTime(now, deadline),
		Workdays: c.WorkdaysBetween(c.DateOf(now), c.DateOf(deadline)),
		Overdue:  now.After(deadline),
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
