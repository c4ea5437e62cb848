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
