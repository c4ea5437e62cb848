package checks

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"patrol/i18n"
	"patrol/module"
)

// winFirewallScript reads the profiles from the active store, the policy in
// force after Group Policy is merged, rather than the local settings alone.
// Get-NetFirewallProfile exists from Windows Server 2012 on. Older hosts
// (2008 R2) get `netsh advfirewall show allprofiles state` instead. netsh
// writes the OEM code page (936, GBK, on Chinese Windows), so PowerShell
// decodes it with that code page before printing.
// NOTE: the netsh branch was tested on recorded netsh output only, not run on
// a 2008 R2 host through WinRM. netsh reads its current policy store, the
// local one by default, so a profile that only Group Policy turns off may
// read as on there.
const winFirewallScript = psPrelude + `if (Get-Command Get-NetFirewallProfile -ErrorAction SilentlyContinue) {
  Get-NetFirewallProfile -PolicyStore ActiveStore | Select-Object Name, Enabled | ConvertTo-Csv -NoTypeInformation
} else {
  $oem = (Get-ItemProperty 'HKLM:\SYSTEM\CurrentControlSet\Control\Nls\CodePage').OEMCP
  $utf8 = [Console]::OutputEncoding
  [Console]::OutputEncoding = [Text.Encoding]::GetEncoding([int]$oem)
  $lines = @(netsh advfirewall show allprofiles state)
  $code = $LASTEXITCODE
  [Console]::OutputEncoding = $utf8
  $lines
  if ($code -ne 0) { exit $code }
}
`

// winFirewallProfiles are the profiles that must all be enabled.
var winFirewallProfiles = []string{"Domain", "Private", "Public"}

// winFirewallProfileZH names each profile as Chinese Windows does.
var winFirewallProfileZH = map[string]string{
	"Domain":  "域配置文件",
	"Private": "专用配置文件",
	"Public":  "公用配置文件",
}

// runFirewallWindows requires the Domain, Private and Public profiles to be
// enabled.
func runFirewallWindows(ctx context.Context, env *module.Env, _ module.Args) (module.Result, error) {
	out, err := runScript(ctx, env, winFirewallScript)
	if err != nil || out.ExitCode != 0 {
		return result([]module.Finding{probeFailedText(firewallCheck, "firewall", i18n.T("Get-NetFirewallProfile or netsh advfirewall", "Get-NetFirewallProfile 或 netsh advfirewall"), out, err)}), nil
	}
	profiles, source, perr := parseFirewallProbe(out.Stdout)
	if perr != nil {
		return result([]module.Finding{errorFinding(firewallCheck, "firewall", i18n.T(
			fmt.Sprintf("could not read the %s output: %v", source, perr),
			fmt.Sprintf("无法读取 %s 的输出，解析错误见证据", source),
		), parseEvidence(perr, out))}), nil
	}
	return result(EvaluateFirewallProfiles(profiles)), nil
}

// parseFirewallProbe reads the CSV of Get-NetFirewallProfile, which starts
// with a quoted header, or else the netsh output, and names the command it
// read. Empty output is taken as a CSV without rows, so every profile is
// reported as not listed.
func parseFirewallProbe(out []byte) ([]FirewallProfile, string, error) {
	text := strings.TrimSpace(string(bytes.TrimPrefix(out, []byte("\xef\xbb\xbf"))))
	if text == "" || strings.HasPrefix(text, `"`) || strings.HasPrefix(text, "#TYPE") {
		profiles, err := ParseFirewallProfiles(out)
		return profiles, "Get-NetFirewallProfile", err
	}
	profiles, err := ParseNetshFirewallProfiles(out)
	return profiles, "netsh advfirewall", err
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
				fmt.Sprintf("the firewall query did not list the %s profile", name),
				fmt.Sprintf("防火墙查询未列出%s", winFirewallProfileZH[name]),
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
				fmt.Sprintf("Windows 防火墙%s已启用", winFirewallProfileZH[name]),
			)
		} else {
			f.Status, f.Value = module.StatusFail, i18n.T("disabled ("+p.Enabled+")", "未启用（"+p.Enabled+"）")
			f.Message = i18n.T(
				fmt.Sprintf("the Windows Firewall %s profile is not enabled; enable it with Set-NetFirewallProfile -Profile %s -Enabled True, or in Group Policy if a policy turns it off", name, name),
				fmt.Sprintf("Windows 防火墙%s未启用；请执行 Set-NetFirewallProfile -Profile %s -Enabled True，若由组策略关闭则在组策略中开启", winFirewallProfileZH[name], name),
			)
		}
		findings = append(findings, f)
	}
	return findings
}

