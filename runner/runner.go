// Package runner executes a validated playbook against inventory hosts: hosts in
// parallel up to the fork limit, tasks in order on each host, serial batches,
// per-task timeouts and retries, check mode and cancellation. It reports each task
// result through a callback and never prints; the CLI turns results into progress,
// JSON lines and the journal.
package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"patrol/i18n"
	"patrol/inventory"
	"patrol/module"
	"patrol/playbooks"
	"patrol/transport"
)

// Task result statuses, as recorded in the journal.
const (
	StatusOK          = "ok"
	StatusChanged     = "changed"
	StatusFailed      = "failed"
	StatusSkipped     = "skipped"
	StatusUnreachable = "unreachable"
)

// Dialer opens a connection to a host.
type Dialer func(ctx context.Context, h *inventory.Host) (transport.Connection, error)

// Options configure one run.
type Options struct {
	Inventory *inventory.Inventory
	Playbook  *playbooks.Playbook
	// Limit further restricts every play's hosts with a host pattern.
	Limit string
	// Forks is the maximum number of hosts worked on at once; default 50.
	Forks     int
	CheckMode bool
	// Tags and SkipTags select tasks by tag; empty Tags selects all.
	Tags     []string
	SkipTags []string
	// ExtraVars override every other variable.
	ExtraVars map[string]any
	// Lang is the language of the play and task names in TaskResult.Play
	// and Task. Empty means English.
	Lang i18n.Lang
	Dial Dialer
	// StateDir keeps per-host state between runs (check.log offsets).
	StateDir string
	// BaseDir is the folder relative local paths in tasks are resolved
	// against; the CLI sets the playbook's folder.
	BaseDir string
	// OnResult is called for every task result, from many goroutines at once.
	OnResult func(TaskResult)
	// OnHostDone is called when a host has no tasks left in a play.
	OnHostDone func(host string, failed bool)
	Log        *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// TaskResult is the outcome of one task on one host (one loop item counts as one).
type TaskResult struct {
	Host string
	// Play and Task are the names in Options.Lang, with templates rendered.
	// PlayName and TaskName contain them in both languages, for a journal
	// that a report in the other language reads again.
	Play     string
	Task     string
	PlayName i18n.Text
	TaskName i18n.Text
	Module   string
	Status   string
	Result   module.Result
	// Err is the error text of a task that could not run; Error is the error
	// itself, for callers that print typed errors in the user's language.
	Err      string
	Error    error
	Start    time.Time
	Duration time.Duration
	// Check marks results of inspection checks, whose failures don't stop a host.
	Check bool
	// Ignored marks a failed result of a task with ignore_errors: the host went
	// on, and the run does not count the host as failed for it.
	Ignored bool
}

// Summary counts what a run did.
type Summary struct {
	// Hosts are the names of every host any play selected, in order.
	Hosts       []string
	Failed      map[string]bool
	Unreachable map[string]string
	Counts      map[string]int
	Interrupted bool
	// Stopped reports that a serial batch went over its play's failure limit,
	// which ended the run before later batches and plays.
	Stopped bool
}

// ExitCode maps the summary to the process exit code: 130 interrupted, 3 a host
// unreachable, 1 a task or check failed, 0 otherwise.
func (s *Summary) ExitCode() int {
	switch {
	case s.Interrupted:
		return 130
	case len(s.Unreachable) > 0:
		return 3
	case len(s.Failed) > 0:
		return 1
	}
	return 0
}

// Run executes the playbook. It returns an error only for problems found before
// any task ran (a host pattern that matches nothing); task failures are in the
// summary.
func Run(ctx context.Context, opts Options) (*Summary, error) {
	r, err := newRun(opts)
	if err != nil {
		return nil, err
	}
	defer r.closeConnections()

	for _, sel := range r.selections {
		if ctx.Err() != nil {
			break
		}
		if !r.runPlay(ctx, sel.play, sel.hosts) {
			// Like Ansible, a play stopped by its failure limit ends the run:
			// later plays must not touch the hosts its batches never reached,
			// such as the other half of a hot-standby pair.
			r.summary.Stopped = true
			break
		}
	}

	if ctx.Err() != nil {
		r.summary.Interrupted = true
	}
	return r.summary, nil
}

type selection struct {
	play  *playbooks.Play
	hosts []*inventory.Host
}

type run struct {
	opts       Options
	selections []selection
	forks      chan struct{}
	summary    *Summary

	mu    sync.Mutex
	hosts map[string]*hostState
}

// hostState is the run's record of one host across plays: its connection,
// registered results and state.
type hostState struct {
	host *inventory.Host

	// connMu guards the connection fields: Env.Reconnect replaces the
	// connection while the run is going on.
	connMu  sync.Mutex
	dialed  bool
	conn    transport.Connection
	connErr error

	// stopped is set when the host failed or was unreachable: later plays skip it.
	stopped    bool
	registered map[string]any
	state      *fileState
}

func newRun(opts Options) (*run, error) {
	if opts.Forks <= 0 {
		opts.Forks = 50
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	r := &run{
		opts:  opts,
		forks: make(chan struct{}, opts.Forks),
		hosts: map[string]*hostState{},
		summary: &Summary{
			Failed:      map[string]bool{},
			Unreachable: map[string]string{},
			Counts:      map[string]int{},
		},
	}

	var limited map[string]bool
	if opts.Limit != "" {
		hosts, err := opts.Inventory.Select(opts.Limit)
		if err != nil {
			return nil, fmt.Errorf("--limit %q: %w", opts.Limit, err)
		}
		limited = map[string]bool{}
		for _, h := range hosts {
			limited[h.Name] = true
		}
	}

	seen := map[string]bool{}
	for _, play := range opts.Playbook.Plays {
		hosts, err := opts.Inventory.Select(play.Hosts)
		if err != nil {
			return nil, fmt.Errorf("%s: play %q hosts %q: %w", play.Pos, play.Name.EN, play.Hosts, err)
		}
		var chosen []*inventory.Host
		for _, h := range hosts {
			if limited == nil || limited[h.Name] {
				chosen = append(chosen, h)
				if !seen[h.Name] {
					seen[h.Name] = true
					r.summary.Hosts = append(r.summary.Hosts, h.Name)
				}
			}
		}
		r.selections = append(r.selections, selection{play: play, hosts: chosen})
	}
	return r, nil
}

// runPlay runs one play batch by batch. A batch whose failures exceed the play's
// max_fail_percentage stops the play; a serial play without one stops at the
// first failed batch. It returns false when the play was stopped that way.
func (r *run) runPlay(ctx context.Context, play *playbooks.Play, hosts []*inventory.Host) bool {
	for _, batch := range batches(play, hosts) {
		if ctx.Err() != nil {
			return true
		}
		failed := r.runBatch(ctx, play, batch)
		if exceedsFailLimit(play, failed, len(batch)) {
			r.opts.Log.Warn("run stopped: batch failures over the play's limit", "play", play.Name.EN, "failed", failed, "batch", len(batch))
			return false
		}
	}
	return true
}

func exceedsFailLimit(play *playbooks.Play, failed, size int) bool {
	if failed == 0 || size == 0 {
		return false
	}
	limit := play.MaxFailPercent
	if limit == nil {
		if play.Serial == 0 {
			return false
		}
		zero := 0.0
		limit = &zero
	}
	return float64(failed)*100/float64(size) > *limit
}

func batches(play *playbooks.Play, hosts []*inventory.Host) [][]*inventory.Host {
	size := play.Serial
	if play.SerialPercent {
		size = len(hosts) * play.Serial / 100
		if size < 1 {
			size = 1
		}
	}
	if size <= 0 || size >= len(hosts) {
		return [][]*inventory.Host{hosts}
	}
	var out [][]*inventory.Host
	for start := 0; start < len(hosts); start += size {
		out = append(out, hosts[start:min(start+size, len(hosts))])
	}
	return out
}

// runBatch runs the play's tasks on every host of the batch, at most Forks hosts
// at once, and returns how many hosts failed or were unreachable.
func (r *run) runBatch(ctx context.Context, play *playbooks.Play, batch []*inventory.Host) int {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed int
	)
	for _, h := range batch {
		hs := r.hostState(h)
		if hs.stopped {
			continue
		}
		// select picks at random when a fork is free and ctx has ended too,
		// so check first that no host starts after an interrupt.
		if ctx.Err() != nil {
			break
		}
		select {
		case r.forks <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return failed
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-r.forks }()
			ok := r.runHost(ctx, play, hs)
			if !ok {
				mu.Lock()
				failed++
				mu.Unlock()
			}
			if r.opts.OnHostDone != nil {
				r.opts.OnHostDone(h.Name, !ok)
			}
		}()
	}
	wg.Wait()
	return failed
}

