package bench

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func threeServers() *Cluster {
	return &Cluster{Servers: []*Server{{Name: "h001"}, {Name: "h002"}, {Name: "h003"}}}
}

// patrolLines builds `patrol run -o json` output: tasks lines per host.
func patrolLines(hosts []string, tasks int, status string) []byte {
	var b strings.Builder
	for _, h := range hosts {
		for i := range tasks {
			fmt.Fprintf(&b, `{"host":%q,"play":"benchmark inspection","task":"task %d","module":"check.disk","status":%q,"changed":false,"rc":0,"duration_ms":4}`+"\n", h, i, status)
		}
	}
	return []byte(b.String())
}

func TestVerifyPatrol(t *testing.T) {
	all := []string{"h001", "h002", "h003"}
	tests := []struct {
		name    string
		out     run
		wantErr string
	}{
		{"complete run", run{Stdout: patrolLines(all, 10, "ok")}, ""},
		{"failed checks are data", run{Sample: Sample{ExitCode: 1}, Stdout: patrolLines(all, 10, "failed")}, ""},
		{"unreachable host", run{Sample: Sample{ExitCode: 3}, Stdout: patrolLines(all, 10, "unreachable")}, "exited with status 3"},
		{"unreachable line with exit 1", run{Sample: Sample{ExitCode: 1}, Stdout: patrolLines(all, 10, "unreachable")}, "unreachable"},
		{"missing host", run{Stdout: patrolLines(all[:2], 10, "ok")}, "h003: 0 results"},
		{"missing task", run{Stdout: patrolLines(all, 9, "ok")}, "9 results, expected 10"},
		{"not JSON", run{Stdout: []byte("RECAP\n")}, "not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := verifyPatrol(tt.out, threeServers(), 10)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("verifyPatrol: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("verifyPatrol error = %v, expected one containing %q", err, tt.wantErr)
			}
		})
	}
}

// The recorded output is ansible-playbook 2.14 (Debian 12) running the
// benchmark playbook on three hosts.
func TestVerifyAnsibleRecorded(t *testing.T) {
	out, err := os.ReadFile("testdata/ansible-2.14-3-hosts.txt")
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyAnsible(run{Stdout: out}, threeServers()); err != nil {
		t.Errorf("verifyAnsible on a complete run: %v", err)
	}

	failed := strings.Replace(string(out), "unreachable=0    failed=0", "unreachable=0    failed=1", 1)
	if err := verifyAnsible(run{Stdout: []byte(failed)}, threeServers()); err == nil {
		t.Error("verifyAnsible accepted a recap with failed=1")
	}
	short := strings.Replace(string(out), "h002                       : ok=10", "h002                       : ok=7", 1)
	if err := verifyAnsible(run{Stdout: []byte(short)}, threeServers()); err == nil {
		t.Error("verifyAnsible accepted a host with 7 of 10 tasks")
	}
	if err := verifyAnsible(run{Sample: Sample{ExitCode: 4}, Stdout: out}, threeServers()); err == nil {
		t.Error("verifyAnsible accepted exit status 4")
	}
}

func TestMedianOddAndEven(t *testing.T) {
	s := func(wall, user, sys time.Duration, rss int64) Sample {
		return Sample{Wall: wall, User: user, Sys: sys, MaxRSS: rss}
	}
	odd := median([]Sample{
		s(3*time.Second, 1*time.Second, 0, 30),
		s(1*time.Second, 3*time.Second, 1*time.Second, 10),
		s(2*time.Second, 2*time.Second, 0, 20),
	})
	if odd.Wall != 2*time.Second {
		t.Errorf("odd Wall = %v, expected 2s", odd.Wall)
	}
	if odd.CPU() != 2*time.Second {
		t.Errorf("odd CPU = %v, expected 2s (the middle of 1s, 2s and 4s)", odd.CPU())
	}
	if odd.MaxRSS != 20 {
		t.Errorf("odd MaxRSS = %d, expected 20", odd.MaxRSS)
	}

	even := median([]Sample{
		s(1*time.Second, 1*time.Second, 0, 10),
		s(3*time.Second, 3*time.Second, 0, 30),
	})
	if even.Wall != 2*time.Second {
		t.Errorf("even Wall = %v, expected 2s", even.Wall)
	}
	if even.CPU() != 2*time.Second {
		t.Errorf("even CPU = %v, expected 2s", even.CPU())
	}
}

func TestTargets(t *testing.T) {
	ansible := Sample{Wall: 40 * time.Second}
	results := []Result{
		{Hosts: 50, Patrol: Sample{Wall: 1400 * time.Millisecond, MaxRSS: 30 << 20}, Floor: Sample{Wall: time.Second}, Ansible: &ansible},
		{Hosts: 200, Patrol: Sample{Wall: 8 * time.Second, MaxRSS: 160 << 20}, Floor: Sample{Wall: 4 * time.Second}},
	}
	targets := Targets(results)
	if len(targets) != 5 {
		t.Fatalf("got %d targets, expected 5: %+v", len(targets), targets)
	}
	expect := []struct {
		pass, missing bool
	}{
		{true, false},  // 1.4× the floor at 50
		{true, false},  // Ansible 28.6× slower at 50
		{false, false}, // 2× the floor at 200
		{false, true},  // Ansible not measured at 200
		{false, false}, // 160 MB at 200
	}
	for i, e := range expect {
		if targets[i].Pass != e.pass || targets[i].Missing != e.missing {
			t.Errorf("target %q: pass=%v missing=%v, expected pass=%v missing=%v",
				targets[i].Name, targets[i].Pass, targets[i].Missing, e.pass, e.missing)
		}
	}
}

func TestProbeCommandsCount(t *testing.T) {
	if n := len(probeCommands("/data")); n != ChecksPerHost {
		t.Errorf("probeCommands returns %d commands, expected %d", n, ChecksPerHost)
	}
	if n := strings.Count(patrolPlaybook("/data"), "\n    - name: "); n != ChecksPerHost {
		t.Errorf("patrol playbook has %d tasks, expected %d", n, ChecksPerHost)
	}
}
