package bench

import (
	"fmt"
	"io"
)

// Targets patrol is held to.
const (
	// MaxFloorRatio is the most patrol's wall time may be, as a multiple of
	// the floor's.
	MaxFloorRatio = 1.5
	// MinAnsibleRatio is how many times faster than Ansible patrol must be.
	MinAnsibleRatio = 10.0
	// MaxRSSHosts and MaxRSSBytes: patrol's peak memory at 200 hosts must
	// stay under 150 MB.
	MaxRSSHosts = 200
	MaxRSSBytes = 150 << 20
)

// Target is one pass-or-miss line of the report.
type Target struct {
	Name     string
	Measured string
	Pass     bool
	// Missing is set when the figure was not measured in this run.
	Missing bool
}

// Targets judges results against the targets. A size or tool that was not
// measured gives a target marked Missing.
func Targets(results []Result) []Target {
	var targets []Target
	for _, r := range results {
		ratio := r.Patrol.Wall.Seconds() / r.Floor.Wall.Seconds()
		targets = append(targets, Target{
			Name:     fmt.Sprintf("patrol within %.1f× the floor at %d hosts", MaxFloorRatio, r.Hosts),
			Measured: fmt.Sprintf("%.2f×", ratio),
			Pass:     ratio <= MaxFloorRatio,
		})

		t := Target{Name: fmt.Sprintf("patrol at least %.0f× faster than Ansible at %d hosts", MinAnsibleRatio, r.Hosts)}
		if r.Ansible == nil {
			t.Measured, t.Missing = "Ansible not measured", true
		} else {
			ratio := r.Ansible.Wall.Seconds() / r.Patrol.Wall.Seconds()
			t.Measured, t.Pass = fmt.Sprintf("%.1f×", ratio), ratio >= MinAnsibleRatio
		}
		targets = append(targets, t)
	}

	memory := Target{
		Name:     fmt.Sprintf("patrol peak memory under %d MB at %d hosts", MaxRSSBytes>>20, MaxRSSHosts),
		Measured: fmt.Sprintf("%d hosts not measured", MaxRSSHosts),
		Missing:  true,
	}
	for _, r := range results {
		if r.Hosts == MaxRSSHosts && r.Patrol.MaxRSS < 0 {
			memory.Measured = "peak memory not measured (GNU time missing)"
		} else if r.Hosts == MaxRSSHosts {
			memory = Target{Name: memory.Name, Measured: fmt.Sprintf("%.1f MB", mb(r.Patrol.MaxRSS)), Pass: r.Patrol.MaxRSS < MaxRSSBytes}
		}
	}
	return append(targets, memory)
}

// WriteReport prints one table per size and the targets, as Markdown, so the
// output can go into docs/benchmarks.md as it is.
func WriteReport(w io.Writer, results []Result, reps int) {
	for _, r := range results {
		fmt.Fprintf(w, "### %d hosts (median of %d runs)\n\n", r.Hosts, reps)
		fmt.Fprintln(w, "| tool | wall | CPU (user+sys) | ms per host | peak memory | sshd + remote CPU |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
		row(w, "patrol", r.Patrol, r.Hosts)
		row(w, "floor (xargs -P ssh)", r.Floor, r.Hosts)
		if r.Ansible != nil {
			row(w, "Ansible", *r.Ansible, r.Hosts)
		} else {
			fmt.Fprintln(w, "| Ansible | not measured | | | | |")
		}
		if r.PatrolConnect != nil {
			row(w, "patrol, connect + `true`", *r.PatrolConnect, r.Hosts)
			row(w, "floor, connect + `true`", *r.FloorConnect, r.Hosts)
		}
		fmt.Fprintln(w)

		fmt.Fprintf(w, "- patrol / floor wall: %.2f×\n", r.Patrol.Wall.Seconds()/r.Floor.Wall.Seconds())
		if r.Ansible != nil {
			fmt.Fprintf(w, "- Ansible / patrol wall: %.1f×\n", r.Ansible.Wall.Seconds()/r.Patrol.Wall.Seconds())
		}
		fmt.Fprintln(w)
		if len(r.SessionCosts) > 0 {
			WriteSessionCosts(w, r.Hosts, sessionCostCommands, r.SessionCosts)
		}
	}

	fmt.Fprintln(w, "### Targets")
	fmt.Fprintln(w)
	for _, t := range Targets(results) {
		verdict := "MISS"
		switch {
		case t.Missing:
			verdict = "NOT MEASURED"
		case t.Pass:
			verdict = "PASS"
		}
		fmt.Fprintf(w, "- %s: %s — %s\n", verdict, t.Name, t.Measured)
	}
}

func row(w io.Writer, name string, s Sample, hosts int) {
	fmt.Fprintf(w, "| %s | %.2f s | %.2f s | %.1f | %s | %.2f s |\n",
		name, s.Wall.Seconds(), s.CPU().Seconds(), msPerHost(s, hosts), memory(s.MaxRSS), s.ServerCPU.Seconds())
}

// memory formats a peak resident set; a negative one was not measured.
func memory(bytes int64) string {
	if bytes < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MB", mb(bytes))
}
