package checks

import (
	"context"

	"patrol/i18n"
	"patrol/module"
)

// Windows probes run PowerShell: on a Windows host, transport.Command.Script is
// PowerShell text, and the WinRM transport forces UTF-8 output. Each probe
// prints Format-List records (pslist.go), CSV or Key=Value text built from
// selected properties, with numbers and dates in invariant form, so the
// parsers never see the host's display language. The Format-List probes use
// the property names of the cmdlets people publish output of, so that
// recordings from real hosts test the same parsers.
//
// Where a check's Linux judgement reads Linux words (systemd states, firewalld),
// the Windows side replaces the whole run instead of only the probe. Such runs
// are listed in windowsRuns and wired in by Specs.

// psPrelude makes every error stop the script with a non-zero exit status, so
// a failed query is never read as an empty result, and drops progress records.
const psPrelude = "$ErrorActionPreference = 'Stop'\n$ProgressPreference = 'SilentlyContinue'\n"

// psWMIQuery returns PowerShell that queries a WMI class through CIM where the
// host has it (PowerShell 3.0 and later, so Windows Server 2012 R2 with its
// PowerShell 4.0) and through Get-WmiObject otherwise (PowerShell 2.0 on 2008 R2).
func psWMIQuery(class, filter string) string {
	f := ""
	if filter != "" {
		f = " -Filter '" + filter + "'"
	}
	return "$(if (Get-Command Get-CimInstance -ErrorAction SilentlyContinue) { Get-CimInstance -ClassName " + class + f +
		" } else { Get-WmiObject -Class " + class + f + " })"
}

// windowsRun is a check's whole run on a Windows host.
type windowsRun func(ctx context.Context, env *module.Env, args module.Args) (module.Result, error)

// windowsRuns holds the checks whose Windows side has its own judgement, by
// check name.
var windowsRuns = map[string]windowsRun{
	serviceCheck:  runServiceWindows,
	firewallCheck: runFirewallWindows,
}

// windowsArgs are arguments only the Windows side of a check reads. They are
// added to the check's declaration so that a playbook may set them for both
// kinds of host.
var windowsArgs = map[string][]module.Arg{
	serviceCheck: {
		{Name: "ignore", Type: module.Strings, Default: defaultIgnoredWinServices,
			Doc: i18n.T("Windows: services (names or patterns such as clr_optimization_*) left out of the list of stopped automatic services", "Windows：不列入“已停止的自动启动服务”的服务（名称或模式，如 clr_optimization_*）")},
	},
}

// withWindowsRun makes spec run its Windows judgement on Windows hosts.
func withWindowsRun(spec *module.Spec) *module.Spec {
	spec.Args = append(spec.Args, windowsArgs[spec.Name]...)
	win, ok := windowsRuns[spec.Name]
	if !ok {
		return spec
	}
	linux := spec.Run
	spec.Run = func(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
		if env.Host != nil && env.Host.IsWindows() {
			return win(ctx, env, args)
		}
		return linux(ctx, env, args)
	}
	return spec
}
