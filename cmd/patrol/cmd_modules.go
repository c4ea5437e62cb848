package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"patrol/i18n"
	"patrol/internal/typo"
	"patrol/module"
)

func (a *app) modulesCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "modules [NAME]",
		Short: a.tr("List modules, or show one module's arguments", "列出模块，或显示某个模块的参数"),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg := registry()
			if len(args) == 0 {
				var rows [][]string
				for _, name := range reg.Names() {
					spec, _ := reg.Lookup(name)
					rows = append(rows, []string{name, spec.Doc.In(a.lang)})
				}
				printTable(a.stdout, rows)
				return nil
			}
			spec, ok := reg.Lookup(args[0])
			if !ok {
				hint := ""
				if near := closestName(args[0], reg.Names()); near != "" {
					hint = fmt.Sprintf(a.tr(" (did you mean %q?)", "（是否想写 %q？）"), near)
				}
				return invalid(fmt.Errorf("%s %q%s; %s", a.tr("unknown module", "未知模块"), args[0], hint,
					a.tr("patrol modules lists them all", "patrol modules 可列出全部模块")))
			}
			fmt.Fprintf(a.stdout, "%s — %s\n%s\n", spec.Name, spec.Title.In(a.lang), spec.Doc.In(a.lang))
			if spec.FreeForm != "" {
				fmt.Fprintln(a.stdout, a.labelled(a.tr("a plain value fills", "直接写值时填入"), spec.FreeForm))
			}
			if len(spec.Args) == 0 {
				return nil
			}
			rows := make([][]string, len(spec.Args))
			for i, arg := range spec.Args {
				rows[i] = []string{"  " + arg.Name, string(arg.Type), arg.Doc.In(a.lang) + a.argNotes(arg)}
			}
			printTable(a.stdout, rows)
			return nil
		},
	}
}

// argNotes returns what the line of an argument adds after its description:
// whether it is required, its default and its accepted values.
func (a *app) argNotes(arg module.Arg) string {
	var notes []string
	if arg.Required {
		notes = append(notes, a.tr("required", "必填"))
	}
	if arg.Default != nil {
		notes = append(notes, fmt.Sprintf("%s %v", a.tr("default", "默认"), arg.Default))
	}
	if len(arg.Enum) > 0 {
		notes = append(notes, a.tr("one of ", "可选值 ")+strings.Join(arg.Enum, a.tr(", ", "、")))
	}
	if len(notes) == 0 {
		return ""
	}
	if a.lang == i18n.ZH {
		return "（" + strings.Join(notes, "；") + "）"
	}
	return " (" + strings.Join(notes, "; ") + ")"
}

// closestName returns the name nearest to word by edit distance, or "" when
// none is within a third of the word's length.
func closestName(word string, names []string) string {
	best, bestDistance := "", len(word)/3+1
	for _, n := range names {
		if d := typo.Distance(word, n); d < bestDistance {
			best, bestDistance = n, d
		}
	}
	return best
}
