package checks

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"patrol/i18n"
	"patrol/module"
)

const (
	iptablesEmpty = "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT"
	iptablesRules = "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT\n-A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT\n-A INPUT -j REJECT --reject-with icmp-host-prohibited"
	nftRules      = "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\t\tct state established,related accept\n\t\ttcp dport 22 accept\n\t}\n}"
	notFound      = "sh: 1: %s: not found"
	notRoot       = "iptables v1.8.4 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)"
)

// Case 10: firewall-cmd --state is read by exit status, and firewalld not
// running is not "no firewall" until iptables/nftables are checked.
func TestJudgeFirewallCase10(t *testing.T) {
	tests := []struct {
		name     string
		sections map[string]section
		status   module.Status
		value    i18n.Text
	}{
		{
			name:     "firewalld running",
			sections: map[string]section{fwFirewalld: {"running", 0}},
			status:   module.StatusOK, value: i18n.T("firewalld running", "firewalld 正在运行"),
		},
		{
			name:     "firewalld recovery mode 251",
			sections: map[string]section{fwFirewalld: {"failed", 251}},
			status:   module.StatusWarn, value: i18n.T("firewalld running, configuration failed", "firewalld 正在运行，配置加载失败"),
		},
		{
			name: "252 not running, iptables service active",
			sections: map[string]section{
				fwFirewalld: {"not running", 252}, fwIptablesService: {"active", 0},
				fwIptables: {iptablesRules, 0}, fwNft: {"", 127}, fwUfw: {"", 127},
			},
			status: module.StatusOK, value: i18n.T("iptables service active", "iptables 服务正在运行"),
		},
		{
			name: "252 not running, iptables rules loaded without the service",
			sections: map[string]section{
				fwFirewalld: {"not running", 252}, fwIptablesService: {"inactive", 3},
				fwIptables: {iptablesRules, 0}, fwNft: {"", 127}, fwUfw: {"", 127},
			},
			status: module.StatusOK, value: i18n.T("iptables: 3 rules", "iptables：3 条规则"),
		},
		{
			name: "252 not running and nothing loaded",
			sections: map[string]section{
				fwFirewalld: {"not running", 252}, fwIptablesService: {"unknown", 4},
				fwIptables: {iptablesEmpty, 0}, fwNft: {"", 0}, fwUfw: {"", 127},
			},
			status: module.StatusFail, value: i18n.T("no firewall", "无防火墙"),
		},
		{
			name: "252 not running, rules unreadable without root",
			sections: map[string]section{
				fwFirewalld: {"not running", 252}, fwIptablesService: {"inactive", 3},
				fwIptables: {notRoot, 4}, fwNft: {"Operation not permitted", 1}, fwUfw: {"ERROR: You need to be root to run this script", 1},
			},
			status: module.StatusError, value: i18n.T("unknown", "未知"),
		},
		{
			name: "firewall-cmd not installed, nftables rules",
			sections: map[string]section{
				fwFirewalld: {strings.Replace(notFound, "%s", "firewall-cmd", 1), 127}, fwIptablesService: {"inactive", 3},
				fwIptables: {"", 127}, fwNft: {nftRules, 0}, fwUfw: {"", 127},
			},
			status: module.StatusOK, value: i18n.T("nftables: 2 rules", "nftables：2 条规则"),
		},
		{
			name: "Debian with ufw active",
			sections: map[string]section{
				fwFirewalld: {"", 127}, fwIptablesService: {"inactive", 3},
				fwIptables: {iptablesEmpty, 0}, fwNft: {"", 127}, fwUfw: {"Status: active\n\nTo Action From", 0},
			},
			status: module.StatusOK, value: i18n.T("ufw active", "ufw 已启用"),
		},
		{
			name: "ufw installed but inactive and no rules",
			sections: map[string]section{
				fwFirewalld: {"", 127}, fwIptablesService: {"inactive", 3},
				fwIptables: {iptablesEmpty, 0}, fwNft: {"", 127}, fwUfw: {"Status: inactive", 0},
			},
			status: module.StatusFail, value: i18n.T("no firewall", "无防火墙"),
		},
		{
			name: "no firewall software at all",
			sections: map[string]section{
				fwFirewalld: {"", 127}, fwIptablesService: {"", 127}, fwIptables: {"", 127}, fwNft: {"", 127}, fwUfw: {"", 127},
			},
			status: module.StatusFail, value: i18n.T("no firewall software", "未安装防火墙软件"),
		},
		{
			name: "firewall-cmd broken with another status",
			sections: map[string]section{
				fwFirewalld: {"Traceback (most recent call last):", 1}, fwIptablesService: {"inactive", 3},
				fwIptables: {notRoot, 4}, fwNft: {"", 127}, fwUfw: {"", 127},
			},
			status: module.StatusError, value: i18n.T("unknown", "未知"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := JudgeFirewall(tt.sections, "centos7")
			if f.Status != tt.status {
				t.Errorf("status = %s, want %s (%s)", f.Status, tt.status, f.Message.EN)
			}
			if f.Value != tt.value {
				t.Errorf("value = %+v, want %+v", f.Value, tt.value)
			}
			if f.Message.EN == "" || f.Message.ZH == "" {
				t.Errorf("message not bilingual: %+v", f.Message)
			}
			if len(f.Evidence) != len(tt.sections) {
				t.Errorf("evidence has %d lines, want one per probe (%d)", len(f.Evidence), len(tt.sections))
			}
		})
	}
}

