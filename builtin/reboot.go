package builtin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"patrol/i18n"
	"patrol/module"
	"patrol/transport"
)

const (
	defaultRebootTimeout  = 15 * time.Minute
	defaultConnectTimeout = 10 * time.Second
	defaultRebootMsg      = "Reboot initiated by patrol"

	// rebootCommandTimeout bounds the command that starts the reboot. The
	// command returns at once, because the reboot runs detached, so a longer
	// wait means the link dropped under it and its output is lost anyway.
	rebootCommandTimeout = 20 * time.Second
	// rebootPollInterval is the pause between reconnect attempts.
	rebootPollInterval = 2 * time.Second
	// bootTimeTolerance is how far two readings of the boot time may differ
	// and still name the same boot: `uptime -s` computes the boot time from
	// the clock and the uptime, so it can move by a second between readings.
	bootTimeTolerance = 10 * time.Second
)

func rebootSpec() *module.Spec {
	return &module.Spec{
		Name:  "reboot",
		Title: i18n.T("Reboot", "重启"),
		Doc:   i18n.T("reboot the host, wait until it is back with a new boot identity, and reconnect", "重启主机，等待其以新的启动标识恢复，然后重新连接"),
		Args: []module.Arg{
			{Name: "timeout", Type: module.Duration, Default: defaultRebootTimeout,
				Doc: i18n.T("how long to wait from starting the reboot until the host is back and test_command succeeds", "从开始重启到主机恢复且 test_command 成功的最长等待时间")},
			{Name: "connect_timeout", Type: module.Duration, Default: defaultConnectTimeout,
				Doc: i18n.T("limit of each reconnect attempt, including reading the boot identity", "每次重连尝试的时限，包括读取启动标识")},
			{Name: "pre_reboot_delay", Type: module.Duration,
				Doc: i18n.T("wait this long on the host before it reboots; at least 2s on Linux and 5s on Windows so that the start command's reply gets back", "主机在重启前等待的时间；Linux 至少 2s，Windows 至少 5s，以便重启命令的回复能返回")},
			{Name: "test_command", Type: module.String,
				Doc: i18n.T("shell text that must exit 0 after the reboot; retried until timeout", "重启后必须以 0 退出的 shell 文本；在 timeout 内重试")},
			{Name: "msg", Type: module.String, Default: defaultRebootMsg, Doc: i18n.T("message shown to logged-in users", "向已登录用户显示的消息")},
			{Name: "boot_id_command", Type: module.String,
				Doc: i18n.T("shell text that prints the boot identity, for hosts without /proc/sys/kernel/random/boot_id and uptime -s; its output must change when the host reboots", "输出启动标识的 shell 文本，用于没有 /proc/sys/kernel/random/boot_id 和 uptime -s 的主机；主机重启后其输出必须改变")},
			{Name: "reboot_command", Type: module.String,
				Doc: i18n.T("shell text that starts the reboot and returns at once; default: a detached shutdown -r (Linux) or shutdown.exe /r (Windows)", "发起重启并立即返回的 shell 文本；默认在后台执行 shutdown -r（Linux）或 shutdown.exe /r（Windows）")},
		},
		Changes: true,
		Run:     runReboot,
	}
}

