package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Sample is one measured run of a tool.
type Sample struct {
	// Wall is the time from starting the tool to its exit.
	Wall time.Duration
	// User and Sys are the CPU times of the tool and every descendant it
	// waited for (rusage of the child), plus those of Ansible's ssh
	// ControlMaster processes, which detach from Ansible.
	User time.Duration
	Sys  time.Duration
	// MaxRSS is the largest resident set of any one of those processes in
	// bytes: for patrol its own peak, for the floor and Ansible the largest
	// single process, not their sum. It is -1 when GNU time is missing.
	MaxRSS int64
	// ServerCPU is the CPU time of the sshd servers and of the remote
	// commands they ran during the run.
	ServerCPU time.Duration
	// ExitCode is the tool's exit status.
	ExitCode int
}

// CPU returns the tool's user plus system time.
func (s Sample) CPU() time.Duration { return s.User + s.Sys }

// run is a finished tool run: its figures and its output.
type run struct {
	Sample
	Stdout []byte
	Stderr []byte
}

// detachedUsage is CPU time and peak memory of processes the tool left
// running, which its rusage does not include.
type detachedUsage struct {
	CPU    time.Duration
	MaxRSS int64
}

// gnuTime is GNU time, which reports the peak resident set of the one
// process it starts. The rusage the benchmark gets from wait4 cannot: Go
// starts children with vfork, and Linux counts the parent's peak resident
// set into the child's ru_maxrss at exec.
const gnuTime = "/usr/bin/time"

// HaveGNUTime reports whether gnuTime is GNU time, which measure needs to
// report peak memory. It runs `time --version` once per process.
var HaveGNUTime = sync.OnceValue(func() bool {
	out, err := exec.Command(gnuTime, "--version").CombinedOutput()
	return err == nil && bytes.Contains(out, []byte("GNU"))
})

// measure runs argv and returns its figures. afterExit, when set, runs after
// the tool exits and before the server CPU is read, to end processes the tool
// left behind and account for them.
func measure(ctx context.Context, argv, env []string, cluster *Cluster, afterExit func() (detachedUsage, error)) (run, error) {
	rssFile, err := os.CreateTemp("", "patrol-bench-rss-")
	if err != nil {
		return run{}, err
	}
	rssFile.Close()
	defer os.Remove(rssFile.Name())
	tool := argv[0]
	withTime := HaveGNUTime()
	if withTime {
		argv = append([]string{gnuTime, "-f", "%M", "-o", rssFile.Name()}, argv...)
	}

	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	pids := cluster.PIDs()
	serverBefore := serverCPU(pids)

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return run{}, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	err = cmd.Wait()
	wall := time.Since(start)
	if ctx.Err() != nil {
		return run{}, fmt.Errorf("%s stopped: %w", tool, ctx.Err())
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return run{}, fmt.Errorf("run %s: %w", cmd.Path, err)
	}

	state := cmd.ProcessState
	usage := state.SysUsage().(*syscall.Rusage)
	r := run{
		Sample: Sample{
			Wall:     wall,
			User:     time.Duration(usage.Utime.Nano()),
			Sys:      time.Duration(usage.Stime.Nano()),
			MaxRSS:   -1,
			ExitCode: state.ExitCode(),
		},
		Stdout: stdout.Bytes(),
		Stderr: stderr.Bytes(),
	}
	if withTime {
		r.MaxRSS, err = readMaxRSS(rssFile.Name())
		if err != nil {
			return r, err
		}
	}

	if afterExit != nil {
		detached, err := afterExit()
		if err != nil {
			return r, err
		}
		r.User += detached.CPU
		if r.MaxRSS >= 0 {
			r.MaxRSS = max(r.MaxRSS, detached.MaxRSS)
		}
	}

	waitServersIdle(ctx, pids, 10*time.Second)
	r.ServerCPU = serverCPU(pids) - serverBefore
	return r, ctx.Err()
}

