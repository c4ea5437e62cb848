package playbooks

import (
	"errors"
	"strings"
	"testing"

	"patrol/i18n"
)

// want is one expected problem: its "file:line:column" and words its message
// must contain.
type want struct {
	pos  string
	says []string
}

// checkProblems parses src and compares every problem with wants, in order.
func checkProblems(t *testing.T, src string, wants []want) {
	t.Helper()
	pb, err := Parse("play.yml", []byte(src), testRegistry())
	if err == nil {
		t.Fatalf("parse succeeded with %d plays, want %d problems", len(pb.Plays), len(wants))
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v is not a *ValidationError", err)
	}
	if pb != nil {
		t.Error("an invalid playbook was returned alongside its problems")
	}

	for i, p := range ve.Problems {
		if i >= len(wants) {
			t.Errorf("unexpected problem %s", p)
			continue
		}
		if got := p.Pos.String(); got != wants[i].pos {
			t.Errorf("problem %d at %s, want %s: %s", i+1, got, wants[i].pos, p.Msg)
		}
		for _, s := range wants[i].says {
			if !strings.Contains(p.Msg, s) {
				t.Errorf("problem %d %q does not contain %q", i+1, p.Msg, s)
			}
		}
		if p.MsgZH == "" {
			t.Errorf("problem %d has no Chinese message", i+1)
		}
	}
	for _, w := range wants[min(len(ve.Problems), len(wants)):] {
		t.Errorf("missing problem at %s saying %q", w.pos, w.says)
	}
}

func TestThreeProblemsAtOnce(t *testing.T) {
	_, err := Load("testdata/three-problems.yml", testRegistry())
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v is not a *ValidationError", err)
	}

	lines := strings.Split(ve.Error(), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d problems, want 3:\n%s", len(lines), ve)
	}
	wantPrefixes := []string{
		"testdata/three-problems.yml:6:6: invalid YAML: ",
		`testdata/three-problems.yml:8:7: unknown module servce (did you mean "service"?)`,
		"testdata/three-problems.yml:9:3: unknown play key gather_facts",
	}
	for i, prefix := range wantPrefixes {
		if !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("line %d = %q, want prefix %q", i+1, lines[i], prefix)
		}
	}
	if !strings.Contains(lines[0], "at column 7") {
		t.Errorf("indentation problem %q does not name the column that fits", lines[0])
	}
}

func TestProblemsInChinese(t *testing.T) {
	_, err := Load("testdata/three-problems.yml", testRegistry())
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v is not a *ValidationError", err)
	}
	zh := ve.In(i18n.ZH)
	if !strings.Contains(zh, "testdata/three-problems.yml:8:7: 未知模块 servce") {
		t.Errorf("Chinese rendering lacks the unknown module line:\n%s", zh)
	}
	if !strings.Contains(zh, "YAML 格式错误") {
		t.Errorf("Chinese rendering lacks the YAML error:\n%s", zh)
	}
}

