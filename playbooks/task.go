package playbooks

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"patrol/i18n"
	"patrol/module"
)

// tasks builds a play's task list, whose text ends at line end.
func (v *validator) tasks(e entry, end int) []*Task {
	if e.value.Kind != yaml.SequenceNode || len(e.value.Content) == 0 {
		v.addAt(e.value, fmt.Sprintf("tasks must be a list of tasks, each starting with '- ', got %s", kindName(e.value)),
			fmt.Sprintf("tasks 应是任务列表，每个任务以 '- ' 开头，实际为 %s", kindNameZH(e.value)))
		return nil
	}

	var tasks []*Task
	for i, n := range e.value.Content {
		taskEnd := end
		if i+1 < len(e.value.Content) {
			taskEnd = e.value.Content[i+1].Line - 1
		}
		if t := v.task(resolve(n), taskEnd); t != nil {
			tasks = append(tasks, t)
		}
	}
	return tasks
}

// task builds one task: its keywords, its one module and the module's arguments.
func (v *validator) task(n *yaml.Node, end int) *Task {
	if n.Kind != yaml.MappingNode {
		v.addAt(n, fmt.Sprintf("a task must be a mapping with a module, such as command: uptime, got %s", kindName(n)),
			fmt.Sprintf("任务应是含一个模块的映射，如 command: uptime，实际为 %s", kindNameZH(n)))
		return nil
	}

	t := &Task{Pos: v.pos(n), argPos: map[string]Pos{}}
	var modules, unknown []entry
	for _, e := range v.entries(n) {
		switch {
		case slices.Contains(taskKeys, e.key):
			v.taskKeyword(t, e)
		case v.isModule(e.key):
			modules = append(modules, e)
		default:
			unknown = append(unknown, e)
		}
	}

	switch {
	case len(modules) > 1:
		names := make([]string, len(modules))
		for i, m := range modules {
			names[i] = m.key
		}
		list := strings.Join(names, ", ")
		v.addAt(modules[1].keyN, fmt.Sprintf("task %q calls %d modules (%s), but a task calls exactly one; split it into one task per module",
			t.Name.EN, len(modules), list),
			fmt.Sprintf("任务 %q 调用了 %d 个模块（%s），但一个任务只能调用一个；请拆成每个模块一个任务", t.Name.In(i18n.ZH), len(modules), list))
	case len(modules) == 1:
		v.moduleCall(t, modules[0], end)
	case len(unknown) == 0 && !v.touched(n.Line, end):
		v.addAt(n, fmt.Sprintf("task %q calls no module; add one, such as command: uptime (patrol modules lists them)", t.Name.EN),
			fmt.Sprintf("任务 %q 没有调用模块；请添加一个，如 command: uptime（patrol modules 可列出全部模块）", t.Name.In(i18n.ZH)))
	}

	for _, e := range unknown {
		v.unknownTaskKey(t, e, len(modules) == 0)
	}
	return t
}

// unknownTaskKey reports a key that is neither a task keyword nor a module.
// When the task has no module the key is most likely a misspelt module name.
func (v *validator) unknownTaskKey(t *Task, e entry, noModule bool) {
	if t.Spec != nil {
		if _, ok := t.Spec.Arg(e.key); ok {
			v.addAt(e.keyN, fmt.Sprintf("%s is an argument of %s but is indented as a task key; indent it under %s:", e.key, t.Module, t.Module),
				fmt.Sprintf("%s 是 %s 的参数，却缩进成了任务键；请把它缩进到 %s: 之下", e.key, t.Module, t.Module))
			return
		}
	}
	if slices.Contains(playKeys, e.key) {
		v.addAt(e.keyN, fmt.Sprintf("%s belongs to a play, not to a task; move it to the play or check the indentation", e.key),
			fmt.Sprintf("%s 属于 play 而不是任务；请把它移到 play 中，或检查缩进", e.key))
		return
	}

	var names []string
	if v.reg != nil {
		names = v.reg.Names()
	}
	if noModule && len(suggest(e.key, taskKeys)) == 0 {
		en, zh := didYouMean(e.key, names)
		v.addAt(e.keyN, fmt.Sprintf("unknown module %s%s; patrol modules lists the modules", e.key, en),
			fmt.Sprintf("未知模块 %s%s；patrol modules 可列出全部模块", e.key, zh))
		return
	}
	en, zh := didYouMean(e.key, append(slices.Clone(taskKeys), names...))
	v.addAt(e.keyN, fmt.Sprintf("unknown task key %s%s; a task has one module and may have %s", e.key, en, strings.Join(taskKeys, ", ")),
		fmt.Sprintf("未知的任务键 %s%s；任务含一个模块，另可有 %s", e.key, zh, strings.Join(taskKeys, ", ")))
}

