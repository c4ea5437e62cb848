package playbooks

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestSchemaWithRegistry(t *testing.T) {
	out, err := GenerateSchema(testRegistry())
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Definitions map[string]struct {
			Properties           map[string]json.RawMessage `json:"properties"`
			OneOf                []map[string][]string      `json:"oneOf"`
			AdditionalProperties json.RawMessage            `json:"additionalProperties"`
			AnyOf                []json.RawMessage          `json:"anyOf"`
		} `json:"definitions"`
	}
	if err := json.Unmarshal(out, &schema); err != nil {
		t.Fatal(err)
	}

	task := schema.Definitions["task"]
	for _, key := range append(append([]string{}, taskKeys...), "command", "check.disk", "copy") {
		if _, ok := task.Properties[key]; !ok {
			t.Errorf("task schema lacks %s", key)
		}
	}
	if string(task.AdditionalProperties) != "false" {
		t.Errorf("task additionalProperties = %s, want false", task.AdditionalProperties)
	}
	if len(task.OneOf) != len(testRegistry().Names()) {
		t.Errorf("task oneOf has %d entries, want one per module", len(task.OneOf))
	}

	copyArgs := schema.Definitions["module:copy"]
	if len(copyArgs.AnyOf) != 1 {
		t.Errorf("copy has %d forms, want only the mapping because src and dest are required", len(copyArgs.AnyOf))
	}
	command := schema.Definitions["module:command"]
	if len(command.AnyOf) != 2 {
		t.Errorf("command has %d forms, want a mapping and a free-form value", len(command.AnyOf))
	}
	if _, ok := schema.Definitions["module:wait"]; !ok {
		t.Error("schema lacks module:wait")
	}
	if !bytes.Contains(out, []byte(`"default": "5m0s"`)) {
		t.Error("the duration default of wait.timeout is not written as text")
	}
}

// TestSchemaName checks that editors accept both forms of a name: plain text,
// and a mapping that must give en, may give zh and has no other key.
func TestSchemaName(t *testing.T) {
	out, err := GenerateSchema(testRegistry())
	if err != nil {
		t.Fatal(err)
	}
	type object struct {
		Properties           map[string]json.RawMessage `json:"properties"`
		Required             []string                   `json:"required"`
		AdditionalProperties json.RawMessage            `json:"additionalProperties"`
	}
	var schema struct {
		Definitions struct {
			Play object `json:"play"`
			Task object `json:"task"`
			Name struct {
				AnyOf []struct {
					Type string `json:"type"`
					object
				} `json:"anyOf"`
			} `json:"name"`
		} `json:"definitions"`
	}
	if err := json.Unmarshal(out, &schema); err != nil {
		t.Fatal(err)
	}

	const nameRef = `{"$ref":"#/definitions/name"}`
	for definition, o := range map[string]object{"play": schema.Definitions.Play, "task": schema.Definitions.Task} {
		var compact bytes.Buffer
		if err := json.Compact(&compact, o.Properties["name"]); err != nil {
			t.Fatalf("%s name: %v", definition, err)
		}
		if compact.String() != nameRef {
			t.Errorf("%s name = %s, want %s", definition, compact.String(), nameRef)
		}
	}

	forms := schema.Definitions.Name.AnyOf
	if len(forms) != 2 {
		t.Fatalf("name has %d forms, want plain text and a mapping", len(forms))
	}
	if forms[0].Type != "string" {
		t.Errorf("first name form is %q, want string", forms[0].Type)
	}
	mapping := forms[1]
	if mapping.Type != "object" {
		t.Errorf("second name form is %q, want object", mapping.Type)
	}
	for _, lang := range []string{"en", "zh"} {
		if _, ok := mapping.Properties[lang]; !ok {
			t.Errorf("name mapping lacks %s", lang)
		}
	}
	if len(mapping.Properties) != 2 {
		t.Errorf("name mapping has %d languages, want en and zh", len(mapping.Properties))
	}
	if len(mapping.Required) != 1 || mapping.Required[0] != "en" {
		t.Errorf("name mapping requires %v, want [en]", mapping.Required)
	}
	if string(mapping.AdditionalProperties) != "false" {
		t.Errorf("name mapping additionalProperties = %s, want false", mapping.AdditionalProperties)
	}
}
