package playbooks

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"text/template"
	"text/template/parse"
)

// funcs are the functions templates may call besides text/template's built-ins.
// There is deliberately no env or file function, so that secrets held in the
// controller's environment cannot flow into commands, logs or the journal.
var funcs = template.FuncMap{
	"default":   defaultValue,
	"join":      join,
	"split":     func(sep, s string) []string { return strings.Split(s, sep) },
	"lower":     strings.ToLower,
	"upper":     strings.ToUpper,
	"trim":      strings.TrimSpace,
	"replace":   func(old, new, s string) string { return strings.ReplaceAll(s, old, new) },
	"hasPrefix": func(prefix, s string) bool { return strings.HasPrefix(s, prefix) },
	"hasSuffix": func(suffix, s string) bool { return strings.HasSuffix(s, suffix) },
	"contains":  contains,
	"quote":     shellQuote,
	"toJSON":    toJSON,
	"fromJSON":  fromJSON,
}

// captureFunc names the function evaluate uses to take a template's value as a
// Go value instead of text. Outside evaluate it returns "", so a playbook that
// happens to call it gets nothing.
const captureFunc = "patrolCapture__"

// hasTemplate reports whether s holds template actions.
func hasTemplate(s string) bool { return strings.Contains(s, "{{") }

// expression wraps a bare expression such as `eq .result.rc 0` as a template.
// Text that already holds {{ is returned unchanged.
func expression(s string) string {
	if hasTemplate(s) {
		return s
	}
	return "{{ " + strings.TrimSpace(s) + " }}"
}

// condition wraps a bare `when` expression so that it is judged by Go
// template truth, as {{ if }} judges it: false, 0, nil and empty strings, lists
// and maps are false; anything else is true. A condition that already holds
// {{ }} is kept and must render true or false itself.
func condition(s string) string {
	if hasTemplate(s) {
		return s
	}
	return "{{ if " + strings.TrimSpace(s) + " }}true{{ else }}false{{ end }}"
}

// newTemplate parses text with patrol's functions and missingkey=error, so a
// misspelled variable fails instead of rendering "<no value>".
func newTemplate(text string) (*template.Template, error) {
	t, err := template.New("t").
		Option("missingkey=error").
		Funcs(funcs).
		Funcs(template.FuncMap{captureFunc: func(any) string { return "" }}).
		Parse(text)
	if err != nil {
		return nil, errors.New(cleanTemplateError(err))
	}
	return t, nil
}

// render executes a template and returns its text.
func render(text string, vars map[string]any) (string, error) {
	t, err := newTemplate(text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, vars); err != nil {
		return "", errors.New(explainExecError(err))
	}
	return b.String(), nil
}

// singleAction returns the pipeline of a template that is one action and
// nothing else ("{{ .packages }}"), so that its value can be taken as it is
// instead of as text.
func singleAction(text string) (string, bool) {
	t, err := newTemplate(text)
	if err != nil || t.Tree == nil {
		return "", false
	}
	var action *parse.ActionNode
	for _, n := range t.Tree.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			if strings.TrimSpace(string(n.Text)) != "" {
				return "", false
			}
		case *parse.ActionNode:
			if action != nil || len(n.Pipe.Decl) > 0 {
				return "", false
			}
			action = n
		default:
			return "", false
		}
	}
	if action == nil {
		return "", false
	}
	return action.Pipe.String(), true
}

// evaluate returns the value of a template. A template that is a single action
// yields the action's Go value (a list stays a list, a number stays a number);
// any other template yields its rendered text.
func evaluate(text string, vars map[string]any) (any, error) {
	pipeline, ok := singleAction(text)
	if !ok {
		return render(text, vars)
	}

	t, err := newTemplate("{{ " + captureFunc + " (" + pipeline + ") }}")
	if err != nil {
		return nil, err
	}
	var captured any
	t.Funcs(template.FuncMap{captureFunc: func(v any) string {
		captured = v
		return ""
	}})
	if err := t.Execute(&strings.Builder{}, vars); err != nil {
		return nil, errors.New(explainExecError(err))
	}
	return captured, nil
}

// renderValue renders every string inside a raw argument value: lists and maps
// are walked, a whole-string template is evaluated to its value, and other
// values are returned unchanged.
func renderValue(v any, vars map[string]any) (any, error) {
	switch x := v.(type) {
	case string:
		if !hasTemplate(x) {
			return x, nil
		}
		return evaluate(x, vars)
	case []string:
		out := make([]string, len(x))
		for i, s := range x {
			r, err := renderText(s, vars)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i+1, err)
			}
			out[i] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			r, err := renderNested(item, vars)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i+1, err)
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, item := range x {
			r, err := renderNested(item, vars)
			if err != nil {
				return nil, fmt.Errorf("key %s: %w", k, err)
			}
			out[k] = r
		}
		return out, nil
	}
	return v, nil
}