func (v *validator) taskKeyword(t *Task, e entry) {
	switch e.key {
	case "name":
		t.Name = v.name(e)
	case "when":
		v.when(t, e)
	case "register":
		t.Register = v.scalar(e)
		if e.value.Kind == yaml.ScalarNode {
			v.checkVarName(e.value, "register")
		}
	case "loop":
		v.loop(t, e)
	case "tags":
		t.Tags = v.tags(e)
	case "timeout":
		t.Timeout = v.duration(e)
	case "delay":
		t.Delay = v.duration(e)
	case "retries":
		s := v.scalar(e)
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if e.value.Kind == yaml.ScalarNode && (err != nil || n < 0) {
			v.addAt(e.value, fmt.Sprintf("retries must be a whole number of 0 or more, got %q", s),
				fmt.Sprintf("retries 应为不小于 0 的整数，实际为 %q", s))
		}
		t.Retries = n
	case "ignore_errors":
		t.IgnoreErrors, _ = v.boolValue(e)
	case "become":
		t.Become = v.boolPtr(e)
	}
}

func (v *validator) duration(e entry) time.Duration {
	v.scalar(e)
	if e.value.Kind != yaml.ScalarNode {
		return 0
	}
	d, err := parseDuration(literal(e.value))
	if err != nil {
		v.addAt(e.value, fmt.Sprintf("%s %s", e.key, err), fmt.Sprintf("%s %s", e.key, zhText(err)))
		return 0
	}
	return d
}

// when reads a condition: an expression such as `eq .result.rc 0`, a template,
// true or false, or a list of expressions that must all hold.
func (v *validator) when(t *Task, e entry) {
	t.whenPos = v.pos(e.value)

	var text string
	switch e.value.Kind {
	case yaml.ScalarNode:
		text = condition(e.value.Value)
		if e.value.ShortTag() == "!!null" || strings.TrimSpace(e.value.Value) == "" {
			v.addAt(e.value, "when is empty; write a condition such as eq .result.rc 0, or remove the key",
				"when 为空；请写条件，如 eq .result.rc 0，或删除该键")
			return
		}
	case yaml.SequenceNode:
		var parts []string
		for _, c := range e.value.Content {
			c = resolve(c)
			if c.Kind != yaml.ScalarNode || hasTemplate(c.Value) {
				v.addAt(c, "each condition in a when list must be a plain expression without {{ }}, such as eq .result.rc 0",
					"when 列表中的每个条件应是不含 {{ }} 的表达式，如 eq .result.rc 0")
				return
			}
			parts = append(parts, "("+c.Value+")")
		}
		text = condition("and " + strings.Join(parts, " "))
		if len(parts) == 1 {
			text = condition(parts[0])
		}
	default:
		v.addAt(e.value, fmt.Sprintf("when must be a condition such as eq .result.rc 0, got %s", kindName(e.value)),
			fmt.Sprintf("when 应是条件表达式，如 eq .result.rc 0，实际为 %s", kindNameZH(e.value)))
		return
	}

	if _, err := newTemplate(text); err != nil {
		v.addAt(e.value, fmt.Sprintf("when %q does not parse: %s", e.value.Value, err),
			fmt.Sprintf("when %q 无法解析：%s", e.value.Value, err))
		return
	}
	t.When = text
}

