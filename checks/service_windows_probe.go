package checks

import (
	"context"
	"fmt"
	"path"
	"strings"

	"patrol/i18n"
	"patrol/module"
)

// winServiceScript lists every service as Format-List records. Filtering
// happens in Go, so that a unit may be named by its service name or its
// (Chinese) display name and no name is put into the script text.
var winServiceScript = psPrelude + psWMIQuery("Win32_Service", "") +
	" | Format-List Name, DisplayName, State, StartMode | Out-String -Width 4096\n"

// defaultIgnoredWinServices are automatic services that stop by design once
// their work is done on Windows Server 2012 R2, so they are not reported as
// stopped: Software Protection (sppsvc), Remote Registry (trigger start),
// the .NET native image services and Google Update.
var defaultIgnoredWinServices = []string{"sppsvc", "RemoteRegistry", "clr_optimization_*", "gupdate"}

// runServiceWindows requires each listed service to be Running (and Auto start
// with enabled: true) and, with failed: true or no units, reports every Auto
// service that is not running.
func runServiceWindows(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
	units := stringList(args, "units")
	listFailed := boolArg(args, "failed", false) || len(units) == 0
	ignore := stringList(args, "ignore")
	if !args.Has("ignore") {
		ignore = defaultIgnoredWinServices
	}

	out, err := runScript(ctx, env, winServiceScript)
	if err != nil || out.ExitCode != 0 {
		return result([]module.Finding{probeFailedText(serviceCheck, "Win32_Service", i18n.T("Win32_Service query", "Win32_Service 查询"), out, err)}), nil
	}
	services, perr := ParseWinServices(out.Stdout)
	if perr != nil || len(services) == 0 {
		return result([]module.Finding{errorFinding(serviceCheck, "Win32_Service", i18n.T(
			fmt.Sprintf("the Win32_Service query returned no readable services (%v)", perr),
			"Win32_Service 查询未返回可读取的服务，详情见证据",
		), parseEvidence(perr, out))}), nil
	}

	findings := EvaluateWinServices(units, services, boolArg(args, "enabled", false))
	if listFailed {
		findings = append(findings, EvaluateStoppedAutoServices(services, ignore)...)
	}
	return result(findings), nil
}

// findWinService looks a unit up by service name, then by display name, both
// without regard to case as Windows compares them.
func findWinService(services []WinService, unit string) (WinService, bool) {
	for _, s := range services {
		if strings.EqualFold(s.Name, unit) {
			return s, true
		}
	}
	for _, s := range services {
		if strings.EqualFold(s.DisplayName, unit) {
			return s, true
		}
	}
	return WinService{}, false
}

// EvaluateWinServices gives one finding per requested service: fail when it is
// missing or not Running, and with wantAuto when its start mode is not Auto.
func EvaluateWinServices(units []string, services []WinService, wantAuto bool) []module.Finding {
	var findings []module.Finding
	for _, u := range units {
		s, ok := findWinService(services, u)
		if !ok {
			findings = append(findings, module.Finding{
				Check:     serviceCheck,
				Item:      u,
				Status:    module.StatusFail,
				Value:     i18n.T("not found", "不存在"),
				Threshold: winServiceThreshold(wantAuto),
				Message: i18n.T(
					fmt.Sprintf("service %s does not exist on this host; check the service name (sc query) or install the service", u),
					fmt.Sprintf("主机上不存在服务 %s；请核对服务名（sc query）或安装该服务", u),
				),
			})
			continue
		}
		findings = append(findings, winServiceFinding(s, wantAuto))
	}
	return findings
}

func winServiceThreshold(wantAuto bool) i18n.Text {
	if wantAuto {
		return i18n.T("Running, start mode Auto", "正在运行，启动类型为自动")
	}
	return i18n.T("Running", "正在运行")
}

