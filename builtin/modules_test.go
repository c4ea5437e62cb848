package builtin_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"patrol/builtin"
	"patrol/inventory"
	"patrol/module"
	"patrol/playbooks"
	"patrol/transport/local"
)

// testHost is the host the modules run on: this machine through the local
// transport, under an inventory name that is not its hostname.
var testHost = &inventory.Host{Name: "web1", Address: "127.0.0.1", Connection: inventory.ConnLocal, OS: "debian"}

func registry() *module.Registry {
	r := module.NewRegistry()
	builtin.Register(r)
	return r
}

// runTask parses a playbook with the one task given as YAML, renders its
// arguments as the runner does and runs its module on testHost.
func runTask(t *testing.T, checkMode bool, task string) (module.Result, error) {
	t.Helper()
	return runTaskCtx(t, context.Background(), checkMode, task)
}

func runTaskCtx(t *testing.T, ctx context.Context, checkMode bool, task string) (module.Result, error) {
	t.Helper()
	var book strings.Builder
	book.WriteString("- hosts: all\n  tasks:\n")
	for _, line := range strings.Split(strings.TrimRight(task, "\n"), "\n") {
		book.WriteString("    " + line + "\n")
	}
	pb, err := playbooks.Parse("test.yml", []byte(book.String()), registry())
	if err != nil {
		t.Fatalf("parse task:\n%s\n%v", book.String(), err)
	}
	tk := pb.Plays[0].Tasks[0]
	args, err := tk.ResolveArgs(playbooks.MergeVars(testHost, pb.Plays[0], nil))
	if err != nil {
		t.Fatalf("resolve arguments: %v", err)
	}
	env := &module.Env{
		Host:      testHost,
		Conn:      local.New(),
		CheckMode: checkMode,
		Log:       slog.New(slog.DiscardHandler),
		Now:       time.Now,
	}
	return tk.Spec.Run(ctx, env, args)
}

func mustRun(t *testing.T, task string) module.Result {
	t.Helper()
	res, err := runTask(t, false, task)
	if err != nil {
		t.Fatalf("task:\n%s\nerror: %v", task, err)
	}
	return res
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestCommandArgv(t *testing.T) {
	res := mustRun(t, `- command:
    argv: [printf, "%s|", "a b", "$HOME", "*"]`)
	if res.Stdout != "a b|$HOME|*|" {
		t.Errorf("Stdout = %q, want each argv item as one word, unexpanded", res.Stdout)
	}
	if res.Failed || res.RC != 0 || !res.Changed {
		t.Errorf("result = %+v, want rc 0, changed, not failed", res)
	}
}

func TestCommandCmdIsSplitNotExpanded(t *testing.T) {
	res := mustRun(t, `- command: printf '%s|' "a b" $HOME x\ y`)
	if want := "a b|$HOME|x y|"; res.Stdout != want {
		t.Errorf("Stdout = %q, want %q", res.Stdout, want)
	}
}

func TestCommandOkCodes(t *testing.T) {
	res := mustRun(t, `- command:
    argv: [sh, -c, "exit 100"]
    ok_codes: [0, 100]`)
	if res.Failed {
		t.Errorf("exit 100 with ok_codes [0, 100] failed: %s", res.Msg)
	}
	if res.RC != 100 {
		t.Errorf("RC = %d, want 100", res.RC)
	}

	res = mustRun(t, `- command:
    argv: [sh, -c, "exit 1"]
    ok_codes: [0, 100]`)
	if !res.Failed {
		t.Error("exit 1 with ok_codes [0, 100] did not fail")
	}
	if res.RC != 1 || !strings.Contains(res.Msg, "exit code 1") {
		t.Errorf("RC = %d, Msg = %q; want rc 1 and a message naming exit code 1", res.RC, res.Msg)
	}

	res = mustRun(t, `- command: sh -c "exit 2"`)
	if !res.Failed || res.RC != 2 {
		t.Errorf("exit 2 with default ok_codes: Failed = %v, RC = %d; want failed, rc 2", res.Failed, res.RC)
	}
}

func TestCommandBadOkCodes(t *testing.T) {
	_, err := runTask(t, false, `- command:
    cmd: "true"
    ok_codes: [zero]`)
	if err == nil || !strings.Contains(err.Error(), "ok_codes") {
		t.Errorf("err = %v, want one naming ok_codes", err)
	}
}

func TestCommandChdir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "with space's")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	res := mustRun(t, fmt.Sprintf(`- command:
    cmd: pwd
    chdir: %q`, dir))
	if got := strings.TrimSpace(res.Stdout); got != dir {
		t.Errorf("pwd = %q, want %q", got, dir)
	}

	res = mustRun(t, fmt.Sprintf(`- command:
    argv: [printf, "%%s|", "$PWD", "a b"]
    chdir: %q`, dir))
	if want := "$PWD|a b|"; res.Stdout != want {
		t.Errorf("Stdout with chdir = %q, want %q: arguments must stay unexpanded", res.Stdout, want)
	}
}

