package patches

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"patrol/i18n"
	"patrol/transport"
	"patrol/transport/winrmconn"
)

// windowsLockLease is how long a Windows apply lock stays valid without a
// renewal. The holder renews it every third of this.
const windowsLockLease = 5 * time.Minute

// Windows hosts get a lease lock instead of the flock of Linux hosts. A WinRM
// command does not end when patrol does: a killed patrol leaves its shell,
// and any command holding a lock in it, alive until the host's IdleTimeout,
// which can be hours. So the lock is the file apply.lock in the patch folder,
// holding the owner line and the UTC time its lease ends (RFC 3339), by the
// host's clock. A lock whose lease has ended may be taken over.
//
// Every action opens the file with FileShare.None, so reading the owner,
// deciding and writing happen while no other process can open the file: two
// runs cannot both take over one expired lock. A run that finds the file open
// retries for 5 seconds. Release empties the file instead of deleting it,
// because a delete after the handle closes could remove a lock another run
// took in between. An empty file is a free lock.
//
// The script prints lines starting with "patrol-lock: ", which
// parseLockReply reads. Exit status 75 means the lock is held by another run
// (acquire) or is no longer ours (renew).
//
// NOTE: this script has not run on a real Windows Server 2012 R2 host yet;
// the tests replay its output format through the WinRM lab.
const windowsLockBody = `$path = [IO.Path]::Combine($dir, 'apply.lock')
$stamp = "yyyy-MM-dd'T'HH:mm:ss'Z'"
$inv = [Globalization.CultureInfo]::InvariantCulture
function Open-LockFile([IO.FileMode]$mode) {
  for ($try = 1; ; $try++) {
    try { return [IO.File]::Open($path, $mode, [IO.FileAccess]::ReadWrite, [IO.FileShare]::None) }
    catch {
      $e = $_.Exception
      if ($e.InnerException) { $e = $e.InnerException }
      $code = [Runtime.InteropServices.Marshal]::GetHRForException($e) -band 0xFFFF
      if ($code -eq 2 -or $code -eq 3) { return $null }
      if (($code -ne 32 -and $code -ne 33) -or $try -ge 50) { throw }
      Start-Sleep -Milliseconds 100
    }
  }
}
function Read-Lock($fs) {
  $buf = New-Object byte[] $fs.Length
  $n = 0
  while ($n -lt $buf.Length) { $r = $fs.Read($buf, $n, $buf.Length - $n); if ($r -le 0) { break }; $n += $r }
  $lines = @([Text.Encoding]::UTF8.GetString($buf, 0, $n).TrimStart([char]0xFEFF) -split "\r?\n")
  $t = [DateTime]::MinValue
  $parsed = $lines.Count -ge 2 -and [DateTime]::TryParseExact($lines[1], $stamp, $inv, [Globalization.DateTimeStyles]'AssumeUniversal, AdjustToUniversal', [ref]$t)
  if (-not $parsed) { $t = [IO.File]::GetLastWriteTimeUtc($path).AddSeconds($lease) }
  return @{ Held = [string]$lines[0]; Ends = $t }
}
function Write-Lock($fs, [string]$text) {
  $bytes = (New-Object Text.UTF8Encoding($false)).GetBytes($text)
  $fs.SetLength(0)
  $fs.Write($bytes, 0, $bytes.Length)
  $fs.Flush($true)
}
$held = ''
$ends = [DateTime]::MinValue
$next = [DateTime]::UtcNow.AddSeconds($lease).ToString($stamp, $inv)
$status = ''
if ($action -eq 'acquire') { [void][IO.Directory]::CreateDirectory($dir); $fs = Open-LockFile ([IO.FileMode]::OpenOrCreate) }
else { $fs = Open-LockFile ([IO.FileMode]::Open) }
if ($fs) {
  try {
    $file = Read-Lock $fs
    $held = $file.Held
    $ends = $file.Ends
    $free = $held -eq '' -or $held -ceq $owner
    if ($action -eq 'acquire' -and ($free -or [DateTime]::UtcNow -ge $ends)) { Write-Lock $fs ($owner + "` + "`r`n" + `" + $next + "` + "`r`n" + `"); $status = 'acquired' }
    elseif ($action -eq 'renew' -and $held -ceq $owner) { Write-Lock $fs ($owner + "` + "`r`n" + `" + $next + "` + "`r`n" + `"); $status = 'renewed' }
    elseif ($action -eq 'release' -and $held -ceq $owner) { Write-Lock $fs ''; $status = 'released' }
  } finally { $fs.Dispose() }
}
if ($status -eq 'acquired' -and -not $free) { 'patrol-lock: taken-over ' + $ends.ToString($stamp, $inv) }
if ($status -eq '') { 'patrol-lock: not-held' } else { 'patrol-lock: ' + $status + ' ' + $next }
'patrol-lock: owner ' + $held
if ($status -eq '' -and $action -ne 'release') { exit 75 }`

