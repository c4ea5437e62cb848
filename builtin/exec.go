package builtin

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"patrol/i18n"
	"patrol/module"
	"patrol/transport"
)

func runCommand(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
	argv := args.Strings("argv")
	if len(argv) == 0 {
		words, err := splitWords(args.String("cmd"))
		if err != nil {
			return module.Result{}, err
		}
		argv = words
	}
	if len(argv) == 0 {
		return module.Result{}, module.Failure(i18n.T("command: give cmd or argv", "command：请给出 cmd 或 argv"), nil)
	}

	cmd := transport.Command{Argv: argv}
	if dir := args.String("chdir"); dir != "" {
		cmd = transport.Command{Script: "cd " + shellQuote(dir) + " && exec " + joinQuoted(argv)}
	}
	return runAndJudge(ctx, env, args, cmd, strings.Join(argv, " "))
}

func runShell(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
	script := args.String("cmd")
	if dir := args.String("chdir"); dir != "" {
		script = "cd " + shellQuote(dir) + " || exit 1\n" + script
	}
	return runAndJudge(ctx, env, args, transport.Command{Script: script}, args.String("cmd"))
}

// runAndJudge runs cmd, or in check mode only says what it would run, and fails
// the result when the exit code is not one of ok_codes.
func runAndJudge(ctx context.Context, env *module.Env, args module.Args, cmd transport.Command, shown string) (module.Result, error) {
	if env.CheckMode {
		return withMessage(module.Result{Changed: true}, i18n.T("check mode: would run: "+shown, "检查模式：将执行："+shown)), nil
	}
	okCodes, err := parseCodes(args.Strings("ok_codes"))
	if err != nil {
		return module.Result{}, err
	}
	if in := args.String("stdin"); in != "" {
		cmd.Stdin = strings.NewReader(in)
	}

	res, err := env.RunCommand(ctx, cmd)
	out := module.Result{
		Changed: true,
		RC:      res.ExitCode,
		Stdout:  string(res.Stdout),
		Stderr:  string(res.Stderr),
	}
	if err != nil {
		return out, err
	}
	if !slices.Contains(okCodes, res.ExitCode) {
		out.Failed = true
		out = withMessage(out, i18n.T(
			fmt.Sprintf("exit code %d is not one of ok_codes %v", res.ExitCode, okCodes),
			fmt.Sprintf("命令退出码为 %d，不在允许的退出码 ok_codes %v 之中", res.ExitCode, okCodes)))
	}
	return out, nil
}

// withMessage sets the result's message in both languages, and Msg to its
// English form for the journal and JSON output.
func withMessage(res module.Result, msg i18n.Text) module.Result {
	res.Msg, res.Message = msg.EN, msg
	return res
}

func parseCodes(list []string) ([]int, error) {
	if len(list) == 0 {
		return []int{0}, nil
	}
	codes := make([]int, 0, len(list))
	for _, s := range list {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return nil, module.Failure(i18n.T(
				fmt.Sprintf("ok_codes: %q is not an exit code; write numbers such as [0, 100]", s),
				fmt.Sprintf("ok_codes：%q 不是退出码；请写成数字，例如 [0, 100]", s)), nil)
		}
		codes = append(codes, n)
	}
	return codes, nil
}

// shellQuote quotes s for a POSIX shell so that it reaches the program as one
// argument with no expansion.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func joinQuoted(argv []string) string {
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = shellQuote(a)
	}
	return strings.Join(quoted, " ")
}
