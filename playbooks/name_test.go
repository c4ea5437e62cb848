package playbooks

import (
	"errors"
	"strings"
	"testing"

	"patrol/i18n"
)

func TestParseNames(t *testing.T) {
	cases := []struct {
		name     string
		src      string
		wantPlay i18n.Text
		wantTask i18n.Text
	}{
		{"plain text", `- name: monthly full inspection
  hosts: linux
  tasks:
    - name: CPU load
      ping:
`, i18n.T("monthly full inspection", ""), i18n.T("CPU load", "")},

		{"plain Chinese text", `- name: 月度全面巡检
  hosts: linux
  tasks:
    - name: CPU 负载
      ping:
`, i18n.T("月度全面巡检", ""), i18n.T("CPU 负载", "")},

		{"block mappings", `- name:
    en: monthly full inspection
    zh: 月度全面巡检
  hosts: linux
  tasks:
    - name:
        zh: CPU 负载
        en: CPU load
      ping:
`, i18n.T("monthly full inspection", "月度全面巡检"), i18n.T("CPU load", "CPU 负载")},

		{"flow mappings", `- name: {en: monthly full inspection, zh: 月度全面巡检}
  hosts: linux
  tasks:
    - name: {en: CPU load, zh: CPU 负载}
      ping:
`, i18n.T("monthly full inspection", "月度全面巡检"), i18n.T("CPU load", "CPU 负载")},

		{"mapping with en only", `- hosts: linux
  tasks:
    - name: {en: CPU load}
      ping:
`, i18n.Text{}, i18n.T("CPU load", "")},

		{"templates in both variants", `- hosts: linux
  tasks:
    - name:
        en: install {{ .item }}
        zh: 安装 {{ .item }}
      ping:
`, i18n.Text{}, i18n.T("install {{ .item }}", "安装 {{ .item }}")},

		{"no names", `- hosts: linux
  tasks:
    - ping:
`, i18n.Text{}, i18n.Text{}},

		{"empty plain name", `- name:
  hosts: linux
  tasks:
    - name: ""
      ping:
`, i18n.Text{}, i18n.Text{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pb, err := Parse("play.yml", []byte(c.src), testRegistry())
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			play := pb.Plays[0]
			if play.Name != c.wantPlay {
				t.Errorf("play name = %+v, want %+v", play.Name, c.wantPlay)
			}
			if task := play.Tasks[0]; task.Name != c.wantTask {
				t.Errorf("task name = %+v, want %+v", task.Name, c.wantTask)
			}
		})
	}
}

func TestNameInEachLanguage(t *testing.T) {
	cases := []struct {
		name   string
		task   *Task
		en, zh string
	}{
		{"both languages", &Task{Name: i18n.T("CPU load", "CPU 负载"), Module: "check.load"}, "CPU load", "CPU 负载"},
		{"English only falls back", &Task{Name: i18n.T("CPU load", ""), Module: "check.load"}, "CPU load", "CPU load"},
		{"no name shows the module", &Task{Module: "check.load"}, "check.load", "check.load"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.task.DisplayName()
			if en := got.In(i18n.EN); en != c.en {
				t.Errorf("in English = %q, want %q", en, c.en)
			}
			if zh := got.In(i18n.ZH); zh != c.zh {
				t.Errorf("in Chinese = %q, want %q", zh, c.zh)
			}
		})
	}
}

func TestNameProblems(t *testing.T) {
	cases := []struct {
		name  string
		src   string
		wants []want
	}{
		{"list", `- hosts: linux
  tasks:
    - name: [disk, space]
      ping:
`, []want{{"play.yml:3:13", []string{"name must be text or a mapping of languages", "{en: CPU load, zh: CPU 负载}", "got a list"}}}},

		{"unknown language", `- hosts: linux
  tasks:
    - name:
        en: disk space
        fr: espace disque
      ping:
`, []want{{"play.yml:5:9", []string{"unknown language fr in name", "en (English, required) and zh"}}}},

		{"locale instead of a language key", `- hosts: linux
  tasks:
    - name:
        en: disk space
        zh-CN: 磁盘空间
      ping:
`, []want{{"play.yml:5:9", []string{"unknown language zh-CN in name", "write zh instead"}}}},

		{"empty English variant", `- hosts: linux
  tasks:
    - name:
        en: ""
        zh: 磁盘空间
      ping:
`, []want{{"play.yml:4:13", []string{"name.en is empty", "write the English name"}}}},

		{"empty Chinese variant", `- hosts: linux
  tasks:
    - name:
        en: disk space
        zh:
      ping:
`, []want{{"play.yml:5:12", []string{"name.zh is empty", "remove zh"}}}},

		{"blank Chinese variant", `- hosts: linux
  tasks:
    - name: {en: disk space, zh: "  "}
      ping:
`, []want{{"play.yml:3:34", []string{"name.zh is empty"}}}},

		{"variant is a list", `- hosts: linux
  tasks:
    - name:
        en: [disk, space]
      ping:
`, []want{{"play.yml:4:13", []string{"name.en must be text", "got a list"}}}},

		{"no English variant", `- hosts: linux
  tasks:
    - name:
        zh: 磁盘空间
      ping:
`, []want{{"play.yml:4:9", []string{"name has no en", "add en:", "plain text"}}}},

		{"English key in capitals", `- hosts: linux
  tasks:
    - name:
        EN: disk space
      ping:
`, []want{{"play.yml:4:9", []string{"unknown language EN in name", "write en instead"}}}},

		{"empty mapping", `- hosts: linux
  tasks:
    - name: {}
      ping:
`, []want{{"play.yml:3:13", []string{"name has no en"}}}},

		{"language given twice", `- hosts: linux
  tasks:
    - name:
        en: disk
        en: disk space
      ping:
`, []want{{"play.yml:5:9", []string{"duplicate key en", "line 4"}}}},

		{"play name", `- name: {en: patch, ja: パッチ}
  hosts: linux
  tasks:
    - ping:
`, []want{{"play.yml:1:21", []string{"unknown language ja in name"}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkProblems(t, c.src, c.wants) })
	}
}

func TestNameProblemInChinese(t *testing.T) {
	src := `- hosts: linux
  tasks:
    - name:
        en: disk space
        zh-CN: 磁盘空间
      ping:
`
	_, err := Parse("play.yml", []byte(src), testRegistry())
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v is not a *ValidationError", err)
	}
	want := "play.yml:5:9: name 中的语言 zh-CN 未知；请改写为 zh"
	if got := ve.In(i18n.ZH); !strings.HasPrefix(got, want) {
		t.Errorf("Chinese message = %q, want prefix %q", got, want)
	}
}

// TestNameInOtherMessages checks that messages naming a task show its name in
// the message's language.
func TestNameInOtherMessages(t *testing.T) {
	src := `- hosts: linux
  tasks:
    - name: {en: forgot, zh: 忘了模块}
      register: x
`
	_, err := Parse("play.yml", []byte(src), testRegistry())
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v is not a *ValidationError", err)
	}
	if got := ve.In(i18n.EN); !strings.Contains(got, `task "forgot" calls no module`) {
		t.Errorf("English message %q lacks the English name", got)
	}
	if got := ve.In(i18n.ZH); !strings.Contains(got, `任务 "忘了模块" 没有调用模块`) {
		t.Errorf("Chinese message %q lacks the Chinese name", got)
	}
}
