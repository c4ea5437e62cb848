package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"patrol/i18n"
	"patrol/inventory"
	"patrol/journal"
	"patrol/module"
	"patrol/patches"
	"patrol/report"
)

// reportFlags are the flags of commands that write a report.
type reportFlags struct {
	out       string
	inspector string
}

func (a *app) addReportFlags(cmd *cobra.Command, rf *reportFlags) {
	cmd.Flags().StringVar(&rf.out, "out", "", a.tr("folder for report.html, report.md and report.json (default ./reports/<date>-<kind>/)", "report.html、report.md、report.json 的输出目录（默认 ./reports/<日期>-<类型>/）"))
	cmd.Flags().StringVar(&rf.inspector, "inspector", "", a.tr("name of the inspector shown in the report (default: the OS user)", "报告中的巡检人（默认：当前系统用户）"))
}

func (a *app) inspectCommand() *cobra.Command {
	var rf reportFlags
	var catalog string
	cmd := &cobra.Command{
		Use:   "inspect daily|monthly",
		Short: a.tr("Run the daily basic or monthly full inspection and write its report", "执行日常基础巡检或月度全面巡检，并生成巡检报告"),
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind := report.Kind(args[0])
			if kind != report.KindDaily && kind != report.KindMonthly {
				return invalid(fmt.Errorf("%s %q: %s", a.tr("unknown inspection", "未知的巡检类型"), args[0], a.tr("use daily or monthly", "请使用 daily 或 monthly")))
			}
			reg := registry()
			inv, _, err := a.loadInventory()
			if err != nil {
				return err
			}
			book, err := loadPlaybook(string(kind)+"-inspection", reg)
			if err != nil {
				return invalid(err)
			}

			var after afterTasks
			if catalog != "" {
				if after, err = a.complianceAfterTasks(inv, catalog); err != nil {
					return err
				}
			}

			ex, err := a.executeThen(cmd.Context(), book, inv, a.args, after)
			if err != nil {
				return err
			}
			dir, err := a.writeReport(ex.journal.Path(), kind, selectedHosts(inv, ex.summary.Hosts), reg, rf)
			if err != nil {
				return err
			}
			a.printReportPath(dir, ex.journal.Path())
			return &exitError{code: ex.summary.ExitCode()}
		},
	}
	a.addRunFlags(cmd)
	a.addReportFlags(cmd, &rf)
	cmd.Flags().StringVar(&catalog, "catalog", "", a.tr(
		"patch catalog file: after the checks, read what each host has installed and add a patch compliance section to the report",
		"补丁台账文件：检查完成后读取各主机已安装的补丁，在报告中增加“补丁合规”一节"))
	return cmd
}

// complianceAfterTasks loads the catalog and the working-day calendar
// ($PATROL_CALENDAR) before the run, so that a bad catalog stops it before
// anything runs, and returns the step that queries the hosts once the tasks
// are done. A missed deadline does not change the exit code: a patch
// installed late stays missed in every later report, and nothing the
// operator does can clear it.
func (a *app) complianceAfterTasks(inv *inventory.Inventory, path string) (afterTasks, error) {
	pf := patchFlags{catalog: path}
	cat, err := pf.loadCatalog(a)
	if err != nil {
		return nil, err
	}
	cal, err := a.loadCalendar(calendarFlags{})
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, selected []*inventory.Host) []journal.Record {
		// The exit code of the query is dropped: a host that cannot be read
		// gets unknown rows, and the checks already judged its connection.
		c, _, err := a.queryCompliance(ctx, inv, selected, cat, cal)
		if err != nil {
			fmt.Fprintln(a.stderr, a.labelled(a.tr("warning", "警告"), localize(err, a.lang)))
			return nil
		}
		return patches.ComplianceRecords(c.plans, c.at)
	}, nil
}

