package patches

// yum cannot run on the Debian machine the tests run on, so these tests use
// output that others recorded from yum 3.4.3 on CentOS/RHEL 7 hosts and
// published (testdata/yum/README.md names each source). The parser table
// reads the files directly. The end-to-end test runs the RPM installer over
// a real OpenSSH server on 127.0.0.1 whose PATH starts with a shell script
// named yum. The tests use that shim only because yum is missing here. It
// logs its arguments, checks that the files it is given exist, and replays
// a recording with the recorded exit code.

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"patrol/i18n"
	"patrol/internal/sshtest"
	"patrol/inventory"
	"patrol/transport"
)

// yumRecording reads a file of testdata/yum, or returns "" for an empty name.
func yumRecording(t *testing.T, name string) string {
	t.Helper()
	if name == "" {
		return ""
	}
	data, err := os.ReadFile(filepath.Join("testdata", "yum", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// yumPatch is a patch of method yum with n files.
func yumPatch(n int) *Patch {
	p := &Patch{ID: "openssh-9.9p1-1.el7", Method: MethodYum, Source: "catalog.yml:12"}
	for i := range n {
		p.Files = append(p.Files, File{Path: "centos7/pkg-" + strconv.Itoa(i) + ".rpm"})
	}
	return p
}

// remoteFiles returns n paths as the copy step names them on the host.
func remoteFiles(n int) []string {
	var out []string
	for i := range n {
		out = append(out, "/var/tmp/patrol/pkg-"+strconv.Itoa(i)+".rpm")
	}
	return out
}

func TestClassifyYumRecordings(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stdout string
		stderr string
		exit   int
		files  int
		// already is the expected AlreadyInstalled when the install
		// succeeds; wantError lists text the *InstallError must contain.
		already   bool
		wantError []string
	}{
		{name: "installed", stdout: "public-el77-localinstall-complete.txt", files: 4},
		{name: "one of four already there", stdout: "public-el77-localinstall-mixed-complete.txt", files: 4},
		{name: "non-fatal scriptlet failure", stdout: "public-el7-localupdate-scriptlet-complete.txt", files: 1},
		{name: "all already installed", stdout: "public-el79-localinstall-nothing-to-do.txt", files: 3, already: true},
		{name: "install spelling exits 1", stdout: "public-el7-install-error-nothing-to-do.out", stderr: "public-el7-install-error-nothing-to-do.err",
			exit: 1, files: 1, already: true},
		{name: "file not accounted for", stdout: "public-el79-localinstall-nothing-to-do.txt", files: 4,
			wantError: []string{"3 of the 4 files", "4 个文件中只有 3 个", "exit code 0"}},
		{name: "error nothing to do for two files", stdout: "public-el7-install-error-nothing-to-do.out", stderr: "public-el7-install-error-nothing-to-do.err",
			exit: 1, files: 2, wantError: []string{"Error: Nothing to do", "exit code 1"}},
		{name: "copied file unreadable", stdout: "public-el7-localinstall-cannot-open.txt", files: 1,
			wantError: []string{"Cannot open: files/files/kernel-rt-devel-4.18.0-305.34.2.rt7.107.el8_4.x86_64.rpm. Skipping.", "complete RPM", "完整的 RPM"}},
		{name: "missing dependency", stdout: "public-el72-localinstall-requires.txt", exit: 1, files: 1,
			wantError: []string{"Error: Package: 1:nginx-1.20.1-1.el7.ngx.x86_64 (/nginx-1.20.1-1.el7.ngx.x86_64) Requires: libcrypto.so.10(OPENSSL_1.0.2)(64bit)",
				"add the packages that meet this requirement", "依赖"}},
		{name: "update breaks installed packages", stdout: "public-el72-localinstall-updated-by.txt", exit: 1, files: 1,
			wantError: []string{"Error: Package: 1:openssl-1.0.1e-42.el7_1.9.x86_64 (@anaconda/7.2) Requires: openssl-libs(x86-64) = 1:1.0.1e-42.el7_1.9",
				"1 more dependency problem", "另有 1 处依赖问题"}},
		{name: "file conflict", stdout: "public-el7-transaction-check-conflict.txt", exit: 1, files: 1,
			wantError: []string{"file /etc/yum/yum-cron-hourly.conf from install of yum-cron-3.4.3-168.el7.centos.noarch conflicts with file from package yum-3.4.3-132.el7.centos.0.1.noarch",
				"conflict", "冲突"}},
		{name: "disk full", stderr: "public-amzn2-transaction-check-diskspace.err", exit: 1, files: 1,
			wantError: []string{"At least 7MB more space needed on the / filesystem.", "free space", "空间"}},
		{name: "lock held then cancelled", stdout: "public-el7-lock-wait-cancel.txt", exit: 1, files: 1,
			wantError: []string{"Existing lock /var/run/yum.pid: another copy is running as pid 14754.", "PackageKit", "yum 锁"}},
		{name: "lock held with exit_on_lock", stdout: "constructed-el7-lock-exit-on-lock.out", stderr: "constructed-el7-lock-exit-on-lock.err", exit: 1, files: 1,
			wantError: []string{"Existing lock /var/run/yum.pid: another copy is running as pid 14754.", "wait until it ends", "等它结束"}},
		{name: "package not signed", stdout: "public-el7-not-signed.txt", exit: 1, files: 1,
			wantError: []string{"Package pghero-2.0.2-1502421801.851e4397.centos7.x86_64.rpm is not signed", "localpkg_gpgcheck=1", "rpm --import", "--nogpgcheck"}},
		// Plugin chatter alone is no verdict, whatever the exit code.
		{name: "plugin chatter with exit 0", stdout: "public-el7-check-update-plugins-only.txt", files: 1,
			wantError: []string{"neither \"Complete!\" nor", "exit code 0"}},
		{name: "check-update status 100", stdout: "public-el7-check-update-plugins-only.txt", exit: 100, files: 1,
			wantError: []string{"exit code 100", "yum check-update", "never", "not counted as installed", "未计为已安装"}},
		{name: "complete with status 100", stdout: "public-el77-localinstall-complete.txt", exit: 100, files: 4,
			wantError: []string{"exit code 100", "yum check-update"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := yumPatch(tc.files)
			target := Target{Host: &inventory.Host{Name: "hotel-app-3"}}
			res := transport.Result{Stdout: []byte(yumRecording(t, tc.stdout)), Stderr: []byte(yumRecording(t, tc.stderr)), ExitCode: tc.exit}
			in := Outcome{ExitCode: tc.exit, Output: trimOutput(res.Stdout, res.Stderr)}

			got, err := classifyYum(p, target, remoteFiles(tc.files), res)

			checkInstallError(t, err, tc.wantError)
			if got.ExitCode != tc.exit || got.Output != in.Output {
				t.Errorf("Outcome keeps exit code %d and %d bytes of output, want %d and %d", got.ExitCode, len(got.Output), tc.exit, len(in.Output))
			}
			if err == nil && got.AlreadyInstalled != tc.already {
				t.Errorf("AlreadyInstalled = %v, want %v", got.AlreadyInstalled, tc.already)
			}
			var ie *InstallError
			if errors.As(err, &ie) {
				if ie.Host != "hotel-app-3" || ie.Patch != p.ID || ie.ExitCode != tc.exit || ie.Output != in.Output {
					t.Errorf("InstallError = host %q patch %q exit %d, want hotel-app-3 %s %d with the output", ie.Host, ie.Patch, ie.ExitCode, p.ID, tc.exit)
				}
				if got.AlreadyInstalled {
					t.Error("a failed install is marked AlreadyInstalled")
				}
			}
		})
	}
}

func TestYumInstallArgv(t *testing.T) {
	got := yumInstallArgv([]string{"/var/tmp/patrol/a.rpm", "/var/tmp/patrol/b c.rpm"})
	want := []string{"yum", "-y", "-d", "2", "--disablerepo=*", "--setopt=exit_on_lock=1", "localinstall", "/var/tmp/patrol/a.rpm", "/var/tmp/patrol/b c.rpm"}
	if !slices.Equal(got, want) {
		t.Errorf("argv = %q, want %q", got, want)
	}
}

// yumShim is the script named yum on the test host's PATH. It logs each
// call (arguments, LC_ALL) to calls.log, fails with 97 when an .rpm
// argument is not a file, and prints responses/<scenario>.out and .err
// with the exit code in .code, where scenario is the content of the file
// scenario. A call without a response exits with 98 so that the test fails.
const yumShim = `#!/bin/sh
# Replaces yum 3.4.3, which cannot run on the Debian test machine.
state='@STATE@'
{
	echo "call lc_all=$LC_ALL"
	for a in "$@"; do printf 'arg %s\n' "$a"; done
} >> "$state/calls.log"
for a in "$@"; do
	case "$a" in
	*.rpm) [ -f "$a" ] || { echo "shim: $a is not a file" >&2; exit 97; } ;;
	esac
done
scenario=$(cat "$state/scenario")
[ -f "$state/responses/$scenario.code" ] || { echo "shim: no response for $scenario" >&2; exit 98; }
[ -f "$state/responses/$scenario.out" ] && cat "$state/responses/$scenario.out"
[ -f "$state/responses/$scenario.err" ] && cat "$state/responses/$scenario.err" >&2
exit "$(cat "$state/responses/$scenario.code")"
`

// yumLab is a root login on a real sshd whose PATH finds the yum shim first.
// Its target has no Become, because sudo would replace PATH with its
// secure_path, which does not contain the shim.
type yumLab struct {
	t     *testing.T
	state string
	conn  *recordingConn
	host  *inventory.Host
}

// recordingConn passes every call to the real connection and keeps the
// commands, so that a test can check what the installer sent.
type recordingConn struct {
	transport.Connection
	mu   sync.Mutex
	cmds []transport.Command
}

func (c *recordingConn) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	c.mu.Lock()
	c.cmds = append(c.cmds, cmd)
	c.mu.Unlock()
	return c.Connection.Run(ctx, cmd)
}

func newYumLab(t *testing.T) *yumLab {
	t.Helper()
	base := t.TempDir()
	l := &yumLab{t: t, state: filepath.Join(base, "state")}
	bin := filepath.Join(base, "bin")
	home := filepath.Join(base, "home")
	for _, d := range []string{bin, home, filepath.Join(l.state, "responses")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script := strings.ReplaceAll(yumShim, "@STATE@", l.state)
	if err := os.WriteFile(filepath.Join(bin, "yum"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}

	// sshd keeps only its first SetEnv line, so this one also sets the
	// empty HOME that the harness would otherwise set.
	srv := sshtest.Start(t, sshtest.Options{ExtraConfig: []string{
		"SetEnv PATH=" + bin + ":/usr/sbin:/usr/bin:/sbin:/bin HOME=" + home,
	}})
	l.conn = &recordingConn{Connection: dialTest(t, srv)}
	// rpm_root keeps the real rpm of the Query and Rollback calls away
	// from this machine's own package database.
	l.host = &inventory.Host{Name: "hotel-app-3", OS: "centos7", Vars: map[string]any{"rpm_root": filepath.Join(base, "rpmroot")}}
	return l
}

// respond makes the next calls print the recordings and exit with code.
func (l *yumLab) respond(stdout, stderr string, code int) {
	l.t.Helper()
	for ext, name := range map[string]string{".out": stdout, ".err": stderr} {
		path := filepath.Join(l.state, "responses", "next"+ext)
		os.Remove(path)
		if name != "" {
			if err := os.WriteFile(path, []byte(yumRecording(l.t, name)), 0o644); err != nil {
				l.t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(l.state, "responses", "next.code"), []byte(strconv.Itoa(code)+"\n"), 0o644); err != nil {
		l.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(l.state, "scenario"), []byte("next\n"), 0o644); err != nil {
		l.t.Fatal(err)
	}
}

// yumCall is one logged call of the shim.
type yumCall struct {
	lcAll string
	args  []string
}

func (l *yumLab) calls() []yumCall {
	l.t.Helper()
	var calls []yumCall
	for _, line := range shimCallLog(l.t, l.state) {
		if v, ok := strings.CutPrefix(line, "call lc_all="); ok {
			calls = append(calls, yumCall{lcAll: v})
		} else if v, ok := strings.CutPrefix(line, "arg "); ok && len(calls) > 0 {
			calls[len(calls)-1].args = append(calls[len(calls)-1].args, v)
		}
	}
	return calls
}

func (l *yumLab) target() Target {
	return Target{Host: l.host, Conn: l.conn, Log: func(string, i18n.Text) {}}
}

// TestYumInstallOverSSH copies real RPMs to the host, runs the installer
// against the shim for each recorded outcome and checks the exact command
// line yum received.
func TestYumInstallOverSSH(t *testing.T) {
	l := newYumLab(t)
	ctx := context.Background()

	// The copy step creates the upload folder on real runs.
	upload := filepath.Join(t.TempDir(), "upload")
	if err := os.Mkdir(upload, 0o700); err != nil {
		t.Fatal(err)
	}
	var remote []string
	for _, name := range []string{"openssh", "openssh-clients", "openssh-server"} {
		local := buildRPM(t, name, "9.9p1")
		dst := filepath.Join(upload, filepath.Base(local))
		if _, err := l.conn.Put(ctx, local, dst, transport.PutOptions{Mode: 0o600}); err != nil {
			t.Fatalf("copy %s: %v", local, err)
		}
		remote = append(remote, dst)
	}

	for _, tc := range []struct {
		name           string
		stdout, stderr string
		code           int
		files          int
		want           Outcome
		wantOutput     []string
		wantError      []string
	}{
		{name: "installed", stdout: "public-el77-localinstall-complete.txt", files: 3,
			want: Outcome{}, wantOutput: []string{"Complete!"}},
		{name: "already installed", stdout: "public-el79-localinstall-nothing-to-do.txt", files: 3,
			want: Outcome{AlreadyInstalled: true}, wantOutput: []string{"does not update installed package."}},
		{name: "error nothing to do", stdout: "public-el7-install-error-nothing-to-do.out", stderr: "public-el7-install-error-nothing-to-do.err", code: 1, files: 1,
			want: Outcome{AlreadyInstalled: true, ExitCode: 1}, wantOutput: []string{"does not update installed package.\nError: Nothing to do"}},
		{name: "missing dependency", stdout: "public-el72-localinstall-requires.txt", code: 1, files: 1,
			want: Outcome{ExitCode: 1}, wantError: []string{"Requires: libcrypto.so.10(OPENSSL_1.0.2)(64bit)", "hotel-app-3"}},
		{name: "lock held", stdout: "constructed-el7-lock-exit-on-lock.out", stderr: "constructed-el7-lock-exit-on-lock.err", code: 1, files: 2,
			want: Outcome{ExitCode: 1}, wantError: []string{"Existing lock /var/run/yum.pid"}, wantOutput: []string{"exiting as configured by exit_on_lock"}},
		{name: "status 100", stdout: "public-el7-check-update-plugins-only.txt", code: 100, files: 3,
			want: Outcome{ExitCode: 100}, wantError: []string{"exit code 100"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l.respond(tc.stdout, tc.stderr, tc.code)
			before := len(l.calls())
			files := remote[:tc.files]

			got, err := RPM{}.Install(ctx, l.target(), yumPatch(tc.files), files)

			checkInstallError(t, err, tc.wantError)
			if got.AlreadyInstalled != tc.want.AlreadyInstalled || got.ExitCode != tc.want.ExitCode {
				t.Errorf("Outcome = already %v, exit %d; want %+v", got.AlreadyInstalled, got.ExitCode, tc.want)
			}
			for _, w := range tc.wantOutput {
				if !strings.Contains(got.Output, w) {
					t.Errorf("Output lacks %q:\n%s", w, got.Output)
				}
			}
			calls := l.calls()[before:]
			if len(calls) != 1 {
				t.Fatalf("yum ran %d times, want once: %+v", len(calls), calls)
			}
			wantArgs := append([]string{"-y", "-d", "2", "--disablerepo=*", "--setopt=exit_on_lock=1", "localinstall"}, files...)
			if !slices.Equal(calls[0].args, wantArgs) {
				t.Errorf("yum arguments = %q, want %q", calls[0].args, wantArgs)
			}
			if calls[0].lcAll != "C" {
				t.Errorf("yum ran with LC_ALL=%q, want C so that it prints the English messages the classifier reads", calls[0].lcAll)
			}
		})
	}
}

// TestYumPatchNeverQueriesErrata runs the RPM installer through a yum
// patch's whole life (query, install, rollback) and checks that nothing it
// sends queries yum for security errata. CentOS 7 repositories carry no
// updateinfo metadata, so `yum --security` finds nothing there even when
// security fixes are pending; severity must come from the catalog only.
func TestYumPatchNeverQueriesErrata(t *testing.T) {
	l := newYumLab(t)
	ctx := context.Background()
	local := buildRPM(t, "openssh", "9.9p1")
	dst := filepath.Join(t.TempDir(), filepath.Base(local))
	if _, err := l.conn.Put(ctx, local, dst, transport.PutOptions{Mode: 0o600}); err != nil {
		t.Fatal(err)
	}
	p := yumPatch(1)
	p.Verify.Packages = []string{"openssh-9.9p1-1.noarch"}

	before, err := RPM{}.Query(ctx, l.target())
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	l.respond("public-el77-localinstall-complete.txt", "", 0)
	if _, err := (RPM{}).Install(ctx, l.target(), p, []string{dst}); err != nil {
		t.Fatalf("Install: %v", err)
	}
	if _, err := (RPM{}).Rollback(ctx, l.target(), p, before, nil); err != nil {
		t.Fatalf("Rollback: %v", err)
	}

	l.conn.mu.Lock()
	cmds := slices.Clone(l.conn.cmds)
	l.conn.mu.Unlock()
	if len(cmds) < 3 {
		t.Fatalf("the installer sent %d commands, want at least the query, the install and the rollback check", len(cmds))
	}
	for _, cmd := range cmds {
		text := strings.Join(cmd.Argv, " ") + " " + cmd.Script
		for _, banned := range []string{"--security", "--sec-severity", "updateinfo", "check-update", "list-sec", "--bugfix"} {
			if strings.Contains(text, banned) {
				t.Errorf("the installer sent %q, which contains %q", text, banned)
			}
		}
	}
	for _, c := range l.calls() {
		if !slices.Contains(c.args, "localinstall") {
			t.Errorf("yum ran with %q; the installer must call yum only for localinstall", c.args)
		}
	}
}
