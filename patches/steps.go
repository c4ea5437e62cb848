package patches

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"patrol/i18n"
	"patrol/transport"
)

// patchRun is one patch on one host: the steps of PatchSteps, and a rollback
// when the install or a check after it fails.
type patchRun struct {
	s       *hostSession
	phase   Phase
	p       *Patch
	inst    Installer
	started time.Time
	// stagingHost is the staging host of a production host's system.
	stagingHost string
	// before is the host's installed list from before the install, which
	// the rollback restores.
	before *Installed
	// stopped are the services this patch stopped and has not yet started.
	stopped []string
	// unchecked marks a patch that an earlier run installed on the host
	// without passing its checks (StateUnchecked).
	unchecked bool
	files     copiedFiles
}

// copiedFiles are the paths on the host of a patch's files.
type copiedFiles struct {
	install  []string
	rollback []string
}

// applyPatch installs one patch and reports whether it is now installed and
// verified. An installed patch is skipped, which is what makes a second run
// after an interrupted one safe.
func (s *hostSession) applyPatch(ctx context.Context, phase Phase, it WorkItem, stagingHost string) bool {
	pr := &patchRun{s: s, phase: phase, p: it.Patch, inst: s.installers[it.Patch.Method], started: time.Now(), stagingHost: stagingHost,
		unchecked: it.Plan.State == StateUnchecked}
	if pr.inst == nil {
		pr.emit(StepQuery, StatusFailed, msg("host %s has no installer for method %s", "主机 %s 没有方法 %s 的安装程序", s.host.Name, pr.p.Method), "", 0, 0)
		return pr.fail(msg("patch %s cannot be installed on %s", "补丁 %s 无法安装到 %s", pr.p.ID, s.host.Name))
	}

	already, err := pr.queryBefore(ctx)
	switch {
	case err != nil:
		return pr.fail(errorText(err))
	case already && pr.unchecked:
		return pr.finishUnchecked(ctx)
	case already:
		pr.emit(StepPatch, StatusOK, msg("patch %s is already installed", "补丁 %s 已安装", pr.p.ID), "", 0, 0)
		return true
	case s.r.opts.Check:
		return pr.describe(ctx, it)
	}

	if !pr.run(ctx, StepPreCheck, pr.preCheck) || !pr.run(ctx, StepCopy, pr.copyFiles) {
		return pr.fail(msg("patch %s was not installed on %s; nothing was changed", "补丁 %s 未安装到 %s；主机未被改动", pr.p.ID, s.host.Name))
	}
	if !pr.run(ctx, StepStopServices, pr.stopServices) {
		pr.restartServices(ctx)
		return pr.fail(msg("patch %s was not installed on %s", "补丁 %s 未安装到 %s", pr.p.ID, s.host.Name))
	}

	var outcome Outcome
	installed := pr.run(ctx, StepInstall, func(ctx context.Context) (StepStatus, i18n.Text, string, error) {
		var status StepStatus
		var text i18n.Text
		status, text, outcome, err = pr.install(ctx)
		return status, text, outcome.Output, err
	})
	if !installed {
		return pr.undo(ctx)
	}

	if pr.p.Reboot || outcome.RebootRequired {
		if !pr.run(ctx, StepReboot, pr.reboot) {
			// The host's state is unknown while it does not respond, so
			// nothing is rolled back.
			return pr.fail(msg("patch %s: %s did not come back from its reboot; look at the host before anything else", "补丁 %s：%s 重启后未恢复；请先检查该主机", pr.p.ID, s.host.Name))
		}
	} else {
		pr.emit(StepReboot, StatusSkipped, i18n.T("no reboot needed", "无需重启"), "", 0, 0)
	}

	if !pr.run(ctx, StepStartServices, pr.startServices) || !pr.run(ctx, StepVerify, pr.verify) || !pr.run(ctx, StepPostCheck, pr.postCheck) {
		return pr.undo(ctx)
	}

	note := pr.cleanup(ctx)
	pr.s.r.mu.Lock()
	res := pr.s.r.resultLocked(s.host.Name)
	res.Installed = append(res.Installed, pr.p.ID)
	pr.s.r.mu.Unlock()
	text := msg("patch %s installed and verified in %s", "补丁 %s 已安装并验证，用时 %s", pr.p.ID, time.Since(pr.started).Round(time.Second))
	if !note.IsZero() {
		text = joinTexts([]i18n.Text{text, note})
	}
	pr.emit(StepPatch, StatusChanged, text, "", 0, time.Since(pr.started))
	return true
}

