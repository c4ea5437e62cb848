package main

import (
	"bytes"
	"strings"
	"testing"

	"patrol/i18n"
	"patrol/module"
	"patrol/runner"
)

// The text output shows a finding's value in the CLI language, like its message.
func TestPrintResultFindingLanguage(t *testing.T) {
	tr := runner.TaskResult{Host: "web1", Task: "disk", Status: runner.StatusOK, Result: module.Result{
		Findings: []module.Finding{{
			Check: "check.disk", Item: "/", Status: module.StatusWarn,
			Value:   i18n.T("83% used, 4.1 GiB free", "已用 83%，剩余 4.1 GiB"),
			Message: i18n.T("/ is 83% used", "/ 已用 83%"),
		}},
	}}
	for lang, want := range map[i18n.Lang]string{
		i18n.ZH: "警告     / 已用 83%，剩余 4.1 GiB / 已用 83%",
		i18n.EN: "warn  / 83% used, 4.1 GiB free / is 83% used",
	} {
		var stdout bytes.Buffer
		a := &app{lang: lang, stdout: &stdout, stderr: &bytes.Buffer{}}
		a.printResult(tr)
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("%s output %q lacks %q", lang, stdout.String(), want)
		}
	}
}
