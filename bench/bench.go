// Package bench measures patrol against the floor of what any SSH tool must
// spend (one OpenSSH session per host running the same commands) and against
// Ansible, and patrol's file copy against OpenSSH's sftp and scp, on real
// sshd servers it starts on 127.0.0.1. It is run by
// `make bench` through cmd/patrol-bench and records nothing itself: the
// figures go to stdout and, by hand, to docs/benchmarks.md.
//
// The benchmark runs as root, because each sshd lets root log in with a
// throwaway key. It sends traffic only to 127.0.0.1 and stops every sshd it
// started, by PID.
package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Config is the settings of one benchmark run.
type Config struct {
	// Patrol is the patrol binary to measure.
	Patrol string
	// Hosts are the inventory sizes, such as 50 and 200.
	Hosts []int
	// Reps is how many times each tool runs per size; the median is reported.
	Reps int
	// Forks is the parallelism of all three tools.
	Forks int
	// Ansible runs Ansible too when true.
	Ansible bool
	// Phases adds runs of a one-task playbook (patrol: `command: true`, floor:
	// `true`), which show the cost of connecting apart from the checks.
	Phases bool
	// SessionCost adds, after the runs of each size, a comparison of the
	// server CPU that different ways of running a command over SSH cost.
	SessionCost bool
	// CopyMB is the size in MiB of the file RunCopy copies.
	CopyMB int
	// WorkDir is the directory for keys, configurations and outputs. Empty
	// means a new temporary directory, removed at the end unless Keep is set.
	WorkDir string
	Keep    bool
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// Result is the set of median figures for one inventory size.
type Result struct {
	Hosts   int
	Patrol  Sample
	Floor   Sample
	Ansible *Sample
	// PatrolConnect and FloorConnect are set with Config.Phases.
	PatrolConnect *Sample
	FloorConnect  *Sample
	// SessionCosts are set with Config.SessionCost.
	SessionCosts []SessionCost
}

// Run measures every size in cfg.Hosts. It stops every sshd it started before
// it returns, also when ctx is cancelled.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Reps < 1 {
		return nil, fmt.Errorf("reps is %d: it must be at least 1", cfg.Reps)
	}
	if _, err := os.Stat(cfg.Patrol); err != nil {
		return nil, fmt.Errorf("patrol binary: %w (build it with make build)", err)
	}

	dir, cleanup, err := workDir(&cfg)
	if err != nil {
		return nil, err
	}
	defer cleanup()

	var results []Result
	for _, n := range cfg.Hosts {
		result, err := runSize(ctx, &cfg, filepath.Join(dir, fmt.Sprintf("n%d", n)), n)
		if err != nil {
			return results, fmt.Errorf("%d hosts: %w", n, err)
		}
		results = append(results, result)
	}
	return results, nil
}

