package inventory

import (
	"reflect"
	"testing"
)

func TestPrecedence(t *testing.T) {
	inv := mustLoad(t, "testdata/precedence.yml")

	tests := []struct {
		host   string
		user   string
		port   int
		become bool
		vars   map[string]any
	}{
		// child (depth 2) beats parent (depth 1) beats all; host vars beat groups;
		// the host's own port key beats its port variable.
		{"h1", "child-user", 5005, false, map[string]any{"level": "host", "from_all": true, "from_parent": true}},
		{"h2", "child-user", 1001, false, map[string]any{"level": "host", "from_all": true, "from_parent": true}},
		// a and b are unrelated groups at depth 1, so b, later by name, wins. Only a
		// sets user, so a's user applies.
		{"h3", "a-user", 1001, true, map[string]any{"level": "b", "from_all": true}},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			h := inv.Host(tt.host)
			if h.User != tt.user {
				t.Errorf("User = %q, want %q", h.User, tt.user)
			}
			if h.Port != tt.port {
				t.Errorf("Port = %d, want %d", h.Port, tt.port)
			}
			if h.Become != tt.become {
				t.Errorf("Become = %v, want %v", h.Become, tt.become)
			}
			if !reflect.DeepEqual(h.Vars, tt.vars) {
				t.Errorf("Vars = %v, want %v", h.Vars, tt.vars)
			}
		})
	}
}

func TestPrecedenceGroupVarsKeepSettings(t *testing.T) {
	inv := mustLoad(t, "testdata/precedence.yml")

	if got := inv.Group("parent").Vars["user"]; got != "parent-user" {
		t.Errorf("group parent vars user = %v, want parent-user as written", got)
	}
	if got := inv.Vars()["port"]; got != 1001 {
		t.Errorf("top-level vars port = %v, want 1001 as written", got)
	}
	if _, ok := inv.Host("h1").Vars["user"]; ok {
		t.Error("host Vars contains the user setting; settings belong in Host fields")
	}
}

func TestMerge(t *testing.T) {
	inv := mustLoad(t, "testdata/merge-base.yml", "testdata/merge-override.yml")

	if got, want := names(inv.Hosts()), []string{"web1", "db1", "web3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("hosts = %v, want %v", got, want)
	}

	web1 := inv.Host("web1")
	if web1.Address != "127.0.0.1" {
		t.Errorf("web1 address = %q, want 127.0.0.1 kept from the first file", web1.Address)
	}
	if web1.Port != 2202 {
		t.Errorf("web1 port = %d, want 2202 from the second file", web1.Port)
	}
	if web1.User != "ops" {
		t.Errorf("web1 user = %q, want ops from the second file", web1.User)
	}
	if want := map[string]any{"role": "web", "tier": "back", "dns": "127.0.0.53", "ntp": "127.0.0.11"}; !reflect.DeepEqual(web1.Vars, want) {
		t.Errorf("web1 vars = %v, want %v", web1.Vars, want)
	}

	if got := inv.Group("linux").Hosts; !reflect.DeepEqual(got, []string{"web1", "db1"}) {
		t.Errorf("linux hosts = %v, want the union of both files", got)
	}
	if got := inv.Host("db1").Groups; !reflect.DeepEqual(got, []string{"linux"}) {
		t.Errorf("db1 groups = %v, want [linux]", got)
	}
	if !reflect.DeepEqual(inv.Files, []string{"testdata/merge-base.yml", "testdata/merge-override.yml"}) {
		t.Errorf("Files = %v", inv.Files)
	}
}

func TestMergeReversed(t *testing.T) {
	inv := mustLoad(t, "testdata/merge-override.yml", "testdata/merge-base.yml")

	web1 := inv.Host("web1")
	if web1.Port != 2201 || web1.User != "root" || web1.Vars["tier"] != "front" || web1.Vars["ntp"] != "127.0.0.10" {
		t.Errorf("web1 = %+v, want the values of merge-base.yml, loaded last", web1)
	}
	if got, want := names(inv.Hosts()), []string{"web1", "web3", "db1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("hosts = %v, want %v", got, want)
	}
}
