package local

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"patrol/transport"
)

// Compile-time check that Conn implements the shared interface.
var _ transport.Connection = (*Conn)(nil)

func run(t *testing.T, cmd transport.Command) transport.Result {
	t.Helper()
	res, err := New().Run(context.Background(), cmd)
	if err != nil {
		t.Fatalf("Run(%+v): %v", cmd, err)
	}
	return res
}

func TestRunExitCodes(t *testing.T) {
	for _, code := range []int{0, 1, 3, 100} {
		res := run(t, transport.Command{Script: "exit " + strconv.Itoa(code)})
		if res.ExitCode != code {
			t.Errorf("exit %d: ExitCode = %d", code, res.ExitCode)
		}
	}
}

func TestRunStdoutStderr(t *testing.T) {
	res := run(t, transport.Command{Script: "echo out; echo err >&2"})
	if got := string(res.Stdout); got != "out\n" {
		t.Errorf("Stdout = %q, want %q", got, "out\n")
	}
	if got := string(res.Stderr); got != "err\n" {
		t.Errorf("Stderr = %q, want %q", got, "err\n")
	}
}

func TestRunArgvIsNotInterpreted(t *testing.T) {
	res := run(t, transport.Command{Argv: []string{"printf", "%s|", "a b", "$HOME", "*"}})
	if got, want := string(res.Stdout), "a b|$HOME|*|"; got != want {
		t.Errorf("Stdout = %q, want %q", got, want)
	}
}

func TestRunMissingProgram(t *testing.T) {
	res := run(t, transport.Command{Argv: []string{"/nonexistent/patrol-test-program"}})
	if res.ExitCode != 127 {
		t.Errorf("ExitCode = %d, want 127 as a shell gives for a missing program", res.ExitCode)
	}
}

func TestRunSetsLCAllC(t *testing.T) {
	t.Setenv("LC_ALL", "zh_CN.UTF-8")
	res := run(t, transport.Command{Script: `printf %s "$LC_ALL"`})
	if got := string(res.Stdout); got != "C" {
		t.Errorf("LC_ALL = %q, want C", got)
	}
}

func TestRunEnv(t *testing.T) {
	res := run(t, transport.Command{
		Script: `printf '%s|%s' "$PATROL_A" "$PATROL_B"`,
		Env:    map[string]string{"PATROL_A": "one", "PATROL_B": "two words"},
	})
	if got, want := string(res.Stdout), "one|two words"; got != want {
		t.Errorf("Stdout = %q, want %q", got, want)
	}
}

func TestRunStdin(t *testing.T) {
	res := run(t, transport.Command{Argv: []string{"cat"}, Stdin: strings.NewReader("line 1\nline 2\n")})
	if got, want := string(res.Stdout), "line 1\nline 2\n"; got != want {
		t.Errorf("Stdout = %q, want %q", got, want)
	}
}

// pidGone reports whether the process is gone or a zombie waiting to be reaped,
// which runs no more code either.
func pidGone(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	// The state follows the command name, which is in parentheses.
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	return len(fields) > 0 && fields[0] == "Z"
}

// waitPIDGone polls for up to 5 seconds, because a killed process takes a moment
// to be reparented and reaped.
func waitPIDGone(t *testing.T, pid int) {
	t.Helper()
	for range 50 {
		if pidGone(pid) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	t.Errorf("process %d still runs after the command was killed", pid)
}

func readPID(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read PID file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("PID file holds %q: %v", data, err)
	}
	return pid
}

// backgroundSleep is a script that starts a child sleep, records its PID once it
// runs and waits for it, so that killing only the shell would leave it behind.
func backgroundSleep(pidFile string) string {
	return "sleep 30 & echo $! > " + pidFile + ".tmp && mv " + pidFile + ".tmp " + pidFile + "; wait"
}

func TestRunTimeoutKillsProcessGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	start := time.Now()
	res, err := New().Run(context.Background(), transport.Command{Script: backgroundSleep(pidFile), Timeout: 300 * time.Millisecond})

	if !errors.Is(err, transport.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if !strings.Contains(err.Error(), "300ms") {
		t.Errorf("err = %q, want it to name the timeout 300ms", err)
	}
	if res.ExitCode != -1 {
		t.Errorf("ExitCode = %d, want -1 for a killed command", res.ExitCode)
	}
	if elapsed := time.Since(start); elapsed > 20*time.Second {
		t.Errorf("Run returned after %s, so the 30s sleep was waited for", elapsed)
	}
	waitPIDGone(t, readPID(t, pidFile))
}

func TestRunCallerDeadlineIsTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := New().Run(ctx, transport.Command{Script: "sleep 30"})

	if !errors.Is(err, transport.ErrTimeout) {
		t.Errorf("err = %v, want ErrTimeout", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want it to wrap context.DeadlineExceeded", err)
	}
	if strings.Contains(err.Error(), "after 0s") {
		t.Errorf("err = %q names a zero timeout; the deadline came from the caller", err)
	}
}

func TestRunContextCancel(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for range 100 {
			if _, err := os.Stat(pidFile); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
	}()
	_, err := New().Run(ctx, transport.Command{Script: backgroundSleep(pidFile)})

	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if errors.Is(err, transport.ErrTimeout) {
		t.Errorf("err = %v: a cancel is not a timeout", err)
	}
	waitPIDGone(t, readPID(t, pidFile))
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode().Perm()
}

// leftovers returns the names in dir that look like Put's temporary files.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, ".*.patrol-*"))
	if err != nil {
		t.Fatal(err)
	}
	return matches
}

