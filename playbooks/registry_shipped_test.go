package playbooks_test

import (
	"testing"

	"patrol/builtin"
	"patrol/checks"
	"patrol/module"
	"patrol/playbooks"
)

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
