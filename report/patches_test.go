package report

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"patrol/i18n"
	"patrol/journal"
	"patrol/patches"
)

// compliantInspection is sampleInspection, moved to the end of November,
// with a patch compliance section of November that has every verdict, and a
// patch installed late as well as one still missing after its deadline.
func compliantInspection() Inspection {
	cst := time.FixedZone("CST", 8*3600)
	at := func(day, hour int) time.Time { return time.Date(2026, 11, day, hour, 0, 0, 0, cst) }
	in := sampleInspection()
	in.StartedAt, in.EndedAt = at(30, 9), at(30, 10)
	in.Patches = &PatchCompliance{Rows: []patches.ComplianceRow{
		{Patch: "RHSA-2026:1001", Title: "OpenSSL 安全更新", Severity: patches.Urgent, Host: "hotel-web1", System: "hotel",
			Arrived: at(2, 9), Deadline: at(3, 18), InstalledAt: at(3, 10), Verdict: patches.VerdictMet},
		{Patch: "RHSA-2026:1001", Title: "OpenSSL 安全更新", Severity: patches.Urgent, Host: "hotel-db1", System: "hotel",
			Arrived: at(2, 9), Deadline: at(3, 18), Verdict: patches.VerdictUnknown},
		{Patch: "KB5030001", Severity: patches.Serious, Host: "seal-db1", System: "seal",
			Arrived: at(10, 17), Deadline: at(11, 18), InstalledAt: at(13, 9), Verdict: patches.VerdictMissed},
		{Patch: "KB5030001", Severity: patches.Serious, Host: "seal-db2", System: "seal",
			Arrived: at(10, 17), Deadline: at(11, 18), Verdict: patches.VerdictMissed},
		{Patch: "31537677", Title: "Database PSU", Severity: patches.Normal, Host: "seal-db1", System: "seal",
			Arrived: at(27, 9), Deadline: time.Date(2026, 12, 1, 18, 0, 0, 0, cst), Verdict: patches.VerdictPending},
	}}
	return in
}

func TestPatchSectionMarkdown(t *testing.T) {
	cases := []struct {
		lang i18n.Lang
		want []string
	}{
		{i18n.ZH, []string{
			"## 补丁合规\n",
			"| 补丁 × 主机数 | 按期完成 | 超期 | 待安装 | 未知 |\n| --- | --- | --- | --- | --- |\n| 5 | 1 | 2 | 1 | 1 |\n",
			"| 1 | RHSA-2026:1001 | OpenSSL 安全更新 | 紧急 | hotel-web1 | 2026-11-02 09:00 | 2026-11-03 18:00 | 2026-11-03 10:00 | 按期完成 |  |\n",
			"| 3 | KB5030001 |  | 严重 | seal-db1 | 2026-11-10 17:00 | 2026-11-11 18:00 | 2026-11-13 09:00 | **超期** |  |\n",
			"| 4 | KB5030001 |  | 严重 | seal-db2 | 2026-11-10 17:00 | 2026-11-11 18:00 | 未安装 | **超期** |  |\n",
			"| 5 | 31537677 | Database PSU | 普通 | seal-db1 | 2026-11-27 09:00 | 2026-12-01 18:00 | 未安装 | 待安装 |  |\n",
			"| 2 | RHSA-2026:1001 | OpenSSL 安全更新 | 紧急 | hotel-db1 | 2026-11-02 09:00 | 2026-11-03 18:00 | — | **未知** |  |\n",
			"| seal-db2 | 补丁合规 | KB5030001 | **超期** | 未安装 | 期限 2026-11-11 18:00 | 已过期限仍未安装 |",
			"| seal-db1 | 补丁合规 | KB5030001 | **超期** | 2026-11-13 09:00 | 期限 2026-11-11 18:00 | 超过期限后才安装 |",
			"发现 10 项异常",
		}},
		{i18n.EN, []string{
			"## Patch compliance\n",
			"| Patches × hosts | met | missed | pending | unknown |\n| --- | --- | --- | --- | --- |\n| 5 | 1 | 2 | 1 | 1 |\n",
			"| 3 | KB5030001 |  | serious | seal-db1 | 2026-11-10 17:00 | 2026-11-11 18:00 | 2026-11-13 09:00 | **missed** |  |\n",
			"| 4 | KB5030001 |  | serious | seal-db2 | 2026-11-10 17:00 | 2026-11-11 18:00 | not installed | **missed** |  |\n",
			"| 5 | 31537677 | Database PSU | normal | seal-db1 | 2026-11-27 09:00 | 2026-12-01 18:00 | not installed | pending |  |\n",
			"| seal-db2 | Patch compliance | KB5030001 | **missed** | not installed | deadline 2026-11-11 18:00 | still not installed after its deadline |",
			"10 anomalies need handling",
		}},
	}
	for _, c := range cases {
		md, err := RenderMarkdown(compliantInspection(), c.lang)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range c.want {
			if !strings.Contains(string(md), want) {
				t.Errorf("%s report.md lacks %q", c.lang, want)
			}
		}
		section := strings.Index(string(md), "## "+labels["section.patches"].In(c.lang))
		if details := strings.Index(string(md), "## "+labels["section.details"].In(c.lang)); section < 0 || section > details {
			t.Errorf("%s: the patch section starts at %d, want it before the item details at %d", c.lang, section, details)
		}
	}
}

