package report

import (
	"fmt"
	"time"

	"patrol/i18n"
	"patrol/module"
	"patrol/patches"
)

// patchSection is the patch compliance section in one language.
type patchSection struct {
	Summary PatchSummary
	Rows    []patchRowView
	// Earlier is the sentence that counts the rows closed before the
	// report's period and left out. It is empty when none are left out.
	Earlier string
	// NoneText replaces the table when there are no rows.
	NoneText string
}

type patchRowView struct {
	No          int
	Patch       string
	Title       string
	Severity    string
	Host        string
	Arrived     string
	Deadline    string
	InstalledAt string
	Verdict     patches.Verdict
	Label       string
	// Class is the CSS status class: ok, fail and error as for findings, and
	// pending for a patch still within its deadline.
	Class string
}

// buildPatches returns the patch compliance section, or nil when the
// inspection has none.
func buildPatches(in Inspection, lang i18n.Lang, loc *time.Location) *patchSection {
	if in.Patches == nil || in.Summary.Patches == nil {
		return nil
	}
	sec := &patchSection{Summary: *in.Summary.Patches}
	if n := in.Patches.Earlier; n > 0 {
		key := "patches.earlier"
		if n == 1 {
			key = "patches.earlier_one"
		}
		sec.Earlier = fmt.Sprintf(mustLabel(lang, key), n, patchTime(in.PeriodStart, loc))
	}
	sec.NoneText = mustLabel(lang, "patches.none")
	if in.Patches.Earlier > 0 {
		sec.NoneText = mustLabel(lang, "patches.none_in_period")
	}
	for i, r := range in.Patches.Rows {
		v := patchRowView{
			No:       i + 1,
			Patch:    r.Patch,
			Title:    r.Title,
			Severity: r.Severity.Text().In(lang),
			Host:     r.Host,
			Arrived:  patchTime(r.Arrived, loc),
			Deadline: patchTime(r.Deadline, loc),
			Verdict:  r.Verdict,
			Label:    patchVerdictLabel(lang, r.Verdict),
			Class:    verdictClass(r.Verdict),
		}
		switch {
		case !r.InstalledAt.IsZero():
			v.InstalledAt = patchTime(r.InstalledAt, loc)
		case r.Verdict == patches.VerdictMissed || r.Verdict == patches.VerdictPending:
			v.InstalledAt = mustLabel(lang, "patches.not_installed")
		default:
			v.InstalledAt = "—"
		}
		sec.Rows = append(sec.Rows, v)
	}
	return sec
}

func verdictClass(v patches.Verdict) string {
	switch v {
	case patches.VerdictMet:
		return "ok"
	case patches.VerdictMissed:
		return "fail"
	case patches.VerdictPending:
		return "pending"
	}
	return "error"
}

// patchTime formats a patch time to the minute in the report's zone. A zero
// time is shown as a dash.
func patchTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(loc).Format("2006-01-02 15:04")
}

// patchAnomalies lists the rows that missed their deadline as anomalies,
// ranked like failed findings and placed with their host's system and host.
func patchAnomalies(sec *patchSection, rows []patches.ComplianceRow, groups []group, lang i18n.Lang) []anomaly {
	if sec == nil {
		return nil
	}
	var list []anomaly
	for i, r := range rows {
		if r.Verdict != patches.VerdictMissed {
			continue
		}
		view := sec.Rows[i]
		gi, hi, system := len(groups), 0, systemName(lang, r.System)
		for g := range groups {
			for h := range groups[g].Hosts {
				if groups[g].Hosts[h].Name == r.Host {
					gi, hi, system = g, h, groups[g].Name
				}
			}
		}
		message := mustLabel(lang, "patches.missed_installed")
		if r.InstalledAt.IsZero() {
			message = mustLabel(lang, "patches.missed_missing")
		}
		if r.Title != "" {
			message = r.Title + mustLabel(lang, "colon") + message
		}
		list = append(list, anomaly{
			itemView: itemView{
				Title:     mustLabel(lang, "section.patches"),
				Item:      r.Patch,
				Status:    module.StatusFail,
				Label:     view.Label,
				Value:     view.InstalledAt,
				Threshold: fmt.Sprintf(mustLabel(lang, "patches.deadline"), view.Deadline),
				Message:   message,
			},
			Host: r.Host, System: system,
			// A large index puts the rows after the host's findings, in row order.
			rank: module.StatusFail.Rank(), group: gi, host: hi, index: 1<<20 + i,
		})
	}
	return list
}

// patchVerdictLabel returns the word shown for a verdict.
func patchVerdictLabel(lang i18n.Lang, v patches.Verdict) string {
	return v.Title().In(lang)
}
