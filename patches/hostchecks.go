package patches

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"patrol/i18n"
	"patrol/inventory"
	"patrol/transport"
)

// Defaults of the host variables the pre- and post-checks read.
const (
	// defaultBackupMaxAge allows one daily backup plus two hours for it to
	// run late.
	defaultBackupMaxAge = 26 * time.Hour
	// defaultFreeReserveMB is the free space, in MiB, that must remain after
	// the patch files are copied, for the installer to unpack them.
	defaultFreeReserveMB = 100
	// defaultHealthWait is how long the post-check retries health_url while
	// the application starts again.
	defaultHealthWait = time.Minute
	healthRetryDelay  = 3 * time.Second
)

// preCheck checks, before anything changes, that the patch folder's file
// system has room for the files, that a recent backup exists, and that the
// patch's services run.
func (pr *patchRun) preCheck(ctx context.Context) (StepStatus, i18n.Text, string, error) {
	s := pr.s
	var parts []i18n.Text

	need, err := pr.filesSize()
	if err != nil {
		return "", i18n.Text{}, "", err
	}
	reserveMB, err := hostVarInt(s.host, "patch_free_reserve_mb", defaultFreeReserveMB)
	if err != nil {
		return "", i18n.Text{}, "", err
	}
	reserve := reserveMB << 20
	free, err := s.ops.freeBytes(ctx, s, s.patchDir())
	if err != nil {
		return "", i18n.Text{}, "", err
	}
	if free < need+reserve {
		return "", i18n.Text{}, "", &StepError{Text: msg(
			"only %s free for %s on %s, but the patch files need %s plus a reserve of %s; free some space, or set patch_dir to a larger file system",
			"%[3]s 上 %[2]s 仅剩 %[1]s 可用，而补丁文件需要 %[4]s，另需保留 %[5]s；请清理空间，或把 patch_dir 设到更大的文件系统",
			sizeText(free), s.patchDir(), s.host.Name, sizeText(need), sizeText(reserve))}
	}
	parts = append(parts, msg("%s free in %s (needs %s + %s reserve)", "%[2]s 可用 %[1]s（需要 %[3]s + 保留 %[4]s）", sizeText(free), s.patchDir(), sizeText(need), sizeText(reserve)))

	backup, err := pr.checkBackup(ctx)
	if err != nil {
		return "", i18n.Text{}, "", err
	}
	parts = append(parts, backup)

	services, err := pr.checkServices(ctx, "before the patch", "打补丁前")
	if err != nil {
		return "", i18n.Text{}, "", err
	}
	if !services.IsZero() {
		parts = append(parts, services)
	}
	return StatusOK, joinTexts(parts), "", nil
}

// filesSize adds up the sizes of the patch and rollback files, from the
// catalog or, where it has none, from the repository.
func (pr *patchRun) filesSize() (int64, error) {
	var total int64
	for _, f := range slices.Concat(pr.p.Files, pr.p.Rollback.Files) {
		if f.Size > 0 {
			total += f.Size
			continue
		}
		info, err := statRepoFile(pr.s.r.opts.Catalog, f)
		if err != nil {
			return 0, err
		}
		total += info
	}
	return total, nil
}

