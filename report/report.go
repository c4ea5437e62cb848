// Package report renders inspection reports: report.html (printable on A4),
// report.md and report.json, in Chinese by default or English. The input is an
// Inspection, built directly or from a run's journal with FromJournal, so a
// report can be rendered again from an old journal.
//
// The HTML report is handed to the client as it is: it is self-contained, and
// it carries a blank handling column and signature lines to fill in by hand.
// Reports show host names, addresses, OS and findings only, never connection
// settings or credentials.
package report

import (
	"time"

	"patrol/i18n"
	"patrol/module"
	"patrol/patches"
)

// SchemaVersion is the version of report.json's layout. It changes when a field
// is renamed or removed or its meaning changes; adding a field keeps it.
const SchemaVersion = 1

// DefaultTimeZone is the client's time zone, the one report times are shown
// in. It is the zone checks write the times of their findings in.
const DefaultTimeZone = module.TimeZone

// Kind is the kind of inspection a report covers.
type Kind string

// Inspection kinds.
const (
	KindDaily   Kind = "daily"
	KindMonthly Kind = "monthly"
)

// Run statuses an Inspection may carry besides journal's ok, failed and
// unreachable. Both add a warning to the report that results are incomplete.
const (
	RunInterrupted = "interrupted"
	// RunIncomplete marks a journal without an end record.
	RunIncomplete = "incomplete"
)

// Inspection is everything a report shows. Its JSON form is report.json.
type Inspection struct {
	// SchemaVersion is set by Write and the renderers to SchemaVersion.
	SchemaVersion int       `json:"schema_version"`
	Kind          Kind      `json:"kind"`
	RunID         string    `json:"run_id"`
	StartedAt     time.Time `json:"started_at"`
	// EndedAt is zero when the run did not record its end.
	EndedAt time.Time `json:"ended_at"`
	// RunStatus is the run's outcome: ok, failed, unreachable, interrupted or
	// incomplete. It is empty when unknown.
	RunStatus string `json:"run_status,omitempty"`
	Inspector string `json:"inspector"`
	// PatrolMachine is the host name of the machine patrol ran on.
	PatrolMachine string `json:"patrol_machine"`
	// Lang is the language report.html and report.md were rendered in; Write
	// sets it.
	Lang i18n.Lang `json:"lang"`
	// TimeZone is the IANA zone times are shown in; empty means DefaultTimeZone.
	// NOTE: times inside findings' values and messages are text the checks
	// wrote in DefaultTimeZone, so another zone changes only the report's
	// own times.
	TimeZone string `json:"time_zone"`
	Hosts    []Host `json:"hosts"`
	// Patches is the patch compliance of the hosts, present when the run was
	// given a patch catalog.
	Patches *PatchCompliance `json:"patch_compliance,omitempty"`
	// PeriodStart is the first moment a monthly report's patch rows cover:
	// the start of the previous monthly inspection that had patch rows. When
	// it is zero, the renderers use one month before StartedAt and set it.
	PeriodStart time.Time `json:"period_start,omitzero"`
	// Summary is computed from Hosts by Write and the renderers; any value the
	// caller sets is replaced.
	Summary Summary `json:"summary"`
}

// Host is one inventory host the inspection covered, with its results.
type Host struct {
	Name    string `json:"name"`
	Address string `json:"address,omitempty"`
	OS      string `json:"os,omitempty"`
	// System is the business system key: hotel, entertainment, seal or empty.
	System string `json:"system,omitempty"`
	// Reachable is false when patrol could not connect. Message then gives
	// the reason and what to check in both languages, and Error the
	// transport's error as the system printed it, shown as evidence. Reports
	// of journals written before Message existed derive it from Error.
	Reachable bool      `json:"reachable"`
	Error     string    `json:"error,omitempty"`
	Message   i18n.Text `json:"message,omitzero"`
	// NotInspected marks a host with no recorded result at all, such as one the
	// run never reached before it was interrupted.
	NotInspected bool   `json:"not_inspected,omitempty"`
	Items        []Item `json:"items"`
}

// Item is one inspected item: a check's finding, or a task that failed without
// producing findings, shown with status error.
type Item struct {
	module.Finding
	// Title is the check's name for people, such as 磁盘空间 / Disk space.
	Title i18n.Text `json:"title"`
	// Task is the playbook task the item came from.
	Task string `json:"task,omitempty"`
}

