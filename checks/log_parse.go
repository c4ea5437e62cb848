package checks

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// LogPattern is one named regular expression check.log counts.
type LogPattern struct {
	Name string
	Re   *regexp.Regexp
}

// LogMatches is the count and last excerpts of one pattern.
type LogMatches struct {
	Name     string
	Count    int
	Excerpts []string
}

// LogScan holds what scanning a piece of a log produced.
type LogScan struct {
	Matches []LogMatches
	// Lines is the number of lines examined (inside the window, if any).
	Lines int
	// NoTimestamps is set when a window was requested but no line had a
	// recognizable timestamp, so every line was counted.
	NoTimestamps bool
}

// maxExcerptLen bounds one evidence line, because log lines can be very long.
const maxExcerptLen = 300

// ScanLog counts, for each pattern, the lines of data that match it, and keeps
// the last maxExcerpts matching lines as excerpts. When since is non-zero only
// lines stamped at or after since count; see LineTime for the formats. A line
// without a timestamp belongs to the last stamped line before it (a stack trace
// continues its log entry). Lines before the first stamped one are counted only
// when no line of data has a timestamp.
func ScanLog(data []byte, patterns []LogPattern, since time.Time, loc *time.Location, ref time.Time, maxExcerpts int) LogScan {
	scan := LogScan{Matches: make([]LogMatches, len(patterns))}
	for i, p := range patterns {
		scan.Matches[i].Name = p.Name
	}

	lines := bytes.Split(data, []byte("\n"))
	windowed := !since.IsZero()
	inWindow := !windowed
	sawTime := false
	var untimed [][]byte

	for _, raw := range lines {
		line := bytes.TrimRight(raw, "\r")
		if len(line) == 0 {
			continue
		}
		if windowed {
			if t, ok := LineTime(string(line), loc, ref); ok {
				sawTime = true
				inWindow = !t.Before(since)
			} else if !sawTime {
				untimed = append(untimed, line)
				continue
			}
		}
		if !inWindow {
			continue
		}
		scan.Lines++
		matchLine(line, patterns, &scan, maxExcerpts)
	}

	if windowed && !sawTime {
		scan.NoTimestamps = true
		for _, line := range untimed {
			scan.Lines++
			matchLine(line, patterns, &scan, maxExcerpts)
		}
	}
	return scan
}

func matchLine(line []byte, patterns []LogPattern, scan *LogScan, maxExcerpts int) {
	for i, p := range patterns {
		if !p.Re.Match(line) {
			continue
		}
		m := &scan.Matches[i]
		m.Count++
		if maxExcerpts <= 0 {
			continue
		}
		excerpt := strings.ToValidUTF8(string(line), "�")
		if len(excerpt) > maxExcerptLen {
			excerpt = strings.ToValidUTF8(excerpt[:maxExcerptLen], "") + "…"
		}
		if len(m.Excerpts) == maxExcerpts {
			m.Excerpts = append(m.Excerpts[:0], m.Excerpts[1:]...)
		}
		m.Excerpts = append(m.Excerpts, excerpt)
	}
}

var (
	// isoStamp matches 2024-03-05T14:02:11, 2024-03-05 14:02:11,123,
	// 2024-03-05T14:02:11.5+08:00 and the same inside a leading "[".
	isoStamp = regexp.MustCompile(`^\[?(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:[.,]\d+)?(Z|[+-]\d{2}:?\d{2})?`)
	// syslogStamp matches the BSD syslog (RFC 3164) stamp "Mar  5 14:02:11".
	syslogStamp = regexp.MustCompile(`^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}:\d{2}:\d{2})`)
)

