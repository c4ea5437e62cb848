package checks

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"patrol/i18n"
	"patrol/module"
)

const updatesCheck = "check.updates"

func updatesSpec() *module.Spec {
	return &module.Spec{
		Name:  updatesCheck,
		Title: i18n.T("Pending OS updates", "待安装的系统更新"),
		Doc:   i18n.T("Pending OS package updates and, where the repositories say so, security updates (yum/dnf or apt).", "待安装的操作系统软件包更新，以及软件源标明的安全更新（yum/dnf 或 apt）。"),
		Check: true,
		Args: []module.Arg{
			{Name: "warn", Type: module.Int, Default: 1, Doc: i18n.T("pending updates at which the check warns; 0 disables", "待安装更新数达到该值时判为警告；0 表示不启用")},
			{Name: "fail", Type: module.Int, Default: 0, Doc: i18n.T("pending updates at which the check fails; 0 disables", "待安装更新数达到该值时判为不合格；0 表示不启用")},
			{Name: "security_warn", Type: module.Int, Default: 1, Doc: i18n.T("pending security updates at which the check warns; 0 disables", "待安装安全更新数达到该值时判为警告；0 表示不启用")},
			{Name: "security_fail", Type: module.Int, Default: 0, Doc: i18n.T("pending security updates at which the check fails; 0 disables", "待安装安全更新数达到该值时判为不合格；0 表示不启用")},
			{Name: "cache_only", Type: module.Bool, Default: false, Doc: i18n.T("yum/dnf: read only the local metadata cache (-C), for hosts that cannot reach a repository; apt always reads its cache", "yum/dnf：只读本地元数据缓存（-C），用于无法访问软件源的主机；apt 总是读取其缓存")},
		},
		Run: runUpdates,
	}
}

// updateReport is the result of an updates probe.
type updateReport struct {
	Manager  string // yum, dnf or apt-get
	Packages []PendingPackage
	// Security is the number of security updates; SecurityKnown is false when
	// the repositories carry no errata (CentOS), so the number means nothing.
	Security      int
	SecurityKnown bool
	// SecurityNote explains an unknown security status, and SecurityEvidence
	// keeps the error output of a security query that failed.
	SecurityNote     i18n.Text
	SecurityEvidence []string
	// CacheAge is the age of the package lists read (apt); zero when unknown.
	CacheAge  time.Duration
	CacheOnly bool
}

type updatesProbe func(ctx context.Context, env *module.Env, cacheOnly bool) (updateReport, *module.Finding)

var updatesProbes = perOS[updatesProbe]{Linux: probeUpdatesLinux}

func runUpdates(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
	probe := updatesProbes.pick(env)
	if probe == nil {
		return result([]module.Finding{unsupportedOS(updatesCheck)}), nil
	}
	report, failed := probe(ctx, env, boolArg(args, "cache_only", false))
	if failed != nil {
		return result([]module.Finding{*failed}), nil
	}
	total := countThreshold(intArg(args, "warn", 1), intArg(args, "fail", 0))
	security := countThreshold(intArg(args, "security_warn", 1), intArg(args, "security_fail", 0))
	return result(evaluateUpdates(report, total, security)), nil
}

// countThreshold treats a level of 0 or less as disabled.
func countThreshold(warn, fail int) Threshold {
	w, f := float64(warn), float64(fail)
	if warn <= 0 {
		w = Off
	}
	if fail <= 0 {
		f = Off
	}
	return HigherIsWorse(w, f, "")
}

// Names of the updates detection sections.
const (
	updManager = "manager"
	updCentOS  = "centos"
)

func probeUpdatesLinux(ctx context.Context, env *module.Env, cacheOnly bool) (updateReport, *module.Finding) {
	detect := sectionScript([]probeCommand{
		{updManager, "for m in dnf yum apt-get; do if command -v $m >/dev/null 2>&1; then echo $m; exit 0; fi; done; exit 127"},
		{updCentOS, "cat /etc/centos-release"},
	})
	out, err := runScript(ctx, env, detect)
	if err != nil {
		f := probeFailedText(updatesCheck, "updates", i18n.T("package manager detection", "包管理器检测"), out, err)
		return updateReport{}, &f
	}
	sections := ParseSections(out.Stdout)
	mgr := sections[updManager]
	if mgr.ExitCode != 0 {
		f := errorFinding(updatesCheck, "updates", i18n.T(
			"no supported package manager (dnf, yum or apt-get) found on the host",
			"主机上没有受支持的包管理器（dnf、yum 或 apt-get）",
		), nil)
		return updateReport{}, &f
	}

	manager := strings.TrimSpace(mgr.Output)
	if manager == "apt-get" {
		return probeApt(ctx, env)
	}
	centos := sections[updCentOS].ExitCode == 0
	return probeYum(ctx, env, manager, centos, cacheOnly)
}

