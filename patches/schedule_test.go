package patches

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"patrol/i18n"
	"patrol/inventory"
	"patrol/journal"
	"patrol/workday"
)

func names(hosts []*inventory.Host) []string {
	out := make([]string, len(hosts))
	for i, h := range hosts {
		out[i] = h.Name
	}
	return out
}

func TestBatchesKeepPairsApart(t *testing.T) {
	a1 := &inventory.Host{Name: "a1", Pair: "a"}
	a2 := &inventory.Host{Name: "a2", Pair: "a"}
	a3 := &inventory.Host{Name: "a3", Pair: "a"}
	b1 := &inventory.Host{Name: "b1", Pair: "b"}
	b2 := &inventory.Host{Name: "b2", Pair: "b"}
	c := &inventory.Host{Name: "c"}
	d := &inventory.Host{Name: "d"}

	for _, tc := range []struct {
		name  string
		hosts []*inventory.Host
		size  int
		want  [][]string
	}{
		{"serial 1", []*inventory.Host{a1, a2, c}, 1, [][]string{{"a1"}, {"a2"}, {"c"}}},
		{"serial 2 splits a pair", []*inventory.Host{a1, a2, b1, b2}, 2, [][]string{{"a1", "b1"}, {"a2", "b2"}}},
		{"unpaired hosts fill batches", []*inventory.Host{a1, a2, c, d}, 2, [][]string{{"a1", "c"}, {"a2", "d"}}},
		{"three of a pair need three batches", []*inventory.Host{a1, a2, a3}, 5, [][]string{{"a1"}, {"a2"}, {"a3"}}},
		{"size below 1 means 1", []*inventory.Host{c, d}, 0, [][]string{{"c"}, {"d"}}},
	} {
		var got [][]string
		for _, b := range Batches(tc.hosts, tc.size) {
			got = append(got, names(b))
		}
		if !slices.EqualFunc(got, tc.want, slices.Equal) {
			t.Errorf("%s: batches %v, want %v", tc.name, got, tc.want)
		}
	}
}

