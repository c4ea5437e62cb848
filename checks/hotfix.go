package checks

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"patrol/i18n"
	"patrol/module"
)

// check.hotfix is a check of its own rather than the Windows side of
// check.updates: check.updates counts updates waiting to be installed, while
// this lists the updates already installed (Win32_QuickFixEngineering), which
// is what a monthly patch report shows. Counting pending Windows updates needs
// the update agent, which Windows refuses in a WinRM network logon.
const hotfixCheck = "check.hotfix"

// maxHotfixEvidence bounds the KB lines kept as evidence.
const maxHotfixEvidence = 40

func hotfixSpec() *module.Spec {
	return &module.Spec{
		Name:  hotfixCheck,
		Title: i18n.T("Installed hotfixes", "已安装的补丁"),
		Doc:   i18n.T("Windows: installed updates (KB) with install dates; listed KBs must be installed and the newest may not be too old.", "Windows：已安装的更新（KB）及其安装日期；列出的 KB 必须已安装，且最新一次安装不能太久远。"),
		Check: true,
		Args: []module.Arg{
			{Name: "required", Type: module.Strings, Doc: i18n.T("KB numbers that must be installed, such as KB4012213", "必须已安装的 KB 编号，如 KB4012213")},
			{Name: "max_age", Type: module.String, Doc: i18n.T("age of the newest install date at which the check warns, such as 45d (optional)", "最新安装日期距今达到该值时判为警告，如 45d（可选）")},
		},
		Run: runHotfix,
	}
}

type hotfixProbe func(ctx context.Context, env *module.Env) (HotfixListing, *module.Finding)

var hotfixProbes = perOS[hotfixProbe]{}

func runHotfix(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
	maxAge, hasMaxAge, err := durationArg(args, "max_age")
	if err != nil {
		return result([]module.Finding{argError(hotfixCheck, err)}), nil
	}
	probe := hotfixProbes.pick(env)
	if probe == nil {
		return result([]module.Finding{unsupportedOS(hotfixCheck)}), nil
	}
	listing, failed := probe(ctx, env)
	if failed != nil {
		return result([]module.Finding{*failed}), nil
	}
	opts := hotfixOptions{Required: stringList(args, "required"), MaxAge: maxAge, HasMaxAge: hasMaxAge, Now: now(env)}
	return result(EvaluateHotfixes(listing, opts)), nil
}

type hotfixOptions struct {
	Required  []string
	MaxAge    time.Duration
	HasMaxAge bool
	Now       time.Time
}

// EvaluateHotfixes gives one summary finding (count, newest install date) and
// one finding per required KB. A required KB that is missing while a servicing
// reboot is pending only warns: wusa exit code 3010 installs an update that
// Win32_QuickFixEngineering lists only after the reboot.
func EvaluateHotfixes(listing HotfixListing, opts hotfixOptions) []module.Finding {
	findings := []module.Finding{hotfixSummary(listing, opts)}
	for _, kb := range opts.Required {
		findings = append(findings, requiredHotfixFinding(listing, normalizeKB(kb)))
	}
	return findings
}

func hotfixSummary(listing HotfixListing, opts hotfixOptions) module.Finding {
	var newest time.Time
	unknown := 0
	ambiguous := 0
	for _, h := range listing.Hotfixes {
		if !h.DateKnown {
			unknown++
			continue
		}
		if h.DateAmbiguous {
			ambiguous++
		}
		if h.InstalledOn.After(newest) {
			newest = h.InstalledOn
		}
	}

	f := module.Finding{
		Check:    hotfixCheck,
		Item:     "installed hotfixes",
		Status:   module.StatusOK,
		Evidence: hotfixEvidence(listing),
		Metrics:  map[string]float64{"hotfixes": float64(len(listing.Hotfixes)), "date_unknown": float64(unknown)},
	}
	newestText := "-"
	if !newest.IsZero() {
		newestText = newest.Format("2006-01-02")
	}
	f.Value = i18n.T(
		fmt.Sprintf("%d installed, newest %s", len(listing.Hotfixes), newestText),
		fmt.Sprintf("已安装 %d 个，最近一次 %s", len(listing.Hotfixes), newestText),
	)
	f.Message = i18n.T(
		fmt.Sprintf("%d hotfixes installed, the newest on %s", len(listing.Hotfixes), newestText),
		fmt.Sprintf("已安装 %d 个补丁，最近一次安装于 %s", len(listing.Hotfixes), newestText),
	)
	if unknown > 0 {
		f.Message = joinText(f.Message, i18n.T(
			fmt.Sprintf("%d without a readable install date", unknown),
			fmt.Sprintf("%d 个无法读取安装日期", unknown),
		))
	}
	if ambiguous > 0 {
		f.Message = joinText(f.Message, i18n.T(
			fmt.Sprintf("%d dates read with the host culture %s although month-first would also fit", ambiguous, listing.Culture.Name),
			fmt.Sprintf("%d 个日期按主机区域设置 %s 读取，按月在前的格式也能读通", ambiguous, listing.Culture.Name),
		))
	}

	if !opts.HasMaxAge {
		return f
	}
	days := opts.MaxAge.Hours() / 24
	f.Threshold = i18n.T(
		fmt.Sprintf("warn: newest ≥%s %s old", trimFloat(days), plural(days, "day", "days")),
		fmt.Sprintf("警告：最近一次安装距今 ≥%s 天", trimFloat(days)),
	)
	switch {
	case newest.IsZero():
		f.Status = module.StatusWarn
		f.Message = joinText(f.Message, i18n.T("no install date could be read, so the patch age is unknown", "无法读取任何安装日期，补丁时效未知"))
	case opts.Now.Sub(newest) >= opts.MaxAge:
		age := int(opts.Now.Sub(newest).Hours() / 24)
		f.Status = module.StatusWarn
		f.Metrics["newest_age_days"] = float64(age)
		f.Message = i18n.T(
			fmt.Sprintf("the newest hotfix was installed on %s, %d days ago; install this month's updates", newestText, age),
			fmt.Sprintf("最近一次补丁安装于 %s，已过 %d 天；请安装本月更新", newestText, age),
		)
	default:
		f.Metrics["newest_age_days"] = float64(int(opts.Now.Sub(newest).Hours() / 24))
	}
	return f
}

