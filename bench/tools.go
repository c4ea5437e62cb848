package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Tool names, as printed.
const (
	ToolPatrol  = "patrol"
	ToolFloor   = "floor"
	ToolAnsible = "ansible"
)

// toolEnv is the environment of every measured tool: the benchmark's own,
// without an ssh-agent, so each tool logs in with the client key alone.
func toolEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "SSH_AUTH_SOCK=") || strings.HasPrefix(kv, "PATROL_") || strings.HasPrefix(kv, "ANSIBLE_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// runPatrol runs `patrol run` once with a fresh PATROL_HOME that holds only
// the servers' known_hosts, so check.log reads the whole log every time and
// no host key is ever accepted during the run.
func runPatrol(ctx context.Context, cfg *Config, c *Cluster, w *Workload, playbook string, tasks int, rep string) (run, error) {
	home := filepath.Join(filepath.Dir(w.DataDir), "patrol-home-"+rep)
	if err := os.MkdirAll(home, 0o700); err != nil {
		return run{}, fmt.Errorf("create PATROL_HOME %s: %w", home, err)
	}
	knownHosts, err := os.ReadFile(c.KnownHostsPath)
	if err != nil {
		return run{}, fmt.Errorf("read %s: %w", c.KnownHostsPath, err)
	}
	if err := os.WriteFile(filepath.Join(home, "known_hosts"), knownHosts, 0o600); err != nil {
		return run{}, fmt.Errorf("write patrol known_hosts: %w", err)
	}

	argv := []string{cfg.Patrol, "run", playbook, "-i", w.PatrolInventory, "--forks", strconv.Itoa(cfg.Forks), "-o", "json"}
	r, err := measure(ctx, argv, toolEnv("PATROL_HOME="+home, "PATROL_LANG=en"), c, nil)
	if err != nil {
		return r, err
	}
	return r, verifyPatrol(r, c, tasks)
}

// patrolResult is the part of a `patrol run -o json` line the benchmark reads.
type patrolResult struct {
	Host   string `json:"host"`
	Status string `json:"status"`
	Error  string `json:"error"`
}

// verifyPatrol checks that patrol exited with 0 or 1 (checks may fail on
// these hosts) and printed tasks results for every host, none unreachable.
func verifyPatrol(r run, c *Cluster, tasks int) error {
	if r.ExitCode != 0 && r.ExitCode != 1 {
		return fmt.Errorf("patrol exited with status %d (expected 0 or 1); stderr:\n%s", r.ExitCode, tail(r.Stderr))
	}
	counts := map[string]int{}
	scanner := bufio.NewScanner(bytes.NewReader(r.Stdout))
	scanner.Buffer(make([]byte, 1<<20), 16<<20)
	for scanner.Scan() {
		var res patrolResult
		if err := json.Unmarshal(scanner.Bytes(), &res); err != nil {
			return fmt.Errorf("patrol printed a line that is not JSON: %q", firstN(scanner.Text(), 200))
		}
		if res.Status == "unreachable" {
			return fmt.Errorf("patrol reports host %s unreachable: %s", res.Host, res.Error)
		}
		counts[res.Host]++
	}
	return checkCounts(ToolPatrol, c, counts, tasks)
}

// runFloor runs the floor once: xargs starting one ssh session per host.
func runFloor(ctx context.Context, cfg *Config, c *Cluster, w *Workload, script string) (run, error) {
	argv := FloorArgs(w, c, cfg.Forks)
	argv[len(argv)-1] = script
	r, err := measure(ctx, argv, toolEnv(), c, nil)
	if err != nil {
		return r, err
	}
	if r.ExitCode != 0 {
		return r, fmt.Errorf("floor (xargs ssh) exited with status %d; stderr:\n%s", r.ExitCode, tail(r.Stderr))
	}
	if n := bytes.Count(r.Stdout, []byte(floorDoneMarker+"\n")); n != len(c.Servers) {
		return r, fmt.Errorf("floor finished its script on %d of %d hosts; stderr:\n%s", n, len(c.Servers), tail(r.Stderr))
	}
	return r, nil
}

// AnsibleAvailable reports whether ansible-playbook is on PATH.
func AnsibleAvailable() bool {
	_, err := exec.LookPath("ansible-playbook")
	return err == nil
}

// runAnsible runs ansible-playbook once, then closes the ssh ControlMaster
// processes it left behind and adds their CPU time, which Ansible's own
// rusage misses because they detach from it.
func runAnsible(ctx context.Context, c *Cluster, w *Workload, dir, rep string) (run, error) {
	controlDir := filepath.Join(dir, "ansible-cp")
	if err := os.RemoveAll(controlDir); err != nil {
		return run{}, fmt.Errorf("clear %s: %w", controlDir, err)
	}
	if err := os.MkdirAll(controlDir, 0o700); err != nil {
		return run{}, fmt.Errorf("create %s: %w", controlDir, err)
	}

	argv := []string{"ansible-playbook", "-i", w.AnsibleInventory, w.AnsiblePlaybook}
	env := toolEnv("ANSIBLE_CONFIG="+w.AnsibleConfig, "ANSIBLE_HOME="+filepath.Join(dir, "ansible-home-"+rep))
	r, err := measure(ctx, argv, env, c, func() (detachedUsage, error) { return closeControlMasters(controlDir) })
	if err != nil {
		return r, err
	}
	return r, verifyAnsible(r, c)
}

var masterPID = regexp.MustCompile(`pid=(\d+)`)

// closeControlMasters queries every ControlMaster with a socket in dir for
// its PID, reads its CPU time and peak memory, tells it to exit and waits until
// it has. Only masters of this benchmark's own control directory are touched.
func closeControlMasters(dir string) (detachedUsage, error) {
	var total detachedUsage
	sockets, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		return total, err
	}
	var pids []int
	for _, socket := range sockets {
		out, _ := exec.Command("ssh", "-F", "none", "-o", "ControlPath="+socket, "-O", "check", "bench").CombinedOutput()
		m := masterPID.FindSubmatch(out)
		if m == nil {
			continue
		}
		pid, _ := strconv.Atoi(string(m[1]))
		usage, err := processUsage(pid)
		if err == nil {
			total.CPU += usage.CPU
			total.MaxRSS = max(total.MaxRSS, usage.MaxRSS)
		}
		exec.Command("ssh", "-F", "none", "-o", "ControlPath="+socket, "-O", "exit", "bench").Run()
		pids = append(pids, pid)
	}

	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for processAlive(pid) {
			if time.Now().After(deadline) {
				return total, fmt.Errorf("ssh ControlMaster %d did not exit after `ssh -O exit`", pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return total, nil
}

// processAlive reports whether pid still runs (a zombie counts as ended).
func processAlive(pid int) bool {
	fields, err := procStat(pid)
	return err == nil && len(fields) > 3 && fields[3] != "Z"
}

// ansibleRecap matches a PLAY RECAP line of Ansible's default output.
var ansibleRecap = regexp.MustCompile(`(?m)^(\S+)\s+:\s+ok=(\d+)\s+changed=\d+\s+unreachable=(\d+)\s+failed=(\d+)`)

// verifyAnsible checks the PLAY RECAP: every host ran all tasks, none was
// unreachable or failed.
func verifyAnsible(r run, c *Cluster) error {
	if r.ExitCode != 0 {
		return fmt.Errorf("ansible-playbook exited with status %d; output:\n%s", r.ExitCode, tail(append(r.Stdout, r.Stderr...)))
	}
	counts := map[string]int{}
	for _, m := range ansibleRecap.FindAllStringSubmatch(string(r.Stdout), -1) {
		if m[3] != "0" || m[4] != "0" {
			return fmt.Errorf("ansible reports host %s unreachable=%s failed=%s", m[1], m[3], m[4])
		}
		counts[m[1]], _ = strconv.Atoi(m[2])
	}
	return checkCounts(ToolAnsible, c, counts, ChecksPerHost)
}

// checkCounts requires want results for every server and no other host.
func checkCounts(tool string, c *Cluster, counts map[string]int, want int) error {
	var problems []string
	for _, s := range c.Servers {
		if got := counts[s.Name]; got != want {
			problems = append(problems, fmt.Sprintf("%s: %d results, expected %d", s.Name, got, want))
		}
	}
	if len(counts) != len(c.Servers) {
		problems = append(problems, fmt.Sprintf("results for %d hosts, expected %d", len(counts), len(c.Servers)))
	}
	if len(problems) > 5 {
		problems = append(problems[:5], fmt.Sprintf("and %d more", len(problems)-5))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s did not do the whole run: %s", tool, strings.Join(problems, "; "))
	}
	return nil
}

func tail(b []byte) string {
	const keep = 2000
	if len(b) > keep {
		b = b[len(b)-keep:]
	}
	return string(b)
}

func firstN(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