func TestYAMLSyntaxProblems(t *testing.T) {
	cases := []struct {
		name  string
		src   string
		wants []want
	}{
		{"key indented less than its task", `- hosts: linux
  tasks:
    - name: a
      command: uptime
     register: up
`, []want{{"play.yml:5:6", []string{"breaks the list", "at column 7"}}}},

		{"key indented deeper than the one above", `- hosts: linux
  tasks:
    - name: a
      command: uptime
        register: up
`, []want{{"play.yml:5:9", []string{"unexpected ':'", "at column 7"}}}},

		{"item indented less than its list", `- hosts: linux
  tasks:
    - name: a
      command: uptime
   - name: b
     ping:
`, []want{
			{"play.yml:5:4", []string{"indented differently"}},
			{"play.yml:6:6", []string{"breaks the list"}},
		}},

		{"tab in indentation", "- hosts: linux\n  tasks:\n\t- ping:\n", []want{
			{"play.yml:3:1", []string{"tab"}},
		}},

		{"unclosed quote", `- hosts: linux
  tasks:
    - command: "echo hello
    - ping:
`, []want{{"play.yml:3:16", []string{"never closed"}}}},

		{"unclosed flow mapping", `- hosts: linux
  tasks:
    - ping:
    - check.disk: {warn: 80
`, []want{{"play.yml:4:19", []string{"not closed properly"}}}},

		{"undefined alias", `- hosts: linux
  vars:
    a: *nothing
  tasks:
    - ping:
`, []want{{"play.yml:3:5", []string{"anchor"}}}},

		{"second document", `- hosts: linux
  tasks:
    - ping:
---
- hosts: db
  tasks:
    - ping:
`, []want{{"play.yml:5:1", []string{"second YAML document"}}}},

		{"empty file", "# nothing yet\n", []want{{"play.yml:1:1", []string{"empty"}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkProblems(t, c.src, c.wants) })
	}
}

func TestStructureProblems(t *testing.T) {
	cases := []struct {
		name  string
		src   string
		wants []want
	}{
		{"single play without a list", `hosts: linux
tasks:
  - ping:
`, []want{{"play.yml:1:1", []string{"list of plays", "'- '"}}}},

		{"unknown play key", `- hots: linux
  tasks:
    - ping:
`, []want{{"play.yml:1:3", []string{"unknown play key hots", `"hosts"`}}}},

		{"task key on the play", `- hosts: linux
  register: x
  tasks:
    - ping:
`, []want{{"play.yml:2:3", []string{"belongs to a task"}}}},

		{"play without hosts and tasks", `- name: lonely
`, []want{
			{"play.yml:1:3", []string{`play "lonely" has no hosts`}},
			{"play.yml:1:3", []string{`play "lonely" has no tasks`}},
		}},

		{"duplicate key", `- hosts: linux
  hosts: db
  tasks:
    - ping:
`, []want{{"play.yml:2:3", []string{"duplicate key hosts", "line 1"}}}},

		{"unknown task key", `- hosts: linux
  tasks:
    - ping:
      regster: x
`, []want{{"play.yml:4:7", []string{"unknown task key regster", `"register"`}}}},

		{"unknown module", `- hosts: linux
  tasks:
    - name: a
      chek.disk: {warn: 80}
`, []want{{"play.yml:4:7", []string{"unknown module chek.disk", `"check.disk"`}}}},

		{"module named by its last part", `- hosts: linux
  tasks:
    - disk: {}
`, []want{{"play.yml:3:7", []string{"unknown module disk", `"check.disk"`}}}},

		{"no module", `- hosts: linux
  tasks:
    - name: forgot
      register: x
`, []want{{"play.yml:3:7", []string{`task "forgot" calls no module`}}}},

		{"two modules", `- hosts: linux
  tasks:
    - name: both
      command: uptime
      ping:
`, []want{{"play.yml:5:7", []string{"calls 2 modules (command, ping)", "split"}}}},

		{"argument indented as a task key", `- hosts: linux
  tasks:
    - command:
      chdir: /tmp
`, []want{
			{"play.yml:3:7", []string{"command needs argument cmd"}},
			{"play.yml:4:7", []string{"chdir is an argument of command", "indent it under command:"}},
		}},

		{"task key indented as an argument", `- hosts: linux
  tasks:
    - command:
        cmd: uptime
        register: up
`, []want{{"play.yml:5:9", []string{"register is a task key", "at the level of command:"}}}},

		{"play key on a task", `- hosts: linux
  tasks:
    - ping:
      hosts: db
`, []want{{"play.yml:4:7", []string{"belongs to a play"}}}},

		{"tasks not a list", `- hosts: linux
  tasks: ping
`, []want{{"play.yml:2:10", []string{"tasks must be a list"}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkProblems(t, c.src, c.wants) })
	}
}

func TestArgumentProblems(t *testing.T) {
	cases := []struct {
		name  string
		src   string
		wants []want
	}{
		{"unknown argument", `- hosts: linux
  tasks:
    - check.disk: {warn: 80, mount: [/]}
`, []want{{"play.yml:3:30", []string{"unknown argument mount of check.disk", `"mounts"`, "warn, fail, mounts"}}}},

		{"misspelt required argument", `- hosts: linux
  tasks:
    - copy: {src: a, dst: b}
`, []want{{"play.yml:3:22", []string{"unknown argument dst of copy", `"dest"`}}}},

		{"missing required arguments", `- hosts: linux
  tasks:
    - copy: {mode: "0600"}
`, []want{
			{"play.yml:3:7", []string{"copy needs argument src"}},
			{"play.yml:3:7", []string{"copy needs argument dest"}},
		}},

		{"text for an int", `- hosts: linux
  tasks:
    - check.disk: {warn: abc}
`, []want{{"play.yml:3:26", []string{"argument warn of check.disk", "whole number", `"abc"`}}}},

		{"fraction for an int", `- hosts: linux
  tasks:
    - check.disk: {warn: 80.5}
`, []want{{"play.yml:3:26", []string{"whole number", "80.5"}}}},

		{"bad float", `- hosts: linux
  tasks:
    - check.disk: {ratio: half}
`, []want{{"play.yml:3:27", []string{"argument ratio", "number such as 0.5"}}}},

		{"bad duration", `- hosts: linux
  tasks:
    - wait: {timeout: 5 minutes}
`, []want{{"play.yml:3:23", []string{"argument timeout of wait", "duration", `"5 minutes"`}}}},

		{"negative duration", `- hosts: linux
  tasks:
    - wait: {delay: -5s}
`, []want{{"play.yml:3:21", []string{"zero or more"}}}},

		{"scalar for a list", `- hosts: linux
  tasks:
    - check.disk: {mounts: /var}
`, []want{{"play.yml:3:28", []string{"argument mounts", "expects a list", `"/var"`}}}},

		{"mapping inside a list", `- hosts: linux
  tasks:
    - check.disk:
        mounts:
          - /
          - {path: /var}
`, []want{{"play.yml:5:11", []string{"item 2 is a mapping"}}}},

		{"list for a map", `- hosts: linux
  tasks:
    - uri: {url: "http://127.0.0.1/", headers: [a, b]}
`, []want{{"play.yml:3:48", []string{"argument headers of uri", "mapping"}}}},

		{"bad boolean", `- hosts: linux
  tasks:
    - copy: {src: a, dest: b, backup: maybe}
`, []want{{"play.yml:3:39", []string{"argument backup", "true or false", `"maybe"`}}}},

		{"value outside the enum", `- hosts: linux
  tasks:
    - service: {name: nginx, state: startd}
`, []want{{"play.yml:3:37", []string{"must be one of started, stopped, restarted", `"startd"`, `did you mean "started"`}}}},

		{"argument without a value", `- hosts: linux
  tasks:
    - copy: {src: a, dest: }
`, []want{{"play.yml:3:28", []string{"argument dest of copy has no value"}}}},

		{"scalar for a module without a free-form argument", `- hosts: linux
  tasks:
    - copy: a.txt
`, []want{{"play.yml:3:13", []string{"copy takes its arguments as a mapping", "src: …, dest: …"}}}},

		{"list for module arguments", `- hosts: linux
  tasks:
    - command: [ls, -l]
`, []want{{"play.yml:3:16", []string{"arguments of command must be a mapping"}}}},

		{"arguments for a module that takes none", `- hosts: linux
  tasks:
    - ping: {count: 3}
`, []want{{"play.yml:3:14", []string{"ping takes no arguments"}}}},

		{"template that does not parse", `- hosts: linux
  tasks:
    - command: "echo {{ .name "
`, []want{{"play.yml:3:16", []string{"argument cmd of command", "does not parse", "unclosed action"}}}},

		{"template calling an unknown function", `- hosts: linux
  tasks:
    - command: "echo {{ env \"HOME\" }}"
`, []want{{"play.yml:3:16", []string{`function "env" not defined`}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkProblems(t, c.src, c.wants) })
	}
}

func TestTaskKeywordProblems(t *testing.T) {
	cases := []struct {
		name  string
		src   string
		wants []want
	}{
		{"register not an identifier", `- hosts: linux
  tasks:
    - ping:
      register: disk-usage
`, []want{{"play.yml:4:17", []string{`register name "disk-usage" is not an identifier`}}}},

		{"register reserved name", `- hosts: linux
  tasks:
    - ping:
      register: item
`, []want{{"play.yml:4:17", []string{"reserved"}}}},

		{"when does not parse", `- hosts: linux
  tasks:
    - ping:
      when: eq .result.rc 0)
`, []want{{"play.yml:4:13", []string{"when", "does not parse"}}}},

		{"empty when", `- hosts: linux
  tasks:
    - ping:
      when:
`, []want{{"play.yml:4:12", []string{"when is empty"}}}},

		{"loop mapping", `- hosts: linux
  tasks:
    - ping:
      loop: {a: 1}
`, []want{{"play.yml:4:13", []string{"loop must be a list"}}}},

		{"loop does not parse", `- hosts: linux
  tasks:
    - ping:
      loop: "{{ .pkgs"
`, []want{{"play.yml:4:13", []string{"loop", "does not parse"}}}},

		{"bad timeout", `- hosts: linux
  tasks:
    - ping:
      timeout: soon
`, []want{{"play.yml:4:16", []string{"timeout expects a duration", `"soon"`}}}},

		{"bad retries", `- hosts: linux
  tasks:
    - ping:
      retries: -1
`, []want{{"play.yml:4:16", []string{"retries must be a whole number"}}}},

		{"bad ignore_errors", `- hosts: linux
  tasks:
    - ping:
      ignore_errors: sometimes
`, []want{{"play.yml:4:22", []string{"ignore_errors must be true or false"}}}},

		{"bad serial", `- hosts: linux
  serial: 150%
  tasks:
    - ping:
`, []want{{"play.yml:2:11", []string{"serial", "1% to 100%"}}}},

		{"bad max_fail_percentage", `- hosts: linux
  max_fail_percentage: lots
  tasks:
    - ping:
`, []want{{"play.yml:2:24", []string{"max_fail_percentage", "0 to 100"}}}},

		{"variable name not an identifier", `- hosts: linux
  vars:
    app-log: /var/log/app.log
  tasks:
    - ping:
`, []want{{"play.yml:3:5", []string{`"app-log" is not an identifier`}}}},

		{"template in vars", `- hosts: linux
  vars:
    log: "{{ .dir }}/app.log"
  tasks:
    - ping:
`, []want{{"play.yml:3:10", []string{"holds a template", "not rendered"}}}},

		{"template in hosts", `- hosts: "{{ .target }}"
  tasks:
    - ping:
`, []want{{"play.yml:1:10", []string{"hosts is not rendered"}}}},

		{"tags mapping", `- hosts: linux
  tags: {a: 1}
  tasks:
    - ping:
`, []want{{"play.yml:2:9", []string{"tags must be a list"}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkProblems(t, c.src, c.wants) })
	}
}