// renderNested renders a value inside a list or map: strings become text, so
// that a list of strings stays a list of strings.
func renderNested(v any, vars map[string]any) (any, error) {
	if s, ok := v.(string); ok {
		return renderText(s, vars)
	}
	return renderValue(v, vars)
}

func renderText(s string, vars map[string]any) (string, error) {
	if !hasTemplate(s) {
		return s, nil
	}
	return render(s, vars)
}

// checkTemplates parses every template string inside a raw value and returns the
// first parse error.
func checkTemplates(v any) error {
	switch x := v.(type) {
	case string:
		if hasTemplate(x) {
			_, err := newTemplate(x)
			return err
		}
	case []string:
		for _, s := range x {
			if err := checkTemplates(s); err != nil {
				return err
			}
		}
	case []any:
		for _, item := range x {
			if err := checkTemplates(item); err != nil {
				return err
			}
		}
	case map[string]any:
		for _, item := range x {
			if err := checkTemplates(item); err != nil {
				return err
			}
		}
	}
	return nil
}

var templatePrefix = regexp.MustCompile(`^template: t:\d+(:\d+)?: `)

// cleanTemplateError drops text/template's "template: t:1:2: " prefix, which names
// an internal template and a column inside the expression.
func cleanTemplateError(err error) string {
	return templatePrefix.ReplaceAllString(err.Error(), "")
}

var missingKey = regexp.MustCompile(`map has no entry for key "([^"]+)"`)

// explainExecError rewrites text/template's execution error in playbook terms.
func explainExecError(err error) string {
	msg := strings.Replace(cleanTemplateError(err), `executing "t" at `, "", 1)
	if m := missingKey.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s: variable %s is not defined for this host; define it in the inventory or the play's vars, "+
			"or read it with a fallback: {{ index . %q | default \"value\" }}", msg, m[1], m[1])
	}
	return msg
}

// defaultValue returns value, or fallback when value is empty (nil, "", 0,
// false, an empty list or map). It does not catch undefined variables, which
// are errors: read those with `index . "name"`, which yields nil when absent.
func defaultValue(fallback, value any) any {
	if value == nil {
		return fallback
	}
	rv := reflect.ValueOf(value)
	if rv.IsZero() || (rv.Kind() == reflect.Slice || rv.Kind() == reflect.Map) && rv.Len() == 0 {
		return fallback
	}
	return value
}

// join joins a list's items, printed as text, with sep.
func join(sep string, list any) (string, error) {
	items, err := listItems(list)
	if err != nil {
		return "", fmt.Errorf("join: %w", err)
	}
	parts := make([]string, len(items))
	for i, item := range items {
		parts[i] = fmt.Sprint(item)
	}
	return strings.Join(parts, sep), nil
}

// contains reports whether haystack, a string or a list, contains needle. The
// argument order lets a pipeline read `{{ .result.stdout | contains "active" }}`.
func contains(needle, haystack any) (bool, error) {
	if s, ok := haystack.(string); ok {
		return strings.Contains(s, fmt.Sprint(needle)), nil
	}
	items, err := listItems(haystack)
	if err != nil {
		return false, fmt.Errorf("contains: %w", err)
	}
	for _, item := range items {
		if reflect.DeepEqual(item, needle) || fmt.Sprint(item) == fmt.Sprint(needle) {
			return true, nil
		}
	}
	return false, nil
}

// shellQuote quotes a value for a POSIX shell, so that a variable holding spaces
// or quotes stays one word on a command line.
func shellQuote(v any) string {
	return "'" + strings.ReplaceAll(fmt.Sprint(v), "'", `'\''`) + "'"
}

func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("toJSON: %w", err)
	}
	return string(b), nil
}

// fromJSON parses JSON text, keeping whole numbers as int so that they compare
// equal to numbers written in templates.
func fromJSON(s string) (any, error) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("fromJSON: %w", err)
	}
	return intNumbers(v), nil
}

func intNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return int(n)
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = intNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = intNumbers(x[k])
		}
	}
	return v
}

// listItems returns the items of any slice or array.
func listItems(v any) ([]any, error) {
	if l, ok := v.([]any); ok {
		return l, nil
	}
	rv := reflect.ValueOf(v)
	if v == nil || rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, fmt.Errorf("expects a list, got %s", describe(v))
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, nil
}
