package patches

// The Windows lock tests replay the output of windowsLockScript through the
// WinRM lab of windows_test.go. That output is patrol's own format, written
// here by hand from the script's Write lines: the script has not run on a
// real Windows host, so there is no recording of it.

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"patrol/inventory"
	"patrol/transport/winrmconn"
)

const (
	testLockDir   = `C:\Windows\Temp\patrol-patches`
	testLockOwner = "run r-win-1, user ops on ops1, started 2024-05-01T10:00:00+08:00"
	otherOwner    = "run r-win-0, user ops on ops2, started 2024-05-01T09:00:00+08:00"
)

// matchLock matches the script of one lock action for testLockOwner.
func matchLock(action string) string {
	return `(?s)# patrol apply lock: ` + action + `\r\n.*\$owner = ` + regexp.QuoteMeta(winrmconn.QuotePowerShellArg(testLockOwner))
}

func lockOutput(lines ...string) []byte {
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

// windowsLockSession returns a session of a Windows host on conn whose step
// records land in *events and log lines in logs.
func windowsLockSession(t *testing.T, conn *winrmconn.Conn, events *[]StepEvent, logs *bytes.Buffer) *hostSession {
	t.Helper()
	r := newApplyRun(ApplyOptions{
		Owner:  testLockOwner,
		OnStep: func(e StepEvent) { *events = append(*events, e) },
		Log:    slog.New(slog.NewTextHandler(logs, nil)),
	})
	h := &inventory.Host{Name: "seal-db-1", OS: "win2012r2", System: "seal"}
	s := &hostSession{r: r, host: h, ops: windowsOps{}, conn: conn}
	t.Cleanup(func() { s.lock.release() })
	return s
}

func TestWindowsLockAcquireAndRelease(t *testing.T) {
	conn, _ := startWindowsLab(t,
		replay{match: matchLock("acquire"), stdout: lockOutput("patrol-lock: acquired 2024-05-01T02:05:00Z", "patrol-lock: owner ")},
		replay{match: matchLock("release"), stdout: lockOutput("patrol-lock: released 2024-05-01T02:05:03Z", "patrol-lock: owner "+testLockOwner)},
	)
	var events []StepEvent
	var logs bytes.Buffer
	s := windowsLockSession(t, conn, &events, &logs)

	if !s.acquireLock(context.Background(), Phase{Kind: PhaseProduction}) {
		t.Fatalf("acquireLock failed: %+v", events)
	}
	if s.lock == nil || s.lock.lease == nil {
		t.Fatalf("no lease lock held: %+v", s.lock)
	}
	if len(events) != 1 || events[0].Step != StepLock || events[0].Status != StatusOK {
		t.Fatalf("events = %+v, want one lock ok", events)
	}
	if !strings.Contains(events[0].Message.EN, testLockDir) || !strings.Contains(events[0].Message.ZH, "安装锁") {
		t.Errorf("lock message = %+v", events[0].Message)
	}
	if s.lock.lease.staleOwner != "" {
		t.Errorf("free lock reported as taken over from %q", s.lock.lease.staleOwner)
	}

	s.releaseLock()
	if logs.Len() != 0 {
		t.Errorf("release logged: %s", logs.String())
	}
}

func TestWindowsLockBusyIsRefused(t *testing.T) {
	conn, _ := startWindowsLab(t,
		replay{match: matchLock("acquire"), stdout: lockOutput("patrol-lock: not-held", "patrol-lock: owner "+otherOwner), exit: lockBusyExit},
	)
	var events []StepEvent
	var logs bytes.Buffer
	s := windowsLockSession(t, conn, &events, &logs)

	_, err := windowsOps{}.lock(context.Background(), s, testLockDir, testLockOwner)
	var held *LockHeldError
	if !errors.As(err, &held) {
		t.Fatalf("lock = %v, want a *LockHeldError", err)
	}
	if held.Owner != otherOwner || held.Host != "seal-db-1" {
		t.Errorf("LockHeldError = %+v, want owner %q on seal-db-1", held, otherOwner)
	}
	if !strings.Contains(held.Message().ZH, "r-win-0") || !strings.Contains(held.Message().ZH, "已被另一次补丁安装运行锁定") {
		t.Errorf("Chinese refusal = %q", held.Message().ZH)
	}

	if s.acquireLock(context.Background(), Phase{Kind: PhaseProduction}) {
		t.Fatal("acquireLock succeeded on a held lock")
	}
	if len(events) != 1 || events[0].Status != StatusFailed || !strings.Contains(events[0].Message.EN, "run r-win-0") {
		t.Errorf("events = %+v, want one failed lock naming run r-win-0", events)
	}
	if got := s.r.result("seal-db-1").Error; !strings.Contains(got, "locked by another patch apply run") {
		t.Errorf("host error = %q", got)
	}
}

func TestWindowsLockStaleTakeoverIsReported(t *testing.T) {
	conn, _ := startWindowsLab(t,
		replay{match: matchLock("acquire"), stdout: lockOutput(
			"patrol-lock: taken-over 2024-05-01T01:00:00Z",
			"patrol-lock: acquired 2024-05-01T02:05:00Z",
			"patrol-lock: owner "+otherOwner)},
		replay{match: matchLock("release"), stdout: lockOutput("patrol-lock: released 2024-05-01T02:05:03Z", "patrol-lock: owner "+testLockOwner)},
	)
	var events []StepEvent
	var logs bytes.Buffer
	s := windowsLockSession(t, conn, &events, &logs)

	if !s.acquireLock(context.Background(), Phase{Kind: PhaseProduction}) {
		t.Fatalf("acquireLock failed: %+v", events)
	}
	if len(events) != 2 {
		t.Fatalf("events = %+v, want the takeover and the held lock", events)
	}
	takeover := events[0]
	if takeover.Step != StepLock || takeover.Status != StatusOK {
		t.Errorf("takeover event = %+v", takeover)
	}
	for _, text := range []string{takeover.Message.EN, takeover.Message.ZH} {
		if !strings.Contains(text, otherOwner) || !strings.Contains(text, "2024-05-01T01:00:00Z") {
			t.Errorf("takeover message %q does not name the old owner and its lease end", text)
		}
	}
	if !strings.Contains(takeover.Message.ZH, "接管") {
		t.Errorf("Chinese takeover message = %q", takeover.Message.ZH)
	}
	if events[1].Status != StatusOK || !strings.Contains(events[1].Message.EN, "apply lock held") {
		t.Errorf("second event = %+v, want the held lock", events[1])
	}
}

func TestWindowsLockRenew(t *testing.T) {
	conn, _ := startWindowsLab(t,
		replay{match: matchLock("acquire"), stdout: lockOutput("patrol-lock: acquired 2024-05-01T02:05:00Z", "patrol-lock: owner ")},
		replay{match: matchLock("renew"), stdout: lockOutput("patrol-lock: renewed 2024-05-01T02:06:40Z", "patrol-lock: owner "+testLockOwner)},
		replay{match: matchLock("release"), stdout: lockOutput("patrol-lock: released 2024-05-01T02:06:41Z", "patrol-lock: owner "+testLockOwner)},
	)
	var events []StepEvent
	var logs bytes.Buffer
	s := windowsLockSession(t, conn, &events, &logs)
	lock, err := windowsOps{}.lock(context.Background(), s, testLockDir, testLockOwner)
	if err != nil {
		t.Fatal(err)
	}
	s.lock = lock

	if err := lock.lease.renew(context.Background()); err != nil {
		t.Fatalf("renew: %v", err)
	}
	if err := lock.lostErr(); err != nil {
		t.Errorf("lostErr after a renewal = %v", err)
	}
}

func TestWindowsLockLostStopsHost(t *testing.T) {
	conn, _ := startWindowsLab(t,
		replay{match: matchLock("acquire"), stdout: lockOutput("patrol-lock: acquired 2024-05-01T02:05:00Z", "patrol-lock: owner ")},
		replay{match: matchLock("renew"), stdout: lockOutput("patrol-lock: not-held", "patrol-lock: owner "+otherOwner), exit: lockBusyExit},
		replay{match: matchLock("release"), stdout: lockOutput("patrol-lock: not-held", "patrol-lock: owner "+otherOwner)},
	)
	var events []StepEvent
	var logs bytes.Buffer
	s := windowsLockSession(t, conn, &events, &logs)
	lock, err := windowsOps{}.lock(context.Background(), s, testLockDir, testLockOwner)
	if err != nil {
		t.Fatal(err)
	}
	s.lock = lock

	err = lock.lease.renew(context.Background())
	var lost *LockLostError
	if !errors.As(err, &lost) || lost.Owner != otherOwner {
		t.Fatalf("renew = %v, want a *LockLostError naming %q", err, otherOwner)
	}
	if !errors.Is(lock.lostErr(), err) {
		t.Errorf("lostErr = %v, want %v", lock.lostErr(), err)
	}

	w := &HostWork{Host: s.host, Items: []WorkItem{
		{Patch: windowsPatch("KB4012213", MethodWUSA)},
		{Patch: windowsPatch("KB4019213", MethodWUSA)},
	}}
	if s.installItems(context.Background(), Phase{Kind: PhaseProduction}, w, nil) {
		t.Fatal("installItems reported success with a lost lock")
	}
	var lockFailed, done bool
	var left []string
	for _, e := range events {
		switch {
		case e.Step == StepLock && e.Status == StatusFailed:
			lockFailed = strings.Contains(e.Message.EN, "was lost") && strings.Contains(e.Message.EN, "r-win-0") &&
				strings.Contains(e.Message.ZH, "安装锁已丢失")
		case e.Step == StepLeft:
			left = append(left, e.Patch)
		case e.Step == StepDone:
			done = true
		case e.Step != StepLeft:
			t.Errorf("unexpected step %+v", e)
		}
	}
	if !lockFailed {
		t.Errorf("no failed lock step naming the new owner in both languages: %+v", events)
	}
	if strings.Join(left, ",") != "KB4012213,KB4019213" {
		t.Errorf("left patches = %v, want both", left)
	}
	if !done {
		t.Error("host not marked done")
	}
	if got := s.r.result("seal-db-1").Error; !strings.Contains(got, "apply lock of host seal-db-1 was lost") {
		t.Errorf("host error = %q", got)
	}

	s.releaseLock()
	if !strings.Contains(logs.String(), "another run holds it") || !strings.Contains(logs.String(), "r-win-0") {
		t.Errorf("release of a lost lock not logged with the new owner: %s", logs.String())
	}
}

func TestWindowsLockScriptErrorIsReported(t *testing.T) {
	conn, _ := startWindowsLab(t,
		replay{match: matchLock("acquire"), exit: 1},
	)
	var events []StepEvent
	var logs bytes.Buffer
	s := windowsLockSession(t, conn, &events, &logs)
	_, err := windowsOps{}.lock(context.Background(), s, testLockDir, testLockOwner)
	if err == nil || !strings.Contains(err.Error(), "the acquire script exited with 1") {
		t.Errorf("lock = %v, want the script's exit status", err)
	}
}

// psSingleQuoted reads the PowerShell single-quoted literal at the start of
// s and returns its value and the text after it.
func psSingleQuoted(t *testing.T, s string) (string, string) {
	t.Helper()
	runes := []rune(s)
	if len(runes) == 0 || runes[0] != '\'' {
		t.Fatalf("no single-quoted literal at %q", s)
	}
	isQuote := func(r rune) bool { return strings.ContainsRune("'\u2018\u2019\u201A\u201B", r) }
	var b strings.Builder
	for i := 1; i < len(runes); i++ {
		if !isQuote(runes[i]) {
			b.WriteRune(runes[i])
			continue
		}
		if i+1 < len(runes) && isQuote(runes[i+1]) {
			b.WriteRune(runes[i])
			i++
			continue
		}
		return b.String(), string(runes[i+1:])
	}
	t.Fatalf("unterminated literal in %q", s)
	return "", ""
}

func TestWindowsLockScriptQuotesValues(t *testing.T) {
	owner := "run r'1, user \"$env:USERNAME\" `n on o\u2019ps; $(Remove-Item C:\\x) started now\r\nsecond line"
	dir := `C:\Patch's $dir`
	script := windowsLockScript(lockActionRenew, dir, owner, 5*time.Minute)

	want := map[string]string{
		"$action": lockActionRenew,
		"$dir":    dir,
		"$owner":  strings.ReplaceAll(strings.ReplaceAll(owner, "\r\n", " "), "\n", " "),
	}
	found := map[string]bool{}
	for _, line := range strings.Split(script, "\r\n") {
		name, literal, ok := strings.Cut(line, " = ")
		expected, wanted := want[name]
		if !ok || !wanted || found[name] {
			continue
		}
		found[name] = true
		got, rest := psSingleQuoted(t, literal)
		if got != expected || rest != "" {
			t.Errorf("%s = %q followed by %q, want %q alone", name, got, rest, expected)
		}
	}
	for name := range want {
		if !found[name] {
			t.Errorf("script does not set %s:\n%s", name, script)
		}
	}
	if !strings.Contains(script, "\r\n$lease = 300\r\n") {
		t.Errorf("script does not set $lease = 300")
	}
	if strings.Contains(strings.ReplaceAll(script, "\r\n", ""), "\n") {
		t.Errorf("script has a bare LF line end")
	}
	if _, fits := winrmconn.PowerShellCommandLine(script); !fits {
		t.Errorf("lock script of %d characters does not fit one command line", len(script))
	}
}

func TestParseLockReply(t *testing.T) {
	out := []byte("WARNING: something unrelated\r\npatrol-lock: taken-over 2024-05-01T01:00:00Z\r\n" +
		"patrol-lock: acquired 2024-05-01T02:05:00Z\r\npatrol-lock: owner " + otherOwner + "\r\n")
	got := parseLockReply(out)
	want := lockReply{Status: "acquired", Until: "2024-05-01T02:05:00Z", Owner: otherOwner, TakenOver: "2024-05-01T01:00:00Z"}
	if got != want {
		t.Errorf("parseLockReply = %+v, want %+v", got, want)
	}
	if got := parseLockReply([]byte("patrol-lock: not-held\r\npatrol-lock: owner \r\n")); got != (lockReply{Status: "not-held"}) {
		t.Errorf("parseLockReply of an empty lock = %+v", got)
	}
}
