package playbooks_test

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"patrol/builtin"
	"patrol/checks"
	"patrol/module"
	"patrol/playbooks"
)

// TestShippedNamesBilingual checks that every play and task of the built-in
// playbooks has a Chinese name besides the English one, so that Chinese output
// never falls back to English.
func TestShippedNamesBilingual(t *testing.T) {
	reg := module.NewRegistry()
	builtin.Register(reg)
	checks.Register(reg)

	for _, name := range playbooks.ShippedNames() {
		pb, err := playbooks.LoadShipped(name, reg)
		if err != nil {
			t.Fatalf("%s:\n%v", name, err)
		}
		for _, play := range pb.Plays {
			if play.Name.EN == "" || play.Name.ZH == "" {
				t.Errorf("%s: play at %s has name %+v, want en and zh", name, play.Pos, play.Name)
			}
			for _, task := range play.Tasks {
				if task.Name.EN == "" || task.Name.ZH == "" {
					t.Errorf("%s: task at %s has name %+v, want en and zh", name, task.Pos, task.Name)
				}
			}
		}
	}
}

// TestShippedWithRealModules validates the built-in playbooks against the
// modules patrol registers, as `patrol run` does before anything runs.
func TestShippedWithRealModules(t *testing.T) {
	reg := module.NewRegistry()
	builtin.Register(reg)
	checks.Register(reg)

	for _, name := range playbooks.ShippedNames() {
		if _, err := playbooks.LoadShipped(name, reg); err != nil {
			t.Errorf("%s:\n%v", name, err)
		}
	}
}

var update = flag.Bool("update", false, "rewrite schema.json from GenerateSchema")

// TestSchemaCurrent checks that the committed schema.json, which editors use to
// complete and check playbooks, lists every module patrol registers with its
// arguments. Run `go test ./playbooks -run Schema -update` after changing play
// or task keys or a module's arguments.
func TestSchemaCurrent(t *testing.T) {
	reg := module.NewRegistry()
	builtin.Register(reg)
	checks.Register(reg)
	got, err := playbooks.GenerateSchema(reg)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("schema.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := os.ReadFile("schema.json")
	if err != nil {
		t.Fatalf("read committed schema: %v; run go test ./playbooks -run Schema -update", err)
	}
	if !bytes.Equal(got, committed) {
		t.Error("schema.json is out of date; run go test ./playbooks -run Schema -update")
	}
}
