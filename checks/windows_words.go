package checks

import "strings"

// winServiceStatesZH names the states of a Windows service as the Chinese
// Services console (services.msc) shows them. Keys are compared without
// spaces, because Win32_Service writes "Start Pending" and Get-Service
// writes "StartPending".
var winServiceStatesZH = map[string]string{
	"running":         "正在运行",
	"stopped":         "已停止",
	"paused":          "已暂停",
	"startpending":    "正在启动",
	"stoppending":     "正在停止",
	"continuepending": "正在继续",
	"pausepending":    "正在暂停",
	"unknown":         "未知",
}

// winStartModesZH names the Win32_Service start modes as the Chinese
// Services console's 启动类型 column does; Boot and System are driver modes.
var winStartModesZH = map[string]string{
	"auto":     "自动",
	"manual":   "手动",
	"disabled": "禁用",
	"boot":     "引导",
	"system":   "系统",
}

// iisStatesZH names the states of IIS sites and application pools
// (Microsoft.Web.Administration.ObjectState) as the Chinese IIS Manager does.
var iisStatesZH = map[string]string{
	"started":  "已启动",
	"starting": "正在启动",
	"stopped":  "已停止",
	"stopping": "正在停止",
	"unknown":  "未知",
}

// windowsWordZH returns the Chinese word for a Windows state or mode, or the
// value itself when the table has none, so an unexpected value is still shown.
func windowsWordZH(words map[string]string, value string) string {
	if zh, ok := words[strings.ToLower(strings.ReplaceAll(value, " ", ""))]; ok {
		return zh
	}
	return value
}

// windowsValueZH returns the Chinese word followed by the value as Windows
// printed it, "已停止（Stopped）", for a finding's value, where the raw word
// helps an engineer compare it with sc query or Get-Service.
func windowsValueZH(words map[string]string, value string) string {
	zh := windowsWordZH(words, value)
	if zh == value {
		return value
	}
	return zh + "（" + value + "）"
}
