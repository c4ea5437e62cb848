package playbooks

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"patrol/i18n"
	"patrol/module"
)

// playKeys are the keys a play may have, in the order the docs list them.
var playKeys = []string{"name", "hosts", "vars", "defaults", "serial", "max_fail_percentage", "become", "tags", "tasks"}

// taskKeys are the keys a task may have besides its one module.
var taskKeys = []string{"name", "when", "register", "loop", "tags", "timeout", "retries", "delay", "ignore_errors", "become"}

// identifier is the pattern of variable and register names, which templates
// read as .name.
var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Load reads and validates a playbook file. A *ValidationError lists every
// problem found; nothing in the playbook should run when err is not nil.
func Load(path string, reg *module.Registry) (*Playbook, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &OpenError{Name: path, Err: err, Text: i18n.T(
			fmt.Sprintf("read playbook: %v", err),
			fmt.Sprintf("读取剧本失败：文件 %s 不存在", path))}
	}
	if err != nil {
		return nil, &OpenError{Name: path, Err: err, Text: i18n.T(
			fmt.Sprintf("read playbook: %v", err),
			fmt.Sprintf("读取剧本 %s 失败：%v", path, err))}
	}
	return Parse(path, data, reg)
}

// Parse validates a playbook held in memory. file names it in positions and
// messages. Every problem is collected into one *ValidationError, so that the
// author can fix them all in one pass.
func Parse(file string, data []byte, reg *module.Registry) (*Playbook, error) {
	sum := sha256.Sum256(data)
	pb := &Playbook{File: file, SHA256: hex.EncodeToString(sum[:])}
	v := &validator{problems: problems{file: file}, reg: reg, lines: strings.Count(string(data), "\n") + 1}

	root, blanked := v.decodeYAML(data)
	v.blanked = blanked
	if root != nil && len(root.Content) > 0 {
		pb.Plays = v.playbook(resolve(root.Content[0]))
	}

	if err := v.err(); err != nil {
		return nil, err
	}
	return pb, nil
}

// validator walks a playbook's YAML nodes, building plays and tasks and
// collecting problems.
type validator struct {
	problems
	reg *module.Registry
	// lines is the number of lines in the file.
	lines int
	// blanked holds the lines removed to get past YAML syntax errors.
	blanked map[int]bool
}

func (v *validator) addAt(n *yaml.Node, en, zh string) { v.add(n.Line, n.Column, en, zh) }

// touched reports whether a YAML syntax error removed a line between from and
// to. A key missing there may be on the removed line, so it is not reported.
func (v *validator) touched(from, to int) bool {
	for l := range v.blanked {
		if l >= from && l <= to {
			return true
		}
	}
	return false
}

func (v *validator) pos(n *yaml.Node) Pos { return Pos{File: v.file, Line: n.Line, Col: n.Column} }

func (v *validator) playbook(root *yaml.Node) []*Play {
	if root.Kind == yaml.MappingNode {
		v.addAt(root, "a playbook is a list of plays, but this is a single mapping; start the play with '- ' as in '- name: …'",
			"playbook 应是 play 的列表，这里却是单个映射；请在 play 开头加 '- '，如 '- name: …'")
		return nil
	}
	if root.Kind != yaml.SequenceNode {
		v.addAt(root, fmt.Sprintf("a playbook is a list of plays, got %s", kindName(root)),
			fmt.Sprintf("playbook 应是 play 的列表，实际为 %s", kindNameZH(root)))
		return nil
	}

	var plays []*Play
	for i, n := range root.Content {
		end := v.lines
		if i+1 < len(root.Content) {
			end = root.Content[i+1].Line - 1
		}
		if p := v.play(resolve(n), end); p != nil {
			plays = append(plays, p)
		}
	}
	return plays
}

