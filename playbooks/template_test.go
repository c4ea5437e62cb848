package playbooks

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"patrol/i18n"
	"patrol/inventory"
	"patrol/module"
)

// parseTask parses a one-task playbook and returns its task.
func parseTask(t *testing.T, task string) *Task {
	t.Helper()
	src := "- hosts: linux\n  tasks:\n    - " + strings.ReplaceAll(strings.TrimSpace(task), "\n", "\n      ") + "\n"
	pb, err := Parse("play.yml", []byte(src), testRegistry())
	if err != nil {
		t.Fatalf("parse:\n%s\n%v", src, err)
	}
	return pb.Plays[0].Tasks[0]
}

func TestResolveArgsDefaultsAndTypes(t *testing.T) {
	task := parseTask(t, "check.disk: {fail: 95, mounts: [/, /var], ratio: 1}")
	args, err := task.ResolveArgs(map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	want := module.Args{"warn": 80, "fail": 95, "mounts": []string{"/", "/var"}, "ratio": 1.0}
	if !reflect.DeepEqual(args, want) {
		t.Errorf("args = %#v, want %#v", args, want)
	}
}

func TestResolveArgsRendersTemplates(t *testing.T) {
	vars := map[string]any{
		"limit":    85,
		"dirs":     []any{"/", "/data"},
		"name":     "nginx",
		"boot":     "90s",
		"pause":    "2m",
		"headers":  map[string]any{"X-Site": "hotel"},
		"statuses": []string{"200", "301"},
		"host":     map[string]any{"name": "web1"},
	}
	cases := []struct {
		task string
		want module.Args
	}{
		{`check.disk: {warn: "{{ .limit }}", mounts: "{{ .dirs }}"}`,
			module.Args{"warn": 85, "fail": 90, "mounts": []string{"/", "/data"}}},
		{`check.disk: {fail: "9{{ .limit | printf \"%d\" | len }}", mounts: ["{{ .host.name }}-root", /tmp]}`,
			module.Args{"warn": 80, "fail": 92, "mounts": []string{"web1-root", "/tmp"}}},
		{`command: "systemctl restart {{ .name }}"`,
			module.Args{"cmd": "systemctl restart nginx"}},
		{`wait: {timeout: "{{ .boot }}", delay: "{{ .pause }}"}`,
			module.Args{"timeout": 90 * time.Second, "delay": 2 * time.Minute}},
		{`uri: {url: "http://{{ .host.name }}/", headers: "{{ .headers }}", status: "{{ .statuses }}"}`,
			module.Args{"url": "http://web1/", "headers": map[string]any{"X-Site": "hotel"}, "status": []string{"200", "301"}}},
		{`uri: {url: "http://127.0.0.1/", headers: {X-Host: "{{ .host.name }}"}}`,
			module.Args{"url": "http://127.0.0.1/", "headers": map[string]any{"X-Host": "web1"}}},
		{`copy: {src: "{{ .name }}.conf", dest: /etc/x, backup: "{{ eq .name \"nginx\" }}"}`,
			module.Args{"src": "nginx.conf", "dest": "/etc/x", "backup": true}},
	}
	for _, c := range cases {
		task := parseTask(t, c.task)
		got, err := task.ResolveArgs(vars)
		if err != nil {
			t.Errorf("%s: %v", c.task, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %#v\nwant %#v", c.task, got, c.want)
		}
	}
}

func TestResolveArgsRenderedTypeError(t *testing.T) {
	task := parseTask(t, "name: root disk\ncheck.disk: {warn: \"{{ .limit }}\"}")
	_, err := task.ResolveArgs(map[string]any{"limit": "high"})
	if err == nil {
		t.Fatal("warn rendered as \"high\" was accepted")
	}
	for _, s := range []string{"play.yml:4:26:", `task "root disk"`, "argument warn of check.disk", "whole number", `"high"`} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
}

func TestResolveArgsRenderedEnumError(t *testing.T) {
	task := parseTask(t, "service: {name: x, state: \"{{ .want }}\"}")
	_, err := task.ResolveArgs(map[string]any{"want": "stoped"})
	if err == nil || !strings.Contains(err.Error(), `did you mean "stopped"`) {
		t.Errorf("error = %v, want an enum error suggesting stopped", err)
	}
}

func TestResolveArgsMissingVariable(t *testing.T) {
	task := parseTask(t, "command: \"echo {{ .nmae }}\"")
	_, err := task.ResolveArgs(map[string]any{"name": "x"})
	if err == nil {
		t.Fatal("a misspelt variable rendered without error")
	}
	for _, s := range []string{"play.yml:3:16:", "argument cmd", `map has no entry for key "nmae"`, "not defined for this host"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
}

func TestResolveArgsFreeFormKeepsText(t *testing.T) {
	task := parseTask(t, "command: echo 0644 {{ .item }}")
	args, err := task.ResolveArgs(map[string]any{"item": 7})
	if err != nil {
		t.Fatal(err)
	}
	if args.String("cmd") != "echo 0644 7" {
		t.Errorf("cmd = %q", args.String("cmd"))
	}
}

func TestEvalWhen(t *testing.T) {
	vars := map[string]any{
		"result":    map[string]any{"rc": 0, "stdout": "CentOS Linux 7"},
		"is_centos": true,
		"name":      "db1",
		"groups":    []string{"db", "linux"},
		"url":       "http://127.0.0.1/",
	}
	cases := []struct {
		when string
		want bool
	}{
		{"eq .result.rc 0", true},
		{"ne .result.rc 0", false},
		{".is_centos", true},
		{"not .is_centos", false},
		{`{{ eq .name "db1" }}`, true},
		{`contains "CentOS" .result.stdout`, true},
		{`.result.stdout | contains "Debian"`, false},
		{`contains "db" .groups`, true},
		{`and .is_centos (ne .url "")`, true},
		{"true", true},
		{"false", false},
	}
	for _, c := range cases {
		task := parseTask(t, "ping:\nwhen: '"+c.when+"'")
		got, err := task.EvalWhen(vars)
		if err != nil {
			t.Errorf("when %s: %v", c.when, err)
			continue
		}
		if got != c.want {
			t.Errorf("when %s = %v, want %v", c.when, got, c.want)
		}
	}
}

func TestEvalWhenList(t *testing.T) {
	task := parseTask(t, "ping:\nwhen:\n  - .a\n  - eq .b 2")
	for _, c := range []struct {
		a    bool
		b    int
		want bool
	}{{true, 2, true}, {true, 3, false}, {false, 2, false}} {
		got, err := task.EvalWhen(map[string]any{"a": c.a, "b": c.b})
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("a=%v b=%d: got %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestEvalWhenBooleanLiteral(t *testing.T) {
	task := parseTask(t, "ping:\nwhen: false")
	got, err := task.EvalWhen(nil)
	if err != nil || got {
		t.Errorf("when: false = %v, %v", got, err)
	}
}

func TestEvalWhenTemplateNotBoolean(t *testing.T) {
	task := parseTask(t, "name: page\nping:\nwhen: \"{{ .url }}\"")
	_, err := task.EvalWhen(map[string]any{"url": "http://127.0.0.1/"})
	if err == nil {
		t.Fatal("a URL rendered by {{ }} was taken as a condition")
	}
	for _, s := range []string{"play.yml:5:13:", `task "page"`, `rendered "http://127.0.0.1/"`, "true or false"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
}

func TestEvalWhenTruth(t *testing.T) {
	task := parseTask(t, "ping:\nwhen: .url")
	for _, tc := range []struct {
		value any
		want  bool
	}{
		{"http://127.0.0.1/", true},
		{"", false},
		{[]any{}, false},
		{[]any{"sshd"}, true},
		{0, false},
		{false, false},
	} {
		got, err := task.EvalWhen(map[string]any{"url": tc.value})
		if err != nil {
			t.Fatalf("url=%#v: %v", tc.value, err)
		}
		if got != tc.want {
			t.Errorf("url=%#v: when = %v, want %v", tc.value, got, tc.want)
		}
	}
}

func TestEvalWhenUndefined(t *testing.T) {
	task := parseTask(t, "ping:\nwhen: .is_centos")
	_, err := task.EvalWhen(map[string]any{"is_centso": true})
	if err == nil || !strings.Contains(err.Error(), `"is_centos"`) {
		t.Errorf("error = %v, want one naming is_centos", err)
	}
}

func TestEvalWhenAbsent(t *testing.T) {
	task := parseTask(t, "ping:")
	got, err := task.EvalWhen(nil)
	if err != nil || !got {
		t.Errorf("no when = %v, %v; want true", got, err)
	}
}

func TestExpandLoop(t *testing.T) {
	vars := map[string]any{
		"packages": []any{"nginx", "openssl"},
		"ports":    []int{80, 443},
		"name":     "web",
		"result":   map[string]any{"stdout": `["a", 2]`},
		"single":   "nginx",
	}
	cases := []struct {
		loop string
		want []any
	}{
		{"loop: .packages", []any{"nginx", "openssl"}},
		{`loop: "{{ .packages }}"`, []any{"nginx", "openssl"}},
		{`loop: "{{ .ports }}"`, []any{80, 443}},
		{"loop: [a, \"{{ .name }}-b\", 3]", []any{"a", "web-b", 3}},
		{"loop:\n  - {name: x, port: 1}\n  - {name: \"{{ .name }}\", port: 2}",
			[]any{map[string]any{"name": "x", "port": 1}, map[string]any{"name": "web", "port": 2}}},
		{"loop: .result.stdout", []any{"a", 2}},
		{`loop: split "," "a,b"`, []any{"a", "b"}},
		{"loop: []", []any{}},
	}
	for _, c := range cases {
		task := parseTask(t, "ping:\n"+c.loop)
		got, err := task.ExpandLoop(vars)
		if err != nil {
			t.Errorf("%s: %v", c.loop, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.loop, got, c.want)
		}
	}
}

func TestExpandLoopNotAList(t *testing.T) {
	task := parseTask(t, "name: install\nping:\nloop: .single")
	_, err := task.ExpandLoop(map[string]any{"single": "nginx"})
	if err == nil {
		t.Fatal("a string was looped over")
	}
	for _, s := range []string{"play.yml:5:13:", `task "install"`, `"nginx"`, "not a list"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}

	task = parseTask(t, "ping:\nloop: .count")
	if _, err := task.ExpandLoop(map[string]any{"count": 3}); err == nil || !strings.Contains(err.Error(), "number 3") {
		t.Errorf("loop over a number: %v", err)
	}
}

func TestExpandLoopAbsent(t *testing.T) {
	items, err := parseTask(t, "ping:").ExpandLoop(nil)
	if err != nil || items != nil {
		t.Errorf("no loop = %v, %v", items, err)
	}
}

func TestLoopItemInArgs(t *testing.T) {
	task := parseTask(t, "command: \"yum -y install {{ .item }}\"\nloop: .packages")
	vars := map[string]any{"packages": []any{"nginx", "openssl"}}
	items, err := task.ExpandLoop(vars)
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	for _, item := range items {
		vars[ItemVar] = item
		args, err := task.ResolveArgs(vars)
		if err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, args.String("cmd"))
	}
	want := []string{"yum -y install nginx", "yum -y install openssl"}
	if !reflect.DeepEqual(cmds, want) {
		t.Errorf("commands = %q, want %q", cmds, want)
	}
}

func TestTemplateFunctions(t *testing.T) {
	vars := map[string]any{
		"list":  []any{"a", "b"},
		"empty": "",
		"name":  "It's",
		"data":  map[string]any{"k": 1},
	}
	cases := []struct{ tmpl, want string }{
		{`{{ .list | join "," }}`, "a,b"},
		{`{{ .empty | default "x" }}`, "x"},
		{`{{ .name | default "x" }}`, "It's"},
		{`{{ index . "undefined" | default "fallback" }}`, "fallback"},
		{`{{ lower "ABC" }}{{ upper "def" }}`, "abcDEF"},
		{`{{ trim "  x  " }}`, "x"},
		{`{{ replace "a" "b" "banana" }}`, "bbnbnb"},
		{`{{ hasPrefix "/var" "/var/log" }} {{ hasSuffix ".log" "a.txt" }}`, "true false"},
		{`{{ contains "b" .list }} {{ contains "z" .list }}`, "true false"},
		{`{{ quote .name }}`, `'It'\''s'`},
		{`{{ toJSON .data }}`, `{"k":1}`},
		{`{{ (fromJSON "{\"n\": 3}").n | printf "%T" }}`, "int"},
	}
	for _, c := range cases {
		got, err := render(c.tmpl, vars)
		if err != nil {
			t.Errorf("%s: %v", c.tmpl, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s = %q, want %q", c.tmpl, got, c.want)
		}
	}
}

func TestTemplatesCannotReadEnvironment(t *testing.T) {
	t.Setenv("PATROL_TEST_SECRET", "s3cret")
	for _, tmpl := range []string{`{{ env "PATROL_TEST_SECRET" }}`, `{{ getenv "PATROL_TEST_SECRET" }}`, `{{ readFile "/etc/passwd" }}`} {
		if _, err := newTemplate(tmpl); err == nil {
			t.Errorf("%s parsed; templates must not reach the environment or files", tmpl)
		}
	}
}

func TestMergeVarsPrecedence(t *testing.T) {
	host := &inventory.Host{
		Name: "web1", Address: "10.0.0.5", OS: "centos7", System: "hotel", Connection: inventory.ConnSSH,
		Groups: []string{"linux", "web"},
		Vars:   map[string]any{"a": "host", "b": "host", "c": "host"},
	}
	play := &Play{
		Defaults: map[string]any{"a": "default", "d": "default"},
		Vars:     map[string]any{"b": "play", "c": "play"},
	}
	vars := MergeVars(host, play, map[string]any{"c": "registered"})

	for key, want := range map[string]string{"a": "host", "b": "play", "c": "registered", "d": "default"} {
		if vars[key] != want {
			t.Errorf("%s = %v, want %s", key, vars[key], want)
		}
	}
	got, err := render("{{ .host.name }} {{ .host.address }} {{ .host.os }} {{ .host.system }} {{ join \",\" .host.groups }} {{ .host.windows }}", vars)
	if err != nil {
		t.Fatal(err)
	}
	if got != "web1 10.0.0.5 centos7 hotel linux,web false" {
		t.Errorf(".host = %q", got)
	}
}

func TestResultVars(t *testing.T) {
	r := module.Result{
		Changed: true, RC: 3, Stdout: "one\r\ntwo\n", Stderr: "warn", Msg: "done",
		Findings: []module.Finding{
			{Check: "check.disk", Item: "/", Status: module.StatusOK, Value: i18n.T("40% used", "已用 40%")},
			{Check: "check.disk", Item: "/var", Status: module.StatusWarn, Value: i18n.T("83% used", "已用 83%"),
				Threshold: i18n.T("warn ≥80%, fail ≥90%", "警告 ≥80%，不合格 ≥90%"),
				Message:   i18n.T("/var is 83% full", "/var 已用 83%"), Metrics: map[string]float64{"used_percent": 83}},
		},
		Data: map[string]any{"sha256": "abc"},
	}
	vars := map[string]any{"res": ResultVars(r)}

	cases := []struct{ tmpl, want string }{
		{"{{ .res.rc }}", "3"},
		{"{{ eq .res.rc 3 }}", "true"},
		{"{{ .res.changed }} {{ .res.failed }} {{ .res.skipped }}", "true false false"},
		{"{{ index .res.stdout_lines 1 }}", "two"},
		{"{{ len .res.stdout_lines }}", "2"},
		{"{{ .res.stderr }} {{ .res.msg }}", "warn done"},
		{"{{ .res.status }}", "warn"},
		{"{{ (index .res.findings 1).item }} {{ (index .res.findings 1).status }}", "/var warn"},
		{"{{ (index .res.findings 1).message_zh }}", "/var 已用 83%"},
		{"{{ (index .res.findings 1).value }} | {{ (index .res.findings 1).value_zh }}", "83% used | 已用 83%"},
		{"{{ (index .res.findings 1).threshold }} | {{ (index .res.findings 1).threshold_zh }}", "warn ≥80%, fail ≥90% | 警告 ≥80%，不合格 ≥90%"},
		{"{{ (index .res.findings 0).threshold }}|{{ (index .res.findings 0).threshold_zh }}", "|"},
		{"{{ (index .res.findings 1).metrics.used_percent }}", "83"},
		{"{{ .res.data.sha256 }}", "abc"},
	}
	for _, c := range cases {
		got, err := render(c.tmpl, vars)
		if err != nil {
			t.Errorf("%s: %v", c.tmpl, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s = %q, want %q", c.tmpl, got, c.want)
		}
	}
}

func TestRenderName(t *testing.T) {
	task := parseTask(t, "name: install {{ .item }}\nping:")
	if got := task.RenderName(map[string]any{"item": "nginx"}); got != i18n.T("install nginx", "") {
		t.Errorf("name = %+v", got)
	}
	if got := task.RenderName(map[string]any{}); got != i18n.T("install {{ .item }}", "") {
		t.Errorf("name without item = %+v, want the name as written", got)
	}
}

func TestRenderNameBothLanguages(t *testing.T) {
	task := parseTask(t, "name:\n  en: install {{ .item }}\n  zh: 安装 {{ .item }}\nping:")
	got := task.RenderName(map[string]any{"item": "nginx"})
	if got != i18n.T("install nginx", "安装 nginx") {
		t.Errorf("name = %+v, want both languages rendered", got)
	}
}
