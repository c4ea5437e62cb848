package patches

import (
	"fmt"
	"strings"
	"time"

	"patrol/i18n"
)

// ParseWindowEnd reads the end of a maintenance window as written after
// --until or --window: a clock time HH:MM (its next occurrence after now in
// loc, so 06:00 at 22:00 means tomorrow morning), a duration from now such as
// 2h or 90m, or an RFC 3339 time. Empty means no window: the zero time.
func ParseWindowEnd(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, windowError(s)
		}
		return now.Add(d), nil
	}
	clock, err := time.ParseInLocation("15:04", s, loc)
	if err != nil {
		return time.Time{}, windowError(s)
	}
	local := now.In(loc)
	end := time.Date(local.Year(), local.Month(), local.Day(), clock.Hour(), clock.Minute(), 0, 0, loc)
	if !end.After(local) {
		end = end.AddDate(0, 0, 1)
	}
	return end, nil
}

// WindowError is an invalid window end.
type WindowError struct{ Value string }

func (e *WindowError) Error() string { return e.Message().EN }

// Message returns the error in both languages.
func (e *WindowError) Message() i18n.Text {
	return i18n.T(
		fmt.Sprintf("invalid window end %q: write a clock time such as 06:00, a duration such as 2h, or an RFC 3339 time", e.Value),
		fmt.Sprintf("维护窗口结束时间 %q 无效：请写钟点（如 06:00）、时长（如 2h）或 RFC 3339 时间", e.Value))
}

func windowError(s string) error { return &WindowError{Value: s} }