// play builds one play from its mapping, whose text ends at line end.
func (v *validator) play(n *yaml.Node, end int) *Play {
	if n.Kind != yaml.MappingNode {
		v.addAt(n, fmt.Sprintf("a play must be a mapping with hosts and tasks, got %s", kindName(n)),
			fmt.Sprintf("play 应是包含 hosts 和 tasks 的映射，实际为 %s", kindNameZH(n)))
		return nil
	}

	p := &Play{Pos: v.pos(n), Vars: map[string]any{}, Defaults: map[string]any{}}
	// hostsSet and tasksSet are also set by a misspelt key that was reported
	// with the right name as its suggestion, to report the mistake only once.
	var hostsSet, tasksSet bool
	for _, e := range v.entries(n) {
		switch e.key {
		case "name":
			p.Name = v.name(e)
		case "hosts":
			p.Hosts, hostsSet = v.scalar(e), true
			p.HostsPos = v.pos(e.value)
			if p.Hosts == "" && e.value.Kind == yaml.ScalarNode {
				v.addAt(e.value, "hosts is empty; give a host or group pattern such as linux",
					"hosts 为空；请给出主机或主机组模式，如 linux")
			}
		case "vars":
			v.playVars(e, p.Vars)
		case "defaults":
			v.playVars(e, p.Defaults)
		case "serial":
			p.Serial, p.SerialPercent = v.serial(e)
		case "max_fail_percentage":
			p.MaxFailPercent = v.percent(e)
		case "become":
			p.Become = v.boolPtr(e)
		case "tags":
			p.Tags = v.tags(e)
		case "tasks":
			tasksSet = true
			p.Tasks = v.tasks(e, end)
		default:
			v.unknownPlayKey(e)
			close := suggest(e.key, playKeys)
			hostsSet = hostsSet || slices.Contains(close, "hosts")
			tasksSet = tasksSet || slices.Contains(close, "tasks")
		}
	}

	if !hostsSet && !v.touched(n.Line, end) {
		v.addAt(n, fmt.Sprintf("play %q has no hosts; add hosts: with a host or group pattern such as linux", p.Name.EN),
			fmt.Sprintf("play %q 缺少 hosts；请添加 hosts: 并给出主机或主机组模式，如 linux", p.Name.In(i18n.ZH)))
	}
	if !tasksSet && !v.touched(n.Line, end) {
		v.addAt(n, fmt.Sprintf("play %q has no tasks; add tasks: with a list of tasks", p.Name.EN),
			fmt.Sprintf("play %q 缺少 tasks；请添加 tasks: 并列出任务", p.Name.In(i18n.ZH)))
	}
	return p
}

func (v *validator) unknownPlayKey(e entry) {
	if slices.Contains(taskKeys, e.key) || v.isModule(e.key) {
		v.addAt(e.keyN, fmt.Sprintf("%s belongs to a task, not to a play; put it in a task under tasks:", e.key),
			fmt.Sprintf("%s 属于任务而不是 play；请把它放到 tasks: 下的某个任务中", e.key))
		return
	}
	en, zh := didYouMean(e.key, playKeys)
	v.addAt(e.keyN, fmt.Sprintf("unknown play key %s%s; a play may have %s", e.key, en, strings.Join(playKeys, ", ")),
		fmt.Sprintf("未知的 play 键 %s%s；play 可用的键有 %s", e.key, zh, strings.Join(playKeys, ", ")))
}

func (v *validator) isModule(name string) bool {
	if v.reg == nil {
		return false
	}
	_, ok := v.reg.Lookup(name)
	return ok
}

// playVars reads a play's vars or defaults. Values are plain data: they are not rendered as
// templates, so a value holding {{ is reported instead of passing through as text.
func (v *validator) playVars(e entry, vars map[string]any) {
	if e.value.ShortTag() == "!!null" {
		return
	}
	if e.value.Kind != yaml.MappingNode {
		v.addAt(e.value, fmt.Sprintf("%s must be a mapping of names to values, got %s", e.key, kindName(e.value)),
			fmt.Sprintf("%s 应是名称到值的映射，实际为 %s", e.key, kindNameZH(e.value)))
		return
	}

	for _, ve := range v.entries(e.value) {
		if !v.checkVarName(ve.keyN, "variable") {
			continue
		}
		value := nodeValue(ve.value)
		if containsTemplate(value) {
			v.addAt(ve.value, fmt.Sprintf("variable %s holds a template, but %s are not rendered; write the value itself and use the template where the variable is used", ve.key, e.key),
				fmt.Sprintf("变量 %s 的值含模板，但 %s 不会被渲染；请直接写值，在使用变量的地方再写模板", ve.key, e.key))
			continue
		}
		vars[ve.key] = value
	}
}

// checkVarName reports names templates cannot read as .name, and the reserved
// names host and item.
func (v *validator) checkVarName(n *yaml.Node, what string) bool {
	if !identifier.MatchString(n.Value) {
		v.addAt(n, fmt.Sprintf("%s name %q is not an identifier, so templates cannot read it as .%s; use letters, digits and _, such as disk_usage",
			what, n.Value, n.Value),
			fmt.Sprintf("名称 %q 不是合法标识符，模板无法用 .%s 读取；请只用字母、数字和 _，如 disk_usage", n.Value, n.Value))
		return false
	}
	if n.Value == HostVar || n.Value == ItemVar {
		v.addAt(n, fmt.Sprintf("%s name %s is reserved for patrol's own variable .%s; choose another name", what, n.Value, n.Value),
			fmt.Sprintf("名称 %s 保留给 patrol 自带的变量 .%s；请换一个名称", n.Value, n.Value))
		return false
	}
	return true
}

