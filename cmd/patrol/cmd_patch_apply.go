package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"patrol/i18n"
	"patrol/inventory"
	"patrol/journal"
	"patrol/patches"
)

func (a *app) patchApplyCommand(pf *patchFlags) *cobra.Command {
	var until string
	var serial int
	cmd := &cobra.Command{
		Use:   "apply",
		Short: a.tr("Install the missing patches: staging hosts first, then production in serial batches", "安装缺少的补丁：先测试主机，再按批次安装生产主机"),
		Long: a.tr(
			"Patches are installed by deadline, then severity. Each system's staging host (staging: true) gets a patch first; "+
				"production hosts get it only after it installed and verified there. Production hosts go in batches of --serial hosts "+
				"that never hold two hosts of one pair. Per host and patch: lock, pre-checks (free space, backup, services), copy, "+
				"stop services, install, reboot when needed, start services, verify, post-checks (services, health_url). "+
				"A failure rolls the patch back where the catalog allows it and starts no later batch. "+
				"A run that was interrupted can be run again: installed patches are skipped.",
			"补丁按期限、再按严重程度依次安装。各系统的测试主机（staging: true）先安装，"+
				"在其上安装并验证通过后才安装到生产主机。生产主机按 --serial 台一批，同一双机组的两台主机不会在同一批。"+
				"每台主机每个补丁：加锁、预检（剩余空间、备份、服务）、复制、停止服务、安装、必要时重启、启动服务、验证、"+
				"后检（服务、health_url）。失败时在补丁台账允许的情况下回退补丁，且不再开始后续批次。"+
				"被中断的运行可以再次执行：已安装的补丁会被跳过。"),
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runPatchApply(cmd, pf, until, serial)
		},
	}
	f := cmd.Flags()
	f.StringVar(&until, "until", "", a.tr(
		"end of the maintenance window, as HH:MM (next occurrence), a duration such as 2h, or RFC 3339; no patch starts after it",
		"维护窗口的结束时间：HH:MM（下一次出现的该时刻）、时长（如 2h）或 RFC 3339；此后不再开始安装新的补丁"))
	f.IntVar(&serial, "serial", 1, a.tr("production hosts patched at once; hosts of one pair never go together", "同时安装的生产主机数；同一双机组的主机不会同时安装"))
	f.BoolVarP(&a.check, "check", "C", false, a.tr(
		"print every step that would run, per host and batch, and change nothing; runs the read-only checks and exits with the code the real run would for what it can foresee",
		"按主机和批次列出将执行的每个步骤，不做任何改动；会执行只读检查，并对能预见的问题以正式运行将返回的退出码结束"))
	return cmd
}

func (a *app) runPatchApply(cmd *cobra.Command, pf *patchFlags, until string, serial int) error {
	ctx := cmd.Context()
	if serial < 1 {
		return invalid(fmt.Errorf("--serial %d: %s", serial, a.tr("give 1 or more hosts", "请给 1 或更大的主机数")))
	}
	inv, hosts, cat, cal, err := a.patchSetup(pf)
	if err != nil {
		return err
	}
	started := time.Now()
	untilTime, err := patches.ParseWindowEnd(until, started, cal.Location())
	if err != nil {
		return invalidFlag("--until", err)
	}
	if err := a.checkConnections(inv, patchRunHosts(inv, hosts)); err != nil {
		return invalid(err)
	}
	home, err := patrolHome()
	if err != nil {
		return err
	}
	dir := filepath.Join(home, "journal")

	out := &applyPrinter{a: a}
	unfinished := out.previousStops(dir)
	// A patch whose newest result failed is checked again where a host has
	// it, like one an interrupted run left unchecked.
	if failed, err := patches.FailedPatches(dir); err == nil {
		unfinished = append(unfinished, failed...)
	}

	runID := journal.NewRunID(started)
	var w *journal.Writer
	if !a.check {
		w, err = journal.Create(dir, a.patchJournalHeader(runID, started, inv, cat), secrets(inv)...)
		if err != nil {
			return fmt.Errorf("create journal: %w", err)
		}
		release, err := holdJournal(w.Path())
		if err != nil {
			return fmt.Errorf("lock journal %s: %w", w.Path(), err)
		}
		defer release()
	}
	machine, _ := os.Hostname()

	summary, err := patches.Apply(ctx, patches.ApplyOptions{
		Catalog: cat, All: inv.Hosts(), Hosts: hosts, Dial: a.dialer(inv),
		Calendar: cal, Until: untilTime, Serial: serial, Forks: a.forks, Check: a.check,
		Owner:      patches.LockOwner(runID, currentUser(), machine, started),
		Unfinished: unfinished,
		Log:        a.logger(runID),
		OnStep: func(e patches.StepEvent) {
			if w != nil {
				if err := w.Append(patchRecord(e)); err != nil {
					fmt.Fprintf(a.stderr, "%s: %v\n", msgJournal.In(a.lang), err)
				}
			}
			out.event(e)
		},
	})
	if err != nil {
		if w != nil {
			w.Close(journal.End{Status: journal.RunFailed})
		}
		return err
	}

	code := applyExitCode(summary)
	if w != nil {
		if err := w.Close(journal.End{Status: patchRunStatus(code)}); err != nil {
			return fmt.Errorf("close journal: %w", err)
		}
	}
	out.recap(summary, w, code)
	if summary.Interrupted {
		fmt.Fprintln(a.stderr, msgInterrupted.In(a.lang))
	}
	return &exitError{code: code}
}