func requiredHotfixFinding(listing HotfixListing, kb string) module.Finding {
	f := module.Finding{Check: hotfixCheck, Item: kb, Threshold: i18n.T("installed", "已安装")}
	i := slices.IndexFunc(listing.Hotfixes, func(h Hotfix) bool { return normalizeKB(h.ID) == kb })
	switch {
	case i >= 0:
		h := listing.Hotfixes[i]
		date := hotfixDateText(h)
		f.Status = module.StatusOK
		f.Value = i18n.T("installed "+date.EN, "已安装 "+date.ZH)
		f.Message = i18n.T(kb+" is installed ("+date.EN+")", kb+" 已安装（"+date.ZH+"）")
		f.Evidence = []string{hotfixLine(h)}
	case listing.RebootPending:
		f.Status = module.StatusWarn
		f.Value = i18n.T("not listed, reboot pending", "未列出，等待重启")
		f.Message = i18n.T(
			kb+" is not listed, but a reboot is pending: an update installed with exit code 3010 is listed only after the reboot; reboot the host and check again",
			kb+" 未列出，但主机等待重启：以退出码 3010 安装的补丁在重启后才会列出；请重启主机后再次检查",
		)
	default:
		f.Status = module.StatusFail
		f.Value = i18n.T("not installed", "未安装")
		f.Message = i18n.T(kb+" is not installed; install it", kb+" 未安装；请安装该补丁")
	}
	return f
}

// normalizeKB writes a KB number as Windows lists it: "kb123" and "123" become
// "KB123".
func normalizeKB(kb string) string {
	kb = strings.ToUpper(strings.TrimSpace(kb))
	if !strings.HasPrefix(kb, "KB") && kb != "" && kb[0] >= '0' && kb[0] <= '9' {
		return "KB" + kb
	}
	return kb
}

// hotfixDateText shows an install date, or the raw InstalledOn value when it
// could not be read.
func hotfixDateText(h Hotfix) i18n.Text {
	switch {
	case h.DateKnown:
		d := h.InstalledOn.Format("2006-01-02")
		return same(d)
	case h.InstalledOnRaw == "":
		return i18n.T("date unknown", "日期未知")
	}
	return i18n.T("date unknown, InstalledOn "+h.InstalledOnRaw, "日期未知，InstalledOn 为 "+h.InstalledOnRaw)
}

func hotfixLine(h Hotfix) string {
	date := "unknown"
	if h.DateKnown {
		date = h.InstalledOn.Format("2006-01-02")
	}
	return strings.TrimSpace(fmt.Sprintf("%s installed_on=%s raw=%q %s", h.ID, date, h.InstalledOnRaw, h.Description))
}

// hotfixEvidence lists the newest hotfixes first, those without a date last.
func hotfixEvidence(listing HotfixListing) []string {
	sorted := slices.Clone(listing.Hotfixes)
	slices.SortStableFunc(sorted, func(a, b Hotfix) int {
		switch {
		case a.DateKnown != b.DateKnown:
			if a.DateKnown {
				return -1
			}
			return 1
		case a.DateKnown:
			return b.InstalledOn.Compare(a.InstalledOn)
		}
		return 0
	})
	var lines []string
	for i, h := range sorted {
		if i == maxHotfixEvidence {
			lines = append(lines, fmt.Sprintf("… %d more", len(sorted)-i))
			break
		}
		lines = append(lines, hotfixLine(h))
	}
	return lines
}

func trimFloat(v float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.1f", v), "0"), ".")
}
