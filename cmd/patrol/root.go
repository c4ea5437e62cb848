package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"patrol/i18n"
)

// app holds the global flags and where output goes.
type app struct {
	lang   i18n.Lang
	stdout io.Writer
	stderr io.Writer

	// args is the command line without the program name, for the journal.
	args []string

	langFlag       string
	inventories    []string
	limit          string
	forks          int
	check          bool
	output         string
	acceptNewKeys  bool
	connectTimeout time.Duration
	tags           []string
	skipTags       []string
	extraVars      []string
	verbose        bool
}

// tr picks the message for the user's language.
func (a *app) tr(en, zh string) string { return i18n.T(en, zh).In(a.lang) }

func run(args []string) int {
	a := &app{stdout: os.Stdout, stderr: os.Stderr, args: args}
	a.lang = i18n.Detect(langFromArgs(args))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	err := root.ExecuteContext(ctx)
	if err != nil && isUsageError(err) {
		fmt.Fprintln(a.stderr, a.labelled(msgError.In(a.lang), localizeUsageError(err, a.lang)))
		fmt.Fprintln(a.stderr, a.tr("Run 'patrol --help' for usage.", "运行 'patrol --help' 查看用法。"))
		return exitInvalid
	}
	return exitCode(err, a.stderr, a.lang)
}

// langFromArgs finds --lang before cobra parses flags, so help text is already in
// the right language.
func langFromArgs(args []string) string {
	for i, arg := range args {
		if v, ok := strings.CutPrefix(arg, "--lang="); ok {
			return v
		}
		if arg == "--lang" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "patrol",
		Short: a.tr("Run playbooks and inspections over SSH, WinRM or locally", "通过 SSH、WinRM 或本机执行剧本与巡检"),
		Long: a.tr(
			"patrol runs YAML playbooks against an inventory of hosts and writes inspection reports.\n\n",
			"patrol 按清单对主机执行 YAML 剧本，并生成巡检报告。\n\n",
		) + exitCodeHelp.In(a.lang),
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.PersistentPreRunE = func(*cobra.Command, []string) error { return a.checkGlobalFlags() }

	pf := root.PersistentFlags()
	pf.StringVar(&a.langFlag, "lang", "", a.tr("language of messages and reports: zh or en (default: $PATROL_LANG; then messages follow the locale and reports are Chinese)", "消息与报告的语言：zh 或 en（默认取 $PATROL_LANG；未设置时消息跟随系统区域设置，报告使用中文）"))
	pf.StringArrayVarP(&a.inventories, "inventory", "i", nil, a.tr("inventory file; repeat to merge several (default: $PATROL_INVENTORY, else this machine only)", "清单文件；可重复以合并多个（默认取 $PATROL_INVENTORY，否则只含本机）"))
	pf.StringVarP(&a.limit, "limit", "l", "", a.tr("host pattern restricting the hosts: names, groups, globs, !exclude, &intersect", "限定主机的模式：主机名、组名、通配符、!排除、&交集"))
	pf.IntVarP(&a.forks, "forks", "f", 50, a.tr("number of hosts worked on at once", "同时处理的主机数"))
	pf.StringVarP(&a.output, "output", "o", "text", a.tr("output format: text, or json for one JSON object per task result", "输出格式：text，或 json（每个任务结果一行 JSON）"))
	pf.BoolVar(&a.acceptNewKeys, "accept-new-host-keys", false, a.tr("record the SSH host keys of hosts never seen before instead of refusing them", "记录首次连接主机的 SSH 主机密钥，而不是拒绝连接"))
	pf.DurationVar(&a.connectTimeout, "connect-timeout", 10*time.Second, a.tr("time allowed to connect and log in to a host", "连接并登录一台主机的时限"))
	pf.BoolVarP(&a.verbose, "verbose", "v", false, a.tr("show every task result and debug logs", "显示每个任务结果和调试日志"))

	root.AddCommand(a.runCommand(), a.inspectCommand(), a.journalCommand(), a.modulesCommand(), a.inventoryCommand(), a.reportCommand(), a.labCommand())
	root.AddCommand(a.calendarCommand())
	root.AddCommand(a.patchCommand())
	localizeHelp(root, a.lang)
	return root
}

// checkGlobalFlags rejects values of the global flags that no command accepts.
func (a *app) checkGlobalFlags() error {
	if _, ok := i18n.Parse(a.langFlag); a.langFlag != "" && !ok {
		return invalid(fmt.Errorf("--lang %q: %s", a.langFlag, a.tr("use zh or en", "请使用 zh 或 en")))
	}
	if env := os.Getenv("PATROL_LANG"); env != "" {
		if _, ok := i18n.Parse(env); !ok {
			fmt.Fprintf(a.stderr, "%s: PATROL_LANG=%q %s\n", a.tr("warning", "警告"), env, a.tr("is not zh or en and is ignored", "不是 zh 或 en，已忽略"))
		}
	}
	if a.output != "text" && a.output != "json" {
		return invalid(fmt.Errorf("--output %q: %s", a.output, a.tr("use text or json", "请使用 text 或 json")))
	}
	return nil
}

// addRunFlags adds the flags of commands that execute a playbook.
func (a *app) addRunFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVarP(&a.check, "check", "C", false, a.tr("check mode: modules that change hosts report what they would change and change nothing", "检查模式：会改动主机的模块只报告将做的改动，不做任何改动"))
	f.StringSliceVarP(&a.tags, "tags", "t", nil, a.tr("run only tasks with these tags", "只执行带这些标签的任务"))
	f.StringSliceVar(&a.skipTags, "skip-tags", nil, a.tr("skip tasks with these tags", "跳过带这些标签的任务"))
	f.StringArrayVarP(&a.extraVars, "extra-vars", "e", nil, a.tr("variable KEY=VALUE overriding all others; repeatable", "覆盖其他所有变量的 KEY=VALUE；可重复"))
}

// usageError marks a bad flag or argument.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

func isUsageError(err error) bool {
	var ue usageError
	if errors.As(err, &ue) {
		return true
	}
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "accepts ") ||
		strings.HasPrefix(msg, "requires ") || strings.Contains(msg, "invalid argument")
}

// exactArgs is cobra.ExactArgs with an error that maps to exit code 2.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}
