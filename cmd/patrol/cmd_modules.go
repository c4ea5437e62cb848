package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
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
				return invalid(fmt.Errorf("%s: %q", a.tr("unknown module", "未知模块"), args[0]))
			}
			fmt.Fprintf(a.stdout, "%s — %s\n%s\n", spec.Name, spec.Title.In(a.lang), spec.Doc)
			if spec.FreeForm != "" {
				fmt.Fprintf(a.stdout, "%s: %s\n", a.tr("a plain value fills", "直接写值时填入"), spec.FreeForm)
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
