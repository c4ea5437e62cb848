// Package playbooks parses and validates playbooks and renders their templates. It
// also embeds the playbooks shipped with patrol (*.yml in this folder). It runs
// nothing: the runner calls the Task methods below for each host.
//
// # Playbooks
//
// A playbook is a YAML list of plays. A play has hosts (a host pattern, as
// accepted by --limit) and tasks, and may have name, vars, defaults, serial (a
// number of hosts or a percentage such as "30%"), max_fail_percentage, become
// and tags. A task calls exactly one module, written as a key with its
// arguments, and may have name, when, register, loop, tags, timeout, retries,
// delay, ignore_errors and become. timeout and delay are durations: "30s",
// "5m", "1h30m", "7d" or a number of seconds.
//
//	# smoke.yml
//	- name: smoke
//	  hosts: linux
//	  tasks:
//	    - name: say hello
//	      command: echo hello
//	    - name: root disk
//	      check.disk: {warn: 80, fail: 90}
//
// A play's or task's name is plain text, or a mapping that gives it in English
// (en, required) and Simplified Chinese (zh). The console, the journal and
// the report show the name in the run's language, and English where zh is
// missing. The journal keeps both, so a report can be rendered again in the
// other language.
//
//	tasks:
//	  - name:
//	      en: CPU load
//	      zh: CPU 负载
//	    check.load: {}
//
// Module arguments are a mapping. A module that declares a free-form argument
// (module.Spec.FreeForm) also takes a single value: `command: echo hello` sets
// the argument cmd.
//
// Load and Parse check the whole file before anything runs and return every
// problem at once in a *ValidationError, one "file:line:column: message" line
// each: YAML syntax errors, unknown keys, modules and arguments (with "did you
// mean" suggestions), missing required arguments, literal values of the wrong
// type, templates that do not parse and register names that are not
// identifiers. An argument whose value holds a template is type-checked after
// rendering, by Task.ResolveArgs.
//
// # Variables
//
// Templates read variables as {{ .name }}. On a host they see, later sources
// winning: the play's defaults, the host's inventory variables, the play's
// vars, the results registered by earlier tasks on that host, and .host, which
// holds the host's name, address, os, system, groups, connection and windows
// (see HostFacts and MergeVars). Inside a loop, .item holds the current
// element. vars and defaults are plain values: they are not rendered.
//
// A task with register: name stores its result as .name, a map whose keys are
// listed at ResultVars: rc, stdout, stdout_lines, stderr, msg, changed, failed,
// skipped, status, findings and data.
//
// # Templates
//
// Templates are Go's text/template with the option missingkey=error, so a
// misspelt variable fails the task on that host instead of rendering
// "<no value>". To read a variable that may be undefined, use index, which
// yields nothing for a missing key: {{ index . "proxy" | default "none" }}.
//
// Besides text/template's built-in functions (eq, ne, lt, le, gt, ge, and, or,
// not, len, index, printf, …) templates may call:
//
//	default FALLBACK VALUE  VALUE, or FALLBACK when VALUE is empty (nil, "", 0, false, empty list)
//	join SEP LIST           the list's items joined with SEP
//	split SEP STRING        STRING cut at each SEP into a list
//	lower S, upper S, trim S
//	replace OLD NEW S       S with every OLD replaced by NEW
//	hasPrefix P S, hasSuffix X S
//	contains NEEDLE HAY     whether HAY, a string or a list, contains NEEDLE
//	quote S                 S quoted as one word for a POSIX shell
//	toJSON V, fromJSON S
//
// The argument order makes pipelines read naturally:
// {{ .result.stdout | contains "active" }}, {{ .packages | join " " }}.
// There is no function to read environment variables or files, so secrets
// kept in the controller's environment cannot flow into commands.
//
// An argument whose whole value is one action, such as "{{ .packages }}", takes
// the action's value with its type: a list stays a list and a number stays a
// number. Any other template renders to text, which is then converted to the
// argument's declared type (a number from "80", a duration from "5m").
//
// # Conditions and loops
//
// when is an expression. Without {{ it is judged by Go template truth, as
// {{ if EXPR }} judges it: false, 0, nil and empty strings, lists and maps are
// false, anything else is true. So `when: eq .result.rc 0`, `when: .is_centos`
// and `when: .app_log` (a path that is set) are valid; a YAML list of
// expressions must all hold. A condition written with {{ }} must render to
// exactly true or false: any other text is an error naming the task's
// position, because reading the text "no" as true would run work the author
// did not mean to.
//
// loop is a YAML list, whose string items may hold templates, or an
// expression whose value is a list: `loop: .packages` and
// `loop: "{{ .packages }}"` are the same. An expression whose value is a string
// holding a JSON array, such as {{ .result.stdout }} from a command that
// prints one, is parsed. The runner evaluates loop first and then when once per
// item, with .item set.
package playbooks
