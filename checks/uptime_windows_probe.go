package checks

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"patrol/i18n"
	"patrol/module"
)

func init() {
	uptimeProbes.Windows = probeUptimeWindows
}

// psISODate defines Iso, which prints a date in UTC as ISO 8601 with the
// invariant culture, or nothing for $null.
const psISODate = `function Iso($d) { if ($d) { ([datetime]$d).ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", [Globalization.CultureInfo]::InvariantCulture) } }
`

// winUptimeScript prints the boot time and the host clock of
// Win32_OperatingSystem as DMTF strings, the lines that `wmic os get
// LastBootUpTime,LocalDateTime /value` prints. Get-WmiObject returns DMTF
// strings, and the DateTime values of Get-CimInstance are converted to DMTF.
// Then come the System log events that follow an unexpected shutdown.
// Get-WinEvent raises NoMatchingEventsFound when there are none; only that
// error is taken as an empty list.
var winUptimeScript = psPrelude + psISODate + `$os = ` + psWMIQuery("Win32_OperatingSystem", "") + `
$boot = $os.LastBootUpTime
$local = $os.LocalDateTime
if ($boot -isnot [string]) { $boot = [Management.ManagementDateTimeConverter]::ToDmtfDateTime($boot); $local = [Management.ManagementDateTimeConverter]::ToDmtfDateTime($local) }
"LastBootUpTime=$boot"
"LocalDateTime=$local"
$since = [Management.ManagementDateTimeConverter]::ToDateTime($boot).AddMinutes(-10)
try { $ev = @(Get-WinEvent -FilterHashtable @{LogName='System'; Id=@(41, 6008); StartTime=$since}) }
catch { if ($_.FullyQualifiedErrorId -like 'NoMatchingEventsFound*') { $ev = @() } else { throw } }
foreach ($e in $ev) { "UnexpectedShutdown=$(Iso $e.TimeCreated) $($e.ProviderName)/$($e.Id): $(($e.Message -replace '\s+', ' ').Trim())" }
"ShutdownEventsChecked=True"
`

func probeUptimeWindows(ctx context.Context, env *module.Env) (Uptime, *module.Finding) {
	out, err := runScript(ctx, env, winUptimeScript)
	if err != nil || out.ExitCode != 0 {
		f := probeFailedText(uptimeCheck, "uptime", i18n.T("Win32_OperatingSystem query", "Win32_OperatingSystem 查询"), out, err)
		return Uptime{}, &f
	}
	up, missing := ParseWinUptime(out.Stdout)
	if missing != "" {
		f := errorFinding(uptimeCheck, "uptime", formatUptimeProbeError(missing), outputEvidence(out))
		return Uptime{}, &f
	}
	return up, nil
}

// ParseWinUptime reads the Windows uptime probe, whose LastBootUpTime and
// LocalDateTime lines are those of `wmic os get LastBootUpTime,LocalDateTime
// /value`. Times may also be UTC ISO 8601, and the host clock may be named
// Now, as an earlier probe printed them. The uptime is measured on the host's
// own clock (LocalDateTime minus LastBootUpTime), so a patrol machine whose
// clock differs does not skew it. missing names the first key that is absent
// or unreadable.
func ParseWinUptime(out []byte) (up Uptime, missing string) {
	var boot, now time.Time
	for _, line := range strings.Split(strings.ReplaceAll(string(out), "\r", ""), "\n") {
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.TrimSpace(key) {
		case "LastBootUpTime":
			boot = parseWinProbeTime(value)
		case "LocalDateTime", "Now":
			now = parseWinProbeTime(value)
		case "UnexpectedShutdown":
			up.UnexpectedShutdowns = append(up.UnexpectedShutdowns, value)
		case "ShutdownEventsChecked":
			up.ShutdownEventsChecked = strings.EqualFold(value, "true")
		}
	}
	switch {
	case boot.IsZero():
		return up, "LastBootUpTime"
	case now.IsZero():
		return up, "LocalDateTime"
	}
	up.Boot = boot
	up.Uptime = now.Sub(boot)
	return up, ""
}

// parseWinProbeTime reads a DMTF or UTC ISO 8601 time, or returns the zero
// time.
func parseWinProbeTime(value string) time.Time {
	if t, err := ParseDMTFDateTime(value); err == nil {
		return t
	}
	t, _ := time.Parse(time.RFC3339, value)
	return t
}

// ParseDMTFDateTime reads a WMI CIM_DATETIME value, yyyymmddHHMMSS.ffffff
// then the offset from UTC in minutes with its sign (+480 for UTC+8), as
// Get-WmiObject and wmic print Win32_OperatingSystem times. The result is
// in UTC.
func ParseDMTFDateTime(raw string) (time.Time, error) {
	raw = strings.TrimSpace(raw)
	if len(raw) != 25 || raw[14] != '.' || (raw[21] != '+' && raw[21] != '-') {
		return time.Time{}, fmt.Errorf("%q is not a DMTF date and time (yyyymmddHHMMSS.ffffff+UUU)", raw)
	}
	wall, err := time.Parse("20060102150405", raw[:14])
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a DMTF date and time: %w", raw, err)
	}
	micros, err := strconv.Atoi(raw[15:21])
	if err != nil || micros < 0 {
		return time.Time{}, fmt.Errorf("%q has no microseconds after the dot", raw)
	}
	offset, err := strconv.Atoi(raw[22:])
	if err != nil || offset < 0 {
		return time.Time{}, fmt.Errorf("%q has no UTC offset in minutes at its end", raw)
	}
	if raw[21] == '-' {
		offset = -offset
	}
	wall = wall.Add(time.Duration(micros) * time.Microsecond)
	return wall.Add(-time.Duration(offset) * time.Minute).UTC(), nil
}