// patchRunHosts adds to the selected hosts the staging hosts of their
// systems and their pair partners, which an apply run connects to as well.
func patchRunHosts(inv *inventory.Inventory, selected []*inventory.Host) []*inventory.Host {
	want := map[string]bool{}
	staging := patches.StagingHosts(inv.Hosts())
	pairs := map[string]bool{}
	for _, h := range selected {
		want[h.Name] = true
		if s := staging[h.System]; s != nil {
			want[s.Name] = true
		}
		if h.Pair != "" {
			pairs[h.Pair] = true
		}
	}
	var out []*inventory.Host
	for _, h := range inv.Hosts() {
		if want[h.Name] || pairs[h.Pair] {
			out = append(out, h)
		}
	}
	return out
}

func (a *app) patchJournalHeader(runID string, started time.Time, inv *inventory.Inventory, cat *patches.Catalog) journal.Header {
	h := journal.Header{
		RunID: runID, StartedAt: started, User: currentUser(), Version: version, Args: a.args,
		Playbook: journal.FileDigest{Path: cat.Path, SHA256: fileDigest(cat.Path)},
		Limit:    a.limit,
	}
	h.Hostname, _ = os.Hostname()
	for _, path := range inv.Files {
		h.Inventory = append(h.Inventory, journal.FileDigest{Path: absolutePath(path), SHA256: fileDigest(path)})
	}
	return h
}

// patchRecord turns a step into a journal record: the patch is the play and
// the step the task. The message keeps both languages.
func patchRecord(e patches.StepEvent) journal.Record {
	status := journal.Status(e.Status)
	msg := e.Message.EN
	if e.Message.ZH != "" && e.Message.ZH != e.Message.EN {
		msg += " / " + e.Message.ZH
	}
	if e.Output != "" {
		msg += "\n" + e.Output
	}
	return journal.Record{
		Time: e.Time, Host: e.Host, Play: e.Patch, Task: string(e.Step), Module: patches.JournalModule,
		Status: status, Changed: e.Status == patches.StatusChanged, RC: e.RC, Duration: e.Duration, Msg: msg,
	}
}

// applyExitCode maps an apply summary to the exit code table. A check run
// gets the same code, because its failures are the ones it foresees for the
// real run. These are refusals, hosts that cannot be queried, failing
// pre-checks and partner checks, and repository files that changed.
func applyExitCode(s *patches.ApplySummary) int {
	switch {
	case s.Interrupted:
		return exitInterrupted
	case s.Unreachable():
		return exitUnreachable
	case s.Failed():
		return exitFailed
	}
	return exitOK
}

func patchRunStatus(code int) journal.RunStatus {
	switch code {
	case exitInterrupted:
		return journal.RunInterrupted
	case exitUnreachable:
		return journal.RunUnreachable
	case exitFailed:
		return journal.RunFailed
	}
	return journal.RunOK
}

// applyPrinter prints the steps of an apply run as they happen.
type applyPrinter struct {
	a *app

	mu    sync.Mutex
	phase patches.Phase
}

// previousStops prints where the last unfinished apply run stopped and
// returns those stops, for the run to check again what that run installed.
func (p *applyPrinter) previousStops(dir string) []patches.Stop {
	path, stops, err := patches.PreviousStops(dir)
	if err != nil || path == "" {
		return nil
	}
	running := journalInUse(path)
	for i := range stops {
		stops[i].Running = running
		stop := stops[i]
		if p.a.output == "json" {
			line, _ := json.Marshal(map[string]any{"previous_run": stop.RunID, "host": stop.Host, "patch": stop.Patch, "step": stop.Step,
				"message": stop.Text().In(p.a.lang)})
			fmt.Fprintf(p.a.stdout, "%s\n", line)
			continue
		}
		fmt.Fprintln(p.a.stdout, stop.Text().In(p.a.lang))
	}
	return stops
}

