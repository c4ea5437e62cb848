package runner

import (
	"context"
	"reflect"
	"testing"

	"patrol/i18n"
)

const bilingualBook = `
- name: {en: smoke, zh: 冒烟测试}
  hosts: all
  tasks:
    - name: {en: say hello, zh: 打招呼}
      command: echo hello
    - name:
        en: "echo {{ .item }}"
        zh: "回显 {{ .item }}"
      command: echo {{ .item }}
      loop: [a]
    - name: plain name
      command: "true"
    - command: "true"
`

func TestResultNamesInRunLanguage(t *testing.T) {
	cases := []struct {
		lang      i18n.Lang
		wantPlay  string
		wantTasks []string
	}{
		{i18n.ZH, "冒烟测试", []string{"打招呼", "回显 a", "plain name", "command"}},
		{i18n.EN, "smoke", []string{"say hello", "echo a", "plain name", "command"}},
		{"", "smoke", []string{"say hello", "echo a", "plain name", "command"}},
	}
	for _, c := range cases {
		t.Run("lang "+string(c.lang), func(t *testing.T) {
			_, rec := runBook(t, context.Background(), Options{
				Inventory: loadInventory(t, 1, ""), Playbook: parse(t, bilingualBook), Lang: c.lang,
			})

			var tasks []string
			for _, tr := range rec.of("h1") {
				tasks = append(tasks, tr.Task)
				if tr.Play != c.wantPlay {
					t.Errorf("task %q: play = %q, want %q", tr.Task, tr.Play, c.wantPlay)
				}
			}
			if !reflect.DeepEqual(tasks, c.wantTasks) {
				t.Errorf("tasks = %q, want %q", tasks, c.wantTasks)
			}
		})
	}
}

// TestResultNamesKeepBothLanguages checks that a result carries the rendered
// name in both languages whatever the run's language, so that the journal can
// be read again in the other one.
func TestResultNamesKeepBothLanguages(t *testing.T) {
	_, rec := runBook(t, context.Background(), Options{
		Inventory: loadInventory(t, 1, ""), Playbook: parse(t, bilingualBook), Lang: i18n.EN,
	})

	results := rec.of("h1")
	if len(results) != 4 {
		t.Fatalf("got %d results, want 4", len(results))
	}
	want := []i18n.Text{
		i18n.T("say hello", "打招呼"),
		i18n.T("echo a", "回显 a"),
		i18n.T("plain name", ""),
		i18n.T("command", ""),
	}
	for i, tr := range results {
		if tr.TaskName != want[i] {
			t.Errorf("result %d: TaskName = %+v, want %+v", i+1, tr.TaskName, want[i])
		}
		if tr.PlayName != i18n.T("smoke", "冒烟测试") {
			t.Errorf("result %d: PlayName = %+v, want both languages", i+1, tr.PlayName)
		}
	}
}

func TestUnreachableResultNamedInRunLanguage(t *testing.T) {
	p := newProbe()
	p.unreachable["h1"] = true
	_, rec := runBook(t, context.Background(), Options{
		Inventory: loadInventory(t, 1, ""), Playbook: parse(t, bilingualBook), Dial: p.dial, Lang: i18n.ZH,
	})

	results := rec.of("h1")
	if len(results) != 1 {
		t.Fatalf("got %d results, want the one unreachable result", len(results))
	}
	tr := results[0]
	if tr.Status != StatusUnreachable || tr.Task != "连接" || tr.Play != "冒烟测试" {
		t.Errorf("result = %s %q in play %q, want unreachable 连接 in 冒烟测试", tr.Status, tr.Task, tr.Play)
	}
	if tr.TaskName != i18n.T("connect", "连接") {
		t.Errorf("TaskName = %+v, want connect in both languages", tr.TaskName)
	}
}
