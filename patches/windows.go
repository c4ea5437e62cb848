package patches

import (
	"context"
	"fmt"
	"strings"
	"time"

	"patrol/checks"
	"patrol/i18n"
	"patrol/transport"
	"patrol/transport/winrmconn"
)

// SystemRunner is a connection that can run a PowerShell script as a
// one-shot scheduled task under SYSTEM, as winrmconn's *Conn does. wusa.exe
// and dism.exe /Add-Package refuse to run in a WinRM network logon, so the
// Windows installer needs one.
type SystemRunner interface {
	RunAsSystem(ctx context.Context, script string, timeout time.Duration) (transport.Result, error)
}

// Windows installs and rolls back Windows Server updates: .msu files with
// wusa.exe (method wusa) and .cab files with dism.exe (method dism). Both
// tools run as SYSTEM through the connection's SystemRunner and report
// through their exit codes, which windows_parse.go maps.
type Windows struct {
	// Timeout bounds one wusa or dism run; zero means
	// DefaultWindowsTimeout.
	Timeout time.Duration
}

var _ Installer = Windows{}

// DefaultWindowsTimeout bounds one wusa or dism run. A monthly rollup for
// Windows Server 2012 R2 can take most of an hour on a slow disk.
// NOTE: the figure is an estimate, not a measurement.
const DefaultWindowsTimeout = 2 * time.Hour

// windowsQueryTimeout bounds each query command. dism /Get-Packages reads
// the whole component store, which takes seconds to minutes.
const windowsQueryTimeout = 10 * time.Minute

func (w Windows) timeout() time.Duration {
	if w.Timeout > 0 {
		return w.Timeout
	}
	return DefaultWindowsTimeout
}

// hotfixQueryScript prints the host culture, then one Key=Value block per
// Win32_QuickFixEngineering entry, the form checks.ParseHotfixListing reads.
// InstalledOn is the raw WMI string, because Get-HotFix converts it to a
// DateTime and throws on blank or locale-formatted values, which would stop
// the listing.
const hotfixQueryScript = "$ErrorActionPreference = 'Stop'\r\n" +
	"$ProgressPreference = 'SilentlyContinue'\r\n" +
	"$c = Get-Culture\r\n" +
	"\"Culture=$($c.Name)\"\r\n" +
	"\"ShortDatePattern=$($c.DateTimeFormat.ShortDatePattern)\"\r\n" +
	"\"\"\r\n" +
	"foreach ($q in @(Get-WmiObject -Class Win32_QuickFixEngineering)) {\r\n" +
	"  $p = $q.psBase.Properties\r\n" +
	"  \"HotFixID=$($p['HotFixID'].Value)\"\r\n" +
	"  \"Description=$($p['Description'].Value)\"\r\n" +
	"  \"InstalledOn=$($p['InstalledOn'].Value)\"\r\n" +
	"  \"\"\r\n" +
	"}\r\n"

// dismGetPackages lists the CBS packages. /English keeps the labels and
// states stable on Chinese hosts, but Install Time stays in the host culture.
var dismGetPackages = []string{"dism.exe", "/Online", "/English", "/Get-Packages"}

