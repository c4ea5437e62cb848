package playbooks

import (
	"fmt"
	"maps"
	"strings"

	"patrol/i18n"
	"patrol/inventory"
	"patrol/module"
)

// Variable names templates may always read.
const (
	// HostVar holds facts about the current host: name, address, os, system, groups.
	HostVar = "host"
	// ItemVar holds the current element while a task loops.
	ItemVar = "item"
)

// HostFacts returns the map templates read as .host: name, address, os,
// system, groups (a list), connection and windows (a bool).
func HostFacts(h *inventory.Host) map[string]any {
	groups := append([]string{}, h.Groups...)
	return map[string]any{
		"name":       h.Name,
		"address":    h.Addr(),
		"os":         h.OS,
		"system":     h.System,
		"groups":     groups,
		"connection": h.Connection,
		"windows":    h.IsWindows(),
	}
}

// MergeVars builds the variables a task's templates see on one host. Later
// sources win: the play's defaults, the host's inventory variables, the play's
// vars, the results registered by earlier tasks on this host, and last .host.
// The runner adds .item for each loop element.
func MergeVars(h *inventory.Host, play *Play, registered map[string]any) map[string]any {
	vars := map[string]any{}
	if play != nil {
		maps.Copy(vars, play.Defaults)
	}
	if h != nil {
		maps.Copy(vars, h.Vars)
	}
	if play != nil {
		maps.Copy(vars, play.Vars)
	}
	maps.Copy(vars, registered)
	if h != nil {
		vars[HostVar] = HostFacts(h)
	}
	return vars
}

// ResultVars turns a module's result into the map that `register` stores, so
// that later templates read it as .name.key. The keys are:
//
//	rc            int       exit code of the command, 0 when the module ran none
//	stdout        string    standard output without its final line ending,
//	                        as in Ansible, so eq .r.stdout "yes" can hold
//	stdout_lines  []string  stdout split into lines, without line endings
//	stderr        string    standard error without its final line ending
//	msg           string    the module's message
//	changed       bool      the module changed the host
//	failed        bool      the task ran but did not do its job
//	skipped       bool      `when` was false
//	status        string    worst finding status: ok, warn, error or fail
//	findings      list      one map per finding: check, item, status,
//	                        value (English), value_zh, threshold (English),
//	                        threshold_zh, message (English), message_zh,
//	                        evidence, metrics. Threshold and threshold_zh
//	                        are empty when the check applied no limit.
//	data          map       extra values the module returned
func ResultVars(r module.Result) map[string]any {
	findings := make([]any, len(r.Findings))
	for i, f := range r.Findings {
		findings[i] = map[string]any{
			"check":        f.Check,
			"item":         f.Item,
			"status":       string(f.Status),
			"value":        f.Value.EN,
			"value_zh":     f.Value.ZH,
			"threshold":    f.Threshold.EN,
			"threshold_zh": f.Threshold.ZH,
			"message":      f.Message.EN,
			"message_zh":   f.Message.ZH,
			"evidence":     append([]string{}, f.Evidence...),
			"metrics":      maps.Clone(f.Metrics),
		}
	}
	data := r.Data
	if data == nil {
		data = map[string]any{}
	}
	return map[string]any{
		"rc":           r.RC,
		"stdout":       trimFinalNewline(r.Stdout),
		"stdout_lines": lines(r.Stdout),
		"stderr":       trimFinalNewline(r.Stderr),
		"msg":          r.Msg,
		"changed":      r.Changed,
		"failed":       r.Failed,
		"skipped":      r.Skipped,
		"status":       string(module.Worst(r.Findings)),
		"findings":     findings,
		"data":         data,
	}
}

func lines(s string) []string {
	s = strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	if s == "" {
		return []string{}
	}
	return strings.Split(s, "\n")
}