func TestPatchSectionHTML(t *testing.T) {
	html, err := RenderHTML(compliantInspection(), i18n.ZH)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"<h2>补丁合规</h2>",
		`<td>KB5030001</td><td>严重</td><td>seal-db2</td><td>2026-11-10 17:00</td><td>2026-11-11 18:00</td><td>未安装</td><td><span class="status status-fail">超期</span></td>`,
		`<span class="status status-pending">待安装</span>`,
		`<span class="status status-ok">按期完成</span>`,
		`<span class="status status-error">未知</span>`,
		".status-pending {",
		"<td>5</td><td>1</td><td>2</td><td>1</td><td>1</td>",
	} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}

func TestPatchSectionAbsentWithoutCatalog(t *testing.T) {
	for _, lang := range []i18n.Lang{i18n.ZH, i18n.EN} {
		md, err := RenderMarkdown(sampleInspection(), lang)
		if err != nil {
			t.Fatal(err)
		}
		if title := labels["section.patches"].In(lang); strings.Contains(string(md), title) {
			t.Errorf("%s report.md without patch rows mentions %q", lang, title)
		}
	}
	data, err := RenderJSON(sampleInspection(), i18n.ZH)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "patch") {
		t.Errorf("report.json without patch rows has a patch field:\n%s", data)
	}
}

func TestPatchSectionNoRows(t *testing.T) {
	in := sampleInspection()
	in.Patches = &PatchCompliance{}
	md, err := RenderMarkdown(in, i18n.EN)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "## Patch compliance\n") {
		t.Errorf("report.md with an empty patch section lacks its heading:\n%s", md)
	}
	if !strings.Contains(string(md), labels["patches.none"].EN) {
		t.Errorf("report.md with an empty patch section lacks %q:\n%s", labels["patches.none"].EN, md)
	}
}