// Query reads the installed updates: Win32_QuickFixEngineering for KB
// numbers and install dates, then dism /Get-Packages for updates that wait
// for a reboot (Install Pending), which Win32_QuickFixEngineering lists only
// after it. A pending update counts as installed; Target.Log names it.
// Queried gets "hotfix", and "dism" when the package list was read. A
// failed dism run is logged, not returned, because the hotfix list alone is
// still right for every update that is not pending.
//
// NOTE: monthly rollups installed with dism are named Package_for_RollupFix
// and carry no KB number, so a pending rollup is not found by its KB until
// the reboot.
func (w Windows) Query(ctx context.Context, t Target) (*Installed, error) {
	res, err := t.Conn.Run(ctx, transport.Command{Script: hotfixQueryScript, Timeout: windowsQueryTimeout, Probe: true})
	if err != nil {
		return nil, fmt.Errorf("query installed updates on %s: %w", t.Host.Name, err)
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("query installed updates on %s: the Win32_QuickFixEngineering query exited with %d: %s", t.Host.Name, res.ExitCode, firstLine(res.Stderr))
	}
	listing := checks.ParseHotfixListing(res.Stdout)
	if listing.Culture.Name == "" {
		return nil, fmt.Errorf("query installed updates on %s: the Win32_QuickFixEngineering query printed no Culture= line, so its output was cut short: %q", t.Host.Name, firstLine(res.Stdout))
	}
	in := &Installed{KBs: HotfixKBs(listing), Queried: []string{"hotfix"}}

	pkgs, err := w.dismPackages(ctx, t, listing.Culture.ShortDatePattern)
	if err != nil {
		logStep(t, "query", msg("could not list DISM packages, so updates waiting for a reboot are not counted: %v",
			"无法列出 DISM 程序包，等待重启的补丁未计入：%v", err))
		return in, nil
	}
	in.Queried = append(in.Queried, "dism")
	for _, p := range pkgs {
		if p.KB == "" || !p.Present() {
			continue
		}
		if _, listed := in.KBs[p.KB]; !listed {
			in.KBs[p.KB] = p.InstallTime
		}
		if p.State == DISMStateInstallPending {
			logStep(t, "query", msg("%s is installed but waits for a reboot of %s (DISM state Install Pending)",
				"%s 已安装，但需要重启 %s 才能生效（DISM 状态为 Install Pending）", p.KB, t.Host.Name))
		}
	}
	return in, nil
}

// dismPackages runs dism /Get-Packages and parses its output.
func (Windows) dismPackages(ctx context.Context, t Target, shortDatePattern string) ([]WindowsPackage, error) {
	res, err := t.Conn.Run(ctx, transport.Command{Argv: dismGetPackages, Timeout: windowsQueryTimeout})
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("%s exited with %s: %s", strings.Join(dismGetPackages, " "),
			exitCodeText(res.ExitCode, ""), outputDetail(trimOutput(res.Stdout, res.Stderr)))
	}
	return ParseDISMPackages(res.Stdout, shortDatePattern)
}

// Install installs the patch's files in order, each as its own wusa or dism
// run under SYSTEM. For method dism it first reads the package list,
// because DISM returns 0 for a package already in place and only the list
// shows that nothing changed. The outcome reports AlreadyInstalled when
// every file was already installed and RebootRequired when any run needs a
// restart. The first failing run stops the install with an *InstallError
// that explains what happened and what to do.
func (w Windows) Install(ctx context.Context, t Target, p *Patch, remote []string) (Outcome, error) {
	runner, err := systemRunner(t, p)
	if err != nil {
		return Outcome{}, err
	}
	if p.Method != MethodWUSA && p.Method != MethodDISM {
		return Outcome{}, fmt.Errorf("install %s on %s: the Windows installer handles methods wusa and dism, not %q", p.ID, t.Host.Name, p.Method)
	}
	if len(remote) == 0 {
		return Outcome{}, fmt.Errorf("install %s on %s: no patch files were copied to the host", p.ID, t.Host.Name)
	}
	kb := windowsKB(p)

	if p.Method == MethodDISM && kb != "" {
		if out, done := w.dismAlreadyInstalled(ctx, t, kb); done {
			return out, nil
		}
	}

	total := Outcome{AlreadyInstalled: true}
	var outputs []string
	for _, file := range remote {
		script, err := installScript(p.Method, file)
		if err != nil {
			return Outcome{}, fmt.Errorf("install %s on %s: %w", p.ID, t.Host.Name, err)
		}
		res, err := runner.RunAsSystem(ctx, script, w.timeout())
		if err != nil {
			return Outcome{}, fmt.Errorf("install %s on %s with %s: %w", p.ID, t.Host.Name, p.Method, err)
		}

		out := Outcome{ExitCode: res.ExitCode, Output: trimOutput(res.Stdout, res.Stderr)}
		if out.Output != "" {
			outputs = append(outputs, out.Output)
		}
		total.ExitCode = out.ExitCode
		total.Output = strings.Join(outputs, "\n")
		out, err = classifyInstall(t, p, kb, file, out)
		if err != nil {
			total.AlreadyInstalled = false
			return total, err
		}
		total.AlreadyInstalled = total.AlreadyInstalled && out.AlreadyInstalled
		total.RebootRequired = total.RebootRequired || out.RebootRequired
	}
	return total, nil
}

