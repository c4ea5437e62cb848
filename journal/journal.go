// Package journal keeps the append-only, hash-chained record of every run: one
// JSON line per record in $PATROL_HOME/journal/<run-id>.jsonl, a header first, one
// result per task and host, and an end record. Each line carries the SHA-256 of
// the line before it, so Verify can show where a journal was edited, cut or
// reordered after the run wrote it.
//
// The package stores and reads journals. It does not run tasks or render
// reports, and it never records environment variables or secrets: callers pass
// argument lists only, and the Writer masks the secret strings it is given.
package journal

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"patrol/i18n"
	"patrol/module"
)

// Record types, the "type" field of every line.
const (
	TypeHeader = "header"
	TypeResult = "result"
	TypeEnd    = "end"
)

// Ext is the file name extension of journals.
const Ext = ".jsonl"

// Header is the first line of a journal. It records what ran, where, who started
// it and on what input.
type Header struct {
	// Type is always TypeHeader; Create sets it.
	Type string `json:"type"`
	// RunID names the run and its file; see NewRunID.
	RunID     string    `json:"run_id"`
	StartedAt time.Time `json:"started_at"`
	// User is the login name that started the run on the patrol machine.
	User string `json:"user"`
	// Hostname is the patrol machine's host name, not a managed host.
	Hostname string `json:"hostname"`
	// Version is the patrol version that wrote the journal.
	Version string `json:"patrol_version"`
	// Args is the command line without the program name. It must never hold
	// environment values or secrets. The Writer masks the secrets it was given.
	Args      []string     `json:"args"`
	Playbook  FileDigest   `json:"playbook"`
	Inventory []FileDigest `json:"inventory"`
	CheckMode bool         `json:"check_mode"`
	// Limit is the --limit host pattern; empty means every host of the plays.
	Limit string `json:"limit,omitempty"`
}

// FileDigest names an input file and the hex SHA-256 of its bytes, so a later
// reader can tell whether the playbook or inventory changed since the run.
type FileDigest struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// Status is the outcome of one task on one host.
type Status string

// Task result statuses.
const (
	StatusOK          Status = "ok"
	StatusChanged     Status = "changed"
	StatusFailed      Status = "failed"
	StatusSkipped     Status = "skipped"
	StatusUnreachable Status = "unreachable"
)

// Record is one task result on one host.
type Record struct {
	// Type is always TypeResult; Append sets it.
	Type string `json:"type"`
	// Seq numbers results from 1 in the order they were written; Append sets it.
	Seq int `json:"seq"`
	// Time is when the task finished; Append uses the current time when it is zero.
	Time time.Time `json:"time"`
	Host string    `json:"host"`
	// Play and Task are the names in the run's language.
	Play string `json:"play"`
	Task string `json:"task"`
	// PlayName and TaskName contain the names in English and Chinese when
	// the playbook gave both, so that a report in the other language can
	// show its own. PlayIn and TaskIn pick from them. Older journals and
	// names given as plain text leave them empty.
	PlayName i18n.Text `json:"play_name,omitzero"`
	TaskName i18n.Text `json:"task_name,omitzero"`
	Module   string    `json:"module"`
	Status   Status    `json:"status"`
	// Changed repeats whether the host was changed, which is also true for a
	// failed task that changed something before it failed.
	Changed bool `json:"changed"`
	// Ignored marks a failed result of a task with ignore_errors: the run
	// went on, and the run's counts and reports do not count it as failed.
	Ignored  bool          `json:"ignored,omitempty"`
	RC       int           `json:"rc"`
	Duration time.Duration `json:"duration_ns"`
	Msg      string        `json:"msg,omitempty"`
	// Message is Msg for people in both languages, when the module or the
	// transport gave one: the reason a host was unreachable, why a task
	// failed. Msg then keeps the raw text as evidence. Older journals and
	// results with an English message only leave it empty.
	Message  i18n.Text        `json:"message,omitzero"`
	Findings []module.Finding `json:"findings,omitempty"`
	// Patches holds the patch compliance of the record's host, one entry per
	// catalog patch that applies to it, on the records an inspection with a
	// patch catalog adds after its tasks. Older journals lack the field.
	Patches []PatchCompliance `json:"patches,omitempty"`
	// Prev is the hex SHA-256 of the previous line's bytes without its newline;
	// Append sets it.
	Prev string `json:"prev"`
}

