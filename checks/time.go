package checks

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"patrol/i18n"
	"patrol/module"
)

const timeCheck = "check.time"

func timeSpec() *module.Spec {
	return &module.Spec{
		Name:  timeCheck,
		Title: i18n.T("Clock synchronization", "时钟同步"),
		Doc:   i18n.T("Whether the clock is synchronized by NTP (chrony or systemd-timesyncd) and, with chrony, its offset.", "时钟是否由 NTP（chrony 或 systemd-timesyncd）同步；使用 chrony 时还检查时钟偏差。"),
		Check: true,
		Args: []module.Arg{
			{Name: "max_offset", Type: module.Duration, Default: time.Second, Doc: i18n.T("clock offset reported by chrony at which the check warns", "chrony 报告的时钟偏差达到该值时判为警告")},
		},
		Run: runTime,
	}
}

// Names of the time probe sections.
const (
	timeChrony      = "chronyc"
	timeTimedatectl = "timedatectl"
)

type timeProbe func(ctx context.Context, env *module.Env) (map[string]section, *module.Finding)

var timeProbes = perOS[timeProbe]{Linux: probeTimeLinux}

func runTime(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
	maxOffset, ok, err := durationArg(args, "max_offset")
	if err != nil {
		return result([]module.Finding{argError(timeCheck, err)}), nil
	}
	if !ok {
		maxOffset = time.Second
	}

	probe := timeProbes.pick(env)
	if probe == nil {
		return result([]module.Finding{unsupportedOS(timeCheck)}), nil
	}
	sections, failed := probe(ctx, env)
	if failed != nil {
		return result([]module.Finding{*failed}), nil
	}
	return result([]module.Finding{JudgeTime(sections, maxOffset)}), nil
}

func probeTimeLinux(ctx context.Context, env *module.Env) (map[string]section, *module.Finding) {
	script := sectionScript([]probeCommand{
		{timeChrony, "chronyc tracking"},
		{timeTimedatectl, "timedatectl show"},
	})
	out, err := runScript(ctx, env, script)
	if err != nil {
		f := probeFailed(timeCheck, "clock", "chronyc tracking", out, err)
		return nil, &f
	}
	return ParseSections(out.Stdout), nil
}

// ChronyTracking holds the fields of `chronyc tracking` output.
type ChronyTracking struct {
	Reference string
	// Offset is how far the system clock is from NTP time; positive is fast.
	Offset time.Duration
	Leap   string // Normal, Insert second, Delete second, Not synchronised
}

// ParseChronyTracking reads "Key : value" lines such as
// "System time     : 0.000012345 seconds fast of NTP time".
func ParseChronyTracking(out string) (ChronyTracking, bool) {
	var t ChronyTracking
	found := false
	for _, line := range strings.Split(out, "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		switch key {
		case "Reference ID":
			t.Reference = value
		case "Leap status":
			t.Leap = value
			found = true
		case "System time":
			fields := strings.Fields(value)
			if len(fields) >= 3 {
				secs, err := strconv.ParseFloat(fields[0], 64)
				if err == nil {
					if fields[2] == "slow" {
						secs = -secs
					}
					t.Offset = time.Duration(secs * float64(time.Second))
				}
			}
		}
	}
	return t, found
}

// ParseKeyValues reads `timedatectl show` style Key=Value lines.
func ParseKeyValues(out string) map[string]string {
	values := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			values[k] = v
		}
	}
	return values
}

// JudgeTime prefers chrony, which gives the offset, and falls back to
// timedatectl's NTPSynchronized (systemd 239 and later have `timedatectl show`).
func JudgeTime(sections map[string]section, maxOffset time.Duration) module.Finding {
	f := module.Finding{Check: timeCheck, Item: "clock", Threshold: i18n.T(
		"synchronized, warn: offset ≥"+maxOffset.String(),
		"已同步，警告：偏差 ≥"+maxOffset.String(),
	)}
	for _, name := range []string{timeChrony, timeTimedatectl} {
		if s, ok := sections[name]; ok {
			f.Evidence = append(f.Evidence, fmt.Sprintf("%s: exit %d: %s", name, s.ExitCode, summarize([]byte(s.Output))))
		}
	}

	if s, ok := sections[timeChrony]; ok && s.ExitCode == 0 {
		if tr, ok := ParseChronyTracking(s.Output); ok {
			offset := tr.Offset.Round(time.Microsecond)
			f.Metrics = map[string]float64{"offset_seconds": tr.Offset.Seconds()}
			switch {
			case tr.Leap == "Not synchronised":
				f.Status, f.Value = module.StatusFail, notSynchronized
				f.Message = i18n.T("chrony is running but the clock is not synchronized; check the NTP servers in chrony.conf",
					"chrony 正在运行，但时钟未同步；请检查 chrony.conf 中的 NTP 服务器")
			case math.Abs(tr.Offset.Seconds()) >= maxOffset.Seconds():
				f.Status, f.Value = module.StatusWarn, i18n.T("offset "+offset.String(), "偏差 "+offset.String())
				f.Message = i18n.T(fmt.Sprintf("the clock is %s off NTP time", offset), fmt.Sprintf("时钟与 NTP 时间相差 %s", offset))
			default:
				f.Status, f.Value = module.StatusOK, i18n.T("synchronized, offset "+offset.String(), "已同步，偏差 "+offset.String())
				f.Message = i18n.T(fmt.Sprintf("the clock is synchronized by chrony, %s off NTP time", offset),
					fmt.Sprintf("时钟已由 chrony 同步，与 NTP 时间相差 %s", offset))
			}
			return f
		}
	}

	if s, ok := sections[timeTimedatectl]; ok && s.ExitCode == 0 {
		kv := ParseKeyValues(s.Output)
		switch kv["NTPSynchronized"] {
		case "yes":
			f.Status, f.Value = module.StatusOK, i18n.T("synchronized", "已同步")
			f.Message = i18n.T("the clock is synchronized (timedatectl)", "时钟已同步（timedatectl）")
			return f
		case "no":
			f.Status, f.Value = module.StatusFail, notSynchronized
			f.Message = i18n.T("the clock is not synchronized; enable NTP with timedatectl set-ntp true or configure chrony",
				"时钟未同步；请执行 timedatectl set-ntp true 或配置 chrony")
			return f
		}
	}

	f.Status, f.Value = module.StatusError, unknownValue
	f.Message = i18n.T("neither chronyc tracking nor timedatectl show could report the clock state; install and start chrony (or systemd-timesyncd) so the clock is kept in step and can be checked",
		"chronyc tracking 和 timedatectl show 都无法报告时钟状态；请安装并启动 chrony（或 systemd-timesyncd），使时钟保持同步并可被检查")
	return f
}

// notSynchronized is the Value of a clock that NTP does not keep in step.
var notSynchronized = i18n.T("not synchronized", "未同步")
