package main

import "patrol/i18n"

// Messages shown in more than one place.
var (
	msgError       = i18n.T("error", "错误")
	msgInterrupted = i18n.T("interrupted: connections closed, journal marked interrupted", "已中断：连接已关闭，日志已标记为中断")
	msgJournal     = i18n.T("journal", "运行日志")
	msgReport      = i18n.T("report", "报告")
)

// labelled joins a label and its value with the colon of the user's language:
// "journal: path" in English, "运行日志：path" in Chinese.
func (a *app) labelled(label, value string) string { return labelledIn(a.lang, label, value) }

func labelledIn(lang i18n.Lang, label, value string) string {
	if lang == i18n.ZH {
		return label + "：" + value
	}
	return label + ": " + value
}
