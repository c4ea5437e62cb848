package patches

import (
	"time"

	"patrol/journal"
)

// ComplianceModule is the module name of the journal records that carry an
// inspection's patch compliance, one record per host.
const ComplianceModule = "patch.compliance"

// complianceTask is the task name of those records, as journal listings show it.
const complianceTask = "patch compliance"

// ComplianceRecords turns plans into one journal record per host that holds
// the host's compliance rows as of now. A host whose installed list could not
// be read gets a failed record with the reason and its rows as unknown.
func ComplianceRecords(plans []HostPlan, now time.Time) []journal.Record {
	records := make([]journal.Record, 0, len(plans))
	for _, hp := range plans {
		rec := journal.Record{
			Time: now, Host: hp.Host, Play: complianceTask, Task: complianceTask, Module: ComplianceModule,
			Status: journal.StatusOK, Msg: hp.Error,
		}
		if hp.Error != "" {
			rec.Status = journal.StatusFailed
		}
		for _, r := range Status([]HostPlan{hp}, now) {
			rec.Patches = append(rec.Patches, journal.PatchCompliance{
				Patch: r.Patch, Title: r.Title, Severity: string(r.Severity), System: r.System,
				Arrived: r.Arrived, Deadline: r.Deadline, InstalledAt: r.InstalledAt, Verdict: string(r.Verdict),
			})
		}
		records = append(records, rec)
	}
	return records
}

// ComplianceFromJournal returns the compliance rows that ComplianceRecords
// wrote into a journal, in the order Status gives them. found is false when
// the journal has no compliance records, as for a run without a catalog. It
// is true with no rows when no catalog patch applied to any host.
func ComplianceFromJournal(records []journal.Record) (rows []ComplianceRow, found bool) {
	for _, rec := range records {
		if rec.Module != ComplianceModule {
			continue
		}
		found = true
		for _, p := range rec.Patches {
			rows = append(rows, ComplianceRow{
				Patch: p.Patch, Title: p.Title, Severity: Severity(p.Severity), Host: rec.Host, System: p.System,
				Arrived: p.Arrived, Deadline: p.Deadline, InstalledAt: p.InstalledAt, Verdict: Verdict(p.Verdict),
			})
		}
	}
	sortRows(rows)
	return rows, found
}
