package checks

import (
	"context"
	"fmt"

	"patrol/i18n"
	"patrol/module"
)

func init() {
	iisProbes.Windows = probeIISWindows
}

// winIISScript prints the W3SVC status (Missing when IIS is not installed),
// then the sites and application pools. It reads them with the
// WebAdministration module (IIS 7.5 and later, so IIS 8.5 on 2012 R2) as CSV,
// and falls back to the text form of `appcmd list site` and `appcmd list
// apppool` when the module is missing (the IIS Management Scripts and Tools
// feature is not installed). Reading State raises an error while the Windows
// Process Activation Service is stopped, and (as reported on 2012 R2) for a
// site with only an FTP binding, so such a state reads as Unknown. appcmd
// prints state:Unknown where it cannot read a state.
//
// NOTE: the appcmd branch has not run on a real host. PowerShell decodes
// appcmd's output with the console code page, which is right only if appcmd
// writes in that code page (936 on zh-CN hosts), and whether appcmd exits 0
// for an empty list is unverified.
const winIISScript = psPrelude + `$svc = Get-Service -Name W3SVC -ErrorAction SilentlyContinue
if (-not $svc) { 'W3SVC=Missing'; return }
"W3SVC=$($svc.Status)"
function State($o) { try { "$($o.State)" } catch { 'Unknown' } }
if (Get-Module -ListAvailable -Name WebAdministration) {
  Import-Module WebAdministration
  'Source=WebAdministration'
  '--- sites'
  @(Get-Website) | ForEach-Object { New-Object PSObject -Property @{ Name = $_.Name; State = (State $_) } } | Select-Object Name, State | ConvertTo-Csv -NoTypeInformation
  '--- apppools'
  @(Get-ChildItem IIS:\AppPools) | ForEach-Object { New-Object PSObject -Property @{ Name = $_.Name; State = (State $_) } } | Select-Object Name, State | ConvertTo-Csv -NoTypeInformation
} else {
  $appcmd = Join-Path $env:windir 'system32\inetsrv\appcmd.exe'
  'Source=appcmd'
  '--- sites'
  & $appcmd list site | ForEach-Object { "$_" }
  if ($LASTEXITCODE -ne 0) { throw "appcmd list site exited with $LASTEXITCODE" }
  '--- apppools'
  & $appcmd list apppool | ForEach-Object { "$_" }
  if ($LASTEXITCODE -ne 0) { throw "appcmd list apppool exited with $LASTEXITCODE" }
}
`

func probeIISWindows(ctx context.Context, env *module.Env) (IISInventory, *module.Finding) {
	out, err := runScript(ctx, env, winIISScript)
	if err != nil || out.ExitCode != 0 {
		f := probeFailed(iisCheck, "IIS", "Get-Website / appcmd list site", out, err)
		return IISInventory{}, &f
	}
	inv, perr := ParseIISProbe(out.Stdout)
	if perr != nil {
		f := errorFinding(iisCheck, "IIS", i18n.T(
			fmt.Sprintf("the IIS probe output is unreadable: %v", perr),
			"IIS 探测输出无法读取，解析错误见证据",
		), parseEvidence(perr, out))
		return IISInventory{}, &f
	}
	return inv, nil
}
