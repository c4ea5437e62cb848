package builtin

import (
	"errors"
	"strings"
	"time"
)

// bootIdentity names one boot of a host, so that a reboot can be told from a
// host that never went down.
type bootIdentity struct {
	// Raw is the command's output, trimmed, as shown to users.
	Raw string
	// BootID is Linux's random boot_id, or the whole output of a custom
	// command that printed no key=value lines.
	BootID string
	// BootTime is the time the host booted, as printed.
	BootTime string
}

// parseBootIdentity reads the output of the boot identity command: lines
// boot_id=… and boot_time=…, or any other text, which then counts as the
// boot id itself.
func parseBootIdentity(out []byte) (bootIdentity, error) {
	raw := strings.TrimSpace(string(out))
	if raw == "" {
		return bootIdentity{}, errors.New("boot identity command printed nothing")
	}

	id := bootIdentity{Raw: raw}
	keyed := false
	for _, line := range strings.Split(raw, "\n") {
		key, value, ok := strings.Cut(strings.TrimSpace(line), "=")
		switch {
		case ok && key == "boot_id":
			id.BootID, keyed = strings.TrimSpace(value), true
		case ok && key == "boot_time":
			id.BootTime, keyed = strings.TrimSpace(value), true
		}
	}
	if !keyed {
		id.BootID = raw
	}
	if id.BootID == "" && id.BootTime == "" {
		return bootIdentity{}, errors.New("boot identity command printed neither boot_id nor boot_time: " + raw)
	}
	return id, nil
}

// differsFrom reports whether id names another boot than before. Boot ids are
// compared when both have one. Boot times are compared with a tolerance,
// because a computed boot time can move by a second between readings.
func (id bootIdentity) differsFrom(before bootIdentity) bool {
	if id.BootID != "" && before.BootID != "" {
		return id.BootID != before.BootID
	}
	if id.BootTime == "" || before.BootTime == "" {
		return id.Raw != before.Raw
	}
	now, errNow := parseBootTime(id.BootTime)
	then, errThen := parseBootTime(before.BootTime)
	if errNow != nil || errThen != nil {
		return id.BootTime != before.BootTime
	}
	return now.Sub(then).Abs() > bootTimeTolerance
}

// parseBootTime reads `uptime -s` output (local time, which is fine because
// both readings come from the same host) or an ISO 8601 time from PowerShell.
func parseBootTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateTime, s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}
