package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"patrol/i18n"
	"patrol/inventory"
	"patrol/journal"
	"patrol/module"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var (
	titleDisk     = i18n.T("Disk space", "磁盘空间")
	titleService  = i18n.T("Service status", "服务状态")
	titleLog      = i18n.T("Application log", "应用日志")
	titleBackup   = i18n.T("Database backup", "数据库备份")
	titleHTTP     = i18n.T("Main page", "主页面")
	titleFirewall = i18n.T("Firewall", "防火墙")
	titleMemory   = i18n.T("Memory", "内存")
)

// sampleInspection is a monthly inspection with every kind of result: ok,
// warn, fail and error items, a failed task, an unreachable host, a host the
// run never reached and a host outside the three systems.
func sampleInspection() Inspection {
	return Inspection{
		Kind:          KindMonthly,
		RunID:         "20261204T130745Z-3fa9c1",
		StartedAt:     time.Date(2026, 12, 4, 13, 7, 45, 0, time.UTC),
		EndedAt:       time.Date(2026, 12, 4, 13, 31, 2, 0, time.UTC),
		RunStatus:     "failed",
		Inspector:     "zhangwei",
		PatrolMachine: "ops-laptop-07",
		Hosts: []Host{
			{Name: "seal-db1", Address: "10.30.1.11", OS: "win2012r2", System: "seal", Reachable: true, Items: []Item{
				{Title: titleDisk, Finding: module.Finding{Check: "check.disk", Item: `D:\`, Status: module.StatusOK, Value: i18n.T("41% used", "已用 41%"), Threshold: i18n.T("warn ≥80%, fail ≥90%", "警告 ≥80%，不合格 ≥90%"),
					Message: i18n.T("disk use is normal", "磁盘使用率正常")}},
				{Title: titleBackup, Finding: module.Finding{Check: "check.oracle_backup", Item: "RMAN full backup", Status: module.StatusFail, Value: i18n.T("FAILED", "FAILED"),
					Threshold: i18n.T("a full backup within 24h", "24 小时内有一次全量备份"), Message: i18n.T("the last full backup failed", "最近一次全量备份失败"),
					Evidence: []string{"ORA-19502: write error on file \"E:\\BACKUP\\FULL_20261203.BKP\", block number 1024", "ORA-27072: File I/O error"}}},
				{Title: i18n.T("Command", "命令"), Task: "query archive log gap", Finding: module.Finding{Check: "command", Item: "query archive log gap",
					Status: module.StatusError, Value: i18n.T("rc=1", "rc=1"), Message: i18n.T("Task failed: exit code 1 is not one of ok_codes [0]", "任务执行失败：命令退出码为 1，不在允许的退出码 ok_codes [0] 之中")}},
			}},
			{Name: "seal-db2", Address: "10.30.1.12", OS: "win2012r2", System: "seal", Reachable: true, Items: []Item{
				{Title: titleDisk, Finding: module.Finding{Check: "check.disk", Item: `D:\`, Status: module.StatusOK, Value: i18n.T("38% used", "已用 38%"), Threshold: i18n.T("warn ≥80%, fail ≥90%", "警告 ≥80%，不合格 ≥90%"),
					Message: i18n.T("disk use is normal", "磁盘使用率正常")}},
			}},
			{Name: "hotel-web1", Address: "10.10.1.21", OS: "centos7", System: "hotel", Reachable: true, Items: []Item{
				{Title: titleHTTP, Finding: module.Finding{Check: "check.http", Item: "http://10.10.1.21/", Status: module.StatusOK, Value: i18n.T("status 200, 0.31s", "状态码 200，0.31s"),
					Threshold: i18n.T("status 200 within 5s", "5s 内返回状态码 200"), Message: i18n.T("the main page loads", "主页面加载正常")}},
				{Title: titleDisk, Finding: module.Finding{Check: "check.disk", Item: "/data", Status: module.StatusWarn, Value: i18n.T("83% used", "已用 83%"), Threshold: i18n.T("warn ≥80%, fail ≥90%", "警告 ≥80%，不合格 ≥90%"),
					Message: i18n.T("disk use is above the warning threshold", "磁盘使用率超过警告阈值")}},
				{Title: titleFirewall, Finding: module.Finding{Check: "check.firewall", Item: "firewalld", Status: module.StatusFail, Value: i18n.T("not running", "未运行"),
					Threshold: i18n.T("running", "运行中"), Message: i18n.T("the firewall is not running", "防火墙未运行"), Evidence: []string{"not running"}}},
			}},
			{Name: "hotel-db1", Address: "10.10.1.12", OS: "centos7", System: "hotel", Reachable: false,
				Error: "dial tcp 10.10.1.12:22: connect: connection timed out"},
			{Name: "ent-app1", Address: "10.20.1.31", OS: "centos7", System: "entertainment", Reachable: true, Items: []Item{
				{Title: titleService, Finding: module.Finding{Check: "check.service", Item: "tomcat", Status: module.StatusOK, Value: i18n.T("active (running)", "active（running）"),
					Message: i18n.T("the service is running", "服务运行正常")}},
				{Title: titleLog, Finding: module.Finding{Check: "check.log", Item: "/opt/ent/logs/app.log", Status: module.StatusWarn, Value: i18n.T("3 errors", "3 个错误"),
					Threshold: i18n.T("warn ≥1, fail ≥50", "警告 ≥1，不合格 ≥50"), Message: i18n.T("errors in the application log", "应用日志中有错误"),
					Evidence: []string{
						"2026-12-04 09:12:01 ERROR upload failed: <script>alert('x')</script>",
						"2026-12-04 09:13:44 ERROR field a|b|c rejected * _x_ [y](z) `code` #1 ~s~",
						"2026-12-04 09:15:10 ERROR photo 2231.jpg & thumbnail missing",
					}}},
			}},
			{Name: "bastion1", Address: "10.0.0.5", OS: "centos7", NotInspected: true},
			{Name: "cloud-portal", Address: "203.0.113.10", OS: "centos7", System: "portal", Reachable: true, Items: []Item{
				{Title: titleDisk, Finding: module.Finding{Check: "check.disk", Item: "/", Status: module.StatusOK, Value: i18n.T("22% used", "已用 22%"), Threshold: i18n.T("warn ≥80%, fail ≥90%", "警告 ≥80%，不合格 ≥90%"),
					Message: i18n.T("disk use is normal", "磁盘使用率正常")}},
				{Title: titleDisk, Finding: module.Finding{Check: "check.disk", Item: "/ inodes", ItemTitle: i18n.T("/ inodes", "/ inode"), Status: module.StatusOK, Value: i18n.T("3% of inodes used", "inode 已用 3%"),
					Threshold: i18n.T("warn ≥80%, fail ≥90%", "警告 ≥80%，不合格 ≥90%"), Message: i18n.T("inode use is normal", "inode 使用率正常")}},
				{Title: titleMemory, Finding: module.Finding{Check: "check.memory", Item: "memory", ItemTitle: i18n.T("memory", "内存"), Status: module.StatusWarn, Value: i18n.T("91% used", "已用 91%"),
					Threshold: i18n.T("warn ≥90%, fail ≥95%", "警告 ≥90%，不合格 ≥95%"), Message: i18n.T("memory use is above the warning threshold", "内存使用率超过警告阈值")}},
			}},
		},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file: %v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run go test ./report -update and review the diff.\n%s", name, firstDiff(want, got))
	}
}

func firstDiff(want, got []byte) string {
	wl := strings.Split(string(want), "\n")
	gl := strings.Split(string(got), "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + itoa(i+1) + ":\nwant: " + w + "\ngot:  " + g
		}
	}
	return ""
}

func TestGolden(t *testing.T) {
	for _, lang := range []i18n.Lang{i18n.ZH, i18n.EN} {
		html, err := RenderHTML(sampleInspection(), lang)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "monthly."+string(lang)+".html", html)

		md, err := RenderMarkdown(sampleInspection(), lang)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "monthly."+string(lang)+".md", md)
	}

	js, err := RenderJSON(sampleInspection(), i18n.ZH)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "monthly.json", js)
}

func TestChineseLabels(t *testing.T) {
	html, err := RenderHTML(sampleInspection(), i18n.ZH)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"月度全面巡检报告", "巡检时间", "2026-12-04 21:07:45 至 21:31:02 (UTC&#43;08:00)", "巡检人", "zhangwei",
		"旅馆业治安管理信息系统", "娱乐场所治安管理信息系统", "印章治安管理信息系统", "未分组",
		"正常", "警告", "异常", "无法检测", "处理情况", "巡检人签字", "审核人签字", "日期",
		`lang="zh-CN"`, "@page", "size: A4", "table-header-group", `"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "SimSun", sans-serif`,
	} {
		if !strings.Contains(string(html), want) {
			t.Errorf("Chinese HTML report lacks %q", want)
		}
	}
}

func TestEnglishLabels(t *testing.T) {
	md, err := RenderMarkdown(sampleInspection(), i18n.EN)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Monthly full inspection report", "Inspection time", "2026-12-04 21:07:45 to 21:31:02 (UTC+08:00)",
		"Seal public security management information system", "Unassigned", "Unable to check", "Handling", "Reviewer signature"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("English Markdown report lacks %q", want)
		}
	}
	if regexp.MustCompile(`\p{Han}`).Match(md) {
		t.Errorf("English Markdown report contains Chinese text: %s", regexp.MustCompile(`.*\p{Han}.*`).Find(md))
	}
}

func TestAnomaliesWorstFirst(t *testing.T) {
	in := normalize(sampleInspection(), i18n.EN)
	p, err := buildPage(in, i18n.EN)
	if err != nil {
		t.Fatal(err)
	}

	type row struct{ host, item string }
	var got []row
	for _, a := range p.Anomalies {
		got = append(got, row{a.Host, a.Item})
	}
	// fail before error before warn; within a status, systems in the order
	// hotel, entertainment, seal, other systems, unassigned; then host name.
	want := []row{
		{"hotel-web1", "firewalld"},
		{"seal-db1", "RMAN full backup"},
		{"hotel-db1", "10.10.1.12"},
		{"seal-db1", "query archive log gap"},
		{"bastion1", "10.0.0.5"},
		{"hotel-web1", "/data"},
		{"ent-app1", "/opt/ent/logs/app.log"},
		{"cloud-portal", "memory"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("anomalies =\n%v\nwant\n%v", got, want)
	}
	for i, a := range p.Anomalies {
		if a.No != i+1 {
			t.Errorf("anomaly %d numbered %d", i, a.No)
		}
	}

	html, _ := RenderHTML(sampleInspection(), i18n.ZH)
	anomalies := string(html[bytes.Index(html, []byte(`class="anomalies"`)):bytes.Index(html, []byte("检查明细</h2>"))])
	if strings.Contains(anomalies, "status-ok") {
		t.Error("the anomalies table lists an ok item")
	}
	if i, j := strings.Index(anomalies, "firewalld"), strings.Index(anomalies, "/data"); i < 0 || j < 0 || i > j {
		t.Errorf("in HTML the failed firewall (at %d) does not come before the disk warning (at %d)", i, j)
	}
}

func TestGroupsInSystemOrder(t *testing.T) {
	p, err := buildPage(normalize(sampleInspection(), i18n.ZH), i18n.ZH)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range p.Groups {
		got = append(got, g.Name)
	}
	want := []string{"旅馆业治安管理信息系统", "娱乐场所治安管理信息系统", "印章治安管理信息系统", "portal", "未分组"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("groups = %v, want %v", got, want)
	}
	if h := p.Groups[0].Hosts; h[0].Name != "hotel-db1" || h[1].Name != "hotel-web1" {
		t.Errorf("hotel hosts not sorted by name: %s, %s", h[0].Name, h[1].Name)
	}
}

func TestHTMLEscapesEvidence(t *testing.T) {
	html, err := RenderHTML(sampleInspection(), i18n.ZH)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(html, []byte("<script")) {
		t.Error("HTML report contains a raw <script tag from evidence")
	}
	if !bytes.Contains(html, []byte("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;")) {
		t.Error("HTML report lacks the escaped evidence line")
	}
	if !bytes.Contains(html, []byte("photo 2231.jpg &amp; thumbnail")) {
		t.Error("HTML report lacks the escaped & in evidence")
	}
	for _, external := range []string{"<link", "<script", "src=", "@import", "url("} {
		if bytes.Contains(html, []byte(external)) {
			t.Errorf("HTML report is not self-contained: it contains %q", external)
		}
	}
}

func TestMarkdownEscapesEvidence(t *testing.T) {
	md, err := RenderMarkdown(sampleInspection(), i18n.EN)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(md, []byte("<script")) {
		t.Error("Markdown report contains a raw <script tag from evidence")
	}
	if !bytes.Contains(md, []byte(`field a\|b\|c rejected \* \_x\_ \[y\](z) \`+"`code\\`"+` \#1 \~s\~`)) {
		t.Errorf("Markdown report lacks the escaped evidence line:\n%s", md)
	}

	// Every row of a table has as many unescaped cell separators as its header.
	unescapedPipe := regexp.MustCompile(`(^|[^\\])\|`)
	var want int
	for _, line := range strings.Split(string(md), "\n") {
		if !strings.HasPrefix(line, "|") {
			want = 0
			continue
		}
		n := len(unescapedPipe.FindAllString(line, -1))
		if want == 0 {
			want = n
		} else if n != want {
			t.Errorf("table row has %d cell separators, header has %d: %s", n, want, line)
		}
	}
}

func TestMarkdownEscapeCell(t *testing.T) {
	cases := map[string]string{
		"a|b":          `a\|b`,
		"<b>x</b>":     "&lt;b&gt;x&lt;/b&gt;",
		"line1\nline2": "line1<br>line2",
		`C:\temp`:      `C:\\temp`,
		"plain 文字":     "plain 文字",
	}
	for in, want := range cases {
		if got := mdEscape(in); got != want {
			t.Errorf("mdEscape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNoSecretFields(t *testing.T) {
	secretName := regexp.MustCompile(`(?i)pass|secret|token|key|credential|auth|become|jump`)
	var walk func(t reflect.Type, path string)
	seen := map[reflect.Type]bool{}
	walk = func(typ reflect.Type, path string) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] {
			return
		}
		seen[typ] = true
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			name := f.Name + " " + f.Tag.Get("json")
			if secretName.MatchString(name) {
				t.Errorf("Inspection field %s%s looks like a secret or connection setting", path, f.Name)
			}
			walk(f.Type, path+f.Name+".")
		}
	}
	walk(reflect.TypeOf(Inspection{}), "")
}

func TestFromJournal(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 12, 1, 0, 30, 0, 0, time.UTC)
	w, err := journal.Create(dir, journal.Header{
		RunID: "20261201T003000Z-0a0b0c", StartedAt: start, User: "lisi", Hostname: "patrol-01",
		Playbook: journal.FileDigest{Path: "/usr/share/patrol/playbooks/daily.yml"},
	})
	if err != nil {
		t.Fatal(err)
	}
	records := []journal.Record{
		{Host: "hotel-web1", Task: "gather facts", Module: "setup", Status: journal.StatusOK},
		{Host: "hotel-web1", Task: "disk", Module: "check.disk", Status: journal.StatusOK, Findings: []module.Finding{
			{Check: "check.disk", Item: "/", Status: module.StatusOK, Value: i18n.T("40%", "40%")},
			{Check: "check.disk", Item: "/data", Status: module.StatusFail, Value: i18n.T("95%", "95%")},
		}},
		{Host: "hotel-web1", Task: "restart agent", Module: "command", Status: journal.StatusFailed, RC: 127, Msg: "agentctl: not found"},
		{Host: "hotel-web1", Task: "optional", Module: "command", Status: journal.StatusSkipped},
		{Host: "hotel-db1", Task: "gather facts", Module: "setup", Status: journal.StatusUnreachable, Msg: "ssh: handshake failed: EOF"},
		{Host: "stray", Task: "disk", Module: "check.disk", Status: journal.StatusOK, Findings: []module.Finding{
			{Check: "check.disk", Item: "/", Status: module.StatusOK, Value: i18n.T("10%", "10%")},
		}},
	}
	for _, r := range records {
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(journal.End{Status: journal.RunFailed, EndedAt: start.Add(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}

	h, recs, end, err := journal.Read(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	inv := []*inventory.Host{
		{Name: "hotel-web1", Address: "10.10.1.21", OS: "centos7", System: "hotel", PasswordEnv: "HOTEL_PW_ENV", KeyFile: "/root/.ssh/hotel_key", BecomePasswordEnv: "SUDO_PW_ENV"},
		{Name: "hotel-db1", OS: "centos7", System: "hotel"},
		{Name: "seal-db1", Address: "10.30.1.11", OS: "win2012r2", System: "seal", PasswordEnv: "SEAL_PW_ENV"},
	}
	titles := map[string]i18n.Text{"check.disk": titleDisk}
	in := FromJournal(h, recs, end, inv, titles)

	if in.Kind != KindDaily || in.Inspector != "lisi" || in.PatrolMachine != "patrol-01" || in.RunStatus != "failed" {
		t.Errorf("inspection = kind %q inspector %q machine %q status %q", in.Kind, in.Inspector, in.PatrolMachine, in.RunStatus)
	}
	if !in.EndedAt.Equal(start.Add(10 * time.Minute)) {
		t.Errorf("ended at = %v", in.EndedAt)
	}

	hosts := map[string]Host{}
	for _, h := range in.Hosts {
		hosts[h.Name] = h
	}
	if len(in.Hosts) != 4 {
		t.Fatalf("hosts = %d, want 4 (3 from the inventory and 1 only in the journal)", len(in.Hosts))
	}

	web := hosts["hotel-web1"]
	if !web.Reachable || web.NotInspected || web.Address != "10.10.1.21" {
		t.Errorf("hotel-web1 = %+v", web)
	}
	if len(web.Items) != 3 {
		t.Fatalf("hotel-web1 items = %d, want 2 findings and 1 failed task", len(web.Items))
	}
	if web.Items[0].Title != titleDisk || web.Items[1].Status != module.StatusFail {
		t.Errorf("hotel-web1 findings = %+v", web.Items[:2])
	}
	failed := web.Items[2]
	if failed.Status != module.StatusError || failed.Value != i18n.T("rc=127", "rc=127") || failed.Task != "restart agent" ||
		!strings.Contains(failed.Message.EN, "agentctl: not found") {
		t.Errorf("failed task item = %+v", failed)
	}
	if failed.Message.ZH != "任务执行失败：错误信息见证据" || !reflect.DeepEqual(failed.Evidence, []string{"agentctl: not found"}) {
		t.Errorf("failed task of an English-only record: zh %q, evidence %q", failed.Message.ZH, failed.Evidence)
	}

	db := hosts["hotel-db1"]
	if db.Reachable || db.NotInspected || db.Error != "ssh: handshake failed: EOF" {
		t.Errorf("hotel-db1 = %+v", db)
	}
	if seal := hosts["seal-db1"]; !seal.NotInspected || seal.Reachable {
		t.Errorf("seal-db1 = %+v, want not inspected", seal)
	}
	if stray := hosts["stray"]; !stray.Reachable || len(stray.Items) != 1 {
		t.Errorf("stray = %+v", stray)
	}

	s := Summarize(in)
	want := Summary{Hosts: 4, Unreachable: 1, NotInspected: 1, Items: 4, OK: 2, Fail: 1, Error: 1}
	if s != want {
		t.Errorf("summary = %+v, want %+v", s, want)
	}

	out := t.TempDir()
	paths, err := Write(out, in, i18n.ZH)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{"HOTEL_PW_ENV", "SUDO_PW_ENV", "SEAL_PW_ENV", "hotel_key"} {
			if bytes.Contains(data, []byte(secret)) {
				t.Errorf("%s contains the connection setting %q", filepath.Base(p), secret)
			}
		}
	}
}

// englishWords returns the runs of two or more Latin letters in s that are
// not in allowed, the names a Chinese report may keep (commands, settings).
func englishWords(s string, allowed ...string) []string {
	for _, a := range allowed {
		s = strings.ReplaceAll(s, a, "")
	}
	return regexp.MustCompile(`[A-Za-z]{2,}`).FindAllString(s, -1)
}

func TestFromJournalUnreachableInChinese(t *testing.T) {
	hostKey := "host hotel-web unreachable (hostkey): host key of hotel-web (10.10.1.21) is unknown: the server offered ssh-ed25519 SHA256:abc, which is in none of /root/.patrol/known_hosts"
	winrmAuth := "host seal-db-1 unreachable (auth): 10.30.1.11:5985 rejected the user name or password (basic authentication): http response error: 401 - invalid content type"
	records := []journal.Record{
		// Written by a patrol that records the bilingual message.
		{Host: "seal-db-1", Task: "connect", Status: journal.StatusUnreachable, Msg: winrmAuth,
			Message: i18n.T("the host rejected the login", "主机拒绝登录：请检查 user 和 password_env")},
		// Written before journals had the message: only the error text.
		{Host: "hotel-web", Task: "connect", Status: journal.StatusUnreachable, Msg: hostKey},
		{Host: "hotel-db", Task: "connect", Status: journal.StatusUnreachable, Msg: "host hotel-db unreachable (network): dial tcp 10.10.1.12:22: connect: connection refused"},
	}
	in := FromJournal(journal.Header{RunID: "r1", Playbook: journal.FileDigest{Path: "monthly.yml"}}, records, nil, nil, nil)

	p, err := buildPage(normalize(in, i18n.ZH), i18n.ZH)
	if err != nil {
		t.Fatal(err)
	}

	want := map[string]struct{ message, evidence string }{
		"seal-db-1": {"主机拒绝登录", winrmAuth},
		"hotel-web": {"无法验证主机身份", hostKey},
		"hotel-db":  {"连接被拒绝", "connection refused"},
	}
	if len(p.Anomalies) != len(want) {
		t.Fatalf("anomalies = %d, want %d", len(p.Anomalies), len(want))
	}
	for _, a := range p.Anomalies {
		w := want[a.Host]
		if !strings.Contains(a.Message, w.message) {
			t.Errorf("%s: message %q, want %q", a.Host, a.Message, w.message)
		}
		if words := englishWords(a.Message, "user", "password_env", "SSH", "HTTPS", "WinRM", "patrol"); len(words) > 0 {
			t.Errorf("%s: the Chinese message %q has English words %q", a.Host, a.Message, words)
		}
		if len(a.Evidence) != 1 || !strings.Contains(a.Evidence[0], w.evidence) {
			t.Errorf("%s: evidence %q, want the transport's error", a.Host, a.Evidence)
		}
	}
}

func TestFromJournalFailedTaskMessage(t *testing.T) {
	records := []journal.Record{
		{Host: "hotel-web", Task: "run agentctl", Module: "command", Status: journal.StatusFailed, RC: 1,
			Msg:     "exit code 1 is not one of ok_codes [0]",
			Message: i18n.T("exit code 1 is not one of ok_codes [0]", "命令退出码为 1，不在允许的退出码 ok_codes [0] 之中")},
		{Host: "hotel-web", Task: "fetch log", Module: "fetch", Status: journal.StatusFailed,
			Msg:     "fetch /var/log/app.log failed: open /var/log/app.log: permission denied",
			Message: i18n.T("fetch /var/log/app.log failed: permission denied", "取回 /var/log/app.log 失败：权限不足")},
		// An older journal: a connection error in English only.
		{Host: "hotel-web", Task: "upload", Module: "copy", Status: journal.StatusFailed,
			Msg: "copy to /tmp/x: dial tcp 10.10.1.21:22: connect: connection refused"},
		// An older journal: a task timeout in English only, as patrol 0.x
		// recorded `command: sleep 5` with `timeout: 1s` on the local machine.
		{Host: "hotel-web", Task: "slow job", Module: "command", Status: journal.StatusFailed, RC: -1,
			Msg: "task timed out after 1s; raise the task's timeout if the work needs longer: process group killed: command timed out (context deadline exceeded)"},
		// An older journal: a module's own error that ends like a lost link.
		{Host: "hotel-web", Task: "reboot", Module: "reboot", Status: journal.StatusFailed,
			Msg: "read the boot identity before the reboot: boot identity command printed neither boot_id nor boot_time: unexpected EOF"},
	}
	in := FromJournal(journal.Header{RunID: "r1"}, records, nil, nil, nil)
	items := in.Hosts[0].Items
	if len(items) != 5 {
		t.Fatalf("items = %d, want 5", len(items))
	}

	if got := items[0].Message.ZH; got != "任务执行失败：命令退出码为 1，不在允许的退出码 ok_codes [0] 之中" {
		t.Errorf("exit code item: zh %q", got)
	}
	if len(items[0].Evidence) != 0 {
		t.Errorf("exit code item: evidence %q repeats the message", items[0].Evidence)
	}
	if got := items[1].Message.ZH; got != "任务执行失败：取回 /var/log/app.log 失败：权限不足" {
		t.Errorf("fetch item: zh %q", got)
	}
	if len(items[1].Evidence) != 1 || !strings.Contains(items[1].Evidence[0], "open /var/log/app.log") {
		t.Errorf("fetch item: evidence %q, want Go's error", items[1].Evidence)
	}
	if got := items[2].Message.ZH; !strings.Contains(got, "连接被拒绝") {
		t.Errorf("old connection error: zh %q", got)
	}
	if got := items[3].Message.ZH; got != "任务执行失败：任务超过时限，已终止；如确需更长时间，请调大该任务的 timeout" {
		t.Errorf("old task timeout: zh %q", got)
	}
	if got := items[4].Message.ZH; got != "任务执行失败：错误信息见证据" {
		t.Errorf("old module error: zh %q, want the evidence pointed to", got)
	}
}

func TestFromJournalIncompleteRun(t *testing.T) {
	h := journal.Header{RunID: "r1", StartedAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Playbook: journal.FileDigest{Path: "monthly.yml"}}
	in := FromJournal(h, nil, nil, []*inventory.Host{{Name: "a"}}, nil)
	if in.Kind != KindMonthly || in.RunStatus != RunIncomplete || !in.EndedAt.IsZero() {
		t.Errorf("inspection = kind %q status %q ended %v", in.Kind, in.RunStatus, in.EndedAt)
	}

	md, err := RenderMarkdown(in, i18n.ZH)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"未结束", "没有记录结束", "未巡检"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("report of an incomplete run lacks %q", want)
		}
	}
}

func TestWriteFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out", "2026-12")
	paths, err := Write(dir, sampleInspection(), i18n.EN)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{HTMLFile, MarkdownFile, JSONFile}
	if len(paths) != len(want) {
		t.Fatalf("paths = %v", paths)
	}
	for i, p := range paths {
		if filepath.Base(p) != want[i] {
			t.Errorf("path %d = %s, want %s", i, p, want[i])
		}
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Errorf("dir holds %d entries, want 3 without temporary files", len(entries))
	}

	data, err := os.ReadFile(filepath.Join(dir, JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	var back Inspection
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.SchemaVersion != SchemaVersion || back.Lang != i18n.EN || back.TimeZone != DefaultTimeZone {
		t.Errorf("report.json schema %d lang %q zone %q", back.SchemaVersion, back.Lang, back.TimeZone)
	}
	if back.Summary.Hosts != 7 || back.Summary.Fail != 2 || back.Summary.Warn != 3 || back.Summary.Error != 1 || back.Summary.Unreachable != 1 {
		t.Errorf("report.json summary = %+v", back.Summary)
	}
	if len(back.Hosts[0].Items[1].Evidence) != 2 {
		t.Errorf("report.json lost evidence: %+v", back.Hosts[0].Items[1])
	}

	// A second Write replaces the files.
	in := sampleInspection()
	in.Inspector = "wangfang"
	if _, err := Write(dir, in, i18n.EN); err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(filepath.Join(dir, MarkdownFile))
	if !bytes.Contains(md, []byte("wangfang")) {
		t.Error("second Write did not replace report.md")
	}
}

func TestTimeZone(t *testing.T) {
	in := sampleInspection()
	in.TimeZone = "UTC"
	md, err := RenderMarkdown(in, i18n.EN)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(md, []byte("2026-12-04 13:07:45 to 13:31:02 (UTC+00:00)")) {
		t.Errorf("UTC report time not found in:\n%s", md[:400])
	}

	in.TimeZone = "Mars/Olympus"
	if _, err := RenderHTML(in, i18n.EN); err == nil || !strings.Contains(err.Error(), "Mars/Olympus") {
		t.Errorf("RenderHTML with an unknown zone = %v, want an error naming it", err)
	}
	if _, err := Write(t.TempDir(), in, i18n.EN); err == nil {
		t.Error("Write with an unknown zone succeeded")
	}
}

func TestTimeRangeAcrossDays(t *testing.T) {
	loc, _ := time.LoadLocation(DefaultTimeZone)
	got := timeRange(i18n.EN, time.Date(2026, 12, 4, 15, 50, 0, 0, time.UTC), time.Date(2026, 12, 4, 16, 10, 0, 0, time.UTC), loc)
	if want := "2026-12-04 23:50:00 to 2026-12-05 00:10:00 (UTC+08:00)"; got != want {
		t.Errorf("timeRange = %q, want %q", got, want)
	}
}

func TestLongEvidenceShortened(t *testing.T) {
	lines := make([]string, 45)
	for i := range lines {
		lines[i] = strings.Repeat("x", 400)
	}
	got := shortenEvidence(lines, i18n.ZH)
	if len(got) != maxEvidenceLines+1 {
		t.Fatalf("lines = %d, want %d", len(got), maxEvidenceLines+1)
	}
	if n := len([]rune(got[0])); n != maxEvidenceChars+1 {
		t.Errorf("first line has %d characters, want %d", n, maxEvidenceChars+1)
	}
	if got[maxEvidenceLines] != "…… 另有 25 行" {
		t.Errorf("last line = %q", got[maxEvidenceLines])
	}
}

func TestLabelsBothLanguages(t *testing.T) {
	for key, text := range labels {
		if text.ZH == "" || text.EN == "" {
			t.Errorf("label %q lacks a language: %+v", key, text)
		}
	}
	if _, err := label(i18n.ZH, "no.such.label"); err == nil {
		t.Error("unknown label key gave no error")
	}
}

func TestEmptyInspection(t *testing.T) {
	for _, lang := range []i18n.Lang{i18n.ZH, i18n.EN} {
		if _, err := RenderHTML(Inspection{}, lang); err != nil {
			t.Errorf("RenderHTML(empty, %s): %v", lang, err)
		}
		if _, err := RenderMarkdown(Inspection{}, lang); err != nil {
			t.Errorf("RenderMarkdown(empty, %s): %v", lang, err)
		}
	}
	js, err := RenderJSON(Inspection{}, i18n.ZH)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(js, []byte(`"hosts": []`)) {
		t.Errorf("empty report.json has no hosts array:\n%s", js)
	}
}

// TestIgnoredFailureLeftOut renders a journal whose only failure was let
// pass by ignore_errors: the report lists no item for it.
func TestIgnoredFailureLeftOut(t *testing.T) {
	h := journal.Header{RunID: "20261205T010000.000Z-abcdef", StartedAt: time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC)}
	records := []journal.Record{
		{Host: "seal-app-1", Task: "may fail", Module: "shell", Status: journal.StatusFailed, Ignored: true, RC: 1, Msg: "exit code 1"},
		{Host: "seal-app-1", Task: "real failure", Module: "shell", Status: journal.StatusFailed, RC: 2, Msg: "exit code 2"},
	}
	in := FromJournal(h, records, nil, nil, nil)
	if len(in.Hosts) != 1 || len(in.Hosts[0].Items) != 1 || in.Hosts[0].Items[0].Item != "real failure" {
		t.Errorf("items = %+v, want only the failure that was not ignored", in.Hosts)
	}
}

// TestTitleNamesTheOnlySystem renders a report whose hosts all belong to
// the seal system: the title carries the system's name, as the client
// files reports by system.
func TestTitleNamesTheOnlySystem(t *testing.T) {
	in := Inspection{Kind: KindMonthly, RunID: "r1", StartedAt: time.Date(2026, 12, 4, 13, 0, 0, 0, time.UTC), Hosts: []Host{
		{Name: "seal-db1", System: "seal", Reachable: true},
		{Name: "seal-app1", System: "seal", Reachable: true},
	}}
	for lang, want := range map[i18n.Lang][]string{
		i18n.ZH: {"# 印章治安管理信息系统月度全面巡检报告\n", "| 巡检系统 | 印章治安管理信息系统 |"},
		i18n.EN: {"# Seal public security management information system: Monthly full inspection report\n"},
	} {
		md, err := RenderMarkdown(in, lang)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(string(md), w) {
				t.Errorf("%s report.md lacks %q:\n%s", lang, w, md[:min(len(md), 600)])
			}
		}
	}

	in.Hosts = []Host{{Name: "vm", Reachable: true}}
	md, err := RenderMarkdown(in, i18n.ZH)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(md), "# 月度全面巡检报告\n") || strings.Contains(string(md), "巡检系统") {
		t.Errorf("report.md of a host without a system:\n%s", md[:min(len(md), 600)])
	}
}