// checkBackup requires the file named by the host variable backup_marker to
// be younger than backup_max_age. Hosts without backup_marker are not
// checked, which is logged and shown.
func (pr *patchRun) checkBackup(ctx context.Context) (i18n.Text, error) {
	s := pr.s
	marker, err := hostVarString(s.host, "backup_marker")
	if err != nil {
		return i18n.Text{}, err
	}
	if marker == "" {
		// The pre_check step's message shows this notice. The log repeats
		// it only at debug level (-v).
		s.r.log.Debug("backup not checked before patching: the host has no backup_marker variable", "host", s.host.Name, "patch", pr.p.ID)
		return i18n.T("backup not checked: set the host variable backup_marker to the file your backup job touches",
			"未检查备份：请把主机变量 backup_marker 设为备份任务更新的文件"), nil
	}
	maxAge, err := hostVarDuration(s.host, "backup_max_age", defaultBackupMaxAge)
	if err != nil {
		return i18n.Text{}, err
	}
	age, err := s.ops.fileAge(ctx, s, marker)
	if err != nil {
		return i18n.Text{}, &StepError{Output: errorOutputText(err), Text: msg(
			"cannot read the backup marker %s on %s: %s; check that the backup ran and backup_marker names its marker file",
			"无法读取 %[2]s 上的备份标记文件 %[1]s：%[3]s；请确认备份已执行，且 backup_marker 指向其标记文件", marker, s.host.Name, errorText(err).EN)}
	}
	if age > maxAge {
		return i18n.Text{}, &StepError{Text: msg(
			"the last backup is %s old (marker %s), older than backup_max_age %s; run and verify a backup before patching",
			"最近一次备份已有 %[1]s（标记文件 %[2]s），超过 backup_max_age %[3]s；请先完成并核实备份再打补丁", roundAge(age), marker, maxAge)}
	}
	return msg("backup marker %s is %s old (max %s)", "备份标记文件 %s 距今 %s（上限 %s）", marker, roundAge(age), maxAge), nil
}

func roundAge(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	return d.Round(time.Minute)
}

func errorOutputText(err error) string {
	out, _ := errorOutput(err)
	return out
}