// Actions of windowsLockScript.
const (
	lockActionAcquire = "acquire"
	lockActionRenew   = "renew"
	lockActionRelease = "release"
)

// windowsLockScript builds the PowerShell script of one lock action. The
// values reach it as single-quoted literals, in which PowerShell expands
// nothing. Line breaks in owner become spaces, because the owner is the
// first line of the lock file.
func windowsLockScript(action, dir, owner string, lease time.Duration) string {
	owner = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(owner)
	head := strings.Join([]string{
		"# patrol apply lock: " + action,
		"$ErrorActionPreference = 'Stop'",
		"$action = " + winrmconn.QuotePowerShellArg(action),
		"$dir = " + winrmconn.QuotePowerShellArg(dir),
		"$owner = " + winrmconn.QuotePowerShellArg(owner),
		"$lease = " + strconv.FormatInt(int64(lease/time.Second), 10),
	}, "\r\n")
	return head + "\r\n" + strings.ReplaceAll(windowsLockBody, "\n", "\r\n")
}

// lockReply is the output of windowsLockScript.
type lockReply struct {
	// Status is acquired, renewed, released or not-held.
	Status string
	// Until is the end of the new lease, as the host wrote it.
	Until string
	// Owner is the owner line the file held before the action.
	Owner string
	// TakenOver is set when acquire took over an expired lock: the time
	// its lease ended.
	TakenOver string
}

// parseLockReply reads the "patrol-lock: " lines of the script's output and
// ignores any other line.
func parseLockReply(out []byte) lockReply {
	var r lockReply
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(strings.TrimRight(sc.Text(), "\r"), "patrol-lock: ")
		if !ok {
			continue
		}
		key, value, _ := strings.Cut(rest, " ")
		switch key {
		case "owner":
			r.Owner = value
		case "taken-over":
			r.TakenOver = value
		case "acquired", "renewed", "released", "not-held":
			r.Status, r.Until = key, value
		}
	}
	return r
}

// LockLostError means a Windows host's apply lock stopped being ours while
// the run worked on the host: another run took it over after its lease ended,
// or the lock file was emptied or removed.
type LockLostError struct {
	Host string
	// Owner is the owner line the lock file holds now; empty when it holds
	// none.
	Owner string
}

func (e *LockLostError) Error() string { return e.Message().EN }

// Message returns the error in both languages.
func (e *LockLostError) Message() i18n.Text {
	if e.Owner == "" {
		return msg("the apply lock of host %s was lost: its lock file was emptied or removed; patrol stopped working on this host, check the host and run patrol patch apply again",
			"主机 %s 的安装锁已丢失：锁文件已被清空或删除；patrol 已停止处理此主机，请检查该主机后重新运行 patrol patch apply", e.Host)
	}
	return msg("the apply lock of host %s was lost: another run now holds it (%s); patrol stopped working on this host, run `patrol journal list` to find that run",
		"主机 %s 的安装锁已丢失：另一次运行现在持有它（%s）；patrol 已停止处理此主机，请运行 `patrol journal list` 查找该运行", e.Host, e.Owner)
}

// leaseLock is a held Windows apply lock and the goroutine that renews it.
type leaseLock struct {
	host, dir, owner string
	lease            time.Duration
	// conn returns the host's current connection, nil while the host
	// reconnects after a reboot.
	conn func() transport.Connection
	log  *slog.Logger

	// staleOwner and staleUntil describe the expired lock this one took
	// over; staleOwner is empty when the lock was free.
	staleOwner, staleUntil string

	stop    chan struct{}
	done    chan struct{}
	release func()

	mu   sync.Mutex
	lost error
}