// probeYum runs `yum check-update`, whose exit status is data: 100 updates are
// listed, 0 none, anything else an error (unreachable repository, held lock),
// which must not be read as "no updates".
func probeYum(ctx context.Context, env *module.Env, manager string, centos, cacheOnly bool) (updateReport, *module.Finding) {
	flags := "-q"
	if cacheOnly {
		flags += " -C"
	}
	cmd := manager + " " + flags + " check-update"
	out, err := runScript(ctx, env, cmd)
	report, failed := yumReport(manager, out, err)
	if failed != nil {
		return report, failed
	}
	report.CacheOnly = cacheOnly

	if centos {
		report.SecurityNote = centosSecurityNote
		return report, nil
	}

	secCmd := manager + " --security check-update"
	if cacheOnly {
		secCmd = manager + " -C --security check-update"
	}
	secOut, err := runScript(ctx, env, secCmd)
	if err != nil || (secOut.ExitCode != 0 && secOut.ExitCode != 100) {
		report.SecurityNote, report.SecurityEvidence = securityQueryFailed(manager, secOut, err)
		return report, nil
	}
	report.Security, report.SecurityKnown = yumSecurityCount(secOut)
	return report, nil
}

// securityQueryFailed explains a `--security check-update` that could not run
// or exited with an error status, and returns its error as evidence. Both
// languages give the same facts and leave the host's words to the evidence.
func securityQueryFailed(manager string, out probeOutput, err error) (i18n.Text, []string) {
	cmd := manager + " --security check-update"
	if err != nil {
		cause := errorText(err)
		return i18n.T(
			fmt.Sprintf("could not run %s: %s; the number of security updates is unknown", cmd, cause.EN),
			fmt.Sprintf("无法执行 %s：%s；安全更新数量未知", cmd, cause.ZH),
		), []string{err.Error()}
	}

	output := i18n.T("error output in the evidence", "错误输出见证据")
	if len(bytes.TrimSpace(out.Stderr)) == 0 {
		output = i18n.T("no error output", "没有错误输出")
	}
	return i18n.T(
		fmt.Sprintf("%s failed with exit status %d, so the number of security updates is unknown (%s)", cmd, out.ExitCode, output.EN),
		fmt.Sprintf("%s 执行失败，退出码 %d，安全更新数量未知（%s）", cmd, out.ExitCode, output.ZH),
	), outputEvidence(out)
}

// centosSecurityNote explains why CentOS never gets a security count: its
// repositories publish no updateinfo (errata) metadata, so yum's security
// filter finds nothing even when CVE fixes are pending.
var centosSecurityNote = i18n.T(
	"security status unknown: CentOS repositories publish no errata (updateinfo), so yum cannot tell security updates apart; review the pending packages against the vendor's advisories",
	"安全更新状态未知：CentOS 软件源不提供勘误（updateinfo）元数据，yum 无法区分安全更新；请对照厂商安全公告核对待更新的软件包",
)

// yumReport reads `yum check-update` output by its exit status.
func yumReport(manager string, out probeOutput, err error) (updateReport, *module.Finding) {
	if err != nil {
		f := probeFailed(updatesCheck, "updates", manager+" check-update", out, err)
		return updateReport{}, &f
	}
	switch out.ExitCode {
	case 0:
		return updateReport{Manager: manager}, nil
	case 100:
		return updateReport{Manager: manager, Packages: ParseYumCheckUpdate(out.Stdout)}, nil
	}
	f := errorFinding(updatesCheck, "updates", i18n.T(
		fmt.Sprintf("%s check-update failed with exit status %d, so pending updates are unknown (not zero): %s",
			manager, out.ExitCode, summarize(out.Stderr)),
		fmt.Sprintf("%s check-update 执行失败，退出码 %d，待更新数量未知（并非 0），错误输出见证据",
			manager, out.ExitCode),
	), outputEvidence(out))
	return updateReport{}, &f
}

// yumSecurityCount reads `yum --security check-update` on a host whose
// repositories carry errata: the summary line when yum prints one, otherwise
// the listed packages (exit status 100) or none (0).
func yumSecurityCount(out probeOutput) (int, bool) {
	if sec, _, ok := ParseYumSecuritySummary(out.Stdout); ok {
		return sec, true
	}
	if out.ExitCode == 100 {
		return len(ParseYumCheckUpdate(out.Stdout)), true
	}
	return 0, true
}

// Names of the apt probe sections.
const (
	aptNow      = "now"
	aptLists    = "lists"
	aptSimulate = "simulate"
)

