package report

import (
	"fmt"

	"patrol/i18n"
	"patrol/module"
)

// labels is every fixed text of the reports, in both languages. The HTML
// template and the Markdown writer look texts up here by key, and an unknown
// key fails the rendering, so that a report never goes out with a blank label.
var labels = map[string]i18n.Text{
	"title.daily":   i18n.T("Daily basic inspection report", "日常基础巡检报告"),
	"title.monthly": i18n.T("Monthly full inspection report", "月度全面巡检报告"),
	"title.other":   i18n.T("Inspection report", "巡检报告"),

	"section.info":      i18n.T("Inspection details", "基本信息"),
	"section.summary":   i18n.T("Summary", "巡检概况"),
	"section.hosts":     i18n.T("Hosts inspected", "巡检主机"),
	"section.anomalies": i18n.T("Anomalies", "异常项"),
	"section.details":   i18n.T("All inspection items", "检查明细"),
	"section.sign":      i18n.T("Signatures", "签字确认"),
	"section.patches":   i18n.T("Patch compliance", "补丁合规"),

	"col.patch":                i18n.T("Patch", "补丁"),
	"col.title":                i18n.T("Title", "标题"),
	"col.severity":             i18n.T("Severity", "严重程度"),
	"col.arrived":              i18n.T("Arrived", "到达时间"),
	"col.deadline":             i18n.T("Deadline", "安装期限"),
	"col.installed":            i18n.T("Installed", "安装时间"),
	"col.verdict":              i18n.T("Verdict", "结论"),
	"patches.rows":             i18n.T("Patches × hosts", "补丁 × 主机数"),
	"patches.none":             i18n.T("No patch of the catalog applies to the hosts inspected.", "补丁台账中没有适用于所巡检主机的补丁。"),
	"patches.intro":            i18n.T("Urgent and serious patches must be installed within 1 working day of arrival, normal ones within 2 (or the days the catalog sets). Unknown: the host's installed patches could not be read, or it does not say when it installed the patch.", "紧急、严重补丁须在到达后 1 个工作日内安装，普通补丁 2 个工作日内（或按补丁台账设定的天数）。未知：无法读取主机已安装的补丁，或主机未记录该补丁的安装时间。"),
	"patches.not_installed":    i18n.T("not installed", "未安装"),
	"patches.earlier":          i18n.T("%d rows installed and due before %s are not listed; patrol patch status lists every row.", "另有 %d 行在 %s 之前已安装且已到期，未列出；patrol patch status 列出全部。"),
	"patches.earlier_one":      i18n.T("%d row installed and due before %s is not listed; patrol patch status lists every row.", "另有 %d 行在 %s 之前已安装且已到期，未列出；patrol patch status 列出全部。"),
	"patches.none_in_period":   i18n.T("No patch was missing, due or installed in this period.", "本期没有未安装、到期或新安装的补丁。"),
	"patches.deadline":         i18n.T("deadline %s", "期限 %s"),
	"patches.missed_installed": i18n.T("installed after its deadline", "超过期限后才安装"),
	"patches.missed_missing":   i18n.T("still not installed after its deadline", "已过期限仍未安装"),

	"info.kind":      i18n.T("Inspection type", "巡检类型"),
	"info.time":      i18n.T("Inspection time", "巡检时间"),
	"info.inspector": i18n.T("Inspector", "巡检人"),
	"info.machine":   i18n.T("Machine patrol ran on", "执行巡检的计算机"),
	"info.systems":   i18n.T("Systems", "巡检系统"),
	"info.run":       i18n.T("Run ID", "运行编号"),
	"info.note":      i18n.T("Note", "说明"),

	"kind.daily":   i18n.T("Daily basic inspection", "日常基础巡检"),
	"kind.monthly": i18n.T("Monthly full inspection", "月度全面巡检"),
	"kind.other":   i18n.T("Inspection", "巡检"),

	"time.to":      i18n.T(" to ", " 至 "),
	"time.unended": i18n.T("not finished", "未结束"),

	"run.interrupted": i18n.T("The run was interrupted before it finished, so results are missing for some items or hosts.",
		"本次巡检运行被中断，部分主机或检查项没有结果。"),
	"run.incomplete": i18n.T("The run did not record its end (it may have stopped unexpectedly), so results may be missing.",
		"本次巡检运行没有记录结束（可能意外停止），结果可能不完整。"),

	"summary.hosts":         i18n.T("Hosts inspected", "巡检主机数"),
	"summary.unreachable":   i18n.T("Hosts unreachable", "无法连接主机数"),
	"summary.not_inspected": i18n.T("Hosts not inspected", "未巡检主机数"),
	"summary.items":         i18n.T("Items checked", "检查项总数"),
	"summary.conclusion":    i18n.T("Conclusion", "结论"),
	"summary.all_ok":        i18n.T("All items are normal.", "所有检查项均正常。"),
	"summary.has_anomalies": i18n.T("%d anomalies need handling; see the Anomalies section.", "发现 %d 项异常，需处理，详见“异常项”。"),

	"col.field":     i18n.T("Field", "项目"),
	"col.content":   i18n.T("Value", "内容"),
	"col.no":        i18n.T("No.", "序号"),
	"col.host":      i18n.T("Host", "主机"),
	"col.address":   i18n.T("Address", "地址"),
	"col.os":        i18n.T("OS", "操作系统"),
	"col.state":     i18n.T("Connection", "连接状态"),
	"col.items":     i18n.T("Items (ok/warn/fail/error)", "检查项（正常/警告/不合格/无法检测）"),
	"col.check":     i18n.T("Check", "检查项"),
	"col.item":      i18n.T("Object", "检查对象"),
	"col.status":    i18n.T("Status", "状态"),
	"col.value":     i18n.T("Value", "检测值"),
	"col.threshold": i18n.T("Threshold", "阈值"),
	"col.message":   i18n.T("Description", "说明"),
	"col.evidence":  i18n.T("Evidence", "证据"),
	"col.handling":  i18n.T("Handling", "处理情况"),

	"host.reachable":            i18n.T("Reachable", "正常"),
	"host.unreachable":          i18n.T("Unreachable", "无法连接"),
	"host.not_inspected":        i18n.T("Not inspected", "未巡检"),
	"host.no_items":             i18n.T("No inspection items were recorded for this host.", "该主机没有检查项结果。"),
	"host.connection":           i18n.T("Host connection", "主机连接"),
	"host.not_run":              i18n.T("No result was recorded for this host: the run ended before reaching it.", "该主机没有结果记录：本次运行在巡检到该主机之前结束。"),
	"host.failed_task":          i18n.T("Task failed", "任务执行失败"),
	"host.failed_task_evidence": i18n.T("see the evidence for the error", "错误信息见证据"),

	"anomalies.none":    i18n.T("No anomalies were found.", "未发现异常。"),
	"evidence.more":     i18n.T("… %d more lines", "…… 另有 %d 行"),
	"sign.inspector":    i18n.T("Inspector signature", "巡检人签字"),
	"sign.reviewer":     i18n.T("Reviewer signature", "审核人签字"),
	"sign.date":         i18n.T("Date", "日期"),
	"footer.generated":  i18n.T("Generated by patrol", "由 patrol 生成"),
	"footer.handling":   i18n.T("The Handling column is filled in by hand by the engineer who handles each item.", "“处理情况”一栏由处理人员手工填写。"),
	"status.ok":         i18n.T("OK", "正常"),
	"status.warn":       i18n.T("Warning", "警告"),
	"status.fail":       i18n.T("Fail", "不合格"),
	"status.error":      i18n.T("Unable to check", "无法检测"),
	"system.unassigned": i18n.T("Unassigned", "未分组"),
	"colon":             i18n.T(": ", "："),
}

