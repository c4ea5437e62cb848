package patches

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"patrol/i18n"
	"patrol/transport"
)

// lockBusyExit is the exit status of lockScript when another process holds
// the lock (EX_TEMPFAIL from sysexits.h).
const lockBusyExit = 75

// lockScript takes an exclusive flock on $1/apply.lock without waiting, writes
// the owner line $2 to $1/apply.owner and then holds the lock until its
// standard input ends. patrol keeps that input open for as long as it works on
// the host, so the lock ends with patrol's SSH session: a killed patrol never
// leaves a stale lock behind. When the lock is busy the script prints the
// current owner line and exits lockBusyExit.
const lockScript = `dir=$1
mkdir -p "$dir" && chmod 700 "$dir" || exit 70
exec 9>>"$dir/apply.lock" || exit 70
if ! flock -n 9; then
  cat "$dir/apply.owner" 2>/dev/null
  exit 75
fi
printf '%s\n' "$2" >"$dir/apply.owner.tmp" && mv -f "$dir/apply.owner.tmp" "$dir/apply.owner" || exit 70
cat >/dev/null`

// LockHeldError means another patch apply run works on the host.
type LockHeldError struct {
	Host string
	// Owner is the owner line the holding run wrote: its run id, user,
	// machine and start time.
	Owner string
}

func (e *LockHeldError) Error() string { return e.Message().EN }

// Message returns the error in both languages.
func (e *LockHeldError) Message() i18n.Text {
	owner := e.Owner
	if owner == "" {
		owner = "unknown owner"
	}
	return i18n.T(
		fmt.Sprintf("host %s is locked by another patch apply run (%s); wait for that run to end, or run `patrol journal list` to find it",
			e.Host, owner),
		fmt.Sprintf("主机 %s 已被另一次补丁安装运行锁定（%s）；请等待该运行结束，或运行 `patrol journal list` 查找它",
			e.Host, owner))
}

// hostLock is a held apply lock on one host: the flock of a Linux host, or
// the lease of a Windows host.
type hostLock struct {
	// lease is set on Windows hosts, and the other fields on Linux hosts.
	lease *leaseLock

	stdin *io.PipeWriter
	done  chan lockResult
	// cancel ends the holding command if closing its input did not.
	cancel context.CancelFunc
}

type lockResult struct {
	res transport.Result
	err error
}

// LockOwner builds the owner line an apply run writes next to the host
// locks it holds, which a refused run shows. The run id comes first.
func LockOwner(runID, user, machine string, started time.Time) string {
	return fmt.Sprintf("run %s, user %s on %s, started %s", runID, user, machine, started.Format(time.RFC3339))
}

// acquireLock takes the apply lock on a Linux host and returns once it is
// held. The holding command keeps running in a goroutine until release.
func acquireLock(ctx context.Context, conn transport.Connection, become *transport.Become, host, dir, owner string) (*hostLock, error) {
	reader, writer := io.Pipe()
	holdCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l := &hostLock{stdin: writer, done: make(chan lockResult, 1), cancel: cancel}
	go func() {
		res, err := conn.Run(holdCtx, transport.Command{
			Argv:   []string{"/bin/sh", "-c", lockScript, "sh", dir, owner},
			Stdin:  reader,
			Become: become,
		})
		l.done <- lockResult{res, err}
	}()

	ownerFile := path.Join(dir, "apply.owner")
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case r := <-l.done:
			l.cancel()
			writer.Close()
			return nil, lockFailure(host, r)
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			l.release()
			return nil, ctx.Err()
		}
		res, err := conn.Run(ctx, transport.Command{Argv: []string{"cat", ownerFile}, Become: become, Probe: true})
		if err == nil && strings.TrimSpace(string(res.Stdout)) == owner {
			return l, nil
		}
		if time.Now().After(deadline) {
			l.release()
			return nil, fmt.Errorf("lock %s: the lock command did not report within 30s", host)
		}
	}
}

func lockFailure(host string, r lockResult) error {
	switch {
	case r.err != nil:
		return fmt.Errorf("lock %s: %w", host, r.err)
	case r.res.ExitCode == lockBusyExit:
		return &LockHeldError{Host: host, Owner: strings.TrimSpace(string(r.res.Stdout))}
	case r.res.ExitCode == 127 || strings.Contains(string(r.res.Stderr), "flock: not found"):
		return fmt.Errorf("lock %s: flock is not installed on the host (it is part of util-linux)", host)
	}
	return fmt.Errorf("lock %s: the lock command exited with %d: %s", host, r.res.ExitCode, firstLine(r.res.Stderr))
}

// release ends the holding command by closing its input and waits for it. A
// lock whose connection was lost (a reboot) is already released on the host.
func (l *hostLock) release() {
	if l == nil {
		return
	}
	if l.lease != nil {
		l.lease.release()
		return
	}
	l.stdin.Close()
	select {
	case <-l.done:
	case <-time.After(10 * time.Second):
		l.cancel()
		select {
		case <-l.done:
		case <-time.After(10 * time.Second):
		}
	}
	l.cancel()
}

// lostErr returns why the lock is no longer held, or nil. Only a Windows
// lease can be lost while patrol works on the host.
func (l *hostLock) lostErr() error {
	if l == nil || l.lease == nil {
		return nil
	}
	return l.lease.lostErr()
}
