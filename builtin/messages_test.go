package builtin_test

import (
	"errors"
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
	if got := me.Message().ZH; got != "script：无法读取 /nonexistent/patrol-test.sh：文件或目录不存在；请检查路径" {
		t.Errorf("zh = %q", got)
	}
	if !strings.Contains(err.Error(), "no such file or directory") {
		t.Errorf("Error() = %q, want Go's error kept", err.Error())
	}
}
