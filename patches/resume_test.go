package patches

import (
	"slices"
	"testing"
	"time"

	"patrol/journal"
)

// writeApplyJournal writes a patch apply journal with records; a nil end
// leaves the run unfinished, as a killed patrol does.
func writeApplyJournal(t *testing.T, dir string, started time.Time, records []journal.Record, end *journal.End) string {
	t.Helper()
	h := journal.Header{RunID: journal.NewRunID(started), StartedAt: started, Args: []string{"patch", "apply", "-i", "inv.yml"}}
	w, err := journal.Create(dir, h)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range records {
		r.Module = JournalModule
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if end == nil {
		return h.RunID
	}
	if err := w.Close(*end); err != nil {
		t.Fatal(err)
	}
	return h.RunID
}

func TestPreviousStopsSettledByLaterRun(t *testing.T) {
	step := func(host, patch string, s Step, status journal.Status) journal.Record {
		return journal.Record{Host: host, Play: patch, Task: string(s), Status: status}
	}
	start := time.Date(2026, 12, 4, 22, 0, 0, 0, time.UTC)
	killed := []journal.Record{
		step("db1", "", StepLock, journal.StatusOK),
		step("db1", "P1", StepCopy, journal.StatusChanged),
		step("db2", "", StepLock, journal.StatusOK),
		step("db2", "P1", StepCopy, journal.StatusChanged),
	}

	for _, tc := range []struct {
		name  string
		later []journal.Record
		want  []string
	}{
		{"no later run", nil, []string{"db1", "db2"}},
		{"later run found nothing to do on db1", []journal.Record{step("db1", "", StepQuery, journal.StatusOK)}, []string{"db2"}},
		{"later run finished both", []journal.Record{
			step("db1", "P1", StepPatch, journal.StatusChanged), step("db1", "", StepDone, journal.StatusOK),
			step("db2", "", StepDone, journal.StatusOK),
		}, nil},
		{"later run refused by the lock", []journal.Record{
			step("db1", "", StepQuery, journal.StatusOK), step("db1", "", StepLock, journal.StatusFailed), step("db1", "", StepDone, journal.StatusOK),
		}, []string{"db1", "db2"}},
		{"later run lost the link", []journal.Record{
			step("db2", "P1", StepCopy, journal.StatusUnreachable), step("db2", "", StepDone, journal.StatusOK),
		}, []string{"db1", "db2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			runID := writeApplyJournal(t, dir, start, killed, nil)
			if tc.later != nil {
				writeApplyJournal(t, dir, start.Add(time.Hour), tc.later, &journal.End{Status: journal.RunOK})
			}

			path, stops, err := PreviousStops(dir)
			if err != nil {
				t.Fatal(err)
			}

			var hosts []string
			for _, s := range stops {
				hosts = append(hosts, s.Host)
				if s.RunID != runID || s.Step != StepStopServices || s.Patch != "P1" {
					t.Errorf("stop = %+v, want run %s at stop_services of P1", s, runID)
				}
			}
			if !slices.Equal(hosts, tc.want) {
				t.Errorf("stopped hosts = %v, want %v", hosts, tc.want)
			}
			if (path == "") != (tc.want == nil) {
				t.Errorf("journal path = %q with stops %v", path, tc.want)
			}
		})
	}
}