// dismAlreadyInstalled reports whether the package list shows kb present,
// and the outcome to return then. A failed listing is logged and the install
// goes ahead.
func (w Windows) dismAlreadyInstalled(ctx context.Context, t Target, kb string) (Outcome, bool) {
	pkgs, err := w.dismPackages(ctx, t, "")
	if err != nil {
		logStep(t, "install", msg("could not list DISM packages before installing %s, so installing without that check: %v",
			"安装 %s 前无法列出 DISM 程序包，将不做此检查直接安装：%v", kb, err))
		return Outcome{}, false
	}
	for _, pk := range pkgs {
		if pk.KB != kb || !pk.Present() {
			continue
		}
		return Outcome{
			AlreadyInstalled: true,
			RebootRequired:   pk.State == DISMStateInstallPending,
			Output:           fmt.Sprintf("%s: %s", pk.Identity, pk.State),
		}, true
	}
	return Outcome{}, false
}

// classifyInstall turns the exit code of one install run into the outcome
// or an *InstallError.
func classifyInstall(t Target, p *Patch, kb, file string, out Outcome) (Outcome, error) {
	exit, known := classifyExit(p.Method, out.ExitCode)
	if !known {
		return out, windowsFailure(t, p, "install", file, out, windowsExit{}, unknownAdvice(p.Method))
	}
	switch exit.Result {
	case exitDone:
		return out, nil
	case exitRebootRequired:
		out.RebootRequired = true
		return out, nil
	case exitRebooting:
		out.RebootRequired = true
		logStep(t, "install", msg("%s started a restart of %s after installing %s although patrol passed /norestart",
			"%s 安装 %s 后自行重启了 %s，尽管 patrol 传入了 /norestart", p.Method, kbOrID(kb, p), t.Host.Name))
		return out, nil
	case exitAlreadyInstalled:
		out.AlreadyInstalled = true
		return out, nil
	}
	return out, windowsFailure(t, p, "install", file, out, exit, exit.Advice)
}

// Rollback uninstalls the patch: wusa /uninstall /kb:N for method wusa,
// dism /Remove-Package for each present package of the KB for method dism.
// It returns an error without touching the host when the catalog sets
// rollback: none. It does nothing when before shows the KB was installed
// before patrol's install, because removing it would take away an update
// patrol did not add.
func (w Windows) Rollback(ctx context.Context, t Target, p *Patch, before *Installed, rollbackFiles []string) (Outcome, error) {
	kb := windowsKB(p)
	if p.Rollback.None {
		return Outcome{}, &InstallError{Host: t.Host.Name, Patch: p.ID, Text: msg(
			"%s cannot be rolled back on %s: the catalog sets rollback: none for it (%s); check the host and remove the update by hand if it must go",
			"%s 无法在 %s 上回退：补丁台账中该补丁设置了 rollback: none（%s）；请检查主机，如需移除请手工卸载该补丁",
			kbOrID(kb, p), t.Host.Name, p.Source)}
	}
	if kb == "" {
		return Outcome{}, fmt.Errorf("roll back %s on %s: the patch has no verify.kb, which names the update to uninstall", p.ID, t.Host.Name)
	}
	if before != nil {
		if _, had := before.KBs[kb]; had {
			return Outcome{Output: fmt.Sprintf("%s was installed before patrol's install, so it is left in place", kb)}, nil
		}
	}
	runner, err := systemRunner(t, p)
	if err != nil {
		return Outcome{}, err
	}

	switch p.Method {
	case MethodWUSA:
		return w.rollbackRun(ctx, t, p, runner, wusaUninstallScript(kb), kb)
	case MethodDISM:
		pkgs, err := w.dismPackages(ctx, t, "")
		if err != nil {
			return Outcome{}, fmt.Errorf("roll back %s on %s: list DISM packages: %w", kb, t.Host.Name, err)
		}
		total := Outcome{}
		var outputs []string
		for _, pk := range pkgs {
			if pk.KB != kb || !pk.Present() {
				continue
			}
			out, err := w.rollbackRun(ctx, t, p, runner, dismRemoveScript(pk.Identity), pk.Identity)
			if out.Output != "" {
				outputs = append(outputs, out.Output)
			}
			total.ExitCode = out.ExitCode
			total.RebootRequired = total.RebootRequired || out.RebootRequired
			total.Output = strings.Join(outputs, "\n")
			if err != nil {
				return total, err
			}
		}
		if len(outputs) == 0 && total.ExitCode == 0 && !total.RebootRequired {
			total.Output = fmt.Sprintf("no DISM package of %s is installed, so there is nothing to remove", kb)
		}
		return total, nil
	}
	return Outcome{}, fmt.Errorf("roll back %s on %s: the Windows installer handles methods wusa and dism, not %q", p.ID, t.Host.Name, p.Method)
}