// finishUnchecked completes a patch that an earlier run installed without
// passing its checks, because it was interrupted or the checks failed and
// the patch was not rolled back. It starts the patch's services, which that run
// may have left stopped (starting a running service changes nothing), then
// verifies and post-checks the patch. This run did not record the host's
// state from before the install, so a patch that fails these checks is not
// rolled back but left for a person, and later hosts do not get it.
func (pr *patchRun) finishUnchecked(ctx context.Context) bool {
	if pr.s.r.opts.Check {
		pr.emit(StepVerify, StatusWould, msg(
			"would start the services %s and verify and post-check patch %s again: an earlier run installed it without passing its checks",
			"将启动服务 %s，并重新验证和后检补丁 %s：之前的运行已安装它，但未通过检查", serviceList(pr.p.StopServices), pr.p.ID), "", 0, 0)
		return true
	}

	pr.stopped = uniqueServices(pr.p.StopServices)
	if !pr.run(ctx, StepStartServices, pr.startServices) || !pr.run(ctx, StepVerify, pr.verify) || !pr.run(ctx, StepPostCheck, pr.postCheck) {
		pr.restartServices(ctx)
		return pr.fail(msg(
			"patch %s is on %s, installed by an earlier run, and failed its checks; this run did not install it and has no record of the host before it, so it was not rolled back: roll it back by hand as the catalog describes, or fix what the checks found, then run again",
			"补丁 %s 已由之前的运行安装到 %s，但检查未通过；本次运行未安装它，也没有安装前的主机状态，因此未回退：请按补丁台账的说明手工回退，或修复检查发现的问题后再运行", pr.p.ID, pr.s.host.Name))
	}

	pr.s.r.mu.Lock()
	res := pr.s.r.resultLocked(pr.s.host.Name)
	res.Installed = append(res.Installed, pr.p.ID)
	pr.s.r.mu.Unlock()
	pr.emit(StepPatch, StatusOK, msg("patch %s, installed by an earlier run, is now verified", "补丁 %s 由之前的运行安装，现已验证", pr.p.ID), "", 0, time.Since(pr.started))
	return true
}

// serviceList names services for a message, or "-" for none.
func serviceList(names []string) string {
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(names, ", ")
}

