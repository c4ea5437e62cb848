package patches

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"patrol/i18n"
)

// describe records, in check mode, each step the patch would go through,
// with the values a real run would use. It also runs what can be checked now
// without changing the host: the pre-checks (read-only probes), the
// repository copies of the patch files, and the host variables that later
// steps read. It returns false, after failing the patch, where the real run
// would fail at one of those.
func (pr *patchRun) describe(ctx context.Context, it WorkItem) bool {
	s := pr.s
	would := func(step Step, text i18n.Text) { pr.emit(step, StatusWould, text, "", 0, 0) }
	failAt := func(step Step, err error) bool {
		out, rc := errorOutput(err)
		pr.emit(step, StatusFailed, errorText(err), out, rc, 0)
		title := step.Title()
		return pr.fail(i18n.T(
			fmt.Sprintf("patch %s would fail on %s: the real run stops at step %s", pr.p.ID, s.host.Name, title.EN),
			fmt.Sprintf("补丁 %s 在 %s 上将会失败：正式运行会停在“%s”步骤", pr.p.ID, s.host.Name, title.ZH)))
	}

	// The real pre-check runs right before the copy; running it now shows
	// what would stop the run if nothing changes until then.
	if _, _, _, err := pr.preCheck(ctx); err != nil {
		return failAt(StepPreCheck, err)
	}
	pre := pr.preCheckText()
	would(StepPreCheck, i18n.T(pre.EN+"; these checks pass now", pre.ZH+"；当前均满足"))

	for _, f := range slices.Concat(pr.p.Files, pr.p.Rollback.Files) {
		if err := s.r.checkRepositoryFile(f); err != nil {
			return failAt(StepCopy, err)
		}
	}
	need, _ := pr.filesSize()
	dir := s.patchFolder(pr.p)
	names := map[string]bool{}
	var remote []string
	for i, f := range pr.p.Files {
		remote = append(remote, s.ops.join(dir, uniqueBase(names, i, f.Path)))
	}
	count := len(pr.p.Files) + len(pr.p.Rollback.Files)
	would(StepCopy, msg("would copy %d files (%s) to %s and verify their SHA-256", "将复制 %d 个文件（%s）到 %s 并核对 SHA-256", count, sizeText(need), dir))

	if len(pr.p.StopServices) > 0 {
		would(StepStopServices, msg("would stop %s", "将停止 %s", strings.Join(pr.p.StopServices, ", ")))
	} else {
		pr.emit(StepStopServices, StatusSkipped, i18n.T("the patch stops no services", "该补丁无需停止服务"), "", 0, 0)
	}
	would(StepInstall, installText(pr, remote))
	if pr.p.Reboot {
		if spec := rebootSpec(); spec != nil {
			if _, err := rebootArgs(pr, spec); err != nil {
				return failAt(StepReboot, err)
			}
		}
		would(StepReboot, i18n.T("would reboot and wait for the host to come back", "将重启并等待主机恢复"))
	} else {
		would(StepReboot, i18n.T("would reboot only if the installer asks for it", "将仅在安装程序要求时重启"))
	}
	if len(pr.p.StopServices) > 0 {
		would(StepStartServices, msg("would start %s", "将启动 %s", strings.Join(pr.p.StopServices, ", ")))
	} else {
		pr.emit(StepStartServices, StatusSkipped, i18n.T("no services to start", "无需启动服务"), "", 0, 0)
	}
	verify := msg("would query the installed list again for %s", "将再次查询安装列表，核对 %s", verifyTarget(pr.p))
	if pr.p.Verify.Command != "" {
		verify = msg("would query the installed list again for %s and run %q", "将再次查询安装列表，核对 %s，并运行 %q", verifyTarget(pr.p), pr.p.Verify.Command)
	}
	would(StepVerify, verify)

	post, err := pr.postCheckText()
	switch {
	case err != nil:
		return failAt(StepPostCheck, err)
	case post.IsZero():
		pr.emit(StepPostCheck, StatusSkipped, i18n.T("nothing to check: the patch has no services and the host no health_url",
			"无可检查项：补丁未列服务，主机未设置 health_url"), "", 0, 0)
	default:
		would(StepPostCheck, post)
	}

	due := it.Plan.Deadline.Format("2006-01-02 15:04")
	sev := pr.p.Severity.Text()
	result := i18n.T(fmt.Sprintf("would install patch %s (%s, due %s)", pr.p.ID, sev.EN, due),
		fmt.Sprintf("将安装补丁 %s（%s，期限 %s）", pr.p.ID, sev.ZH, due))
	if it.AfterStaging {
		result = i18n.T(result.EN+fmt.Sprintf(", only if it installs and verifies on the staging host %s first", pr.stagingHost),
			result.ZH+fmt.Sprintf("，前提是它先在测试主机 %s 上安装并验证通过", pr.stagingHost))
	}
	if pr.p.Rollback.None {
		result = i18n.T(result.EN+"; no rollback if it fails (rollback: none)", result.ZH+"；失败时不回退（rollback: none）")
	}
	s.r.mu.Lock()
	res := s.r.resultLocked(s.host.Name)
	res.WouldInstall = append(res.WouldInstall, pr.p.ID)
	s.r.mu.Unlock()
	would(StepPatch, result)
	return true
}