// scheduleCatalog has one RPM patch for centos7.
func scheduleCatalog(t *testing.T) *Catalog {
	t.Helper()
	cat, err := ParseCatalog("catalog.yml", []byte(`patches:
  - id: app-1.1
    severity: urgent
    arrived: 2026-06-05T10:00:00+08:00
    method: rpm
    files: [{path: a.rpm, sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08}]
    verify: {packages: [app-1.1-1.noarch]}
`))
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func TestBuildScheduleGatesOnStaging(t *testing.T) {
	cat := scheduleCatalog(t)
	old := &Installed{Queried: []string{"rpm"}, Packages: map[string][]Package{"app": {{NEVRA: "app-1.0-1.noarch"}}}}
	patched := &Installed{Queried: []string{"rpm"}, Packages: map[string][]Package{"app": {{NEVRA: "app-1.1-1.noarch"}}}}
	hosts := []*inventory.Host{
		{Name: "seal-test", OS: "centos7", System: "seal", Staging: true},
		{Name: "seal-1", OS: "centos7", System: "seal", Pair: "seal"},
		{Name: "seal-2", OS: "centos7", System: "seal", Pair: "seal"},
		{Name: "hotel-test", OS: "centos7", System: "hotel", Staging: true},
		{Name: "hotel-1", OS: "centos7", System: "hotel"},
		{Name: "ent-1", OS: "centos7", System: "entertainment"},
		{Name: "nosys", OS: "centos7"},
	}
	byName := map[string]*inventory.Host{}
	for _, h := range hosts {
		byName[h.Name] = h
	}
	installed := map[string]*Installed{"seal-test": old, "seal-1": old, "seal-2": old, "hotel-test": patched, "hotel-1": old, "ent-1": old, "nosys": old}
	plans := Plan(PlanInput{Catalog: cat, Hosts: hosts, Installed: installed, Calendar: workday.Default(), Now: time.Now()})

	t.Run("staging selected", func(t *testing.T) {
		sel := map[string]bool{}
		for _, h := range hosts {
			sel[h.Name] = true
		}
		s := BuildSchedule(ScheduleInput{Catalog: cat, Plans: plans, Hosts: byName, Selected: sel, StagingBySystem: StagingHosts(hosts), Serial: 2})
		if len(s.Staging) != 1 || !slices.Equal(workNames(s.Staging[0]), []string{"seal-test"}) {
			t.Errorf("staging batches %v, want [[seal-test]] (hotel-test has the patch already)", batchNames(s.Staging))
		}
		if got := batchNames(s.Production); !slices.EqualFunc(got, [][]string{{"hotel-1", "seal-1"}, {"seal-2"}}, slices.Equal) {
			t.Errorf("production batches %v, want [[hotel-1 seal-1] [seal-2]]", got)
		}
		for _, b := range s.Production {
			for _, w := range b {
				after := w.Items[0].AfterStaging
				if (w.Host.System == "seal") != after {
					t.Errorf("%s: AfterStaging = %v, want it only where the staging host gets the patch in this run", w.Host.Name, after)
				}
			}
		}
		refused := map[string]string{}
		for _, r := range s.Refused {
			refused[r.Host] = r.Text.In(i18n.EN)
		}
		if !strings.Contains(refused["ent-1"], "system entertainment has no staging host") || !strings.Contains(refused["ent-1"], "staging: true") {
			t.Errorf("ent-1 refusal = %q", refused["ent-1"])
		}
		if !strings.Contains(refused["nosys"], "has no system") {
			t.Errorf("nosys refusal = %q", refused["nosys"])
		}
		if len(refused) != 2 {
			t.Errorf("refused hosts %v, want ent-1 and nosys", refused)
		}
	})

	t.Run("staging outside limit", func(t *testing.T) {
		sel := map[string]bool{"seal-1": true, "hotel-1": true}
		s := BuildSchedule(ScheduleInput{Catalog: cat, Plans: plans, Hosts: byName, Selected: sel, StagingBySystem: StagingHosts(hosts), Serial: 1})
		if len(s.Staging) != 0 {
			t.Errorf("staging batches %v, want none: the staging hosts are outside --limit", batchNames(s.Staging))
		}
		if got := batchNames(s.Production); !slices.EqualFunc(got, [][]string{{"hotel-1"}}, slices.Equal) {
			t.Errorf("production batches %v, want [[hotel-1]]: hotel-test has the patch", got)
		}
		if len(s.Refused) != 1 || s.Refused[0].Host != "seal-1" || !strings.Contains(s.Refused[0].Text.EN, "add seal-test to --limit") {
			t.Errorf("refusals %+v, want seal-1 refused until seal-test has the patch", s.Refused)
		}
	})

	t.Run("unchecked after an interrupted run", func(t *testing.T) {
		// hotel-test and hotel-1 have the patch from a run killed before it
		// checked them.
		installedOn := map[string]*Installed{"hotel-test": patched, "hotel-1": patched, "seal-test": old, "seal-1": old, "seal-2": old, "ent-1": old, "nosys": old}
		unchecked := Plan(PlanInput{Catalog: cat, Hosts: hosts, Installed: installedOn, Calendar: workday.Default(), Now: time.Now()})
		markUnchecked(unchecked, []Stop{
			{Host: "hotel-test", Patch: "app-1.1", Step: StepVerify, Installing: true},
			{Host: "hotel-1", Patch: "app-1.1", Step: StepPostCheck, Installing: true},
			// A run that stopped before the install leaves no unchecked patch.
			{Host: "seal-1", Patch: "app-1.1", Step: StepCopy},
		})

		all := map[string]bool{"hotel-test": true, "hotel-1": true}
		s := BuildSchedule(ScheduleInput{Catalog: cat, Plans: unchecked, Hosts: byName, Selected: all, StagingBySystem: StagingHosts(hosts), Serial: 1})
		if got := batchNames(s.Staging); !slices.EqualFunc(got, [][]string{{"hotel-test"}}, slices.Equal) {
			t.Errorf("staging batches %v, want [[hotel-test]] to check the patch again", got)
		}
		if got := batchNames(s.Production); !slices.EqualFunc(got, [][]string{{"hotel-1"}}, slices.Equal) {
			t.Errorf("production batches %v, want [[hotel-1]] to check the patch again", got)
		}
		if len(s.Production) == 1 && s.Production[0][0].Items[0].Plan.State != StateUnchecked {
			t.Errorf("hotel-1 item state = %s, want unchecked", s.Production[0][0].Items[0].Plan.State)
		}

		// A production host that still lacks the patch waits for the staging
		// host's checks, and is refused when --limit leaves it out.
		installedOn["hotel-1"] = old
		unchecked = Plan(PlanInput{Catalog: cat, Hosts: hosts, Installed: installedOn, Calendar: workday.Default(), Now: time.Now()})
		markUnchecked(unchecked, []Stop{{Host: "hotel-test", Patch: "app-1.1", Step: StepInstall, Installing: true}})
		s = BuildSchedule(ScheduleInput{Catalog: cat, Plans: unchecked, Hosts: byName, Selected: all, StagingBySystem: StagingHosts(hosts), Serial: 1})
		if len(s.Production) != 1 || !s.Production[0][0].Items[0].AfterStaging {
			t.Errorf("production %v, want hotel-1 after the staging host's checks", batchNames(s.Production))
		}
		s = BuildSchedule(ScheduleInput{Catalog: cat, Plans: unchecked, Hosts: byName, Selected: map[string]bool{"hotel-1": true}, StagingBySystem: StagingHosts(hosts), Serial: 1})
		if len(s.Production) != 0 || len(s.Refused) != 1 || !strings.Contains(s.Refused[0].Text.EN, "checks there have not passed (the run that installed it was interrupted or they failed); add hotel-test to --limit") {
			t.Errorf("schedule = %+v, want hotel-1 refused until hotel-test is checked", s)
		}
	})

	t.Run("staging not queried", func(t *testing.T) {
		var without []HostPlan
		for _, hp := range plans {
			if hp.Host == "seal-test" {
				hp.Error = "host seal-test unreachable"
			}
			without = append(without, hp)
		}
		s := BuildSchedule(ScheduleInput{Catalog: cat, Plans: without, Hosts: byName, Selected: map[string]bool{"seal-test": true, "seal-1": true}, StagingBySystem: StagingHosts(hosts), Serial: 1})
		if len(s.Production) != 0 || len(s.Refused) != 1 || !strings.Contains(s.Refused[0].Text.EN, "could not be queried") {
			t.Errorf("schedule = %+v, want seal-1 refused because seal-test could not be queried", s)
		}
	})
}

func workNames(batch []*HostWork) []string {
	out := make([]string, len(batch))
	for i, w := range batch {
		out[i] = w.Host.Name
	}
	return out
}

func batchNames(batches [][]*HostWork) [][]string {
	var out [][]string
	for _, b := range batches {
		out = append(out, workNames(b))
	}
	return out
}

// TestPlanDeadlineFromCalendar checks a deadline with the real working-day
// calendar: an urgent patch that arrived on Friday 2026-06-05 is due at the
// close of business on Monday.
func TestPlanDeadlineFromCalendar(t *testing.T) {
	cat := scheduleCatalog(t)
	h := &inventory.Host{Name: "seal-1", OS: "centos7", System: "seal"}
	installed := &Installed{Queried: []string{"rpm"}, Packages: map[string][]Package{"app": {{NEVRA: "app-1.0-1.noarch"}}}}
	now := time.Date(2026, 6, 8, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))

	plans := Plan(PlanInput{Catalog: cat, Hosts: []*inventory.Host{h}, Installed: map[string]*Installed{"seal-1": installed},
		Calendar: workday.Default(), Now: now, WindowEnd: now.Add(10 * time.Hour)})

	it := plans[0].Items[0]
	if want := time.Date(2026, 6, 8, 18, 0, 0, 0, time.FixedZone("CST", 8*3600)); !it.Deadline.Equal(want) {
		t.Errorf("deadline = %s, want %s", it.Deadline, want)
	}
	if it.TimeLeft != 9*time.Hour || it.Overdue || !it.DueInWindow {
		t.Errorf("time left %s, overdue %v, due in window %v; want 9h, false, true", it.TimeLeft, it.Overdue, it.DueInWindow)
	}
}

