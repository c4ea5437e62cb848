package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"patrol/journal"
)

// sealInventory is an inventory of two local hosts in a group seal, for
// tests of host patterns.
const sealInventory = `hosts:
  seal-app-1:
    connection: local
  seal-app-2:
    connection: local
groups:
  seal:
    hosts: [seal-app-1, seal-app-2]
`

func TestIgnoredFailureInRun(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	book := writeFile(t, filepath.Join(dir, "ignore.yml"), `- name: ignore a failure
  hosts: all
  tasks:
    - name: may fail
      shell: exit 1
      ignore_errors: true
    - name: runs after it
      shell: "true"
`)

	res := runPatrol(t, home, dir, "run", book)
	if res.code != exitOK {
		t.Fatalf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, exitOK, res.stdout, res.stderr)
	}
	if !regexp.MustCompile(`(?m)^FAILED +\S+ \| may fail: .*\.\.\.ignoring$`).MatchString(res.stdout) {
		t.Errorf("stdout does not mark the failure ignored:\n%s", res.stdout)
	}
	if !regexp.MustCompile(`(?m) ok=0 changed=1 failed=0 skipped=0 unreachable=0 ignored=1$`).MatchString(res.stdout) {
		t.Errorf("recap does not count the failure as ignored:\n%s", res.stdout)
	}

	zh := runPatrol(t, home, dir, "run", book, "--lang", "zh")
	if !regexp.MustCompile(`(?m)^失败 +\S+ \| may fail：.*（已忽略）$`).MatchString(zh.stdout) {
		t.Errorf("Chinese stdout does not mark the failure ignored:\n%s", zh.stdout)
	}
	if !strings.Contains(zh.stdout, " 成功=0 已变更=1 失败=0 跳过=0 无法连接=0 已忽略=1\n") {
		t.Errorf("Chinese recap does not count the failure as ignored:\n%s", zh.stdout)
	}

	js := runPatrol(t, home, dir, "run", book, "--output", "json", "--lang", "zh")
	if !regexp.MustCompile(`(?m)^\{.*"task":"may fail".*"ignored":true.*\}$`).MatchString(js.stdout) {
		t.Errorf("JSON lines do not mark the failure ignored:\n%s", js.stdout)
	}

	// The journal marks the result and counts it as ignored, not failed.
	path, err := journal.Latest(filepath.Join(home, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	_, records, end, err := journal.Read(path)
	if err != nil || end == nil {
		t.Fatalf("journal %s: end %v, %v", path, end, err)
	}
	if len(records) == 0 || !records[0].Ignored || records[0].Status != journal.StatusFailed {
		t.Errorf("first journal record = %+v, want a failed result marked ignored", records)
	}
	// Failed still counts it, so that the counts add up for a patrol that
	// predates the ignored field; the run's status leaves it out.
	if end.Counts.Failed != 1 || end.Counts.Ignored != 1 || end.Status != journal.RunOK {
		t.Errorf("journal end = %+v, want ok with 1 failed, of which 1 ignored", end)
	}
}

func TestLimitMatchingNothingChinese(t *testing.T) {
	dir := t.TempDir()
	inv := writeFile(t, filepath.Join(dir, "inventory.yml"), sealInventory)
	for _, args := range [][]string{
		{"inventory", "-i", inv, "--limit", "seall", "--lang", "zh"},
		{"run", "daily-inspection", "-i", inv, "--limit", "seall", "--lang", "zh"},
	} {
		res := runPatrol(t, t.TempDir(), dir, args...)
		if res.code != exitInvalid {
			t.Errorf("patrol %v: exit code = %d, want %d", args, res.code, exitInvalid)
		}
		want := `--limit: 主机模式 "seall"："seall" 没有匹配任何主机或组（是否想写 "seal"？）`
		if !strings.Contains(res.stderr, want) {
			t.Errorf("patrol %v: stderr %q lacks %q", args, res.stderr, want)
		}
	}
}

func TestPlayHostsMatchingNothing(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	inv := writeFile(t, filepath.Join(dir, "inventory.yml"), sealInventory)
	book := writeFile(t, filepath.Join(dir, "book.yml"), `- name: check the seal hosts
  hosts: seall
  tasks:
    - shell: "true"
`)

	for _, tc := range []struct{ lang, want string }{
		{"en", book + `:2:10: play "check the seal hosts": host pattern "seall": "seall" matches no host or group (did you mean "seal"?)`},
		{"zh", book + `:2:10: play "check the seal hosts"：主机模式 "seall"："seall" 没有匹配任何主机或组（是否想写 "seal"？）`},
	} {
		res := runPatrol(t, home, dir, "run", book, "-i", inv, "--lang", tc.lang)
		if res.code != exitInvalid {
			t.Errorf("%s: exit code = %d, want %d", tc.lang, res.code, exitInvalid)
		}
		if !strings.Contains(res.stderr, tc.want) {
			t.Errorf("%s: stderr %q lacks %q", tc.lang, res.stderr, tc.want)
		}
	}
}

func TestMissingPlaybookChinese(t *testing.T) {
	res := runPatrol(t, t.TempDir(), t.TempDir(), "run", "nothere.yml", "--lang", "zh")
	if res.code != exitInvalid {
		t.Errorf("exit code = %d, want %d", res.code, exitInvalid)
	}
	want := "打开剧本 nothere.yml 失败：没有该文件，也没有同名的内置剧本；内置剧本有 daily-inspection、monthly-inspection"
	if !strings.Contains(res.stderr, want) {
		t.Errorf("stderr %q lacks %q", res.stderr, want)
	}
}

func TestModulesChinese(t *testing.T) {
	res := runPatrol(t, t.TempDir(), "", "modules", "check.disk", "--lang", "zh")
	if res.code != exitOK {
		t.Fatalf("exit code = %d\nstderr:\n%s", res.code, res.stderr)
	}
	for _, want := range []string{"check.disk — 磁盘容量\n", "按警告/不合格百分比检查", "可用空间低于该值时挂载点判为不合格"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
		}
	}

	// Each argument line is "  NAME  TYPE  DESCRIPTION": the descriptions
	// start at one display column.
	argLine := regexp.MustCompile(`^  \S+ +\S+ +`)
	columns := map[int]bool{}
	for line := range strings.Lines(res.stdout) {
		if lead := argLine.FindString(line); lead != "" {
			columns[displayWidth(lead)] = true
		}
	}
	if len(columns) != 1 {
		t.Errorf("argument descriptions start at display columns %v, want one:\n%s", columns, res.stdout)
	}

	list := runPatrol(t, t.TempDir(), "", "modules", "--lang", "zh")
	if !strings.Contains(list.stdout, "不经 shell 执行程序及其参数") {
		t.Errorf("module list lacks the Chinese description of command:\n%s", list.stdout)
	}
}