// winServiceValue shows a service's state and start mode, in Chinese with
// the words Windows printed in brackets.
func winServiceValue(s WinService) i18n.Text {
	return i18n.T(
		s.State+", start mode "+s.StartMode,
		windowsValueZH(winServiceStatesZH, s.State)+"，启动类型 "+windowsValueZH(winStartModesZH, s.StartMode),
	)
}

func winServiceFinding(s WinService, wantAuto bool) module.Finding {
	label := winServiceLabel(s)
	f := module.Finding{
		Check:     serviceCheck,
		Item:      s.Name,
		Status:    module.StatusOK,
		Value:     winServiceValue(s),
		Threshold: winServiceThreshold(wantAuto),
		Evidence:  []string{fmt.Sprintf("Name=%s DisplayName=%s State=%s StartMode=%s", s.Name, s.DisplayName, s.State, s.StartMode)},
	}
	switch {
	case s.State != "Running":
		f.Status = module.StatusFail
		f.Message = i18n.T(
			fmt.Sprintf("service %s is %s, expected Running; start it (Start-Service %s) and read the System event log", label, s.State, s.Name),
			fmt.Sprintf("服务 %s 状态为%s，应为正在运行；请启动该服务（Start-Service %s）并查看系统事件日志", label, windowsWordZH(winServiceStatesZH, s.State), s.Name),
		)
	case wantAuto && s.StartMode != "Auto":
		f.Status = module.StatusFail
		f.Message = i18n.T(
			fmt.Sprintf("service %s is running but its start mode is %s, expected Auto; it will not start after a reboot", label, s.StartMode),
			fmt.Sprintf("服务 %s 正在运行，但启动类型为%s，应为自动；重启后不会自动启动", label, windowsWordZH(winStartModesZH, s.StartMode)),
		)
	default:
		f.Message = i18n.T(
			fmt.Sprintf("service %s is running", label),
			fmt.Sprintf("服务 %s 正在运行", label),
		)
	}
	return f
}

// winServiceLabel names a service by its key name and, when it differs, its
// display name, which on Chinese hosts is the name operators know.
func winServiceLabel(s WinService) string {
	if s.DisplayName == "" || s.DisplayName == s.Name {
		return s.Name
	}
	return s.Name + " (" + s.DisplayName + ")"
}

// EvaluateStoppedAutoServices reports every service with start mode Auto that
// is not Running, the Windows counterpart of systemd's failed units. Services
// matching an ignore pattern (path.Match syntax, compared without case) are
// left out.
func EvaluateStoppedAutoServices(services []WinService, ignore []string) []module.Finding {
	threshold := i18n.T("every Auto service running", "所有自动启动的服务均在运行")
	var findings []module.Finding
	for _, s := range services {
		if s.StartMode != "Auto" || s.State == "Running" || ignoredService(s.Name, ignore) {
			continue
		}
		label := winServiceLabel(s)
		findings = append(findings, module.Finding{
			Check:     serviceCheck,
			Item:      s.Name,
			Status:    module.StatusFail,
			Value:     winServiceValue(s),
			Threshold: threshold,
			Message: i18n.T(
				fmt.Sprintf("automatic service %s is %s; start it or read the System event log for why it stopped", label, s.State),
				fmt.Sprintf("自动启动的服务 %s 状态为%s；请启动该服务，或查看系统事件日志了解停止原因", label, windowsWordZH(winServiceStatesZH, s.State)),
			),
			Evidence: []string{fmt.Sprintf("Name=%s DisplayName=%s State=%s StartMode=%s", s.Name, s.DisplayName, s.State, s.StartMode)},
		})
	}
	if len(findings) == 0 {
		return []module.Finding{{
			Check:     serviceCheck,
			Item:      "stopped automatic services",
			Status:    module.StatusOK,
			Value:     i18n.T("0 stopped", "0 个停止"),
			Threshold: threshold,
			Message:   i18n.T("every automatic service is running", "所有自动启动的服务均在运行"),
		}}
	}
	return findings
}

func ignoredService(name string, patterns []string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(name)); ok {
			return true
		}
	}
	return false
}