func TestPutCopiesAndVerifies(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	writeFile(t, src, "hello patrol\n")

	res, err := New().Put(context.Background(), src, dst, transport.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed {
		t.Error("Changed = false for a new file")
	}
	if res.SHA256 != sha256Hex("hello patrol\n") {
		t.Errorf("SHA256 = %s, want %s", res.SHA256, sha256Hex("hello patrol\n"))
	}
	if res.Bytes != int64(len("hello patrol\n")) {
		t.Errorf("Bytes = %d", res.Bytes)
	}
	got, err := os.ReadFile(dst)
	if err != nil || string(got) != "hello patrol\n" {
		t.Errorf("dst = %q, %v", got, err)
	}
	if m := mode(t, dst); m != 0o644 {
		t.Errorf("mode of new file = %o, want 644", m)
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("temporary files left behind: %v", l)
	}
}

func TestPutSkipsIdentical(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	writeFile(t, src, "same\n")
	writeFile(t, dst, "same\n")
	before, _ := os.Stat(dst)

	res, err := New().Put(context.Background(), src, dst, transport.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed {
		t.Error("Changed = true for identical content")
	}
	if res.Bytes != 0 {
		t.Errorf("Bytes = %d, want 0 when skipped", res.Bytes)
	}
	if res.SHA256 != sha256Hex("same\n") {
		t.Errorf("SHA256 = %s", res.SHA256)
	}
	after, _ := os.Stat(dst)
	if !os.SameFile(before, after) {
		t.Error("dst was replaced although it already had the content")
	}
}

func TestPutMode(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	writeFile(t, src, "secret-free config\n")

	if _, err := New().Put(context.Background(), src, dst, transport.PutOptions{Mode: 0o600}); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, dst); m != 0o600 {
		t.Errorf("mode = %o, want 600", m)
	}

	// The same content with another mode changes only the mode.
	res, err := New().Put(context.Background(), src, dst, transport.PutOptions{Mode: 0o640})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed {
		t.Error("Changed = false although the mode changed")
	}
	if m := mode(t, dst); m != 0o640 {
		t.Errorf("mode = %o, want 640", m)
	}

	// No mode keeps the existing file's mode.
	writeFile(t, src, "new content\n")
	if _, err := New().Put(context.Background(), src, dst, transport.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, dst); m != 0o640 {
		t.Errorf("mode after a copy without mode = %o, want the existing 640", m)
	}
}

func TestPutOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("chown needs root; CI runs as root")
		}
		t.Skip("chown needs root")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatalf("user nobody: %v", err)
	}
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	writeFile(t, src, "owned\n")
	writeFile(t, dst, "owned\n")

	res, err := New().Put(context.Background(), src, dst, transport.PutOptions{Owner: "nobody", CheckMode: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed {
		t.Error("check mode: Changed = false although the owner differs")
	}
	info, _ := os.Stat(dst)
	if uid := info.Sys().(*syscall.Stat_t).Uid; strconv.Itoa(int(uid)) == nobody.Uid {
		t.Error("check mode changed the owner")
	}

	if _, err := New().Put(context.Background(), src, dst, transport.PutOptions{Owner: "nobody"}); err != nil {
		t.Fatal(err)
	}
	info, _ = os.Stat(dst)
	if uid := info.Sys().(*syscall.Stat_t).Uid; strconv.Itoa(int(uid)) != nobody.Uid {
		t.Errorf("owner uid = %d, want nobody (%s)", uid, nobody.Uid)
	}
	res, err = New().Put(context.Background(), src, dst, transport.PutOptions{Owner: "nobody"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed {
		t.Error("Changed = true although content and owner already match")
	}
}

func TestPutCheckMode(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	writeFile(t, src, "would be copied\n")

	res, err := New().Put(context.Background(), src, dst, transport.PutOptions{CheckMode: true, Mode: 0o600})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed {
		t.Error("Changed = false for a file that does not exist yet")
	}
	if res.SHA256 != sha256Hex("would be copied\n") {
		t.Errorf("SHA256 = %s", res.SHA256)
	}
	if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("check mode created dst: %v", err)
	}

	writeFile(t, dst, "would be copied\n")
	res, err = New().Put(context.Background(), src, dst, transport.PutOptions{CheckMode: true, Mode: 0o600})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed {
		t.Error("Changed = false although the mode would change")
	}
	if m := mode(t, dst); m != 0o644 {
		t.Errorf("check mode changed the mode to %o", m)
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("temporary files left behind: %v", l)
	}
}

func TestPutMissingSource(t *testing.T) {
	dir := t.TempDir()
	_, err := New().Put(context.Background(), filepath.Join(dir, "missing"), filepath.Join(dir, "dst"), transport.PutOptions{})
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("err = %v, want one naming the missing source", err)
	}
}

func TestPutIntoMissingFolderLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	writeFile(t, src, "x")
	_, err := New().Put(context.Background(), src, filepath.Join(dir, "no", "such", "dst"), transport.PutOptions{})
	if err == nil {
		t.Fatal("Put into a missing folder succeeded")
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("temporary files left behind: %v", l)
	}
}

func TestGet(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "remote.log"), filepath.Join(dir, "fetched.log")
	writeFile(t, src, "fetched line\n")

	res, err := New().Get(context.Background(), src, dst)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.SHA256 != sha256Hex("fetched line\n") {
		t.Errorf("Get = %+v", res)
	}
	if got, _ := os.ReadFile(dst); string(got) != "fetched line\n" {
		t.Errorf("dst = %q", got)
	}

	res, err = New().Get(context.Background(), src, dst)
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed {
		t.Error("second Get of the same file: Changed = true")
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("temporary files left behind: %v", l)
	}
}

func TestClose(t *testing.T) {
	if err := New().Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestRunDoesNotPassSecrets(t *testing.T) {
	t.Setenv("PATROL_TEST_SECRET", "s3cret")
	res, err := New().Run(context.Background(), transport.Command{Script: "env"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(res.Stdout), "s3cret") {
		t.Errorf("a variable of patrol's environment reached the command:\n%s", res.Stdout)
	}
	if !strings.Contains(string(res.Stdout), "PATH=") {
		t.Errorf("PATH did not reach the command:\n%s", res.Stdout)
	}
}
