package bench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// requireRoot fails the test under CI, and skips it elsewhere, when the
// benchmark cannot start its sshd servers.
func requireRoot(t *testing.T) {
	t.Helper()
	var problem string
	switch {
	case testing.Short():
		t.Skip("starts sshd servers and runs patrol; skipped with -short")
	case os.Geteuid() != 0:
		problem = "the benchmark must run as root"
	default:
		if _, err := os.Stat(SSHDPath); err != nil {
			problem = SSHDPath + " not found (install openssh-server)"
		} else if _, err := exec.LookPath("ssh"); err != nil {
			problem = "ssh not found (install openssh-client)"
		}
	}
	if problem == "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal(problem)
	}
	t.Skip(problem)
}

// TestRunThreeHosts runs the whole benchmark at its smallest: three hosts,
// one repetition, no Ansible. It checks that every tool did its work, not how
// fast.
func TestRunThreeHosts(t *testing.T) {
	requireRoot(t)
	patrol := filepath.Join(t.TempDir(), "patrol")
	build := exec.Command("go", "build", "-o", patrol, "patrol/cmd/patrol")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build patrol: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var log strings.Builder
	results, err := Run(ctx, Config{Patrol: patrol, Hosts: []int{3}, Reps: 1, Forks: 50, Phases: true, SessionCost: true, Log: &log})
	if err != nil {
		t.Fatalf("Run: %v\nlog:\n%s", err, log.String())
	}

	if len(results) != 1 {
		t.Fatalf("got %d results, expected 1", len(results))
	}
	r := results[0]
	if r.Hosts != 3 {
		t.Errorf("Hosts = %d, expected 3", r.Hosts)
	}
	for name, s := range map[string]Sample{"patrol": r.Patrol, "floor": r.Floor, "patrol connect": *r.PatrolConnect, "floor connect": *r.FloorConnect} {
		if s.Wall <= 0 {
			t.Errorf("%s: wall time %v, expected a positive time", name, s.Wall)
		}
		if s.ServerCPU <= 0 {
			t.Errorf("%s: sshd CPU %v, expected a positive time (did the runs reach the servers?)", name, s.ServerCPU)
		}
		if HaveGNUTime() && s.MaxRSS <= 0 {
			t.Errorf("%s: peak memory %d, expected a positive size", name, s.MaxRSS)
		}
	}
	if r.Ansible != nil {
		t.Error("Ansible was measured although Config.Ansible is false")
	}
	if len(r.SessionCosts) != len(sessionWays)+2 {
		t.Errorf("got %d session costs, expected %d", len(r.SessionCosts), len(sessionWays)+2)
	}
	for _, c := range r.SessionCosts {
		if c.ServerCPU <= 0 {
			t.Errorf("session cost %q: server CPU %v, expected a positive time", c.Way, c.ServerCPU)
		}
	}

	var report strings.Builder
	WriteReport(&report, results, 1)
	for _, want := range []string{"### 3 hosts", "| patrol |", "| floor (xargs -P ssh) |", "patrol / floor wall:", "| " + persistentWay + " |"} {
		if !strings.Contains(report.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, report.String())
		}
	}
}

// TestClusterStop checks that Stop ends every sshd the cluster started.
func TestClusterStop(t *testing.T) {
	requireRoot(t)
	c, err := StartCluster(context.Background(), t.TempDir(), 2)
	if err != nil {
		t.Fatal(err)
	}
	pids := c.PIDs()
	if len(pids) != 2 {
		c.Stop()
		t.Fatalf("got %d sshd PIDs, expected 2", len(pids))
	}
	knownHosts, err := os.ReadFile(c.KnownHostsPath)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(knownHosts), "\n"); lines != 2 {
		t.Errorf("known_hosts has %d lines, expected 2", lines)
	}

	c.Stop()
	for _, pid := range pids {
		if processAlive(pid) {
			t.Errorf("sshd %d still runs after Stop", pid)
		}
	}
	if left := c.PIDs(); len(left) != 0 {
		t.Errorf("PIDs after Stop = %v, expected none", left)
	}
}

// TestRunCopySmall copies a 4 MiB file with every copy tool once. It checks
// that each one copied the file (RunCopy verifies the checksum) and that the
// report lists them, not how fast they were.
func TestRunCopySmall(t *testing.T) {
	requireRoot(t)
	for _, tool := range []string{"sftp", "scp"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: install openssh-client", tool)
		}
	}
	patrol := filepath.Join(t.TempDir(), "patrol")
	build := exec.Command("go", "build", "-o", patrol, "patrol/cmd/patrol")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build patrol: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var log strings.Builder
	result, err := RunCopy(ctx, Config{Patrol: patrol, Reps: 1, CopyMB: 4, WorkDir: t.TempDir(), Log: &log})
	if err != nil {
		t.Fatalf("RunCopy: %v\nlog:\n%s", err, log.String())
	}

	if result.Bytes != 4<<20 {
		t.Errorf("Bytes = %d, expected %d", result.Bytes, 4<<20)
	}
	want := []string{CopyToolPatrol, CopyToolSFTP, CopyToolSCP, CopyToolSCPLegacy}
	if len(result.Tools) != len(want) {
		t.Fatalf("got %d tools, expected %d", len(result.Tools), len(want))
	}
	var report strings.Builder
	WriteCopyReport(&report, result, 1)
	for i, tool := range result.Tools {
		if tool.Tool != want[i] {
			t.Errorf("tool %d is %q, expected %q", i, tool.Tool, want[i])
		}
		if tool.Wall <= 0 {
			t.Errorf("%s: wall time %v, expected a positive time", tool.Tool, tool.Wall)
		}
		if tool.ServerCPU <= 0 {
			t.Errorf("%s: sshd CPU %v, expected a positive time (did the copy reach the server?)", tool.Tool, tool.ServerCPU)
		}
		if !strings.Contains(report.String(), "| "+tool.Tool+" |") {
			t.Errorf("report lacks a row for %s:\n%s", tool.Tool, report.String())
		}
	}
}
