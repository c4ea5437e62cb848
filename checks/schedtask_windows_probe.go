package checks

import (
	"context"
	"fmt"
	"strings"

	"patrol/i18n"
	"patrol/module"
)

func init() {
	schedTaskProbes.Windows = probeSchedTaskWindows
}

// winSchedTaskScript prints one Format-List record per requested task, or
// per match when a bare name occurs in several folders, with the property
// names of Get-ScheduledTaskInfo plus Requested, Found, State and Enabled. It
// uses Get-ScheduledTask and Get-ScheduledTaskInfo where they exist (Windows
// Server 2012 and later) and the Task Scheduler 2.0 COM API (Schedule.Service,
// Vista and Server 2008 and later) otherwise. Both give numbers and DateTime
// values, printed as UTC ISO 8601, so unlike `schtasks /query /fo csv /v`
// nothing depends on localized column headers or date formats. The requested
// names are inserted as $names.
const winSchedTaskScript = psPrelude + psISODate + `$states = @('Unknown', 'Disabled', 'Queued', 'Ready', 'Running')
$rows = @()
function Row($req, $found, $path, $name, $state, $enabled, $last, $result, $next, $missed) {
  New-Object PSObject -Property @{ Requested = $req; Found = $found; TaskPath = $path; TaskName = $name; State = $state; Enabled = $enabled; LastRunTime = (Iso $last); LastTaskResult = $result; NextRunTime = (Iso $next); NumberOfMissedRuns = $missed } |
    Select-Object Requested, Found, TaskPath, TaskName, State, Enabled, LastRunTime, LastTaskResult, NextRunTime, NumberOfMissedRuns
}
if (Get-Command Get-ScheduledTask -ErrorAction SilentlyContinue) {
  $all = @(Get-ScheduledTask)
  foreach ($n in $names) {
    $hits = @($all | Where-Object { ($_.TaskPath + $_.TaskName) -eq $n -or $_.TaskName -eq $n })
    if ($hits.Count -eq 0) { $rows += Row $n $false '' '' '' '' $null '' $null '' }
    foreach ($t in $hits) {
      $i = $t | Get-ScheduledTaskInfo
      $rows += Row $n $true $t.TaskPath $t.TaskName "$($t.State)" $t.Settings.Enabled $i.LastRunTime $i.LastTaskResult $i.NextRunTime $i.NumberOfMissedRuns
    }
  }
} else {
  $svc = New-Object -ComObject Schedule.Service
  $svc.Connect()
  function Walk($folder) { @($folder.GetTasks(1)); foreach ($sub in @($folder.GetFolders(0))) { Walk $sub } }
  $all = @(Walk ($svc.GetFolder('\')))
  foreach ($n in $names) {
    $hits = @($all | Where-Object { $_.Path -eq $n -or $_.Name -eq $n })
    if ($hits.Count -eq 0) { $rows += Row $n $false '' '' '' '' $null '' $null '' }
    foreach ($t in $hits) {
      $dir = $t.Path.Substring(0, $t.Path.Length - $t.Name.Length)
      $rows += Row $n $true $dir $t.Name $states[$t.State] $t.Enabled $t.LastRunTime $t.LastTaskResult $t.NextRunTime $t.NumberOfMissedRuns
    }
  }
}
$rows | Format-List | Out-String -Width 4096
`

// psQuote quotes s as a PowerShell single-quoted string. PowerShell also
// reads the typographic quotes ‘ ’ ‚ ‛ as single quotes, so each quote of
// any kind is written twice.
func psQuote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		if strings.ContainsRune("'‘’‚‛", r) {
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String()
}

// psStringArray writes a PowerShell array of single-quoted strings.
func psStringArray(items []string) string {
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = psQuote(s)
	}
	return "@(" + strings.Join(quoted, ", ") + ")"
}

func probeSchedTaskWindows(ctx context.Context, env *module.Env, names []string) ([]SchedTask, *module.Finding) {
	script := strings.Replace(winSchedTaskScript, "$states = ", "$names = "+psStringArray(names)+"\n$states = ", 1)
	out, err := runScript(ctx, env, script)
	if err != nil || out.ExitCode != 0 {
		f := probeFailed(schedTaskCheck, strings.Join(names, ", "), "Get-ScheduledTask", out, err)
		return nil, &f
	}
	tasks, perr := ParseSchedTasks(out.Stdout, "")
	if perr != nil || len(tasks) == 0 {
		f := errorFinding(schedTaskCheck, strings.Join(names, ", "), i18n.T(
			fmt.Sprintf("the scheduled task probe printed no readable records (%v)", perr),
			"计划任务探测未输出可读取的记录，详情见证据",
		), parseEvidence(perr, out))
		return nil, &f
	}
	return tasks, nil
}
