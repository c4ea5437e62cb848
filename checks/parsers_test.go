package checks

import (
	"math"
	"strings"
	"testing"
	"time"

	"patrol/i18n"
	"patrol/module"
)

func TestThresholdJudge(t *testing.T) {
	tests := []struct {
		name string
		th   Threshold
		v    float64
		want module.Status
	}{
		{"below warn", HigherIsWorse(80, 90, "%"), 79.9, module.StatusOK},
		{"at warn", HigherIsWorse(80, 90, "%"), 80, module.StatusWarn},
		{"at fail", HigherIsWorse(80, 90, "%"), 90, module.StatusFail},
		{"warn off", HigherIsWorse(Off, 90, "%"), 85, module.StatusOK},
		{"lower above warn", LowerIsWorse(30, 7, " days"), 31, module.StatusOK},
		{"lower at warn", LowerIsWorse(30, 7, " days"), 30, module.StatusWarn},
		{"lower below fail", LowerIsWorse(30, 7, " days"), 2, module.StatusFail},
	}
	for _, tt := range tests {
		if got := tt.th.Judge(tt.v); got != tt.want {
			t.Errorf("%s: Judge(%v) = %s, want %s", tt.name, tt.v, got, tt.want)
		}
	}
	if s := daysLeftThreshold(30, 7).Text(); s != i18n.T("warn ≤30 days, fail ≤7 days", "警告 ≤30 天，不合格 ≤7 天") {
		t.Errorf("lower-is-worse text = %+v", s)
	}
	if s := HigherIsWorse(Off, 2, "").Text(); s != i18n.T("fail ≥2", "不合格 ≥2") {
		t.Errorf("fail-only text = %+v", s)
	}
	if s := HigherIsWorse(80, 90, "%").String(); s != "warn ≥80%, fail ≥90%" {
		t.Errorf("String = %q, want the English form", s)
	}
}