func (a *app) reportCommand() *cobra.Command {
	var rf reportFlags
	var kind string
	cmd := &cobra.Command{
		Use:   "report [JOURNAL]",
		Short: a.tr("Write the inspection report of a recorded run again (default: the latest run)", "根据运行日志重新生成巡检报告（默认：最近一次运行）"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if kind != "" && kind != string(report.KindDaily) && kind != string(report.KindMonthly) {
				return invalid(fmt.Errorf("--kind %q: %s", kind, a.tr("use daily or monthly", "请使用 daily 或 monthly")))
			}
			path, err := a.journalPath(args)
			if err != nil {
				return err
			}
			header, records, _, err := journal.Read(path)
			if err != nil {
				return invalid(fmt.Errorf("%s: %w", path, err))
			}
			if kind == "" {
				kind = string(report.KindOf(header.Playbook.Path))
			}
			if kind != string(report.KindDaily) && kind != string(report.KindMonthly) {
				return invalid(fmt.Errorf("%s: %s", path, a.tr(
					fmt.Sprintf("the run of %s is not a daily or monthly inspection; give --kind daily or --kind monthly", header.Playbook.Path),
					fmt.Sprintf("该运行执行的 %s 不是日常或月度巡检；请指定 --kind daily 或 --kind monthly", header.Playbook.Path))))
			}
			inv, err := a.reportInventory(header)
			if err != nil {
				return err
			}
			dir, err := a.writeReport(path, report.Kind(kind), recordedHosts(header, records, inv), registry(), rf)
			if err != nil {
				return err
			}
			a.printReportPath(dir, path)
			return nil
		},
	}
	cmd.Flags().StringVar(&kind, "kind", "", a.tr("daily or monthly (default: guessed from the playbook name)", "daily 或 monthly（默认：按剧本名称判断）"))
	a.addReportFlags(cmd, &rf)
	return cmd
}

// reportInventory loads the inventory a recorded run used: the -i files or
// $PATROL_INVENTORY when given, else the files the journal names, so that the
// report keeps each host's address, OS and system. It warns when those files
// changed since the run.
func (a *app) reportInventory(h journal.Header) (*inventory.Inventory, error) {
	if len(a.inventories) > 0 || os.Getenv("PATROL_INVENTORY") != "" || len(h.Inventory) == 0 {
		inv, _, err := a.loadInventory()
		return inv, err
	}

	var paths []string
	for _, f := range h.Inventory {
		paths = append(paths, f.Path)
		if sum := fileDigest(f.Path); sum != f.SHA256 {
			fmt.Fprintf(a.stderr, "%s: %s %s\n", a.tr("warning", "警告"), f.Path,
				a.tr("changed or is missing since the run; host details in the report come from its current content",
					"在运行之后已修改或不存在；报告中的主机信息取自其当前内容"))
		}
	}
	inv, err := inventory.Load(paths...)
	if err != nil {
		return nil, invalid(err)
	}
	return inv, nil
}

// reportLang is the report's language: --lang, then $PATROL_LANG, then
// Chinese, because reports are handed to the client as they are. Unlike CLI
// messages, the locale does not count.
func (a *app) reportLang() i18n.Lang {
	for _, v := range []string{a.langFlag, os.Getenv("PATROL_LANG")} {
		if l, ok := i18n.Parse(v); ok {
			return l
		}
	}
	return i18n.ZH
}

// printReportPath prints where the report went: the folder alone on stdout in
// text mode, so scripts can take it, or a final JSON line with --output json.
func (a *app) printReportPath(dir, journalPath string) {
	if a.output == "json" {
		line, _ := json.Marshal(map[string]string{"report": dir, "journal": journalPath})
		fmt.Fprintf(a.stdout, "%s\n", line)
		return
	}
	fmt.Fprintln(a.stderr, a.labelled(msgJournal.In(a.lang), journalPath))
	fmt.Fprintln(a.stdout, dir)
}

