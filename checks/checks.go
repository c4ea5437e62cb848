// Package checks holds patrol's inspection checks (check.disk, check.memory, …).
// Each check is a module.Spec with Check set: it probes a host through the task's
// transport, hands the raw output to a pure parser, and turns the parsed values
// into findings with the shared threshold logic. A probe that cannot measure
// becomes a finding with status error, never an aborted run.
//
// The probe is the only per-OS part of a check. Each check keeps its probes in a
// perOS value, so a Windows probe can be added in its own file without touching
// the Linux parser. Checks must not import the runner or playbooks packages.
package checks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"patrol/i18n"
	"patrol/module"
	"patrol/transport"
)

// Specs returns every check this package provides, in a stable order.
func Specs() []*module.Spec {
	specs := []*module.Spec{
		diskSpec(),
		memorySpec(),
		loadSpec(),
		serviceSpec(),
		portSpec(),
		httpSpec(),
		logSpec(),
		fileAgeSpec(),
		firewallSpec(),
		updatesSpec(),
		timeSpec(),
		hotfixSpec(),
		rebootSpec(),
		eventLogSpec(),
		uptimeSpec(),
		schedTaskSpec(),
		antivirusSpec(),
		iisSpec(),
	}
	for _, s := range specs {
		withWindowsRun(s)
	}
	return specs
}

// Register adds every check to r.
func Register(r *module.Registry) {
	r.Register(Specs()...)
}

// perOS holds the probe of a check for each OS family. A nil field means the
// check does not support that family yet.
type perOS[P any] struct {
	Linux   P
	Windows P
}

// pick returns the probe for the task's host. A host without an inventory entry
// (nil Host) is treated as Linux.
func (p perOS[P]) pick(env *module.Env) P {
	if env.Host != nil && env.Host.IsWindows() {
		return p.Windows
	}
	return p.Linux
}

// unsupportedOS is the finding of a check that has no probe for the host's OS.
func unsupportedOS(check string) module.Finding {
	return errorFinding(check, "-", i18n.T(
		check+" has no probe for this host's operating system yet",
		check+" 尚不支持该主机的操作系统",
	), nil)
}

// probeOutput is the output and exit status of one probe command.
type probeOutput struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int
}

// probeTimeout bounds one probe command, so that a hung NFS mount under df or a
// stuck package manager lock ends as an error finding instead of stalling the run.
const probeTimeout = 2 * time.Minute

// exitCommandNotFound is the status POSIX shells use when a command is missing.
const exitCommandNotFound = 127

// runScript runs a shell script on the host. It returns an error only when the
// command could not run to its end, such as a lost link or a timeout. A non-zero
// exit status is data and comes back in probeOutput.
func runScript(ctx context.Context, env *module.Env, script string) (probeOutput, error) {
	res, err := env.RunCommand(ctx, transport.Command{Script: script, Timeout: probeTimeout, Probe: true})
	if err != nil {
		return probeOutput{}, fmt.Errorf("run %q: %w", firstLine(script), err)
	}
	return probeOutput{Stdout: res.Stdout, Stderr: res.Stderr, ExitCode: res.ExitCode}, nil
}

// errorFinding reports an item that could not be measured.
func errorFinding(check, item string, msg i18n.Text, evidence []string) module.Finding {
	return module.Finding{
		Check:    check,
		Item:     item,
		Status:   module.StatusError,
		Value:    unknownValue,
		Message:  msg,
		Evidence: evidence,
	}
}

// probeFailed builds the error finding of a probe command that failed: missing
// tool, non-zero exit that is not data, or a transport error. what is the
// command as the host runs it.
func probeFailed(check, item, what string, out probeOutput, err error) module.Finding {
	return probeFailedText(check, item, same(what), out, err)
}

// probeFailedText is probeFailed for a probe named in words, such as
// "Win32_Service query" and "Win32_Service 查询". Error output and the
// transport's error stay as evidence, because they are in the host's words.
func probeFailedText(check, item string, what i18n.Text, out probeOutput, err error) module.Finding {
	if err != nil {
		cause := errorText(err)
		return errorFinding(check, item, i18n.T(
			fmt.Sprintf("could not run %s: %s", what.EN, cause.EN),
			fmt.Sprintf("无法执行 %s：%s", what.ZH, cause.ZH),
		), []string{err.Error()})
	}
	if out.ExitCode == exitCommandNotFound {
		return errorFinding(check, item, i18n.T(
			fmt.Sprintf("%s is not installed on the host (exit status 127); install it or drop this check for the host", what.EN),
			fmt.Sprintf("主机上没有 %s（退出码 127）；请安装该命令，或对该主机停用此检查", what.ZH),
		), outputEvidence(out))
	}
	stderrZH := "错误输出见证据"
	if len(bytes.TrimSpace(out.Stderr)) == 0 {
		stderrZH = "没有错误输出"
	}
	return errorFinding(check, item, i18n.T(
		fmt.Sprintf("%s failed with exit status %d: %s", what.EN, out.ExitCode, summarize(out.Stderr)),
		fmt.Sprintf("%s执行失败，退出码 %d，%s", spaceAfterLatin(what.ZH), out.ExitCode, stderrZH),
	), outputEvidence(out))
}

// spaceAfterLatin returns s followed by a space when it ends in a Latin
// letter, digit or sign, as Chinese text sets a command apart ("df -P 执行失败"),
// and s alone when it ends in a Chinese character ("查询执行失败").
func spaceAfterLatin(s string) string {
	r, _ := utf8.DecodeLastRuneInString(s)
	if r < utf8.RuneSelf {
		return s + " "
	}
	return s
}