func TestParseWindowEnd(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 12, 4, 22, 30, 0, 0, loc)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"", time.Time{}},
		{"06:00", time.Date(2026, 12, 5, 6, 0, 0, 0, loc)},
		{"23:00", time.Date(2026, 12, 4, 23, 0, 0, 0, loc)},
		{"22:30", time.Date(2026, 12, 5, 22, 30, 0, 0, loc)},
		{"2h", now.Add(2 * time.Hour)},
		{"90m", now.Add(90 * time.Minute)},
		{"2026-12-05T04:00:00+08:00", time.Date(2026, 12, 5, 4, 0, 0, 0, loc)},
	} {
		got, err := ParseWindowEnd(tc.in, now, loc)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("ParseWindowEnd(%q) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"6am", "25:00", "-2h", "0s", "tomorrow"} {
		if _, err := ParseWindowEnd(bad, now, loc); err == nil {
			t.Errorf("ParseWindowEnd(%q) accepted", bad)
		} else if !strings.Contains(err.Error(), bad) {
			t.Errorf("ParseWindowEnd(%q) error %q does not name the value", bad, err)
		}
	}
}

func TestStopsOfInterruptedRun(t *testing.T) {
	h := journal.Header{RunID: "R1", Args: []string{"--lang", "en", "patch", "apply", "-i", "inv.yml"}}
	rec := func(host, patch string, step Step, status journal.Status) journal.Record {
		return journal.Record{Host: host, Play: patch, Task: string(step), Module: JournalModule, Status: status}
	}
	records := []journal.Record{
		rec("a", "", StepQuery, journal.StatusOK),
		rec("b", "", StepQuery, journal.StatusOK),
		rec("c", "", StepQuery, journal.StatusOK),
		rec("d", "", StepQuery, journal.StatusOK),
		rec("e", "", StepQuery, journal.StatusOK),
		rec("a", "", StepLock, journal.StatusOK),
		rec("a", "P1", StepQuery, journal.StatusOK),
		rec("a", "P1", StepPreCheck, journal.StatusOK),
		rec("a", "P1", StepCopy, journal.StatusChanged),
		rec("a", "P1", StepStopServices, journal.StatusSkipped),
		rec("b", "", StepLock, journal.StatusOK),
		rec("b", "P1", StepInstall, journal.StatusFailed),
		rec("c", "", StepLock, journal.StatusOK),
		rec("c", "P1", StepPatch, journal.StatusChanged),
		rec("d", "", StepLock, journal.StatusOK),
		rec("d", "P1", StepPatch, journal.StatusChanged),
		rec("d", "", StepDone, journal.StatusOK),
	}
	if !IsApplyRun(h) {
		t.Fatal("IsApplyRun = false for patch apply")
	}

	got := Stops(h, records, nil)

	want := []Stop{
		{RunID: "R1", Host: "a", Patch: "P1", Step: StepInstall, Installing: true},
		{RunID: "R1", Host: "b", Patch: "P1", Step: StepInstall, Installing: true},
		{RunID: "R1", Host: "c", Step: StepQuery},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Stops = %+v\nwant %+v", got, want)
	}
	if text := got[0].Text().In(i18n.EN); text != "previous run R1 stopped on host a at step install of patch P1" {
		t.Errorf("text = %q", text)
	}
	if text := got[0].Text().In(i18n.ZH); text != "上次运行 R1 停在主机 a 上补丁 P1 的步骤“安装”" {
		t.Errorf("Chinese text = %q", text)
	}
	if s := Stops(h, records, &journal.End{Status: journal.RunFailed}); s != nil {
		t.Errorf("a run with an end record stopped nowhere, got %+v", s)
	}
	if IsApplyRun(journal.Header{Args: []string{"patch", "apply"}, CheckMode: true}) || IsApplyRun(journal.Header{Args: []string{"run", "x.yml"}}) {
		t.Error("IsApplyRun accepts check mode or another command")
	}
}

