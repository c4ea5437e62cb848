package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"patrol/i18n"
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
			a.printRecap(ex.results, ex.journal.Path())
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

// printRecap prints per-host counts of the results in text mode, as
// Ansible's PLAY RECAP does, and where the journal is. A failure that
// ignore_errors let pass counts as ignored, not as failed.
func (a *app) printRecap(results []runner.TaskResult, journalPath string) {
	if a.output == "json" {
		return
	}
	counts := map[string]map[string]int{}
	for _, tr := range results {
		if counts[tr.Host] == nil {
			counts[tr.Host] = map[string]int{}
		}
		key := tr.Status
		if tr.Ignored {
			key = recapIgnored
		}
		counts[tr.Host][key]++
	}
	hosts := make([]string, 0, len(counts))
	for h := range counts {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)

	fmt.Fprintln(a.stdout, a.tr("RECAP", "汇总"))
	for _, h := range hosts {
		fields := make([]string, len(recapColumns))
		for i, col := range recapColumns {
			fields[i] = fmt.Sprintf("%s=%d", col.label.In(a.lang), counts[h][col.key])
		}
		fmt.Fprintf(a.stdout, "  %s %s\n", padRight(h, 24), strings.Join(fields, " "))
	}
	fmt.Fprintln(a.stdout, a.labelled(msgJournal.In(a.lang), journalPath))
}

// recapIgnored counts failed results of tasks with ignore_errors.
const recapIgnored = "ignored"

// recapColumns are the counts of a recap line in order. The English labels
// are Ansible's keys, which scripts may parse.
var recapColumns = []struct {
	key   string
	label i18n.Text
}{
	{runner.StatusOK, i18n.T("ok", "成功")},
	{runner.StatusChanged, i18n.T("changed", "已变更")},
	{runner.StatusFailed, i18n.T("failed", "失败")},
	{runner.StatusSkipped, i18n.T("skipped", "跳过")},
	{runner.StatusUnreachable, i18n.T("unreachable", "无法连接")},
	{recapIgnored, i18n.T("ignored", "已忽略")},
}
