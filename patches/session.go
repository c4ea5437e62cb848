package patches

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"patrol/i18n"
	"patrol/inventory"
	"patrol/transport"
)

// hostSession is one host of an apply run: its connection, its lock and what
// it has installed. Only one goroutine works on a session at a time.
type hostSession struct {
	r          *applyRun
	host       *inventory.Host
	ops        hostOps
	become     *transport.Become
	installers map[Method]Installer

	connMu sync.Mutex
	conn   transport.Connection
	lock   *hostLock

	// installed and queryErr are the result of the query when the run
	// started.
	installed *Installed
	queryErr  error
	// queryWarn is the failure of one source when others could be read.
	queryWarn error
}

func newHostSession(r *applyRun, h *inventory.Host) *hostSession {
	s := &hostSession{r: r, host: h, ops: opsFor(h), installers: r.opts.Installers(h)}
	if h.Become && !h.IsWindows() {
		s.become = &transport.Become{User: h.BecomeUser}
		if h.BecomePasswordEnv != "" {
			s.become.Password = os.Getenv(h.BecomePasswordEnv)
		}
	}
	return s
}

// connect dials the host and reports whether it is connected.
func (s *hostSession) connect(ctx context.Context) bool {
	start := time.Now()
	conn, err := s.r.opts.Dial(ctx, s.host)
	if err != nil {
		s.queryErr = err
		res := s.r.result(s.host.Name)
		status := StatusFailed
		s.r.mu.Lock()
		if transport.IsUnreachable(err) {
			res.Unreachable, status = true, StatusUnreachable
		}
		res.Error = err.Error()
		s.r.mu.Unlock()
		s.emit(StepEvent{Phase: Phase{Kind: PhasePlan}, Step: StepConnect, Status: status, Message: errorText(err), Duration: time.Since(start)})
		return false
	}
	s.setConn(conn)
	return true
}

// queryAtStart reads what the host has installed, for the plan.
func (s *hostSession) queryAtStart(ctx context.Context) {
	start := time.Now()
	installed, err := s.query(ctx)
	s.installed = installed
	if installed == nil {
		s.queryErr = err
		s.hostFailed(err)
		out, rc := errorOutput(err)
		s.emit(StepEvent{Phase: Phase{Kind: PhasePlan}, Step: StepQuery, Status: StatusFailed, Message: errorText(err), Output: out, RC: rc, Duration: time.Since(start)})
		return
	}
	text := installedSummary(installed)
	s.queryWarn = err
	if err != nil {
		text = i18n.T(text.EN+"; "+errorText(err).EN, text.ZH+"；"+errorText(err).ZH)
	}
	s.emit(StepEvent{Phase: Phase{Kind: PhasePlan}, Step: StepQuery, Status: StatusOK, Message: text, Duration: time.Since(start)})
}