// PatchCompliance is the report's patch compliance section: for each
// catalog patch and host it applies to, the deadline, when the host
// installed it and the verdict.
//
// A monthly report lists the rows of its period (Inspection.PeriodStart
// onward): patches still missing, and those due or installed in the period.
// Earlier counts the rows left out because they were installed and due
// before the period began.
type PatchCompliance struct {
	Rows    []patches.ComplianceRow `json:"rows"`
	Earlier int                     `json:"earlier,omitempty"`
}

// Summary counts hosts and items.
type Summary struct {
	Hosts        int `json:"hosts"`
	Unreachable  int `json:"unreachable"`
	NotInspected int `json:"not_inspected"`
	Items        int `json:"items"`
	OK           int `json:"ok"`
	Warn         int `json:"warn"`
	Fail         int `json:"fail"`
	Error        int `json:"error"`
	// Patches counts the patch compliance rows by verdict; nil without a
	// patch compliance section.
	Patches *PatchSummary `json:"patches,omitempty"`
}

// PatchSummary counts patch compliance rows by verdict.
type PatchSummary struct {
	Rows    int `json:"rows"`
	Met     int `json:"met"`
	Missed  int `json:"missed"`
	Pending int `json:"pending"`
	Unknown int `json:"unknown"`
}

// Anomalies returns the number of items and hosts that need handling: items
// with status warn, fail or error, hosts that were unreachable or not
// inspected, and patches that missed their deadline.
func (s Summary) Anomalies() int {
	n := s.Warn + s.Fail + s.Error + s.Unreachable + s.NotInspected
	if s.Patches != nil {
		n += s.Patches.Missed
	}
	return n
}

// Summarize counts the hosts and items of in.
func Summarize(in Inspection) Summary {
	var s Summary
	for _, h := range in.Hosts {
		s.Hosts++
		switch {
		case h.NotInspected:
			s.NotInspected++
		case !h.Reachable:
			s.Unreachable++
		}

		for _, it := range h.Items {
			s.Items++
			switch it.Status {
			case module.StatusOK:
				s.OK++
			case module.StatusWarn:
				s.Warn++
			case module.StatusFail:
				s.Fail++
			default:
				s.Error++
			}
		}
	}
	if in.Patches != nil {
		s.Patches = summarizePatches(in.Patches.Rows)
	}
	return s
}

func summarizePatches(rows []patches.ComplianceRow) *PatchSummary {
	s := &PatchSummary{Rows: len(rows)}
	for _, r := range rows {
		switch r.Verdict {
		case patches.VerdictMet:
			s.Met++
		case patches.VerdictMissed:
			s.Missed++
		case patches.VerdictPending:
			s.Pending++
		default:
			s.Unknown++
		}
	}
	return s
}

// normalize returns in with its computed fields set.
func normalize(in Inspection, lang i18n.Lang) Inspection {
	in.SchemaVersion = SchemaVersion
	in.Lang = lang
	if in.TimeZone == "" {
		in.TimeZone = DefaultTimeZone
	}
	if in.Kind == KindMonthly && in.Patches != nil {
		if in.PeriodStart.IsZero() {
			in.PeriodStart = in.StartedAt.AddDate(0, -1, 0)
		}
		in.Patches = periodRows(*in.Patches, in.PeriodStart)
	}
	in.Summary = Summarize(in)
	if in.Hosts == nil {
		in.Hosts = []Host{}
	}
	if in.Patches != nil && in.Patches.Rows == nil {
		in.Patches = &PatchCompliance{Rows: []patches.ComplianceRow{}, Earlier: in.Patches.Earlier}
	}
	return in
}

// periodRows keeps the rows that belong in a report of the period that
// starts at start: every row not installed yet (pending, missed or
// unknown), and the rows installed or due at or after start. The others are
// counted in Earlier. A journal keeps every row, so rendering the same run
// again gives the same report.
func periodRows(pc PatchCompliance, start time.Time) *PatchCompliance {
	out := &PatchCompliance{Rows: []patches.ComplianceRow{}, Earlier: pc.Earlier}
	for _, r := range pc.Rows {
		open := r.InstalledAt.IsZero()
		if open || !r.InstalledAt.Before(start) || !r.Deadline.Before(start) {
			out.Rows = append(out.Rows, r)
			continue
		}
		out.Earlier++
	}
	return out
}
