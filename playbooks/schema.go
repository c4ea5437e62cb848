package playbooks

import (
	"encoding/json"
	"fmt"
	"time"

	"patrol/module"
)

// GenerateSchema returns a JSON Schema (draft-07) for playbooks, for editors
// such as VS Code's YAML extension. With a registry, the schema lists every
// module and its arguments and requires exactly one module per task. With nil,
// it checks play and task keys and accepts any other key as a module.
func GenerateSchema(reg *module.Registry) ([]byte, error) {
	taskProps := map[string]any{
		"name":          ref("name"),
		"when":          whenSchema(),
		"register":      map[string]any{"type": "string", "pattern": identifier.String(), "description": "Store the result under this variable name."},
		"loop":          map[string]any{"anyOf": []any{map[string]any{"type": "array"}, map[string]any{"type": "string"}}, "description": "A list, or an expression whose value is a list; .item holds the current element."},
		"tags":          tagsSchema(),
		"timeout":       ref("duration"),
		"retries":       map[string]any{"type": "integer", "minimum": 0},
		"delay":         ref("duration"),
		"ignore_errors": map[string]any{"type": "boolean"},
		"become":        map[string]any{"type": "boolean"},
	}
	task := map[string]any{
		"type":       "object",
		"properties": taskProps,
	}
	definitions := map[string]any{
		"play":     playSchema(),
		"task":     task,
		"duration": durationSchema(),
		"name":     nameSchema(),
		"template": map[string]any{"type": "string", "pattern": `\{\{`, "description": "A template, checked after rendering at run time."},
		"vars": map[string]any{
			"type":          "object",
			"propertyNames": map[string]any{"pattern": identifier.String()},
		},
	}

	if reg == nil {
		task["additionalProperties"] = map[string]any{
			"description": "A module call: its arguments as a mapping, or a single value for modules such as command.",
			"type":        []any{"object", "string", "null"},
		}
	} else {
		var oneOf []any
		for _, name := range reg.Names() {
			spec, _ := reg.Lookup(name)
			s, err := moduleSchema(spec)
			if err != nil {
				return nil, err
			}
			definitions["module:"+name] = s
			taskProps[name] = ref("module:" + name)
			oneOf = append(oneOf, map[string]any{"required": []any{name}})
		}
		task["additionalProperties"] = false
		task["oneOf"] = oneOf
	}

	schema := map[string]any{
		"$schema":     "http://json-schema.org/draft-07/schema#",
		"title":       "patrol playbook",
		"description": "A list of plays; each play runs tasks on the hosts its pattern selects.",
		"type":        "array",
		"items":       ref("play"),
		"definitions": definitions,
	}
	out, err := json.MarshalIndent(schema, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode playbook schema: %w", err)
	}
	return append(out, '\n'), nil
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/definitions/" + name} }

func playSchema() map[string]any {
	return map[string]any{
		"type":                 "object",
		"required":             []any{"hosts", "tasks"},
		"additionalProperties": false,
		"properties": map[string]any{
			"name":     ref("name"),
			"hosts":    map[string]any{"type": "string", "minLength": 1, "description": "A host pattern, as accepted by --limit."},
			"vars":     ref("vars"),
			"defaults": ref("vars"),
			"serial": map[string]any{"anyOf": []any{
				map[string]any{"type": "integer", "minimum": 0},
				map[string]any{"type": "string", "pattern": `^\s*([1-9][0-9]?|100)\s*%$`},
			}, "description": "Batch size: a number of hosts or a percentage such as 30%."},
			"max_fail_percentage": map[string]any{"type": "number", "minimum": 0, "maximum": 100},
			"become":              map[string]any{"type": "boolean"},
			"tags":                tagsSchema(),
			"tasks":               map[string]any{"type": "array", "minItems": 1, "items": ref("task")},
		},
	}
}

// nameSchema describes a play's or task's name: plain text, or a mapping of
// languages that must give en and may give zh, with text that is not blank.
func nameSchema() map[string]any {
	variant := func(lang string) map[string]any {
		return map[string]any{"type": "string", "pattern": `\S`, "description": "The name in " + lang + "."}
	}
	return map[string]any{
		"anyOf": []any{
			map[string]any{"type": "string"},
			map[string]any{
				"type":                 "object",
				"properties":           map[string]any{"en": variant("English"), "zh": variant("Simplified Chinese")},
				"required":             []any{"en"},
				"additionalProperties": false,
			},
		},
		"description": "What the play or task does, shown in output, the journal and reports: text, or {en: …, zh: …} to show zh when the run's language is Chinese.",
	}
}

func whenSchema() map[string]any {
	return map[string]any{
		"anyOf": []any{
			map[string]any{"type": "string", "minLength": 1},
			map[string]any{"type": "boolean"},
			map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
		},
		"description": "A condition such as `eq .result.rc 0`; it must give true or false.",
	}
}

func tagsSchema() map[string]any {
	return map[string]any{"anyOf": []any{
		map[string]any{"type": "string"},
		map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
	}}
}

func durationSchema() map[string]any {
	return map[string]any{
		"anyOf": []any{
			map[string]any{"type": "number", "minimum": 0},
			map[string]any{"type": "string", "pattern": `^\s*([0-9.]+(ns|us|µs|ms|s|m|h))+\s*$|^\s*[0-9]+d\s*$|^\s*[0-9.]+\s*$`},
		},
		"description": "A duration such as 30s, 5m, 1h30m, 7d, or a number of seconds.",
	}
}

// moduleSchema describes one module's value: a mapping of its arguments, a
// single value for free-form modules, or nothing when no argument is required.
func moduleSchema(spec *module.Spec) (map[string]any, error) {
	props := map[string]any{}
	required := []any{}
	for _, a := range spec.Args {
		s, err := argSchema(a)
		if err != nil {
			return nil, fmt.Errorf("module %s: %w", spec.Name, err)
		}
		props[a.Name] = s
		if a.Required && a.Default == nil {
			required = append(required, a.Name)
		}
	}

	object := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		object["required"] = required
	}
	forms := []any{object}
	if spec.FreeForm != "" {
		forms = append(forms, map[string]any{"type": []any{"string", "number", "boolean"}})
	}
	if len(required) == 0 {
		forms = append(forms, map[string]any{"type": "null"})
	}
	return map[string]any{"description": spec.Doc.EN, "anyOf": forms}, nil
}

