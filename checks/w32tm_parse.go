package checks

// Parser of `w32tm /query /status`. Its labels follow the display language
// (English "Last Successful Sync Time", Chinese 上次成功同步时间) and the sync
// time follows the host culture, so the time probe prints the culture's date
// and time patterns and the host clock as ISO 8601 before the w32tm text.
// Labels are read in English and Chinese; a line with any other label is
// read by its position, which w32tm keeps fixed.

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// W32tmStatus is what `w32tm /query /status` reports.
type W32tmStatus struct {
	// Leap is the leap indicator: 0 to 2 synchronized, 3 not synchronized.
	Leap      int
	LeapKnown bool
	// Stratum is 0 when the clock has no time source.
	Stratum        int
	StratumKnown   bool
	RootDispersion time.Duration
	Source         string
	// LastSyncRaw is the sync time as w32tm printed it, in the host culture.
	LastSyncRaw string
	// LastSync is LastSyncRaw read as the host's wall clock (zone UTC); zero
	// when LastSyncKnown is false, as for "unspecified" (未指定).
	LastSync      time.Time
	LastSyncKnown bool
	// ErrorCode is the HRESULT w32tm printed instead of a status, such as
	// 0x80070426 when the Windows Time service is not started.
	ErrorCode string
}

// TimeProbe is the output of patrol's Windows time probe.
type TimeProbe struct {
	Culture         HostCulture
	LongTimePattern string
	// LocalTime is the host's wall clock when the probe ran (zone UTC, so it
	// compares with W32tmStatus.LastSync).
	LocalTime      time.Time
	LocalTimeKnown bool
	// Service is the W32Time service status: Running, Stopped, …
	Service string
	// ExitCode is w32tm's exit status.
	ExitCode int
	Status   W32tmStatus
	// Lines are the w32tm output lines, kept as evidence.
	Lines []string
}

// w32tmFields maps each known label to its field. The Chinese labels are
// those of zh-CN Windows in the public-zh-w32tm-* recordings, where the leap
// indicator keeps its English word ("Leap 指示符"). A line whose label is in
// another language is read by its position (w32tmPositions).
var w32tmFields = map[string]string{
	"Leap Indicator":            "leap",
	"Leap 指示符":                  "leap",
	"Stratum":                   "stratum",
	"层次":                        "stratum",
	"Root Dispersion":           "dispersion",
	"根分散":                       "dispersion",
	"Last Successful Sync Time": "lastsync",
	"上次成功同步时间":                  "lastsync",
	"Source":                    "source",
	"源":                         "source",
}

// w32tmPositions are the fields by line position in w32tm's fixed order.
var w32tmPositions = map[int]string{0: "leap", 1: "stratum", 4: "dispersion", 6: "lastsync", 7: "source"}

var hresultPattern = regexp.MustCompile(`\(0x[0-9A-Fa-f]{8}\)`)

// ParseTimeProbe parses the time probe: Key=Value lines up to "#w32tm", then
// the w32tm output.
func ParseTimeProbe(out []byte) TimeProbe {
	var p TimeProbe
	text := strings.ReplaceAll(strings.TrimPrefix(string(out), "\xef\xbb\xbf"), "\r", "")
	head, body, _ := strings.Cut(text, "#w32tm\n")
	for _, line := range strings.Split(head, "\n") {
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.TrimSpace(key) {
		case "Culture":
			p.Culture.Name = value
		case "ShortDatePattern":
			p.Culture.ShortDatePattern = value
		case "LongTimePattern":
			p.LongTimePattern = value
		case "LocalTime":
			if t, err := time.Parse(time.RFC3339, value); err == nil {
				p.LocalTime = wallClock(t)
				p.LocalTimeKnown = true
			}
		case "W32TimeService":
			p.Service = value
		case "ExitCode":
			p.ExitCode, _ = strconv.Atoi(value)
		}
	}
	for _, l := range strings.Split(body, "\n") {
		if strings.TrimSpace(l) != "" {
			p.Lines = append(p.Lines, strings.TrimSpace(l))
		}
	}
	p.Status = ParseW32tmStatus([]byte(body), p.Culture.ShortDatePattern)
	return p
}