// probeApt simulates a dist-upgrade, which reads the local package lists and
// needs neither the network nor root. The lists are as fresh as the last
// `apt-get update`, so their age is reported with the count.
func probeApt(ctx context.Context, env *module.Env) (updateReport, *module.Finding) {
	script := sectionScript([]probeCommand{
		{aptNow, "date +%s"},
		{aptLists, "find /var/lib/apt/lists -maxdepth 1 -type f -name '*Release' -exec stat -c %Y {} + | sort -n | tail -n 1"},
		{aptSimulate, "apt-get -s -o Debug::NoLocking=true dist-upgrade"},
	})
	out, err := runScript(ctx, env, script)
	sections := ParseSections(out.Stdout)
	sim, ok := sections[aptSimulate]
	if err != nil || !ok || sim.ExitCode != 0 {
		po := probeOutput{Stdout: []byte(sim.Output), ExitCode: sim.ExitCode}
		if !ok {
			po = out
		}
		f := probeFailed(updatesCheck, "updates", "apt-get -s dist-upgrade", po, err)
		if ok && sim.ExitCode != 0 {
			f.Message = i18n.T(
				fmt.Sprintf("apt-get -s dist-upgrade failed with exit status %d: %s", sim.ExitCode, summarize([]byte(sim.Output))),
				fmt.Sprintf("apt-get -s dist-upgrade 执行失败，退出码 %d，输出见证据", sim.ExitCode),
			)
		}
		return updateReport{}, &f
	}

	report := updateReport{Manager: "apt-get", Packages: ParseAptSimulate([]byte(sim.Output)), SecurityKnown: true}
	for _, p := range report.Packages {
		if p.Security {
			report.Security++
		}
	}
	report.CacheAge = listsAge(sections[aptNow].Output, sections[aptLists].Output)
	return report, nil
}

// listsAge is the age of the newest apt Release file, or zero when unknown.
func listsAge(nowOut, listsOut string) time.Duration {
	nowSecs, err1 := strconv.ParseInt(strings.TrimSpace(nowOut), 10, 64)
	listSecs, err2 := strconv.ParseInt(strings.TrimSpace(listsOut), 10, 64)
	if err1 != nil || err2 != nil || listSecs > nowSecs {
		return 0
	}
	return time.Duration(nowSecs-listSecs) * time.Second
}

func evaluateUpdates(r updateReport, total, security Threshold) []module.Finding {
	n := len(r.Packages)
	source := r.Manager
	sourceZH := r.Manager
	switch {
	case r.CacheAge > 0:
		source += fmt.Sprintf(", package lists %s old", FormatAge(r.CacheAge))
		sourceZH += fmt.Sprintf("，软件包列表更新于 %s前", FormatAgeZH(r.CacheAge))
	case r.CacheOnly:
		source += ", local cache only"
		sourceZH += "，仅读取本地缓存"
	}

	f := total.Measure(updatesCheck, "updates", float64(n), i18n.T(
		fmt.Sprintf("%d pending (%s)", n, source),
		fmt.Sprintf("%d 个待安装（%s）", n, sourceZH),
	))
	f.Metrics = map[string]float64{"pending": float64(n)}
	if r.CacheAge > 0 {
		f.Metrics["lists_age_seconds"] = r.CacheAge.Seconds()
	}
	// Every package is kept: report.json lists them all, and the HTML and
	// Markdown reports shorten the list with a note in their language.
	for _, p := range r.Packages {
		f.Evidence = append(f.Evidence, strings.TrimSpace(fmt.Sprintf("%s.%s %s %s", p.Name, p.Arch, p.Version, p.Repo)))
	}
	f.Message = i18n.T(
		fmt.Sprintf("%d package updates are pending (%s)", n, source),
		fmt.Sprintf("有 %d 个软件包更新待安装（%s）", n, sourceZH),
	)
	if r.CacheAge > 0 {
		f.Message.EN += "; run apt-get update first for a current count"
		f.Message.ZH += "；如需最新数量，请先执行 apt-get update"
	}
	return []module.Finding{f, securityFinding(r, n, security)}
}

func securityFinding(r updateReport, pending int, t Threshold) module.Finding {
	if !r.SecurityKnown {
		f := module.Finding{
			Check:     updatesCheck,
			Item:      "security updates",
			Status:    module.StatusOK,
			Value:     i18n.T("none pending", "无待安装"),
			Threshold: t.Text(),
			Message:   i18n.T("no updates of any kind are pending", "没有任何待安装的更新"),
		}
		if pending > 0 {
			// Some of the pending updates may fix vulnerabilities; with no way to
			// tell, the item warns instead of claiming the host is clean.
			f.Status = module.StatusWarn
			f.Value = i18n.T(
				fmt.Sprintf("unknown (%d updates pending)", pending),
				fmt.Sprintf("未知（共 %d 个更新待安装）", pending),
			)
			f.Message = r.SecurityNote
			f.Evidence = r.SecurityEvidence
		}
		return f
	}

	f := t.Measure(updatesCheck, "security updates", float64(r.Security), i18n.T(
		fmt.Sprintf("%d pending", r.Security),
		fmt.Sprintf("%d 个待安装", r.Security),
	))
	f.Metrics = map[string]float64{"security_pending": float64(r.Security)}
	for _, p := range r.Packages {
		if p.Security {
			f.Evidence = append(f.Evidence, fmt.Sprintf("%s %s %s", p.Name, p.Version, p.Repo))
		}
	}
	f.Message = i18n.T(
		fmt.Sprintf("%d security updates are pending", r.Security),
		fmt.Sprintf("有 %d 个安全更新待安装", r.Security),
	)
	return f
}