// countNoun returns "1 RPM package" or "3 RPM packages".
func countNoun(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "ch") {
		return fmt.Sprintf("%d %ses", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func installedSummary(in *Installed) i18n.Text {
	var en, zh []string
	for _, src := range in.Queried {
		switch src {
		case "rpm":
			en = append(en, countNoun(len(in.Packages), "RPM package"))
			zh = append(zh, fmt.Sprintf("%d 个 RPM 软件包", len(in.Packages)))
		case "hotfix":
			en = append(en, countNoun(len(in.KBs), "Windows update"))
			zh = append(zh, fmt.Sprintf("%d 个 Windows 更新", len(in.KBs)))
		case "opatch":
			en = append(en, countNoun(len(in.OPatches), "Oracle patch"))
			zh = append(zh, fmt.Sprintf("%d 个 Oracle 补丁", len(in.OPatches)))
		}
	}
	return i18n.T("installed: "+strings.Join(en, ", "), "已安装："+strings.Join(zh, "，"))
}

// query reads what the host has installed from each of its installers. One
// source that fails leaves the others usable: the error is returned with
// what was read, and patches of the failed source count as unknown. The
// result is nil only when no source could be read.
func (s *hostSession) query(ctx context.Context) (*Installed, error) {
	merged := &Installed{}
	var errs []error
	var seen []Installer
	for _, m := range Methods {
		inst, ok := s.installers[m]
		if !ok || containsInstaller(seen, inst) {
			continue
		}
		seen = append(seen, inst)
		got, err := inst.Query(ctx, s.target())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		merged.Merge(got)
	}
	if len(merged.Queried) == 0 {
		if len(errs) == 0 {
			errs = append(errs, fmt.Errorf("host %s has no installer for any patch method", s.host.Name))
		}
		return nil, errors.Join(errs...)
	}
	return merged, errors.Join(errs...)
}

func containsInstaller(list []Installer, inst Installer) bool {
	for _, i := range list {
		if i == inst {
			return true
		}
	}
	return false
}

// work runs the host's patches in order and reports whether all went well.
// stop, in production, is shared by the hosts of the batch: a failure sets
// it, and the others then start no further patch.
func (s *hostSession) work(ctx context.Context, phase Phase, w *HostWork, stop *atomic.Bool) bool {
	ok := true
	fail := func() {
		ok = false
		if stop != nil {
			stop.Store(true)
		}
	}

	// Patches that failed on the staging host are left before the lock, so
	// that a host left with none is not locked: the Windows lock creates the
	// patch folder and writes apply.lock.
	items := make([]WorkItem, 0, len(w.Items))
	for _, it := range w.Items {
		if it.AfterStaging && !s.r.stagedOK(w.StagingHost, it.Patch.ID) {
			s.leaveForStaging(phase, it, w.StagingHost)
			continue
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		s.done(phase)
		return ok
	}
	w = &HostWork{Host: w.Host, StagingHost: w.StagingHost, Items: items}

	// The partner check only reads, so check mode runs it too.
	if !s.checkPartners(ctx, phase) {
		fail()
		s.leaveRest(phase, w.Items, msg("not started: a partner of %s is down", "未开始：%s 的双机伙伴不可用", s.host.Name))
		s.done(phase)
		return ok
	}
	if !s.acquireLock(ctx, phase) {
		fail()
		s.leaveRest(phase, w.Items, msg("not started: the apply lock of %s is not held", "未开始：未能获得 %s 的安装锁", s.host.Name))
		s.done(phase)
		return ok
	}
	defer s.releaseLock()
	return s.installItems(ctx, phase, w, stop)
}

// installItems installs the host's patches in order once the lock is held,
// and reports whether all went well. A lost lock stops it before the next
// patch. The patch being installed then finishes, because stopping an
// installer halfway can leave the host worse off.
func (s *hostSession) installItems(ctx context.Context, phase Phase, w *HostWork, stop *atomic.Bool) bool {
	ok := true
	fail := func() {
		ok = false
		if stop != nil {
			stop.Store(true)
		}
	}

	for i, it := range w.Items {
		if err := s.lock.lostErr(); err != nil {
			fail()
			s.hostFailed(err)
			s.emit(StepEvent{Phase: phase, Step: StepLock, Status: StatusFailed, Message: errorText(err)})
			s.leaveRest(phase, w.Items[i:], msg("not started: the apply lock of %s was lost", "未开始：%s 的安装锁已丢失", s.host.Name))
			s.done(phase)
			return ok
		}
		switch {
		case ctx.Err() != nil:
			return false
		case stop != nil && stop.Load():
			s.leaveRest(phase, w.Items[i:], msg("not started: another host of this batch failed", "未开始：本批次另一台主机失败"))
			s.done(phase)
			return ok
		case s.r.windowEnded():
			s.leaveRest(phase, w.Items[i:], s.r.windowText())
			s.done(phase)
			return ok
		case it.AfterStaging && !s.r.stagedOK(w.StagingHost, it.Patch.ID):
			s.leaveForStaging(phase, it, w.StagingHost)
			continue
		}

		patchOK := s.applyPatch(ctx, phase, it, w.StagingHost)
		if phase.Kind == PhaseStaging {
			s.r.markStaging(s.host.Name, it.Patch.ID, patchOK)
		}
		if ctx.Err() != nil {
			return false
		}
		if !patchOK {
			fail()
			s.leaveRest(phase, w.Items[i+1:], msg("not started: patch %s failed on this host", "未开始：补丁 %s 在本主机上失败", it.Patch.ID))
			break
		}
	}
	s.done(phase)
	return ok
}

// leaveRest reports patches as left; on a staging host they also count as
// failed there, so production hosts do not get them.
func (s *hostSession) leaveRest(phase Phase, items []WorkItem, why i18n.Text) {
	for _, it := range items {
		if phase.Kind == PhaseStaging {
			s.r.markStaging(s.host.Name, it.Patch.ID, false)
		}
		s.r.leave(phase, s.host.Name, it.Patch.ID, why)
	}
}

// leaveForStaging reports a patch as left because it did not install and
// verify on the staging host.
func (s *hostSession) leaveForStaging(phase Phase, it WorkItem, stagingHost string) {
	why := msg("not installed: patch %s did not install and verify on the staging host %s",
		"未安装：补丁 %s 未能在测试主机 %s 上安装并验证通过", it.Patch.ID, stagingHost)
	if s.r.opts.Check {
		why = msg("would not be installed: patch %s would fail on the staging host %s",
			"将不会安装：补丁 %s 在测试主机 %s 上将会失败", it.Patch.ID, stagingHost)
	}
	s.r.leave(phase, s.host.Name, it.Patch.ID, why)
}

func (s *hostSession) done(phase Phase) {
	s.emit(StepEvent{Phase: phase, Step: StepDone, Status: StatusOK, Message: i18n.T("host finished", "主机处理结束")})
}

// acquireLock takes the host's apply lock. In check mode it only records
// that it would.
func (s *hostSession) acquireLock(ctx context.Context, phase Phase) bool {
	dir := s.patchDir()
	if s.r.opts.Check {
		// NOTE: check mode does not look at whether another run holds the
		// lock, because probing a flock takes it for a moment, and a real
		// run starting at that moment would be refused.
		s.emit(StepEvent{Phase: phase, Step: StepLock, Status: StatusWould, Message: msg(
			"would take the apply lock in %s", "将获取 %s 中的安装锁", dir)})
		return true
	}
	start := time.Now()
	lock, err := s.ops.lock(ctx, s, dir, s.r.opts.Owner)
	if err != nil {
		s.hostFailed(err)
		s.emit(StepEvent{Phase: phase, Step: StepLock, Status: StatusFailed, Message: errorText(err), Duration: time.Since(start)})
		return false
	}
	s.lock = lock
	if lock.lease != nil && lock.lease.staleOwner != "" {
		s.emit(StepEvent{Phase: phase, Step: StepLock, Status: StatusOK, Message: msg(
			"took over the expired apply lock of %s (its lease ended %s, so that run stopped renewing it)",
			"已接管 %s 的过期安装锁（其租约已于 %s 到期，说明该运行已停止续租）", lock.lease.staleOwner, lock.lease.staleUntil)})
	}
	s.emit(StepEvent{Phase: phase, Step: StepLock, Status: StatusOK, Message: msg("apply lock held in %s", "已获取 %s 中的安装锁", dir), Duration: time.Since(start)})
	return true
}

func (s *hostSession) releaseLock() {
	s.lock.release()
	s.lock = nil
}

// hostFailed records a host-level failure.
func (s *hostSession) hostFailed(err error) {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.resultLocked(s.host.Name).Error = err.Error()
}

// patchDir is the folder patch files are copied to: the host variable
// patch_dir, else the operating system's default.
func (s *hostSession) patchDir() string {
	if dir, _ := s.host.Vars["patch_dir"].(string); dir != "" {
		return dir
	}
	return s.ops.defaultPatchDir()
}

// unsafeDirChars are replaced in patch ids used as folder names.
var unsafeDirChars = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// patchFolder is the folder of one patch's files under the patch folder.
func (s *hostSession) patchFolder(p *Patch) string {
	return s.ops.join(s.patchDir(), unsafeDirChars.ReplaceAllString(p.ID, "_"))
}

func (s *hostSession) target() Target {
	return Target{Host: s.host, Conn: s.currentConn(), Become: s.become, Log: func(step string, detail i18n.Text) {
		s.r.log.Debug("installer step", "host", s.host.Name, "step", step, "detail", detail.EN)
	}}
}

// run runs a command with the host's become settings.
func (s *hostSession) run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	if cmd.Become == nil {
		cmd.Become = s.become
	}
	return s.currentConn().Run(ctx, cmd)
}

func (s *hostSession) currentConn() transport.Connection {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	return s.conn
}

func (s *hostSession) setConn(c transport.Connection) {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	s.conn = c
}

// reconnect closes the connection and dials the host again; the reboot step
// uses it while the host comes back.
func (s *hostSession) reconnect(ctx context.Context) (transport.Connection, error) {
	s.connMu.Lock()
	old := s.conn
	s.conn = nil
	s.connMu.Unlock()
	if old != nil {
		old.Close()
	}
	conn, err := s.r.opts.Dial(ctx, s.host)
	if err != nil {
		return nil, err
	}
	s.setConn(conn)
	return conn, nil
}

func (s *hostSession) emit(e StepEvent) {
	e.Host = s.host.Name
	s.r.emit(e)
}

func (s *hostSession) close() {
	s.lock.release()
	if c := s.currentConn(); c != nil {
		c.Close()
	}
}
