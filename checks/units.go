package checks

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"patrol/i18n"
	"patrol/module"
)

// ParseSize reads a byte count written as a plain number or with a binary unit:
// "1048576", "512K", "10G", "1.7G", "2TiB", "100MB". Units are powers of 1024, the
// way df -h, du -h and ls -h print them, so K, KB, KiB all mean 1024 bytes.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("%w: empty size", errArg)
	}

	i := len(t)
	for i > 0 && !isDigitOrDot(t[i-1]) {
		i--
	}
	num, unit := t[:i], strings.ToUpper(strings.TrimSpace(t[i:]))
	unit = strings.TrimSuffix(strings.TrimSuffix(unit, "IB"), "B")

	exp := 0
	if unit != "" {
		exp = strings.Index("KMGTPE", unit) + 1
	}
	if unit != "" && (len(unit) != 1 || exp == 0) {
		return 0, fmt.Errorf("%w: size %q has an unknown unit; use K, M, G, T or P", errArg, s)
	}

	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("%w: size %q is not a number with an optional unit such as 10G", errArg, s)
	}
	return int64(math.Round(f * math.Pow(1024, float64(exp)))), nil
}

func isDigitOrDot(c byte) bool { return c >= '0' && c <= '9' || c == '.' }

// FormatBytes prints a byte count with a binary unit and one decimal: "12.1 GiB".
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit && n > -unit {
		return fmt.Sprintf("%d B", n)
	}
	f := float64(n)
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i := -1
	for math.Abs(f) >= unit && i < len(units)-1 {
		f /= unit
		i++
	}
	return fmt.Sprintf("%.1f %s", f, units[i])
}

// ParseDuration reads a duration as Go writes it ("26h", "90m", "1h30m") and also
// accepts days ("7d", "1d12h") because backup and log windows are set in days.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	days := time.Duration(0)
	if i := strings.IndexByte(t, 'd'); i > 0 {
		n, err := strconv.Atoi(t[:i])
		if err != nil {
			return 0, fmt.Errorf("%w: duration %q: use forms such as 26h, 30m or 7d", errArg, s)
		}
		days = time.Duration(n) * 24 * time.Hour
		t = t[i+1:]
		if t == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("%w: duration %q: use forms such as 26h, 30m or 7d", errArg, s)
	}
	return days + d, nil
}

// FormatAge prints a duration the way people read ages: "3d 4h", "26h", "5h 12m",
// "40s". The smaller unit is left out when it is zero.
func FormatAge(d time.Duration) string {
	return formatAge(d, [4]string{"d", "h", "m", "s"}, "")
}

// FormatAgeZH prints a duration as FormatAge does, with Chinese units:
// "3 天 4 小时", "26 小时", "5 小时 12 分", "40 秒".
func FormatAgeZH(d time.Duration) string {
	return formatAge(d, [4]string{"天", "小时", "分", "秒"}, " ")
}

// AgeText is a duration in both languages, for values and thresholds.
func AgeText(d time.Duration) i18n.Text { return i18n.T(FormatAge(d), FormatAgeZH(d)) }

// formatAge prints the two largest units of d; units name days, hours,
// minutes and seconds, and sep goes between each number and its unit.
func formatAge(d time.Duration, units [4]string, sep string) string {
	neg := d < 0
	if neg {
		d = -d
	}
	steps := [4]time.Duration{24 * time.Hour, time.Hour, time.Minute, time.Second}
	i := 0
	for i < 3 && d < steps[i] {
		i++
	}
	s := fmt.Sprintf("%d%s%s", d/steps[i], sep, units[i])
	if i < 3 {
		if small := d % steps[i] / steps[i+1]; small != 0 {
			s += fmt.Sprintf(" %d%s%s", small, sep, units[i+1])
		}
	}
	if neg {
		return "-" + s
	}
	return s
}

// formatTime formats a time for a finding in the client's zone with
// module.FormatTime, or a hostClock time as the host printed it.
func formatTime(t time.Time) string {
	if t.Location() == hostClock {
		return t.Format("2006-01-02 15:04:05")
	}
	return module.FormatTime(t)
}
