package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"patrol/builtin"
	"patrol/checks"
	"patrol/inventory"
	"patrol/module"
	"patrol/playbooks"
	"patrol/transport"
	"patrol/transport/local"
)

// registry returns every module patrol ships, as the CLI builds it.
func registry() *module.Registry {
	r := module.NewRegistry()
	builtin.Register(r)
	checks.Register(r)
	return r
}

// loadInventory writes an inventory of local hosts h1..hN (in the group
// "all" only) plus extra YAML under hosts:, and loads it.
func loadInventory(t *testing.T, n int, extraHosts string) *inventory.Inventory {
	t.Helper()
	var text strings.Builder
	text.WriteString("hosts:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&text, "  h%d: {connection: local, os: debian}\n", i)
	}
	text.WriteString(extraHosts)
	path := filepath.Join(t.TempDir(), "inventory.yml")
	if err := os.WriteFile(path, []byte(text.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load(path)
	if err != nil {
		t.Fatalf("load inventory:\n%s\n%v", text.String(), err)
	}
	return inv
}

func parse(t *testing.T, text string) *playbooks.Playbook {
	t.Helper()
	pb, err := playbooks.Parse("test.yml", []byte(text), registry())
	if err != nil {
		t.Fatalf("parse playbook:\n%s\n%v", text, err)
	}
	return pb
}

// recorder collects task results and finished hosts from the callbacks.
type recorder struct {
	mu      sync.Mutex
	results []TaskResult
	done    map[string]bool // host → failed, as OnHostDone reported it last
}

func (r *recorder) result(tr TaskResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results = append(r.results, tr)
}

func (r *recorder) hostDone(host string, failed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done == nil {
		r.done = map[string]bool{}
	}
	r.done[host] = failed
}

// of returns the results of one host, in the order they were reported.
func (r *recorder) of(host string) []TaskResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []TaskResult
	for _, tr := range r.results {
		if tr.Host == host {
			out = append(out, tr)
		}
	}
	return out
}

func (r *recorder) task(host, task string) []TaskResult {
	var out []TaskResult
	for _, tr := range r.of(host) {
		if tr.Task == task {
			out = append(out, tr)
		}
	}
	return out
}

// runBook runs the playbook on the inventory with the local transport unless
// opts sets a dialer, and returns the summary and a recorder of the callbacks.
func runBook(t *testing.T, ctx context.Context, opts Options) (*Summary, *recorder) {
	t.Helper()
	rec := &recorder{}
	if opts.Dial == nil {
		opts.Dial = func(context.Context, *inventory.Host) (transport.Connection, error) { return local.New(), nil }
	}
	if opts.OnResult == nil {
		opts.OnResult = rec.result
	}
	if opts.OnHostDone == nil {
		opts.OnHostDone = rec.hostDone
	}
	sum, err := Run(ctx, opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return sum, rec
}

// probe is a dialer whose connections wrap the local transport and count what
// the runner does with them: dials, closes and Run calls running at once. It
// can make chosen hosts unreachable.
type probe struct {
	mu          sync.Mutex
	dials       map[string]int
	closes      map[string]int
	running     int
	maxRunning  int
	started     int
	unreachable map[string]bool
	// dialHook, when set, runs before a dial and may return its error.
	dialHook func(ctx context.Context, host string) error
	// runHook, when set, runs inside Run before the command, while counted as
	// running.
	runHook func(p *probe, host string)
}

func newProbe() *probe {
	return &probe{dials: map[string]int{}, closes: map[string]int{}, unreachable: map[string]bool{}}
}

func (p *probe) dial(ctx context.Context, h *inventory.Host) (transport.Connection, error) {
	p.mu.Lock()
	p.dials[h.Name]++
	p.mu.Unlock()

	if p.dialHook != nil {
		if err := p.dialHook(ctx, h.Name); err != nil {
			return nil, err
		}
	}
	if p.unreachable[h.Name] {
		return nil, &transport.UnreachableError{Host: h.Name, Reason: "network", Err: errors.New("dial tcp 127.0.0.1:22: connection refused")}
	}
	return &probeConn{Connection: local.New(), probe: p, host: h.Name}, nil
}

// snapshot returns a copy of the counters, read under the lock.
func (p *probe) snapshot() (dials, closes map[string]int, maxRunning int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return copyCounts(p.dials), copyCounts(p.closes), p.maxRunning
}

func copyCounts(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

type probeConn struct {
	transport.Connection
	probe *probe
	host  string
}

func (c *probeConn) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	p := c.probe
	p.mu.Lock()
	p.running++
	p.started++
	p.maxRunning = max(p.maxRunning, p.running)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.running--
		p.mu.Unlock()
	}()

	if p.runHook != nil {
		p.runHook(p, c.host)
	}
	return c.Connection.Run(ctx, cmd)
}

func (c *probeConn) Close() error {
	c.probe.mu.Lock()
	c.probe.closes[c.host]++
	c.probe.mu.Unlock()
	return c.Connection.Close()
}

// waitUntil polls cond under the probe's lock for up to 10 seconds and reports
// whether it became true.
func (p *probe) waitUntil(cond func() bool) bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		ok := cond()
		p.mu.Unlock()
		if ok {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(data)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// pidGone reports whether the process is gone or a zombie, which runs no more
// code either. It polls for up to 5 seconds, because a killed process takes a
// moment to be reparented and reaped.
func pidGone(pid int) bool {
	for range 50 {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return true
		}
		fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
		if len(fields) > 0 && fields[0] == "Z" {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

func statuses(results []TaskResult) []string {
	out := make([]string, len(results))
	for i, tr := range results {
		out[i] = tr.Task + "=" + tr.Status
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
