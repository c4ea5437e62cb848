package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestHelpChinese(t *testing.T) {
	for _, args := range [][]string{
		{"--help", "--lang", "zh"},
		{"--lang", "zh", "--help"},
		{"patch", "--help", "--lang=zh"},
		{"help", "calendar", "--lang", "zh"},
	} {
		res := runPatrol(t, t.TempDir(), "", args...)
		if res.code != 0 {
			t.Errorf("patrol %v: exit %d, stderr %s", args, res.code, res.stderr)
			continue
		}
		for _, want := range []string{"用法：", "参数：", "显示本帮助"} {
			if !strings.Contains(res.stdout, want) {
				t.Errorf("patrol %v: help lacks %q:\n%s", args, want, res.stdout)
			}
		}
		for _, english := range []string{"Usage:", "Flags:", "(default", "help for"} {
			if strings.Contains(res.stdout, english) {
				t.Errorf("patrol %v: Chinese help contains %q:\n%s", args, english, res.stdout)
			}
		}
	}
}

func TestUsageErrorsChinese(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"calender", "--lang", "zh"}, `"patrol" 没有命令 "calender"（是否想写 "calendar"？）`},
		{[]string{"calendar", "--mnth", "2026-10", "--lang", "zh"}, "未知参数 --mnth"},
		{[]string{"calendar", "--mnth", "2026-10", "--lang", "en"}, "unknown flag --mnth"},
	} {
		res := runPatrol(t, t.TempDir(), "", tc.args...)
		if res.code != exitInvalid {
			t.Errorf("patrol %v: exit %d, want %d", tc.args, res.code, exitInvalid)
		}
		if !strings.Contains(res.stderr, tc.want) {
			t.Errorf("patrol %v: stderr %q lacks %q", tc.args, res.stderr, tc.want)
		}
	}
}

func TestLabMissingReplayFile(t *testing.T) {
	res := runPatrolEnv(t, []string{"PATROL_HOME=" + t.TempDir(), "PATROL_LANG=zh", "LAB_PW=x"}, "",
		"lab", "winrm", "--replay", "nope.yml", "--user", "Administrator", "--password-env", "LAB_PW")
	if res.code != exitInvalid {
		t.Errorf("exit %d, want %d; stderr %s", res.code, exitInvalid, res.stderr)
	}
	if !strings.Contains(res.stderr, "--replay nope.yml: 无法读取回放文件") {
		t.Errorf("stderr %q does not name the replay file in Chinese", res.stderr)
	}
}

func TestPatchImportBadSeverityChinese(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, filepath.Join(dir, "a.rpm"), "not an rpm")
	res := runPatrol(t, t.TempDir(), dir, "patch", "import", file, "--catalog", filepath.Join(dir, "catalog.yml"),
		"--id", "A", "--severity", "high", "--method", "rpm", "--sha256", strings.Repeat("0", 64), "--lang", "zh")
	if res.code != exitInvalid {
		t.Errorf("exit %d, want %d; stderr %s", res.code, exitInvalid, res.stderr)
	}
	if !strings.Contains(res.stderr, `--severity: 严重程度 "high" 无效`) {
		t.Errorf("stderr %q does not name --severity in Chinese", res.stderr)
	}
}