func TestCommandChdirMissing(t *testing.T) {
	res := mustRun(t, `- command:
    cmd: "true"
    chdir: /nonexistent/patrol-test`)
	if !res.Failed {
		t.Error("command in a missing folder succeeded")
	}
}

func TestCommandStdin(t *testing.T) {
	res := mustRun(t, `- command:
    cmd: cat
    stdin: "fed on stdin"`)
	if res.Stdout != "fed on stdin" {
		t.Errorf("Stdout = %q", res.Stdout)
	}
}

func TestCommandNothingToRun(t *testing.T) {
	_, err := runTask(t, false, `- command:
    cmd: "  "`)
	if err == nil {
		t.Error("a command with no words succeeded")
	}
	_, err = runTask(t, false, `- command: echo 'unterminated`)
	if err == nil || !strings.Contains(err.Error(), "unterminated") {
		t.Errorf("err = %v, want an unterminated quote error", err)
	}
}

func TestCommandCheckMode(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "marker")
	res, err := runTask(t, true, "- command: touch "+marker)
	if err != nil {
		t.Fatal(err)
	}
	if exists(marker) {
		t.Error("check mode ran the command")
	}
	if !res.Changed || !strings.Contains(res.Msg, "would run") || !strings.Contains(res.Msg, marker) {
		t.Errorf("result = %+v, want changed and a message saying what would run", res)
	}
}

func TestShell(t *testing.T) {
	res := mustRun(t, `- shell: echo abc | tr a-c x-z; echo "$HOME" >/dev/null; exit 3`)
	if res.Stdout != "xyz\n" {
		t.Errorf("Stdout = %q, want pipes interpreted", res.Stdout)
	}
	if !res.Failed || res.RC != 3 {
		t.Errorf("Failed = %v, RC = %d; want failed with rc 3", res.Failed, res.RC)
	}

	dir := t.TempDir()
	res = mustRun(t, fmt.Sprintf(`- shell:
    cmd: pwd; cat
    chdir: %q
    stdin: "in"
    ok_codes: [0]`, dir))
	if want := dir + "\nin"; res.Stdout != want {
		t.Errorf("Stdout = %q, want %q", res.Stdout, want)
	}

	res = mustRun(t, `- shell:
    cmd: "true"
    chdir: /nonexistent/patrol-test`)
	if !res.Failed {
		t.Error("shell in a missing folder succeeded")
	}
}

func TestShellCheckMode(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "marker")
	res, err := runTask(t, true, "- shell: echo x > "+marker)
	if err != nil {
		t.Fatal(err)
	}
	if exists(marker) {
		t.Error("check mode ran the shell text")
	}
	if !res.Changed || !strings.Contains(res.Msg, "would run") {
		t.Errorf("result = %+v", res)
	}
}

// writeScript writes a local script that prints its own path and arguments.
func writeScript(t *testing.T, shebang bool, perm os.FileMode) string {
	t.Helper()
	text := `printf '%s|' "$0" "$@"` + "\nexit ${PATROL_TEST_EXIT:-0}\n"
	if shebang {
		text = "#!/bin/sh\n" + text
	}
	path := filepath.Join(t.TempDir(), "probe.sh")
	if err := os.WriteFile(path, []byte(text), perm); err != nil {
		t.Fatal(err)
	}
	return path
}

// remoteScript returns the path the script ran from, which it printed first.
func remoteScript(t *testing.T, stdout string) string {
	t.Helper()
	path, _, _ := strings.Cut(stdout, "|")
	if !strings.HasPrefix(path, "/tmp/.patrol-script-") {
		t.Errorf("script ran as %q, want a temporary file under /tmp", path)
	}
	return path
}