func (r *run) hostState(h *inventory.Host) *hostState {
	r.mu.Lock()
	defer r.mu.Unlock()
	hs, ok := r.hosts[h.Name]
	if !ok {
		hs = &hostState{host: h, registered: map[string]any{}, state: newFileState(r.opts.StateDir, h.Name, r.opts.Log)}
		r.hosts[h.Name] = hs
	}
	return hs
}

// connect returns the host's connection. The first call dials it and later
// calls reuse it (or its dial error) for the whole run, except after a failed
// reconnect, which left the host with no connection: then it dials again.
func (r *run) connect(ctx context.Context, hs *hostState) (transport.Connection, error) {
	hs.connMu.Lock()
	defer hs.connMu.Unlock()
	if !hs.dialed || (hs.conn == nil && hs.connErr == nil) {
		hs.dialed = true
		hs.conn, hs.connErr = r.opts.Dial(ctx, hs.host)
	}
	return hs.conn, hs.connErr
}

// reconnect closes the host's connection and dials it again; the new
// connection replaces the old one for every later task. It backs Env.Reconnect.
func (r *run) reconnect(ctx context.Context, hs *hostState) (transport.Connection, error) {
	hs.connMu.Lock()
	defer hs.connMu.Unlock()
	if hs.conn != nil {
		if err := hs.conn.Close(); err != nil {
			r.opts.Log.Debug("close connection before reconnecting", "host", hs.host.Name, "err", err)
		}
	}
	hs.dialed = true
	hs.conn, hs.connErr = nil, nil

	conn, err := r.opts.Dial(ctx, hs.host)
	if err != nil {
		return nil, err
	}
	hs.conn = conn
	return conn, nil
}

func (r *run) closeConnections() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, hs := range r.hosts {
		hs.connMu.Lock()
		if hs.conn != nil {
			if err := hs.conn.Close(); err != nil {
				// Transports return nil for a link that is already gone, so
				// what is left says something the operator can act on, such
				// as a WinRM shell that stays open on the host.
				r.opts.Log.Warn("close connection", "host", hs.host.Name, "err", err)
			}
			hs.conn = nil
		}
		hs.connMu.Unlock()
	}
}

// record counts a result and hands it to the callback.
func (r *run) record(tr TaskResult) {
	r.mu.Lock()
	r.summary.Counts[tr.Status]++
	switch {
	case tr.Status == StatusFailed && !tr.Ignored:
		r.summary.Failed[tr.Host] = true
	case tr.Status == StatusUnreachable:
		r.summary.Unreachable[tr.Host] = tr.Err
	}
	r.mu.Unlock()
	if r.opts.OnResult != nil {
		r.opts.OnResult(tr)
	}
}

// secretFromEnv reads a secret named by an inventory *_env field.
func secretFromEnv(name string) string {
	if name == "" {
		return ""
	}
	return os.Getenv(name)
}

var errHostStopped = errors.New("host stopped")
