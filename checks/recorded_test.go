package checks

import (
	"strings"
	"testing"

	"patrol/module"
)

// Tests on output that other projects recorded on real hosts and committed as
// their own test data. testdata/README.md names the source of each public-* file.

func TestParseYumCheckUpdatePublicRecordings(t *testing.T) {
	tests := []struct {
		file      string
		wantCount int
		// want lists packages that must appear, at their index in the result.
		want map[int]PendingPackage
		// absent lists names that only appear in the Obsoleting Packages section.
		absent []string
	}{
		{
			// CentOS 7.1: 177 one-line rows, one name alone on its line, then an
			// Obsoleting Packages section without a blank line before it.
			file:      "public-centos7-yum-check-update-obsoletes.txt",
			wantCount: 178,
			want: map[int]PendingPackage{
				0:   {Name: "NetworkManager", Arch: "x86_64", Version: "1:1.0.0-14.git20150121.b4ea599c.el7", Repo: "base"},
				30:  {Name: "device-mapper-persistent-data", Arch: "x86_64", Version: "0.4.1-2.el7", Repo: "base"},
				58:  {Name: "hwdata", Arch: "noarch", Version: "0.252-7.5.el7", Repo: "base"},
				59:  {Name: "hwdata", Arch: "x86_64", Version: "0.252-7.8.el7_1", Repo: "updates"},
				177: {Name: "yum-plugin-fastestmirror", Arch: "noarch", Version: "1.1.31-29.el7", Repo: "base"},
			},
			absent: []string{"NetworkManager-adsl", "NetworkManager-bluetooth", "NetworkManager-team", "NetworkManager-wifi", "NetworkManager-wwan"},
		},
		{
			// CentOS 6.5: rows padded with trailing spaces, mirror lines, and one
			// row whose repository moved alone to the next line.
			file:      "public-centos6-yum-check-update-multiline.txt",
			wantCount: 194,
			want: map[int]PendingPackage{
				0:   {Name: "abrt", Arch: "x86_64", Version: "2.0.8-21.el6.centos", Repo: "base"},
				45:  {Name: "facter", Arch: "x86_64", Version: "1:2.0.2-1.el6", Repo: "puppetlabs-products"},
				88:  {Name: "libpcap", Arch: "x86_64", Version: "14:1.4.0-1.20130826git2dbcaa1.el6", Repo: "base"},
				89:  {Name: "libproxy", Arch: "x86_64", Version: "0.3.0-4.el6_3", Repo: "base"},
				193: {Name: "yum-utils", Arch: "noarch", Version: "1.1.30-17.el6_5", Repo: "updates"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			pkgs := ParseYumCheckUpdate(readTestdata(t, tt.file))
			if len(pkgs) != tt.wantCount {
				t.Fatalf("got %d packages, want %d", len(pkgs), tt.wantCount)
			}
			for i, want := range tt.want {
				if pkgs[i] != want {
					t.Errorf("package %d = %+v, want %+v", i, pkgs[i], want)
				}
			}

			seen := map[string]int{}
			for _, p := range pkgs {
				seen[p.Name+"."+p.Arch]++
				if strings.HasPrefix(p.Repo, "@") || p.Repo == "" || p.Version == "" {
					t.Errorf("package %+v has an installed-repo marker or a missing field", p)
				}
			}
			for key, n := range seen {
				if n > 1 {
					t.Errorf("%s listed %d times", key, n)
				}
			}
			for _, name := range tt.absent {
				if seen[name+".x86_64"] > 0 {
					t.Errorf("%s from the Obsoleting Packages section was counted", name)
				}
			}
		})
	}
}

// yum check-update exits with 100 when it lists updates; the recorded CentOS 7
// listing must then count every package above the Obsoleting Packages section.
func TestYumReportPublicCentOS7(t *testing.T) {
	out := probeOutput{Stdout: readTestdata(t, "public-centos7-yum-check-update-obsoletes.txt"), ExitCode: 100}
	report, failed := yumReport("yum", out, nil)
	if failed != nil {
		t.Fatalf("got error finding %+v", failed)
	}
	if len(report.Packages) != 178 {
		t.Errorf("got %d packages, want 178", len(report.Packages))
	}
}

func TestParseSystemctlShowPublicRecordings(t *testing.T) {
	tests := []struct {
		file string
		want UnitState
	}{
		{
			// A timer: type-specific properties (Unit=, TimersCalendar=) come
			// before Id=, and values contain further "=" signs.
			file: "public-ubuntu2004-systemctl-show-all-timer.txt",
			want: UnitState{ID: "logrotate.timer", LoadState: "loaded", ActiveState: "active", SubState: "waiting", UnitFileState: "enabled", Description: "Daily rotation of log files"},
		},
		{
			// A service: ExecStart={ … ; argv[]=… ; … } lines and no final newline.
			file: "public-ubuntu-systemctl-show-all-docker.txt",
			want: UnitState{ID: "docker.service", LoadState: "loaded", ActiveState: "active", SubState: "running", UnitFileState: "enabled", Description: "Docker Application Container Engine"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			states := ParseSystemctlShow(readTestdata(t, tt.file))
			if len(states) != 1 {
				t.Fatalf("got %d units, want 1", len(states))
			}
			if states[0] != tt.want {
				t.Errorf("state = %+v, want %+v", states[0], tt.want)
			}
		})
	}
}

// systemctl show separates the blocks of several units with one blank line.
// No recording of a multi-unit call was found, so this joins the two recorded
// blocks that way. constructed-systemctl-show.txt still covers not-found units.
func TestParseSystemctlShowPublicBlocksJoined(t *testing.T) {
	timer := strings.TrimRight(string(readTestdata(t, "public-ubuntu2004-systemctl-show-all-timer.txt")), "\n")
	docker := string(readTestdata(t, "public-ubuntu-systemctl-show-all-docker.txt"))
	states := ParseSystemctlShow([]byte(docker + "\n\n" + timer + "\n"))
	if len(states) != 2 {
		t.Fatalf("got %d units, want 2", len(states))
	}
	if states[0].ID != "docker.service" || states[0].SubState != "running" {
		t.Errorf("first unit = %+v, want docker.service running", states[0])
	}
	if states[1].ID != "logrotate.timer" || states[1].SubState != "waiting" {
		t.Errorf("second unit = %+v, want logrotate.timer waiting", states[1])
	}

	findings := evaluateUnits([]string{"docker", "logrotate.timer"}, states, true)
	for _, f := range findings {
		if f.Status != module.StatusOK {
			t.Errorf("%s = %s, want ok", f.Item, f.Status)
		}
	}
}
