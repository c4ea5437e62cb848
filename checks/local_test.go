package checks

import (
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"patrol/i18n"
	"patrol/module"
)

// TestMonthlyInspectionLocal runs every check against this machine through
// /bin/sh, as a monthly inspection would, and checks that each produces sane
// findings: right check name, bilingual messages, and error only where this
// machine really cannot be measured (no systemd, no NTP client).
func TestMonthlyInspectionLocal(t *testing.T) {
	env := localEnv(t)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	openPort := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)

	web := httptest.NewServer(page("patrol inspection page"))
	defer web.Close()

	backups := t.TempDir()
	if err := os.WriteFile(filepath.Join(backups, "full.dmp"), make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}

	const dpkgLog = "/var/log/dpkg.log"
	if _, err := os.Stat(dpkgLog); err != nil {
		t.Fatalf("this test reads a real Debian log: %v", err)
	}
	_, systemd := os.Stat("/run/systemd/system")
	hasSystemd := systemd == nil

	tasks := []struct {
		check string
		args  module.Args
		// minFindings is the fewest findings the check must return here.
		minFindings int
		// errorOK allows status error (this machine cannot be measured).
		errorOK bool
	}{
		{diskCheck, nil, 2, false},
		{memoryCheck, nil, 2, false},
		{loadCheck, nil, 3, false},
		{serviceCheck, module.Args{"failed": true}, 1, !hasSystemd},
		{portCheck, module.Args{"ports": []any{openPort, "udp/9"}}, 2, false},
		{httpCheck, module.Args{"url": web.URL + "/", "contains": "inspection", "max_latency": 10 * time.Second}, 2, false},
		{logCheck, module.Args{"path": dpkgLog, "patterns": []string{`status installed`, `\bremove\b`}, "since": "3650d"}, 2, false},
		{fileAgeCheck, module.Args{"path": filepath.Join(backups, "*.dmp"), "min_size": "1K"}, 2, false},
		{firewallCheck, nil, 1, true},
		{updatesCheck, nil, 2, false},
		{timeCheck, nil, 1, true},
	}

	total := 0
	for _, task := range tasks {
		res := runCheck(t, env, task.check, task.args)
		total += len(res.Findings)
		if len(res.Findings) < task.minFindings {
			t.Errorf("%s: %d findings, want at least %d: %+v", task.check, len(res.Findings), task.minFindings, res.Findings)
		}
		for _, f := range res.Findings {
			t.Logf("%-15s %-40s %-5s %-45s %s", f.Check, f.Item, f.Status, f.Value.EN, f.Threshold.EN)
			if f.Check != task.check {
				t.Errorf("%s: finding names check %q", task.check, f.Check)
			}
			if f.Message.EN == "" || f.Message.ZH == "" {
				t.Errorf("%s %s: message not bilingual: %+v", task.check, f.Item, f.Message)
			}
			if f.Value.EN == "" || f.Value.ZH == "" || f.Value.EN == f.Value.ZH && hasWords(f.Value.EN) {
				t.Errorf("%s %s: value not bilingual: %+v", task.check, f.Item, f.Value)
			}
			if f.Threshold.EN == f.Threshold.ZH && hasWords(f.Threshold.EN) {
				t.Errorf("%s %s: threshold not bilingual: %+v", task.check, f.Item, f.Threshold)
			}
			checkItemTitle(t, task.check, task.args, f)
			if f.Status == module.StatusError && !task.errorOK {
				t.Errorf("%s %s: could not measure: %s %q", task.check, f.Item, f.Message.EN, f.Evidence)
			}
		}
	}
	if total < 8 {
		t.Errorf("the inspection gave %d findings in total, want at least 8", total)
	}
}

func TestDiskLocalRoot(t *testing.T) {
	res := runCheck(t, localEnv(t), diskCheck, module.Args{"mounts": []string{"/", "/no/such/mount"}})
	root := findingByItem(t, res.Findings, "/")
	if root.Metrics["size_bytes"] <= 0 || root.Status == module.StatusError {
		t.Errorf("/ = %+v, want a measured size", root)
	}
	if !strings.Contains(root.Value.EN, "% used") || !strings.HasPrefix(root.Value.ZH, "已用 ") {
		t.Errorf("/ value = %q", root.Value)
	}
	inodes := findingByItem(t, res.Findings, "/ inodes")
	if inodes.Metrics["inodes_total"] <= 0 {
		t.Errorf("/ inodes = %+v", inodes)
	}
	if missing := findingByItem(t, res.Findings, "/no/such/mount"); missing.Status != module.StatusFail {
		t.Errorf("absent mount = %s, want fail", missing.Status)
	}

	// A 0% fail level makes every mount fail, which proves thresholds reach Run.
	res = runCheck(t, localEnv(t), diskCheck, module.Args{"warn": 0.0, "fail": 0.0, "inodes": false})
	if !res.Failed || module.Worst(res.Findings) != module.StatusFail {
		t.Errorf("fail 0%%: result %+v, want failed", res)
	}
}

