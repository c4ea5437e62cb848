package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"patrol/i18n"
	"patrol/playbooks"
)

// shippedTaskNames returns the task names of a built-in playbook in lang.
func shippedTaskNames(t *testing.T, name string, lang i18n.Lang) []string {
	t.Helper()
	book, err := playbooks.LoadShipped(name, registry())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, play := range book.Plays {
		for _, task := range play.Tasks {
			names = append(names, task.DisplayName().In(lang))
		}
	}
	return names
}

// consoleTaskNames returns the task name of every result line patrol printed:
// "STATUS HOST | TASK" or "STATUS HOST | TASK: MESSAGE". Finding lines are
// indented and left out.
func consoleTaskNames(stdout string) []string {
	var names []string
	for line := range strings.Lines(stdout) {
		if strings.HasPrefix(line, " ") {
			continue
		}
		_, rest, ok := strings.Cut(strings.TrimRight(line, "\n"), " | ")
		if !ok {
			continue
		}
		// The task name ends at ": " in English and at "：" in Chinese.
		task, _, _ := strings.Cut(rest, ": ")
		task, _, _ = strings.Cut(task, "：")
		names = append(names, task)
	}
	return names
}

// TestInspectTaskNamesFollowLanguage runs the built-in monthly inspection on
// this machine with -v, which prints every result, and checks that each
// result line names its task in the language of the locale.
func TestInspectTaskNamesFollowLanguage(t *testing.T) {
	cases := []struct {
		name    string
		locale  string
		lang    i18n.Lang
		mustSee []string
	}{
		{"Chinese locale", "LANG=zh_CN.UTF-8", i18n.ZH, []string{"磁盘容量", "CPU 负载"}},
		{"English locale", "LANG=C.UTF-8", i18n.EN, []string{"disk capacity", "CPU load"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			home, dir := t.TempDir(), t.TempDir()
			env := []string{"PATROL_HOME=" + home, "PATROL_INVENTORY=", "PATROL_LANG=", "LC_ALL=", "LC_MESSAGES=", c.locale}

			res := runPatrolEnv(t, env, dir, "inspect", "monthly", "-v", "--out", filepath.Join(dir, "report"))

			if res.code != exitOK && res.code != exitFailed {
				t.Fatalf("exit code = %d, want 0 or 1\nstderr:\n%s", res.code, res.stderr)
			}
			want := shippedTaskNames(t, "monthly-inspection", c.lang)
			got := consoleTaskNames(res.stdout)
			if len(got) < len(want) {
				t.Errorf("printed %d result lines, want one per task (%d) at least:\n%s", len(got), len(want), res.stdout)
			}
			for _, name := range got {
				if !slices.Contains(want, name) {
					t.Errorf("result line names task %q, want one of %q", name, want)
				}
			}
			for _, name := range c.mustSee {
				if !slices.Contains(got, name) {
					t.Errorf("no result line for task %q:\n%s", name, res.stdout)
				}
			}
		})
	}
}

// TestReportTaskNamesFollowReportLanguage runs the inspection with an English
// console, whose report is Chinese by default, and renders it again in
// English from the journal.
func TestReportTaskNamesFollowReportLanguage(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	env := []string{"PATROL_HOME=" + home, "PATROL_INVENTORY=", "PATROL_LANG=", "LC_ALL=", "LC_MESSAGES=", "LANG=C.UTF-8"}
	first := filepath.Join(dir, "first")
	if res := runPatrolEnv(t, env, dir, "inspect", "monthly", "--out", first); res.code > exitFailed {
		t.Fatalf("inspect: exit %d\n%s", res.code, res.stderr)
	}
	again := filepath.Join(dir, "again")
	if res := runPatrolEnv(t, env, dir, "report", "--lang", "en", "--out", again); res.code != exitOK {
		t.Fatalf("report: exit %d\n%s", res.code, res.stderr)
	}

	cases := []struct {
		dir  string
		lang i18n.Lang
	}{
		{first, i18n.ZH},
		{again, i18n.EN},
	}
	for _, c := range cases {
		tasks := reportTaskNames(t, filepath.Join(c.dir, "report.json"))
		if !slices.Contains(tasks, i18n.T("disk capacity", "磁盘容量").In(c.lang)) {
			t.Errorf("%s: report items name tasks %q, want the disk capacity task in %s", c.dir, tasks, c.lang)
		}
		want := shippedTaskNames(t, "monthly-inspection", c.lang)
		for _, task := range tasks {
			if !slices.Contains(want, task) {
				t.Errorf("%s: report item names task %q, want one of %q", c.dir, task, want)
			}
		}
	}
}

func reportTaskNames(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Hosts []struct {
			Items []struct {
				Task string `json:"task"`
			} `json:"items"`
		} `json:"hosts"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	var tasks []string
	for _, h := range rep.Hosts {
		for _, it := range h.Items {
			tasks = append(tasks, it.Task)
		}
	}
	return tasks
}

// TestRunCheckJSONTaskNames runs the built-in playbook in check mode with JSON
// output in Chinese: each line names the task in Chinese and gives both
// languages for scripts that match on the English name.
func TestRunCheckJSONTaskNames(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	env := []string{"PATROL_HOME=" + home, "PATROL_INVENTORY=", "PATROL_LANG=zh"}

	res := runPatrolEnv(t, env, dir, "run", "daily-inspection", "--check", "-o", "json")

	if res.code != exitOK && res.code != exitFailed {
		t.Fatalf("exit code = %d, want 0 or 1\nstderr:\n%s", res.code, res.stderr)
	}
	found := false
	for line := range strings.Lines(res.stdout) {
		var r struct {
			Play     string    `json:"play"`
			Task     string    `json:"task"`
			TaskName i18n.Text `json:"task_name"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if r.Play != "日常基础巡检" {
			t.Errorf("play = %q, want 日常基础巡检", r.Play)
		}
		if r.Task != r.TaskName.ZH || r.TaskName.EN == "" {
			t.Errorf("task %q with task_name %+v, want the Chinese name and both languages", r.Task, r.TaskName)
		}
		if r.TaskName == i18n.T("disk capacity", "磁盘容量") {
			found = true
		}
	}
	if !found {
		t.Errorf("no line for the disk capacity task:\n%s", res.stdout)
	}
}