// preCheckText describes what the pre-check checks. It reads host variables
// that preCheck has already found valid.
func (pr *patchRun) preCheckText() i18n.Text {
	s := pr.s
	need, _ := pr.filesSize()
	reserveMB, _ := hostVarInt(s.host, "patch_free_reserve_mb", defaultFreeReserveMB)
	parts := []i18n.Text{msg("would check that %s has room for %s of files plus a %s reserve", "将检查 %s 是否有 %s 文件空间及 %s 保留空间",
		s.patchDir(), sizeText(need), sizeText(reserveMB<<20))}
	if marker, _ := hostVarString(s.host, "backup_marker"); marker != "" {
		maxAge, _ := hostVarDuration(s.host, "backup_max_age", defaultBackupMaxAge)
		parts = append(parts, msg("would check that the backup marker %s was modified within the last %s", "将检查备份标记文件 %s 是否在最近 %s 内更新过", marker, maxAge))
	} else {
		parts = append(parts, i18n.T("would not check the backup: the host has no backup_marker variable",
			"不会检查备份：主机未设置 backup_marker 变量"))
	}
	services, _ := pr.services()
	if len(services) > 0 {
		parts = append(parts, servicesCheckText(services))
	} else {
		parts = append(parts, i18n.T("no services to check (the patch has no stop_services, the host no patch_services)",
			"无需检查服务（补丁未设 stop_services，主机未设 patch_services）"))
	}
	return joinTexts(parts)
}

// postCheckText describes what the post-check checks, or returns a zero
// Text when there is nothing to check. The error is an invalid host
// variable, which would fail the real post-check.
func (pr *patchRun) postCheckText() (i18n.Text, error) {
	services, err := pr.services()
	if err != nil {
		return i18n.Text{}, err
	}
	url, err := hostVarString(pr.s.host, "health_url")
	if err != nil {
		return i18n.Text{}, err
	}
	if _, err := hostVarDuration(pr.s.host, "health_wait", defaultHealthWait); err != nil {
		return i18n.Text{}, err
	}
	var parts []i18n.Text
	if len(services) > 0 {
		parts = append(parts, servicesCheckText(services))
	}
	if url != "" {
		parts = append(parts, msg("would check that health_url %s returns 2xx or 3xx", "将检查 health_url %s 是否返回 2xx 或 3xx", url))
	}
	if len(parts) == 0 {
		return i18n.Text{}, nil
	}
	return joinTexts(parts), nil
}

// servicesCheckText phrases the services check as what would be checked,
// not as a statement of the services' state.
func servicesCheckText(names []string) i18n.Text {
	if len(names) == 1 {
		return msg("would check that service %s is running", "将检查服务 %s 是否在运行", names[0])
	}
	return i18n.T(fmt.Sprintf("would check that services %s are running", strings.Join(names, ", ")),
		fmt.Sprintf("将检查服务 %s 是否在运行", strings.Join(names, "、")))
}

// checkRepositoryFile returns why the copy step of a real run would reject
// a patch file: it is missing from the repository, or its SHA-256 differs
// from the catalog's. Each file is read once per run.
func (r *applyRun) checkRepositoryFile(f File) error {
	r.repoMu.Lock()
	defer r.repoMu.Unlock()
	local := r.opts.Catalog.FilePath(f)
	if err, done := r.repoChecked[local]; done {
		return err
	}
	sum, err := fileSHA256(local)
	switch {
	case err != nil:
		err = &StepError{Text: msg("patch file %s is missing from the repository (%v); import the patch again with patrol patch import",
			"仓库中缺少补丁文件 %s（%v）；请用 patrol patch import 重新导入", local, err)}
	case !strings.EqualFold(sum, f.SHA256):
		err = &StepError{Text: msg("patch file %s has SHA-256 %s, but the catalog lists %s; the repository copy changed since import, so import the patch again",
			"补丁文件 %s 的 SHA-256 为 %s，但补丁台账中记录的是 %s；仓库中的文件在导入后被改动，请重新导入补丁", local, sum, f.SHA256)}
	}
	r.repoChecked[local] = err
	return err
}

// installText describes the installer command.
func installText(pr *patchRun, remote []string) i18n.Text {
	files := strings.Join(remote, " ")
	switch pr.p.Method {
	case MethodRPM:
		cmd := strings.Join(rpmArgs(pr.s.target(), append([]string{"-Uvh"}, remote...)...), " ")
		return msg("would run %s", "将运行 %s", cmd)
	case MethodYum:
		cmd := strings.Join(yumInstallArgv(remote), " ")
		return msg("would run %s", "将运行 %s", cmd)
	case MethodWUSA:
		return msg("would run wusa.exe %s /quiet /norestart as SYSTEM", "将以 SYSTEM 身份运行 wusa.exe %s /quiet /norestart", files)
	case MethodDISM:
		return msg("would run dism.exe /Online /Add-Package /PackagePath:%s /Quiet /NoRestart as SYSTEM", "将以 SYSTEM 身份运行 dism.exe /Online /Add-Package /PackagePath:%s /Quiet /NoRestart", files)
	case MethodOPatch:
		return msg("would stop the listener and database, run opatch apply from %s, start them and run catbundle.sql and utlrp.sql",
			"将停止监听与数据库，用 %s 运行 opatch apply，再启动它们并运行 catbundle.sql 和 utlrp.sql", files)
	}
	return msg("would install %s", "将安装 %s", files)
}