// services lists the patch's stop_services and the host variable
// patch_services, without repeats.
func (pr *patchRun) services() ([]string, error) {
	extra, err := hostVarStrings(pr.s.host, "patch_services")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, name := range slices.Concat(pr.p.StopServices, extra) {
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out, nil
}

// checkServices requires every service of the patch to run. when names the
// moment for messages.
func (pr *patchRun) checkServices(ctx context.Context, whenEN, whenZH string) (i18n.Text, error) {
	names, err := pr.services()
	if err != nil || len(names) == 0 {
		return i18n.Text{}, err
	}
	states, err := pr.s.ops.serviceStates(ctx, pr.s, names)
	if err != nil {
		return i18n.Text{}, &StepError{Output: errorOutputText(err), Text: msg(
			"cannot read the state of services %[1]s on %[2]s %[3]s: %[5]s",
			"%[4]s无法读取 %[2]s 上服务 %[1]s 的状态：%[5]s", strings.Join(names, ", "), pr.s.host.Name, whenEN, whenZH, errorText(err).EN)}
	}
	var missing, down []string
	for _, st := range states {
		switch {
		case st.State == "not-found" || st.State == "NotFound":
			missing = append(missing, st.Name)
		case !st.Running:
			down = append(down, st.Name+" ("+st.State+")")
		}
	}
	var problems []i18n.Text
	if len(missing) > 0 {
		problems = append(problems, msg(
			"services not found on %[1]s %[2]s: %[4]s; correct the name in the catalog's stop_services or in the host variable patch_services",
			"%[3]s %[1]s 上找不到服务：%[4]s；请改正补丁台账 stop_services 或主机变量 patch_services 中的服务名", pr.s.host.Name, whenEN, whenZH, strings.Join(missing, ", ")))
	}
	if len(down) > 0 {
		problems = append(problems, msg(
			"services not running on %[1]s %[2]s: %[4]s",
			"%[3]s %[1]s 上的服务未运行：%[4]s", pr.s.host.Name, whenEN, whenZH, strings.Join(down, ", ")))
	}
	if len(problems) > 0 {
		return i18n.Text{}, &StepError{Text: joinTexts(problems)}
	}
	return msg("services running: %s", "服务运行中：%s", strings.Join(names, ", ")), nil
}

// postCheck checks after the install that the patch's services run and that
// the host variable health_url responds with a 2xx or 3xx status.
func (pr *patchRun) postCheck(ctx context.Context) (StepStatus, i18n.Text, string, error) {
	var parts []i18n.Text
	services, err := pr.checkServices(ctx, "after the patch", "打补丁后")
	if err != nil {
		return "", i18n.Text{}, "", err
	}
	if !services.IsZero() {
		parts = append(parts, services)
	}
	health, err := checkHealth(ctx, pr.s, true)
	if err != nil {
		return "", i18n.Text{}, "", err
	}
	if !health.IsZero() {
		parts = append(parts, health)
	}
	if len(parts) == 0 {
		return StatusSkipped, i18n.T("nothing to check: the patch has no services and the host no health_url",
			"无可检查项：补丁未列服务，主机未设置 health_url"), "", nil
	}
	return StatusOK, joinTexts(parts), "", nil
}

// checkHealth requests the host variable health_url on the host itself, so
// that an application that listens only on the host's loopback can be
// checked too (check.http, by contrast, requests from the patrol machine).
// With wait it retries for health_wait while the application starts.
func checkHealth(ctx context.Context, s *hostSession, wait bool) (i18n.Text, error) {
	url, err := hostVarString(s.host, "health_url")
	if err != nil || url == "" {
		return i18n.Text{}, err
	}
	limit := time.Duration(0)
	if wait {
		if limit, err = hostVarDuration(s.host, "health_wait", defaultHealthWait); err != nil {
			return i18n.Text{}, err
		}
	}
	deadline := time.Now().Add(limit)
	for {
		code, detail, err := s.ops.httpStatus(ctx, s, url)
		if err != nil {
			return i18n.Text{}, err
		}
		if code >= 200 && code < 400 {
			return msg("%s returned %d", "%s 返回 %d", url, code), nil
		}
		if !time.Now().Add(healthRetryDelay).Before(deadline) {
			if code == 0 {
				return i18n.Text{}, &StepError{Text: msg("health_url %s gave no response on %s: %s",
					"%[2]s 上的 health_url %[1]s 无响应：%[3]s", url, s.host.Name, detail)}
			}
			return i18n.Text{}, &StepError{Text: msg("health_url %s returned status %d on %s, expected 2xx or 3xx",
				"%[3]s 上的 health_url %[1]s 返回 %[2]d，应为 2xx 或 3xx", url, code, s.host.Name)}
		}
		select {
		case <-ctx.Done():
			return i18n.Text{}, ctx.Err()
		case <-time.After(healthRetryDelay):
		}
	}
}

// checkPartners checks, before a host of a pair is touched, that every
// other host of its pair responds and passes its health_url, because patching
// one half of a hot-standby pair while the other is down takes the service
// down. Partners outside --limit are connected to for the check only.
func (s *hostSession) checkPartners(ctx context.Context, phase Phase) bool {
	if s.host.Pair == "" {
		return true
	}
	start := time.Now()
	var names []string
	for _, other := range s.r.opts.All {
		if other.Pair != s.host.Pair || other.Name == s.host.Name {
			continue
		}
		names = append(names, other.Name)
		if err := s.r.partnerUp(ctx, other); err != nil {
			text := msg("partner %s of pair %s is not up (%s): patching %s now could take the whole pair down; bring %s back first",
				"双机组 %[2]s 的伙伴主机 %[1]s 不可用（%[3]s）：此时给 %[4]s 打补丁可能使整个双机组停止服务；请先恢复 %[1]s",
				other.Name, s.host.Pair, errorText(err).EN, s.host.Name)
			s.hostFailed(err)
			s.emit(StepEvent{Phase: phase, Step: StepPartner, Status: StatusFailed, Message: text, Duration: time.Since(start)})
			return false
		}
	}
	text := msg("pair %s: %s up", "双机组 %s：%s 可用", s.host.Pair, strings.Join(names, ", "))
	if s.r.opts.Check {
		text = msg("pair %s: %s up now; the real run checks again before it patches %s", "双机组 %s：%s 当前可用；正式运行在给 %s 打补丁前会再次检查",
			s.host.Pair, strings.Join(names, ", "), s.host.Name)
	}
	s.emit(StepEvent{Phase: phase, Step: StepPartner, Status: StatusOK, Message: text, Duration: time.Since(start)})
	return true
}

// partnerUp runs a trivial command on h, and its health_url check once.
func (r *applyRun) partnerUp(ctx context.Context, h *inventory.Host) error {
	r.mu.Lock()
	s := r.sessions[h.Name]
	r.mu.Unlock()
	if s == nil || s.currentConn() == nil {
		s = newHostSession(r, h)
		conn, err := r.opts.Dial(ctx, h)
		if err != nil {
			return err
		}
		s.setConn(conn)
		defer conn.Close()
	}
	cmd := transport.Command{Argv: []string{"true"}, Timeout: 30 * time.Second, Probe: true}
	if h.IsWindows() {
		cmd = transport.Command{Script: "exit 0", Timeout: 30 * time.Second}
	}
	res, err := s.currentConn().Run(ctx, cmd)
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("a test command exited with %d", res.ExitCode)
	}
	_, err = checkHealth(ctx, s, false)
	return err
}