// writeReport renders the report of the run recorded in the journal at path.
// Reading the journal back, rather than the results held in memory, makes the
// report show exactly what was recorded.
func (a *app) writeReport(path string, kind report.Kind, hosts []*inventory.Host, reg *module.Registry, rf reportFlags) (string, error) {
	header, records, end, err := journal.Read(path)
	if err != nil {
		return "", fmt.Errorf("read journal %s: %w", path, err)
	}
	lang := a.reportLang()
	for i := range records {
		// The journal has the names in the run's language, and in both
		// languages where the playbook gave both. The report shows its own.
		records[i].Play, records[i].Task = records[i].PlayIn(lang), records[i].TaskIn(lang)
	}
	in := report.FromJournal(header, records, end, hosts, checkTitles(reg))
	if kind != "" {
		in.Kind = kind
	}
	if in.Kind == report.KindMonthly && in.Patches != nil {
		in.PeriodStart = previousMonthlyStart(path, header.StartedAt)
	}
	if rf.inspector != "" {
		in.Inspector = rf.inspector
	}

	dir := rf.out
	if dir == "" {
		day := header.StartedAt.In(shanghai()).Format("2006-01-02")
		dir = reportFolder(filepath.Join("reports", day+"-"+string(in.Kind)), header.RunID)
	}
	if _, err := report.Write(dir, in, lang); err != nil {
		return "", fmt.Errorf("%s: %w", msgReport.In(a.lang), err)
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return dir, nil
}

// reportFolder returns base, or base-2, base-3 and so on: the first folder
// that holds no report yet or the report of runID. A second inspection on
// the same day so gets its own folder, and rendering a run again replaces
// only its own report.
func reportFolder(base, runID string) string {
	for n := 1; ; n++ {
		dir := base
		if n > 1 {
			dir = fmt.Sprintf("%s-%d", base, n)
		}
		data, err := os.ReadFile(filepath.Join(dir, "report.json"))
		if err != nil {
			return dir
		}
		var rep struct {
			RunID string `json:"run_id"`
		}
		if json.Unmarshal(data, &rep) == nil && rep.RunID == runID {
			return dir
		}
	}
}

// previousMonthlyStart returns when the newest monthly inspection with
// patch compliance rows before started began, from the journals next to
// path, or the zero time when there is none. A monthly report lists the
// patch rows from then on, so each row closed since shows in one report.
func previousMonthlyStart(path string, started time.Time) time.Time {
	paths, err := journal.List(filepath.Dir(path))
	if err != nil {
		return time.Time{}
	}
	// Journal names begin with the run's start time, so the newest come last.
	for i := len(paths) - 1; i >= 0; i-- {
		h, records, _, err := journal.Read(paths[i])
		if err != nil || paths[i] == path || !h.StartedAt.Before(started) || report.KindOf(h.Playbook.Path) != report.KindMonthly {
			continue
		}
		if _, found := patches.ComplianceFromJournal(records); found {
			return h.StartedAt
		}
	}
	return time.Time{}
}

// selectedHosts returns the inventory hosts with the given names, so that a host
// the run selected but never reached shows in the report as not inspected.
func selectedHosts(inv *inventory.Inventory, names []string) []*inventory.Host {
	var hosts []*inventory.Host
	for _, name := range names {
		if h := inv.Host(name); h != nil {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// recordedHosts returns the inventory hosts that have a result in the journal.
func recordedHosts(h journal.Header, records []journal.Record, inv *inventory.Inventory) []*inventory.Host {
	seen := map[string]bool{}
	for _, r := range records {
		seen[r.Host] = true
	}
	var hosts []*inventory.Host
	for _, host := range inv.Hosts() {
		if seen[host.Name] {
			hosts = append(hosts, host)
		}
	}
	return hosts
}

func checkTitles(reg *module.Registry) map[string]i18n.Text {
	titles := map[string]i18n.Text{}
	for _, name := range reg.Names() {
		spec, _ := reg.Lookup(name)
		titles[name] = spec.Title
	}
	return titles
}

func shanghai() *time.Location {
	if loc, err := time.LoadLocation(report.DefaultTimeZone); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}