func TestPatchSectionJSON(t *testing.T) {
	data, err := RenderJSON(compliantInspection(), i18n.ZH)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Patches struct {
			Rows []struct {
				Patch       string `json:"patch"`
				Severity    string `json:"severity"`
				Host        string `json:"host"`
				Deadline    string `json:"deadline"`
				InstalledAt string `json:"installed_at"`
				Verdict     string `json:"verdict"`
			} `json:"rows"`
		} `json:"patch_compliance"`
		Summary struct {
			Patches *PatchSummary `json:"patches"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Patches.Rows) != 5 {
		t.Fatalf("report.json has %d patch rows, want 5", len(rep.Patches.Rows))
	}
	r := rep.Patches.Rows[2]
	if r.Patch != "KB5030001" || r.Severity != "serious" || r.Host != "seal-db1" || r.Verdict != "missed" ||
		r.Deadline != "2026-11-11T18:00:00+08:00" || r.InstalledAt != "2026-11-13T09:00:00+08:00" {
		t.Errorf("row 3 = %+v", r)
	}
	if r := rep.Patches.Rows[3]; r.InstalledAt != "" {
		t.Errorf("a patch never installed has installed_at %q, want none", r.InstalledAt)
	}
	want := PatchSummary{Rows: 5, Met: 1, Missed: 2, Pending: 1, Unknown: 1}
	if rep.Summary.Patches == nil || *rep.Summary.Patches != want {
		t.Errorf("summary.patches = %+v, want %+v", rep.Summary.Patches, want)
	}
}

// TestPatchSectionNextMonth renders the rows of November in the report of
// December, whose period starts with November's inspection on Nov 30: the
// two rows installed and due before then drop out and are counted, and the
// rows still open stay.
func TestPatchSectionNextMonth(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	in := compliantInspection()
	in.StartedAt = time.Date(2026, 12, 31, 1, 0, 0, 0, time.UTC)
	in.EndedAt = in.StartedAt.Add(time.Hour)
	in.PeriodStart = time.Date(2026, 11, 30, 9, 0, 0, 0, cst)

	cases := []struct {
		lang i18n.Lang
		want []string
		gone []string
	}{
		{i18n.EN, []string{
			"| 3 | 0 | 1 | 1 | 1 |\n",
			"| 1 | RHSA-2026:1001 | OpenSSL 安全更新 | urgent | hotel-db1 |",
			"| 2 | KB5030001 |  | serious | seal-db2 |",
			"| 3 | 31537677 | Database PSU | normal | seal-db1 |",
			"2 rows installed and due before 2026-11-30 09:00 are not listed; patrol patch status lists every row.",
		}, []string{"hotel-web1 | 2026-11-02", "2026-11-13 09:00"}},
		{i18n.ZH, []string{
			"另有 2 行在 2026-11-30 09:00 之前已安装且已到期，未列出；patrol patch status 列出全部。",
		}, nil},
	}
	for _, c := range cases {
		md, err := RenderMarkdown(in, c.lang)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range c.want {
			if !strings.Contains(string(md), want) {
				t.Errorf("%s December report.md lacks %q", c.lang, want)
			}
		}
		for _, gone := range c.gone {
			if strings.Contains(string(md), gone) {
				t.Errorf("%s December report.md still lists %q, closed in November", c.lang, gone)
			}
		}
	}

	html, err := RenderHTML(in, i18n.ZH)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), "<p>另有 2 行在 2026-11-30 09:00 之前已安装且已到期") {
		t.Error("the December report.html does not say that two rows are not listed")
	}
	data, err := RenderJSON(in, i18n.EN)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Patches     PatchCompliance `json:"patch_compliance"`
		Summary     Summary         `json:"summary"`
		PeriodStart time.Time       `json:"period_start"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Patches.Rows) != 3 || rep.Patches.Earlier != 2 || !rep.PeriodStart.Equal(in.PeriodStart) {
		t.Errorf("December report.json has %d rows, %d earlier, period_start %s; want 3, 2, %s",
			len(rep.Patches.Rows), rep.Patches.Earlier, rep.PeriodStart, in.PeriodStart)
	}
	if want := (PatchSummary{Rows: 3, Missed: 1, Pending: 1, Unknown: 1}); rep.Summary.Patches == nil || *rep.Summary.Patches != want {
		t.Errorf("December summary.patches = %+v, want %+v", rep.Summary.Patches, want)
	}

	// Rendering a report.json's content again keeps the same rows.
	again, err := RenderJSON(normalize(in, i18n.EN), i18n.EN)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(data) {
		t.Errorf("normalizing twice changed report.json:\n%s\nwant\n%s", again, data)
	}
}

