package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"patrol/internal/typo"
)

func (a *app) modulesCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "modules [NAME]",
		Short: a.tr("List modules, or show one module's arguments", "列出模块，或显示某个模块的参数"),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg := registry()
			if len(args) == 0 {
				for _, name := range reg.Names() {
					spec, _ := reg.Lookup(name)
					fmt.Fprintf(a.stdout, "%-18s %s\n", name, spec.Doc)
				}
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
			fmt.Fprintf(a.stdout, "%s — %s\n%s\n", spec.Name, spec.Title.In(a.lang), spec.Doc)
			if spec.FreeForm != "" {
				fmt.Fprintln(a.stdout, a.labelled(a.tr("a plain value fills", "直接写值时填入"), spec.FreeForm))
			}
			for _, arg := range spec.Args {
				req := ""
				if arg.Required {
					req = a.tr(" (required)", "（必填）")
				}
				def := ""
				if arg.Default != nil {
					def = fmt.Sprintf(" [%s %v]", a.tr("default", "默认"), arg.Default)
				}
				enum := ""
				if len(arg.Enum) > 0 {
					enum = " {" + strings.Join(arg.Enum, ", ") + "}"
				}
				fmt.Fprintf(a.stdout, "  %-14s %-8s%s%s%s  %s\n", arg.Name, arg.Type, req, def, enum, arg.Doc)
			}
			return nil
		},
	}
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