func TestParseSize(t *testing.T) {
	tests := map[string]int64{"1048576": 1048576, "10G": 10 * gib, "1M": mib, "512K": 512 * kib, "1.5GiB": 1610612736, "2 MB": 2 * mib, "0": 0}
	for in, want := range tests {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "10X", "G", "-1G", "1.2.3M"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted an invalid size", bad)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := map[string]time.Duration{"26h": 26 * time.Hour, "7d": 7 * 24 * time.Hour, "1d12h": 36 * time.Hour, "90m": 90 * time.Minute}
	for in, want := range tests {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseDuration("xd"); err == nil {
		t.Error("ParseDuration accepted xd")
	}
}

func TestParseMeminfoRecorded(t *testing.T) {
	v := ParseMeminfo(readTestdata(t, "debian12-meminfo.txt"))
	u, err := MemoryFromMeminfo(v)
	if err != nil {
		t.Fatal(err)
	}
	if u.Total != 24683784*kib || u.Available != 24041872*kib || u.Estimated {
		t.Errorf("usage = %+v, want total 24683784 KiB, available 24041872 KiB, not estimated", u)
	}
	if v["HugePages_Total"] != 0 {
		t.Errorf("HugePages_Total = %d, want the count 0 without kB scaling", v["HugePages_Total"])
	}

	findings := evaluateMemory(u, HigherIsWorse(85, 95, "%"), HigherIsWorse(50, 80, "%"))
	if len(findings) != 2 {
		t.Fatalf("got %d findings, want memory and swap", len(findings))
	}
	if findings[0].Value != i18n.T("2.6% used, 22.9 GiB available of 23.5 GiB", "已用 2.6%，可用 22.9 GiB，共 23.5 GiB") {
		t.Errorf("memory value = %q", findings[0].Value)
	}
	if findings[1].Value != i18n.T("no swap", "无交换空间") || findings[1].Status != module.StatusOK {
		t.Errorf("swap finding = %+v, want ok no swap", findings[1])
	}
}

func TestMeminfoWithoutMemAvailable(t *testing.T) {
	u, err := MemoryFromMeminfo(ParseMeminfo(readTestdata(t, "debian12-meminfo-no-memavailable.txt")))
	if err != nil {
		t.Fatal(err)
	}
	// MemFree + Buffers + Cached + SReclaimable from the recorded file.
	want := (23537664 + 11464 + 662936 + 98564) * kib
	if !u.Estimated || u.Available != want {
		t.Errorf("available = %d (estimated %v), want %d estimated", u.Available, u.Estimated, want)
	}
	f := evaluateMemory(u, HigherIsWorse(85, 95, "%"), HigherIsWorse(50, 80, "%"))[0]
	if !strings.Contains(f.Message.EN, "estimated") || !strings.Contains(f.Message.ZH, "估算") {
		t.Errorf("message does not say the value is estimated: %+v", f.Message)
	}
}

func TestEvaluateMemorySwap(t *testing.T) {
	u := memoryUsage{Total: 100 * gib, Available: 4 * gib, SwapTotal: 10 * gib, SwapFree: 4 * gib}
	findings := evaluateMemory(u, HigherIsWorse(85, 95, "%"), HigherIsWorse(50, 80, "%"))
	if findings[0].Status != module.StatusFail || findings[0].Metrics["used_percent"] != 96 {
		t.Errorf("memory = %s %v, want fail at 96", findings[0].Status, findings[0].Metrics["used_percent"])
	}
	if findings[1].Status != module.StatusWarn || findings[1].Value != i18n.T("60% used of 10.0 GiB", "已用 60%，共 10.0 GiB") {
		t.Errorf("swap = %s %q, want warn 60%%", findings[1].Status, findings[1].Value)
	}
}

func TestParseLoadavgRecorded(t *testing.T) {
	load, err := ParseLoadavg(readTestdata(t, "debian12-loadavg.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range load {
		if v < 0 || math.IsNaN(v) {
			t.Errorf("load[%d] = %v", i, v)
		}
	}
	if _, err := ParseLoadavg([]byte("garbage")); err == nil {
		t.Error("ParseLoadavg accepted garbage")
	}

	findings := evaluateLoad(loadAverage{Load: [3]float64{9, 3, 1}, CPUs: 4}, perCPUThreshold(1, 2))
	want := []module.Status{module.StatusFail, module.StatusOK, module.StatusOK}
	for i, f := range findings {
		if f.Status != want[i] {
			t.Errorf("%s = %s, want %s", f.Item, f.Status, want[i])
		}
	}
	if findings[0].Value != i18n.T("9.00 (2.25 per CPU, 4 CPUs)", "9.00（每个 CPU 2.25，共 4 个 CPU）") {
		t.Errorf("value = %+v", findings[0].Value)
	}
	if findings[0].Threshold != i18n.T("warn ≥1 per CPU, fail ≥2 per CPU", "警告 ≥1（每个 CPU），不合格 ≥2（每个 CPU）") {
		t.Errorf("threshold = %+v", findings[0].Threshold)
	}
}

func TestParseListUnitsCase09(t *testing.T) {
	for _, file := range []string{"case09-list-units-failed-old.txt", "case09-list-units-failed-bullet.txt"} {
		units := ParseListUnits(readTestdata(t, file))
		if len(units) != 1 {
			t.Fatalf("%s: got %d units, want 1", file, len(units))
		}
		u := units[0]
		if u.ID != "fail-test-unit.service" || u.ActiveState != "failed" || u.Description != "Failing unit" {
			t.Errorf("%s: unit = %+v", file, u)
		}
	}
}

func TestParseListUnitsCase09Awk(t *testing.T) {
	data := readTestdata(t, "case09-list-units-all-reconstructed.txt")

	// The reconstruction must print what the case's awk '{print $1, $3}' printed.
	var awk []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(line)
		awk = append(awk, f[0]+" "+f[2])
	}
	if got, want := strings.Join(awk, "\n")+"\n", string(readTestdata(t, "case09-awk-print-1-3.txt")); got != want {
		t.Fatalf("reconstruction prints %q under awk, the case shows %q", got, want)
	}

	states := map[string]string{}
	for _, u := range ParseListUnits(data) {
		states[u.ID] = u.ActiveState
	}
	want := map[string]string{"dovecot.service": "active", "fail2ban.service": "failed", "postfix.service": "active"}
	for unit, state := range want {
		if states[unit] != state {
			t.Errorf("%s = %q, want %q", unit, states[unit], state)
		}
	}

	findings := evaluateFailedUnits(ParseListUnits(readTestdata(t, "case09-list-units-failed-bullet.txt")))
	if len(findings) != 1 || findings[0].Item != "fail-test-unit.service" || findings[0].Status != module.StatusFail {
		t.Errorf("failed-unit findings = %+v", findings)
	}
}

func TestParseSystemctlShow(t *testing.T) {
	states := ParseSystemctlShow(readTestdata(t, "constructed-systemctl-show.txt"))
	if len(states) != 4 {
		t.Fatalf("got %d states, want 4", len(states))
	}
	units := []string{"sshd", "crond", "nosuch", "chronyd"}
	findings := evaluateUnits(units, states, true)
	want := []struct {
		item   string
		status module.Status
		value  i18n.Text
	}{
		{"sshd.service", module.StatusOK, i18n.T("active (running), enabled", "运行中（active / running），开机自启（enabled）")},
		{"crond.service", module.StatusFail, i18n.T("failed (failed), enabled", "已失败（failed / failed），开机自启（enabled）")},
		{"nosuch.service", module.StatusFail, i18n.T("not found", "不存在")},
		{"chronyd.service", module.StatusFail, i18n.T("active (running), disabled", "运行中（active / running），开机不启动（disabled）")},
	}
	for i, w := range want {
		f := findings[i]
		if f.Item != w.item || f.Status != w.status || f.Value != w.value {
			t.Errorf("finding %d = %s %s %+v, want %s %s %+v", i, f.Item, f.Status, f.Value, w.item, w.status, w.value)
		}
	}
	if !strings.Contains(findings[2].Message.EN, "does not exist") || !strings.Contains(findings[2].Message.ZH, "不存在") {
		t.Errorf("not-found message = %+v", findings[2].Message)
	}

	// Without enabled: true a disabled but running unit is fine.
	if f := evaluateUnits([]string{"chronyd"}, states[3:], false)[0]; f.Status != module.StatusOK {
		t.Errorf("chronyd without enabled = %s, want ok", f.Status)
	}
}

func TestParseListenersRecorded(t *testing.T) {
	want := []Listener{
		{"udp", "0.0.0.0", 18123}, {"udp", "::1", 18124},
		{"tcp", "0.0.0.0", 18022}, {"tcp", "127.0.0.1", 18080}, {"tcp", "::", 18081}, {"tcp", "::1", 18082},
	}
	for _, file := range []string{"debian12-ss-H-ltnu.txt", "debian12-ss-ltnu.txt", "debian12-netstat-ltnu.txt"} {
		got := ParseListeners(readTestdata(t, file))
		if len(got) != len(want) {
			t.Errorf("%s: got %d listeners %+v, want %d", file, len(got), got, len(want))
			continue
		}
		for _, w := range want {
			found := false
			for _, g := range got {
				found = found || g == w
			}
			if !found {
				t.Errorf("%s: missing %+v in %+v", file, w, got)
			}
		}
	}
}

func TestParseListenersAddressForms(t *testing.T) {
	out := []byte(`tcp   LISTEN 0 128 *:22 *:*
udp   UNCONN 0 0 127.0.0.53%lo:53 0.0.0.0:*
tcp   LISTEN 0 50 [::ffff:127.0.0.1]:8080 *:*
tcp6       0      0 :::443                  :::*                    LISTEN
`)
	got := ParseListeners(out)
	want := []Listener{{"tcp", "*", 22}, {"udp", "127.0.0.53", 53}, {"tcp", "::ffff:127.0.0.1", 8080}, {"tcp", "::", 443}}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("listener %d = %+v, want %+v", i, got[i], want[i])
		}
	}

	wants := []portWant{{"tcp", 22}, {"udp", 53}, {"udp", 123}}
	findings := evaluatePorts(wants, got)
	statuses := []module.Status{module.StatusOK, module.StatusOK, module.StatusFail}
	for i, f := range findings {
		if f.Status != statuses[i] {
			t.Errorf("%s = %s, want %s", f.Item, f.Status, statuses[i])
		}
	}
}

func TestParsePortWant(t *testing.T) {
	good := map[string]portWant{"22": {"tcp", 22}, "tcp/22": {"tcp", 22}, "UDP/123": {"udp", 123}}
	for in, want := range good {
		if got, err := parsePortWant(in); err != nil || got != want {
			t.Errorf("parsePortWant(%q) = %+v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"sctp/1", "0", "70000", "tcp/x"} {
		if _, err := parsePortWant(bad); err == nil {
			t.Errorf("parsePortWant(%q) accepted", bad)
		}
	}
}

func TestParseSections(t *testing.T) {
	out := []byte("@@patrol-section a\nhello\n\n@@patrol-rc 0\n@@patrol-section b\nno newline\n@@patrol-rc 252\n@@patrol-section c\ncut short\n")
	s := ParseSections(out)
	if s["a"].Output != "hello" || s["a"].ExitCode != 0 {
		t.Errorf("a = %+v", s["a"])
	}
	if s["b"].Output != "no newline" || s["b"].ExitCode != 252 {
		t.Errorf("b = %+v", s["b"])
	}
	if _, ok := s["c"]; ok {
		t.Error("a section without an end marker was kept")
	}
}
