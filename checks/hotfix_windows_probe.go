package checks

import (
	"context"

	"patrol/i18n"
	"patrol/module"
)

func init() {
	hotfixProbes.Windows = probeHotfixWindows
}

// winHotfixScript prints the host culture, whether a servicing reboot is
// pending, and one Key=Value block per installed update. InstalledOn is read
// from the raw WMI property: the InstalledOn that PowerShell's type data adds
// converts the string to a DateTime and throws on blank or locale-formatted
// values (case 14), which would stop the whole listing.
const winHotfixScript = psPrelude + `$c = Get-Culture
"Culture=$($c.Name)"
"ShortDatePattern=$($c.DateTimeFormat.ShortDatePattern)"
$cbs = Test-Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'
$wu = Test-Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired'
"RebootPending=$($cbs -or $wu)"
""
foreach ($q in @(Get-WmiObject -Class Win32_QuickFixEngineering)) {
  $p = $q.psBase.Properties
  "HotFixID=$($p['HotFixID'].Value)"
  "Description=$($p['Description'].Value)"
  "InstalledBy=$($p['InstalledBy'].Value)"
  "InstalledOn=$($p['InstalledOn'].Value)"
  ""
}
`

func probeHotfixWindows(ctx context.Context, env *module.Env) (HotfixListing, *module.Finding) {
	out, err := runScript(ctx, env, winHotfixScript)
	if err != nil || out.ExitCode != 0 {
		f := probeFailedText(hotfixCheck, "Win32_QuickFixEngineering", i18n.T("Win32_QuickFixEngineering query", "Win32_QuickFixEngineering 查询"), out, err)
		return HotfixListing{}, &f
	}
	listing := ParseHotfixListing(out.Stdout)
	if listing.Culture.Name == "" {
		f := errorFinding(hotfixCheck, "Win32_QuickFixEngineering", i18n.T(
			"the hotfix probe printed no culture line, so its output was cut short or is not patrol's probe",
			"补丁探测未输出区域设置行，输出可能被截断或并非 patrol 的探测输出",
		), outputEvidence(out))
		return HotfixListing{}, &f
	}
	return listing, nil
}