// systemNames are the business systems' full names. Their order is the order
// the report lists systems in; other systems follow sorted, then unassigned hosts.
var systemNames = []struct {
	Key  string
	Name i18n.Text
}{
	{"hotel", i18n.T("Hotel industry public security management information system", "旅馆业治安管理信息系统")},
	{"entertainment", i18n.T("Entertainment venue public security management information system", "娱乐场所治安管理信息系统")},
	{"seal", i18n.T("Seal public security management information system", "印章治安管理信息系统")},
}

// label returns the text of a label key in lang, or an error naming an unknown key.
func label(lang i18n.Lang, key string) (string, error) {
	t, ok := labels[key]
	if !ok {
		return "", fmt.Errorf("report label %q is not defined", key)
	}
	return t.In(lang), nil
}

// mustLabel is label for keys fixed in this package's code; tests render every
// path, so a missing key shows up there.
func mustLabel(lang i18n.Lang, key string) string {
	s, err := label(lang, key)
	if err != nil {
		panic(err)
	}
	return s
}

// systemName returns the display name of a system key.
func systemName(lang i18n.Lang, key string) string {
	if key == "" {
		return mustLabel(lang, "system.unassigned")
	}
	for _, s := range systemNames {
		if s.Key == key {
			return s.Name.In(lang)
		}
	}
	return key
}

// statusLabel returns the word shown for a finding status. A status this
// package does not know is shown as error, like knownStatus does.
func statusLabel(lang i18n.Lang, s module.Status) string {
	return mustLabel(lang, "status."+string(knownStatus(s)))
}
