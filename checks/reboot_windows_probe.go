package checks

import (
	"context"

	"patrol/module"
)

func init() {
	rebootProbes.Windows = probeRebootWindows
}

// winRebootScript prints the registry signals of a pending reboot as
// Key=Value lines. PendingFileRenameOperations holds source and target pairs
// where an empty target means delete; empty entries are left out.
const winRebootScript = psPrelude + `$cbs = Test-Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'
$wu = Test-Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired'
$active = (Get-ItemProperty 'HKLM:\SYSTEM\CurrentControlSet\Control\ComputerName\ActiveComputerName').ComputerName
$configured = (Get-ItemProperty 'HKLM:\SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName').ComputerName
"CBSRebootPending=$cbs"
"WURebootRequired=$wu"
"ComputerRenamePending=$($active -ne $configured)"
$sm = Get-ItemProperty 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager'
foreach ($p in @($sm.PendingFileRenameOperations)) { if ($p) { "PendingFileRename=$p" } }
`

func probeRebootWindows(ctx context.Context, env *module.Env) (RebootSignals, *module.Finding) {
	out, err := runScript(ctx, env, winRebootScript)
	if err != nil || out.ExitCode != 0 {
		f := probeFailed(rebootCheck, "reboot", "pending reboot registry query", out, err)
		return RebootSignals{}, &f
	}
	return ParseRebootSignals(out.Stdout), nil
}
