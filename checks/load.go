package checks

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"patrol/i18n"
	"patrol/module"
)

const loadCheck = "check.load"

func loadSpec() *module.Spec {
	return &module.Spec{
		Name:  loadCheck,
		Title: i18n.T("System load", "系统负载"),
		Doc:   i18n.T("1, 5 and 15 minute load averages divided by the CPU count against warn/fail levels.", "1、5、15 分钟平均负载除以 CPU 数，与警告/不合格阈值比较。"),
		Check: true,
		Args: []module.Arg{
			{Name: "warn", Type: module.Float, Default: 1.0, Doc: i18n.T("load per CPU at which the host warns", "每个 CPU 的负载达到该值时判为警告")},
			{Name: "fail", Type: module.Float, Default: 2.0, Doc: i18n.T("load per CPU at which the host fails", "每个 CPU 的负载达到该值时判为不合格")},
		},
		Run: runLoad,
	}
}

// loadAverage is the measurement of a load probe.
type loadAverage struct {
	Load [3]float64 // 1, 5 and 15 minutes
	CPUs int
}

type loadProbe func(ctx context.Context, env *module.Env) (loadAverage, *module.Finding)

var loadProbes = perOS[loadProbe]{Linux: probeLoadLinux}

func runLoad(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
	probe := loadProbes.pick(env)
	if probe == nil {
		return result([]module.Finding{unsupportedOS(loadCheck)}), nil
	}
	avg, failed := probe(ctx, env)
	if failed != nil {
		return result([]module.Finding{*failed}), nil
	}
	t := perCPUThreshold(floatArg(args, "warn", 1), floatArg(args, "fail", 2))
	return result(evaluateLoad(avg, t)), nil
}

// perCPUThreshold judges the load average divided by the number of CPUs.
func perCPUThreshold(warn, fail float64) Threshold {
	t := HigherIsWorse(warn, fail, "")
	t.Unit = i18n.T(" per CPU", "（每个 CPU）")
	return t
}

// loadScript prints /proc/loadavg, then the CPU count from nproc, or from
// /proc/cpuinfo where coreutils is too old to have nproc (before 8.1). One
// command, because on many hosts each extra command costs the host a login.
const loadScript = "cat /proc/loadavg && { nproc 2>/dev/null || grep -c '^processor' /proc/cpuinfo; }"

// probeLoadLinux reads the load averages and the CPU count.
func probeLoadLinux(ctx context.Context, env *module.Env) (loadAverage, *module.Finding) {
	out, err := runScript(ctx, env, loadScript)
	if err != nil || out.ExitCode != 0 {
		f := probeFailed(loadCheck, "load", "cat /proc/loadavg; nproc", out, err)
		return loadAverage{}, &f
	}
	loadLine, cpuLine, _ := strings.Cut(strings.TrimSpace(string(out.Stdout)), "\n")
	load, perr := ParseLoadavg([]byte(loadLine))
	if perr != nil {
		f := errorFinding(loadCheck, "load", i18n.T(
			fmt.Sprintf("could not parse /proc/loadavg: %v", perr),
			"无法解析 /proc/loadavg，解析错误见证据",
		), parseEvidence(perr, out))
		return loadAverage{}, &f
	}

	cpus, perr := strconv.Atoi(strings.TrimSpace(cpuLine))
	if perr != nil || cpus <= 0 {
		f := errorFinding(loadCheck, "load", i18n.T(
			fmt.Sprintf("could not read the CPU count from %q", strings.TrimSpace(cpuLine)),
			fmt.Sprintf("无法读取 CPU 数量：%q", strings.TrimSpace(cpuLine)),
		), nil)
		return loadAverage{}, &f
	}
	return loadAverage{Load: load, CPUs: cpus}, nil
}

// ParseLoadavg reads the three load averages from /proc/loadavg
// ("0.97 0.30 0.11 2/99 5043").
func ParseLoadavg(out []byte) ([3]float64, error) {
	var load [3]float64
	fields := strings.Fields(string(out))
	if len(fields) < 3 {
		return load, fmt.Errorf("expected 3 load averages, got %q", strings.TrimSpace(string(out)))
	}
	for i := range load {
		v, err := strconv.ParseFloat(fields[i], 64)
		if err != nil {
			return load, fmt.Errorf("load average %q: %w", fields[i], err)
		}
		load[i] = v
	}
	return load, nil
}

func evaluateLoad(avg loadAverage, t Threshold) []module.Finding {
	var findings []module.Finding
	for i, minutes := range []int{1, 5, 15} {
		perCPU := float64(int64(avg.Load[i]/float64(avg.CPUs)*100+0.5)) / 100
		item := fmt.Sprintf("load %dm", minutes)
		f := t.Measure(loadCheck, item, perCPU, i18n.T(
			fmt.Sprintf("%.2f (%.2f per CPU, %d CPUs)", avg.Load[i], perCPU, avg.CPUs),
			fmt.Sprintf("%.2f（每个 CPU %.2f，共 %d 个 CPU）", avg.Load[i], perCPU, avg.CPUs),
		))
		f.Metrics = map[string]float64{"load": avg.Load[i], "load_per_cpu": perCPU, "cpus": float64(avg.CPUs)}
		en, zh := levelWords(f.Status)
		f.Message = i18n.T(
			fmt.Sprintf("%d-minute load average is %.2f on %d CPUs (%s)", minutes, avg.Load[i], avg.CPUs, en),
			fmt.Sprintf("%d 分钟平均负载 %.2f，CPU %d 个（%s）", minutes, avg.Load[i], avg.CPUs, zh),
		)
		findings = append(findings, f)
	}
	return findings
}
