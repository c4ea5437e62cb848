package patches

import (
	"cmp"
	"slices"
	"time"

	"patrol/inventory"
)

// Deadliner computes patch deadlines in working days; workday.Calendar is one.
type Deadliner interface {
	// Deadline returns the close of business on the n-th working day strictly
	// after the calendar day of arrived.
	Deadline(arrived time.Time, n int) time.Time
}

// State is where a patch stands on one host.
type State string

// Patch states on a host.
const (
	StateMissing   State = "missing"
	StateInstalled State = "installed"
	// StateUnknown means the host's installed list could not be read.
	StateUnknown State = "unknown"
)

// HostPlan is the plan for one host: the patches that apply to it.
type HostPlan struct {
	Host    string `json:"host"`
	System  string `json:"system,omitempty"`
	Staging bool   `json:"staging,omitempty"`
	Pair    string `json:"pair,omitempty"`
	// Error is why the host's installed list could not be read; its items
	// are then unknown.
	Error string     `json:"error,omitempty"`
	Items []PlanItem `json:"items"`
}

// PlanItem is one patch on one host.
type PlanItem struct {
	Patch    string    `json:"patch"`
	Title    string    `json:"title,omitempty"`
	Severity Severity  `json:"severity"`
	Method   Method    `json:"method"`
	Arrived  time.Time `json:"arrived"`
	Deadline time.Time `json:"deadline"`
	State    State     `json:"state"`
	// InstalledAt is when the host installed the patch, when it says.
	InstalledAt time.Time `json:"installed_at,omitzero"`
	// TimeLeft is the time until the deadline; negative when overdue.
	TimeLeft time.Duration `json:"time_left"`
	Overdue  bool          `json:"overdue,omitempty"`
	// DueInWindow marks a missing patch whose deadline falls before the end of
	// the next maintenance window.
	DueInWindow bool `json:"due_in_window,omitempty"`
	Reboot      bool `json:"reboot,omitempty"`
}

// PlanInput is what a plan is computed from.
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
		hp := HostPlan{Host: h.Name, System: h.System, Staging: h.Staging, Pair: h.Pair}
		installed := in.Installed[h.Name]
		if err := in.QueryErrors[h.Name]; err != nil {
			hp.Error = err.Error()
			installed = nil
		}
		for _, p := range in.Catalog.Patches {
			if !AppliesTo(p, h, installed) {
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
	item.TimeLeft = item.Deadline.Sub(in.Now).Truncate(time.Minute)
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
	if len(p.AppliesTo.OS) > 0 && !slices.Contains(p.AppliesTo.OS, h.OS) {
		return false
	}
	if len(p.AppliesTo.Systems) > 0 && !slices.Contains(p.AppliesTo.Systems, h.System) {
		return false
	}
	if p.AppliesTo.Product == "oracle" {
		home, _ := h.Vars["oracle_home"].(string)
		if home == "" {
			return false
		}
		if v, _ := h.Vars["oracle_version"].(string); v != "" && p.AppliesTo.Version != "" && v != p.AppliesTo.Version {
			return false
		}
	}
	if (p.Method == MethodRPM || p.Method == MethodYum) && installed != nil && slices.Contains(installed.Queried, "rpm") {
		for _, want := range p.Verify.Packages {
			if name, _, ok := NormalizeNEVRA(want); ok && len(installed.Packages[name]) > 0 {
				return true
			}
		}
		return false
	}
	return true
}

// InstalledState tells whether the host has patch p, and since when.
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
			name, norm, ok := NormalizeNEVRA(want)
			if !ok {
				return StateUnknown, time.Time{}
			}
			i := slices.IndexFunc(installed.Packages[name], func(pk Package) bool { return pk.NEVRA == norm })
			if i < 0 {
				return StateMissing, time.Time{}
			}
			latest = later(latest, installed.Packages[name][i].InstalledAt)
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
