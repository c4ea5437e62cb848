package patches

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"patrol/inventory"
	"patrol/workday"
)

// dayDeadliner stands in for the working-day calendar: every day is a working
// day and business closes at 18:00 in the arrival's zone.
type dayDeadliner struct{}

func (dayDeadliner) Deadline(arrived time.Time, n int) time.Time {
	d := arrived.AddDate(0, 0, n)
	return time.Date(d.Year(), d.Month(), d.Day(), 18, 0, 0, 0, arrived.Location())
}

func planCatalog(t *testing.T) *Catalog {
	t.Helper()
	cat, err := LoadCatalog("testdata/catalog.yml")
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

var cst = time.FixedZone("CST", 8*3600)

func TestPlanStates(t *testing.T) {
	cat := planCatalog(t)
	hosts := []*inventory.Host{
		{Name: "web1", OS: "centos7", System: "seal"},
		{Name: "web2", OS: "centos7", System: "seal", Staging: true},
		{Name: "nossl", OS: "centos7", System: "seal"},
		{Name: "win1", OS: "win2012r2", System: "seal", Vars: map[string]any{"oracle_home": `D:\app\oracle\product\11.2.0\dbhome_1`, "oracle_version": "11.2.0.4"}},
		{Name: "win2", OS: "win2012r2", System: "entertainment"},
		{Name: "down", OS: "centos7", System: "hotel"},
	}
	installedAt := time.Date(2026, 9, 26, 10, 0, 0, 0, cst)
	installed := map[string]*Installed{
		"web1": {Queried: []string{"rpm"}, Packages: map[string][]Package{
			"openssl":      {{NEVRA: "openssl-1:1.0.2k-25.el7_9.x86_64"}},
			"openssl-libs": {{NEVRA: "openssl-libs-1:1.0.2k-25.el7_9.x86_64"}},
		}},
		"web2": {Queried: []string{"rpm"}, Packages: map[string][]Package{
			"openssl":      {{NEVRA: "openssl-1:1.0.2k-26.el7_9.x86_64", InstalledAt: installedAt}},
			"openssl-libs": {{NEVRA: "openssl-libs-1:1.0.2k-26.el7_9.x86_64", InstalledAt: installedAt.Add(-time.Hour)}},
		}},
		"nossl": {Queried: []string{"rpm"}, Packages: map[string][]Package{"bash": {{NEVRA: "bash-4.2.46-34.el7.x86_64"}}}},
		"win1":  {Queried: []string{"hotfix", "opatch"}, KBs: map[string]time.Time{}, OPatches: map[string]time.Time{"31537677": time.Date(2026, 10, 20, 9, 0, 0, 0, cst)}},
		"win2":  {Queried: []string{"hotfix"}, KBs: map[string]time.Time{"KB4012213": {}}},
	}
	now := time.Date(2026, 10, 1, 9, 0, 0, 0, cst)

	plans := Plan(PlanInput{
		Catalog: cat, Hosts: hosts, Installed: installed,
		QueryErrors: map[string]error{"down": errors.New("host down unreachable")},
		Calendar:    dayDeadliner{}, Now: now, WindowEnd: time.Date(2026, 10, 2, 6, 0, 0, 0, cst),
	})

	byHost := map[string]HostPlan{}
	for _, hp := range plans {
		byHost[hp.Host] = hp
	}
	check := func(host, patch string, state State, overdue bool) PlanItem {
		t.Helper()
		for _, it := range byHost[host].Items {
			if it.Patch == patch {
				if it.State != state || it.Overdue != overdue {
					t.Errorf("%s %s: state %s overdue %v, want %s %v", host, patch, it.State, it.Overdue, state, overdue)
				}
				return it
			}
		}
		t.Errorf("%s: patch %s not planned", host, patch)
		return PlanItem{}
	}

	ssl := check("web1", "openssl-1.0.2k-26.el7_9", StateMissing, true)
	if want := time.Date(2026, 9, 26, 18, 0, 0, 0, cst); !ssl.Deadline.Equal(want) {
		t.Errorf("openssl deadline = %v, want %v", ssl.Deadline, want)
	}
	if ssl.TimeLeft != -(4*24+15)*time.Hour {
		t.Errorf("openssl time left = %v", ssl.TimeLeft)
	}
	staged := check("web2", "openssl-1.0.2k-26.el7_9", StateInstalled, false)
	if !staged.InstalledAt.Equal(installedAt) {
		t.Errorf("installed at = %v, want the later of the two packages %v", staged.InstalledAt, installedAt)
	}
	if len(byHost["nossl"].Items) != 0 {
		t.Errorf("nossl has no openssl, so nothing applies; got %+v", byHost["nossl"].Items)
	}
	notApplicable := func(host, patch string, reason NotApplicableReason, detail, en string) {
		t.Helper()
		for _, na := range byHost[host].NotApplicable {
			if na.Patch != patch {
				continue
			}
			if na.Reason != reason || na.Detail != detail || na.Text.EN != en || na.Text.ZH == "" {
				t.Errorf("%s: %s not applicable = %+v, want reason %s, detail %q, text %q", host, patch, na, reason, detail, en)
			}
			return
		}
		t.Errorf("%s: patch %s is not listed as not applicable: %+v", host, patch, byHost[host].NotApplicable)
	}
	notApplicable("nossl", "openssl-1.0.2k-26.el7_9", ReasonPackageNotInstalled, "openssl, openssl-libs", "openssl, openssl-libs not installed")
	notApplicable("nossl", "KB4012213", ReasonOS, "centos7", "for win2012r2, the host is centos7")
	notApplicable("nossl", "31537677", ReasonProduct, "", "an Oracle patch, the host has no oracle_home")
	notApplicable("win2", "openssl-1.0.2k-26.el7_9", ReasonOS, "win2012r2", "for centos7, the host is win2012r2")
	notApplicable("win1", "openssl-1.0.2k-26.el7_9", ReasonOS, "win2012r2", "for centos7, the host is win2012r2")
	if n := len(byHost["web1"].NotApplicable); n != 2 {
		t.Errorf("web1 lists %d patches as not applicable, want the KB and the Oracle patch: %+v", n, byHost["web1"].NotApplicable)
	}

	// JSON has empty lists, not null, and the time left in seconds.
	data, err := json.Marshal(byHost["nossl"])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"items":[]`) || !strings.Contains(string(data), `"reason":"package_not_installed"`) {
		t.Errorf("plan JSON of nossl = %s, want \"items\":[] and a package_not_installed reason", data)
	}
	data, _ = json.Marshal(ssl)
	if want := fmt.Sprintf(`"time_left_seconds":%d`, -(4*24+15)*3600); !strings.Contains(string(data), want) || strings.Contains(string(data), `"time_left":`) {
		t.Errorf("plan item JSON = %s, want %s and no nanoseconds", data, want)
	}

	kb := check("win1", "KB4012213", StateMissing, false)
	if !kb.DueInWindow {
		t.Errorf("KB4012213 is due 2026-10-01 18:00, inside the window ending 2026-10-02 06:00")
	}
	check("win1", "31537677", StateInstalled, false)
	check("win2", "KB4012213", StateInstalled, false)
	if len(byHost["win2"].Items) != 1 {
		t.Errorf("win2 has no oracle_home, so only the KB applies; got %+v", byHost["win2"].Items)
	}
	if byHost["down"].Error == "" || len(byHost["down"].Items) != 1 || byHost["down"].Items[0].State != StateUnknown {
		t.Errorf("down = %+v, want an error and one unknown item", byHost["down"])
	}
	if items := byHost["win1"].Items; items[0].Patch != "KB4012213" {
		t.Errorf("win1 items not ordered by deadline: %+v", items)
	}

	rows := Status(plans, now)
	verdicts := map[string]Verdict{}
	for _, r := range rows {
		verdicts[r.Host+" "+r.Patch] = r.Verdict
	}
	for key, want := range map[string]Verdict{
		"web1 openssl-1.0.2k-26.el7_9": VerdictMissed,
		"web2 openssl-1.0.2k-26.el7_9": VerdictMet,
		"win1 KB4012213":               VerdictPending,
		"win1 31537677":                VerdictMissed,
		"win2 KB4012213":               VerdictUnknown,
		"down openssl-1.0.2k-26.el7_9": VerdictUnknown,
	} {
		if verdicts[key] != want {
			t.Errorf("verdict %s = %q, want %q", key, verdicts[key], want)
		}
	}
}

func TestNormalizeNEVRA(t *testing.T) {
	for _, tc := range []struct{ in, name, norm string }{
		{"openssl-1:1.0.2k-26.el7_9.x86_64", "openssl", "openssl-1:1.0.2k-26.el7_9.x86_64"},
		{"kernel-0:3.10.0-1160.el7.x86_64", "kernel", "kernel-3.10.0-1160.el7.x86_64"},
		{"python-libs-2.7.5-94.el7_9.x86_64", "python-libs", "python-libs-2.7.5-94.el7_9.x86_64"},
		{"tzdata-2024a-1.el7.noarch", "tzdata", "tzdata-2024a-1.el7.noarch"},
	} {
		name, norm, ok := NormalizeNEVRA(tc.in)
		if !ok || name != tc.name || norm != tc.norm {
			t.Errorf("NormalizeNEVRA(%q) = %q, %q, %v; want %q, %q", tc.in, name, norm, ok, tc.name, tc.norm)
		}
	}
	if _, _, ok := NormalizeNEVRA("openssl"); ok {
		t.Error("a bare name parsed as a NEVRA")
	}
}

func TestPlanWorkdayCalendar(t *testing.T) {
	cal := workday.Default()
	cat := planCatalog(t)
	host := &inventory.Host{Name: "win1", OS: "win2012r2"}

	plans := Plan(PlanInput{
		Catalog: cat, Hosts: []*inventory.Host{host},
		Installed: map[string]*Installed{"win1": {Queried: []string{"hotfix"}}},
		Calendar:  cal, Now: time.Date(2026, 10, 7, 12, 0, 0, 0, cst),
	})

	// KB4012213 is serious and arrived Wednesday 2026-09-30 17:00, the eve of
	// the National Day holiday (October 1-7, 2026), so its one working day is
	// Thursday October 8.
	item := plans[0].Items[0]
	if want := time.Date(2026, 10, 8, 18, 0, 0, 0, cst); !item.Deadline.Equal(want) {
		t.Errorf("deadline = %v, want %v", item.Deadline, want)
	}
	if item.Overdue || item.TimeLeft != 30*time.Hour {
		t.Errorf("overdue %v, time left %v; want not overdue, 30h left", item.Overdue, item.TimeLeft)
	}
}

// rpm gives install times as Unix seconds, read in UTC; the plan shows them
// in the deadline's zone, as it shows arrived and deadline.
func TestPlanInstalledAtInDeadlineZone(t *testing.T) {
	installedUTC := time.Date(2026, 9, 26, 2, 0, 0, 0, time.UTC)
	plans := Plan(PlanInput{
		Catalog: planCatalog(t),
		Hosts:   []*inventory.Host{{Name: "web2", OS: "centos7", System: "seal"}},
		Installed: map[string]*Installed{"web2": {Queried: []string{"rpm"}, Packages: map[string][]Package{
			"openssl":      {{NEVRA: "openssl-1:1.0.2k-26.el7_9.x86_64", InstalledAt: installedUTC}},
			"openssl-libs": {{NEVRA: "openssl-libs-1:1.0.2k-26.el7_9.x86_64", InstalledAt: installedUTC}},
		}}},
		Calendar: dayDeadliner{}, Now: time.Date(2026, 10, 1, 9, 0, 0, 0, cst),
	})

	data, err := json.Marshal(plans)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"installed_at":"2026-09-26T10:00:00+08:00"`) {
		t.Errorf("plan JSON does not give installed_at in +08:00:\n%s", data)
	}
	rows, err := json.Marshal(Status(plans, time.Date(2026, 10, 1, 9, 0, 0, 0, cst)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(rows), `"installed_at":"2026-09-26T10:00:00+08:00"`) {
		t.Errorf("status JSON does not give installed_at in +08:00:\n%s", rows)
	}
}