func joinTexts(parts []i18n.Text) i18n.Text {
	en := make([]string, len(parts))
	zh := make([]string, len(parts))
	for i, p := range parts {
		en[i], zh[i] = p.EN, p.ZH
	}
	return i18n.T(strings.Join(en, "; "), strings.Join(zh, "；"))
}

// hostVarString returns a string host variable; a missing one is "".
func hostVarString(h *inventory.Host, name string) (string, error) {
	v, ok := h.Vars[name]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", hostVarError(h, name, v, "a string", "字符串")
	}
	return strings.TrimSpace(s), nil
}

// hostVarStrings returns a host variable that is a list of strings or one
// string.
func hostVarStrings(h *inventory.Host, name string) ([]string, error) {
	switch v := h.Vars[name].(type) {
	case nil:
		return nil, nil
	case string:
		return []string{v}, nil
	case []string:
		return v, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, item := range v {
			s, ok := item.(string)
			if !ok {
				return nil, hostVarError(h, name, v, "a list of names", "名称列表")
			}
			out = append(out, s)
		}
		return out, nil
	default:
		return nil, hostVarError(h, name, v, "a list of names", "名称列表")
	}
}

// hostVarDuration returns a host variable written as a Go duration (26h,
// 90m) or a number of seconds.
func hostVarDuration(h *inventory.Host, name string, def time.Duration) (time.Duration, error) {
	switch v := h.Vars[name].(type) {
	case nil:
		return def, nil
	case int:
		return time.Duration(v) * time.Second, nil
	case float64:
		return time.Duration(v * float64(time.Second)), nil
	case string:
		if d, err := time.ParseDuration(strings.TrimSpace(v)); err == nil && d >= 0 {
			return d, nil
		}
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
			return time.Duration(n) * time.Second, nil
		}
		return 0, hostVarError(h, name, v, "a duration such as 26h or 90m", "时长（如 26h 或 90m）")
	default:
		return 0, hostVarError(h, name, v, "a duration such as 26h or 90m", "时长（如 26h 或 90m）")
	}
}

// hostVarInt returns a whole-number host variable.
func hostVarInt(h *inventory.Host, name string, def int64) (int64, error) {
	switch v := h.Vars[name].(type) {
	case nil:
		return def, nil
	case int:
		return int64(v), nil
	case int64:
		return v, nil
	case float64:
		if v == float64(int64(v)) {
			return int64(v), nil
		}
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, hostVarError(h, name, h.Vars[name], "a whole number", "整数")
}

func hostVarError(h *inventory.Host, name string, v any, wantEN, wantZH string) error {
	where := h.Name
	if h.Source != "" {
		where += " (" + h.Source + ")"
	}
	return &StepError{Text: i18n.T(
		fmt.Sprintf("host %s: variable %s is %v, but must be %s", where, name, v, wantEN),
		fmt.Sprintf("主机 %s：变量 %s 的值为 %v，应为%s", where, name, v, wantZH))}
}