// errorText explains err for a finding's message: its cause in both
// languages when transport.DescribeError names it. Otherwise the English
// form is Go's text and the Chinese form points to the evidence, where the
// caller keeps err.Error().
func errorText(err error) i18n.Text {
	if text, ok := transport.DescribeError(err); ok {
		return text
	}
	return i18n.T(err.Error(), "系统返回的错误信息见证据")
}

// outputEvidence keeps the first lines of a command's output as evidence.
func outputEvidence(out probeOutput) []string {
	const maxLines = 10
	var lines []string
	for _, b := range [][]byte{out.Stderr, out.Stdout} {
		for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			if strings.TrimSpace(l) == "" {
				continue
			}
			if len(lines) == maxLines {
				return lines
			}
			lines = append(lines, l)
		}
	}
	return lines
}

// parseEvidence keeps a parser's error, when there is one, before the first
// lines of the output it could not read.
func parseEvidence(perr error, out probeOutput) []string {
	if perr == nil {
		return outputEvidence(out)
	}
	return append([]string{perr.Error()}, outputEvidence(out)...)
}

// summarize shortens command output to one line for a message.
func summarize(b []byte) string {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "no error output"
	}
	s = firstLine(s)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// shellQuote quotes s as one word for /bin/sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// now returns the run's clock, or the wall clock when the runner gave none.
func now(env *module.Env) time.Time {
	if env.Now != nil {
		return env.Now()
	}
	return time.Now()
}

// errArg is wrapped by errors about invalid check arguments.
var errArg = errors.New("invalid argument")

// argError is the finding of a check whose arguments cannot be used. Argument
// types are validated before Run, so this covers values such as "10X" in a size.
func argError(check string, err error) module.Finding {
	return errorFinding(check, "-", i18n.T(
		fmt.Sprintf("invalid arguments: %v; fix the task in the playbook", err),
		"参数无效（原因见证据）；请修改剧本中的该任务",
	), []string{err.Error()})
}

// result wraps findings into a module result. Failed is set when a finding
// fails; the runner also counts an error finding (not measured) as a failed
// task, so that an inspection that could not look exits with code 1, while
// warnings alone keep exit code 0.
func result(findings []module.Finding) module.Result {
	titleFixedItems(findings)
	worst := module.Worst(findings)
	noun := "findings"
	if len(findings) == 1 {
		noun = "finding"
	}
	message := i18n.T(
		fmt.Sprintf("%d %s, worst %s", len(findings), noun, worst),
		fmt.Sprintf("%d 项结果，最差为%s", len(findings), FindingStatusTitle(worst).ZH))
	return module.Result{
		Failed:   worst == module.StatusFail,
		Msg:      message.EN,
		Message:  message,
		Findings: findings,
	}
}

// FindingStatusTitle names a finding status for people.
func FindingStatusTitle(s module.Status) i18n.Text {
	switch s {
	case module.StatusOK:
		return i18n.T("ok", "正常")
	case module.StatusWarn:
		return i18n.T("warn", "警告")
	case module.StatusFail:
		return i18n.T("fail", "不合格")
	case module.StatusError:
		return i18n.T("error", "无法检测")
	}
	return i18n.T(string(s), string(s))
}

// stringList reads a list argument that may arrive as []string or []any with
// scalar items (a YAML list of ports is a list of ints).
func stringList(args module.Args, name string) []string {
	switch v := args[name].(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, item := range v {
			out = append(out, fmt.Sprint(item))
		}
		return out
	case string:
		if v == "" {
			return nil
		}
		return []string{v}
	}
	return nil
}

// sizeArg reads a size argument given as bytes or with a unit ("10G", "1M").
func sizeArg(args module.Args, name string) (int64, bool, error) {
	v, ok := args[name]
	if !ok || v == nil {
		return 0, false, nil
	}
	switch n := v.(type) {
	case int:
		return int64(n), true, nil
	case int64:
		return n, true, nil
	case float64:
		return int64(n), true, nil
	case string:
		if strings.TrimSpace(n) == "" {
			return 0, false, nil
		}
		b, err := ParseSize(n)
		if err != nil {
			return 0, false, fmt.Errorf("%s: %w", name, err)
		}
		return b, true, nil
	}
	return 0, false, fmt.Errorf("%s: %w: %v is not a size such as 1048576 or \"10G\"", name, errArg, v)
}

// durationArg reads a duration argument that may arrive typed or as text such as
// "26h" or "7d".
func durationArg(args module.Args, name string) (time.Duration, bool, error) {
	v, ok := args[name]
	if !ok || v == nil {
		return 0, false, nil
	}
	switch d := v.(type) {
	case time.Duration:
		return d, true, nil
	case int:
		return time.Duration(d) * time.Second, true, nil
	case string:
		if strings.TrimSpace(d) == "" {
			return 0, false, nil
		}
		parsed, err := ParseDuration(d)
		if err != nil {
			return 0, false, fmt.Errorf("%s: %w", name, err)
		}
		return parsed, true, nil
	}
	return 0, false, fmt.Errorf("%s: %w: %v is not a duration such as \"26h\"", name, errArg, v)
}

// floatArg reads a number argument that may arrive as int or float.
func floatArg(args module.Args, name string, def float64) float64 {
	switch v := args[name].(type) {
	case float64:
		return v
	case int:
		return float64(v)
	case int64:
		return float64(v)
	}
	return def
}

// intArg reads an int argument, falling back to def when absent.
func intArg(args module.Args, name string, def int) int {
	switch v := args[name].(type) {
	case int:
		return v
	case int64:
		return int(v)
	case float64:
		return int(v)
	}
	return def
}

// boolArg reads a bool argument, falling back to def when absent.
func boolArg(args module.Args, name string, def bool) bool {
	if b, ok := args[name].(bool); ok {
		return b
	}
	return def
}