func TestScriptRunsWithArgsAndIsRemoved(t *testing.T) {
	src := writeScript(t, true, 0o644)
	res := mustRun(t, fmt.Sprintf(`- script:
    src: %q
    args: [one, "two words", "$HOME"]`, src))

	remote := remoteScript(t, res.Stdout)
	if want := remote + "|one|two words|$HOME|"; res.Stdout != want {
		t.Errorf("Stdout = %q, want %q", res.Stdout, want)
	}
	if res.Failed || !res.Changed {
		t.Errorf("result = %+v, want changed, not failed", res)
	}
	if exists(remote) {
		t.Errorf("uploaded script %s was not removed", remote)
	}
}

func TestScriptInterpreter(t *testing.T) {
	src := writeScript(t, false, 0o600)
	res := mustRun(t, fmt.Sprintf(`- script:
    src: %q
    interpreter: /bin/sh -u
    args: [x]`, src))

	remote := remoteScript(t, res.Stdout)
	if want := remote + "|x|"; res.Stdout != want {
		t.Errorf("Stdout = %q, want %q", res.Stdout, want)
	}
	if exists(remote) {
		t.Errorf("uploaded script %s was not removed", remote)
	}
}

func TestScriptFailureStillRemoved(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "fail.sh")
	if err := os.WriteFile(src, []byte("#!/bin/sh\nprintf %s \"$0\"\nexit 4\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	res := mustRun(t, fmt.Sprintf(`- script: %q`, src))
	if !res.Failed || res.RC != 4 {
		t.Errorf("Failed = %v, RC = %d; want failed with rc 4", res.Failed, res.RC)
	}
	if exists(res.Stdout) {
		t.Errorf("uploaded script %s was not removed after it failed", res.Stdout)
	}
}

func TestScriptCheckModeAndMissingSource(t *testing.T) {
	src := writeScript(t, true, 0o755)
	res, err := runTask(t, true, fmt.Sprintf(`- script: %q`, src))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || !strings.Contains(res.Msg, "would upload and run") || res.Stdout != "" {
		t.Errorf("check mode result = %+v, want a message and no run", res)
	}

	_, err = runTask(t, false, `- script: /nonexistent/patrol-test.sh`)
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/patrol-test.sh") {
		t.Errorf("err = %v, want one naming the missing script", err)
	}
}

func perm(t *testing.T, path string) os.FileMode {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode().Perm()
}

func TestCopyFromSrc(t *testing.T) {
	dir := t.TempDir()
	src, dest := filepath.Join(dir, "app.conf"), filepath.Join(dir, "etc-app.conf")
	content := []byte("listen 8080\n")
	if err := os.WriteFile(src, content, 0o644); err != nil {
		t.Fatal(err)
	}
	task := fmt.Sprintf(`- copy:
    src: %q
    dest: %q
    mode: "0640"`, src, dest)

	res := mustRun(t, task)
	if !res.Changed {
		t.Error("first copy: Changed = false")
	}
	if got, _ := os.ReadFile(dest); string(got) != string(content) {
		t.Errorf("dest = %q", got)
	}
	if m := perm(t, dest); m != 0o640 {
		t.Errorf("mode = %o, want 640", m)
	}
	if got := res.Data["sha256"]; got != sha256Hex(content) {
		t.Errorf("Data[sha256] = %v, want %s", got, sha256Hex(content))
	}
	if got := res.Data["dest"]; got != dest {
		t.Errorf("Data[dest] = %v", got)
	}

	res = mustRun(t, task)
	if res.Changed {
		t.Errorf("second copy: Changed = true, Msg %q", res.Msg)
	}
	if !strings.Contains(res.Msg, "unchanged") {
		t.Errorf("second copy: Msg = %q", res.Msg)
	}
}

func TestCopyContent(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "motd")
	task := fmt.Sprintf(`- copy:
    content: "巡检 daily\n"
    dest: %q`, dest)

	res := mustRun(t, task)
	if got, _ := os.ReadFile(dest); string(got) != "巡检 daily\n" {
		t.Errorf("dest = %q", got)
	}
	if !res.Changed || res.Data["sha256"] != sha256Hex([]byte("巡检 daily\n")) {
		t.Errorf("result = %+v", res)
	}
	if res := mustRun(t, task); res.Changed {
		t.Error("second copy of the same content: Changed = true")
	}
}

func TestCopyEmptyContent(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "empty")
	mustRun(t, fmt.Sprintf(`- copy:
    content: ""
    dest: %q`, dest))
	info, err := os.Stat(dest)
	if err != nil || info.Size() != 0 {
		t.Errorf("dest = %v, %v; want an empty file", info, err)
	}
}