// PlayIn returns the record's play name in lang, or Play when the record
// has the name in one language only.
func (r Record) PlayIn(lang i18n.Lang) string {
	if r.PlayName.IsZero() {
		return r.Play
	}
	return r.PlayName.In(lang)
}

// TaskIn returns the record's task name in lang, or Task when the record
// has the name in one language only.
func (r Record) TaskIn(lang i18n.Lang) string {
	if r.TaskName.IsZero() {
		return r.Task
	}
	return r.TaskName.In(lang)
}

// PatchCompliance is one catalog patch on a record's host: its deadline, when
// the host installed it and the verdict (met, missed, pending or unknown).
// The patches package fills it in and reads it back. This package keeps
// its own copy of the fields because patches depends on journal.
type PatchCompliance struct {
	Patch       string    `json:"patch"`
	Title       string    `json:"title,omitempty"`
	Severity    string    `json:"severity"`
	System      string    `json:"system,omitempty"`
	Arrived     time.Time `json:"arrived"`
	Deadline    time.Time `json:"deadline"`
	InstalledAt time.Time `json:"installed_at,omitzero"`
	Verdict     string    `json:"verdict"`
}

// RunStatus is the outcome of a whole run.
type RunStatus string

// Run statuses, recorded in the end record.
const (
	RunOK          RunStatus = "ok"
	RunFailed      RunStatus = "failed"
	RunUnreachable RunStatus = "unreachable"
	RunInterrupted RunStatus = "interrupted"
)

// Counts tallies the results of a run by status.
type Counts struct {
	OK          int `json:"ok"`
	Changed     int `json:"changed"`
	Failed      int `json:"failed"`
	Skipped     int `json:"skipped"`
	Unreachable int `json:"unreachable"`
	// Ignored counts the failed results that ignore_errors let pass. They
	// are counted in Failed too, so that the counts still add up for a
	// patrol that predates this field. The run's status leaves them out.
	Ignored int `json:"ignored,omitempty"`
	// Hosts is the number of distinct hosts with at least one result.
	Hosts int `json:"hosts"`
}

// Total returns the number of results counted.
func (c Counts) Total() int {
	return c.OK + c.Changed + c.Failed + c.Skipped + c.Unreachable
}

// End is the last line of a journal. A journal without one belongs to a run
// that is still going or that died before it could write it.
type End struct {
	// Type is always TypeEnd; Close sets it.
	Type   string    `json:"type"`
	Status RunStatus `json:"status"`
	// Counts is filled by Close from the results it wrote.
	Counts  Counts    `json:"counts"`
	EndedAt time.Time `json:"ended_at"`
	// Prev is the hex SHA-256 of the previous line; Close sets it.
	Prev string `json:"prev"`
}

// NewRunID returns a run id such as 20261204T210745.123Z-3fa9c1: the UTC start
// time to the millisecond, so that ids sort in time order even for runs started
// in the same second, and 6 random hex digits so that two runs started in the
// same millisecond get different files.
func NewRunID(started time.Time) string {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; keep the id valid anyway.
		b = [3]byte{byte(started.Nanosecond() >> 16), byte(started.Nanosecond() >> 8), byte(started.Nanosecond())}
	}
	return started.UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(b[:])
}

// DefaultDir returns the journal directory: $PATROL_HOME/journal, where
// PATROL_HOME defaults to ~/.patrol.
func DefaultDir() (string, error) {
	home := os.Getenv("PATROL_HOME")
	if home == "" {
		userHome, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find the journal directory: %w (set PATROL_HOME)", err)
		}
		home = filepath.Join(userHome, ".patrol")
	}
	return filepath.Join(home, "journal"), nil
}
