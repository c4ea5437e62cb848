package checks

import (
	"context"
	"fmt"
	"strings"

	"patrol/i18n"
	"patrol/module"
)

const firewallCheck = "check.firewall"

func firewallSpec() *module.Spec {
	return &module.Spec{
		Name:  firewallCheck,
		Title: i18n.T("Host firewall", "主机防火墙"),
		Doc:   i18n.T("Whether a host firewall is running: firewalld, else the iptables service, ufw, or loaded iptables/nftables rules.", "主机防火墙是否在运行：firewalld，其次是 iptables 服务、ufw，或已加载的 iptables/nftables 规则。"),
		Check: true,
		Run:   runFirewall,
	}
}

// firewallProbe returns the sections of the probe commands, keyed by the names
// judgeFirewall reads.
type firewallProbe func(ctx context.Context, env *module.Env) (map[string]section, *module.Finding)

var firewallProbes = perOS[firewallProbe]{Linux: probeFirewallLinux}

func runFirewall(ctx context.Context, env *module.Env, _ module.Args) (module.Result, error) {
	probe := firewallProbes.pick(env)
	if probe == nil {
		return result([]module.Finding{unsupportedOS(firewallCheck)}), nil
	}
	sections, failed := probe(ctx, env)
	if failed != nil {
		return result([]module.Finding{*failed}), nil
	}
	osName := ""
	if env.Host != nil {
		osName = env.Host.OS
	}
	return result([]module.Finding{JudgeFirewall(sections, osName)}), nil
}

// Names of the firewall probe sections.
const (
	fwFirewalld       = "firewalld"
	fwIptablesService = "iptables-service"
	fwIptables        = "iptables"
	fwNft             = "nft"
	fwUfw             = "ufw"
)

// probeFirewallLinux queries every firewall front end in one round trip.
// iptables, nft and ufw need root to read rules. Without become they report a
// permission error, which JudgeFirewall treats as unknown rather than as no rules.
func probeFirewallLinux(ctx context.Context, env *module.Env) (map[string]section, *module.Finding) {
	script := sectionScript([]probeCommand{
		{fwFirewalld, "firewall-cmd --state"},
		{fwIptablesService, "systemctl is-active iptables"},
		{fwIptables, "iptables -S"},
		{fwNft, "nft list ruleset"},
		{fwUfw, "ufw status"},
	})
	out, err := runScript(ctx, env, script)
	if err != nil {
		f := probeFailedText(firewallCheck, "firewall", firewallProbeName, out, err)
		return nil, &f
	}
	sections := ParseSections(out.Stdout)
	if len(sections) == 0 {
		f := probeFailedText(firewallCheck, "firewall", firewallProbeName, out, nil)
		return nil, &f
	}
	return sections, nil
}

var firewallProbeName = i18n.T("firewall probe", "防火墙探测命令")

// firewalldState reads `firewall-cmd --state` by its exit status, which
// firewall-cmd(1) documents: 0 running, 251 running but failed to load its
// configuration (RUNNING_BUT_FAILED), 252 not running (NOT_RUNNING). 127 and
// anything else mean firewall-cmd is missing or unusable.
func firewalldState(s section, ok bool) string {
	switch {
	case !ok:
		return "unknown"
	case s.ExitCode == 0 && strings.Contains(s.Output, "running"):
		return "running"
	case s.ExitCode == 251:
		return "failed"
	case s.ExitCode == 252:
		return "not running"
	case s.ExitCode == exitCommandNotFound:
		return "not installed"
	}
	return "unknown"
}

// rulesState is the outcome of one rule listing.
type rulesState int

const (
	rulesUnknown rulesState = iota // tool missing or not allowed to read
	rulesEmpty                     // readable and nothing filters traffic
	rulesActive                    // rules or a dropping policy present
)

// CountIptablesRules counts the rules in `iptables -S` output and reports
// whether a built-in chain drops by default ("-P INPUT DROP").
func CountIptablesRules(out string) (rules int, dropPolicy bool) {
	for _, line := range strings.Split(out, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		switch fields[0] {
		case "-A":
			rules++
		case "-P":
			if len(fields) >= 3 && (fields[2] == "DROP" || fields[2] == "REJECT") {
				dropPolicy = true
			}
		}
	}
	return rules, dropPolicy
}

// CountNftRules counts the rules in `nft list ruleset` output: the lines inside
// a chain other than its "type … hook …" header, and reports whether a base
// chain has "policy drop".
func CountNftRules(out string) (rules int, dropPolicy bool) {
	depth := 0
	inChain := false
	for _, line := range strings.Split(out, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "":
		case strings.HasSuffix(t, "{"):
			depth++
			if strings.HasPrefix(t, "chain ") {
				inChain = true
			}
		case t == "}":
			depth--
			inChain = false
		case inChain && strings.HasPrefix(t, "type ") && strings.Contains(t, "hook"):
			if strings.Contains(t, "policy drop") {
				dropPolicy = true
			}
		case inChain && !strings.HasPrefix(t, "comment "):
			rules++
		}
	}
	return rules, dropPolicy
}