// netshProfileNames maps the words in a `netsh advfirewall show` section
// header to the profile it names, in English and in Simplified Chinese.
var netshProfileNames = []struct{ word, profile string }{
	{"Domain", "Domain"}, {"域", "Domain"},
	{"Private", "Private"}, {"专用", "Private"},
	{"Public", "Public"}, {"公用", "Public"},
}

// netshStates maps the value of a profile's State line to the GpoBoolean
// text that Get-NetFirewallProfile prints. Chinese Windows 7 writes ON as
// 打开 and later versions write 启用 (both seen in published output).
// NOTE: no published Chinese output of a profile turned off was found. 关闭
// and 禁用 for OFF are the words Chinese netsh uses for other settings.
var netshStates = map[string]string{
	"ON": "True", "打开": "True", "启用": "True",
	"OFF": "False", "关闭": "False", "禁用": "False",
}

// ParseNetshFirewallProfiles parses `netsh advfirewall show allprofiles
// [state]` (or currentprofile) into profiles whose Enabled is True or False.
// Each profile section is a header line ending in a colon, a line of dashes,
// then the State line; sections without dashes (Logging) are skipped. The
// words are read in English and Simplified Chinese, and a state or header in
// any other language is an error rather than a guess.
func ParseNetshFirewallProfiles(out []byte) ([]FirewallProfile, error) {
	lines := strings.Split(strings.ReplaceAll(string(bytes.TrimPrefix(out, []byte("\xef\xbb\xbf"))), "\r", ""), "\n")
	var profiles []FirewallProfile
	header := ""
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if !isDashLine(line) {
			if line != "" {
				header = line
			}
			continue
		}

		name := netshProfileName(header)
		if name == "" {
			return nil, fmt.Errorf("line %d: section header %q names no firewall profile (Domain, Private, Public or 域, 专用, 公用)", i, header)
		}
		stateAt := i + 1
		for stateAt < len(lines) && strings.TrimSpace(lines[stateAt]) == "" {
			stateAt++
		}
		if stateAt == len(lines) {
			return nil, fmt.Errorf("line %d: the %s profile section ends before its State line", i+1, name)
		}
		fields := strings.Fields(lines[stateAt])
		value := fields[len(fields)-1]
		enabled, ok := netshStates[strings.ToUpper(value)]
		if !ok {
			return nil, fmt.Errorf("line %d: the %s profile state is %q, which is neither ON nor OFF in English or Chinese; run netsh advfirewall show allprofiles state on the host to read it", stateAt+1, name, value)
		}
		profiles = append(profiles, FirewallProfile{Name: name, Enabled: enabled})
		i = stateAt
	}
	if len(profiles) == 0 {
		return nil, fmt.Errorf("no firewall profile section found in the netsh output; run netsh advfirewall show allprofiles state on the host to see what it prints")
	}
	return profiles, nil
}

func isDashLine(line string) bool {
	return len(line) >= 10 && strings.Trim(line, "-") == ""
}

func netshProfileName(header string) string {
	for _, n := range netshProfileNames {
		if strings.Contains(header, n.word) {
			return n.profile
		}
	}
	return ""
}
