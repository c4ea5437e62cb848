package builtin_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"patrol/i18n"
	"patrol/inventory"
	"patrol/playbooks"
	"patrol/runner"
	"patrol/transport"
	"patrol/transport/local"
)

// fakeHost is a host that can reboot without rebooting this machine. Its
// boot_id is a file; its reboot command creates the file "down", and the next
// dial sees it, writes a new boot_id and refuses connections for downFor, as a
// host does while it boots. Commands run on this machine.
type fakeHost struct {
	dir     string
	downFor time.Duration

	mu        sync.Mutex
	downUntil time.Time
	reboots   int
	refused   int
	conns     []*fakeConn
}

func newFakeHost(t *testing.T) *fakeHost {
	h := &fakeHost{dir: t.TempDir(), downFor: 3 * time.Second}
	h.writeBootID(t)
	return h
}

func (h *fakeHost) bootIDPath() string { return filepath.Join(h.dir, "boot_id") }

func (h *fakeHost) writeBootID(t *testing.T) {
	if err := os.WriteFile(h.bootIDPath(), []byte(rand.Text()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (h *fakeHost) bootID(t *testing.T) string {
	data, err := os.ReadFile(h.bootIDPath())
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// rebootCommand goes down a second after it returns, like the default command.
func (h *fakeHost) rebootCommand() string {
	return fmt.Sprintf("(sleep 1; touch %s) </dev/null >/dev/null 2>&1 &", filepath.Join(h.dir, "down"))
}

func (h *fakeHost) dial(t *testing.T) runner.Dialer {
	return func(ctx context.Context, inv *inventory.Host) (transport.Connection, error) {
		h.mu.Lock()
		defer h.mu.Unlock()

		down := filepath.Join(h.dir, "down")
		if _, err := os.Stat(down); err == nil {
			if err := os.Remove(down); err != nil {
				t.Error(err)
			}
			h.writeBootID(t)
			h.reboots++
			h.downUntil = time.Now().Add(h.downFor)
		}
		if time.Now().Before(h.downUntil) {
			h.refused++
			return nil, &transport.UnreachableError{Host: inv.Name, Reason: "network", Err: errors.New("connection refused")}
		}
		c := &fakeConn{Conn: local.New()}
		h.conns = append(h.conns, c)
		return c, nil
	}
}

// fakeConn is a local connection that rejects commands once closed, so a task
// that runs on a connection the reboot replaced fails.
type fakeConn struct {
	*local.Conn
	mu     sync.Mutex
	closed bool
	runs   int
}

func (c *fakeConn) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return transport.Result{}, errors.New("run on a closed connection")
	}
	c.runs++
	c.mu.Unlock()
	return c.Conn.Run(ctx, cmd)
}

func (c *fakeConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return nil
}

// runPlay runs the play's tasks (YAML, indented as list items) on one host
// named web1 and returns every task result.
func runPlay(t *testing.T, dial runner.Dialer, checkMode bool, tasks string) []runner.TaskResult {
	t.Helper()
	invPath := filepath.Join(t.TempDir(), "inventory.yml")
	if err := os.WriteFile(invPath, []byte("hosts:\n  web1: {connection: local, os: debian}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load(invPath)
	if err != nil {
		t.Fatal(err)
	}
	book := "- hosts: all\n  tasks:\n"
	for _, line := range strings.Split(strings.TrimRight(tasks, "\n"), "\n") {
		book += "    " + line + "\n"
	}
	pb, err := playbooks.Parse("reboot.yml", []byte(book), registry())
	if err != nil {
		t.Fatalf("parse playbook:\n%s\n%v", book, err)
	}

	var (
		mu      sync.Mutex
		results []runner.TaskResult
	)
	_, err = runner.Run(context.Background(), runner.Options{
		Inventory: inv, Playbook: pb, Dial: dial, CheckMode: checkMode,
		OnResult: func(tr runner.TaskResult) {
			mu.Lock()
			defer mu.Unlock()
			results = append(results, tr)
		},
	})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return results
}

func TestRebootWaitsForNewBoot(t *testing.T) {
	host := newFakeHost(t)
	oldID := host.bootID(t)
	tasks := fmt.Sprintf(`- reboot:
    boot_id_command: cat %[1]s
    reboot_command: %[2]q
    test_command: test -s %[1]s
    timeout: 60s
    connect_timeout: 5s
- command: cat %[1]s
`, host.bootIDPath(), host.rebootCommand())

	results := runPlay(t, host.dial(t), false, tasks)

	if len(results) != 2 {
		t.Fatalf("got %d results, want 2: %+v", len(results), results)
	}
	reboot, after := results[0], results[1]
	if reboot.Status != runner.StatusChanged {
		t.Fatalf("reboot status = %s (%s %s), want changed", reboot.Status, reboot.Err, reboot.Result.Msg)
	}
	newID := host.bootID(t)
	if newID == oldID {
		t.Fatal("the fake host never rebooted")
	}
	if got := reboot.Result.Data["boot_identity_before"]; got != oldID {
		t.Errorf("boot_identity_before = %v, want %s", got, oldID)
	}
	if got := reboot.Result.Data["boot_identity_after"]; got != newID {
		t.Errorf("boot_identity_after = %v, want %s", got, newID)
	}
	if s, _ := reboot.Result.Data["elapsed_seconds"].(float64); s < host.downFor.Seconds() {
		t.Errorf("elapsed_seconds = %v, want at least the %s the host was down", s, host.downFor)
	}

	host.mu.Lock()
	defer host.mu.Unlock()
	if host.reboots != 1 {
		t.Errorf("host rebooted %d times, want 1", host.reboots)
	}
	if host.refused == 0 {
		t.Error("the module never tried to connect while the host was down")
	}
	if after.Status != runner.StatusChanged || strings.TrimSpace(after.Result.Stdout) != newID {
		t.Errorf("task after the reboot: status %s err %q stdout %q, want changed and %s", after.Status, after.Err, after.Result.Stdout, newID)
	}
	// The run closes the newest connection only after its last task.
	last := host.conns[len(host.conns)-1]
	if last.runs == 0 {
		t.Error("the task after the reboot did not run on the newest connection")
	}
	if !host.conns[0].closed {
		t.Error("the connection from before the reboot was not closed")
	}
}

func TestRebootTimesOut(t *testing.T) {
	host := newFakeHost(t)
	tasks := fmt.Sprintf(`- reboot:
    boot_id_command: cat %s
    reboot_command: "true"
    timeout: 5s
    connect_timeout: 2s
- command: echo not reached
`, host.bootIDPath())

	start := time.Now()
	results := runPlay(t, host.dial(t), false, tasks)
	elapsed := time.Since(start)

	if len(results) != 1 {
		t.Fatalf("got %d results, want only the reboot: %+v", len(results), results)
	}
	res := results[0]
	if res.Status != runner.StatusFailed {
		t.Fatalf("status = %s, want failed", res.Status)
	}
	for _, want := range []string{"did not come back within 5s", "still has the boot identity from before the reboot"} {
		if !strings.Contains(res.Result.Msg, want) {
			t.Errorf("message %q lacks %q", res.Result.Msg, want)
		}
	}
	if res.Result.Message.EN != res.Result.Msg {
		t.Errorf("English message %q differs from Msg %q", res.Result.Message.EN, res.Result.Msg)
	}
	if !strings.Contains(res.Result.Message.ZH, "请调大 timeout") || strings.Contains(res.Result.Msg, "请调大") {
		t.Errorf("Chinese message %q, Msg %q: want Chinese only in Message.ZH", res.Result.Message.ZH, res.Result.Msg)
	}
	// The bound is the timeout plus one poll interval and one attempt, with
	// room for a slow machine; it checks that the module stops, not its speed.
	if elapsed > 30*time.Second {
		t.Errorf("failed after %s, want soon after the 5s timeout", elapsed)
	}
}

func TestRebootCheckMode(t *testing.T) {
	host := newFakeHost(t)
	oldID := host.bootID(t)
	tasks := fmt.Sprintf(`- reboot:
    boot_id_command: cat %s
    reboot_command: %q
`, host.bootIDPath(), host.rebootCommand())

	results := runPlay(t, host.dial(t), true, tasks)

	if len(results) != 1 || results[0].Status != runner.StatusChanged {
		t.Fatalf("results = %+v, want one changed result", results)
	}
	if want := i18n.T("check mode: would reboot the host", "检查模式：将重启主机"); results[0].Result.Message != want || results[0].Result.Msg != want.EN {
		t.Errorf("message = %+v, Msg = %q; want %+v in both languages", results[0].Result.Message, results[0].Result.Msg, want)
	}
	time.Sleep(1500 * time.Millisecond) // the reboot command would mark the host down after 1s
	if _, err := os.Stat(filepath.Join(host.dir, "down")); err == nil {
		t.Error("check mode ran the reboot command")
	}
	if host.bootID(t) != oldID || len(host.conns) != 1 {
		t.Errorf("check mode changed the host: %d connections, boot id changed: %v", len(host.conns), host.bootID(t) != oldID)
	}
}