// runReboot reads the boot identity, starts the reboot detached and reconnects
// until the host reports a different boot identity. It never waits for
// the output of the command that takes the host down, because a transport can
// wait forever on a session whose host vanished.
func runReboot(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
	if env.CheckMode {
		return withMessage(module.Result{Changed: true}, i18n.T("check mode: would reboot the host", "检查模式：将重启主机")), nil
	}
	if env.Reconnect == nil {
		return module.Result{}, module.Failure(i18n.T(
			"reboot needs a runner that can reconnect to the host; run it from a playbook",
			"reboot 需要能重新连接主机的运行器；请在剧本中运行"), nil)
	}
	timeout, connectTimeout := args.Duration("timeout"), args.Duration("connect_timeout")
	if connectTimeout <= 0 {
		connectTimeout = defaultConnectTimeout
	}
	idCommand := args.String("boot_id_command")
	if idCommand == "" {
		idCommand = defaultBootIDCommand(env.Host.IsWindows())
	}

	before, err := readBootIdentity(ctx, env, idCommand, connectTimeout)
	if err != nil {
		return module.Result{}, module.Failure(i18n.T("read the boot identity before the reboot", "重启前读取启动标识失败"), err)
	}

	start := time.Now()
	if res, err := startReboot(ctx, env, args); err != nil {
		return module.Result{}, err
	} else if res.Failed {
		return res, nil
	}

	after, err := waitForReboot(ctx, env, args, before, start.Add(timeout), connectTimeout, idCommand)
	elapsed := time.Since(start)
	data := map[string]any{
		"elapsed_seconds":      elapsed.Seconds(),
		"boot_identity_before": before.Raw,
		"boot_identity_after":  after.Raw,
	}
	if ctx.Err() != nil {
		return module.Result{Changed: true, Data: data}, ctx.Err()
	}
	if err != nil {
		msg := i18n.T(
			fmt.Sprintf("host did not come back within %s after the reboot: %v; raise timeout if the host boots slower", timeout, err),
			fmt.Sprintf("主机重启后 %s 内未恢复；如果主机启动较慢，请调大 timeout", timeout))
		if cause, ok := transport.DescribeError(err); ok {
			msg.ZH = fmt.Sprintf("主机重启后 %s 内未恢复：%s；如果主机启动较慢，请调大 timeout", timeout, cause.ZH)
		}
		return withMessage(module.Result{Changed: true, Failed: true, Data: data}, msg), nil
	}
	return withMessage(module.Result{Changed: true, Data: data}, i18n.T(
		fmt.Sprintf("rebooted and reconnected after %s", elapsed.Round(time.Second)),
		fmt.Sprintf("已重启，%s 后重新连接", elapsed.Round(time.Second)))), nil
}

// startReboot runs the command that starts the reboot. A lost link or a
// timeout is expected when the host goes down quickly, so only a command that
// finished with a non-zero exit status fails the task.
func startReboot(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
	script := args.String("reboot_command")
	if script == "" {
		script = defaultRebootCommand(env.Host.IsWindows(), args.Duration("pre_reboot_delay"), args.String("msg"))
	}

	res, err := env.RunCommand(ctx, transport.Command{Script: script, Timeout: rebootCommandTimeout})
	switch {
	case ctx.Err() != nil:
		return module.Result{}, ctx.Err()
	case err != nil:
		env.Log.Info("reboot command ended without a result; the host is probably going down", "err", err)
		return module.Result{}, nil
	case res.ExitCode != 0:
		return withMessage(module.Result{
			Failed: true, RC: res.ExitCode, Stdout: string(res.Stdout), Stderr: string(res.Stderr),
		}, i18n.T(
			fmt.Sprintf("reboot command exited with status %d; check that the user may reboot the host (become)", res.ExitCode),
			fmt.Sprintf("重启命令的退出码为 %d；请检查该用户是否有权重启主机（become）", res.ExitCode))), nil
	}
	return module.Result{}, nil
}

// waitForReboot reconnects until the host reports a boot identity other
// than before and test_command succeeds, or until deadline. A host that
// answers with the old identity has not gone down yet. It returns the new
// identity, or the last reason the host was not back.
func waitForReboot(ctx context.Context, env *module.Env, args module.Args, before bootIdentity, deadline time.Time, connectTimeout time.Duration, idCommand string) (bootIdentity, error) {
	var (
		after     bootIdentity
		connected bool
		lastErr   = errors.New("no reconnect attempt finished")
	)
	for {
		if err := pause(ctx, rebootPollInterval); err != nil {
			return after, err
		}
		if !time.Now().Before(deadline) {
			return after, lastErr
		}
		attemptDeadline := time.Now().Add(connectTimeout)
		if deadline.Before(attemptDeadline) {
			attemptDeadline = deadline
		}
		attemptCtx, cancel := context.WithDeadline(ctx, attemptDeadline)

		if !connected {
			after, lastErr = reconnectNewBoot(attemptCtx, env, before, idCommand, connectTimeout)
			connected = lastErr == nil
		}
		if connected {
			lastErr = runTestCommand(attemptCtx, env, args.String("test_command"))
			if lastErr == nil {
				cancel()
				return after, nil
			}
			var linkErr *testLinkError
			if errors.As(lastErr, &linkErr) {
				connected = false
			}
		}
		cancel()
		env.Log.Debug("host not back from reboot yet", "err", lastErr)
	}
}

