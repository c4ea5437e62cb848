package checks

import (
	"context"

	"patrol/i18n"
	"patrol/module"
)

func init() {
	rebootProbes.Windows = probeRebootWindows
}

// winRebootScript prints the registry signals of a pending reboot as one
// Format-List record with the property names of `Test-PendingReboot
// -Detailed` (PendingReboot module). A domain join pending (Netlogon
// JoinDomain or AvoidSpnSet) counts with a computer rename, as it does there.
// PendingFileRenameOperations holds source and target pairs, and an empty
// target means delete. The strings are joined with ";" because Format-List
// cuts an array after four items. SystemCenterConfigManager stays empty where
// no Configuration Manager client answers.
const winRebootScript = psPrelude + `$cbs = Test-Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'
$wu = Test-Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired'
$active = (Get-ItemProperty 'HKLM:\SYSTEM\CurrentControlSet\Control\ComputerName\ActiveComputerName').ComputerName
$configured = (Get-ItemProperty 'HKLM:\SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName').ComputerName
$netlogon = 'HKLM:\SYSTEM\CurrentControlSet\Services\Netlogon'
$rename = ($active -ne $configured) -or (Test-Path "$netlogon\JoinDomain") -or (Test-Path "$netlogon\AvoidSpnSet")
$renames = @()
$v = (Get-ItemProperty 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager').PendingFileRenameOperations
if ($v) { $renames = @($v) }
$ccm = ''
try {
  $r = Invoke-WmiMethod -Namespace 'ROOT\ccm\ClientSDK' -Class CCM_ClientUtilities -Name DetermineIfRebootPending -ErrorAction Stop
  $ccm = [bool]($r.IsHardRebootPending -or $r.RebootPending)
} catch { }
$pending = $cbs -or $wu -or $rename -or ($renames.Count -gt 0) -or ($ccm -eq $true)
New-Object PSObject -Property @{
  ComputerName = $env:COMPUTERNAME
  ComponentBasedServicing = $cbs
  PendingComputerRenameDomainJoin = $rename
  PendingFileRenameOperations = ($renames.Count -gt 0)
  PendingFileRenameOperationsValue = ($renames -join ';')
  SystemCenterConfigManager = $ccm
  WindowsUpdateAutoUpdate = $wu
  IsRebootPending = $pending
} | Select-Object ComputerName, ComponentBasedServicing, PendingComputerRenameDomainJoin, PendingFileRenameOperations, PendingFileRenameOperationsValue, SystemCenterConfigManager, WindowsUpdateAutoUpdate, IsRebootPending | Format-List | Out-String -Width 4096
`

func probeRebootWindows(ctx context.Context, env *module.Env) (RebootSignals, *module.Finding) {
	out, err := runScript(ctx, env, winRebootScript)
	if err != nil || out.ExitCode != 0 {
		f := probeFailedText(rebootCheck, "reboot", i18n.T("pending reboot registry query", "待重启注册表查询"), out, err)
		return RebootSignals{}, &f
	}
	return ParseRebootSignals(out.Stdout), nil
}