func argSchema(a module.Arg) (map[string]any, error) {
	var literal any
	switch a.Type {
	case module.String:
		literal = map[string]any{"type": []any{"string", "number", "boolean"}}
		if len(a.Enum) > 0 {
			enum := make([]any, len(a.Enum))
			for i, e := range a.Enum {
				enum[i] = e
			}
			literal = map[string]any{"enum": enum}
		}
	case module.Int:
		literal = map[string]any{"type": "integer"}
	case module.Float:
		literal = map[string]any{"type": "number"}
	case module.Bool:
		literal = map[string]any{"anyOf": []any{
			map[string]any{"type": "boolean"},
			map[string]any{"enum": []any{"yes", "no", "on", "off", "true", "false"}},
		}}
	case module.Duration:
		literal = ref("duration")
	case module.Strings:
		literal = map[string]any{"type": "array", "items": map[string]any{"type": []any{"string", "number", "boolean"}}}
	case module.Map:
		literal = map[string]any{"type": "object"}
	default:
		return nil, fmt.Errorf("argument %s has unknown type %q", a.Name, a.Type)
	}

	s := map[string]any{"anyOf": []any{literal, ref("template")}}
	if a.Doc.EN != "" {
		s["description"] = a.Doc.EN
	}
	switch d := a.Default.(type) {
	case nil:
	case time.Duration:
		s["default"] = d.String()
	default:
		s["default"] = d
	}
	return s, nil
}
