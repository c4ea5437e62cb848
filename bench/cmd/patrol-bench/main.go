// Command patrol-bench measures patrol's speed and memory against one OpenSSH
// session per host (the floor) and against Ansible, and patrol's file copy
// against OpenSSH's sftp and scp, on real sshd servers it starts on
// 127.0.0.1. `make bench` runs it; docs/benchmarks.md records the figures.
// It must run as root.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"patrol/bench"
)

func main() {
	os.Exit(run())
}

func run() int {
	cfg := bench.Config{Log: os.Stderr}
	var hosts, ansible, only string
	flag.StringVar(&cfg.Patrol, "patrol", "bin/patrol", "patrol binary to measure")
	flag.StringVar(&hosts, "hosts", "50,200", "comma-separated inventory sizes; each gets its own set of sshd servers")
	flag.IntVar(&cfg.Reps, "reps", 3, "runs of each tool per size, and of each copy tool; the median is reported")
	flag.IntVar(&cfg.Forks, "forks", 50, "hosts worked on at once, for every tool")
	flag.StringVar(&ansible, "ansible", "auto", "measure Ansible: auto (when ansible-playbook is installed), on or off")
	flag.BoolVar(&cfg.Phases, "phases", false, "also measure a one-command run of patrol and the floor, to separate connecting from the checks")
	flag.BoolVar(&cfg.SessionCost, "session-cost", false, "also compare the server CPU of running a command in a new SSH session (as patrol does) with other ways")
	flag.IntVar(&cfg.CopyMB, "copy-mb", 300, "size in MiB of the file copied with patrol, sftp and scp")
	flag.StringVar(&only, "only", "", "run only one part: inspect (the inventory sizes) or copy (the file copy); default: both")
	flag.StringVar(&cfg.WorkDir, "workdir", "", "directory for keys, configurations and outputs (default: a temporary directory, removed at the end)")
	flag.BoolVar(&cfg.Keep, "keep", false, "keep the temporary directory, to look at the generated inventories and playbooks")
	flag.Parse()

	sizes, err := parseSizes(hosts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "patrol-bench: %v\n", err)
		return 2
	}
	cfg.Hosts = sizes
	inspect, copyFile := only != "copy", only != "inspect"
	if only != "" && only != "copy" && only != "inspect" {
		fmt.Fprintf(os.Stderr, "patrol-bench: invalid -only %q: use inspect or copy\n", only)
		return 2
	}
	if copyFile && cfg.CopyMB < 1 {
		fmt.Fprintf(os.Stderr, "patrol-bench: invalid -copy-mb %d: use a size of at least 1 MiB\n", cfg.CopyMB)
		return 2
	}
	switch ansible {
	case "auto":
		if !inspect {
			break
		}
		cfg.Ansible = bench.AnsibleAvailable()
		if !cfg.Ansible {
			fmt.Fprintln(os.Stderr, "patrol-bench: ansible-playbook not found, Ansible is not measured (apt-get install ansible to include it)")
		}
	case "on":
		if !bench.AnsibleAvailable() {
			fmt.Fprintln(os.Stderr, "patrol-bench: -ansible on, but ansible-playbook is not on PATH")
			return 2
		}
		cfg.Ansible = true
	case "off":
	default:
		fmt.Fprintf(os.Stderr, "patrol-bench: invalid -ansible %q: use auto, on or off\n", ansible)
		return 2
	}

	if !bench.HaveGNUTime() {
		fmt.Fprintln(os.Stderr, "patrol-bench: GNU time (/usr/bin/time) not found, peak memory is not measured (apt-get install time to include it)")
	}

	// Ctrl-C or SIGTERM cancels the run; Run still stops every sshd it started.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	start := time.Now()
	if inspect {
		results, err := bench.Run(ctx, cfg)
		if len(results) > 0 {
			fmt.Println()
			bench.WriteReport(os.Stdout, results, cfg.Reps)
		}
		if err != nil {
			return fail(ctx, err)
		}
	}
	if copyFile {
		result, err := bench.RunCopy(ctx, cfg)
		if err != nil {
			return fail(ctx, err)
		}
		fmt.Println()
		bench.WriteCopyReport(os.Stdout, result, cfg.Reps)
	}
	fmt.Fprintf(os.Stderr, "benchmark took %s\n", time.Since(start).Round(time.Second))
	return 0
}

// fail prints err and returns the exit status: 130 after Ctrl-C or SIGTERM,
// 1 otherwise.
func fail(ctx context.Context, err error) int {
	fmt.Fprintf(os.Stderr, "patrol-bench: %v\n", err)
	if ctx.Err() != nil {
		return 130
	}
	return 1
}

func parseSizes(text string) ([]int, error) {
	var sizes []int
	for _, field := range strings.Split(text, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("invalid -hosts %q: use positive numbers separated by commas, such as 50,200", text)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}