func TestCopyModeOnly(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "conf")
	mustRun(t, fmt.Sprintf("- copy: {content: x, dest: %q, mode: \"0644\"}", dest))
	res := mustRun(t, fmt.Sprintf("- copy: {content: x, dest: %q, mode: \"0600\"}", dest))
	if !res.Changed {
		t.Error("changing only the mode: Changed = false")
	}
	if m := perm(t, dest); m != 0o600 {
		t.Errorf("mode = %o, want 600", m)
	}
}

func TestCopyCheckMode(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "new.conf")
	res, err := runTask(t, true, fmt.Sprintf("- copy: {content: x, dest: %q}", dest))
	if err != nil {
		t.Fatal(err)
	}
	if exists(dest) {
		t.Error("check mode created the file")
	}
	if !res.Changed || !strings.Contains(res.Msg, "would copy") {
		t.Errorf("result = %+v", res)
	}
}

func TestCopyInvalidArguments(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		task string
		want string
	}{
		{fmt.Sprintf("- copy: {dest: %q}", filepath.Join(dir, "a")), "exactly one of src and content"},
		{fmt.Sprintf("- copy: {src: /etc/hostname, content: x, dest: %q}", filepath.Join(dir, "b")), "exactly one of src and content"},
		{fmt.Sprintf("- copy: {content: x, dest: %q, mode: \"0999\"}", filepath.Join(dir, "c")), "not an octal file mode"},
		{fmt.Sprintf("- copy: {content: x, dest: %q, mode: \"4755\"}", filepath.Join(dir, "d")), "setuid"},
		{fmt.Sprintf("- copy: {src: /nonexistent/patrol-src, dest: %q}", filepath.Join(dir, "e")), "/nonexistent/patrol-src"},
	} {
		_, err := runTask(t, false, tc.task)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.task, err, tc.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("invalid copies left files: %v", entries)
	}
}

func TestFetch(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "remote", "app.log")
	if err := os.MkdirAll(filepath.Dir(src), 0o755); err != nil {
		t.Fatal(err)
	}
	content := []byte("2024-05-01 ERROR disk full\n")
	if err := os.WriteFile(src, content, 0o600); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(dir, "fetched")

	res := mustRun(t, fmt.Sprintf("- fetch: {src: %q, dest: %q}", src, dest))
	want := filepath.Join(dest, "web1", "app.log")
	if got, err := os.ReadFile(want); err != nil || string(got) != string(content) {
		t.Errorf("%s = %q, %v", want, got, err)
	}
	if res.Data["dest"] != want || res.Data["sha256"] != sha256Hex(content) || !res.Changed {
		t.Errorf("result = %+v", res)
	}
	if res := mustRun(t, fmt.Sprintf("- fetch: {src: %q, dest: %q}", src, dest)); res.Changed {
		t.Error("second fetch of the same file: Changed = true")
	}

	flat := filepath.Join(dir, "flat", "copy.log")
	res = mustRun(t, fmt.Sprintf("- fetch: {src: %q, dest: %q, flat: true}", src, flat))
	if got, err := os.ReadFile(flat); err != nil || string(got) != string(content) {
		t.Errorf("flat %s = %q, %v", flat, got, err)
	}
	if res.Data["dest"] != flat {
		t.Errorf("Data[dest] = %v, want %s", res.Data["dest"], flat)
	}

	folder := filepath.Join(dir, "flat-folder") + "/"
	res = mustRun(t, fmt.Sprintf("- fetch: {src: %q, dest: %q, flat: true}", src, folder))
	if got, err := os.ReadFile(filepath.Join(folder, "app.log")); err != nil || string(got) != string(content) {
		t.Errorf("flat fetch into %s: %q, %v; want the file under its own name", folder, got, err)
	}
	res = mustRun(t, fmt.Sprintf("- fetch: {src: %q, dest: %q, flat: true}", src, strings.TrimSuffix(folder, "/")))
	if res.Changed || res.Data["dest"] != filepath.Join(folder, "app.log") {
		t.Errorf("flat fetch into an existing folder = %+v, want the same file, unchanged", res)
	}

	_, err := runTask(t, false, fmt.Sprintf("- fetch: {src: /nonexistent/patrol.log, dest: %q}", dest))
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/patrol.log") {
		t.Errorf("err = %v, want one naming the missing file", err)
	}
}

// freePort returns a loopback port that nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func listen(t *testing.T, port int) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln
}

