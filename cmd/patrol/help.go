package main

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"patrol/i18n"
)

// helpTemplate lays out `patrol … --help` with its headings passed through
// the heading function, so a Chinese run has no English headings.
const helpTemplate = `{{heading "Usage:"}}{{if .Runnable}}
  {{.UseLine}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} [command]{{end}}{{if gt (len .Aliases) 0}}

{{heading "Aliases:"}}
  {{.NameAndAliases}}{{end}}{{if .HasExample}}

{{heading "Examples:"}}
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}

{{heading "Commands:"}}{{range .Commands}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

{{heading "Flags:"}}
{{flagUsages .LocalFlags}}{{end}}{{if .HasAvailableInheritedFlags}}

{{heading "Global flags:"}}
{{flagUsages .InheritedFlags}}{{end}}{{if .HasAvailableSubCommands}}

{{printf (heading "Run \"%s COMMAND --help\" for the help of a command.") .CommandPath}}{{end}}
`

var helpHeadings = map[string]string{
	"Usage:":        "用法：",
	"Aliases:":      "别名：",
	"Examples:":     "示例：",
	"Commands:":     "命令：",
	"Flags:":        "参数：",
	"Global flags:": "全局参数：",
	"Run \"%s COMMAND --help\" for the help of a command.": "运行 \"%s 命令 --help\" 查看某个命令的帮助。",
}

// localizeHelp puts every command's help in lang: the headings, the --help
// flag's own line and the help command. Cobra creates the help flag lazily,
// so it is created here first; without it a leading --help would take the
// next argument as its value.
func localizeHelp(root *cobra.Command, lang i18n.Lang) {
	cobra.AddTemplateFunc("heading", func(en string) string {
		if zh, ok := helpHeadings[en]; ok && lang == i18n.ZH {
			return zh
		}
		return en
	})
	cobra.AddTemplateFunc("flagUsages", func(flags *pflag.FlagSet) string {
		usages := strings.TrimRight(flags.FlagUsages(), " \n")
		if lang != i18n.ZH {
			return usages
		}
		return flagDefault.ReplaceAllString(usages, "（默认 $1）")
	})
	root.SetUsageTemplate(helpTemplate)
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [command]",
		Short: i18n.T("Show the help of a command", "显示某个命令的帮助").In(lang),
		Run: func(c *cobra.Command, args []string) {
			target, _, err := c.Root().Find(args)
			if target == nil || err != nil {
				target = c.Root()
			}
			_ = target.Help()
		},
	})
	root.CompletionOptions.HiddenDefaultCmd = true

	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.InitDefaultHelpFlag()
		if f := c.Flags().Lookup("help"); f != nil {
			f.Usage = i18n.T("show this help", "显示本帮助").In(lang)
		}
		if f := c.Flags().Lookup("version"); f != nil {
			f.Usage = i18n.T("show the version", "显示版本").In(lang)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	root.InitDefaultVersionFlag()
	walk(root)
}

// flagDefault matches the " (default X)" that pflag appends to a flag's
// line in help.
var flagDefault = regexp.MustCompile(`(?m) \(default (.*)\)$`)

// usageErrorPatterns turn cobra's and pflag's English usage errors into
// both languages.
var usageErrorPatterns = []struct {
	pattern *regexp.Regexp
	en, zh  string
}{
	{regexp.MustCompile(`^unknown command "([^"]*)" for "([^"]*)"(?s:.*?Did you mean this\?\s*(\S+))?`), "unknown command %q for %q%s", "%[2]q 没有命令 %[1]q%[3]s"},
	{regexp.MustCompile(`^unknown flag: (\S+)`), "unknown flag %s", "未知参数 %s"},
	{regexp.MustCompile(`^unknown shorthand flag: '(.)' in (\S+)`), "unknown flag -%s in %s", "未知参数 -%s（在 %s 中）"},
	{regexp.MustCompile(`^flag needs an argument: (\S+)`), "flag %s needs a value", "参数 %s 需要一个值"},
}

// localizeUsageError returns a cobra or pflag usage error in lang, with the
// suggestion kept, or the error text unchanged when it has no known form.
func localizeUsageError(err error, lang i18n.Lang) string {
	msg := err.Error()
	for _, p := range usageErrorPatterns {
		m := p.pattern.FindStringSubmatch(msg)
		if m == nil {
			continue
		}
		args := make([]any, 0, len(m)-1)
		for _, v := range m[1:] {
			args = append(args, v)
		}
		if strings.HasPrefix(msg, "unknown command") {
			hintEN, hintZH := "", ""
			if m[3] != "" {
				hintEN, hintZH = fmt.Sprintf(" (did you mean %q?)", m[3]), fmt.Sprintf("（是否想写 %q？）", m[3])
			}
			return i18n.T(fmt.Sprintf(p.en, m[1], m[2], hintEN), fmt.Sprintf(p.zh, m[1], m[2], hintZH)).In(lang)
		}
		return i18n.T(fmt.Sprintf(p.en, args...), fmt.Sprintf(p.zh, args...)).In(lang)
	}
	return msg
}