func TestFirewalldNotRunningMessage(t *testing.T) {
	f := JudgeFirewall(map[string]section{
		fwFirewalld: {"not running", 252}, fwIptablesService: {"inactive", 3},
		fwIptables: {iptablesEmpty, 0}, fwNft: {"", 127}, fwUfw: {"", 127},
	}, "centos7")
	if !strings.HasPrefix(f.Message.EN, "firewalld not running") || !strings.HasPrefix(f.Message.ZH, "firewalld 未运行") {
		t.Errorf("message = %+v, want it to start with the firewalld state", f.Message)
	}
}

// The advice names the firewall the host's distribution ships, and a tool
// already installed before that.
func TestFirewallAdviceByOS(t *testing.T) {
	// As this Debian 12 machine reports: no firewalld, nft or ufw, and
	// iptables with empty chains.
	debianBare := map[string]section{
		fwFirewalld: {fmt.Sprintf(notFound, "firewall-cmd"), 127}, fwIptablesService: {"inactive", 3},
		fwIptables: {iptablesEmpty, 0}, fwNft: {fmt.Sprintf(notFound, "nft"), 127}, fwUfw: {fmt.Sprintf(notFound, "ufw"), 127},
	}
	centosStopped := map[string]section{
		fwFirewalld: {"not running", 252}, fwIptablesService: {"inactive", 3},
		fwIptables: {iptablesEmpty, 0}, fwNft: {"", 127}, fwUfw: {"", 127},
	}
	// CentOS 7's systemd 219 prints "unknown" for a unit that is not
	// installed, and "inactive" for iptables-services installed but stopped.
	centosBare := map[string]section{
		fwFirewalld: {fmt.Sprintf(notFound, "firewall-cmd"), 127}, fwIptablesService: {"unknown", 3},
		fwIptables: {iptablesEmpty, 0}, fwNft: {"", 127}, fwUfw: {"", 127},
	}
	centosIptablesStopped := map[string]section{
		fwFirewalld: {fmt.Sprintf(notFound, "firewall-cmd"), 127}, fwIptablesService: {"inactive", 3},
		fwIptables: {iptablesEmpty, 0}, fwNft: {"", 127}, fwUfw: {"", 127},
	}
	ubuntuUfwOff := map[string]section{
		fwFirewalld: {"", 127}, fwIptablesService: {"inactive", 3},
		fwIptables: {iptablesEmpty, 0}, fwNft: {"", 127}, fwUfw: {"Status: inactive", 0},
	}
	tests := []struct {
		name     string
		sections map[string]section
		os       string
		want     string
		wantNot  string
	}{
		{"debian without a firewall", debianBare, "debian", "ufw", "firewalld"},
		{"ubuntu without a firewall", debianBare, "ubuntu", "nftables", "firewalld"},
		{"ubuntu with ufw off", ubuntuUfwOff, "ubuntu", "ufw enable", "firewalld"},
		{"centos 7 with firewalld stopped", centosStopped, "centos7", "systemctl enable --now firewalld", "ufw"},
		{"centos 7 without firewalld", centosBare, "centos7", "yum install firewalld", "ufw"},
		{"centos 7 with iptables-services stopped", centosIptablesStopped, "centos7", "systemctl enable --now iptables", "yum install firewalld"},
		{"centos 6", debianBare, "centos6", "service iptables start", "firewalld"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := JudgeFirewall(tt.sections, tt.os)
			if f.Status != module.StatusFail {
				t.Fatalf("status = %s, want fail", f.Status)
			}
			for _, text := range []string{f.Message.ZH, f.Message.EN} {
				// The advice follows the verdict "…no firewall; ".
				_, advice, found := strings.Cut(strings.Replace(text, "没有防火墙；", "no firewall; ", 1), "no firewall; ")
				if !found {
					t.Fatalf("message %q has no advice after its verdict", text)
				}
				if !strings.Contains(advice, tt.want) {
					t.Errorf("advice %q does not name %q", advice, tt.want)
				}
				if strings.Contains(advice, tt.wantNot) {
					t.Errorf("advice %q names %q", advice, tt.wantNot)
				}
			}
		})
	}
}