// loop reads a list of items or an expression whose value is a list.
func (v *validator) loop(t *Task, e entry) {
	t.loopPos = v.pos(e.value)

	switch e.value.Kind {
	case yaml.SequenceNode:
		items := nodeValue(e.value).([]any)
		if err := checkTemplates(items); err != nil {
			v.addAt(e.value, fmt.Sprintf("loop holds a template that does not parse: %s", err),
				fmt.Sprintf("loop 中的模板无法解析：%s", err))
			return
		}
		t.Loop = items
	case yaml.ScalarNode:
		if e.value.ShortTag() == "!!null" || e.value.ShortTag() != "!!str" || strings.TrimSpace(e.value.Value) == "" {
			v.addAt(e.value, fmt.Sprintf("loop must be a list or a list variable such as .packages, got %s", kindName(e.value)),
				fmt.Sprintf("loop 应是列表或列表变量（如 .packages），实际为 %s", kindNameZH(e.value)))
			return
		}
		text := expression(e.value.Value)
		if _, err := newTemplate(text); err != nil {
			v.addAt(e.value, fmt.Sprintf("loop %q does not parse: %s", e.value.Value, err),
				fmt.Sprintf("loop %q 无法解析：%s", e.value.Value, err))
			return
		}
		t.Loop = text
	default:
		v.addAt(e.value, "loop must be a list or a list variable such as .packages, got a mapping",
			"loop 应是列表或列表变量（如 .packages），实际为映射")
	}
}

// moduleCall reads the task's module and its arguments, whose text ends at line end.
func (v *validator) moduleCall(t *Task, m entry, end int) {
	spec, _ := v.reg.Lookup(m.key)
	t.Module, t.Spec = m.key, spec
	t.Args = map[string]any{}

	wellFormed := true
	misspelt := map[string]bool{}
	switch n := m.value; {
	case n.ShortTag() == "!!null":
	case n.Kind == yaml.ScalarNode && spec.FreeForm != "":
		if arg, ok := spec.Arg(spec.FreeForm); ok {
			v.argument(t, arg, m.keyN, n)
		}
	case n.Kind == yaml.ScalarNode:
		wellFormed = false
		v.addAt(n, fmt.Sprintf("%s takes its arguments as a mapping, not a single value; write %s: {%s}", spec.Name, spec.Name, argExample(spec)),
			fmt.Sprintf("%s 的参数应写成映射而不是单个值；请写成 %s: {%s}", spec.Name, spec.Name, argExample(spec)))
	case n.Kind == yaml.MappingNode:
		for _, e := range v.entries(n) {
			arg, ok := spec.Arg(e.key)
			if !ok {
				// A misspelt argument is reported once, with the right name
				// as its suggestion, rather than also as missing.
				for _, name := range v.unknownArgument(spec, e) {
					misspelt[name] = true
				}
				continue
			}
			v.argument(t, arg, e.keyN, e.value)
		}
	default:
		wellFormed = false
		v.addAt(n, fmt.Sprintf("arguments of %s must be a mapping such as {%s}, got %s", spec.Name, argExample(spec), kindName(n)),
			fmt.Sprintf("%s 的参数应是映射，如 {%s}，实际为 %s", spec.Name, argExample(spec), kindNameZH(n)))
	}

	for _, arg := range spec.Args {
		if !arg.Required || arg.Default != nil {
			continue
		}
		if _, given := t.Args[arg.Name]; !given && wellFormed && !misspelt[arg.Name] && !v.touched(m.keyN.Line, end) {
			v.addAt(m.keyN, fmt.Sprintf("%s needs argument %s; add %s: under %s:", spec.Name, arg.Name, arg.Name, spec.Name),
				fmt.Sprintf("%s 缺少必填参数 %s；请在 %s: 下添加 %s:", spec.Name, arg.Name, spec.Name, arg.Name))
		}
	}
}

