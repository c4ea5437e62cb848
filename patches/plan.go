package patches

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"patrol/i18n"
	"patrol/inventory"
)

// Deadliner computes patch deadlines in working days; workday.Calendar is one.
type Deadliner interface {
	// Deadline returns the close of business on the n-th working day strictly
	// after the calendar day of arrived.
	Deadline(arrived time.Time, n int) time.Time
}

// State is the install state of a patch on one host.
type State string

// Patch states on a host.
const (
	StateMissing   State = "missing"
	StateInstalled State = "installed"
	// StateUnknown means the host's installed list could not be read.
	StateUnknown State = "unknown"
	// StateUnchecked means the host has the patch, but the apply run that
	// installed it stopped before its checks passed, or they failed and the
	// patch stayed. Only Apply sets it, from ApplyOptions.Unfinished.
	StateUnchecked State = "unchecked"
)

// HostPlan is the plan for one host: the patches that apply to it.
type HostPlan struct {
	Host    string `json:"host"`
	System  string `json:"system,omitempty"`
	Staging bool   `json:"staging,omitempty"`
	Pair    string `json:"pair,omitempty"`
	// Error is the reason the host's installed list could not be read; its
	// items are then unknown.
	Error string     `json:"error,omitempty"`
	Items []PlanItem `json:"items"`
	// NotApplicable lists every catalog patch that is not meant for the
	// host, with the reason. The text output shows those whose packages are
	// not installed, and the others only with --verbose.
	NotApplicable []NotApplicable `json:"not_applicable"`
}

// NotApplicable is a catalog patch that does not apply to a host.
type NotApplicable struct {
	Patch  string              `json:"patch"`
	Reason NotApplicableReason `json:"reason"`
	// Detail is the value that did not match: the packages not installed,
	// or the host's os, system or Oracle version.
	Detail string    `json:"detail,omitempty"`
	Text   i18n.Text `json:"text"`
}

// NotApplicableReason is the reason a patch does not apply to a host.
type NotApplicableReason string

// Reasons a patch does not apply to a host.
const (
	// ReasonPackageNotInstalled: an RPM patch none of whose packages the host
	// has in any version.
	ReasonPackageNotInstalled NotApplicableReason = "package_not_installed"
	// ReasonOS, ReasonSystem: the host's os or system is not in applies_to.
	ReasonOS     NotApplicableReason = "os"
	ReasonSystem NotApplicableReason = "system"
	// ReasonProduct: an Oracle patch for a host without oracle_home, or with
	// another oracle_version.
	ReasonProduct NotApplicableReason = "product"
)

// PlanItem is one patch on one host.
type PlanItem struct {
	Patch    string    `json:"patch"`
	Title    string    `json:"title,omitempty"`
	Severity Severity  `json:"severity"`
	Method   Method    `json:"method"`
	Arrived  time.Time `json:"arrived"`
	Deadline time.Time `json:"deadline"`
	State    State     `json:"state"`
	// InstalledAt is the install time the host recorded; zero when it has none.
	InstalledAt time.Time `json:"installed_at,omitzero"`
	// TimeLeft is the time until the deadline, negative when overdue. JSON
	// carries it as TimeLeftSeconds, in whole seconds like the remaining
	// time of `patrol calendar deadline --output json`.
	TimeLeft        time.Duration `json:"-"`
	TimeLeftSeconds int64         `json:"time_left_seconds"`
	Overdue         bool          `json:"overdue,omitempty"`
	// DueInWindow marks a missing patch whose deadline falls before the end of
	// the next maintenance window.
	DueInWindow bool `json:"due_in_window,omitempty"`
	Reboot      bool `json:"reboot,omitempty"`
}

// PlanInput is the input of Plan.
type PlanInput struct {
	Catalog *Catalog
	Hosts   []*inventory.Host
	// Installed holds each host's query result; a host missing here, or with
	// QueryErrors set, has unknown items.
	Installed   map[string]*Installed
	QueryErrors map[string]error
	Calendar    Deadliner
	Now         time.Time
	// WindowEnd is the end of the next maintenance window; zero means none.
	WindowEnd time.Time
}

// Plan lists, per host, the patches that apply to it with their state and
// deadline. Items are ordered by deadline, then severity, then id. It does no
// I/O.
func Plan(in PlanInput) []HostPlan {
	var plans []HostPlan
	for _, h := range in.Hosts {
		hp := HostPlan{Host: h.Name, System: h.System, Staging: h.Staging, Pair: h.Pair, Items: []PlanItem{}, NotApplicable: []NotApplicable{}}
		installed := in.Installed[h.Name]
		if err := in.QueryErrors[h.Name]; err != nil {
			hp.Error = err.Error()
			installed = nil
		}
		for _, p := range in.Catalog.Patches {
			if na := notApplicable(p, h, installed); na != nil {
				hp.NotApplicable = append(hp.NotApplicable, *na)
				continue
			}
			hp.Items = append(hp.Items, planItem(in, p, installed))
		}
		slices.SortFunc(hp.Items, compareItems)
		plans = append(plans, hp)
	}
	return plans
}