// rollbackRun runs one uninstall script and classifies its exit code. item
// is the KB or package identity that messages name.
func (w Windows) rollbackRun(ctx context.Context, t Target, p *Patch, runner SystemRunner, script, item string) (Outcome, error) {
	res, err := runner.RunAsSystem(ctx, script, w.timeout())
	if err != nil {
		return Outcome{}, fmt.Errorf("roll back %s on %s with %s: %w", item, t.Host.Name, p.Method, err)
	}
	out := Outcome{ExitCode: res.ExitCode, Output: trimOutput(res.Stdout, res.Stderr)}
	exit, known := classifyExit(p.Method, out.ExitCode)
	if !known {
		return out, windowsFailure(t, p, "uninstall", item, out, windowsExit{}, unknownAdvice(p.Method))
	}
	switch exit.Result {
	case exitDone:
		return out, nil
	case exitRebootRequired, exitRebooting:
		out.RebootRequired = true
		return out, nil
	case exitNotInstalled:
		if out.Output == "" {
			out.Output = fmt.Sprintf("%s is not installed, so there was nothing to remove", item)
		}
		return out, nil
	}
	return out, windowsFailure(t, p, "uninstall", item, out, exit, exit.Advice)
}

// systemRunner returns the connection's SystemRunner, or an *InstallError
// for a connection that cannot run commands as SYSTEM.
func systemRunner(t Target, p *Patch) (SystemRunner, error) {
	if r, ok := t.Conn.(SystemRunner); ok {
		return r, nil
	}
	return nil, &InstallError{Host: t.Host.Name, Patch: p.ID, Text: msg(
		"cannot install or roll back Windows update %s on %s: its connection (%T) cannot run commands as SYSTEM, which wusa.exe and dism.exe need; set connection: winrm for the host in the inventory",
		"无法在 %[2]s 上安装或回退 Windows 补丁 %[1]s：其连接（%[3]T）不能以 SYSTEM 身份运行命令，而 wusa.exe 和 dism.exe 需要这样运行；请在清单中为该主机设置 connection: winrm",
		p.ID, t.Host.Name, t.Conn)}
}

// windowsFailure builds the *InstallError of a failed run. verb is
// "install" or "uninstall", and item is the file, KB or package identity.
func windowsFailure(t Target, p *Patch, verb, item string, out Outcome, exit windowsExit, advice i18n.Text) error {
	if advice.IsZero() {
		advice = unknownAdvice(p.Method)
	}
	kb := kbOrID(windowsKB(p), p)
	code := exitCodeText(out.ExitCode, exit.Name)
	verbZH := "安装"
	if verb == "uninstall" {
		verbZH = "卸载"
	}
	text := i18n.T(
		fmt.Sprintf("%s could not %s %s on %s (exit code %s, %s): %s", p.Method, verb, kb, t.Host.Name, code, item, advice.EN),
		fmt.Sprintf("%s 在 %s 上%s %s 失败（退出码 %s，%s）：%s", p.Method, t.Host.Name, verbZH, kb, code, item, advice.ZH))
	if detail := outputDetail(out.Output); detail != "" {
		text.EN += "; output: " + detail
		text.ZH += "；输出：" + detail
	}
	return &InstallError{Host: t.Host.Name, Patch: p.ID, ExitCode: out.ExitCode, Output: out.Output, Text: text}
}

// outputDetail picks the line of a tool's output that explains a failure:
// DISM's "Error: 0x…" (错误: on Chinese hosts) joined with the message line
// after it, or else the last line.
func outputDetail(output string) string {
	lines := strings.Split(strings.ReplaceAll(output, "\r\n", "\n"), "\n")
	for i, line := range lines {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "Error:") && !strings.HasPrefix(line, "错误:") {
			continue
		}
		for _, next := range lines[i+1:] {
			if next = strings.TrimSpace(next); next != "" {
				return line + " " + next
			}
		}
		return line
	}
	return lastLine(output)
}