// LineTime reads the timestamp a log line starts with. Two forms are known:
// ISO 8601 / RFC 3339 ("2024-03-05T14:02:11+08:00", "2024-03-05 14:02:11,123",
// optionally inside "[" as log4j and many Java logs print it) and the BSD syslog
// form ("Mar  5 14:02:11") that rsyslog writes to /var/log/messages by default.
// Stamps without a zone are read in loc, the host's zone. Syslog stamps carry no
// year: the year of ref is used, or the year before when that would put the line
// more than a day after ref (a December line read in January).
func LineTime(line string, loc *time.Location, ref time.Time) (time.Time, bool) {
	if m := isoStamp.FindStringSubmatch(line); m != nil {
		layout, value := "2006-01-02 15:04:05", m[1]+" "+m[2]
		if m[3] != "" {
			zone := m[3]
			if zone != "Z" && !strings.Contains(zone, ":") {
				zone = zone[:3] + ":" + zone[3:]
			}
			t, err := time.Parse("2006-01-02 15:04:05Z07:00", value+zone)
			return t, err == nil
		}
		t, err := time.ParseInLocation(layout, value, loc)
		return t, err == nil
	}

	if m := syslogStamp.FindStringSubmatch(line); m != nil {
		year := ref.In(loc).Year()
		value := m[1] + " " + m[2] + " " + m[3] + " " + strconv.Itoa(year)
		t, err := time.ParseInLocation("Jan 2 15:04:05 2006", value, loc)
		if err != nil {
			return time.Time{}, false
		}
		if t.After(ref.Add(24 * time.Hour)) {
			t = t.AddDate(-1, 0, 0)
		}
		return t, true
	}
	return time.Time{}, false
}

// ParseLogStat reads the probe's "INODE SIZE ZONE" line, where ZONE is
// `date +%z` (+0800).
func ParseLogStat(out []byte) (inode string, size int64, loc *time.Location, ok bool) {
	fields := strings.Fields(string(out))
	if len(fields) < 3 {
		return "", 0, nil, false
	}
	size, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		return "", 0, nil, false
	}
	loc, ok = parseZone(fields[2])
	return fields[0], size, loc, ok
}

// parseZone turns a `date +%z` offset into a fixed zone.
func parseZone(z string) (*time.Location, bool) {
	t, err := time.Parse("-0700", z)
	if err != nil {
		return nil, false
	}
	_, offset := t.Zone()
	return time.FixedZone(z, offset), true
}

// logOffset is the position at which check.log stopped reading a file in the last run.
type logOffset struct {
	Inode  string
	Offset int64
}

// parseLogOffset reads a state value written by logOffset.String.
func parseLogOffset(s string) (logOffset, bool) {
	inode, off, ok := strings.Cut(s, " ")
	if !ok {
		return logOffset{}, false
	}
	n, err := strconv.ParseInt(off, 10, 64)
	if err != nil || n < 0 {
		return logOffset{}, false
	}
	return logOffset{Inode: inode, Offset: n}, true
}

func (o logOffset) String() string { return o.Inode + " " + strconv.FormatInt(o.Offset, 10) }

// readPlan is the byte range of the file to read.
type readPlan struct {
	Start int64
	// Skipped counts bytes between the saved offset and Start that are not read
	// because of max_bytes.
	Skipped int64
	// Restarted is set when the file was rotated or truncated since the last
	// run, so reading starts over from the beginning.
	Restarted bool
}

// planLogRead picks the byte range to read. With a saved offset for the same
// inode that is not past the end, reading resumes there. A new inode (rotated)
// or a smaller size (truncated) starts over. At most maxBytes are read, and
// they are the newest bytes.
func planLogRead(prev logOffset, havePrev bool, inode string, size, maxBytes int64) readPlan {
	var plan readPlan
	if havePrev {
		if prev.Inode == inode && prev.Offset <= size {
			plan.Start = prev.Offset
		} else {
			plan.Restarted = true
		}
	}
	if maxBytes > 0 && size-plan.Start > maxBytes {
		plan.Skipped = size - maxBytes - plan.Start
		plan.Start = size - maxBytes
	}
	return plan
}

// completeLines returns the length of data up to and including its last
// newline, so a line still being written is read whole in the next run.
func completeLines(data []byte) int {
	return bytes.LastIndexByte(data, '\n') + 1
}
