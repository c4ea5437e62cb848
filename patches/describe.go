package patches

import (
	"fmt"
	"strings"

	"patrol/i18n"
)

// describe records, in check mode, each step the patch would go through,
// with the values a real run would use.
func (pr *patchRun) describe(it WorkItem) {
	s := pr.s
	would := func(step Step, text i18n.Text) { pr.emit(step, StatusWould, text, "", 0, 0) }

	need, err := pr.filesSize()
	needText := sizeText(need)
	if err != nil {
		needText = errorText(err).EN
	}
	backup := i18n.T("no backup check (no backup_marker)", "不检查备份（未设置 backup_marker）")
	if marker, _ := hostVarString(s.host, "backup_marker"); marker != "" {
		maxAge, _ := hostVarDuration(s.host, "backup_max_age", defaultBackupMaxAge)
		backup = msg("backup marker %s younger than %s", "备份标记文件 %s 早于 %s 以内", marker, maxAge)
	}
	services, _ := pr.services()
	servicesText := i18n.T("no services", "无服务")
	if len(services) > 0 {
		servicesText = msg("services %s running", "服务 %s 运行中", strings.Join(services, ", "))
	}
	reserveMB, _ := hostVarInt(s.host, "patch_free_reserve_mb", defaultFreeReserveMB)
	would(StepPreCheck, joinTexts([]i18n.Text{
		msg("would check that %s has room for %s of files plus a %s reserve", "将检查 %s 是否有 %s 文件空间及 %s 保留空间",
			s.patchDir(), needText, sizeText(reserveMB<<20)),
		backup, servicesText}))

	dir := s.patchFolder(pr.p)
	names := map[string]bool{}
	var remote, rollback []string
	for i, f := range pr.p.Files {
		remote = append(remote, s.ops.join(dir, uniqueBase(names, i, f.Path)))
	}
	for i, f := range pr.p.Rollback.Files {
		rollback = append(rollback, s.ops.join(dir, "rollback", uniqueBase(names, i, f.Path)))
	}
	copyText := msg("would copy %d files (%s) to %s and verify their SHA-256", "将复制 %d 个文件（%s）到 %s 并核对 SHA-256", len(remote)+len(rollback), needText, dir)
	would(StepCopy, copyText)

	if len(pr.p.StopServices) > 0 {
		would(StepStopServices, msg("would stop %s", "将停止 %s", strings.Join(pr.p.StopServices, ", ")))
	} else {
		pr.emit(StepStopServices, StatusSkipped, i18n.T("the patch stops no services", "该补丁无需停止服务"), "", 0, 0)
	}
	would(StepInstall, installText(pr, remote))
	if pr.p.Reboot {
		would(StepReboot, i18n.T("would reboot and wait for the host to come back", "将重启并等待主机恢复"))
	} else {
		would(StepReboot, i18n.T("would reboot only if the installer asks for it", "仅在安装程序要求时重启"))
	}
	if len(pr.p.StopServices) > 0 {
		would(StepStartServices, msg("would start %s", "将启动 %s", strings.Join(pr.p.StopServices, ", ")))
	} else {
		pr.emit(StepStartServices, StatusSkipped, i18n.T("no services to start", "无需启动服务"), "", 0, 0)
	}
	verify := msg("would query again for %s", "将再次查询 %s", verifyTarget(pr.p))
	if pr.p.Verify.Command != "" {
		verify = msg("would query again for %s and run %q", "将再次查询 %s 并运行 %q", verifyTarget(pr.p), pr.p.Verify.Command)
	}
	would(StepVerify, verify)
	var post []i18n.Text
	if len(services) > 0 {
		post = append(post, servicesText)
	}
	if url, _ := hostVarString(s.host, "health_url"); url != "" {
		post = append(post, msg("health_url %s returns 2xx or 3xx", "health_url %s 返回 2xx 或 3xx", url))
	}
	if len(post) == 0 {
		pr.emit(StepPostCheck, StatusSkipped, i18n.T("nothing to check: the patch has no services and the host no health_url",
			"无可检查项：补丁未列服务，主机未设置 health_url"), "", 0, 0)
	} else {
		would(StepPostCheck, i18n.T("would check "+joinTexts(post).EN, "将检查"+joinTexts(post).ZH))
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
	would(StepPatch, result)
}

// installText describes the installer command.
func installText(pr *patchRun, remote []string) i18n.Text {
	files := strings.Join(remote, " ")
	switch pr.p.Method {
	case MethodRPM:
		cmd := strings.Join(rpmArgs(pr.s.target(), append([]string{"-Uvh"}, remote...)...), " ")
		return msg("would run %s", "将运行 %s", cmd)
	case MethodYum:
		return msg("would run yum -y --disablerepo=* localinstall %s", "将运行 yum -y --disablerepo=* localinstall %s", files)
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