// unknownAdvice is the advice for an exit code the tables do not list.
func unknownAdvice(method Method) i18n.Text {
	if method == MethodDISM {
		return i18n.T(
			"the exit code is not one patrol knows; read C:\\Windows\\Logs\\DISM\\dism.log and C:\\Windows\\Logs\\CBS\\CBS.log on the host, fix the cause, then run again",
			"patrol 不认识该退出码；请查看主机上的 C:\\Windows\\Logs\\DISM\\dism.log 和 C:\\Windows\\Logs\\CBS\\CBS.log，排除原因后重新运行")
	}
	return i18n.T(
		"the exit code is not one patrol knows; read the Setup event log (Event Viewer, Windows Logs, Setup) and C:\\Windows\\Logs\\CBS\\CBS.log on the host, fix the cause, then run again",
		"patrol 不认识该退出码；请查看主机上的安装事件日志（事件查看器 > Windows 日志 > Setup）和 C:\\Windows\\Logs\\CBS\\CBS.log，排除原因后重新运行")
}

// installScript returns the PowerShell script that installs file as
// SYSTEM and exits with the tool's exit code. wusa.exe is a GUI program, so
// PowerShell's & operator would not wait for it; Start-Process -Wait does.
// $ErrorActionPreference = 'Stop' turns a missing file or tool into exit
// code 1 with the error on stderr, instead of exit code 0.
func installScript(method Method, file string) (string, error) {
	if strings.ContainsAny(file, "\"\r\n") {
		return "", fmt.Errorf("patch file path %q contains a double quote or line break, which Windows paths cannot", file)
	}
	path := winrmconn.QuotePowerShellArg(file)
	check := "$ErrorActionPreference = 'Stop'\r\n" +
		"if (-not (Test-Path -LiteralPath " + path + " -PathType Leaf)) { throw ('patch file not found: ' + " + path + ") }\r\n"
	switch method {
	case MethodWUSA:
		args := winrmconn.QuotePowerShellArg(`"` + file + `" /quiet /norestart`)
		return check +
			"$p = Start-Process -FilePath (Join-Path $env:SystemRoot 'System32\\wusa.exe') -ArgumentList " + args + " -Wait -PassThru\r\n" +
			"exit $p.ExitCode\r\n", nil
	case MethodDISM:
		return check +
			"& (Join-Path $env:SystemRoot 'System32\\dism.exe') /Online /Add-Package ('/PackagePath:' + " + path + ") /Quiet /NoRestart\r\n" +
			"exit $LASTEXITCODE\r\n", nil
	}
	return "", fmt.Errorf("method %q is not wusa or dism", method)
}

// wusaUninstallScript returns the script that uninstalls kb with wusa.exe.
// The /kb: switch takes the number without the KB prefix.
func wusaUninstallScript(kb string) string {
	args := winrmconn.QuotePowerShellArg("/uninstall /kb:" + strings.TrimPrefix(kb, "KB") + " /quiet /norestart")
	return "$ErrorActionPreference = 'Stop'\r\n" +
		"$p = Start-Process -FilePath (Join-Path $env:SystemRoot 'System32\\wusa.exe') -ArgumentList " + args + " -Wait -PassThru\r\n" +
		"exit $p.ExitCode\r\n"
}

// dismRemoveScript returns the script that removes one package by its
// identity.
func dismRemoveScript(identity string) string {
	return "$ErrorActionPreference = 'Stop'\r\n" +
		"& (Join-Path $env:SystemRoot 'System32\\dism.exe') /Online /Remove-Package ('/PackageName:' + " + winrmconn.QuotePowerShellArg(identity) + ") /Quiet /NoRestart\r\n" +
		"exit $LASTEXITCODE\r\n"
}

// windowsKB returns the patch's KB number, from verify.kb or else from an
// ID that is one.
func windowsKB(p *Patch) string {
	if p.Verify.KB != "" {
		return strings.ToUpper(p.Verify.KB)
	}
	return hotfixKB(p.ID)
}

func kbOrID(kb string, p *Patch) string {
	if kb != "" {
		return kb
	}
	return p.ID
}

// logStep sends one line to the target's log, when it has one.
func logStep(t Target, step string, detail i18n.Text) {
	if t.Log != nil {
		t.Log(step, detail)
	}
}
