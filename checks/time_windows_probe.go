package checks

import (
	"context"
	"fmt"
	"time"

	"patrol/i18n"
	"patrol/module"
)

// The Windows side of check.time reads `w32tm /query /status`. No
// locale-independent source gives the last sync time: the W32Time registry
// values hold configuration only, and `/verbose` adds lines in the same
// display language. So the probe prints the host culture's date and time
// patterns and the host clock next to the w32tm text, and the parser reads
// the English and Chinese labels. w32tm reports no clock offset; only
// `w32tm /stripchart` measures one, and that sends NTP traffic from the host.

func init() {
	windowsRuns[timeCheck] = runTimeWindows
	windowsArgs[timeCheck] = append(windowsArgs[timeCheck], module.Arg{
		Name: "max_sync_age", Type: module.String, Default: "8d",
		Doc: i18n.T("Windows: age of the last successful sync at which the check warns; a workgroup host polls every 7 days by default (SpecialPollInterval 604800)", "Windows：上次成功同步距今达到该值时判为警告；工作组主机默认每 7 天同步一次（SpecialPollInterval 604800）"),
	})
}

// winTimeScript prints the culture, the host clock, the W32Time service
// status and w32tm's exit status as Key=Value lines, then "#w32tm" and the
// w32tm output. Errors of w32tm itself are data, so they must not stop the
// script.
var winTimeScript = psPrelude + `$c = Get-Culture
"Culture=$($c.Name)"
"ShortDatePattern=$($c.DateTimeFormat.ShortDatePattern)"
"LongTimePattern=$($c.DateTimeFormat.LongTimePattern)"
"LocalTime=$((Get-Date).ToString("yyyy-MM-dd'T'HH:mm:sszzz", [Globalization.CultureInfo]::InvariantCulture))"
"W32TimeService=$((Get-Service -Name W32Time).Status)"
$ErrorActionPreference = 'Continue'
$w32tm = @(& w32tm /query /status 2>&1)
"ExitCode=$LASTEXITCODE"
"#w32tm"
$w32tm | ForEach-Object { "$_" }
`

func runTimeWindows(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
	maxAge, ok, err := durationArg(args, "max_sync_age")
	if err != nil {
		return result([]module.Finding{argError(timeCheck, err)}), nil
	}
	if !ok {
		maxAge = 8 * 24 * time.Hour
	}
	out, err := runScript(ctx, env, winTimeScript)
	if err != nil || out.ExitCode != 0 {
		return result([]module.Finding{probeFailed(timeCheck, "clock", "w32tm /query /status", out, err)}), nil
	}
	return result([]module.Finding{JudgeW32tm(ParseTimeProbe(out.Stdout), maxAge)}), nil
}

// JudgeW32tm fails a clock that W32Time does not synchronize (service
// stopped, leap indicator 3, stratum 0) and warns when the last successful
// sync is maxSyncAge old or older, measured on the host's own clock.
func JudgeW32tm(p TimeProbe, maxSyncAge time.Duration) module.Finding {
	s := p.Status
	f := module.Finding{
		Check:    timeCheck,
		Item:     "clock",
		Evidence: p.Lines,
		Threshold: i18n.T(
			"synchronized, warn: last sync ≥"+FormatAge(maxSyncAge)+" ago",
			"已同步，警告：上次同步距今 ≥"+FormatAgeZH(maxSyncAge),
		),
		Metrics: map[string]float64{"root_dispersion_seconds": s.RootDispersion.Seconds()},
	}
	if s.StratumKnown {
		f.Metrics["stratum"] = float64(s.Stratum)
	}

	switch {
	case p.Service != "" && p.Service != "Running" || s.ErrorCode == "0x80070426":
		f.Status, f.Value = module.StatusFail, notSynchronized
		f.Message = i18n.T(
			fmt.Sprintf("the Windows Time service (W32Time) is not running (status %s); start it and set it to start automatically", orDash(p.Service)),
			fmt.Sprintf("Windows 时间服务（W32Time）未运行（状态：%s）；请启动该服务并设为自动启动", windowsValueZH(winServiceStatesZH, orDash(p.Service))),
		)
		return f
	case s.ErrorCode != "" || !s.LeapKnown && !s.StratumKnown:
		f.Status, f.Value = module.StatusError, unknownValue
		f.Message = i18n.T(
			fmt.Sprintf("w32tm /query /status reported no status (exit status %d, error %s)", p.ExitCode, orDash(s.ErrorCode)),
			fmt.Sprintf("w32tm /query /status 未报告状态（退出码 %d，错误 %s）", p.ExitCode, orDash(s.ErrorCode)),
		)
		return f
	case s.Leap == 3 || s.StratumKnown && s.Stratum == 0:
		f.Status, f.Value = module.StatusFail, notSynchronized
		f.Message = i18n.T(
			fmt.Sprintf("W32Time runs but the clock is not synchronized (source %s); set an NTP server with w32tm /config /manualpeerlist and run w32tm /resync", orDash(s.Source)),
			fmt.Sprintf("W32Time 正在运行，但时钟未同步（时间源 %s）；请用 w32tm /config /manualpeerlist 设置 NTP 服务器并执行 w32tm /resync", orDash(s.Source)),
		)
		return f
	case !s.LastSyncKnown || !p.LocalTimeKnown:
		f.Status, f.Value = module.StatusWarn, i18n.T("synchronized, last sync unknown", "已同步，上次同步时间未知")
		f.Message = i18n.T(
			fmt.Sprintf("the clock follows %s, but the last sync time %q could not be read with the host culture %s", orDash(s.Source), s.LastSyncRaw, orDash(p.Culture.Name)),
			fmt.Sprintf("时钟跟随 %s，但无法按主机区域设置 %s 读取上次同步时间 %q", orDash(s.Source), orDash(p.Culture.Name), s.LastSyncRaw),
		)
		return f
	}

	age := p.LocalTime.Sub(s.LastSync)
	f.Metrics["last_sync_age_seconds"] = age.Seconds()
	at := s.LastSync.Format("2006-01-02 15:04:05")
	if age >= maxSyncAge {
		f.Status = module.StatusWarn
		f.Value = i18n.T("last sync "+FormatAge(age)+" ago", "上次同步于 "+FormatAgeZH(age)+"前")
		f.Message = i18n.T(
			fmt.Sprintf("the last successful sync from %s was at %s (host time), %s ago; check that the NTP server is reachable and run w32tm /resync", orDash(s.Source), at, FormatAge(age)),
			fmt.Sprintf("上次从 %s 成功同步于 %s（主机时间），已过 %s；请检查 NTP 服务器是否可达并执行 w32tm /resync", orDash(s.Source), at, FormatAgeZH(age)),
		)
		return f
	}
	f.Status = module.StatusOK
	f.Value = i18n.T("synchronized, last sync "+FormatAge(age)+" ago", "已同步，上次同步于 "+FormatAgeZH(age)+"前")
	f.Message = i18n.T(
		fmt.Sprintf("the clock is synchronized from %s (stratum %d), last at %s host time", orDash(s.Source), s.Stratum, at),
		fmt.Sprintf("时钟已从 %s 同步（层次 %d），上次同步于主机时间 %s", orDash(s.Source), s.Stratum, at),
	)
	return f
}