// uniqueServices returns names without repeats, in their order.
func uniqueServices(names []string) []string {
	var out []string
	for _, n := range names {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// stepFunc does one step and returns its status and message; an error fails
// the step.
type stepFunc func(ctx context.Context) (StepStatus, i18n.Text, string, error)

// run runs one step, records it and reports whether it succeeded.
func (pr *patchRun) run(ctx context.Context, step Step, fn stepFunc) bool {
	if err := ctx.Err(); err != nil {
		pr.emit(step, StatusFailed, i18n.T("interrupted before this step", "在此步骤之前被中断"), "", 0, 0)
		return false
	}
	start := time.Now()
	status, text, output, err := fn(ctx)
	if err != nil {
		out, rc := errorOutput(err)
		if out == "" {
			out = output
		}
		text := errorText(err)
		if ctx.Err() != nil {
			text = i18n.T("interrupted: "+text.EN, "已中断："+text.ZH)
		}
		pr.emit(step, StatusFailed, text, out, rc, time.Since(start))
		return false
	}
	pr.emit(step, status, text, output, 0, time.Since(start))
	return true
}

func (pr *patchRun) emit(step Step, status StepStatus, text i18n.Text, output string, rc int, d time.Duration) {
	pr.s.emit(StepEvent{Phase: pr.phase, Patch: pr.p.ID, Step: step, Status: status, Message: text, Output: trimJournalOutput(output), RC: rc, Duration: d})
}

// fail records the patch as failed and returns false.
func (pr *patchRun) fail(text i18n.Text) bool {
	pr.s.r.mu.Lock()
	res := pr.s.r.resultLocked(pr.s.host.Name)
	res.Failed = append(res.Failed, pr.p.ID)
	pr.s.r.mu.Unlock()
	pr.emit(StepPatch, StatusFailed, text, "", 0, time.Since(pr.started))
	return false
}

// undo rolls back a patch whose install or checks failed, with the patch's
// services stopped as for the install, then starts them and fails the patch.
// An interrupted run rolls nothing back: the next run finds out from the
// query what is installed.
func (pr *patchRun) undo(ctx context.Context) bool {
	if ctx.Err() != nil {
		// The install or a check was cut off, so the state of the patch is
		// unknown: nothing is rolled back or started.
		if len(pr.stopped) > 0 {
			return pr.fail(msg("interrupted; the services %s stay stopped because the install did not finish: look at the host, then start them",
				"已中断；安装未完成，服务 %s 保持停止：请检查主机后再启动", strings.Join(pr.stopped, ", ")))
		}
		return pr.fail(i18n.T("interrupted", "已中断"))
	}
	if !pr.p.Rollback.None && pr.startedSince() {
		// The rollback replaces the files the install replaced, so the
		// services started since the install are stopped again. A failed
		// stop is recorded, and the rollback still runs.
		pr.run(ctx, StepStopServices, pr.stopServices)
	}
	if ctx.Err() != nil {
		// The host still has the patch as it was before undo began, so its
		// services start again. A later run checks the patch again.
		pr.restartServices(ctx)
		return pr.fail(msg("patch %s failed on %s, and the run was interrupted before the rollback: the patch stays installed; run again to check it again, or roll it back by hand",
			"补丁 %s 在 %s 上失败，运行在回退前被中断：补丁仍保持安装；请再次运行以重新检查，或手工回退", pr.p.ID, pr.s.host.Name))
	}
	rolledBack := pr.rollback(ctx)
	if !rolledBack && ctx.Err() != nil {
		// A rollback cut off part way leaves the patch in an unknown state,
		// so its services are not started on it.
		return pr.fail(msg("the rollback of patch %s on %s was interrupted; the services %s stay stopped: look at the host, then start them",
			"补丁 %s 在 %s 上的回退被中断；服务 %s 保持停止：请检查主机后再启动", pr.p.ID, pr.s.host.Name, serviceList(pr.stopped)))
	}
	pr.restartServices(ctx)
	if rolledBack {
		return pr.fail(msg("patch %s failed on %s and was rolled back", "补丁 %s 在 %s 上失败，已回退", pr.p.ID, pr.s.host.Name))
	}
	return pr.fail(msg("patch %s failed on %s and was not rolled back; look at the host", "补丁 %s 在 %s 上失败且未回退；请检查该主机", pr.p.ID, pr.s.host.Name))
}

// queryBefore reads what the host has installed right before the patch and
// reports whether it already has it.
func (pr *patchRun) queryBefore(ctx context.Context) (bool, error) {
	start := time.Now()
	installed, err := pr.s.query(ctx)
	if installed == nil {
		out, rc := errorOutput(err)
		pr.emit(StepQuery, StatusFailed, errorText(err), out, rc, time.Since(start))
		return false, err
	}
	pr.before = installed
	switch state, at := InstalledState(pr.p, installed); state {
	case StateInstalled:
		text := msg("already installed", "已安装")
		if !at.IsZero() {
			text = msg("already installed at %s", "已于 %s 安装", at.Format("2006-01-02 15:04"))
		}
		if pr.unchecked {
			text = joinTexts([]i18n.Text{text, i18n.T("the run that installed it did not pass its checks (it was interrupted or they failed), so this run checks it again",
				"安装它的运行未通过检查（运行中断或检查失败），由本次运行重新检查")})
		}
		pr.emit(StepQuery, StatusSkipped, text, "", 0, time.Since(start))
		return true, nil
	case StateUnknown:
		err := &StepError{Text: msg("cannot tell whether %s has patch %s: %v", "无法判断 %s 是否已安装补丁 %s：%v", pr.s.host.Name, pr.p.ID, err)}
		pr.emit(StepQuery, StatusFailed, err.Text, "", 0, time.Since(start))
		return false, err
	}
	pr.emit(StepQuery, StatusOK, msg("patch %s is missing", "补丁 %s 尚未安装", pr.p.ID), "", 0, time.Since(start))
	return false, nil
}

// copyFiles copies the patch's files and rollback files to the host's patch
// folder. transport Put verifies each file's SHA-256 on the host and resumes
// a partial copy that an interrupted run left. The checksum is then compared
// with the catalog's.
func (pr *patchRun) copyFiles(ctx context.Context) (StepStatus, i18n.Text, string, error) {
	s := pr.s
	dir := s.patchFolder(pr.p)
	if err := s.ops.makeDir(ctx, s, dir); err != nil {
		return "", i18n.Text{}, "", err
	}
	var sent, resumed int64
	var sending time.Duration
	var changed, same int
	put := func(f File, dst string) error {
		local := s.r.opts.Catalog.FilePath(f)
		if _, err := os.Stat(local); err != nil {
			return &StepError{Text: msg("patch file %s is missing from the repository (%v); import the patch again with patrol patch import",
				"仓库中缺少补丁文件 %s（%v）；请用 patrol patch import 重新导入", local, err)}
		}
		res, err := s.currentConn().Put(ctx, local, dst, transport.PutOptions{Mode: 0o600, Become: s.become})
		if err != nil {
			return fmt.Errorf("copy %s to %s:%s: %w", local, s.host.Name, dst, err)
		}
		if !strings.EqualFold(res.SHA256, f.SHA256) {
			return &StepError{Text: msg("patch file %s has SHA-256 %s, but the catalog lists %s; the repository copy changed since import, so import the patch again",
				"补丁文件 %s 的 SHA-256 为 %s，但补丁台账中记录的是 %s；仓库中的文件在导入后被改动，请重新导入补丁", local, res.SHA256, f.SHA256)}
		}
		sent += res.Bytes
		resumed += res.Resumed
		sending += res.Sending
		if res.Changed {
			changed++
		} else {
			same++
		}
		return nil
	}

	pr.files = copiedFiles{}
	names := map[string]bool{}
	for i, f := range pr.p.Files {
		dst := s.ops.join(dir, uniqueBase(names, i, f.Path))
		if err := put(f, dst); err != nil {
			return "", i18n.Text{}, "", err
		}
		pr.files.install = append(pr.files.install, dst)
	}
	if len(pr.p.Rollback.Files) > 0 {
		rdir := s.ops.join(dir, "rollback")
		if err := s.ops.makeDir(ctx, s, rdir); err != nil {
			return "", i18n.Text{}, "", err
		}
		for i, f := range pr.p.Rollback.Files {
			dst := s.ops.join(rdir, uniqueBase(names, i, f.Path))
			if err := put(f, dst); err != nil {
				return "", i18n.Text{}, "", err
			}
			pr.files.rollback = append(pr.files.rollback, dst)
		}
	}

	total := len(pr.p.Files) + len(pr.p.Rollback.Files)
	text := msg("%d files in %s, checksums verified: %d copied (%s sent%s, %s resumed), %d already there",
		"%d 个文件位于 %s，校验和已核对：复制 %d 个（发送 %s%s，续传 %s），%d 个已存在",
		total, dir, changed, sizeText(sent), rateText(sent, sending), sizeText(resumed), same)
	if changed == 0 {
		return StatusOK, text, "", nil
	}
	return StatusChanged, text, "", nil
}

// uniqueBase returns the file name of a repository path, prefixed with its
// index when another file of the patch has the same name.
func uniqueBase(seen map[string]bool, i int, p string) string {
	base := path.Base(p)
	if seen[base] {
		base = fmt.Sprintf("%d-%s", i+1, base)
	}
	seen[base] = true
	return base
}

// startedSince reports whether a service of the patch runs again after
// this run stopped it.
func (pr *patchRun) startedSince() bool {
	for _, name := range pr.p.StopServices {
		if !slices.Contains(pr.stopped, name) {
			return true
		}
	}
	return false
}

// stopServices stops the patch's services that this run has not stopped
// yet: all of them before the install, and before a rollback those started
// after the install. It tries every service and reports all failures, so
// that one service that will not stop leaves no other running.
func (pr *patchRun) stopServices(ctx context.Context) (StepStatus, i18n.Text, string, error) {
	if len(pr.p.StopServices) == 0 {
		return StatusSkipped, i18n.T("the patch stops no services", "该补丁无需停止服务"), "", nil
	}
	var stopped []string
	var errs []error
	for _, name := range uniqueServices(pr.p.StopServices) {
		if slices.Contains(pr.stopped, name) {
			continue
		}
		if err := pr.s.ops.stopService(ctx, pr.s, name); err != nil {
			errs = append(errs, err)
			continue
		}
		pr.stopped = append(pr.stopped, name)
		stopped = append(stopped, name)
	}
	// Services start again in the catalog's order.
	slices.SortStableFunc(pr.stopped, func(a, b string) int {
		return slices.Index(pr.p.StopServices, a) - slices.Index(pr.p.StopServices, b)
	})
	if len(errs) > 0 {
		return "", i18n.Text{}, "", errors.Join(errs...)
	}
	if len(stopped) == 0 {
		return StatusSkipped, msg("already stopped: %s", "已处于停止状态：%s", strings.Join(pr.stopped, ", ")), "", nil
	}
	return StatusChanged, msg("stopped %s", "已停止 %s", strings.Join(stopped, ", ")), "", nil
}

func (pr *patchRun) install(ctx context.Context) (StepStatus, i18n.Text, Outcome, error) {
	out, err := pr.inst.Install(ctx, pr.s.target(), pr.p, pr.files.install)
	if err != nil {
		if out.Output != "" {
			var ie *InstallError
			if !errors.As(err, &ie) {
				err = &StepError{Text: errorText(err), Output: out.Output, RC: out.ExitCode}
			}
		}
		return "", i18n.Text{}, out, err
	}
	if out.AlreadyInstalled {
		return StatusOK, msg("%s found the patch already installed and changed nothing", "%s 发现补丁已安装，未做改动", pr.p.Method), out, nil
	}
	text := msg("installed with %s", "已用 %s 安装", pr.p.Method)
	if out.RebootRequired {
		text = msg("installed with %s; the installer asks for a reboot", "已用 %s 安装；安装程序要求重启", pr.p.Method)
	}
	return StatusChanged, text, out, nil
}

func (pr *patchRun) startServices(ctx context.Context) (StepStatus, i18n.Text, string, error) {
	if len(pr.stopped) == 0 {
		return StatusSkipped, i18n.T("no services to start", "无需启动服务"), "", nil
	}
	started := strings.Join(pr.stopped, ", ")
	for len(pr.stopped) > 0 {
		if err := pr.s.ops.startService(ctx, pr.s, pr.stopped[0]); err != nil {
			return "", i18n.Text{}, "", err
		}
		pr.stopped = pr.stopped[1:]
	}
	return StatusChanged, msg("started %s", "已启动 %s", started), "", nil
}

// restartServices starts the services the patch stopped, after a failure.
// Failures are recorded but change nothing else: the patch already failed.
// The services start even after the run was interrupted, because the state
// they serve is settled by then. Each start still has its own timeout.
func (pr *patchRun) restartServices(ctx context.Context) {
	if len(pr.stopped) > 0 {
		pr.run(context.WithoutCancel(ctx), StepStartServices, pr.startServices)
	}
}

// verify queries the host again and runs the catalog's verify command.
func (pr *patchRun) verify(ctx context.Context) (StepStatus, i18n.Text, string, error) {
	installed, err := pr.s.query(ctx)
	state, _ := InstalledState(pr.p, installed)
	if state != StateInstalled {
		detail := ""
		if err != nil {
			detail = ": " + err.Error()
		}
		return "", i18n.Text{}, "", &StepError{Text: msg(
			"after the install, %s does not list patch %s as installed (it checks %s)%s",
			"安装后 %s 的安装列表中没有补丁 %s（核对的是 %s）%s", pr.s.host.Name, pr.p.ID, verifyTarget(pr.p), detail)}
	}
	text := msg("installed: %s", "已安装：%s", verifyTarget(pr.p))
	if pr.p.Verify.Command == "" {
		return StatusOK, text, "", nil
	}
	res, err := pr.s.run(ctx, transport.Command{Script: pr.p.Verify.Command, Timeout: 10 * time.Minute})
	if err != nil {
		return "", i18n.Text{}, "", fmt.Errorf("verify command on %s: %w", pr.s.host.Name, err)
	}
	output := trimOutput(res.Stdout, res.Stderr)
	if res.ExitCode != 0 {
		return "", i18n.Text{}, output, &StepError{RC: res.ExitCode, Output: output, Text: msg(
			"verify command %q exited with %d on %s", "验证命令 %[1]q 在 %[3]s 上以退出码 %[2]d 结束", pr.p.Verify.Command, res.ExitCode, pr.s.host.Name)}
	}
	return StatusOK, i18n.T(text.EN+"; verify command exited with 0", text.ZH+"；验证命令以退出码 0 结束"), output, nil
}

// verifyTarget names the packages, KB or Oracle patch number that show the
// patch is installed.
func verifyTarget(p *Patch) string {
	switch {
	case len(p.Verify.Packages) > 0:
		return strings.Join(p.Verify.Packages, ", ")
	case p.Verify.KB != "":
		return p.Verify.KB
	case p.Verify.OPatch != "":
		return "opatch " + p.Verify.OPatch
	}
	return p.ID
}

// rollback undoes the patch with its installer and reports whether the host
// no longer has it.
func (pr *patchRun) rollback(ctx context.Context) bool {
	if pr.p.Rollback.None {
		pr.emit(StepRollback, StatusSkipped, i18n.T(
			"not rolled back: the catalog says rollback: none for this patch; the host is left as it is for a person to look at",
			"未回退：补丁台账中该补丁为 rollback: none；主机保持现状，请人工检查"), "", 0, 0)
		return false
	}
	return pr.run(ctx, StepRollback, func(ctx context.Context) (StepStatus, i18n.Text, string, error) {
		out, err := pr.inst.Rollback(ctx, pr.s.target(), pr.p, pr.before, pr.files.rollback)
		if err != nil {
			return "", i18n.Text{}, out.Output, err
		}
		if out.RebootRequired {
			if _, text, _, err := pr.reboot(ctx); err != nil {
				return "", i18n.Text{}, out.Output, fmt.Errorf("reboot after the rollback: %w", err)
			} else {
				pr.s.r.log.Info("rebooted after rollback", "host", pr.s.host.Name, "patch", pr.p.ID, "msg", text.EN)
			}
		}
		installed, qerr := pr.s.query(ctx)
		if state, _ := InstalledState(pr.p, installed); state != StateMissing {
			return "", i18n.Text{}, out.Output, &StepError{Output: out.Output, Text: msg(
				"after the rollback, %s still lists patch %s as %s (%v)", "回退后 %s 上补丁 %s 的状态仍为 %s（%v）", pr.s.host.Name, pr.p.ID, state, qerr)}
		}
		return StatusChanged, msg("rolled back: %s no longer has patch %s", "已回退：%s 上已无补丁 %s", pr.s.host.Name, pr.p.ID), out.Output, nil
	})
}

// cleanup deletes the patch's copied files after a verified install. A
// failure only leaves files behind, so it does not fail the patch. The
// returned notice names what is left, and is zero when the files were deleted.
func (pr *patchRun) cleanup(ctx context.Context) i18n.Text {
	dir := pr.s.patchFolder(pr.p)
	if err := pr.s.ops.removeDir(ctx, pr.s, dir); err != nil {
		why := errorText(err)
		return i18n.T(fmt.Sprintf("the copied files in %s could not be deleted (%s); delete them by hand", dir, why.EN),
			fmt.Sprintf("无法删除 %s 中复制的文件（%s）；请手工删除", dir, why.ZH))
	}
	return i18n.Text{}
}

// trimJournalOutput keeps the last 2 KiB of command output for the journal
// and the terminal, where installers print their verdict.
func trimJournalOutput(s string) string {
	const limit = 2 << 10
	s = strings.TrimSpace(s)
	if len(s) <= limit {
		return s
	}
	start := len(s) - limit
	for start < len(s) && !utf8.RuneStart(s[start]) {
		start++
	}
	return "…" + s[start:]
}