// acquireLeaseLock takes the lease lock in dir and starts renewing it every
// lease/3 until release.
func acquireLeaseLock(ctx context.Context, conn func() transport.Connection, log *slog.Logger, host, dir, owner string, lease time.Duration) (*leaseLock, error) {
	l := &leaseLock{host: host, dir: dir, owner: owner, lease: lease, conn: conn, log: log,
		stop: make(chan struct{}), done: make(chan struct{})}
	l.release = sync.OnceFunc(l.releaseOnce)
	res, err := l.runAction(ctx, lockActionAcquire)
	if err != nil {
		return nil, err
	}
	reply := parseLockReply(res.Stdout)
	switch {
	case res.ExitCode == lockBusyExit:
		return nil, &LockHeldError{Host: host, Owner: reply.Owner}
	case res.ExitCode != 0 || reply.Status != "acquired":
		return nil, l.scriptError(lockActionAcquire, res)
	}
	if reply.TakenOver != "" {
		l.staleOwner, l.staleUntil = reply.Owner, reply.TakenOver
	}
	go l.keepRenewed()
	return l, nil
}

func (l *leaseLock) runAction(ctx context.Context, action string) (transport.Result, error) {
	conn := l.conn()
	if conn == nil {
		return transport.Result{}, fmt.Errorf("lock %s: %s: the host is not connected", l.host, action)
	}
	res, err := conn.Run(ctx, transport.Command{Script: windowsLockScript(action, l.dir, l.owner, l.lease), Timeout: time.Minute})
	if err != nil {
		return res, fmt.Errorf("lock %s: %s: %w", l.host, action, err)
	}
	return res, nil
}

func (l *leaseLock) scriptError(action string, res transport.Result) error {
	line := firstLine(res.Stderr)
	if line == "" {
		line = firstLine(res.Stdout)
	}
	return fmt.Errorf("lock %s: the %s script exited with %d: %s", l.host, action, res.ExitCode, line)
}

// renew extends the lease. When the lock is no longer ours it returns a
// *LockLostError and records it for lostErr. Any other error means the host
// could not be reached, so the caller tries again at the next renewal.
func (l *leaseLock) renew(ctx context.Context) error {
	res, err := l.runAction(ctx, lockActionRenew)
	if err != nil {
		return err
	}
	reply := parseLockReply(res.Stdout)
	switch {
	case res.ExitCode == lockBusyExit:
		lost := &LockLostError{Host: l.host, Owner: reply.Owner}
		l.mu.Lock()
		l.lost = lost
		l.mu.Unlock()
		return lost
	case res.ExitCode != 0 || reply.Status != "renewed":
		return l.scriptError(lockActionRenew, res)
	}
	return nil
}

// lostErr returns the *LockLostError of a lock that is no longer ours, or
// nil.
func (l *leaseLock) lostErr() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

// keepRenewed renews the lease every lease/3 until release or until the lock
// is lost. A renewal that fails because the host cannot be reached, as while
// it reboots, is retried at the next tick. If no other run took the lock
// over meanwhile, the owner line is still ours, so that renewal succeeds even
// after the lease ended.
func (l *leaseLock) keepRenewed() {
	defer close(l.done)
	tick := time.NewTicker(l.lease / 3)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
		}
		if l.conn() == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.lease/3)
		err := l.renew(ctx)
		cancel()
		if lost := l.lostErr(); lost != nil {
			l.log.Error("apply lock lost", "host", l.host, "error", lost)
			return
		}
		if err != nil {
			l.log.Warn("renewing the apply lock failed; retrying at the next renewal", "host", l.host, "error", err)
		}
	}
}

// releaseOnce stops the renewals and empties the lock file if it still holds
// our owner line. A failure is logged: the lease then ends by itself.
func (l *leaseLock) releaseOnce() {
	close(l.stop)
	<-l.done
	if l.conn() == nil {
		l.log.Warn("apply lock not released: the host is not connected; its lease ends by itself", "host", l.host, "lease", l.lease)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := l.runAction(ctx, lockActionRelease)
	switch {
	case err != nil:
		l.log.Warn("releasing the apply lock failed; its lease ends by itself", "host", l.host, "lease", l.lease, "error", err)
	case res.ExitCode != 0:
		l.log.Warn("releasing the apply lock failed; its lease ends by itself", "host", l.host, "lease", l.lease, "error", l.scriptError(lockActionRelease, res))
	case parseLockReply(res.Stdout).Status != "released":
		l.log.Warn("apply lock not released: another run holds it", "host", l.host, "owner", parseLockReply(res.Stdout).Owner)
	}
}