// TestPatchSectionPeriodDefault renders a report without a previous monthly
// inspection on the 1st of December: its period starts a month earlier, so
// a patch installed late on Nov 30 still shows as missed.
func TestPatchSectionPeriodDefault(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	in := compliantInspection()
	in.StartedAt = time.Date(2026, 12, 1, 8, 0, 0, 0, cst)
	in.Patches.Rows = append(in.Patches.Rows, patches.ComplianceRow{
		Patch: "KB5030002", Severity: patches.Urgent, Host: "seal-db1", System: "seal",
		Arrived: time.Date(2026, 11, 27, 9, 0, 0, 0, cst), Deadline: time.Date(2026, 11, 28, 18, 0, 0, 0, cst),
		InstalledAt: time.Date(2026, 11, 30, 20, 0, 0, 0, cst), Verdict: patches.VerdictMissed,
	})

	md, err := RenderMarkdown(in, i18n.EN)
	if err != nil {
		t.Fatal(err)
	}
	want := "| seal-db1 | Patch compliance | KB5030002 | **missed** | 2026-11-30 20:00 | deadline 2026-11-28 18:00 | installed after its deadline |"
	if !strings.Contains(string(md), want) {
		t.Errorf("report.md of Dec 1 lacks the late install of Nov 30 among the anomalies:\n%s", md)
	}
	if strings.Contains(string(md), "not listed") {
		t.Errorf("report.md of Dec 1 leaves rows of November out:\n%s", md)
	}
}

// TestPatchSectionAllEarlier renders a period in which every row was closed
// before it began. The section states that instead of claiming that no
// patch applies, and counts the row in the singular.
func TestPatchSectionAllEarlier(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	in := compliantInspection()
	in.Patches.Rows = in.Patches.Rows[:1]
	in.StartedAt = time.Date(2027, 1, 30, 9, 0, 0, 0, cst)
	in.PeriodStart = time.Date(2026, 12, 30, 9, 0, 0, 0, cst)

	for _, c := range []struct {
		lang i18n.Lang
		want []string
	}{
		{i18n.EN, []string{"No patch was missing, due or installed in this period.", "1 row installed and due before 2026-12-30 09:00 is not listed"}},
		{i18n.ZH, []string{"本期没有未安装、到期或新安装的补丁。", "另有 1 行在 2026-12-30 09:00 之前已安装且已到期"}},
	} {
		md, err := RenderMarkdown(in, c.lang)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range c.want {
			if !strings.Contains(string(md), want) {
				t.Errorf("%s report.md lacks %q:\n%s", c.lang, want, md)
			}
		}
		if strings.Contains(string(md), labels["patches.none"].In(c.lang)) {
			t.Errorf("%s report.md says no patch applies although one row was left out", c.lang)
		}
	}
}

func TestFromJournalPatchCompliance(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	arrived := time.Date(2020, 1, 6, 9, 0, 0, 0, cst)
	h := journal.Header{RunID: "r1", Playbook: journal.FileDigest{Path: "monthly-inspection.yml"}}
	records := []journal.Record{
		{Host: "web1", Task: "disk capacity", Module: "check.disk", Status: journal.StatusOK},
		{Host: "web1", Task: "patch compliance", Module: patches.ComplianceModule, Status: journal.StatusOK,
			Patches: []journal.PatchCompliance{{Patch: "RHSA-1", Severity: "urgent", Arrived: arrived, Deadline: arrived.Add(33 * time.Hour), Verdict: "missed"}}},
		{Host: "db1", Task: "patch compliance", Module: patches.ComplianceModule, Status: journal.StatusFailed, Msg: "connection refused",
			Patches: []journal.PatchCompliance{{Patch: "RHSA-1", Severity: "urgent", Arrived: arrived, Deadline: arrived.Add(33 * time.Hour), Verdict: "unknown"}}},
	}

	in := FromJournal(h, records, &journal.End{Status: journal.RunOK}, nil, nil)

	if in.Patches == nil || len(in.Patches.Rows) != 2 {
		t.Fatalf("Patches = %+v, want 2 rows", in.Patches)
	}
	if r := in.Patches.Rows[0]; r.Host != "db1" || r.Verdict != patches.VerdictUnknown || r.Severity != patches.Urgent {
		t.Errorf("first row = %+v, want db1 unknown (rows sorted by host)", r)
	}
	if len(in.Hosts) != 1 || in.Hosts[0].Name != "web1" {
		t.Fatalf("hosts = %+v, want web1 alone: compliance records add no host", in.Hosts)
	}
	if len(in.Hosts[0].Items) != 0 || !in.Hosts[0].Reachable {
		t.Errorf("web1 = %+v, want reachable with no items from the compliance record", in.Hosts[0])
	}

	if in := FromJournal(h, records[:1], nil, nil, nil); in.Patches != nil {
		t.Errorf("a journal without compliance records gives Patches = %+v, want nil", in.Patches)
	}
}
