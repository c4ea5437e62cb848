package patches

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"patrol/i18n"
	"patrol/inventory"
	"patrol/transport"
)

// ApplyOptions are the inputs of an apply run.
type ApplyOptions struct {
	Catalog *Catalog
	// All is every host of the inventory: staging hosts and pair partners
	// outside Hosts are looked up here and only read from, never changed.
	All []*inventory.Host
	// Hosts are the hosts --limit selected, the only ones the run changes.
	Hosts []*inventory.Host
	// Dial opens a connection to a host; it also reconnects after a reboot.
	Dial func(ctx context.Context, h *inventory.Host) (transport.Connection, error)
	// Installers returns a host's installers by the methods they handle;
	// nil means DefaultInstallers.
	Installers func(h *inventory.Host) map[Method]Installer
	Calendar   Deadliner
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Until is the end of the maintenance window: no patch starts on a host
	// at or after it. Zero means no window.
	Until time.Time
	// Serial is the number of production hosts patched at once; below 1
	// means 1.
	Serial int
	// Forks bounds the hosts connected to and queried at once.
	Forks int
	// Check describes every step instead of changing hosts. It still runs
	// what only reads: the query, the partner check, the pre-checks, the
	// repository files against the catalog and the host variables of later
	// steps. It fails a patch where the real run would fail at those.
	Check bool
	// Owner is the owner line of the run's host locks; see LockOwner.
	Owner string
	// Unfinished lists the stops of the newest unfinished apply run (see
	// PreviousStops) and the patches whose newest result failed (see
	// FailedPatches). A host that has such a patch gets it checked again
	// instead of skipped as installed, and production waits for those
	// checks on the staging host.
	Unfinished []Stop
	// OnStep receives every step record, one call at a time.
	OnStep func(StepEvent)
	Log    *slog.Logger
}

// ApplySummary is the outcome of an apply run, per host.
type ApplySummary struct {
	Hosts []*HostResult
	// Interrupted means the context ended before the run finished.
	Interrupted bool
	// StoppedAfter is the production batch whose failure kept the later
	// batches from starting; zero when none did.
	StoppedAfter int
}

// HostResult lists the patches of one host by outcome.
type HostResult struct {
	Host string `json:"host"`
	// Installed are the patches this run installed and verified.
	Installed []string `json:"installed,omitempty"`
	// WouldInstall are, in check mode, the patches the real run would
	// install, as far as check mode can tell.
	WouldInstall []string `json:"would_install,omitempty"`
	// Failed are patches whose install or checks failed.
	Failed []string `json:"failed,omitempty"`
	// Left are patches not started: the window ended, the run stopped, or
	// they failed on staging.
	Left []string `json:"left,omitempty"`
	// Refused are missing patches the host may not get in this run.
	Refused []string `json:"refused,omitempty"`
	// Unreachable means patrol could not connect to the host.
	Unreachable bool `json:"unreachable,omitempty"`
	// Error is a host-level failure: a held lock, a partner down, a query
	// that failed.
	Error string `json:"error,omitempty"`
}

// Failed reports whether any patch failed or was refused, or a host failed.
func (s *ApplySummary) Failed() bool {
	return slices.ContainsFunc(s.Hosts, func(h *HostResult) bool {
		return len(h.Failed) > 0 || len(h.Refused) > 0 || (h.Error != "" && !h.Unreachable)
	})
}

// Unreachable reports whether a host could not be connected to.
func (s *ApplySummary) Unreachable() bool {
	return slices.ContainsFunc(s.Hosts, func(h *HostResult) bool { return h.Unreachable })
}

// applyRun is the state of one Apply call.
type applyRun struct {
	opts ApplyOptions
	log  *slog.Logger

	emitMu sync.Mutex

	mu       sync.Mutex
	sessions map[string]*hostSession
	results  map[string]*HostResult
	// stagingDone records, per staging host and patch, whether the patch
	// was installed and verified there in this run.
	stagingDone map[string]map[string]bool
	// stoppedAfter is the production batch that stopped the run.
	stoppedAfter int

	// repoChecked holds, in check mode, the outcome of checking each
	// repository file by its local path; see checkRepositoryFile.
	repoMu      sync.Mutex
	repoChecked map[string]error
}