// ResolveArgs renders the task's arguments with vars and converts each to the
// Go type its module declares, filling defaults. Literal arguments were checked
// when the playbook was loaded; templated ones are checked here, and an error
// names the task's position and the argument.
func (t *Task) ResolveArgs(vars map[string]any) (module.Args, error) {
	if t.Spec == nil {
		return nil, fmt.Errorf("%s: task %q has no module spec; build tasks with Load or Parse", t.Pos, t.DisplayName().EN)
	}

	args := module.Args{}
	for name, raw := range t.Args {
		arg, ok := t.Spec.Arg(name)
		if !ok {
			return nil, fmt.Errorf("%s: task %q: module %s has no argument %s", t.argPosition(name), t.DisplayName().EN, t.Module, name)
		}

		rendered, err := renderValue(raw, vars)
		if err != nil {
			return nil, fmt.Errorf("%s: task %q: argument %s: %w", t.argPosition(name), t.DisplayName().EN, name, err)
		}
		value, err := convertArg(arg, rendered)
		if err != nil {
			return nil, fmt.Errorf("%s: task %q: argument %s of %s %w", t.argPosition(name), t.DisplayName().EN, name, t.Module, err)
		}
		args[name] = value
	}

	for _, arg := range t.Spec.Args {
		if args.Has(arg.Name) {
			continue
		}
		if arg.Default != nil {
			value, err := convertArg(arg, arg.Default)
			if err != nil {
				return nil, fmt.Errorf("module %s: default of argument %s %w", t.Module, arg.Name, err)
			}
			args[arg.Name] = value
			continue
		}
		if arg.Required {
			return nil, fmt.Errorf("%s: task %q: module %s needs argument %s", t.Pos, t.DisplayName().EN, t.Module, arg.Name)
		}
	}
	return args, nil
}

// EvalWhen reports whether the task should run. A task without `when` always
// runs. The condition must render to "true" or "false". Anything else is an
// error naming the task's position, because guessing would run or skip work
// the author did not mean to.
func (t *Task) EvalWhen(vars map[string]any) (bool, error) {
	if t.When == "" {
		return true, nil
	}

	out, err := render(t.When, vars)
	if err != nil {
		return false, fmt.Errorf("%s: task %q: when %s: %w", t.whenPosition(), t.DisplayName().EN, t.When, err)
	}
	switch strings.TrimSpace(out) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%s: task %q: when %s rendered %q, but it must give true or false; "+
		"compare explicitly, such as eq .var \"value\"", t.whenPosition(), t.DisplayName().EN, t.When, out)
}

// ExpandLoop returns the elements the task loops over, or nil when it has no
// loop. A YAML list in the playbook gives its items, with strings rendered. A
// template such as `{{ .packages }}` (or the bare `.packages`) must be a single
// action whose value is a list. A string value that contains a JSON array is
// parsed.
func (t *Task) ExpandLoop(vars map[string]any) ([]any, error) {
	if t.Loop == nil {
		return nil, nil
	}

	value, err := renderValue(t.Loop, vars)
	if err != nil {
		return nil, fmt.Errorf("%s: task %q: loop: %w", t.loopPosition(), t.DisplayName().EN, err)
	}
	if s, ok := value.(string); ok {
		parsed, err := fromJSON(s)
		if err != nil {
			return nil, fmt.Errorf("%s: task %q: loop gave the text %q, not a list; "+
				"loop over a list variable, such as loop: .packages", t.loopPosition(), t.DisplayName().EN, s)
		}
		value = parsed
	}
	items, err := listItems(value)
	if err != nil {
		return nil, fmt.Errorf("%s: task %q: loop %w; loop over a list variable, such as loop: .packages", t.loopPosition(), t.DisplayName().EN, err)
	}
	return items, nil
}

// RenderName returns the task's name in both languages with templates
// rendered, such as "install {{ .item }}" inside a loop. A variant that fails
// to render is returned as written, because a display name is not worth
// failing a task for.
func (t *Task) RenderName(vars map[string]any) i18n.Text {
	name := t.DisplayName()
	return i18n.Text{EN: renderName(name.EN, vars), ZH: renderName(name.ZH, vars)}
}

func renderName(name string, vars map[string]any) string {
	if !hasTemplate(name) {
		return name
	}
	out, err := render(name, vars)
	if err != nil {
		return name
	}
	return out
}

func (t *Task) argPosition(name string) Pos {
	if p, ok := t.argPos[name]; ok {
		return p
	}
	return t.Pos
}

func (t *Task) whenPosition() Pos {
	if t.whenPos.Line > 0 {
		return t.whenPos
	}
	return t.Pos
}

func (t *Task) loopPosition() Pos {
	if t.loopPos.Line > 0 {
		return t.loopPos
	}
	return t.Pos
}

// trimFinalNewline removes one trailing line ending ("\n" or "\r\n").
func trimFinalNewline(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return strings.TrimSuffix(s, "\r")
}
