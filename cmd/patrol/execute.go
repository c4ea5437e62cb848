package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"patrol/builtin"
	"patrol/checks"
	"patrol/i18n"
	"patrol/inventory"
	"patrol/journal"
	"patrol/module"
	"patrol/playbooks"
	"patrol/runner"
)

// execution is one playbook run: its inputs, its journal and what it produced.
type execution struct {
	inv     *inventory.Inventory
	runID   string
	book    *playbooks.Playbook
	journal *journal.Writer
	started time.Time
	ended   time.Time
	summary *runner.Summary

	mu      sync.Mutex
	results []runner.TaskResult
}

// registry returns every module patrol ships.
func registry() *module.Registry {
	r := module.NewRegistry()
	builtin.Register(r)
	checks.Register(r)
	return r
}

// loadInventory resolves -i, $PATROL_INVENTORY or the built-in local inventory.
func (a *app) loadInventory() (*inventory.Inventory, []string, error) {
	inv, _, err := inventory.Resolve(a.inventories)
	if err != nil {
		return nil, nil, invalid(err)
	}
	return inv, inv.Files, nil
}

// afterTasks returns records to add to the journal once the tasks of a run
// are done, such as the patch compliance of the hosts the run selected. It is
// not called when the run was interrupted.
type afterTasks func(ctx context.Context, selected []*inventory.Host) []journal.Record

// execute validates everything, then runs the playbook with the journal, the
// progress display and the chosen output.
func (a *app) execute(ctx context.Context, book *playbooks.Playbook, inv *inventory.Inventory, args []string) (*execution, error) {
	return a.executeThen(ctx, book, inv, args, nil)
}

// executeThen is execute with records from after appended to the journal
// before its end record.
func (a *app) executeThen(ctx context.Context, book *playbooks.Playbook, inv *inventory.Inventory, args []string, after afterTasks) (*execution, error) {
	extra, err := parseExtraVars(a.extraVars)
	if err != nil {
		return nil, invalid(err)
	}
	if a.limit != "" {
		if _, err := inv.Select(a.limit); err != nil {
			return nil, invalidFlag("--limit", err)
		}
	}
	if err := book.CheckHosts(inv); err != nil {
		return nil, invalid(err)
	}
	selected := selectHosts(book, inv, a.limit)
	if err := a.checkConnections(inv, selected); err != nil {
		return nil, invalid(err)
	}
	home, err := patrolHome()
	if err != nil {
		return nil, err
	}

	ex := &execution{inv: inv, book: book, started: time.Now()}
	ex.runID = journal.NewRunID(ex.started)
	w, err := journal.Create(filepath.Join(home, "journal"), ex.header(args, a), secrets(inv)...)
	if err != nil {
		return nil, fmt.Errorf("create journal: %w", err)
	}
	ex.journal = w

	progress := newProgress(a, len(selected))
	opts := runner.Options{
		Inventory: inv,
		Playbook:  book,
		Limit:     a.limit,
		Forks:     a.forks,
		CheckMode: a.check,
		Tags:      a.tags,
		SkipTags:  a.skipTags,
		ExtraVars: extra,
		Lang:      a.lang,
		Dial:      a.dialer(inv),
		StateDir:  filepath.Join(home, "state"),
		BaseDir:   playbookDir(book),
		Log:       a.logger(ex.runID),
		OnResult: func(tr runner.TaskResult) {
			ex.add(tr)
			if err := w.Append(journalRecord(tr)); err != nil {
				fmt.Fprintf(a.stderr, "%s: %v\n", msgJournal.In(a.lang), err)
			}
			a.printResult(tr)
			progress.result(tr)
		},
		OnHostDone: progress.hostDone,
	}

	summary, err := runner.Run(ctx, opts)
	progress.finish()
	ex.ended = time.Now()
	if err != nil {
		_ = w.Close(journal.End{Status: journal.RunFailed})
		return nil, invalid(err)
	}
	ex.summary = summary
	if after != nil && !summary.Interrupted && ctx.Err() == nil {
		for _, rec := range after(ctx, selected) {
			if err := w.Append(rec); err != nil {
				fmt.Fprintf(a.stderr, "%s: %v\n", msgJournal.In(a.lang), err)
			}
		}
		// An interrupt while after ran interrupts the run as a whole.
		summary.Interrupted = ctx.Err() != nil
	}
	if err := w.Close(journal.End{Status: runStatus(summary)}); err != nil {
		return ex, fmt.Errorf("close journal: %w", err)
	}
	if summary.Interrupted {
		fmt.Fprintln(a.stderr, msgInterrupted.In(a.lang))
	}
	return ex, nil
}

func (ex *execution) add(tr runner.TaskResult) {
	ex.mu.Lock()
	ex.results = append(ex.results, tr)
	ex.mu.Unlock()
}