func TestJournalVerifyChinese(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	book := writeFile(t, filepath.Join(dir, "one.yml"), "- name: one task\n  hosts: all\n  tasks:\n    - shell: \"true\"\n")
	if res := runPatrol(t, home, dir, "run", book); res.code != exitOK {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}

	res := runPatrol(t, home, dir, "journal", "verify", "--lang", "zh")
	if res.code != exitOK {
		t.Fatalf("verify: exit %d\n%s", res.code, res.stderr)
	}
	if !regexp.MustCompile(`\.jsonl：完整；行数 \d+，结果数 1，末行 SHA-256 [0-9a-f]{64}\n$`).MatchString(res.stdout) {
		t.Errorf("verify line mixes punctuation: %q", res.stdout)
	}
}

func TestInspectionTermsChinese(t *testing.T) {
	res := runPatrol(t, t.TempDir(), "", "--help", "--lang", "zh")
	if !strings.Contains(res.stdout, "执行日常基础巡检或月度全面巡检") {
		t.Errorf("help does not use the report's terms:\n%s", res.stdout)
	}
	for _, other := range []string{"每日基础巡检", "每月全面巡检"} {
		if strings.Contains(res.stdout, other) {
			t.Errorf("help says %q, which the reports do not:\n%s", other, res.stdout)
		}
	}
}
