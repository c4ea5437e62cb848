package checks

import (
	"context"
	"fmt"
	"strings"

	"patrol/i18n"
	"patrol/module"
)

func init() {
	eventLogProbes.Windows = probeEventLogWindows
}

// winEventLogFunctions read one log with Get-WinEvent -FilterXPath, because
// -FilterHashtable has no key for EventRecordID. ReadLog first takes the
// newest and oldest record numbers, then reads only records up to that newest
// one, so an event written meanwhile is counted by the next run and not
// twice. It resumes after record $prev when the log still reaches back to it
// ($prev ≤ newest) and reads the last $windowMs milliseconds otherwise,
// which also covers a log cleared since the last run. Get-WinEvent raises
// NoMatchingEventsFound for an empty result; only that error means "none".
//
// Each log gives one record (LogName, Newest, Oldest, Mode, Error). Then
// each event gives one record with the properties of Get-WinEvent's own
// objects (LogName, RecordId, TimeCreated, Id, Level, ProviderName, Message).
// The time is UTC ISO 8601, and the message is one line of at most 1000
// characters.
const winEventLogFunctions = psISODate + `$rows = @()
function Events($log, $xpath, $max, $oldest) {
  try {
    if ($oldest) { @(Get-WinEvent -LogName $log -FilterXPath $xpath -MaxEvents $max -Oldest) }
    else { @(Get-WinEvent -LogName $log -FilterXPath $xpath -MaxEvents $max) }
  } catch { if ($_.FullyQualifiedErrorId -like 'NoMatchingEventsFound*') { @() } else { throw } }
}
function ReadLog($log, $prev, $levels, $windowMs, $max) {
  $r = New-Object PSObject -Property @{ LogName = $log; Newest = ''; Oldest = ''; Mode = ''; Error = '' }
  $events = @()
  try {
    $newest = @(Events $log '*' 1 $false)
    if ($newest.Count -eq 0) { $r.Mode = 'empty' }
    else {
      $n = $newest[0].RecordId
      $r.Newest = $n
      $r.Oldest = @(Events $log '*' 1 $true)[0].RecordId
      if ($prev -ge 0 -and $prev -le $n) { $r.Mode = 'record'; $range = "EventRecordID > $prev and EventRecordID <= $n" }
      else { $r.Mode = 'window'; $range = "TimeCreated[timediff(@SystemTime) <= $windowMs] and EventRecordID <= $n" }
      $events = @(Events $log "*[System[($levels) and $range]]" $max $false)
    }
  } catch { $r.Error = ("$($_.Exception.Message)" -replace '\s+', ' ').Trim() }
  $script:rows += $r | Select-Object LogName, Newest, Oldest, Mode, Error
  foreach ($e in $events) {
    $m = ("$($e.Message)" -replace '\s+', ' ').Trim()
    if ($m.Length -gt 1000) { $m = $m.Substring(0, 1000) }
    $script:rows += $e | Select-Object @{Name = 'LogName'; Expression = { $log }}, RecordId,
      @{Name = 'TimeCreated'; Expression = { Iso $_.TimeCreated }}, Id, Level, ProviderName, @{Name = 'Message'; Expression = { $m }}
  }
}
`

// winEventLogScript builds the probe: one ReadLog call per log, then the
// records through Format-List.
func winEventLogScript(req eventLogRequest, prev map[string]int64) string {
	var levels []string
	for l := 1; l <= req.MaxLevel; l++ {
		levels = append(levels, fmt.Sprintf("Level=%d", l))
	}
	window := req.Window
	if window == 0 {
		window = req.FirstWindow
	}

	var b strings.Builder
	b.WriteString(psPrelude)
	b.WriteString(winEventLogFunctions)
	for _, log := range req.Logs {
		p, ok := prev[log]
		if !ok || req.Window > 0 {
			p = -1
		}
		fmt.Fprintf(&b, "ReadLog %s %d '%s' %d %d\n", psQuote(log), p, strings.Join(levels, " or "), window.Milliseconds(), req.MaxEvents)
	}
	b.WriteString("$rows | Format-List | Out-String -Width 4096\n")
	return b.String()
}

func probeEventLogWindows(ctx context.Context, env *module.Env, req eventLogRequest, prev map[string]int64) ([]EventLogRead, *module.Finding) {
	item := strings.Join(req.Logs, ", ")
	out, err := runScript(ctx, env, winEventLogScript(req, prev))
	if err != nil || out.ExitCode != 0 {
		f := probeFailed(eventLogCheck, item, "Get-WinEvent", out, err)
		return nil, &f
	}
	reads, perr := ParseEventLogProbe(out.Stdout, "")
	if perr != nil || len(reads) == 0 {
		f := errorFinding(eventLogCheck, item, i18n.T(
			fmt.Sprintf("the event log probe printed no readable records (%v)", perr),
			"事件日志探测未输出可读取的记录，详情见证据",
		), parseEvidence(perr, out))
		return nil, &f
	}
	return reads, nil
}