// workDir returns cfg.WorkDir, or else a new temporary directory and a
// function that removes it unless cfg.Keep is set.
func workDir(cfg *Config) (string, func(), error) {
	if cfg.WorkDir != "" {
		return cfg.WorkDir, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "patrol-bench-")
	if err != nil {
		return "", nil, err
	}
	if cfg.Keep {
		fmt.Fprintf(cfg.Log, "keeping files in %s\n", dir)
		return dir, func() {}, nil
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// runSize starts n servers and measures every tool cfg.Reps times on them,
// taking turns, so that a slow moment of the machine hits all tools alike.
func runSize(ctx context.Context, cfg *Config, dir string, n int) (Result, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Result{}, err
	}
	fmt.Fprintf(cfg.Log, "starting %d sshd servers on 127.0.0.1\n", n)
	cluster, err := StartCluster(ctx, dir, n)
	if err != nil {
		return Result{}, err
	}
	defer cluster.Stop()

	w, err := WriteWorkload(dir, cluster)
	if err != nil {
		return Result{}, err
	}
	connectPlaybook := filepath.Join(dir, "patrol-connect.yml")
	if err := os.WriteFile(connectPlaybook, []byte(connectPlaybookText), 0o644); err != nil {
		return Result{}, err
	}

	// One unmeasured run of each fast tool loads binaries and files into the
	// page cache and lets every sshd finish its first fork.
	fmt.Fprintf(cfg.Log, "%d hosts: warm-up run of patrol and the floor\n", n)
	if _, err := runPatrol(ctx, cfg, cluster, w, w.PatrolPlaybook, ChecksPerHost, "warmup"); err != nil {
		return Result{}, err
	}
	if _, err := runFloor(ctx, cfg, cluster, w, w.FloorScript); err != nil {
		return Result{}, err
	}

	var patrol, floor, ansible, patrolConnect, floorConnect []Sample
	for rep := 1; rep <= cfg.Reps; rep++ {
		tag := fmt.Sprintf("%d hosts, run %d/%d", n, rep, cfg.Reps)

		r, err := runPatrol(ctx, cfg, cluster, w, w.PatrolPlaybook, ChecksPerHost, fmt.Sprint(rep))
		if err != nil {
			return Result{}, err
		}
		logSample(cfg.Log, tag, ToolPatrol, r.Sample)
		saveOutput(cfg, dir, fmt.Sprintf("patrol-%d", rep), r)
		patrol = append(patrol, r.Sample)

		r, err = runFloor(ctx, cfg, cluster, w, w.FloorScript)
		if err != nil {
			return Result{}, err
		}
		logSample(cfg.Log, tag, ToolFloor, r.Sample)
		saveOutput(cfg, dir, fmt.Sprintf("floor-%d", rep), r)
		floor = append(floor, r.Sample)

		if cfg.Phases {
			r, err = runPatrol(ctx, cfg, cluster, w, connectPlaybook, 1, fmt.Sprintf("connect%d", rep))
			if err != nil {
				return Result{}, err
			}
			logSample(cfg.Log, tag, "patrol, connect and `true`", r.Sample)
			patrolConnect = append(patrolConnect, r.Sample)

			r, err = runFloor(ctx, cfg, cluster, w, "true; echo "+floorDoneMarker)
			if err != nil {
				return Result{}, err
			}
			logSample(cfg.Log, tag, "floor, connect and `true`", r.Sample)
			floorConnect = append(floorConnect, r.Sample)
		}

		if cfg.Ansible {
			r, err = runAnsible(ctx, cluster, w, dir, fmt.Sprint(rep))
			if err != nil {
				return Result{}, err
			}
			logSample(cfg.Log, tag, ToolAnsible, r.Sample)
			saveOutput(cfg, dir, fmt.Sprintf("ansible-%d", rep), r)
			ansible = append(ansible, r.Sample)
		}
	}

	result := Result{Hosts: n, Patrol: median(patrol), Floor: median(floor)}
	if cfg.SessionCost {
		fmt.Fprintf(cfg.Log, "%d hosts: server cost of %d commands per host, run in different ways\n", n, sessionCostCommands)
		result.SessionCosts, err = SessionCosts(ctx, cluster, cfg.Forks, sessionCostCommands)
		if err != nil {
			return Result{}, err
		}
	}
	if cfg.Ansible {
		m := median(ansible)
		result.Ansible = &m
	}
	if cfg.Phases {
		p, f := median(patrolConnect), median(floorConnect)
		result.PatrolConnect, result.FloorConnect = &p, &f
	}
	return result, nil
}

// sessionCostCommands is the number of commands patrol runs per host for the
// ten tasks: check.load and check.log run two each.
const sessionCostCommands = 12

// connectPlaybookText is the one-task playbook of Config.Phases.
const connectPlaybookText = `# Written by patrol-bench: connect and run one command.
- name: connect only
  hosts: all
  tasks:
    - name: true
      command: "true"
`

// saveOutput keeps a run's stdout and stderr in dir when cfg.Keep is set, to
// look at after the benchmark.
func saveOutput(cfg *Config, dir, name string, r run) {
	if !cfg.Keep {
		return
	}
	for suffix, data := range map[string][]byte{".stdout": r.Stdout, ".stderr": r.Stderr} {
		path := filepath.Join(dir, name+suffix)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			fmt.Fprintf(cfg.Log, "keep output: %v\n", err)
		}
	}
}

func logSample(w io.Writer, tag, tool string, s Sample) {
	fmt.Fprintf(w, "%s: %-28s wall %7.2f s  CPU %6.2f s  peak RSS %9s  sshd+remote CPU %6.2f s\n",
		tag, tool, s.Wall.Seconds(), s.CPU().Seconds(), memory(s.MaxRSS), s.ServerCPU.Seconds())
}

func mb(bytes int64) float64 { return float64(bytes) / (1 << 20) }

// msPerHost is the wall time divided by the number of hosts.
func msPerHost(s Sample, hosts int) float64 {
	return float64(s.Wall) / float64(time.Millisecond) / float64(hosts)
}