func TestParseDFAvailable(t *testing.T) {
	for _, tc := range []struct {
		file string
		want int64
	}{
		{"local-debian12-df-pk-root.txt", 82264124 * 1024},
		{"local-debian12-df-pk-tmpfs.txt", 24683784 * 1024},
	} {
		data, err := os.ReadFile("testdata/df/" + tc.file)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseDFAvailable(data)
		if err != nil || got != tc.want {
			t.Errorf("%s: %d, %v; want %d", tc.file, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "Filesystem 1024-blocks Used Available Capacity Mounted on\n", "df: /x: No such file or directory\n"} {
		if _, err := parseDFAvailable([]byte(bad)); err == nil {
			t.Errorf("parseDFAvailable(%q) accepted", bad)
		}
	}
}

// TestStopsDuringUndo reads runs killed while they undid a patch that failed
// after its install. Each stop names the undo step that did not finish and
// marks that the host may have the patch.
func TestStopsDuringUndo(t *testing.T) {
	h := journal.Header{RunID: "R2", Args: []string{"patch", "apply"}}
	rec := func(host, patch string, step Step, status journal.Status) journal.Record {
		return journal.Record{Host: host, Play: patch, Task: string(step), Module: JournalModule, Status: status}
	}
	installed := func(host string) []journal.Record {
		return []journal.Record{
			rec(host, "", StepLock, journal.StatusOK),
			rec(host, "P1", StepQuery, journal.StatusOK),
			rec(host, "P1", StepPreCheck, journal.StatusOK),
			rec(host, "P1", StepCopy, journal.StatusChanged),
			rec(host, "P1", StepStopServices, journal.StatusChanged),
			rec(host, "P1", StepInstall, journal.StatusChanged),
			rec(host, "P1", StepReboot, journal.StatusSkipped),
			rec(host, "P1", StepStartServices, journal.StatusChanged),
		}
	}
	var records []journal.Record
	// f: killed after the services were stopped again for the rollback.
	records = append(records, installed("f")...)
	records = append(records,
		rec("f", "P1", StepVerify, journal.StatusOK),
		rec("f", "P1", StepPostCheck, journal.StatusFailed),
		rec("f", "P1", StepStopServices, journal.StatusChanged))
	// g: killed after the rollback, before the services started.
	records = append(records, installed("g")...)
	records = append(records,
		rec("g", "P1", StepVerify, journal.StatusFailed),
		rec("g", "P1", StepStopServices, journal.StatusChanged),
		rec("g", "P1", StepRollback, journal.StatusChanged))
	// k: killed after the services started again, before the result.
	records = append(records, installed("k")...)
	records = append(records,
		rec("k", "P1", StepPostCheck, journal.StatusFailed),
		rec("k", "P1", StepStopServices, journal.StatusChanged),
		rec("k", "P1", StepRollback, journal.StatusFailed),
		rec("k", "P1", StepStartServices, journal.StatusChanged))
	// m: the stop before the rollback failed, and the run was killed.
	records = append(records, installed("m")...)
	records = append(records,
		rec("m", "P1", StepPostCheck, journal.StatusFailed),
		rec("m", "P1", StepStopServices, journal.StatusFailed))
	// n: a pre-check failed; nothing was installed.
	records = append(records,
		rec("n", "", StepLock, journal.StatusOK),
		rec("n", "P1", StepQuery, journal.StatusOK),
		rec("n", "P1", StepPreCheck, journal.StatusFailed))
	// p: P1 finished; the run was killed while it copied P2.
	records = append(records, installed("p")...)
	records = append(records,
		rec("p", "P1", StepVerify, journal.StatusOK),
		rec("p", "P1", StepPostCheck, journal.StatusOK),
		rec("p", "P1", StepPatch, journal.StatusChanged),
		rec("p", "P2", StepQuery, journal.StatusOK),
		rec("p", "P2", StepPreCheck, journal.StatusOK))

	got := Stops(h, records, nil)

	want := []Stop{
		{RunID: "R2", Host: "f", Patch: "P1", Step: StepRollback, Installing: true},
		{RunID: "R2", Host: "g", Patch: "P1", Step: StepStartServices, Installing: true},
		{RunID: "R2", Host: "k", Patch: "P1", Step: StepPatch, Installing: true},
		{RunID: "R2", Host: "m", Patch: "P1", Step: StepStopServices, Installing: true},
		{RunID: "R2", Host: "n", Patch: "P1", Step: StepPreCheck},
		{RunID: "R2", Host: "p", Patch: "P2", Step: StepCopy},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Stops =\n%+v\nwant\n%+v", got, want)
	}
}
