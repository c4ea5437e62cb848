package playbooks

import (
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestShippedNames(t *testing.T) {
	names := ShippedNames()
	for _, want := range []string{"daily-inspection", "monthly-inspection"} {
		if !slices.Contains(names, want) {
			t.Errorf("ShippedNames() = %v, missing %s", names, want)
		}
	}
	for _, name := range names {
		if _, err := fs.Stat(Shipped(), name+".yml"); err != nil {
			t.Errorf("Shipped() lacks %s.yml: %v", name, err)
		}
	}
}

// TestShippedStructure checks the built-in playbooks against everything but the
// module registry, which this package does not have: YAML syntax, play and
// task keys, conditions, loops and templates. Their modules and arguments must
// be checked where the full registry is built.
func TestShippedStructure(t *testing.T) {
	for _, name := range ShippedNames() {
		pb, err := LoadShipped(name, testRegistry())
		if err == nil {
			if pb.File != "playbooks/"+name+".yml" || len(pb.Plays) == 0 {
				t.Errorf("%s: file %q with %d plays", name, pb.File, len(pb.Plays))
			}
			continue
		}
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("%s: %v", name, err)
		}
		for _, p := range ve.Problems {
			if !strings.HasPrefix(p.Msg, "unknown module ") && !isTestRegistryGap(p.Msg) {
				t.Errorf("%s", p)
			}
		}
	}
}

// isTestRegistryGap reports problems that come from the test registry
// declaring fewer arguments than the real modules.
func isTestRegistryGap(msg string) bool {
	return strings.HasPrefix(msg, "unknown argument ") || strings.Contains(msg, "takes no arguments")
}

func TestLoadShippedUnknownName(t *testing.T) {
	_, err := LoadShipped("weekly", testRegistry())
	if err == nil {
		t.Fatal("an unknown built-in playbook loaded")
	}
	if !strings.Contains(err.Error(), "daily-inspection") {
		t.Errorf("error %q does not list the built-in playbooks", err)
	}
}

func TestOpenPrefersFile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	local := "- hosts: local\n  tasks:\n    - ping:\n"
	if err := os.WriteFile("daily-inspection.yml", []byte(local), 0o644); err != nil {
		t.Fatal(err)
	}

	pb, err := Open("daily-inspection.yml", testRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if pb.File != "daily-inspection.yml" || pb.Plays[0].Hosts != "local" {
		t.Errorf("opened %s with hosts %q, want the local file", pb.File, pb.Plays[0].Hosts)
	}
}

func TestOpenFallsBackToShipped(t *testing.T) {
	t.Chdir(t.TempDir())
	_, err := Open("monthly-inspection", testRegistry())
	var ve *ValidationError
	if err != nil && !errors.As(err, &ve) {
		t.Fatalf("open built-in playbook: %v", err)
	}
	if ve != nil && ve.File != "playbooks/monthly-inspection.yml" {
		t.Errorf("problems name %s, want playbooks/monthly-inspection.yml", ve.File)
	}
}

func TestOpenMissing(t *testing.T) {
	t.Chdir(t.TempDir())
	_, err := Open("weekly", testRegistry())
	if err == nil || !strings.Contains(err.Error(), "no such file and no built-in playbook") {
		t.Errorf("error = %v", err)
	}
	_, err = Open("sub/daily-inspection.yml", testRegistry())
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing path with a directory gave %v, want a not-exist error", err)
	}
}