func TestWaitForStarted(t *testing.T) {
	ln := listen(t, 0)
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	// No host argument: the host's address, 127.0.0.1, is probed.
	res := mustRun(t, fmt.Sprintf("- wait_for: {port: %d, timeout: 10s}", port))
	if res.Failed {
		t.Errorf("open port: %s", res.Msg)
	}
	if res.Changed {
		t.Error("wait_for reported a change")
	}
	if !strings.Contains(res.Msg, "open") {
		t.Errorf("Msg = %q", res.Msg)
	}
}

func TestWaitForStartedLater(t *testing.T) {
	port := freePort(t)
	opened := make(chan net.Listener, 1)
	go func() {
		time.Sleep(300 * time.Millisecond)
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			opened <- nil
			return
		}
		opened <- ln
	}()

	res := mustRun(t, fmt.Sprintf("- wait_for: {host: 127.0.0.1, port: %d, timeout: 20s, sleep: 100ms}", port))
	ln := <-opened
	if ln == nil {
		t.Fatal("could not listen on the port")
	}
	defer ln.Close()
	if res.Failed {
		t.Errorf("port opened after 300ms: %s", res.Msg)
	}
}

func TestWaitForStopped(t *testing.T) {
	ln := listen(t, 0)
	port := ln.Addr().(*net.TCPAddr).Port
	go func() {
		time.Sleep(300 * time.Millisecond)
		ln.Close()
	}()

	res := mustRun(t, fmt.Sprintf("- wait_for: {host: 127.0.0.1, port: %d, state: stopped, timeout: 20s, sleep: 100ms}", port))
	if res.Failed {
		t.Errorf("port closed after 300ms: %s", res.Msg)
	}
	if !strings.Contains(res.Msg, "closed") {
		t.Errorf("Msg = %q", res.Msg)
	}
}

func TestWaitForTimeout(t *testing.T) {
	port := freePort(t)
	res := mustRun(t, fmt.Sprintf("- wait_for: {host: 127.0.0.1, port: %d, timeout: 500ms, sleep: 100ms}", port))
	if !res.Failed {
		t.Fatal("closed port: wait_for did not fail")
	}
	if !strings.Contains(res.Msg, "still closed") || !strings.Contains(res.Msg, "500ms") {
		t.Errorf("Msg = %q, want it to say the port is still closed after 500ms", res.Msg)
	}

	ln := listen(t, 0)
	defer ln.Close()
	res = mustRun(t, fmt.Sprintf("- wait_for: {host: 127.0.0.1, port: %d, state: stopped, timeout: 300ms, sleep: 100ms}", ln.Addr().(*net.TCPAddr).Port))
	if !res.Failed || !strings.Contains(res.Msg, "still open") {
		t.Errorf("open port with state stopped: %+v", res)
	}
}

func TestWaitForCancel(t *testing.T) {
	port := freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := runTaskCtx(t, ctx, false, fmt.Sprintf("- wait_for: {host: 127.0.0.1, port: %d, timeout: 60s, sleep: 100ms}", port))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the context's error", err)
	}
}

func TestSpecsDeclareChanges(t *testing.T) {
	changes := map[string]bool{"command": true, "shell": true, "script": true, "copy": true, "fetch": false, "wait_for": false, "reboot": true}
	for _, s := range builtin.Specs() {
		want, ok := changes[s.Name]
		if !ok {
			t.Errorf("unexpected module %s", s.Name)
			continue
		}
		if s.Changes != want {
			t.Errorf("%s: Changes = %v, want %v", s.Name, s.Changes, want)
		}
		if s.Check {
			t.Errorf("%s: marked as a check", s.Name)
		}
	}
}

func TestCopyRelativeSrcUsesBaseDir(t *testing.T) {
	base, destDir := t.TempDir(), t.TempDir()
	if err := os.MkdirAll(filepath.Join(base, "files"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "files", "motd"), []byte("welcome\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(destDir, "motd")
	spec, _ := registry().Lookup("copy")
	env := &module.Env{Host: testHost, Conn: local.New(), Log: slog.New(slog.DiscardHandler), Now: time.Now, BaseDir: base}

	res, err := spec.Run(context.Background(), env, module.Args{"src": "files/motd", "dest": dest})

	if err != nil {
		t.Fatalf("copy: %v", err)
	}
	if !res.Changed {
		t.Error("copy reported no change for a new file")
	}
	got, err := os.ReadFile(dest)
	if err != nil || string(got) != "welcome\n" {
		t.Errorf("dest = %q, %v; want the file from the playbook's folder", got, err)
	}
}
