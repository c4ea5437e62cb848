package inventory

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseOSRelease(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"centos7", "centos7"},
		{"debian12", "debian"},
		{"ubuntu2204", "ubuntu"},
		{"rhel7", "rhel7"},
		{"oracle-linux7", "oracle-linux7"},
		{"kylin-v10", "kylin"},
		{"fedora39", ""}, // not an OS patrol manages
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile("testdata/os-release/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if got := ParseOSRelease(data); got != tt.want {
				t.Errorf("ParseOSRelease = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseRedHatRelease(t *testing.T) {
	data, err := os.ReadFile("testdata/os-release/centos6-redhat-release")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in, want string
	}{
		{string(data), "centos6"},
		{"Red Hat Enterprise Linux Server release 6.10 (Santiago)\n", "rhel6"},
		{"CentOS Linux release 7.9.2009 (Core)\n", "centos7"},
		{"Fedora release 39 (Thirty Nine)\n", ""},
	}
	for _, tt := range tests {
		if got := ParseRedHatRelease([]byte(tt.in)); got != tt.want {
			t.Errorf("ParseRedHatRelease(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestLocal checks the default inventory against this machine.
func TestLocal(t *testing.T) {
	hostname, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	release, err := os.ReadFile("/etc/os-release")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("read /etc/os-release: %v", err)
		}
		t.Skipf("no /etc/os-release on this machine: %v", err)
	}

	inv := Local()
	hosts := inv.Hosts()
	if len(hosts) != 1 {
		t.Fatalf("Local() has %d hosts, want 1", len(hosts))
	}
	h := hosts[0]
	if h.Name != hostname {
		t.Errorf("Name = %q, want %q", h.Name, hostname)
	}
	if h.Connection != ConnLocal {
		t.Errorf("Connection = %q, want local", h.Connection)
	}
	if want := ParseOSRelease(release); h.OS != want {
		t.Errorf("OS = %q, want %q from /etc/os-release", h.OS, want)
	}
	if strings.Contains(string(release), "ID=debian") && h.OS != "debian" {
		t.Errorf("OS = %q on a Debian machine", h.OS)
	}
	if !reflect.DeepEqual(h.Groups, []string{LocalGroup}) {
		t.Errorf("Groups = %v, want [local]", h.Groups)
	}

	selected, err := inv.Select("local")
	if err != nil || len(selected) != 1 || selected[0] != h {
		t.Errorf("Select(local) = %v, %v", names(selected), err)
	}
	if inv.Group(LocalGroup) == nil {
		t.Error("group local missing")
	}
	if inv.SHA256() != "" || len(inv.Files) != 0 {
		t.Errorf("Local() has files %v and digest %q, want none", inv.Files, inv.SHA256())
	}
}

func TestResolve(t *testing.T) {
	list := "testdata/merge-base.yml" + string(os.PathListSeparator) + "testdata/merge-override.yml"

	t.Run("flags win over env", func(t *testing.T) {
		t.Setenv("PATROL_INVENTORY", list)
		inv, source, err := Resolve([]string{"testdata/minimal.yml"})
		if err != nil {
			t.Fatal(err)
		}
		if source != SourceFlag || !reflect.DeepEqual(inv.Files, []string{"testdata/minimal.yml"}) {
			t.Errorf("source %q files %v, want -i with minimal.yml", source, inv.Files)
		}
	})

	t.Run("env list", func(t *testing.T) {
		t.Setenv("PATROL_INVENTORY", list)
		inv, source, err := Resolve(nil)
		if err != nil {
			t.Fatal(err)
		}
		if source != SourceEnv || len(inv.Files) != 2 || inv.Host("web3") == nil {
			t.Errorf("source %q files %v, want both files from PATROL_INVENTORY", source, inv.Files)
		}
	})

	t.Run("local", func(t *testing.T) {
		t.Setenv("PATROL_INVENTORY", "")
		inv, source, err := Resolve([]string{""})
		if err != nil {
			t.Fatal(err)
		}
		if source != SourceLocal || len(inv.Hosts()) != 1 || inv.Hosts()[0].Connection != ConnLocal {
			t.Errorf("source %q hosts %v, want the local machine", source, names(inv.Hosts()))
		}
	})

	t.Run("invalid file", func(t *testing.T) {
		inv, source, err := Resolve([]string{"testdata/invalid/bad-port.yml"})
		if err == nil || inv != nil || source != SourceFlag {
			t.Errorf("Resolve = %v, %q, %v; want an error from -i", inv, source, err)
		}
	})
}
