package checks

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"patrol/i18n"
	"patrol/module"
)

const uptimeCheck = "check.uptime"

func uptimeSpec() *module.Spec {
	return &module.Spec{
		Name:  uptimeCheck,
		Title: i18n.T("Uptime and unexpected reboots", "运行时长与意外重启"),
		Doc:   i18n.T("Time since the last boot: warns when the host booted recently (a reboot nobody planned shows here) or has run longer than max without the reboot that updates need.", "自上次启动以来的运行时长：主机最近刚启动（计划外的重启会在此显示），或运行时间超过 max 而未做更新所需的重启时，判为警告。"),
		Check: true,
		Args: []module.Arg{
			{Name: "min", Type: module.String, Default: "1d", Doc: i18n.T("uptime below which the check warns, such as 1d; 0 disables", "运行时长低于该值时判为警告，如 1d；0 表示不启用")},
			{Name: "max", Type: module.String, Doc: i18n.T("uptime at or above which the check warns, such as 90d (optional)", "运行时长达到该值时判为警告，如 90d（可选）")},
		},
		Run: runUptime,
	}
}

// Uptime is how long a host has run since its last boot.
type Uptime struct {
	// Boot is the boot time in UTC; zero when only the duration is known.
	Boot   time.Time
	Uptime time.Duration
	// UnexpectedShutdowns are the Windows System log events 6008 and 41
	// (Kernel-Power) written since shortly before the boot, one line each;
	// they mean the previous shutdown was a crash or a power loss.
	UnexpectedShutdowns []string
	// ShutdownEventsChecked is set when the probe looked for those events.
	ShutdownEventsChecked bool
}

type uptimeProbe func(ctx context.Context, env *module.Env) (Uptime, *module.Finding)

var uptimeProbes = perOS[uptimeProbe]{Linux: probeUptimeLinux}

func runUptime(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
	minUptime, _, err := durationArg(args, "min")
	if err != nil {
		return result([]module.Finding{argError(uptimeCheck, err)}), nil
	}
	maxUptime, _, err := durationArg(args, "max")
	if err != nil {
		return result([]module.Finding{argError(uptimeCheck, err)}), nil
	}
	probe := uptimeProbes.pick(env)
	if probe == nil {
		return result([]module.Finding{unsupportedOS(uptimeCheck)}), nil
	}
	up, failed := probe(ctx, env)
	if failed != nil {
		return result([]module.Finding{*failed}), nil
	}
	return result([]module.Finding{EvaluateUptime(up, minUptime, maxUptime)}), nil
}

func probeUptimeLinux(ctx context.Context, env *module.Env) (Uptime, *module.Finding) {
	out, err := runScript(ctx, env, "cat /proc/uptime")
	if err != nil || out.ExitCode != 0 {
		f := probeFailed(uptimeCheck, "uptime", "cat /proc/uptime", out, err)
		return Uptime{}, &f
	}
	d, ok := ParseProcUptime(out.Stdout)
	if !ok {
		f := errorFinding(uptimeCheck, "uptime", i18n.T("/proc/uptime did not start with a number of seconds", "/proc/uptime 开头不是秒数"), outputEvidence(out))
		return Uptime{}, &f
	}
	return Uptime{Uptime: d}, nil
}

// ParseProcUptime reads the first field of /proc/uptime, seconds since boot
// with two decimals.
func ParseProcUptime(out []byte) (time.Duration, bool) {
	fields := strings.Fields(string(out))
	if len(fields) == 0 {
		return 0, false
	}
	secs, err := strconv.ParseFloat(fields[0], 64)
	if err != nil || secs < 0 {
		return 0, false
	}
	return time.Duration(secs * float64(time.Second)), true
}

// EvaluateUptime warns when the uptime is below minUptime or at or above
// maxUptime (either 0 disables). A recent boot after an unexpected shutdown
// says so, and the shutdown events become evidence.
func EvaluateUptime(up Uptime, minUptime, maxUptime time.Duration) module.Finding {
	f := module.Finding{
		Check:    uptimeCheck,
		Item:     "uptime",
		Status:   module.StatusOK,
		Value:    i18n.T("up "+FormatAge(up.Uptime), "已运行 "+FormatAgeZH(up.Uptime)),
		Evidence: up.UnexpectedShutdowns,
		Metrics:  map[string]float64{"uptime_seconds": up.Uptime.Seconds(), "unexpected_shutdowns": float64(len(up.UnexpectedShutdowns))},
	}
	var limits []i18n.Text
	if minUptime > 0 {
		limits = append(limits, i18n.T("warn <"+FormatAge(minUptime), "警告 <"+FormatAgeZH(minUptime)))
	}
	if maxUptime > 0 {
		limits = append(limits, i18n.T("warn ≥"+FormatAge(maxUptime), "警告 ≥"+FormatAgeZH(maxUptime)))
	}
	f.Threshold = joinText(limits...)

	boot := i18n.T("", "")
	if !up.Boot.IsZero() {
		b := formatTime(up.Boot)
		boot = i18n.T(" (booted "+b+")", "（启动于 "+b+"）")
	}
	cause := i18n.T("; no unexpected-shutdown event (6008, Kernel-Power 41) was logged, so it was a clean restart", "；未记录意外关机事件（6008、Kernel-Power 41），属于正常重启")
	switch {
	case len(up.UnexpectedShutdowns) > 0:
		cause = i18n.T("; the shutdown before this boot was unexpected (crash or power loss), see the evidence", "；本次启动前的关机属于意外关机（崩溃或断电），见证据")
	case !up.ShutdownEventsChecked:
		cause = i18n.T("; check with the team whether the reboot was planned", "；请与团队确认该重启是否在计划内")
	}

	switch {
	case minUptime > 0 && up.Uptime < minUptime:
		f.Status = module.StatusWarn
		f.Message = i18n.T(
			"the host booted "+FormatAge(up.Uptime)+" ago"+boot.EN+cause.EN,
			"主机 "+FormatAgeZH(up.Uptime)+"前启动"+boot.ZH+cause.ZH,
		)
	case maxUptime > 0 && up.Uptime >= maxUptime:
		f.Status = module.StatusWarn
		f.Message = i18n.T(
			"the host has run "+FormatAge(up.Uptime)+" without a reboot"+boot.EN+"; updates that need a reboot are not in effect, so plan one",
			"主机已连续运行 "+FormatAgeZH(up.Uptime)+"未重启"+boot.ZH+"；需要重启的更新尚未生效，请安排重启",
		)
	default:
		f.Message = i18n.T("the host has run "+FormatAge(up.Uptime)+boot.EN, "主机已运行 "+FormatAgeZH(up.Uptime)+boot.ZH)
		if len(up.UnexpectedShutdowns) > 0 {
			f.Message = joinText(f.Message, i18n.T("the shutdown before this boot was unexpected", "本次启动前为意外关机"))
		}
	}
	return f
}

// formatUptimeProbeError is the message of a probe output without key.
func formatUptimeProbeError(key string) i18n.Text {
	return i18n.T(
		fmt.Sprintf("the uptime probe printed no valid %s line", key),
		fmt.Sprintf("运行时长探测未输出有效的 %s 行", key),
	)
}
