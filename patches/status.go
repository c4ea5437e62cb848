package patches

import (
	"cmp"
	"slices"
	"time"

	"patrol/i18n"
)

// Verdict is whether a patch deadline was met.
type Verdict string

// Compliance verdicts.
const (
	// VerdictMet: installed by the deadline.
	VerdictMet Verdict = "met"
	// VerdictMissed: installed after the deadline, or still missing after it.
	VerdictMissed Verdict = "missed"
	// VerdictPending: still missing, deadline not yet passed.
	VerdictPending Verdict = "pending"
	// VerdictUnknown: the host's installed list could not be read, or it
	// has the patch without an install date.
	VerdictUnknown Verdict = "unknown"
)

// Title names the verdict for people.
func (v Verdict) Title() i18n.Text {
	switch v {
	case VerdictMet:
		return i18n.T("met", "按期完成")
	case VerdictMissed:
		return i18n.T("missed", "超期")
	case VerdictPending:
		return i18n.T("pending", "待安装")
	}
	return i18n.T("unknown", "未知")
}

// ComplianceRow is one patch on one host in the compliance view.
type ComplianceRow struct {
	Patch       string    `json:"patch"`
	Title       string    `json:"title,omitempty"`
	Severity    Severity  `json:"severity"`
	Host        string    `json:"host"`
	System      string    `json:"system,omitempty"`
	Arrived     time.Time `json:"arrived"`
	Deadline    time.Time `json:"deadline"`
	InstalledAt time.Time `json:"installed_at,omitzero"`
	Verdict     Verdict   `json:"verdict"`
}

// Status turns plans into the compliance view: for each patch and host, when it
// was installed, its deadline and whether the deadline was met. Rows are
// ordered by arrival, patch and host. It does no I/O.
func Status(plans []HostPlan, now time.Time) []ComplianceRow {
	var rows []ComplianceRow
	for _, hp := range plans {
		for _, it := range hp.Items {
			rows = append(rows, ComplianceRow{
				Patch: it.Patch, Title: it.Title, Severity: it.Severity,
				Host: hp.Host, System: hp.System,
				Arrived: it.Arrived, Deadline: it.Deadline, InstalledAt: it.InstalledAt,
				Verdict: verdict(it, now),
			})
		}
	}
	sortRows(rows)
	return rows
}

func sortRows(rows []ComplianceRow) {
	slices.SortFunc(rows, func(a, b ComplianceRow) int {
		return cmp.Or(a.Arrived.Compare(b.Arrived), cmp.Compare(a.Patch, b.Patch), cmp.Compare(a.Host, b.Host))
	})
}

func verdict(it PlanItem, now time.Time) Verdict {
	switch it.State {
	case StateInstalled:
		if it.InstalledAt.IsZero() {
			return VerdictUnknown
		}
		if it.InstalledAt.After(it.Deadline) {
			return VerdictMissed
		}
		return VerdictMet
	case StateMissing:
		if now.After(it.Deadline) {
			return VerdictMissed
		}
		return VerdictPending
	}
	return VerdictUnknown
}
