package checks

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"

	"patrol/i18n"
	"patrol/module"
)

const memoryCheck = "check.memory"

func memorySpec() *module.Spec {
	return &module.Spec{
		Name:  memoryCheck,
		Title: i18n.T("Memory and swap", "内存与交换空间"),
		Doc:   i18n.T("Memory in use (total minus available) and swap in use against warn/fail percentages.", "按警告/不合格百分比检查已用内存（总量减可用量）和已用交换空间。"),
		Check: true,
		Args: []module.Arg{
			{Name: "warn", Type: module.Float, Default: 85.0, Doc: i18n.T("used memory percent at which the host warns", "内存已用百分比达到该值时判为警告")},
			{Name: "fail", Type: module.Float, Default: 95.0, Doc: i18n.T("used memory percent at which the host fails", "内存已用百分比达到该值时判为不合格")},
			{Name: "swap_warn", Type: module.Float, Default: 50.0, Doc: i18n.T("used swap percent at which the host warns", "交换空间已用百分比达到该值时判为警告")},
			{Name: "swap_fail", Type: module.Float, Default: 80.0, Doc: i18n.T("used swap percent at which the host fails", "交换空间已用百分比达到该值时判为不合格")},
		},
		Run: runMemory,
	}
}

// memoryUsage is the measurement of a memory probe, in bytes.
type memoryUsage struct {
	Total, Available int64
	// Estimated is set when the kernel has no MemAvailable and Available was
	// computed from free, buffer and cache memory.
	Estimated bool
	SwapTotal int64
	SwapFree  int64
}

type memoryProbe func(ctx context.Context, env *module.Env) (memoryUsage, *module.Finding)

var memoryProbes = perOS[memoryProbe]{Linux: probeMemoryLinux}

func runMemory(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
	probe := memoryProbes.pick(env)
	if probe == nil {
		return result([]module.Finding{unsupportedOS(memoryCheck)}), nil
	}
	usage, failed := probe(ctx, env)
	if failed != nil {
		return result([]module.Finding{*failed}), nil
	}

	mem := HigherIsWorse(floatArg(args, "warn", 85), floatArg(args, "fail", 95), "%")
	swap := HigherIsWorse(floatArg(args, "swap_warn", 50), floatArg(args, "swap_fail", 80), "%")
	return result(evaluateMemory(usage, mem, swap)), nil
}

func probeMemoryLinux(ctx context.Context, env *module.Env) (memoryUsage, *module.Finding) {
	out, err := runScript(ctx, env, "cat /proc/meminfo")
	if err != nil || out.ExitCode != 0 {
		f := probeFailed(memoryCheck, "memory", "cat /proc/meminfo", out, err)
		return memoryUsage{}, &f
	}

	usage, perr := MemoryFromMeminfo(ParseMeminfo(out.Stdout))
	if perr != nil {
		f := errorFinding(memoryCheck, "memory", i18n.T(
			fmt.Sprintf("could not read /proc/meminfo: %v", perr),
			"无法解析 /proc/meminfo，解析错误见证据",
		), parseEvidence(perr, out))
		return memoryUsage{}, &f
	}
	return usage, nil
}

// ParseMeminfo parses /proc/meminfo into values in bytes. Lines with a kB unit
// are multiplied by 1024; unitless lines (HugePages_Total) stay counts.
func ParseMeminfo(out []byte) map[string]int64 {
	values := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			continue
		}
		if len(fields) > 1 && strings.EqualFold(fields[1], "kB") {
			n *= 1024
		}
		values[strings.TrimSpace(key)] = n
	}
	return values
}

// MemoryFromMeminfo picks the values the check needs. Kernels before 3.14 (such
// as CentOS 6's 2.6.32) have no MemAvailable. There available memory is
// estimated as MemFree + Buffers + Cached + SReclaimable, which overstates it a
// little because some cache cannot be dropped.
func MemoryFromMeminfo(v map[string]int64) (memoryUsage, error) {
	total, ok := v["MemTotal"]
	if !ok || total <= 0 {
		return memoryUsage{}, fmt.Errorf("no MemTotal line")
	}
	u := memoryUsage{Total: total, SwapTotal: v["SwapTotal"], SwapFree: v["SwapFree"]}

	if avail, ok := v["MemAvailable"]; ok {
		u.Available = avail
		return u, nil
	}
	free, ok := v["MemFree"]
	if !ok {
		return memoryUsage{}, fmt.Errorf("neither MemAvailable nor MemFree present")
	}
	u.Available = free + v["Buffers"] + v["Cached"] + v["SReclaimable"]
	u.Available = min(u.Available, total)
	u.Estimated = true
	return u, nil
}

func evaluateMemory(u memoryUsage, mem, swap Threshold) []module.Finding {
	usedPct := roundPercent(float64(u.Total-u.Available) / float64(u.Total) * 100)
	f := mem.Measure(memoryCheck, "memory", usedPct, i18n.T(
		fmt.Sprintf("%s used, %s available of %s", percent(usedPct), FormatBytes(u.Available), FormatBytes(u.Total)),
		fmt.Sprintf("已用 %s，可用 %s，共 %s", percent(usedPct), FormatBytes(u.Available), FormatBytes(u.Total)),
	))
	f.Metrics = map[string]float64{
		"used_percent":    usedPct,
		"total_bytes":     float64(u.Total),
		"available_bytes": float64(u.Available),
	}
	en, zh := levelWords(f.Status)
	f.Message = i18n.T(
		fmt.Sprintf("memory is %s used (%s)", percent(usedPct), en),
		fmt.Sprintf("内存已用 %s（%s）", percent(usedPct), zh),
	)
	if u.Estimated {
		f.Message.EN += "; available memory is estimated because the kernel has no MemAvailable"
		f.Message.ZH += "；内核未提供 MemAvailable，可用内存为估算值"
	}
	findings := []module.Finding{f}

	if u.SwapTotal <= 0 {
		return append(findings, module.Finding{
			Check:   memoryCheck,
			Item:    "swap",
			Status:  module.StatusOK,
			Value:   i18n.T("no swap", "无交换空间"),
			Message: i18n.T("no swap space is configured", "未配置交换空间"),
		})
	}
	swapPct := roundPercent(float64(u.SwapTotal-u.SwapFree) / float64(u.SwapTotal) * 100)
	s := swap.Measure(memoryCheck, "swap", swapPct, i18n.T(
		fmt.Sprintf("%s used of %s", percent(swapPct), FormatBytes(u.SwapTotal)),
		fmt.Sprintf("已用 %s，共 %s", percent(swapPct), FormatBytes(u.SwapTotal)),
	))
	s.Metrics = map[string]float64{
		"swap_used_percent": swapPct,
		"swap_total_bytes":  float64(u.SwapTotal),
		"swap_free_bytes":   float64(u.SwapFree),
	}
	en, zh = levelWords(s.Status)
	s.Message = i18n.T(
		fmt.Sprintf("swap is %s used (%s)", percent(swapPct), en),
		fmt.Sprintf("交换空间已用 %s（%s）", percent(swapPct), zh),
	)
	return append(findings, s)
}

// roundPercent keeps one decimal, enough for reports and stable in tests.
func roundPercent(v float64) float64 {
	return float64(int64(v*10+0.5)) / 10
}
