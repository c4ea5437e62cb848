package checks

import (
	"context"
	"fmt"
	"strings"

	"patrol/i18n"
	"patrol/module"
)

// winFirewallScript reads the profiles from the active store, the policy in
// force after Group Policy is merged, rather than the local settings alone.
// Get-NetFirewallProfile exists from Windows Server 2012 on.
const winFirewallScript = psPrelude +
	"Get-NetFirewallProfile -PolicyStore ActiveStore | Select-Object Name, Enabled | ConvertTo-Csv -NoTypeInformation\n"

// winFirewallProfiles are the profiles that must all be enabled.
var winFirewallProfiles = []string{"Domain", "Private", "Public"}

// winFirewallProfileZH names each profile as Chinese Windows does.
var winFirewallProfileZH = map[string]string{
	"Domain":  "域配置文件",
	"Private": "专用配置文件",
	"Public":  "公用配置文件",
}

// TODO: hosts older than Windows Server 2012 lack Get-NetFirewallProfile and
// need `netsh advfirewall show allprofiles`, whose output is localized.
func runFirewallWindows(ctx context.Context, env *module.Env, _ module.Args) (module.Result, error) {
	out, err := runScript(ctx, env, winFirewallScript)
	if err != nil || out.ExitCode != 0 {
		return result([]module.Finding{probeFailed(firewallCheck, "firewall", "Get-NetFirewallProfile", out, err)}), nil
	}
	profiles, perr := ParseFirewallProfiles(out.Stdout)
	if perr != nil {
		return result([]module.Finding{errorFinding(firewallCheck, "firewall", i18n.T(
			fmt.Sprintf("could not read the Get-NetFirewallProfile output: %v", perr),
			fmt.Sprintf("无法读取 Get-NetFirewallProfile 的输出：%v", perr),
		), outputEvidence(out))}), nil
	}
	return result(EvaluateFirewallProfiles(profiles)), nil
}

// EvaluateFirewallProfiles gives one finding per profile: ok when Enabled is
// True, fail otherwise, and error for a profile the output did not list.
func EvaluateFirewallProfiles(profiles []FirewallProfile) []module.Finding {
	threshold := i18n.T("enabled", "已启用")
	var findings []module.Finding
	for _, name := range winFirewallProfiles {
		item := name + " profile"
		title := i18n.T(item, winFirewallProfileZH[name])
		var p *FirewallProfile
		for i := range profiles {
			if strings.EqualFold(profiles[i].Name, name) {
				p = &profiles[i]
			}
		}
		if p == nil {
			f := errorFinding(firewallCheck, item, i18n.T(
				fmt.Sprintf("Get-NetFirewallProfile did not list the %s profile", name),
				fmt.Sprintf("Get-NetFirewallProfile 未列出 %s 配置文件", name),
			), nil)
			f.ItemTitle = title
			findings = append(findings, f)
			continue
		}

		f := module.Finding{
			Check:     firewallCheck,
			Item:      item,
			ItemTitle: title,
			Threshold: threshold,
			Evidence:  []string{fmt.Sprintf("Name=%s Enabled=%s", p.Name, p.Enabled)},
		}
		if strings.EqualFold(p.Enabled, "True") {
			f.Status, f.Value = module.StatusOK, i18n.T("enabled", "已启用")
			f.Message = i18n.T(
				fmt.Sprintf("the Windows Firewall %s profile is enabled", name),
				fmt.Sprintf("Windows 防火墙 %s 配置文件已启用", name),
			)
		} else {
			f.Status, f.Value = module.StatusFail, i18n.T("disabled ("+p.Enabled+")", "未启用（"+p.Enabled+"）")
			f.Message = i18n.T(
				fmt.Sprintf("the Windows Firewall %s profile is not enabled; enable it with Set-NetFirewallProfile -Profile %s -Enabled True, or in Group Policy if a policy turns it off", name, name),
				fmt.Sprintf("Windows 防火墙 %s 配置文件未启用；请执行 Set-NetFirewallProfile -Profile %s -Enabled True，若由组策略关闭则在组策略中开启", name, name),
			)
		}
		findings = append(findings, f)
	}
	return findings
}