func planItem(in PlanInput, p *Patch, installed *Installed) PlanItem {
	item := PlanItem{
		Patch: p.ID, Title: p.Title, Severity: p.Severity, Method: p.Method, Reboot: p.Reboot,
		Arrived:  p.Arrived,
		Deadline: in.Calendar.Deadline(p.Arrived, in.Catalog.Days(p.Severity)),
	}
	item.State, item.InstalledAt = InstalledState(p, installed)
	if !item.InstalledAt.IsZero() {
		// rpm and the hotfix list give UTC; show it in the zone of
		// arrived and deadline.
		item.InstalledAt = item.InstalledAt.In(item.Deadline.Location())
	}
	item.TimeLeft = item.Deadline.Sub(in.Now).Truncate(time.Minute)
	item.TimeLeftSeconds = int64(item.TimeLeft / time.Second)
	if item.State != StateInstalled {
		item.Overdue = in.Now.After(item.Deadline)
		item.DueInWindow = !item.Overdue && !in.WindowEnd.IsZero() && !item.Deadline.After(in.WindowEnd)
	}
	return item
}

func compareItems(a, b PlanItem) int {
	return cmp.Or(a.Deadline.Compare(b.Deadline), cmp.Compare(a.Severity.Rank(), b.Severity.Rank()), cmp.Compare(a.Patch, b.Patch))
}

// AppliesTo reports whether patch p is meant for host h. An RPM patch applies only
// where at least one of its packages is installed in some version, because an
// update for software a host does not run is not missing there.
func AppliesTo(p *Patch, h *inventory.Host, installed *Installed) bool {
	return notApplicable(p, h, installed) == nil
}

// notApplicable returns why patch p is not meant for host h, or nil when it
// is; see AppliesTo.
func notApplicable(p *Patch, h *inventory.Host, installed *Installed) *NotApplicable {
	na := func(reason NotApplicableReason, detail string, text i18n.Text) *NotApplicable {
		return &NotApplicable{Patch: p.ID, Reason: reason, Detail: detail, Text: text}
	}
	if len(p.AppliesTo.OS) > 0 && !slices.Contains(p.AppliesTo.OS, h.OS) {
		return na(ReasonOS, h.OS, i18n.T(fmt.Sprintf("for %s, the host is %s", strings.Join(p.AppliesTo.OS, ", "), orNone(h.OS)),
			fmt.Sprintf("适用于 %s，主机为 %s", strings.Join(p.AppliesTo.OS, "、"), orNone(h.OS))))
	}
	if len(p.AppliesTo.Systems) > 0 && !slices.Contains(p.AppliesTo.Systems, h.System) {
		return na(ReasonSystem, h.System, i18n.T(fmt.Sprintf("for system %s, the host is in %s", strings.Join(p.AppliesTo.Systems, ", "), orNone(h.System)),
			fmt.Sprintf("适用于系统 %s，主机属于 %s", strings.Join(p.AppliesTo.Systems, "、"), orNone(h.System))))
	}
	if p.AppliesTo.Product == "oracle" {
		home, _ := h.Vars["oracle_home"].(string)
		if home == "" {
			return na(ReasonProduct, "", i18n.T("an Oracle patch, the host has no oracle_home", "Oracle 补丁，主机未设置 oracle_home"))
		}
		if v, _ := h.Vars["oracle_version"].(string); v != "" && p.AppliesTo.Version != "" && v != p.AppliesTo.Version {
			return na(ReasonProduct, v, msg("for Oracle %s, the host has %s", "适用于 Oracle %s，主机为 %s", p.AppliesTo.Version, v))
		}
	}
	if (p.Method == MethodRPM || p.Method == MethodYum) && installed != nil && slices.Contains(installed.Queried, "rpm") {
		var names []string
		for _, want := range p.Verify.Packages {
			name, _, ok := NormalizeNEVRA(want)
			if ok && len(installed.Packages[name]) > 0 {
				return nil
			}
			if ok && !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
		list := strings.Join(names, ", ")
		return na(ReasonPackageNotInstalled, list, i18n.T(orNone(list)+" not installed", "未安装 "+orNone(strings.Join(names, "、"))))
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// InstalledState reports whether the host has patch p, and since when. An RPM
// patch counts as installed where each of its packages is installed in the
// same or a newer version for the same architecture, because a later update
// from another patch includes its fixes; the time is then that version's.
func InstalledState(p *Patch, installed *Installed) (State, time.Time) {
	if installed == nil {
		return StateUnknown, time.Time{}
	}
	switch {
	case len(p.Verify.Packages) > 0:
		if !slices.Contains(installed.Queried, "rpm") {
			return StateUnknown, time.Time{}
		}
		var latest time.Time
		for _, want := range p.Verify.Packages {
			pkg, ok := installedAtLeast(installed, want)
			if !ok {
				return StateMissing, time.Time{}
			}
			latest = later(latest, pkg.InstalledAt)
		}
		return StateInstalled, latest
	case p.Verify.KB != "":
		if !slices.Contains(installed.Queried, "hotfix") {
			return StateUnknown, time.Time{}
		}
		at, ok := installed.KBs[p.Verify.KB]
		if !ok {
			return StateMissing, time.Time{}
		}
		return StateInstalled, at
	case p.Verify.OPatch != "":
		if !slices.Contains(installed.Queried, "opatch") {
			return StateUnknown, time.Time{}
		}
		at, ok := installed.OPatches[p.Verify.OPatch]
		if !ok {
			return StateMissing, time.Time{}
		}
		return StateInstalled, at
	}
	return StateUnknown, time.Time{}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// installedAtLeast returns the installed package of want's name and
// architecture whose version is want's or newer.
func installedAtLeast(installed *Installed, want string) (Package, bool) {
	w := nevraPattern.FindStringSubmatch(strings.TrimSpace(want))
	if w == nil {
		return Package{}, false
	}
	for _, pkg := range installed.Packages[w[1]] {
		h := nevraPattern.FindStringSubmatch(pkg.NEVRA)
		if h != nil && h[5] == w[5] && compareEVR(h, w) >= 0 {
			return pkg, true
		}
	}
	return Package{}, false
}
