package checks

import (
	"context"
	"fmt"
	"strings"

	"patrol/i18n"
	"patrol/module"
)

const serviceCheck = "check.service"

func serviceSpec() *module.Spec {
	return &module.Spec{
		Name:  serviceCheck,
		Title: i18n.T("Services", "服务状态"),
		Doc:   i18n.T("Listed systemd units must be active (and enabled on request); optionally every failed unit is reported.", "列出的 systemd 单元必须处于 active（按需要求已设为开机启动）；可选报告所有失败的单元。"),
		Check: true,
		Args: []module.Arg{
			{Name: "units", Type: module.Strings, Doc: i18n.T("units that must be active; a name without a suffix means NAME.service", "必须处于 active 的单元；不带后缀的名称表示 NAME.service")},
			{Name: "enabled", Type: module.Bool, Default: false, Doc: i18n.T("also require the listed units to be enabled at boot", "同时要求列出的单元已设为开机启动")},
			{Name: "failed", Type: module.Bool, Default: false, Doc: i18n.T("report every unit systemd lists as failed; implied when units is empty", "报告 systemd 列为 failed 的所有单元；units 为空时默认开启")},
		},
		Run: runService,
	}
}

// UnitState is the state systemd reports for one unit.
type UnitState struct {
	ID          string
	LoadState   string // loaded, not-found, masked, error
	ActiveState string // active, inactive, failed, activating, …
	SubState    string // running, exited, dead, failed, …
	// UnitFileState is enabled, disabled, static, masked, … or empty for units
	// without a unit file.
	UnitFileState string
	Description   string
}

// serviceProbe returns the states of the requested units and, when listFailed is
// set, every failed unit. A nil finding means both were measured.
type serviceProbe func(ctx context.Context, env *module.Env, units []string, listFailed bool) (states, failed []UnitState, problem *module.Finding)

var serviceProbes = perOS[serviceProbe]{Linux: probeServiceLinux}

func runService(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
	units := stringList(args, "units")
	listFailed := boolArg(args, "failed", false) || len(units) == 0

	probe := serviceProbes.pick(env)
	if probe == nil {
		return result([]module.Finding{unsupportedOS(serviceCheck)}), nil
	}
	states, failed, problem := probe(ctx, env, units, listFailed)
	if problem != nil {
		return result([]module.Finding{*problem}), nil
	}

	findings := evaluateUnits(units, states, boolArg(args, "enabled", false))
	if listFailed {
		findings = append(findings, evaluateFailedUnits(failed)...)
	}
	return result(findings), nil
}

// systemdRunning is the test sd_booted(3) documents: /run/systemd/system exists
// only when systemd is PID 1.
const systemdRunning = `if [ ! -d /run/systemd/system ]; then echo "` + noSystemd + `" >&2; exit 3; fi; `

// noSystemd is the line systemdRunning prints when the test fails. It is
// patrol's own text, so the finding gives it in both languages instead of as
// host output.
const noSystemd = "systemd is not running on this host (no /run/systemd/system)"

// systemdProbeFailed builds the error finding of a failed systemctl probe.
func systemdProbeFailed(what string, out probeOutput, err error) module.Finding {
	if err == nil && out.ExitCode == 3 && strings.TrimSpace(string(out.Stderr)) == noSystemd {
		return errorFinding(serviceCheck, "systemd", i18n.T(
			noSystemd+"; the service check needs systemd",
			"主机上没有运行 systemd（不存在 /run/systemd/system）；服务检查需要 systemd",
		), outputEvidence(out))
	}
	return probeFailed(serviceCheck, "systemd", what, out, err)
}

func probeServiceLinux(ctx context.Context, env *module.Env, units []string, listFailed bool) ([]UnitState, []UnitState, *module.Finding) {
	var states, failed []UnitState
	if len(units) > 0 {
		quoted := make([]string, len(units))
		for i, u := range units {
			quoted[i] = shellQuote(unitName(u))
		}
		cmd := "systemctl show -p Id,LoadState,ActiveState,SubState,UnitFileState -- " + strings.Join(quoted, " ")
		out, err := runScript(ctx, env, systemdRunning+cmd)
		if err != nil || out.ExitCode != 0 {
			f := systemdProbeFailed("systemctl show", out, err)
			return nil, nil, &f
		}
		states = ParseSystemctlShow(out.Stdout)
	}

	if listFailed {
		out, err := runScript(ctx, env, systemdRunning+"systemctl list-units --state=failed --plain --no-legend --no-pager")
		if err != nil || out.ExitCode != 0 {
			f := systemdProbeFailed("systemctl list-units --state=failed", out, err)
			return nil, nil, &f
		}
		failed = ParseListUnits(out.Stdout)
	}
	return states, failed, nil
}

