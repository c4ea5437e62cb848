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
)

// SchemaVersion is the version of report.json's layout. It changes when a field
// is renamed or removed or its meaning changes; adding a field keeps it.
const SchemaVersion = 1

// DefaultTimeZone is the client's time zone, the one report times are shown in.
const DefaultTimeZone = "Asia/Shanghai"

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
	TimeZone string `json:"time_zone"`
	Hosts    []Host `json:"hosts"`
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
	// Reachable is false when patrol could not connect, and Error then gives the reason.
	Reachable bool   `json:"reachable"`
	Error     string `json:"error,omitempty"`
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
}

// Anomalies returns the number of items and hosts that need handling: items
// with status warn, fail or error, and hosts that were unreachable or not
// inspected.
func (s Summary) Anomalies() int {
	return s.Warn + s.Fail + s.Error + s.Unreachable + s.NotInspected
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
	return s
}

// normalize returns in with its computed fields set.
func normalize(in Inspection, lang i18n.Lang) Inspection {
	in.SchemaVersion = SchemaVersion
	in.Lang = lang
	if in.TimeZone == "" {
		in.TimeZone = DefaultTimeZone
	}
	in.Summary = Summarize(in)
	if in.Hosts == nil {
		in.Hosts = []Host{}
	}
	return in
}
