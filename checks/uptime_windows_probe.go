package checks

import (
	"context"
	"strings"
	"time"

	"patrol/module"
)

func init() {
	uptimeProbes.Windows = probeUptimeWindows
}

// psISODate defines Iso, which prints a date in UTC as ISO 8601 with the
// invariant culture, or nothing for $null.
const psISODate = `function Iso($d) { if ($d) { ([datetime]$d).ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", [Globalization.CultureInfo]::InvariantCulture) } }
`

// winUptimeScript prints the boot time and the host clock from
// Win32_OperatingSystem in UTC ISO form (Get-WmiObject returns DMTF strings,
// which are converted first), then the System log events that follow an
// unexpected shutdown. Get-WinEvent raises NoMatchingEventsFound when there
// are none; only that error is taken as an empty list.
var winUptimeScript = psPrelude + psISODate + `$os = ` + psWMIQuery("Win32_OperatingSystem", "") + `
$boot = $os.LastBootUpTime
$local = $os.LocalDateTime
if ($boot -is [string]) { $boot = [Management.ManagementDateTimeConverter]::ToDateTime($boot); $local = [Management.ManagementDateTimeConverter]::ToDateTime($local) }
"LastBootUpTime=$(Iso $boot)"
"Now=$(Iso $local)"
try { $ev = @(Get-WinEvent -FilterHashtable @{LogName='System'; Id=@(41, 6008); StartTime=$boot.AddMinutes(-10)}) }
catch { if ($_.FullyQualifiedErrorId -like 'NoMatchingEventsFound*') { $ev = @() } else { throw } }
foreach ($e in $ev) { "UnexpectedShutdown=$(Iso $e.TimeCreated) $($e.ProviderName)/$($e.Id): $(($e.Message -replace '\s+', ' ').Trim())" }
"ShutdownEventsChecked=True"
`

func probeUptimeWindows(ctx context.Context, env *module.Env) (Uptime, *module.Finding) {
	out, err := runScript(ctx, env, winUptimeScript)
	if err != nil || out.ExitCode != 0 {
		f := probeFailed(uptimeCheck, "uptime", "Win32_OperatingSystem query", out, err)
		return Uptime{}, &f
	}
	up, missing := ParseWinUptime(out.Stdout)
	if missing != "" {
		f := errorFinding(uptimeCheck, "uptime", formatUptimeProbeError(missing), outputEvidence(out))
		return Uptime{}, &f
	}
	return up, nil
}

// ParseWinUptime reads the Windows uptime probe. The uptime is measured on
// the host's own clock (Now minus LastBootUpTime), so a patrol machine whose
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
			boot, _ = time.Parse(time.RFC3339, value)
		case "Now":
			now, _ = time.Parse(time.RFC3339, value)
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
		return up, "Now"
	}
	up.Boot = boot
	up.Uptime = now.Sub(boot)
	return up, ""
}