func reconnectNewBoot(ctx context.Context, env *module.Env, before bootIdentity, idCommand string, connectTimeout time.Duration) (bootIdentity, error) {
	if _, err := env.Reconnect(ctx); err != nil {
		return bootIdentity{}, fmt.Errorf("reconnect: %w", err)
	}
	id, err := readBootIdentity(ctx, env, idCommand, connectTimeout)
	if err != nil {
		return bootIdentity{}, err
	}
	if !id.differsFrom(before) {
		return bootIdentity{}, fmt.Errorf("host still has the boot identity from before the reboot (%s)", id.Raw)
	}
	return id, nil
}

// testLinkError marks a test_command that could not run, as opposed to one
// that exited non-zero: the connection must be dialed again.
type testLinkError struct{ err error }

func (e *testLinkError) Error() string { return "test_command: " + e.err.Error() }
func (e *testLinkError) Unwrap() error { return e.err }

func runTestCommand(ctx context.Context, env *module.Env, script string) error {
	if script == "" {
		return nil
	}
	res, err := env.RunCommand(ctx, transport.Command{Script: script})
	if err != nil {
		return &testLinkError{err}
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("test_command exited with status %d: %s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	return nil
}

func readBootIdentity(ctx context.Context, env *module.Env, script string, timeout time.Duration) (bootIdentity, error) {
	res, err := env.RunCommand(ctx, transport.Command{Script: script, Timeout: timeout, Probe: true})
	if err != nil {
		return bootIdentity{}, fmt.Errorf("run the boot identity command: %w", err)
	}
	if res.ExitCode != 0 {
		return bootIdentity{}, fmt.Errorf("boot identity command exited with status %d: %s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	return parseBootIdentity(res.Stdout)
}

// defaultBootIDCommand prints the boot identity as key=value lines that
// parseBootIdentity reads. Linux has a random boot_id per boot; Windows has
// only its boot time.
func defaultBootIDCommand(windows bool) string {
	if windows {
		return `$os = Get-CimInstance -ClassName Win32_OperatingSystem
'boot_time=' + $os.LastBootUpTime.ToUniversalTime().ToString('o')`
	}
	return `if [ -r /proc/sys/kernel/random/boot_id ]; then echo "boot_id=$(cat /proc/sys/kernel/random/boot_id)"; fi
echo "boot_time=$(uptime -s 2>/dev/null)"`
}

// defaultRebootCommand starts the reboot so that the command returns at once.
// On Linux a detached shell sleeps (so the session closes cleanly) and then
// reboots. shutdown.exe only schedules the reboot and returns.
func defaultRebootCommand(windows bool, delay time.Duration, msg string) string {
	if windows {
		seconds := max(5, int(delay.Seconds()))
		return fmt.Sprintf("shutdown.exe /r /t %d /c %s\nexit $LASTEXITCODE", seconds, psQuote(msg))
	}
	seconds := max(2, int(delay.Seconds()))
	inner := fmt.Sprintf("sleep %d; shutdown -r now %s || reboot", seconds, shellQuote(msg))
	return "nohup sh -c " + shellQuote(inner) + " </dev/null >/dev/null 2>&1 &"
}

// psQuote quotes s as a PowerShell single-quoted string. PowerShell also
// reads the typographic quotes ‘ ’ ‚ ‛ as single quotes, so each quote of
// any kind is written twice.
func psQuote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		if strings.ContainsRune("'‘’‚‛", r) {
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String()
}
