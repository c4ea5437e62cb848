package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"patrol/internal/sshtest"
)

// testRPMs are the packages the patch tests install into rpm roots: a base
// package with busybox as /bin/sh for the scriptlets (rpm runs them chrooted
// into the root), patrol-test-app 1.0 as the state before the patch, and the
// patch: patrol-test-app 1.1 and the new package patrol-test-new 1.0.
// patrol-test-broken fails its %pre scriptlet, so rpm skips it and installs
// the other packages of the transaction.
type testRPMs struct {
	base, app10, app11, new10, broken string
}

// appSpec builds patrol-test-app. Version 1.1 has a %pre scriptlet that
// touches /tmp/pre-started-1.1 and then waits until /tmp/release exists, so
// that a test can stop patrol while rpm is in the middle of the install.
const appSpec = `Name: patrol-test-app
Version: %{ver}
Release: 1
Summary: patrol test application
License: MIT
BuildArch: noarch
%global debug_package %{nil}
%global __os_install_post %{nil}
%description
Test package of the patrol patch tests.
%if "%{ver}" == "1.1"
%pre
touch /tmp/pre-started-1.1
while [ ! -e /tmp/release ]; do sleep 0.2; done
%endif
%install
mkdir -p %{buildroot}/opt/patrol-test-app
echo %{ver} > %{buildroot}/opt/patrol-test-app/version
%files
/opt/patrol-test-app/version
`

const newSpec = `Name: patrol-test-new
Version: 1.0
Release: 1
Summary: package the patch adds
License: MIT
BuildArch: noarch
%global debug_package %{nil}
%global __os_install_post %{nil}
%description
Test package of the patrol patch tests.
%install
mkdir -p %{buildroot}/opt/patrol-test-new
echo new > %{buildroot}/opt/patrol-test-new/version
%files
/opt/patrol-test-new/version
`

const brokenSpec = `Name: patrol-test-broken
Version: 1.0
Release: 1
Summary: package whose install fails
License: MIT
BuildArch: noarch
%global debug_package %{nil}
%global __os_install_post %{nil}
%description
Test package of the patrol patch tests.
%pre
exit 1
%install
mkdir -p %{buildroot}/opt/patrol-test-broken
echo broken > %{buildroot}/opt/patrol-test-broken/version
%files
/opt/patrol-test-broken/version
`

// baseSpec packs the static busybox of the busybox-static Debian package
// as /bin/sh and the applets the scriptlets call.
const baseSpec = `Name: patrol-test-base
Version: 1
Release: 1
Summary: shell for the scriptlets of the patrol test packages
License: GPL-2.0
BuildArch: x86_64
AutoReqProv: no
%global debug_package %{nil}
%global __os_install_post %{nil}
%description
busybox as /bin/sh.
%install
mkdir -p %{buildroot}/bin %{buildroot}/tmp
cp /bin/busybox %{buildroot}/bin/busybox
for a in sh sleep touch; do ln -s busybox %{buildroot}/bin/$a; done
%files
/bin/busybox
/bin/sh
/bin/sleep
/bin/touch
%dir /tmp
`

func buildTestRPMs(t *testing.T) testRPMs {
	t.Helper()
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Fatal("/bin/busybox is missing: run scripts/test-deps.sh (Debian package busybox-static)")
	}
	dir := t.TempDir()
	build := func(spec, content string, defines ...string) {
		t.Helper()
		path := writeFile(t, filepath.Join(dir, spec), content)
		args := []string{"-bb", "--define", "_topdir " + filepath.Join(dir, "top")}
		for _, d := range defines {
			args = append(args, "--define", d)
		}
		out, err := exec.Command("rpmbuild", append(args, path)...).CombinedOutput()
		if err != nil {
			t.Fatalf("rpmbuild %s: %v\n%s", spec, err, out)
		}
	}
	build("base.spec", baseSpec)
	build("app.spec", appSpec, "ver 1.0")
	build("app.spec", appSpec, "ver 1.1")
	build("new.spec", newSpec)
	build("broken.spec", brokenSpec)
	rpms := filepath.Join(dir, "top", "RPMS")
	return testRPMs{
		base:   filepath.Join(rpms, "x86_64", "patrol-test-base-1-1.x86_64.rpm"),
		app10:  filepath.Join(rpms, "noarch", "patrol-test-app-1.0-1.noarch.rpm"),
		app11:  filepath.Join(rpms, "noarch", "patrol-test-app-1.1-1.noarch.rpm"),
		new10:  filepath.Join(rpms, "noarch", "patrol-test-new-1.0-1.noarch.rpm"),
		broken: filepath.Join(rpms, "noarch", "patrol-test-broken-1.0-1.noarch.rpm"),
	}
}

// patchHost is one inventory host of the patch tests: an sshd endpoint on
// this machine with its own rpm root and patch folder, so the machine's own
// rpm database is never touched.
type patchHost struct {
	name     string
	srv      *sshtest.Server
	root     string
	patchDir string
	staging  bool
	pair     string
	vars     map[string]string
}