// ParseW32tmStatus reads `w32tm /query /status` output in English or Chinese.
// shortDatePattern is the host culture's .NET short date pattern used to read
// the sync time; without it ISO, yyyy/M/d and US month-first dates are tried.
func ParseW32tmStatus(out []byte, shortDatePattern string) W32tmStatus {
	var s W32tmStatus
	text := strings.ReplaceAll(strings.TrimPrefix(string(out), "\xef\xbb\xbf"), "\r", "")
	position := 0
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if m := hresultPattern.FindString(line); m != "" && position == 0 {
			s.ErrorCode = strings.ToLower(strings.Trim(m, "()"))
			continue
		}
		label, value, ok := cutLabel(line)
		if !ok {
			continue
		}
		field, known := w32tmFields[label]
		if !known {
			field = w32tmPositions[position]
		}
		position++
		switch field {
		case "leap":
			s.Leap, s.LeapKnown = leadingInt(value)
		case "stratum":
			s.Stratum, s.StratumKnown = leadingInt(value)
		case "dispersion":
			if secs, err := strconv.ParseFloat(strings.TrimSuffix(value, "s"), 64); err == nil {
				s.RootDispersion = time.Duration(secs * float64(time.Second))
			}
		case "lastsync":
			s.LastSyncRaw = value
			s.LastSync, s.LastSyncKnown = parseLocalDateTime(value, shortDatePattern)
		case "source":
			s.Source = value
		}
	}
	return s
}

// cutLabel splits "Label: value" at the first ASCII or full-width colon.
func cutLabel(line string) (label, value string, ok bool) {
	i := strings.IndexAny(line, ":：")
	if i <= 0 {
		return "", "", false
	}
	size := 1
	if strings.HasPrefix(line[i:], "：") {
		size = len("：")
	}
	return strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+size:]), true
}

// leadingInt reads the number at the start of "3(not synchronized)" or
// "2 (secondary reference - syncd by (S)NTP)".
func leadingInt(s string) (int, bool) {
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || end == 0 && s[end] == '-') {
		end++
	}
	n, err := strconv.Atoi(s[:end])
	return n, err == nil
}

// NOTE: a short date pattern with a day name, such as yyyy/M/d/ddd (a zh-CN
// Windows 11 host was seen printing "2026/4/9/周四 14:21:20"), is not read,
// so such a host gets "last sync unknown".
//
// parseLocalDateTime reads a date and time written in a host culture, such as
// "2020/6/1 9:12:45", "30/05/2023 20:21:27" or "6/1/2020 9:12:45 AM" (also
// with 上午/下午). The result is the wall clock in zone UTC.
func parseLocalDateTime(raw, shortDatePattern string) (time.Time, bool) {
	fields := strings.Fields(raw)
	if len(fields) < 2 {
		return time.Time{}, false
	}

	var day time.Time
	ok := false
	patterns := []string{shortDatePattern}
	if shortDatePattern == "" {
		patterns = []string{"yyyy-M-d", "yyyy/M/d", usShortDate}
	}
	for _, p := range patterns {
		if day, ok = parseDotNetDate(fields[0], p); ok {
			break
		}
	}
	if !ok {
		return time.Time{}, false
	}

	var clock string
	pm, am := false, false
	for _, f := range fields[1:] {
		switch {
		case strings.EqualFold(f, "PM") || f == "下午":
			pm = true
		case strings.EqualFold(f, "AM") || f == "上午":
			am = true
		case strings.Contains(f, ":"):
			clock = f
		default:
			// The meridiem may be glued to the clock: 下午9:12:45.
			if rest, found := strings.CutPrefix(f, "下午"); found {
				pm, clock = true, rest
			} else if rest, found := strings.CutPrefix(f, "上午"); found {
				am, clock = true, rest
			}
		}
	}
	parts := strings.Split(clock, ":")
	if len(parts) < 2 {
		return time.Time{}, false
	}
	var hms [3]int
	for i := 0; i < len(parts) && i < 3; i++ {
		n, err := strconv.Atoi(parts[i])
		if err != nil {
			return time.Time{}, false
		}
		hms[i] = n
	}
	if pm && hms[0] < 12 {
		hms[0] += 12
	}
	if am && hms[0] == 12 {
		hms[0] = 0
	}
	if hms[0] > 23 || hms[1] > 59 || hms[2] > 60 {
		return time.Time{}, false
	}
	return day.Add(time.Duration(hms[0])*time.Hour + time.Duration(hms[1])*time.Minute + time.Duration(hms[2])*time.Second), true
}

// wallClock drops a time's zone and keeps its wall clock, as zone UTC.
func wallClock(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
}