// Apply installs the missing patches of the selected hosts: on each system's
// staging host first, then on the production hosts in serial batches that
// never hold two hosts of one pair. A failed install or check rolls the patch
// back where the catalog allows it and keeps later batches from starting.
// Every step is passed to opts.OnStep. The error is for problems before any
// host was contacted; what happened on hosts is in the summary.
func Apply(ctx context.Context, opts ApplyOptions) (*ApplySummary, error) {
	r := newApplyRun(opts)
	defer r.closeSessions()

	stagingHosts := StagingHosts(opts.All)
	queried := r.hostsToQuery(stagingHosts)
	r.connectAll(ctx, queried)
	if ctx.Err() != nil {
		return r.summary(ctx), nil
	}

	plans := r.plan(queried)
	markUnchecked(plans, opts.Unfinished)
	selected := map[string]bool{}
	for _, h := range opts.Hosts {
		selected[h.Name] = true
	}
	hosts := map[string]*inventory.Host{}
	for _, h := range queried {
		hosts[h.Name] = h
	}
	sched := BuildSchedule(ScheduleInput{
		Catalog: opts.Catalog, Plans: plans, Hosts: hosts, Selected: selected,
		StagingBySystem: stagingHosts, Serial: opts.Serial,
	})
	for _, ref := range sched.Refused {
		r.mu.Lock()
		res := r.resultLocked(ref.Host)
		res.Refused = append(res.Refused, ref.Patch)
		r.mu.Unlock()
		r.emit(StepEvent{Phase: Phase{Kind: PhasePlan}, Host: ref.Host, Patch: ref.Patch, Step: StepRefused, Status: StatusFailed, Message: ref.Text})
	}

	r.runPhase(ctx, PhaseStaging, sched.Staging)
	r.runPhase(ctx, PhaseProduction, sched.Production)
	return r.summary(ctx), nil
}

// markUnchecked marks as StateUnchecked each patch that a host has now and
// that an interrupted run was installing or checking when it stopped there.
func markUnchecked(plans []HostPlan, stops []Stop) {
	for _, st := range stops {
		if st.Patch == "" || st.Running || !st.Installing {
			continue
		}
		for i := range plans {
			if plans[i].Host != st.Host {
				continue
			}
			for j := range plans[i].Items {
				if it := &plans[i].Items[j]; it.Patch == st.Patch && it.State == StateInstalled {
					it.State = StateUnchecked
				}
			}
		}
	}
}

func newApplyRun(opts ApplyOptions) *applyRun {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Installers == nil {
		opts.Installers = DefaultInstallers
	}
	if opts.Forks < 1 {
		opts.Forks = 50
	}
	if opts.Serial < 1 {
		opts.Serial = 1
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.OnStep == nil {
		opts.OnStep = func(StepEvent) {}
	}
	r := &applyRun{opts: opts, log: opts.Log, sessions: map[string]*hostSession{}, results: map[string]*HostResult{}, stagingDone: map[string]map[string]bool{}, repoChecked: map[string]error{}}
	for _, h := range opts.Hosts {
		r.results[h.Name] = &HostResult{Host: h.Name}
	}
	return r
}

// DefaultInstallers returns the installers patrol ships for h: rpm and yum
// on Linux hosts, wusa and DISM on Windows hosts, and opatch on hosts with
// the variable oracle_home.
func DefaultInstallers(h *inventory.Host) map[Method]Installer {
	m := map[Method]Installer{}
	if h.IsWindows() {
		m[MethodWUSA], m[MethodDISM] = Windows{}, Windows{}
	} else {
		m[MethodRPM], m[MethodYum] = RPM{}, RPM{}
	}
	if home, _ := h.Vars["oracle_home"].(string); home != "" {
		m[MethodOPatch] = OPatch{}
	}
	return m
}

// hostsToQuery returns the selected hosts and the staging hosts of their
// systems, in inventory order.
func (r *applyRun) hostsToQuery(staging map[string]*inventory.Host) []*inventory.Host {
	want := map[string]bool{}
	for _, h := range r.opts.Hosts {
		want[h.Name] = true
		if s := staging[h.System]; s != nil {
			want[s.Name] = true
		}
	}
	var out []*inventory.Host
	for _, h := range r.opts.All {
		if want[h.Name] {
			out = append(out, h)
		}
	}
	return out
}

// connectAll dials and queries hosts, opts.Forks at a time.
func (r *applyRun) connectAll(ctx context.Context, hosts []*inventory.Host) {
	slots := make(chan struct{}, r.opts.Forks)
	var wg sync.WaitGroup
	for _, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
			case <-ctx.Done():
				return
			}
			s := newHostSession(r, h)
			if s.connect(ctx) {
				s.queryAtStart(ctx)
			}
			r.mu.Lock()
			r.sessions[h.Name] = s
			r.mu.Unlock()
		}()
	}
	wg.Wait()
}