// unknownArgument reports an argument the module does not declare and returns
// the declared names suggested instead.
func (v *validator) unknownArgument(spec *module.Spec, e entry) []string {
	if slices.Contains(taskKeys, e.key) {
		v.addAt(e.keyN, fmt.Sprintf("%s is a task key, not an argument of %s; indent it at the level of %s:", e.key, spec.Name, spec.Name),
			fmt.Sprintf("%s 是任务键而不是 %s 的参数；请把它缩进到与 %s: 同一级", e.key, spec.Name, spec.Name))
		return nil
	}

	names := make([]string, len(spec.Args))
	for i, a := range spec.Args {
		names[i] = a.Name
	}
	en, zh := didYouMean(e.key, names)
	if len(names) == 0 {
		v.addAt(e.keyN, fmt.Sprintf("%s takes no arguments, got %s", spec.Name, e.key),
			fmt.Sprintf("%s 不接受参数，实际给了 %s", spec.Name, e.key))
		return nil
	}
	v.addAt(e.keyN, fmt.Sprintf("unknown argument %s of %s%s; it takes %s", e.key, spec.Name, en, strings.Join(names, ", ")),
		fmt.Sprintf("%s 没有参数 %s%s；可用参数有 %s", spec.Name, e.key, zh, strings.Join(names, ", ")))
	return suggest(e.key, names)
}

// argument checks one argument's value and stores it in t.Args. A value holding
// a template is stored as written and checked after rendering, at run time.
func (v *validator) argument(t *Task, arg module.Arg, keyN, n *yaml.Node) {
	t.argPos[arg.Name] = v.pos(n)
	// The raw value is stored even when it is reported, so that the argument
	// does not also count as missing.
	raw := argLiteral(arg, n)
	t.Args[arg.Name] = raw

	if n.ShortTag() == "!!null" {
		v.addAt(n, fmt.Sprintf("argument %s of %s has no value; give one or remove the key", arg.Name, t.Module),
			fmt.Sprintf("%s 的参数 %s 没有值；请给出值或删除该键", t.Module, arg.Name))
		return
	}
	if err := checkTemplates(raw); err != nil {
		v.addAt(n, fmt.Sprintf("argument %s of %s holds a template that does not parse: %s", arg.Name, t.Module, err),
			fmt.Sprintf("%s 的参数 %s 中的模板无法解析：%s", t.Module, arg.Name, err))
		return
	}
	if containsTemplate(raw) {
		return
	}

	value, err := convertArg(arg, raw)
	if err != nil {
		v.addAt(n, fmt.Sprintf("argument %s of %s %s", arg.Name, t.Module, err),
			fmt.Sprintf("%s 的参数 %s %s", t.Module, arg.Name, zhText(err)))
		return
	}
	t.Args[arg.Name] = value
}

// argLiteral returns a node's value for an argument. Strings keep the text as
// written, so that mode: 0644 stays "0644" rather than the number 420, and a
// list of strings keeps each item's text the same way.
func argLiteral(arg module.Arg, n *yaml.Node) any {
	switch {
	case n.Kind == yaml.ScalarNode && arg.Type == module.String:
		return n.Value
	case n.Kind == yaml.SequenceNode && arg.Type == module.Strings:
		items := make([]any, len(n.Content))
		for i, c := range n.Content {
			c = resolve(c)
			if c.Kind == yaml.ScalarNode && c.ShortTag() != "!!null" {
				items[i] = c.Value
			} else {
				items[i] = nodeValue(c)
			}
		}
		return items
	}
	return nodeValue(n)
}

// argExample shows a module's arguments as "a: …, b: …" for messages.
func argExample(spec *module.Spec) string {
	var parts []string
	for _, a := range spec.Args {
		if a.Required || len(parts) < 2 {
			parts = append(parts, a.Name+": …")
		}
	}
	return strings.Join(parts, ", ")
}