func rulesFrom(s section, ok bool, count func(string) (int, bool)) (rulesState, int) {
	if !ok || s.ExitCode != 0 {
		return rulesUnknown, 0
	}
	n, drop := count(s.Output)
	if n > 0 || drop {
		return rulesActive, n
	}
	return rulesEmpty, 0
}

// JudgeFirewall decides whether a host firewall is running. firewalld running
// is enough. firewalld stopped or absent is not "no firewall": the iptables
// service (iptables-services on CentOS 7), ufw, or rules loaded by other means
// count too. Only when every rule listing could be read and none filters
// anything is the result a failure; when none could be read it is unknown.
// osName is the host's os in the inventory, which picks the advice on how
// to turn a firewall on.
func JudgeFirewall(sections map[string]section, osName string) module.Finding {
	f := module.Finding{Check: firewallCheck, Item: "firewall", Threshold: i18n.T("a firewall is active", "防火墙已启用")}
	for _, name := range []string{fwFirewalld, fwIptablesService, fwIptables, fwNft, fwUfw} {
		if s, ok := sections[name]; ok {
			f.Evidence = append(f.Evidence, fmt.Sprintf("%s: exit %d: %s", name, s.ExitCode, summarize([]byte(s.Output))))
		}
	}

	fd, fdOK := sections[fwFirewalld]
	firewalld := firewalldState(fd, fdOK)
	switch firewalld {
	case "running":
		f.Status, f.Value = module.StatusOK, i18n.T("firewalld running", "firewalld 正在运行")
		f.Message = i18n.T("firewalld is running", "firewalld 正在运行")
		return f
	case "failed":
		f.Status, f.Value = module.StatusWarn, i18n.T("firewalld running, configuration failed", "firewalld 正在运行，配置加载失败")
		f.Message = i18n.T(
			"firewalld is running but failed to load its configuration (exit 251, recovery mode); check firewall-cmd --check-config and the firewalld log",
			"firewalld 正在运行，但加载配置失败（退出码 251，恢复模式）；请执行 firewall-cmd --check-config 并查看 firewalld 日志",
		)
		return f
	}

	svc, svcOK := sections[fwIptablesService]
	ufw, ufwOK := sections[fwUfw]
	ipt, iptCount := rulesFrom(sections[fwIptables], has(sections, fwIptables), CountIptablesRules)
	nft, nftCount := rulesFrom(sections[fwNft], has(sections, fwNft), CountNftRules)

	prefix := i18n.T("firewalld "+firewalld, "firewalld "+firewalldZH(firewalld))
	switch {
	case svcOK && svc.ExitCode == 0 && strings.TrimSpace(svc.Output) == "active":
		f.Status, f.Value = module.StatusOK, i18n.T("iptables service active", "iptables 服务正在运行")
		f.Message = i18n.T(prefix.EN+"; the iptables service is active", prefix.ZH+"；iptables 服务正在运行")
	case ufwOK && ufw.ExitCode == 0 && strings.Contains(ufw.Output, "Status: active"):
		f.Status, f.Value = module.StatusOK, i18n.T("ufw active", "ufw 已启用")
		f.Message = i18n.T(prefix.EN+"; ufw is active", prefix.ZH+"；ufw 已启用")
	case ipt == rulesActive:
		f.Status, f.Value = module.StatusOK, i18n.T(fmt.Sprintf("iptables: %d rules", iptCount), fmt.Sprintf("iptables：%d 条规则", iptCount))
		f.Message = i18n.T(
			fmt.Sprintf("%s; iptables has %d rules loaded", prefix.EN, iptCount),
			fmt.Sprintf("%s；iptables 已加载 %d 条规则", prefix.ZH, iptCount),
		)
	case nft == rulesActive:
		f.Status, f.Value = module.StatusOK, i18n.T(fmt.Sprintf("nftables: %d rules", nftCount), fmt.Sprintf("nftables：%d 条规则", nftCount))
		f.Message = i18n.T(
			fmt.Sprintf("%s; nftables has %d rules loaded", prefix.EN, nftCount),
			fmt.Sprintf("%s；nftables 已加载 %d 条规则", prefix.ZH, nftCount),
		)
	case ipt == rulesEmpty || nft == rulesEmpty:
		f.Status, f.Value = module.StatusFail, i18n.T("no firewall", "无防火墙")
		remedy := firewallRemedy(osName, sections)
		f.Message = i18n.T(
			prefix.EN+", and no iptables or nftables rules are loaded: the host has no firewall; "+remedy.EN,
			prefix.ZH+"，且未加载任何 iptables 或 nftables 规则：主机没有防火墙；"+remedy.ZH,
		)
	case allMissing(sections, fwFirewalld, fwIptables, fwNft, fwUfw):
		f.Status, f.Value = module.StatusFail, i18n.T("no firewall software", "未安装防火墙软件")
		remedy := firewallRemedy(osName, sections)
		f.Message = i18n.T(
			"none of firewall-cmd, iptables, nft or ufw is installed: the host has no firewall; "+remedy.EN,
			"firewall-cmd、iptables、nft、ufw 均未安装：主机没有防火墙；"+remedy.ZH,
		)
	default:
		f.Status, f.Value = module.StatusError, unknownValue
		f.Message = i18n.T(
			prefix.EN+", and the iptables and nftables rules could not be read; run the check with become so it can read them",
			prefix.ZH+"，且无法读取 iptables 和 nftables 规则；请以 become（sudo）运行此检查",
		)
	}
	return f
}

