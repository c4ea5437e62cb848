package patches

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"patrol/internal/sshtest"
	"patrol/inventory"
	"patrol/transport/sshconn"
)

func dialTest(t *testing.T, srv *sshtest.Server) *sshconn.Conn {
	t.Helper()
	knownHosts := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(knownHosts, []byte(srv.KnownHostsLine()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := &inventory.Host{Name: "seal-test", Address: "127.0.0.1", Port: srv.Port, Connection: inventory.ConnSSH, User: "root",
		KeyFile: srv.ClientKeyPath, KnownHostsFile: knownHosts}
	cfg, err := sshconn.ConfigFromHost(h, sshconn.Options{ConnectTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := sshconn.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestLockRefusalAndRelease takes the apply lock over real SSH and checks
// that a second taker is refused with the first owner line. The lock must
// end on release, and also when the holder's connection closes, as it does
// when patrol is killed.
func TestLockRefusalAndRelease(t *testing.T) {
	srv := sshtest.Start(t, sshtest.Options{})
	dir := filepath.Join(t.TempDir(), "patches")
	ctx := context.Background()
	ownerA := LockOwner("run-A", "root", "ops1", time.Now())
	ownerB := LockOwner("run-B", "root", "ops2", time.Now())

	connA := dialTest(t, srv)
	lockA, err := acquireLock(ctx, connA, nil, "seal-test", dir, ownerA)
	if err != nil {
		t.Fatal(err)
	}

	connB := dialTest(t, srv)
	_, err = acquireLock(ctx, connB, nil, "seal-test", dir, ownerB)
	var held *LockHeldError
	if !errors.As(err, &held) || held.Owner != ownerA {
		t.Fatalf("second lock: %v, want a LockHeldError with owner %q", err, ownerA)
	}
	if !strings.Contains(held.Message().ZH, "run-A") || !strings.Contains(held.Error(), "run run-A") {
		t.Errorf("refusal does not name the holding run: %q / %q", held.Error(), held.Message().ZH)
	}

	lockA.release()
	lockB, err := acquireLock(ctx, connB, nil, "seal-test", dir, ownerB)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}

	// The holder's SSH connection ends without a release.
	connB.Close()
	connC := dialTest(t, srv)
	deadline := time.Now().Add(30 * time.Second)
	for {
		lockC, err := acquireLock(ctx, connC, nil, "seal-test", dir, LockOwner("run-C", "root", "ops3", time.Now()))
		if err == nil {
			lockC.release()
			break
		}
		if !errors.As(err, &held) || time.Now().After(deadline) {
			t.Fatalf("lock after the holder's connection closed: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	lockB.release()
}