// unitName adds the .service suffix systemctl assumes for a bare name.
func unitName(u string) string {
	if strings.Contains(u, ".") {
		return u
	}
	return u + ".service"
}

// ParseSystemctlShow parses `systemctl show -p …` output for several units:
// Key=Value lines, one block per unit, blocks separated by blank lines, in the
// order the units were named on the command line.
func ParseSystemctlShow(out []byte) []UnitState {
	var states []UnitState
	var cur *UnitState
	for _, line := range strings.Split(strings.ReplaceAll(string(out), "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			cur = nil
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if cur == nil {
			states = append(states, UnitState{})
			cur = &states[len(states)-1]
		}
		switch key {
		case "Id":
			cur.ID = value
		case "LoadState":
			cur.LoadState = value
		case "ActiveState":
			cur.ActiveState = value
		case "SubState":
			cur.SubState = value
		case "UnitFileState":
			cur.UnitFileState = value
		case "Description":
			cur.Description = value
		}
	}
	return states
}

// ParseListUnits parses `systemctl list-units --plain --no-legend` lines: UNIT
// LOAD ACTIVE SUB DESCRIPTION. Since systemd 246 problem units may still start
// with a "●" column (or "*" on terminals without UTF-8), which is dropped so the
// unit name stays the first field.
func ParseListUnits(out []byte) []UnitState {
	var units []UnitState
	for _, line := range strings.Split(strings.ReplaceAll(string(out), "\r\n", "\n"), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 0 && (fields[0] == "●" || fields[0] == "*") {
			fields = fields[1:]
		}
		if len(fields) < 4 {
			continue
		}
		units = append(units, UnitState{
			ID:          fields[0],
			LoadState:   fields[1],
			ActiveState: fields[2],
			SubState:    fields[3],
			Description: strings.Join(fields[4:], " "),
		})
	}
	return units
}

// evaluateUnits gives one finding per requested unit. States are matched by
// position, because systemctl show prints blocks in argument order and reports
// an alias (sshd.service) under its real Id (ssh.service).
func evaluateUnits(units []string, states []UnitState, wantEnabled bool) []module.Finding {
	var findings []module.Finding
	for i, u := range units {
		name := unitName(u)
		if i >= len(states) {
			findings = append(findings, errorFinding(serviceCheck, name, i18n.T(
				"systemctl show returned no state for this unit",
				"systemctl show 未返回该单元的状态",
			), nil))
			continue
		}
		findings = append(findings, unitFinding(name, states[i], wantEnabled))
	}
	return findings
}

func unitFinding(name string, s UnitState, wantEnabled bool) module.Finding {
	f := module.Finding{
		Check:     serviceCheck,
		Item:      name,
		Status:    module.StatusOK,
		Value:     unitStateText(s),
		Threshold: same("active"),
		Evidence: []string{fmt.Sprintf("Id=%s LoadState=%s ActiveState=%s SubState=%s UnitFileState=%s",
			s.ID, s.LoadState, s.ActiveState, s.SubState, s.UnitFileState)},
	}
	if wantEnabled {
		f.Threshold = i18n.T("active, enabled", "运行中，开机自启（active，enabled）")
		f.Value = joinText(f.Value, i18n.T(orDash(s.UnitFileState), bootStateZH(s.UnitFileState)))
	}

	switch {
	case s.LoadState == "not-found":
		f.Status = module.StatusFail
		f.Value = i18n.T("not found", "不存在")
		f.Message = i18n.T(
			fmt.Sprintf("unit %s does not exist on this host; check the name or install the service", name),
			fmt.Sprintf("主机上不存在单元 %s；请检查名称或安装该服务", name),
		)
	case s.LoadState == "masked":
		f.Status = module.StatusFail
		f.Message = i18n.T(
			fmt.Sprintf("unit %s is masked and cannot start; unmask it with systemctl unmask", name),
			fmt.Sprintf("单元 %s 已被屏蔽（masked），无法启动；请用 systemctl unmask 解除", name),
		)
	case s.ActiveState != "active":
		f.Status = module.StatusFail
		f.Message = i18n.T(
			fmt.Sprintf("unit %s is %s (%s), expected active", name, s.ActiveState, s.SubState),
			fmt.Sprintf("单元 %s 状态为 %s，应为运行中（active）", name, unitStateText(s).ZH),
		)
	case wantEnabled && !isEnabled(s.UnitFileState):
		f.Status = module.StatusFail
		f.Message = i18n.T(
			fmt.Sprintf("unit %s is active but %s at boot, expected enabled", name, orDash(s.UnitFileState)),
			fmt.Sprintf("单元 %s 正在运行，但%s，应为开机自启（enabled）", name, bootStateZH(s.UnitFileState)),
		)
	default:
		f.Message = i18n.T(
			fmt.Sprintf("unit %s is active (%s)", name, s.SubState),
			fmt.Sprintf("单元 %s 运行正常（%s）", name, s.SubState),
		)
	}
	return f
}

// isEnabled accepts the unit file states that start a unit at boot. Static and
// generated units have no [Install] section and are started by other units.
func isEnabled(state string) bool {
	switch state {
	case "enabled", "enabled-runtime", "static", "generated", "alias", "indirect":
		return true
	}
	return false
}

func evaluateFailedUnits(failed []UnitState) []module.Finding {
	if len(failed) == 0 {
		return []module.Finding{{
			Check:     serviceCheck,
			Item:      "failed units",
			Status:    module.StatusOK,
			Value:     i18n.T("0 failed", "0 个失败"),
			Threshold: noFailedUnits,
			Message:   i18n.T("systemd lists no failed units", "systemd 中没有失败的单元"),
		}}
	}
	var findings []module.Finding
	for _, u := range failed {
		findings = append(findings, module.Finding{
			Check:     serviceCheck,
			Item:      u.ID,
			Status:    module.StatusFail,
			Value:     unitStateText(u),
			Threshold: noFailedUnits,
			Message: i18n.T(
				fmt.Sprintf("unit %s has failed; see journalctl -u %s", u.ID, u.ID),
				fmt.Sprintf("单元 %s 已失败；请查看 journalctl -u %s", u.ID, u.ID),
			),
			Evidence: []string{strings.TrimSpace(u.ID + " " + u.LoadState + " " + u.ActiveState + " " + u.SubState + " " + u.Description)},
		})
	}
	return findings
}

// noFailedUnits is the Threshold of the failed units item.
var noFailedUnits = i18n.T("no failed units", "无失败的单元")

// unitStateText shows a unit's state as systemd names it, "active (running)",
// and in Chinese with systemd's words alongside, "运行中（active / running）",
// so an engineer can compare it with systemctl status.
func unitStateText(s UnitState) i18n.Text {
	zh := s.ActiveState + "（" + s.SubState + "）"
	if word, ok := unitActiveStatesZH[s.ActiveState]; ok {
		zh = word + "（" + s.ActiveState + " / " + s.SubState + "）"
	}
	return i18n.T(s.ActiveState+" ("+s.SubState+")", zh)
}

// bootStateZH returns in Chinese whether a unit starts at boot, with systemd's
// UnitFileState alongside: "开机自启（enabled）", "开机不启动（disabled）".
func bootStateZH(state string) string {
	switch {
	case state == "":
		return "开机启动状态未知"
	case isEnabled(state):
		return "开机自启（" + state + "）"
	case state == "masked" || state == "masked-runtime":
		return "已屏蔽（" + state + "）"
	}
	return "开机不启动（" + state + "）"
}

// unitActiveStatesZH names systemd's ActiveState values in Chinese; see
// systemd's org.freedesktop.systemd1(5), "ActiveState".
var unitActiveStatesZH = map[string]string{
	"active":       "运行中",
	"reloading":    "正在重新加载",
	"inactive":     "未运行",
	"failed":       "已失败",
	"activating":   "正在启动",
	"deactivating": "正在停止",
	"maintenance":  "维护中",
	"refreshing":   "正在刷新",
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