// event prints one step: a JSON line with --output json; in text mode every
// step except routine host-level ones, which -v adds.
func (p *applyPrinter) event(e patches.StepEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.a
	if a.output == "json" {
		line, _ := json.Marshal(struct {
			patches.StepEvent
			Message string `json:"message"`
		}{e, e.Message.In(a.lang)})
		fmt.Fprintf(a.stdout, "%s\n", line)
		return
	}

	routine := e.Status == patches.StatusOK && (e.Step == patches.StepDone || (e.Step == patches.StepQuery && e.Patch == ""))
	if routine && !a.verbose {
		return
	}

	if e.Phase != p.phase {
		p.phase = e.Phase
		fmt.Fprintf(a.stdout, "== %s ==\n", e.Phase.Title().In(a.lang))
	}

	patch := e.Patch
	if patch == "" {
		patch = "-"
	}
	fmt.Fprintf(a.stdout, "%s %s | %s | %s%s%s", padRight(stepLabel(e.Status, a), statusWidth), e.Host, patch,
		e.Step.Title().In(a.lang), a.tr(": ", "："), e.Message.In(a.lang))
	if e.Duration >= time.Second && e.Step != patches.StepPatch && e.Step != patches.StepReboot {
		fmt.Fprintf(a.stdout, " (%s)", e.Duration.Round(time.Second))
	}
	fmt.Fprintln(a.stdout)
	if e.Output != "" && (e.Status == patches.StatusFailed || a.verbose) {
		fmt.Fprintf(a.stdout, "    %s\n", lastLines(e.Output, 10))
	}
}

func stepLabel(s patches.StepStatus, a *app) string {
	labels := map[patches.StepStatus][2]string{
		patches.StatusOK:          {"ok", "成功"},
		patches.StatusChanged:     {"changed", "已变更"},
		patches.StatusFailed:      {"FAILED", "失败"},
		patches.StatusSkipped:     {"skipped", "跳过"},
		patches.StatusUnreachable: {"UNREACHABLE", "无法连接"},
		patches.StatusWould:       {"would", "将执行"},
	}
	l, ok := labels[s]
	if !ok {
		return string(s)
	}
	return a.tr(l[0], l[1])
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = append([]string{"…"}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n    ")
}

// recap prints per host what the run did, and where the journal is. code
// is the run's exit code.
func (p *applyPrinter) recap(s *patches.ApplySummary, w *journal.Writer, code int) {
	a := p.a
	if a.output == "json" {
		for _, h := range s.Hosts {
			line, _ := json.Marshal(map[string]any{"recap": h})
			fmt.Fprintf(a.stdout, "%s\n", line)
		}
		return
	}
	fmt.Fprintln(a.stdout, a.tr("RECAP", "汇总"))
	if a.check {
		fmt.Fprintln(a.stdout, a.tr("  check mode: nothing was changed", "  检查模式：未做任何改动"))
		if code != exitOK {
			fmt.Fprintf(a.stdout, a.tr("  check mode found problems that would make the real run fail; exit code %d, as the real run would\n",
				"  检查模式发现会使正式运行失败的问题；退出码 %d，与正式运行相同\n"), code)
		}
	}
	idle := true
	for _, h := range s.Hosts {
		if len(h.Installed)+len(h.WouldInstall)+len(h.Failed)+len(h.Left)+len(h.Refused) > 0 || h.Error != "" {
			idle = false
		}
	}
	if idle {
		fmt.Fprintln(a.stdout, a.tr("  nothing to install: the selected hosts have every patch that applies to them",
			"  无需安装：所选主机已安装全部适用的补丁"))
	}
	for _, h := range s.Hosts {
		done, count := a.tr("installed", "已安装"), len(h.Installed)
		if a.check {
			done, count = a.tr("would_install", "将安装"), len(h.WouldInstall)
		}
		fmt.Fprintf(a.stdout, "  %-24s %s=%d %s=%d %s=%d %s=%d", h.Host, done, count,
			a.tr("failed", "失败"), len(h.Failed), a.tr("left", "未开始"), len(h.Left), a.tr("refused", "拒绝"), len(h.Refused))
		if h.Unreachable {
			fmt.Fprintf(a.stdout, " %s", a.tr("UNREACHABLE", "无法连接"))
		}
		fmt.Fprintln(a.stdout)
	}
	if s.StoppedAfter > 0 {
		fmt.Fprintln(a.stdout, i18n.T(
			fmt.Sprintf("batch %d failed, so no later batch started", s.StoppedAfter),
			fmt.Sprintf("批次 %d 失败，后续批次未开始", s.StoppedAfter)).In(a.lang))
	}
	if w != nil {
		fmt.Fprintln(a.stdout, a.labelled(msgJournal.In(a.lang), w.Path()))
	}
}