func TestCountNftRules(t *testing.T) {
	rules, drop := CountNftRules(nftRules)
	if rules != 2 || !drop {
		t.Errorf("rules = %d, drop = %v; want 2 and true", rules, drop)
	}
	empty := "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t}\n}"
	if rules, drop := CountNftRules(empty); rules != 0 || drop {
		t.Errorf("empty ruleset: rules = %d, drop = %v", rules, drop)
	}
}

func TestJudgeTime(t *testing.T) {
	chrony := "Reference ID    : C0A80101 (ntp.example)\nStratum         : 3\nSystem time     : 0.000012345 seconds fast of NTP time\nLeap status     : Normal\n"
	tests := []struct {
		name     string
		sections map[string]section
		status   module.Status
	}{
		{"chrony synchronized", map[string]section{timeChrony: {chrony, 0}}, module.StatusOK},
		{"chrony far off", map[string]section{timeChrony: {strings.Replace(chrony, "0.000012345", "3.5", 1), 0}}, module.StatusWarn},
		{"chrony not synchronised", map[string]section{timeChrony: {strings.Replace(chrony, "Normal", "Not synchronised", 1), 0}}, module.StatusFail},
		{"timedatectl yes", map[string]section{timeChrony: {"", 127}, timeTimedatectl: {"NTP=yes\nNTPSynchronized=yes\n", 0}}, module.StatusOK},
		{"timedatectl no", map[string]section{timeChrony: {"", 127}, timeTimedatectl: {"NTP=no\nNTPSynchronized=no\n", 0}}, module.StatusFail},
		{"nothing answers", map[string]section{timeChrony: {"", 127}, timeTimedatectl: {"System has not been booted with systemd", 1}}, module.StatusError},
	}
	for _, tt := range tests {
		if f := JudgeTime(tt.sections, time.Second); f.Status != tt.status {
			t.Errorf("%s: status = %s, want %s (%s)", tt.name, f.Status, tt.status, f.Message.EN)
		}
	}
}
