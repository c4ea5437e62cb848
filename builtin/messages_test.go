package builtin_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"patrol/module"
)

// A failed task's message reaches a Chinese report, so it has a Chinese form.
func TestCommandFailureMessageBilingual(t *testing.T) {
	res := mustRun(t, `- command: sh -c "exit 1"`)

	if res.Message.ZH != "命令退出码为 1，不在允许的退出码 ok_codes [0] 之中" {
		t.Errorf("zh = %q", res.Message.ZH)
	}
	if res.Message.EN != res.Msg || res.Msg != "exit code 1 is not one of ok_codes [0]" {
		t.Errorf("en = %q, Msg = %q; want the same English message", res.Message.EN, res.Msg)
	}
}

func TestScriptMissingSourceMessage(t *testing.T) {
	_, err := runTask(t, false, `- script: /nonexistent/patrol-test.sh`)

	var me *module.Error
	if !errors.As(err, &me) {
		t.Fatalf("err = %v (%T), want a *module.Error", err, err)
	}
	if got := me.Message().ZH; got != "script：无法读取 /nonexistent/patrol-test.sh：运行 patrol 的机器上不存在 /nonexistent/patrol-test.sh；请检查路径" {
		t.Errorf("zh = %q", got)
	}
	if !strings.Contains(err.Error(), "no such file or directory") {
		t.Errorf("Error() = %q, want Go's error kept", err.Error())
	}
}

// Failures on the machine running patrol name that machine, and never advise
// become, which acts on the host.
func TestLocalFailureMessages(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "fetched")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "app.log")
	if err := os.WriteFile(src, []byte("started\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name, task, zh string
	}{
		{"fetch into a file", fmt.Sprintf("- fetch: {src: %q, dest: %q}", src, file),
			"fetch：创建文件夹 " + filepath.Join(file, "web1") + " 失败：运行 patrol 的机器上，" + file + " 中有一级是文件而不是文件夹；请检查路径"},
		{"copy of a missing source", fmt.Sprintf("- copy: {src: /nonexistent/patrol-src, dest: %q}", filepath.Join(dir, "e")),
			"copy：无法读取 /nonexistent/patrol-src：运行 patrol 的机器上不存在 /nonexistent/patrol-src；请检查路径"},
	}
	for _, c := range cases {
		_, err := runTask(t, false, c.task)
		var me *module.Error
		if !errors.As(err, &me) {
			t.Errorf("%s: err = %v (%T), want a *module.Error", c.name, err, err)
			continue
		}
		if got := me.Message(); got.ZH != c.zh || !strings.Contains(got.EN, "on the machine running patrol") {
			t.Errorf("%s: message = %+v, want zh %q", c.name, got, c.zh)
		}
	}
}

func TestCopyContentStagingFailure(t *testing.T) {
	tmp := filepath.Join(t.TempDir(), "missing")
	t.Setenv("TMPDIR", tmp)

	_, err := runTask(t, false, fmt.Sprintf("- copy: {content: x, dest: %q}", filepath.Join(t.TempDir(), "x")))

	var me *module.Error
	if !errors.As(err, &me) {
		t.Fatalf("err = %v (%T), want a *module.Error", err, err)
	}
	if want := "copy：在临时文件夹 " + tmp + " 中暂存 content 失败：运行 patrol 的机器上不存在 " + tmp + "；请检查路径"; me.Message().ZH != want {
		t.Errorf("zh = %q, want %q", me.Message().ZH, want)
	}
}