// plan computes the plans of the queried hosts.
func (r *applyRun) plan(hosts []*inventory.Host) []HostPlan {
	in := PlanInput{
		Catalog: r.opts.Catalog, Installed: map[string]*Installed{}, QueryErrors: map[string]error{},
		Calendar: r.opts.Calendar, Now: r.opts.Now(), WindowEnd: r.opts.Until,
	}
	for _, h := range hosts {
		s := r.sessions[h.Name]
		if s == nil {
			continue
		}
		in.Hosts = append(in.Hosts, h)
		if s.queryErr != nil {
			in.QueryErrors[h.Name] = s.queryErr
			continue
		}
		in.Installed[h.Name] = s.installed
	}
	return Plan(in)
}

// runPhase runs the batches of one phase. In production, a batch with a
// failure keeps the later batches from starting; their work is reported as
// left.
func (r *applyRun) runPhase(ctx context.Context, kind string, batches [][]*HostWork) {
	stopped := 0
	for i, batch := range batches {
		phase := Phase{Kind: kind, Batch: i + 1, Batches: len(batches)}
		switch {
		case ctx.Err() != nil:
			return
		case stopped > 0:
			r.leaveBatch(phase, batch, msg("not started: batch %d failed, so the run stopped before this batch", "未开始：批次 %d 失败，运行在本批次之前停止", stopped))
			continue
		case r.windowEnded():
			r.leaveBatch(phase, batch, r.windowText())
			continue
		}
		if failed := r.runBatch(ctx, phase, batch); failed && kind == PhaseProduction && !r.opts.Check {
			stopped = i + 1
			r.mu.Lock()
			r.stoppedAfter = stopped
			r.mu.Unlock()
		}
	}
}

// runBatch works on the hosts of one batch at once and reports whether any
// of them failed.
func (r *applyRun) runBatch(ctx context.Context, phase Phase, batch []*HostWork) bool {
	var failed atomic.Bool
	// In production a failure stops the batch: the other hosts finish the
	// patch they are on and start no other.
	stop := &atomic.Bool{}
	if phase.Kind == PhaseStaging {
		stop = nil
	}
	var wg sync.WaitGroup
	for _, w := range batch {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := r.sessions[w.Host.Name]
			if !s.work(ctx, phase, w, stop) {
				failed.Store(true)
			}
		}()
	}
	wg.Wait()
	return failed.Load()
}

// leaveBatch reports every patch of a batch as left.
func (r *applyRun) leaveBatch(phase Phase, batch []*HostWork, why i18n.Text) {
	for _, w := range batch {
		for _, it := range w.Items {
			r.leave(phase, w.Host.Name, it.Patch.ID, why)
		}
	}
}

func (r *applyRun) leave(phase Phase, host, patch string, why i18n.Text) {
	res := r.result(host)
	r.mu.Lock()
	res.Left = append(res.Left, patch)
	r.mu.Unlock()
	r.emit(StepEvent{Phase: phase, Host: host, Patch: patch, Step: StepLeft, Status: StatusSkipped, Message: why})
}

func (r *applyRun) windowEnded() bool {
	return !r.opts.Until.IsZero() && !r.opts.Now().Before(r.opts.Until)
}

func (r *applyRun) windowText() i18n.Text {
	at := r.opts.Until.Format("2006-01-02 15:04")
	return msg("left for the next window: the window ended at %s", "留待下一个维护窗口：本窗口已于 %s 结束", at)
}

// emit passes one step record on, filling in its time.
func (r *applyRun) emit(e StepEvent) {
	if e.Time.IsZero() {
		e.Time = r.opts.Now()
	}
	r.emitMu.Lock()
	defer r.emitMu.Unlock()
	r.opts.OnStep(e)
}

// result returns the result of a host, creating it for hosts outside the
// selection (a staging host that could not be queried).
func (r *applyRun) result(host string) *HostResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.resultLocked(host)
}

// resultLocked is result for callers that hold r.mu.
func (r *applyRun) resultLocked(host string) *HostResult {
	res := r.results[host]
	if res == nil {
		res = &HostResult{Host: host}
		r.results[host] = res
	}
	return res
}

func (r *applyRun) markStaging(host, patch string, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stagingDone[host] == nil {
		r.stagingDone[host] = map[string]bool{}
	}
	r.stagingDone[host][patch] = ok
}

func (r *applyRun) stagedOK(host, patch string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stagingDone[host][patch]
}

func (r *applyRun) summary(ctx context.Context) *ApplySummary {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &ApplySummary{Interrupted: ctx.Err() != nil, StoppedAfter: r.stoppedAfter}
	for _, h := range r.opts.All {
		if res := r.results[h.Name]; res != nil {
			s.Hosts = append(s.Hosts, res)
		}
	}
	return s
}

func (r *applyRun) closeSessions() {
	for _, s := range r.sessions {
		s.close()
	}
}