// firewallRemedy returns how to turn on a firewall with the tool the host has
// installed, or else with the one its distribution ships. That is firewalld
// on Red Hat family hosts from version 7, the iptables service on version 6,
// and ufw or nftables on Debian and Ubuntu.
func firewallRemedy(osName string, sections map[string]section) i18n.Text {
	installed := func(name string) bool {
		s, ok := sections[name]
		return ok && s.ExitCode != exitCommandNotFound
	}
	switch {
	case installed(fwFirewalld):
		return i18n.T(
			"start firewalld (systemctl enable --now firewalld)",
			"请启动 firewalld（systemctl enable --now firewalld）")
	case installed(fwUfw):
		return i18n.T(
			"allow SSH in ufw (ufw allow OpenSSH), then enable it (ufw enable)",
			"请先在 ufw 中放行 SSH（ufw allow OpenSSH），再启用 ufw（ufw enable）")
	case osFamily(osName) == "redhat" && strings.HasSuffix(osName, "7") && stoppedUnit(sections[fwIptablesService]):
		// systemctl is-active of systemd 219 (CentOS 7) prints "unknown" for
		// a unit that is not installed. "inactive" for those came with
		// systemd 230 (systemd pull request 2768), so here "inactive" means
		// iptables-services is installed, and firewalld beside it would
		// conflict.
		return i18n.T(
			"start the installed iptables service with its saved rules (/etc/sysconfig/iptables; systemctl enable --now iptables), or remove iptables-services and use firewalld",
			"请启动已安装的 iptables 服务及其保存的规则（/etc/sysconfig/iptables；systemctl enable --now iptables），或卸载 iptables-services 改用 firewalld")
	}

	switch osFamily(osName) {
	case "debian":
		return i18n.T(
			"install ufw (apt-get install ufw), allow SSH (ufw allow OpenSSH) and enable it (ufw enable), or write nftables rules to /etc/nftables.conf and load them (systemctl enable --now nftables)",
			"请安装 ufw（apt-get install ufw），放行 SSH（ufw allow OpenSSH）后启用（ufw enable）；或在 /etc/nftables.conf 中编写 nftables 规则并加载（systemctl enable --now nftables）")
	case "redhat6":
		return i18n.T(
			"save rules for the iptables service (/etc/sysconfig/iptables) and start it (service iptables start; chkconfig iptables on)",
			"请为 iptables 服务保存规则（/etc/sysconfig/iptables）并启动该服务（service iptables start；chkconfig iptables on）")
	case "redhat":
		return i18n.T(
			"install and start firewalld (yum install firewalld; systemctl enable --now firewalld)",
			"请安装并启动 firewalld（yum install firewalld；systemctl enable --now firewalld）")
	}
	return i18n.T(
		"turn on the firewall the distribution ships: firewalld on CentOS and RHEL 7 or later, ufw or nftables on Debian and Ubuntu",
		"请启用发行版自带的防火墙：CentOS、RHEL 7 及以上用 firewalld，Debian、Ubuntu 用 ufw 或 nftables")
}

// stoppedUnit reports whether systemctl is-active printed that a unit is
// installed but not running.
func stoppedUnit(s section) bool {
	state := strings.TrimSpace(s.Output)
	return state == "inactive" || state == "failed"
}

// osFamily sorts the inventory's os names by the firewall tools their
// distribution ships: "debian", "redhat" (version 7 and later), "redhat6",
// or "" when unknown.
func osFamily(osName string) string {
	switch {
	case osName == "debian" || osName == "ubuntu":
		return "debian"
	case strings.HasSuffix(osName, "6") && (strings.HasPrefix(osName, "centos") || strings.HasPrefix(osName, "rhel") || strings.HasPrefix(osName, "oracle-linux")):
		return "redhat6"
	case strings.HasPrefix(osName, "centos"), strings.HasPrefix(osName, "rhel"), strings.HasPrefix(osName, "oracle-linux"),
		strings.HasPrefix(osName, "rocky"), strings.HasPrefix(osName, "almalinux"), osName == "openeuler":
		return "redhat"
	}
	return ""
}

// allMissing reports whether every named command exited 127 (not found).
func allMissing(sections map[string]section, names ...string) bool {
	for _, n := range names {
		s, ok := sections[n]
		if !ok || s.ExitCode != exitCommandNotFound {
			return false
		}
	}
	return true
}

func has(sections map[string]section, name string) bool {
	_, ok := sections[name]
	return ok
}

func firewalldZH(state string) string {
	switch state {
	case "not running":
		return "未运行"
	case "not installed":
		return "未安装"
	}
	return "状态未知"
}
