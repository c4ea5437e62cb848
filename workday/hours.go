package workday

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Clock is a time of day in minutes after midnight, from 0 (00:00) to 1440
// (24:00, the end of the day).
type Clock int

// NewClock returns the time of day hour:minute.
func NewClock(hour, minute int) Clock { return Clock(hour*60 + minute) }

// ParseClock reads a time of day written as HH:MM, from 00:00 to 24:00.
func ParseClock(s string) (Clock, error) {
	hh, mm, ok := strings.Cut(strings.TrimSpace(s), ":")
	hour, errH := strconv.Atoi(hh)
	minute, errM := strconv.Atoi(mm)
	if !ok || errH != nil || errM != nil || len(mm) != 2 || hour < 0 || minute < 0 || minute > 59 ||
		hour > 24 || hour == 24 && minute != 0 {
		return 0, fmt.Errorf("invalid time of day %q: write it as HH:MM between 00:00 and 24:00, for example 08:30", s)
	}
	return NewClock(hour, minute), nil
}

// Hour returns the hour of c, 0 to 24.
func (c Clock) Hour() int { return int(c) / 60 }

// Minute returns the minute within the hour of c.
func (c Clock) Minute() int { return int(c) % 60 }

// String formats c as HH:MM.
func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", c.Hour(), c.Minute()) }

// BusinessHours is the part of a working day in which work is done. A patch
// deadline falls at Close.
type BusinessHours struct {
	Open  Clock
	Close Clock
}

// DefaultHours is 08:30 to 18:00, the business hours of the patch-deadline
// rules.
var DefaultHours = BusinessHours{Open: NewClock(8, 30), Close: NewClock(18, 0)}

// ParseBusinessHours reads business hours written as HH:MM-HH:MM, for example
// 08:30-18:00.
func ParseBusinessHours(s string) (BusinessHours, error) {
	open, closing, ok := strings.Cut(s, "-")
	if !ok {
		return BusinessHours{}, fmt.Errorf("invalid business hours %q: write them as HH:MM-HH:MM, for example 08:30-18:00", s)
	}
	var h BusinessHours
	var err error
	if h.Open, err = ParseClock(open); err != nil {
		return BusinessHours{}, fmt.Errorf("invalid business hours %q: %w", s, err)
	}
	if h.Close, err = ParseClock(closing); err != nil {
		return BusinessHours{}, fmt.Errorf("invalid business hours %q: %w", s, err)
	}
	if err := h.Validate(); err != nil {
		return BusinessHours{}, err
	}
	return h, nil
}

// Validate rejects hours that are out of range or that close before they
// open.
func (h BusinessHours) Validate() error {
	if h.Open < 0 || h.Close > 24*60 || h.Open >= h.Close {
		return fmt.Errorf("invalid business hours %s: the opening time must be earlier than the closing time, for example 08:30-18:00", h)
	}
	return nil
}

// Length returns the length of one working day's business hours.
func (h BusinessHours) Length() time.Duration {
	return time.Duration(h.Close-h.Open) * time.Minute
}

// String formats the hours as HH:MM-HH:MM.
func (h BusinessHours) String() string { return h.Open.String() + "-" + h.Close.String() }