// readMaxRSS reads the kilobytes GNU time wrote with -f %M. A line before it
// ("Command exited with non-zero status 1") is skipped.
func readMaxRSS(path string) (int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read GNU time output: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	kb, err := strconv.ParseInt(strings.TrimSpace(lines[len(lines)-1]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("unexpected GNU time output %q", data)
	}
	return kb * 1024, nil
}

// serverCPU sums the CPU time of the listening sshd processes and of their
// reaped children: the per-connection sshd processes and, through them, the
// remote shells and commands.
func serverCPU(pids []int) time.Duration {
	var total time.Duration
	for _, pid := range pids {
		fields, err := procStat(pid)
		if err != nil {
			continue
		}
		// utime, stime, cutime, cstime are fields 14 to 17 of /proc/PID/stat.
		for _, i := range []int{14, 15, 16, 17} {
			total += ticks(fields, i)
		}
	}
	return total
}

// waitServersIdle waits until no listening sshd has a child left, so the
// CPU time of every connection the tool made has been reaped into the
// listener's figures.
func waitServersIdle(ctx context.Context, pids []int, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		busy := false
		for _, pid := range pids {
			children, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
			if err == nil && len(bytes.TrimSpace(children)) > 0 {
				busy = true
				break
			}
		}
		if !busy {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// procStat returns the fields of /proc/PID/stat, numbered from 1 as in
// proc(5): fields[1] is the PID. The command name may contain spaces, so the
// fields after it are counted from its closing parenthesis.
func procStat(pid int) ([]string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	text := string(data)
	paren := strings.LastIndexByte(text, ')')
	if paren < 0 {
		return nil, fmt.Errorf("unexpected /proc/%d/stat: %q", pid, text)
	}
	fields := []string{"", strconv.Itoa(pid), text[:paren+1]}
	return append(fields, strings.Fields(text[paren+1:])...), nil
}

// clockTicks is USER_HZ, the unit of /proc CPU times: 100 on every Linux
// architecture Go supports.
const clockTicks = 100

func ticks(fields []string, i int) time.Duration {
	if i >= len(fields) {
		return 0
	}
	n, err := strconv.ParseInt(fields[i], 10, 64)
	if err != nil {
		return 0
	}
	return time.Duration(n) * time.Second / clockTicks
}

// processUsage returns the CPU time so far and the peak resident set (VmHWM)
// of a running process.
func processUsage(pid int) (detachedUsage, error) {
	fields, err := procStat(pid)
	if err != nil {
		return detachedUsage{}, err
	}
	u := detachedUsage{CPU: ticks(fields, 14) + ticks(fields, 15)}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if value, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
			u.MaxRSS = kb * 1024
		}
	}
	return u, nil
}

// median returns the median of each figure of samples separately, so the
// reported wall time and the reported memory may come from different runs.
// User and Sys come from the run (or the two runs) with the median CPU time,
// so that they add up to it.
func median(samples []Sample) Sample {
	pick := func(get func(Sample) int64) int64 {
		values := make([]int64, len(samples))
		for i, s := range samples {
			values[i] = get(s)
		}
		slices.Sort(values)
		n := len(values)
		if n%2 == 1 {
			return values[n/2]
		}
		return (values[n/2-1] + values[n/2]) / 2
	}

	byCPU := slices.Clone(samples)
	slices.SortFunc(byCPU, func(a, b Sample) int { return int(a.CPU() - b.CPU()) })
	lower, upper := byCPU[(len(byCPU)-1)/2], byCPU[len(byCPU)/2]

	return Sample{
		Wall:      time.Duration(pick(func(s Sample) int64 { return int64(s.Wall) })),
		User:      (lower.User + upper.User) / 2,
		Sys:       (lower.Sys + upper.Sys) / 2,
		MaxRSS:    pick(func(s Sample) int64 { return s.MaxRSS }),
		ServerCPU: time.Duration(pick(func(s Sample) int64 { return int64(s.ServerCPU) })),
		ExitCode:  samples[len(samples)-1].ExitCode,
	}
}