func TestServiceLocal(t *testing.T) {
	res := runCheck(t, localEnv(t), serviceCheck, module.Args{"units": []string{"ssh", "patrol-no-such-unit"}})
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		// Without systemd the check returns one error finding naming the reason.
		if len(res.Findings) != 1 || res.Findings[0].Status != module.StatusError {
			t.Fatalf("findings = %+v, want one error", res.Findings)
		}
		if msg := res.Findings[0].Message; !strings.Contains(msg.EN, "systemd is not running") || !strings.HasPrefix(msg.ZH, "主机上没有运行 systemd") {
			t.Errorf("message = %+v, want it to say systemd is not running in both languages", msg)
		}
		return
	}
	missing := findingByItem(t, res.Findings, "patrol-no-such-unit.service")
	if missing.Status != module.StatusFail || missing.Value != i18n.T("not found", "不存在") {
		t.Errorf("unknown unit = %s %q, want fail not found", missing.Status, missing.Value)
	}
}

func TestPortLocal(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	res := runCheck(t, localEnv(t), portCheck, module.Args{"ports": []any{port}})
	if f := res.Findings[0]; f.Status != module.StatusOK || f.Value != i18n.T("listening on 127.0.0.1", "正在监听 127.0.0.1") {
		t.Errorf("open port = %s %q, want ok listening on 127.0.0.1", f.Status, f.Value)
	}

	ln.Close()
	res = runCheck(t, localEnv(t), portCheck, module.Args{"ports": []string{"tcp/" + strconv.Itoa(port)}})
	if f := res.Findings[0]; f.Status != module.StatusFail {
		t.Errorf("closed port = %s %q, want fail", f.Status, f.Value)
	}
}

func TestUpdatesLocalApt(t *testing.T) {
	res := runCheck(t, localEnv(t), updatesCheck, nil)
	updates := findingByItem(t, res.Findings, "updates")
	if updates.Status == module.StatusError {
		t.Fatalf("updates could not be measured: %s", updates.Message.EN)
	}
	if !strings.Contains(updates.Value.EN, "apt-get") || !strings.Contains(updates.Value.ZH, "apt-get") {
		t.Errorf("value %q does not name the package manager", updates.Value)
	}
	findingByItem(t, res.Findings, "security updates")
}

func TestUnsupportedOSIsErrorFinding(t *testing.T) {
	env := localEnv(t)
	env.Host.OS = "win2012r2"
	for _, spec := range Specs() {
		if spec.Name == httpCheck {
			continue // runs on the patrol machine whatever the host OS
		}
		res := runCheck(t, env, spec.Name, module.Args{"path": "/x", "url": "http://127.0.0.1:1/", "ports": []string{"22"}, "patterns": []string{"x"}})
		if len(res.Findings) != 1 || res.Findings[0].Status != module.StatusError {
			t.Errorf("%s on Windows: %+v, want one error finding", spec.Name, res.Findings)
		}
	}
}

func TestSpecsDeclareChecks(t *testing.T) {
	r := module.NewRegistry()
	Register(r)
	for _, s := range Specs() {
		if !s.Check || s.Run == nil || s.Title.ZH == "" || s.Title.EN == "" || s.Doc.EN == "" || s.Doc.ZH == "" {
			t.Errorf("%s: incomplete spec", s.Name)
		}
		if !strings.HasPrefix(s.Name, "check.") {
			t.Errorf("%s: name must start with check.", s.Name)
		}
		for _, a := range s.Args {
			if a.Doc.EN == "" || a.Doc.ZH == "" || a.Type == "" {
				t.Errorf("%s: argument %s lacks a type or doc", s.Name, a.Name)
			}
		}
	}
	if got := len(r.Names()); got != len(Specs()) {
		t.Errorf("registry has %d names, want %d", got, len(Specs()))
	}
}

// checkItemTitle fails a finding whose item has a fixed English word, such as
// "memory" or the "inodes" of "/ inodes", but no Chinese title, since the item
// column of a Chinese report would show it in English. Names the host or the
// task gave (mount points, units, ports, URLs, paths, patterns) are shown as
// they are and need no title.
func checkItemTitle(t *testing.T, check string, args module.Args, f module.Finding) {
	t.Helper()
	if !f.ItemTitle.IsZero() {
		if f.ItemTitle.EN != f.Item || f.ItemTitle.ZH == "" || f.ItemTitle.ZH == f.ItemTitle.EN {
			t.Errorf("%s %s: item title %+v must keep the item in English and translate it in Chinese", check, f.Item, f.ItemTitle)
		}
		return
	}
	rest := f.Item
	for _, v := range args {
		for _, s := range anyStrings(v) {
			rest = strings.ReplaceAll(rest, s, " ")
		}
	}
	for _, field := range strings.Fields(rest) {
		if regexp.MustCompile(`^[A-Za-z]{2,}[A-Za-z0-9 ]*$`).MatchString(field) {
			t.Errorf("%s %q: the fixed word %q has no Chinese item title", check, f.Item, field)
		}
	}
}

// anyStrings lists the strings a task argument holds: itself, or the items of
// a list.
func anyStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []string:
		return v
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// hasWords reports whether s has English words, beyond unit symbols such as
// GiB or ms, and so needs a Chinese form of its own.
func hasWords(s string) bool {
	for _, w := range regexp.MustCompile(`[A-Za-z]{2,}`).FindAllString(s, -1) {
		if !slices.Contains([]string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ms"}, w) {
			return true
		}
	}
	return false
}
