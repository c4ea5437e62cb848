package checks

import (
	"patrol/i18n"
	"patrol/module"
)

// fixedItemTitles names for people the items checks give as fixed English
// words, keyed by check and item. The item itself stays English because
// journals, registered results and tests identify a finding by it. Names the
// host or the playbook gives (mount points, units, KB numbers, URLs, log
// paths) have no entry and are shown as they are. An item built from such a
// name and a fixed word gets its title where it is built (itemTitle).
// WMI class, product and command names (Win32_Service, IIS, W3SVC, df) read
// the same in both languages and have no entry either.
var fixedItemTitles = map[[2]string]i18n.Text{
	{memoryCheck, "memory"}:                      i18n.T("memory", "内存"),
	{memoryCheck, "swap"}:                        i18n.T("swap", "交换分区"),
	{loadCheck, "load"}:                          i18n.T("load", "系统负载"),
	{loadCheck, "load 1m"}:                       i18n.T("load 1m", "1 分钟负载"),
	{loadCheck, "load 5m"}:                       i18n.T("load 5m", "5 分钟负载"),
	{loadCheck, "load 15m"}:                      i18n.T("load 15m", "15 分钟负载"),
	{serviceCheck, "systemd"}:                    i18n.T("systemd", "systemd 服务管理器"),
	{serviceCheck, "failed units"}:               i18n.T("failed units", "失败的单元"),
	{serviceCheck, "stopped automatic services"}: i18n.T("stopped automatic services", "已停止的自动启动服务"),
	{portCheck, "sockets"}:                       i18n.T("sockets", "监听端口"),
	{firewallCheck, "firewall"}:                  i18n.T("firewall", "防火墙"),
	{updatesCheck, "updates"}:                    i18n.T("updates", "系统更新"),
	{updatesCheck, "security updates"}:           i18n.T("security updates", "安全更新"),
	{timeCheck, "clock"}:                         i18n.T("clock", "时钟"),
	{hotfixCheck, "installed hotfixes"}:          i18n.T("installed hotfixes", "已安装的补丁"),
	{rebootCheck, "reboot"}:                      i18n.T("reboot", "待重启"),
	{uptimeCheck, "uptime"}:                      i18n.T("uptime", "运行时间"),
}

// titleFixedItems gives each finding whose item is a fixed English word its
// title from fixedItemTitles, unless the finding already has one. result calls
// it, so every finding a check returns passes through here.
func titleFixedItems(findings []module.Finding) {
	for i := range findings {
		f := &findings[i]
		if !f.ItemTitle.IsZero() {
			continue
		}
		if t, ok := fixedItemTitles[[2]string{f.Check, f.Item}]; ok {
			f.ItemTitle = t
		}
	}
}

// itemTitle is the title of an item built from a name the host or the
// playbook gave and a fixed word, such as "/var inodes": the name stays as it
// is and only the word is translated.
func itemTitle(name, en, zh string) i18n.Text {
	return i18n.T(name+" "+en, name+" "+zh)
}
