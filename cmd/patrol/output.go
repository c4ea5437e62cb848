package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"patrol/checks"
	"patrol/i18n"
	"patrol/module"
	"patrol/runner"
)

// jsonResult is the line --output json prints for each task result.
type jsonResult struct {
	Host string `json:"host"`
	// Play and Task are the names in the run's language. PlayName and
	// TaskName give both languages when the playbook gave both.
	Play       string           `json:"play"`
	Task       string           `json:"task"`
	PlayName   i18n.Text        `json:"play_name,omitzero"`
	TaskName   i18n.Text        `json:"task_name,omitzero"`
	Module     string           `json:"module"`
	Status     string           `json:"status"`
	Changed    bool             `json:"changed"`
	Ignored    bool             `json:"ignored,omitempty"`
	RC         int              `json:"rc"`
	Msg        string           `json:"msg,omitempty"`
	Error      string           `json:"error,omitempty"`
	Stdout     string           `json:"stdout,omitempty"`
	Stderr     string           `json:"stderr,omitempty"`
	Findings   []module.Finding `json:"findings,omitempty"`
	DurationMS int64            `json:"duration_ms"`
}

var outMu sync.Mutex

// printResult writes one task result to stdout: a JSON line with --output json;
// in text mode, failures, changes and warnings always, the rest with -v.
func (a *app) printResult(tr runner.TaskResult) {
	outMu.Lock()
	defer outMu.Unlock()

	if a.output == "json" {
		line, _ := json.Marshal(jsonResult{
			Host: tr.Host, Play: tr.Play, Task: tr.Task, Module: tr.Module, Status: tr.Status,
			PlayName: bilingual(tr.PlayName), TaskName: bilingual(tr.TaskName),
			Changed: tr.Result.Changed, Ignored: tr.Ignored, RC: tr.Result.RC, Msg: tr.Result.Msg, Error: tr.Err,
			Stdout: tr.Result.Stdout, Stderr: tr.Result.Stderr, Findings: tr.Result.Findings,
			DurationMS: tr.Duration.Milliseconds(),
		})
		fmt.Fprintf(a.stdout, "%s\n", line)
		return
	}

	worst := module.Worst(tr.Result.Findings)
	interesting := tr.Status == runner.StatusFailed || tr.Status == runner.StatusUnreachable ||
		tr.Status == runner.StatusChanged || worst != module.StatusOK
	if !interesting && !a.verbose {
		return
	}
	fmt.Fprintf(a.stdout, "%s %s | %s", padRight(statusLabel(tr.Status, a), statusWidth), tr.Host, tr.Task)
	colon := a.tr(": ", "：")
	switch {
	case tr.Error != nil:
		fmt.Fprint(a.stdout, colon, localizeTaskError(tr.Error, a.lang))
	case tr.Err != "":
		fmt.Fprint(a.stdout, colon, tr.Err)
	case !tr.Result.Message.IsZero():
		fmt.Fprint(a.stdout, colon, tr.Result.Message.In(a.lang))
	case tr.Result.Msg != "":
		fmt.Fprint(a.stdout, colon, tr.Result.Msg)
	}
	if tr.Ignored {
		// Ansible ends an ignored failure with "...ignoring".
		fmt.Fprint(a.stdout, a.tr(" ...ignoring", "（已忽略）"))
	}
	fmt.Fprintln(a.stdout)
	for _, f := range tr.Result.Findings {
		if f.Status != module.StatusOK || a.verbose {
			item := f.Item
			if !f.ItemTitle.IsZero() {
				item = f.ItemTitle.In(a.lang)
			}
			status := padRight(a.findingStatus(f.Status), a.findingStatusWidth())
			fmt.Fprintf(a.stdout, "    %s %s %s %s\n", status, item, f.Value.In(a.lang), f.Message.In(a.lang))
		}
	}
	if a.verbose && tr.Result.Stdout != "" {
		fmt.Fprintf(a.stdout, "    stdout: %s\n", firstLines(tr.Result.Stdout, 20))
	}
	if (tr.Status == runner.StatusFailed || a.verbose) && tr.Result.Stderr != "" {
		fmt.Fprintf(a.stdout, "    stderr: %s\n", firstLines(tr.Result.Stderr, 5))
	}
}

// statusWidth is the display width of the status column of result lines:
// that of the longest label, UNREACHABLE. patrol patch apply uses it too.
const statusWidth = 11

func statusLabel(status string, a *app) string {
	labels := map[string][2]string{
		runner.StatusOK:          {"ok", "成功"},
		runner.StatusChanged:     {"changed", "已变更"},
		runner.StatusFailed:      {"FAILED", "失败"},
		runner.StatusSkipped:     {"skipped", "跳过"},
		runner.StatusUnreachable: {"UNREACHABLE", "无法连接"},
	}
	l := labels[status]
	return a.tr(l[0], l[1])
}

// findingStatus is a finding's status as result lines show it: the status
// itself in English (warn), its title in Chinese (警告).
func (a *app) findingStatus(s module.Status) string {
	if a.lang == i18n.ZH {
		return checks.FindingStatusTitle(s).ZH
	}
	return string(s)
}

// findingStatusWidth is the display width of the widest finding status in
// the user's language, so that the items after it line up.
func (a *app) findingStatusWidth() int {
	n := 0
	for _, s := range []module.Status{module.StatusOK, module.StatusWarn, module.StatusFail, module.StatusError} {
		n = max(n, displayWidth(a.findingStatus(s)))
	}
	return n
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, "\n    ")
}

// progress shows hosts done/total and failures so far on one stderr line, only
// when stderr is a terminal.
type progress struct {
	a       *app
	enabled bool
	total   int

	mu          sync.Mutex
	done        int
	failed      int
	unreachable map[string]bool
	last        time.Time
}

func newProgress(a *app, total int) *progress {
	f, ok := a.stderr.(*os.File)
	return &progress{
		a:           a,
		enabled:     ok && term.IsTerminal(int(f.Fd())),
		total:       total,
		unreachable: map[string]bool{},
	}
}

func (p *progress) result(tr runner.TaskResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if tr.Status == runner.StatusUnreachable {
		p.unreachable[tr.Host] = true
	}
	p.draw(false)
}

func (p *progress) hostDone(host string, failed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if failed && !p.unreachable[host] {
		p.failed++
	}
	p.draw(true)
}

// draw repaints the line at most ten times a second unless forced.
func (p *progress) draw(force bool) {
	if !p.enabled || (!force && time.Since(p.last) < 100*time.Millisecond) {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.a.stderr, "\r\033[K%s %d/%d  %s %d  %s %d",
		p.a.tr("hosts", "主机"), min(p.done, p.total), p.total,
		p.a.tr("failed", "失败"), p.failed,
		p.a.tr("unreachable", "无法连接"), len(p.unreachable))
}

func (p *progress) finish() {
	if p.enabled {
		p.mu.Lock()
		p.draw(true)
		fmt.Fprintln(p.a.stderr)
		p.mu.Unlock()
	}
}