func containsTemplate(v any) bool {
	switch x := v.(type) {
	case string:
		return hasTemplate(x)
	case []any:
		return slices.ContainsFunc(x, containsTemplate)
	case map[string]any:
		for _, item := range x {
			if containsTemplate(item) {
				return true
			}
		}
	}
	return false
}

// scalar returns a scalar value's text, reporting lists, mappings and templates.
func (v *validator) scalar(e entry) string {
	if e.value.Kind != yaml.ScalarNode {
		v.addAt(e.value, fmt.Sprintf("%s must be a single value, got %s", e.key, kindName(e.value)),
			fmt.Sprintf("%s 应是单个值，实际为 %s", e.key, kindNameZH(e.value)))
		return ""
	}
	if hasTemplate(e.value.Value) && e.key != "name" {
		v.addAt(e.value, fmt.Sprintf("%s is not rendered as a template; write it literally, got %q", e.key, e.value.Value),
			fmt.Sprintf("%s 不会被当作模板渲染；请直接写值，实际为 %q", e.key, e.value.Value))
	}
	if e.value.ShortTag() == "!!null" {
		return ""
	}
	return e.value.Value
}

// serial reads a batch size: a whole number of hosts or a percentage "30%".
func (v *validator) serial(e entry) (int, bool) {
	s := strings.TrimSpace(v.scalar(e))
	if e.value.Kind != yaml.ScalarNode || s == "" {
		return 0, false
	}
	if digits, ok := strings.CutSuffix(s, "%"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(digits))
		if err != nil || n < 1 || n > 100 {
			v.addAt(e.value, fmt.Sprintf("serial %q is not a percentage from 1%% to 100%%; write such as 30%%", s),
				fmt.Sprintf("serial %q 不是 1%% 到 100%% 的百分比；请写成如 30%%", s))
			return 0, false
		}
		return n, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		v.addAt(e.value, fmt.Sprintf("serial %q is not a number of hosts or a percentage; write such as 2 or 30%%", s),
			fmt.Sprintf("serial %q 既不是主机数也不是百分比；请写成如 2 或 30%%", s))
		return 0, false
	}
	return n, false
}

func (v *validator) percent(e entry) *float64 {
	s := strings.TrimSpace(v.scalar(e))
	if e.value.Kind != yaml.ScalarNode {
		return nil
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || f < 0 || f > 100 {
		v.addAt(e.value, fmt.Sprintf("%s %q is not a percentage from 0 to 100; write such as 25", e.key, s),
			fmt.Sprintf("%s %q 不是 0 到 100 的百分比；请写成如 25", e.key, s))
		return nil
	}
	return &f
}

func (v *validator) boolValue(e entry) (bool, bool) {
	s := v.scalar(e)
	if e.value.Kind != yaml.ScalarNode {
		return false, false
	}
	b, err := toBool(s)
	if err != nil {
		v.addAt(e.value, fmt.Sprintf("%s must be true or false, got %q", e.key, s),
			fmt.Sprintf("%s 应为 true 或 false，实际为 %q", e.key, s))
		return false, false
	}
	return b.(bool), true
}

func (v *validator) boolPtr(e entry) *bool {
	b, ok := v.boolValue(e)
	if !ok {
		return nil
	}
	return &b
}

// tags reads a list of tags; a single tag may be written without a list.
func (v *validator) tags(e entry) []string {
	if e.value.Kind == yaml.ScalarNode {
		if s := v.scalar(e); s != "" {
			return []string{s}
		}
		return nil
	}
	if e.value.Kind != yaml.SequenceNode {
		v.addAt(e.value, fmt.Sprintf("tags must be a list of names such as [daily, disk], got %s", kindName(e.value)),
			fmt.Sprintf("tags 应是名称列表，如 [daily, disk]，实际为 %s", kindNameZH(e.value)))
		return nil
	}

	var tags []string
	for _, n := range e.value.Content {
		n = resolve(n)
		if n.Kind != yaml.ScalarNode || n.Value == "" {
			v.addAt(n, fmt.Sprintf("a tag must be a name, got %s", kindName(n)),
				fmt.Sprintf("标签应是名称，实际为 %s", kindNameZH(n)))
			continue
		}
		tags = append(tags, n.Value)
	}
	return tags
}
