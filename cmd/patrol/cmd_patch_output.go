package main

import (
	"fmt"
	"strings"
	"time"

	"patrol/patches"
)

// printPlan prints one row per missing or unknown patch and host; installed
// patches are left out, and hosts with nothing missing get one line. Then it
// lists per host the RPM patches left out because none of their packages is
// installed, and with --verbose the patches meant for another os, system or
// product.
func (a *app) printPlan(plans []patches.HostPlan, windowEnd time.Time) {
	rows := [][]string{{
		a.tr("HOST", "主机"), a.tr("PATCH", "补丁"), a.tr("SEVERITY", "严重程度"), a.tr("DEADLINE", "期限"),
		a.tr("TIME LEFT", "剩余时间"), a.tr("STATE", "状态"),
	}}
	var current []string
	for _, hp := range plans {
		missing := 0
		for _, it := range hp.Items {
			if it.State == patches.StateInstalled {
				continue
			}
			missing++
			rows = append(rows, []string{
				hp.Host, it.Patch, it.Severity.Text().In(a.lang), it.Deadline.Format("2006-01-02 15:04"),
				a.timeLeft(it.TimeLeft), a.planState(it),
			})
		}
		if missing == 0 && hp.Error == "" {
			current = append(current, hp.Host)
		}
	}
	if len(rows) > 1 {
		printTable(a.stdout, rows)
	}
	if len(current) > 0 {
		fmt.Fprintf(a.stdout, a.tr("up to date: %s\n", "补丁齐全：%s\n"), strings.Join(current, ", "))
	}
	for _, hp := range plans {
		for _, na := range hp.NotApplicable {
			if na.Reason != patches.ReasonPackageNotInstalled && !a.verbose {
				continue
			}
			fmt.Fprintf(a.stdout, a.tr("%s: not applicable: %s (%s)\n", "%s：不适用：%s（%s）\n"), hp.Host, na.Patch, na.Text.In(a.lang))
		}
	}
	if !windowEnd.IsZero() {
		fmt.Fprintf(a.stdout, a.tr("window ends %s\n", "维护窗口结束于 %s\n"), windowEnd.Format("2006-01-02 15:04"))
	}
}

func (a *app) planState(it patches.PlanItem) string {
	var words []string
	switch it.State {
	case patches.StateMissing:
		words = append(words, a.tr("missing", "未安装"))
	case patches.StateUnknown:
		words = append(words, a.tr("unknown", "未知"))
	}
	if it.Overdue {
		words = append(words, a.tr("OVERDUE", "已超期"))
	}
	if it.DueInWindow {
		words = append(words, a.tr("due in the window", "窗口内到期"))
	}
	return strings.Join(words, a.tr(", ", "，"))
}

// timeLeft formats the time to a deadline in days, hours and minutes.
func (a *app) timeLeft(d time.Duration) string {
	prefix := ""
	if d < 0 {
		prefix, d = a.tr("overdue ", "已超期 "), -d
	}
	days := int(d / (24 * time.Hour))
	hours := int(d % (24 * time.Hour) / time.Hour)
	minutes := int(d % time.Hour / time.Minute)
	switch {
	case days > 0:
		return prefix + fmt.Sprintf(a.tr("%dd %dh", "%d 天 %d 小时"), days, hours)
	case hours > 0:
		return prefix + fmt.Sprintf(a.tr("%dh %dm", "%d 小时 %d 分"), hours, minutes)
	}
	return prefix + fmt.Sprintf(a.tr("%dm", "%d 分"), minutes)
}

// printStatus prints the compliance view, one row per patch and host.
func (a *app) printStatus(rows []patches.ComplianceRow) {
	table := [][]string{{
		a.tr("PATCH", "补丁"), a.tr("SEVERITY", "严重程度"), a.tr("HOST", "主机"), a.tr("ARRIVED", "到达时间"),
		a.tr("DEADLINE", "期限"), a.tr("INSTALLED", "安装时间"), a.tr("VERDICT", "结论"),
	}}
	for _, r := range rows {
		installed := "-"
		if !r.InstalledAt.IsZero() {
			installed = r.InstalledAt.In(r.Deadline.Location()).Format("2006-01-02 15:04")
		}
		table = append(table, []string{
			r.Patch, r.Severity.Text().In(a.lang), r.Host, r.Arrived.In(r.Deadline.Location()).Format("2006-01-02 15:04"),
			r.Deadline.Format("2006-01-02 15:04"), installed, r.Verdict.Title().In(a.lang),
		})
	}
	if len(rows) == 0 {
		fmt.Fprintln(a.stdout, a.tr("no patch in the catalog applies to the selected hosts", "补丁台账中没有适用于所选主机的补丁"))
		return
	}
	printTable(a.stdout, table)
}