// rpmDBPath is where CentOS keeps the rpm database. Debian's rpm keeps it in
// ~/.rpmdb instead, so the tests name it on their own rpm command lines and
// give the sshd sessions' HOME an .rpmmacros that sets it.
const rpmDBPath = "/var/lib/rpm"

// newPatchHost prepares the rpm root with the base package and
// patrol-test-app 1.0 installed, and /tmp/release in place so the 1.1
// scriptlet does not wait.
func newPatchHost(t *testing.T, name string, srv *sshtest.Server, rpms testRPMs) *patchHost {
	t.Helper()
	dir := t.TempDir()
	h := &patchHost{name: name, srv: srv, root: filepath.Join(dir, "root"), patchDir: filepath.Join(dir, "patches"), vars: map[string]string{}}
	writeFile(t, filepath.Join(srv.Dir, ".rpmmacros"), "%_dbpath "+rpmDBPath+"\n")
	runCmd(t, "rpm", "--root", h.root, "--dbpath", rpmDBPath, "--initdb")
	runCmd(t, "rpm", "--root", h.root, "--dbpath", rpmDBPath, "-i", rpms.base, rpms.app10)
	h.release(t)
	return h
}

// release creates the file the 1.1 scriptlet waits for.
func (h *patchHost) release(t *testing.T) {
	t.Helper()
	writeFile(t, filepath.Join(h.root, "tmp", "release"), "")
}

func (h *patchHost) hold(t *testing.T) {
	t.Helper()
	if err := os.Remove(filepath.Join(h.root, "tmp", "release")); err != nil {
		t.Fatal(err)
	}
}

// packages lists the root's installed packages, sorted.
func (h *patchHost) packages(t *testing.T) []string {
	t.Helper()
	out := runCmd(t, "rpm", "--root", h.root, "--dbpath", rpmDBPath, "-qa", "--qf", "%{NAME}-%{VERSION}-%{RELEASE}\n")
	lines := strings.Fields(out)
	sort.Strings(lines)
	return lines
}

func (h *patchHost) wantPackages(t *testing.T, want ...string) {
	t.Helper()
	got := h.packages(t)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s has packages %v, want %v", h.name, got, want)
	}
}

func runCmd(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// patchInventory writes the inventory of the hosts, all in system seal.
func patchInventory(t *testing.T, dir string, hosts ...*patchHost) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("vars:\n  user: root\nhosts:\n")
	for _, h := range hosts {
		fmt.Fprintf(&b, "  %s:\n    address: 127.0.0.1\n    port: %d\n    key_file: %s\n    os: centos7\n    system: seal\n",
			h.name, h.srv.Port, h.srv.ClientKeyPath)
		if h.staging {
			b.WriteString("    staging: true\n")
		}
		if h.pair != "" {
			fmt.Fprintf(&b, "    pair: %s\n", h.pair)
		}
		fmt.Fprintf(&b, "    vars:\n      rpm_root: %s\n      patch_dir: %s\n", h.root, h.patchDir)
		keys := make([]string, 0, len(h.vars))
		for k := range h.vars {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "      %s: %q\n", k, h.vars[k])
		}
	}
	return writeFile(t, filepath.Join(dir, "inventory.yml"), b.String())
}

// importPatch imports patrol-test-app 1.1 and patrol-test-new 1.0 as one
// urgent patch, with patrol-test-app 1.0 as its rollback file, each with
// its checksum as the delivered one.
func importPatch(t *testing.T, home, dir, catalog string, rpms testRPMs, extra ...string) {
	t.Helper()
	args := append([]string{"patch", "import", rpms.app11, rpms.new10, "--catalog", catalog,
		"--id", "RHSA-test-app", "--title", "test app 1.1", "--severity", "urgent", "--method", "rpm",
		"--os", "centos7", "--system", "seal", "--rollback-file", rpms.app10,
		"--sha256", sha256Hex(t, rpms.app11), "--sha256", sha256Hex(t, rpms.new10), "--rollback-sha256", sha256Hex(t, rpms.app10)}, extra...)
	res := runPatrol(t, home, dir, args...)
	if res.code != exitOK {
		t.Fatalf("patch import: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}

// waitFor polls cond every 50ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rpmRunningIn reports whether an rpm process works on root, read from /proc.
func rpmRunningIn(root string) bool {
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, path := range cmdlines {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		args := strings.Split(string(data), "\x00")
		if len(args) > 0 && filepath.Base(args[0]) == "rpm" && slices.Contains(args, root) {
			return true
		}
	}
	return false
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// sha256Hex returns the SHA-256 of a file as hexadecimal digits.
func sha256Hex(t *testing.T, path string) string {
	t.Helper()
	return fmt.Sprintf("%x", sha256File(t, path))
}
