package journal

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestPatchComplianceRoundTrip(t *testing.T) {
	dir := t.TempDir()
	started := time.Date(2026, 12, 4, 13, 7, 45, 0, time.UTC)
	w, err := Create(dir, Header{RunID: NewRunID(started), StartedAt: started})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Date(2026, 12, 7, 18, 0, 0, 0, time.FixedZone("CST", 8*3600))
	row := PatchCompliance{Patch: "RHSA-1", Title: "OpenSSL", Severity: "urgent", System: "seal",
		Arrived: deadline.Add(-57 * time.Hour), Deadline: deadline, Verdict: "pending"}
	if err := w.Append(Record{Host: "web1", Task: "disk", Module: "check.disk", Status: StatusOK}); err != nil {
		t.Fatal(err)
	}
	if err := w.Append(Record{Host: "web1", Task: "patch compliance", Module: "patch.compliance", Status: StatusOK, Patches: []PatchCompliance{row}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(End{Status: RunOK}); err != nil {
		t.Fatal(err)
	}

	sum, err := Verify(w.Path())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if sum.Results != 2 {
		t.Errorf("Verify counts %d results, want 2", sum.Results)
	}
	_, records, _, err := Read(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	if len(records[0].Patches) != 0 {
		t.Errorf("a check record has patches %+v, want none", records[0].Patches)
	}
	if got := records[1].Patches; len(got) != 1 || !got[0].Deadline.Equal(row.Deadline) || got[0].Patch != row.Patch ||
		got[0].Verdict != row.Verdict || !got[0].InstalledAt.IsZero() {
		t.Errorf("patches read back = %+v, want [%+v]", got, row)
	}

	data, err := os.ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(string(data), "\n"); strings.Contains(lines[1], `"patches"`) {
		t.Errorf("a record without patches has the field, so its line differs from older journals: %s", lines[1])
	}
}
