package main

import (
	"path/filepath"
	"testing"
	"time"

	"patrol/journal"
	"patrol/patches"
)

// TestPreviousMonthlyStart finds where a monthly report's patch rows begin
// among journals of daily runs, monthly runs with and without a catalog,
// and a later monthly run.
func TestPreviousMonthlyStart(t *testing.T) {
	dir := t.TempDir()
	cst := time.FixedZone("CST", 8*3600)
	write := func(started time.Time, playbook string, compliance bool) string {
		t.Helper()
		w, err := journal.Create(dir, journal.Header{
			RunID: journal.NewRunID(started), StartedAt: started,
			Playbook: journal.FileDigest{Path: playbook, SHA256: "0"},
		})
		if err != nil {
			t.Fatal(err)
		}
		rec := journal.Record{Host: "seal-app", Play: "p", Task: "disk", Module: "check.disk", Status: journal.StatusOK}
		if compliance {
			rec = journal.Record{Host: "seal-app", Play: "patch compliance", Task: "patch compliance", Module: patches.ComplianceModule, Status: journal.StatusOK}
		}
		if err := w.Append(rec); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(journal.End{Status: journal.RunOK}); err != nil {
			t.Fatal(err)
		}
		return w.Path()
	}

	october := time.Date(2026, 10, 30, 9, 0, 0, 0, cst)
	write(october, "monthly-inspection.yml", true)
	november := time.Date(2026, 11, 5, 9, 0, 0, 0, cst)
	write(november, "monthly-inspection.yml", true)
	write(time.Date(2026, 11, 20, 9, 0, 0, 0, cst), "daily-inspection.yml", true)
	write(time.Date(2026, 11, 25, 9, 0, 0, 0, cst), "monthly-inspection.yml", false)
	december := write(time.Date(2026, 12, 1, 9, 0, 0, 0, cst), "monthly-inspection.yml", true)
	write(time.Date(2026, 12, 20, 9, 0, 0, 0, cst), "monthly-inspection.yml", true)

	if got := previousMonthlyStart(december, time.Date(2026, 12, 1, 9, 0, 0, 0, cst)); !got.Equal(november) {
		t.Errorf("period of the December report starts %s, want the November inspection at %s", got, november)
	}
	first := filepath.Join(dir, journal.NewRunID(october)+journal.Ext)
	if got := previousMonthlyStart(first, october); !got.IsZero() {
		t.Errorf("period of the first report starts %s, want none", got)
	}
}