func (ex *execution) header(args []string, a *app) journal.Header {
	h := journal.Header{
		RunID:     ex.runID,
		StartedAt: ex.started,
		User:      currentUser(),
		Version:   version,
		Args:      args,
		Playbook:  journal.FileDigest{Path: ex.book.File, SHA256: ex.book.SHA256},
		CheckMode: a.check,
		Limit:     a.limit,
	}
	h.Hostname, _ = os.Hostname()
	for _, path := range ex.inv.Files {
		h.Inventory = append(h.Inventory, journal.FileDigest{Path: absolutePath(path), SHA256: fileDigest(path)})
	}
	return h
}

func fileDigest(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// secrets returns the values of every environment variable the inventory names
// as holding a password or passphrase, so the journal can mask them.
func secrets(inv *inventory.Inventory) []string {
	var out []string
	for _, h := range inv.Hosts() {
		for _, name := range []string{h.PasswordEnv, h.BecomePasswordEnv, h.KeyPassphraseEnv} {
			if v := os.Getenv(name); name != "" && v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

func journalRecord(tr runner.TaskResult) journal.Record {
	msg, message := tr.Result.Msg, tr.Result.Message
	if tr.Err != "" {
		msg, message = tr.Err, errorMessage(tr.Error)
	}
	return journal.Record{
		Time:     tr.Start.Add(tr.Duration),
		Host:     tr.Host,
		Play:     tr.Play,
		Task:     tr.Task,
		PlayName: bilingual(tr.PlayName),
		TaskName: bilingual(tr.TaskName),
		Module:   tr.Module,
		Status:   journal.Status(tr.Status),
		Changed:  tr.Result.Changed,
		Ignored:  tr.Ignored,
		RC:       tr.Result.RC,
		Duration: tr.Duration,
		Msg:      msg,
		Message:  message,
		Findings: tr.Result.Findings,
	}
}

// bilingual returns name when it has a Chinese form, else the zero Text, so
// that the journal and JSON lines carry a name's languages only when the
// playbook gave both.
func bilingual(name i18n.Text) i18n.Text {
	if name.ZH == "" {
		return i18n.Text{}
	}
	return name
}

func runStatus(s *runner.Summary) journal.RunStatus {
	switch s.ExitCode() {
	case exitInterrupted:
		return journal.RunInterrupted
	case exitUnreachable:
		return journal.RunUnreachable
	case exitFailed:
		return journal.RunFailed
	}
	return journal.RunOK
}

// selectHosts returns the distinct hosts the plays select, in order.
func selectHosts(book *playbooks.Playbook, inv *inventory.Inventory, limit string) []*inventory.Host {
	seen := map[string]bool{}
	var out []*inventory.Host
	var limited map[string]bool
	if limit != "" {
		hosts, _ := inv.Select(limit)
		limited = map[string]bool{}
		for _, h := range hosts {
			limited[h.Name] = true
		}
	}
	for _, p := range book.Plays {
		hosts, _ := inv.Select(p.Hosts)
		for _, h := range hosts {
			if (limited == nil || limited[h.Name]) && !seen[h.Name] {
				seen[h.Name] = true
				out = append(out, h)
			}
		}
	}
	return out
}

func parseExtraVars(list []string) (map[string]any, error) {
	out := map[string]any{}
	for _, kv := range list {
		if strings.HasPrefix(kv, "{") {
			var m map[string]any
			if err := json.Unmarshal([]byte(kv), &m); err != nil {
				return nil, fmt.Errorf("-e %s: invalid JSON: %w", kv, err)
			}
			for k, v := range m {
				out[k] = v
			}
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("-e %q: write KEY=VALUE or a JSON object", kv)
		}
		out[k] = v
	}
	return out, nil
}

// patrolHome returns $PATROL_HOME, default ~/.patrol.
func patrolHome() (string, error) {
	if h := os.Getenv("PATROL_HOME"); h != "" {
		return h, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the home folder: %w (set PATROL_HOME)", err)
	}
	return filepath.Join(home, ".patrol"), nil
}

func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}

// logger returns the structured logger: debug lines on stderr with -v, else
// warnings only.
func (a *app) logger(runID string) *slog.Logger {
	level := slog.LevelWarn
	if a.verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level})).With("run", runID)
}

// playbookDir returns the folder of a playbook file, against which relative
// paths in its tasks are resolved; shipped playbooks use the working folder.
func playbookDir(book *playbooks.Playbook) string {
	if _, err := os.Stat(book.File); err != nil {
		return ""
	}
	return filepath.Dir(book.File)
}

// absolutePath makes a journalled input path absolute, so that patrol report
// finds the file from any working folder; it keeps path when that fails.
func absolutePath(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}
