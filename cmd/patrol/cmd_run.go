package main

import (
	"fmt"
	"sort"

	"github.com/spf13/cobra"

	"patrol/module"
	"patrol/playbooks"
	"patrol/runner"
)

func (a *app) runCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run PLAYBOOK",
		Short: a.tr("Run a playbook (a file, or the name of a shipped playbook)", "执行剧本（文件路径，或内置剧本的名称）"),
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg := registry()
			inv, _, err := a.loadInventory()
			if err != nil {
				return err
			}
			book, err := loadPlaybook(args[0], reg)
			if err != nil {
				return invalid(err)
			}
			ex, err := a.execute(cmd.Context(), book, inv, a.args)
			if err != nil {
				return err
			}
			a.printRecap(ex)
			return &exitError{code: ex.summary.ExitCode()}
		},
	}
	a.addRunFlags(cmd)
	return cmd
}

// loadPlaybook reads a playbook file, or a shipped playbook by name
// ("monthly-inspection") when no such file exists.
func loadPlaybook(name string, reg *module.Registry) (*playbooks.Playbook, error) {
	return playbooks.Open(name, reg)
}

// printRecap prints per-host counts in text mode, and where the journal is.
func (a *app) printRecap(ex *execution) {
	if a.output == "json" {
		return
	}
	counts := map[string]map[string]int{}
	for _, tr := range ex.results {
		if counts[tr.Host] == nil {
			counts[tr.Host] = map[string]int{}
		}
		counts[tr.Host][tr.Status]++
	}
	hosts := make([]string, 0, len(counts))
	for h := range counts {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)

	fmt.Fprintln(a.stdout, a.tr("RECAP", "汇总"))
	for _, h := range hosts {
		c := counts[h]
		fmt.Fprintf(a.stdout, "  %-24s ok=%d changed=%d failed=%d skipped=%d unreachable=%d\n",
			h, c[runner.StatusOK], c[runner.StatusChanged], c[runner.StatusFailed], c[runner.StatusSkipped], c[runner.StatusUnreachable])
	}
	fmt.Fprintln(a.stdout, a.labelled(msgJournal.In(a.lang), ex.journal.Path()))
}
