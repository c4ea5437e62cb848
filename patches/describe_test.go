package patches

import (
	"strings"
	"testing"

	"patrol/inventory"
)

// checkModeRun is a patch run of a patch that stops httpd on a host that
// also names crond in patch_services, for the texts of check mode. The texts
// only read the catalog and host variables, so no connection is needed.
func checkModeRun(t *testing.T, vars map[string]any) *patchRun {
	t.Helper()
	host := &inventory.Host{Name: "web1", OS: "centos7", Vars: vars}
	s := &hostSession{r: &applyRun{opts: ApplyOptions{Catalog: planCatalog(t)}}, host: host, ops: centosOps{}}
	p := &Patch{ID: "RHSA-2026:1", Method: MethodRPM, StopServices: []string{"httpd"}, Files: []File{{Path: "centos7/a.rpm", Size: 2048}}}
	return &patchRun{s: s, p: p}
}

func TestCheckModeTextsSayWhatWouldBeChecked(t *testing.T) {
	pr := checkModeRun(t, map[string]any{
		"patch_services": []any{"crond"}, "backup_marker": "/var/backup/done", "health_url": "http://127.0.0.1/health",
	})

	pre := pr.preCheckText()
	for _, want := range []string{
		"would check that /var/tmp/patrol-patches has room for 2.0 KiB of files plus a 100.0 MiB reserve",
		"would check that the backup marker /var/backup/done was modified within the last 26h0m0s",
		"would check that services httpd, crond are running",
	} {
		if !strings.Contains(pre.EN, want) {
			t.Errorf("pre-check text %q lacks %q", pre.EN, want)
		}
	}
	for _, want := range []string{"将检查备份标记文件 /var/backup/done 是否在最近 26h0m0s 内更新过", "将检查服务 httpd、crond 是否在运行"} {
		if !strings.Contains(pre.ZH, want) {
			t.Errorf("pre-check text %q lacks %q", pre.ZH, want)
		}
	}

	post, err := pr.postCheckText()
	if err != nil {
		t.Fatal(err)
	}
	if want := "would check that services httpd, crond are running; would check that health_url http://127.0.0.1/health returns 2xx or 3xx"; post.EN != want {
		t.Errorf("post-check text = %q, want %q", post.EN, want)
	}
	if want := "将检查服务 httpd、crond 是否在运行；将检查 health_url http://127.0.0.1/health 是否返回 2xx 或 3xx"; post.ZH != want {
		t.Errorf("post-check text = %q, want %q", post.ZH, want)
	}

	// A text that reads as a statement of the service's state misleads:
	// nothing has been checked yet.
	for _, text := range []string{pre.ZH, post.ZH} {
		if strings.Contains(text, "运行中") {
			t.Errorf("check-mode text states that services run: %s", text)
		}
	}
	single := servicesCheckText([]string{"httpd"})
	if single.EN != "would check that service httpd is running" || single.ZH != "将检查服务 httpd 是否在运行" {
		t.Errorf("text for one service = %+v", single)
	}
}

func TestCheckModeTextsWithoutBackupMarker(t *testing.T) {
	pre := checkModeRun(t, nil).preCheckText()

	if !strings.Contains(pre.EN, "would not check the backup: the host has no backup_marker variable") ||
		!strings.Contains(pre.ZH, "不会检查备份：主机未设置 backup_marker 变量") {
		t.Errorf("pre-check text without backup_marker = %+v", pre)
	}
}

func TestCheckModePostCheckRejectsInvalidHealthWait(t *testing.T) {
	_, err := checkModeRun(t, map[string]any{"health_url": "http://127.0.0.1/", "health_wait": "soon"}).postCheckText()

	if err == nil || !strings.Contains(err.Error(), "variable health_wait is soon, but must be a duration") {
		t.Errorf("error = %v, want the invalid health_wait named", err)
	}
}

func TestStepTitlesInChinese(t *testing.T) {
	steps := append([]Step{StepConnect, StepRefused, StepPartner, StepLock, StepDone, StepLeft, StepRollback}, PatchSteps...)
	for _, step := range steps {
		title := step.Title()
		if title.EN != string(step) {
			t.Errorf("step %s: English title %q, want the identifier", step, title.EN)
		}
		if title.ZH == "" || title.ZH == string(step) {
			t.Errorf("step %s has no Chinese title", step)
		}
	}
}
