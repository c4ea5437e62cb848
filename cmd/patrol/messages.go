package main

import "patrol/i18n"

// Messages shown in more than one place.
var (
	msgError       = i18n.T("error", "错误")
	msgInterrupted = i18n.T("interrupted: connections closed, journal marked interrupted", "已中断：连接已关闭，日志已标记为中断")
	msgJournal     = i18n.T("journal", "运行日志")
	msgReport      = i18n.T("report", "报告")
)
