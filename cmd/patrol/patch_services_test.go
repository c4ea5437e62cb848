package main

// The tests of this file apply patches whose catalog entry stops services,
// and check that patrol stops them, installs, starts them again and checks
// them before and after. systemd cannot run on the test machine, because it
// is not PID 1 there, so each test host is a real sshd whose PATH finds a
// shell script named systemctl first. That shim is the only stand-in. The
// services it manages are real busybox httpd processes, stopped by their PID
// and started until their port responds, and the patches are real RPMs
// installed by the real rpm.

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"patrol/internal/sshtest"
	"patrol/journal"
)

// systemctlShim is the script named systemctl on the test hosts' PATH. It
// takes the three calls patrol makes on CentOS: show -p PROPS -- NAMES,
// stop -- NAME and start -- NAME. It logs every call to calls.log in its
// state folder and exits with 99 on any other call, so that a test fails.
//
// A unit is a file units/NAME.service in the shim's own format, a shell
// fragment that sets port, docroot and type. start runs busybox httpd on
// 127.0.0.1:port with docroot and waits until the port responds. When the
// process exits first, the unit becomes failed. With type=notify start then
// fails as systemctl does, and with type=simple it succeeds, because systemd
// reports a simple service started once it has forked it. stop kills the
// process by the PID in run/NAME.service.pid and waits until it is gone.
// show prints the requested properties in the order and block format of
// real systemctl, with LoadState=not-found for a unit without a file.
const systemctlShim = `#!/bin/sh
# Stands in for systemctl only because systemd cannot run as PID 1 on the
# test machine. The services it starts and stops are real processes.
state='@STATE@'
echo "$*" >> "$state/calls.log"

unsupported() {
	echo "shim: unsupported systemctl call: $*" >&2
	exit 99
}

unit_name() {
	case $1 in
	*.*) echo "$1" ;;
	*) echo "$1.service" ;;
	esac
}

# alive PID succeeds when the process exists and is not a zombie.
alive() {
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	[ "$(sed 's/^.*) //' "/proc/$1/stat" | cut -d' ' -f1)" != Z ]
}

main_pid() {
	cat "$state/run/$1.pid" 2>/dev/null
}

active_state() {
	if alive "$(main_pid "$1")"; then
		echo active
	elif [ -e "$state/run/$1.failed" ]; then
		echo failed
	else
		echo inactive
	fi
}

show() {
	[ "$1" = -p ] && [ "$3" = -- ] || unsupported show "$@"
	props=$2
	shift 3
	first=1
	for name in "$@"; do
		u=$(unit_name "$name")
		if [ -f "$state/units/$u" ]; then
			load=loaded
			active=$(active_state "$u")
		else
			load=not-found
			active=inactive
		fi
		case $active in
		active) sub=running ;;
		failed) sub=failed ;;
		*) sub=dead ;;
		esac
		[ $first = 1 ] || echo
		first=0
		for p in Id LoadState ActiveState SubState; do
			case ",$props," in
			*",$p,"*) ;;
			*) continue ;;
			esac
			case $p in
			Id) echo "Id=$u" ;;
			LoadState) echo "LoadState=$load" ;;
			ActiveState) echo "ActiveState=$active" ;;
			SubState) echo "SubState=$sub" ;;
			esac
		done
	done
}

stop() {
	[ "$1" = -- ] && [ $# -eq 2 ] || unsupported stop "$@"
	u=$(unit_name "$2")
	if [ ! -f "$state/units/$u" ]; then
		echo "Failed to stop $u: Unit $u not loaded." >&2
		exit 5
	fi
	pid=$(main_pid "$u")
	if alive "$pid"; then
		kill "$pid"
		# systemd sends SIGKILL after TimeoutStopSec, 90 s by default.
		i=0
		while alive "$pid"; do
			i=$((i + 1))
			[ $i -ne 900 ] || kill -9 "$pid"
			sleep 0.1
		done
	fi
	rm -f "$state/run/$u.pid" "$state/run/$u.failed"
}

start() {
	[ "$1" = -- ] && [ $# -eq 2 ] || unsupported start "$@"
	u=$(unit_name "$2")
	if [ ! -f "$state/units/$u" ]; then
		echo "Failed to start $u: Unit $u not found." >&2
		exit 5
	fi
	alive "$(main_pid "$u")" && return

	. "$state/units/$u"
	rm -f "$state/run/$u.pid" "$state/run/$u.failed"
	setsid /bin/sh -c 'echo $$ > "$1"; exec /bin/busybox httpd -f -p "127.0.0.1:$2" -h "$3"' \
		sh "$state/run/$u.pid" "$port" "$docroot" < /dev/null >> "$state/$u.log" 2>&1 &

	# systemd fails a start after TimeoutStartSec, 90 s by default.
	i=0
	while [ $i -lt 900 ]; do
		pid=$(main_pid "$u")
		if [ -n "$pid" ]; then
			curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/" && return
			if ! alive "$pid"; then
				rm -f "$state/run/$u.pid"
				touch "$state/run/$u.failed"
				[ "$type" = simple ] && return
				echo "Job for $u failed because the control process exited with error code." >&2
				echo "See \"systemctl status $u\" and \"journalctl -xe\" for details." >&2
				exit 1
			fi
		fi
		i=$((i + 1))
		sleep 0.1
	done

	kill -9 "$(main_pid "$u")" 2>/dev/null
	rm -f "$state/run/$u.pid"
	touch "$state/run/$u.failed"
	echo "Job for $u failed because a timeout was exceeded." >&2
	exit 1
}

cmd=$1
[ $# -gt 0 ] && shift
case $cmd in
show) show "$@" ;;
stop) stop "$@" ;;
start) start "$@" ;;
*) unsupported "$cmd" "$@" ;;
esac
`

// portProbe prints "up" when an HTTP server responds on the port in
// /etc/patrol-test-web/port of the rpm root, and "down" otherwise. The %pre
// scriptlet of patrol-test-web runs it chrooted into the root, where busybox
// is the only program and /dev does not exist.
const portProbe = `case "$(echo 'HEAD /health HTTP/1.0' | /bin/busybox nc -w 5 127.0.0.1 "$(/bin/busybox cat /etc/patrol-test-web/port)" 2>&1)" in HTTP/*) echo up ;; *) echo down ;; esac`

// webSpec builds patrol-test-web, whose files are the document root of the
// seal-web service: docroot/page contains the version. Its %pre scriptlet
// appends "VERSION port up" or "VERSION port down" to
// /tmp/patrol-test-web-pre.log, so a test can tell whether the service ran
// while rpm installed the package.
const webSpec = `Name: patrol-test-web
Version: %{ver}
Release: 1
Summary: patrol test web application
License: MIT
BuildArch: noarch
%global debug_package %{nil}
%global __os_install_post %{nil}
%description
Test package of the patrol service tests.
%pre
echo "%{ver} port $(` + portProbe + `)" >> /tmp/patrol-test-web-pre.log
%install
mkdir -p %{buildroot}/opt/patrol-test-web/%{docroot}
echo %{ver} > %{buildroot}/opt/patrol-test-web/%{docroot}/%{page}
%files
/opt/patrol-test-web
`

// webRPMs are the test packages of the service tests: the busybox base
// package of the patch tests, patrol-test-web 1.0 as the state before the
// patch, and three patches. 1.1 is good. 1.2 moves the document root to
// public/, so the seal-web unit, which still points to htdocs/, cannot start
// after the install. 1.3 renames the health page to status, so seal-web
// runs but health_url returns 404.
type webRPMs struct {
	base, web10, web11, web12, web13 string
}

func buildWebRPMs(t *testing.T) webRPMs {
	t.Helper()
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Fatal("/bin/busybox is missing: run scripts/test-deps.sh (Debian package busybox-static)")
	}
	dir := t.TempDir()
	build := func(name, content string, defines ...string) {
		t.Helper()
		spec := writeFile(t, filepath.Join(dir, name), content)
		args := []string{"-bb", "--define", "_topdir " + filepath.Join(dir, "top")}
		for _, d := range defines {
			args = append(args, "--define", d)
		}
		out, err := exec.Command("rpmbuild", append(args, spec)...).CombinedOutput()
		if err != nil {
			t.Fatalf("rpmbuild %s %v: %v\n%s", name, defines, err, out)
		}
	}
	build("base.spec", baseSpec)
	build("web.spec", webSpec, "ver 1.0", "docroot htdocs", "page health")
	build("web.spec", webSpec, "ver 1.1", "docroot htdocs", "page health")
	build("web.spec", webSpec, "ver 1.2", "docroot public", "page health")
	build("web.spec", webSpec, "ver 1.3", "docroot htdocs", "page status")
	rpms := filepath.Join(dir, "top", "RPMS")
	return webRPMs{
		base:  filepath.Join(rpms, "x86_64", "patrol-test-base-1-1.x86_64.rpm"),
		web10: filepath.Join(rpms, "noarch", "patrol-test-web-1.0-1.noarch.rpm"),
		web11: filepath.Join(rpms, "noarch", "patrol-test-web-1.1-1.noarch.rpm"),
		web12: filepath.Join(rpms, "noarch", "patrol-test-web-1.2-1.noarch.rpm"),
		web13: filepath.Join(rpms, "noarch", "patrol-test-web-1.3-1.noarch.rpm"),
	}
}

// serviceHost is a patch test host with the systemctl shim and two running
// services: seal-web serves the document root of patrol-test-web, and
// seal-api serves a folder of its own.
type serviceHost struct {
	*patchHost
	// shim is the systemctl script, and state its folder of unit files,
	// PID files and call log.
	shim, state string
	// webPort and apiPort are the loopback ports of seal-web and seal-api.
	webPort, apiPort string
}

// newServiceHost starts an sshd for the host, installs the base package
// and patrol-test-web 1.0 into its rpm root, and starts both services. The
// services are stopped by their PID when the test ends.
func newServiceHost(t *testing.T, name string, rpms webRPMs, webType string) *serviceHost {
	t.Helper()
	base := t.TempDir()
	bin, home := filepath.Join(base, "bin"), filepath.Join(base, "home")
	h := &serviceHost{shim: filepath.Join(bin, "systemctl"), state: filepath.Join(base, "state"), webPort: closedPort(t), apiPort: closedPort(t)}
	for _, d := range []string{bin, home, filepath.Join(h.state, "units"), filepath.Join(h.state, "run")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, h.shim, strings.ReplaceAll(systemctlShim, "@STATE@", h.state))
	if err := os.Chmod(h.shim, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(home, ".rpmmacros"), "%_dbpath "+rpmDBPath+"\n")

	// sshd keeps only its first SetEnv line, so this one also sets HOME,
	// which the harness would otherwise set to an empty folder.
	srv := sshtest.Start(t, sshtest.Options{ExtraConfig: []string{
		"SetEnv PATH=" + bin + ":/usr/sbin:/usr/bin:/sbin:/bin HOME=" + home,
	}})
	h.patchHost = &patchHost{name: name, srv: srv, root: filepath.Join(base, "root"), patchDir: filepath.Join(base, "patches"), vars: map[string]string{}}
	runCmd(t, "rpm", "--root", h.root, "--dbpath", rpmDBPath, "--initdb")
	runCmd(t, "rpm", "--root", h.root, "--dbpath", rpmDBPath, "-i", rpms.base, rpms.web10)
	writeFile(t, filepath.Join(mkdirAll(t, filepath.Join(h.root, "etc", "patrol-test-web")), "port"), h.webPort+"\n")

	apiDocs := mkdirAll(t, filepath.Join(base, "api"))
	writeFile(t, filepath.Join(apiDocs, "health"), "api\n")
	h.writeUnit(t, "seal-web", webType, h.webPort, filepath.Join(h.root, "opt", "patrol-test-web", "htdocs"))
	h.writeUnit(t, "seal-api", "notify", h.apiPort, apiDocs)
	t.Cleanup(func() {
		for _, unit := range []string{"seal-web", "seal-api"} {
			if pid := h.servicePID(unit); pid > 0 {
				syscall.Kill(pid, syscall.SIGTERM)
			}
		}
	})
	h.systemctl(t, "start", "--", "seal-api")
	h.systemctl(t, "start", "--", "seal-web")

	// The tests check the calls that patrol makes, so the setup's calls go.
	if err := os.Remove(filepath.Join(h.state, "calls.log")); err != nil {
		t.Fatal(err)
	}
	h.vars["health_url"] = "http://127.0.0.1:" + h.webPort + "/health"
	return h
}

func (h *serviceHost) writeUnit(t *testing.T, unit, serviceType, port, docroot string) {
	t.Helper()
	writeFile(t, filepath.Join(h.state, "units", unit+".service"),
		"# unit of the systemctl shim\ntype="+serviceType+"\nport="+port+"\ndocroot="+docroot+"\n")
}

// systemctl runs the shim on this machine, as an operator on the host would
// run systemctl.
func (h *serviceHost) systemctl(t *testing.T, args ...string) {
	t.Helper()
	runCmd(t, h.shim, args...)
}

// servicePID returns the PID of the unit's busybox httpd process when it
// runs, or 0.
func (h *serviceHost) servicePID(unit string) int {
	data, err := os.ReadFile(filepath.Join(h.state, "run", unit+".service.pid"))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if len(fields) == 0 || fields[0] == "Z" || !strings.Contains(string(cmdline), "httpd") {
		return 0
	}
	return pid
}

// health requests /health of a port from this machine and returns the
// status code and body, or 0 and the error when nothing responds.
func health(t *testing.T, port string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://127.0.0.1:" + port + "/health")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err.Error()
	}
	return resp.StatusCode, strings.TrimSpace(string(body))
}

// wantServing fails the test unless the unit's process runs and its
// /health returns 200 with body.
func (h *serviceHost) wantServing(t *testing.T, unit, port, body string) {
	t.Helper()
	if h.servicePID(unit) == 0 {
		t.Errorf("%s: no %s process runs", h.name, unit)
	}
	if code, got := health(t, port); code != http.StatusOK || got != body {
		t.Errorf("%s: %s /health returned %d %q, want 200 %q", h.name, unit, code, got, body)
	}
}

// calls returns the shim calls patrol made on the host.
func (h *serviceHost) calls(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(h.state, "calls.log"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(data), "\n"), "\n")
}

// preLog returns the lines the %pre scriptlets of patrol-test-web wrote on
// the host after the setup.
func (h *serviceHost) preLog(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(h.root, "tmp", "patrol-test-web-pre.log"))
	if err != nil {
		t.Fatal(err)
	}
	// The first line is from the setup's install of 1.0.
	return strings.Split(strings.TrimRight(string(data), "\n"), "\n")[1:]
}

func mkdirAll(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// serviceEnv is a seal system whose hosts run seal-web and seal-api, with a
// catalog that holds one patrol-test-web patch.
type serviceEnv struct {
	home, dir string
	rpms      webRPMs
	catalog   string
	hosts     []*serviceHost
}

// newServiceEnv prepares one host per name. The first is the staging host.
func newServiceEnv(t *testing.T, webType string, names ...string) *serviceEnv {
	t.Helper()
	e := &serviceEnv{home: t.TempDir(), dir: t.TempDir(), rpms: buildWebRPMs(t)}
	e.catalog = filepath.Join(e.dir, "catalog.yml")
	var servers []*sshtest.Server
	for i, name := range names {
		h := newServiceHost(t, name, e.rpms, webType)
		h.staging = i == 0
		e.hosts = append(e.hosts, h)
		servers = append(servers, h.srv)
	}
	trustHost(t, e.home, servers...)
	return e
}

func (e *serviceEnv) inventory(t *testing.T) string {
	t.Helper()
	hosts := make([]*patchHost, len(e.hosts))
	for i, h := range e.hosts {
		hosts[i] = h.patchHost
	}
	return patchInventory(t, e.dir, hosts...)
}

// importWebPatch imports patrol-test-web in a new version as patch
// RHSA-test-web, with 1.0 as its rollback file and the services to stop.
func (e *serviceEnv) importWebPatch(t *testing.T, file string, stop ...string) {
	t.Helper()
	args := []string{"patch", "import", file, "--catalog", e.catalog,
		"--id", "RHSA-test-web", "--title", "test web application", "--severity", "urgent", "--method", "rpm",
		"--os", "centos7", "--system", "seal", "--rollback-file", e.rpms.web10,
		"--sha256", sha256Hex(t, file), "--rollback-sha256", sha256Hex(t, e.rpms.web10)}
	for _, name := range stop {
		args = append(args, "--stop-service", name)
	}
	if res := runPatrol(t, e.home, e.dir, args...); res.code != exitOK {
		t.Fatalf("patch import: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}

func (e *serviceEnv) apply(t *testing.T, extra ...string) result {
	t.Helper()
	args := append([]string{"patch", "apply", "-i", e.inventory(t), "--catalog", e.catalog}, extra...)
	return runPatrol(t, e.home, e.dir, args...)
}

// journalMessages returns the messages of the latest journal by host, patch
// and step, in "host patch step status" keys.
func (e *serviceEnv) journalMessages(t *testing.T) map[string]string {
	t.Helper()
	path, err := journal.Latest(filepath.Join(e.home, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	_, records, _, err := journal.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	msgs := map[string]string{}
	for _, rec := range records {
		key := rec.Host + " " + rec.Play + " " + rec.Task + " " + string(rec.Status)
		msgs[key] += rec.Msg + "\n"
	}
	return msgs
}

// wantInOrder fails the test unless the output contains the strings in
// this order.
func wantInOrder(t *testing.T, what, out string, want ...string) {
	t.Helper()
	rest, previous := out, "the start"
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("%s lacks %q after %q:\n%s", what, w, previous, out)
			return
		}
		rest, previous = rest[i+len(w):], w
	}
}

// wantSubstrings fails the test for each string the output lacks.
func wantSubstrings(t *testing.T, what, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, out)
		}
	}
}

var (
	webUnpatched = []string{"patrol-test-base-1-1", "patrol-test-web-1.0-1"}
	webPatched   = []string{"patrol-test-base-1-1", "patrol-test-web-1.1-1"}
)

// TestPatchApplyStopsAndStartsService applies a patch that stops seal-web:
// seal-web is down while rpm installs, runs the new version afterwards, and
// the pre- and post-checks see both services and the health_url.
func TestPatchApplyStopsAndStartsService(t *testing.T) {
	e := newServiceEnv(t, "notify", "seal-test")
	h := e.hosts[0]
	h.vars["patch_services"] = "seal-api"
	e.importWebPatch(t, e.rpms.web11, "seal-web")
	if out := runCmd(t, "chroot", h.root, "/bin/sh", "-c", portProbe); strings.TrimSpace(out) != "up" {
		t.Fatalf("the scriptlet's port probe prints %q while seal-web runs, want up", out)
	}
	webBefore, apiBefore := h.servicePID("seal-web"), h.servicePID("seal-api")

	res := e.apply(t)

	if res.code != exitOK {
		t.Fatalf("apply: exit %d, want %d\n%s%s", res.code, exitOK, res.stdout, res.stderr)
	}
	h.wantPackages(t, webPatched...)
	if got := h.preLog(t); !slices.Equal(got, []string{"1.1 port down"}) {
		t.Errorf("the %%pre scriptlet of 1.1 logged %q, want [\"1.1 port down\"]: seal-web ran during the install", got)
	}
	wantSubstrings(t, "apply output", res.stdout,
		"ok          seal-test | RHSA-test-web | pre_check: ",
		"services running: seal-web, seal-api",
		"changed     seal-test | RHSA-test-web | stop_services: stopped seal-web",
		"changed     seal-test | RHSA-test-web | install: installed with rpm",
		"changed     seal-test | RHSA-test-web | start_services: started seal-web",
		"ok          seal-test | RHSA-test-web | post_check: services running: seal-web, seal-api; http://127.0.0.1:"+h.webPort+"/health returned 200",
		"changed     seal-test | RHSA-test-web | patch: patch RHSA-test-web installed and verified")
	msgs := e.journalMessages(t)
	for key, want := range map[string]string{
		"seal-test RHSA-test-web stop_services changed":  "stopped seal-web / 已停止 seal-web",
		"seal-test RHSA-test-web start_services changed": "started seal-web / 已启动 seal-web",
		"seal-test RHSA-test-web post_check ok":          "服务运行中：seal-web, seal-api",
	} {
		if !strings.Contains(msgs[key], want) {
			t.Errorf("journal record %q = %q, want it to contain %q", key, msgs[key], want)
		}
	}

	// seal-web runs again as a new process that serves the new version;
	// seal-api, which the patch does not stop, kept running.
	h.wantServing(t, "seal-web", h.webPort, "1.1")
	if pid := h.servicePID("seal-web"); pid == webBefore {
		t.Errorf("seal-web still runs as PID %d: it was not restarted", pid)
	}
	if pid := h.servicePID("seal-api"); pid != apiBefore {
		t.Errorf("seal-api runs as PID %d, was %d: the patch does not list it in stop_services", pid, apiBefore)
	}
	want := []string{
		"show -p Id,LoadState,ActiveState -- seal-web seal-api",
		"stop -- seal-web",
		"start -- seal-web",
		"show -p Id,LoadState,ActiveState -- seal-web seal-api",
	}
	if got := h.calls(t); !slices.Equal(got, want) {
		t.Errorf("systemctl calls = %q, want %q", got, want)
	}
}

// TestPatchApplyRejectsStoppedService applies a patch to a host whose
// patch_services lists seal-api, which is stopped: the pre-check rejects the
// patch in both languages before any service is stopped or file copied.
func TestPatchApplyRejectsStoppedService(t *testing.T) {
	e := newServiceEnv(t, "notify", "seal-test")
	h := e.hosts[0]
	h.vars["patch_services"] = "seal-api"
	e.importWebPatch(t, e.rpms.web11, "seal-web")
	h.systemctl(t, "stop", "--", "seal-api")
	if err := os.Remove(filepath.Join(h.state, "calls.log")); err != nil {
		t.Fatal(err)
	}
	webBefore := h.servicePID("seal-web")

	for _, tc := range []struct {
		lang string
		want []string
	}{
		{"en", []string{
			"FAILED      seal-test | RHSA-test-web | pre_check: services not running on seal-test before the patch: seal-api (inactive)",
			"FAILED      seal-test | RHSA-test-web | patch: patch RHSA-test-web was not installed on seal-test; nothing was changed",
		}},
		{"zh", []string{
			"seal-test | RHSA-test-web | 预检：打补丁前 seal-test 上的服务未运行：seal-api (inactive)",
			"补丁 RHSA-test-web 未安装到 seal-test；主机未被改动",
		}},
	} {
		res := e.apply(t, "--lang", tc.lang)

		if res.code != exitFailed {
			t.Errorf("apply --lang %s: exit %d, want %d\n%s%s", tc.lang, res.code, exitFailed, res.stdout, res.stderr)
		}
		wantSubstrings(t, "apply --lang "+tc.lang+" output", res.stdout, tc.want...)
	}
	msgs := e.journalMessages(t)
	if got := msgs["seal-test RHSA-test-web pre_check failed"]; !strings.Contains(got, "seal-api (inactive) / 打补丁前 seal-test 上的服务未运行：seal-api (inactive)") {
		t.Errorf("journal pre_check record = %q, want the rejection in both languages", got)
	}
	h.wantPackages(t, webUnpatched...)
	if exists(filepath.Join(h.patchDir, "RHSA-test-web")) {
		t.Errorf("the rejected patch was copied to %s", h.patchDir)
	}
	for _, call := range h.calls(t) {
		if !strings.HasPrefix(call, "show ") {
			t.Errorf("patrol called systemctl %s, want only show", call)
		}
	}
	if pid := h.servicePID("seal-web"); pid != webBefore {
		t.Errorf("seal-web runs as PID %d, was %d: the rejected patch touched it", pid, webBefore)
	}
	if pid := h.servicePID("seal-api"); pid != 0 {
		t.Errorf("patrol started seal-api (PID %d)", pid)
	}
}

// TestPatchApplyServiceNotBackRollsBack installs patch versions after which
// seal-web does not come back. The patch must be rolled back on the staging
// host with seal-web stopped, seal-web must serve 1.0 again afterwards, and
// the production host must stay untouched. After 1.2 the seal-web process
// exits at once, because its document root is gone. A notify unit then
// fails its start. A simple unit starts, because systemd reports it started
// once forked, and fails the post-check. After 1.3 seal-web runs but
// health_url returns 404, so seal-web is stopped again for the rollback.
func TestPatchApplyServiceNotBackRollsBack(t *testing.T) {
	for _, tc := range []struct {
		name    string
		webType string
		patch   func(webRPMs) string
		// failed are the output lines from the failed step on.
		failed []string
		// preLog is what the %pre scriptlets logged during the apply.
		preLog []string
	}{
		{"start fails", "notify", func(r webRPMs) string { return r.web12 }, []string{
			"FAILED      seal-test | RHSA-test-web | start_services: systemctl start seal-web on seal-test exited with 1: Job for seal-web.service failed",
			"changed     seal-test | RHSA-test-web | rollback: rolled back: seal-test no longer has patch RHSA-test-web",
			"changed     seal-test | RHSA-test-web | start_services: started seal-web",
		}, []string{"1.2 port down", "1.0 port down"}},
		{"service fails after start", "simple", func(r webRPMs) string { return r.web12 }, []string{
			"changed     seal-test | RHSA-test-web | start_services: started seal-web",
			"FAILED      seal-test | RHSA-test-web | post_check: services not running on seal-test after the patch: seal-web (failed)",
			"changed     seal-test | RHSA-test-web | stop_services: stopped seal-web",
			"changed     seal-test | RHSA-test-web | rollback: rolled back: seal-test no longer has patch RHSA-test-web",
			"changed     seal-test | RHSA-test-web | start_services: started seal-web",
		}, []string{"1.2 port down", "1.0 port down"}},
		{"health fails", "notify", func(r webRPMs) string { return r.web13 }, []string{
			"changed     seal-test | RHSA-test-web | start_services: started seal-web",
			"FAILED      seal-test | RHSA-test-web | post_check: health_url http://127.0.0.1:",
			"/health returned status 404 on seal-test, expected 2xx or 3xx",
			"changed     seal-test | RHSA-test-web | stop_services: stopped seal-web",
			"changed     seal-test | RHSA-test-web | rollback: rolled back: seal-test no longer has patch RHSA-test-web",
			"changed     seal-test | RHSA-test-web | start_services: started seal-web",
		}, []string{"1.3 port down", "1.0 port down"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newServiceEnv(t, tc.webType, "seal-test", "seal-app-1")
			staging, prod := e.hosts[0], e.hosts[1]
			staging.vars["health_wait"] = "0s"
			e.importWebPatch(t, tc.patch(e.rpms), "seal-web")
			prodWeb := prod.servicePID("seal-web")

			res := e.apply(t)

			if res.code != exitFailed {
				t.Fatalf("apply: exit %d, want %d\n%s%s", res.code, exitFailed, res.stdout, res.stderr)
			}
			want := append([]string{
				"changed     seal-test | RHSA-test-web | stop_services: stopped seal-web",
				"changed     seal-test | RHSA-test-web | install: installed with rpm",
			}, tc.failed...)
			want = append(want,
				"FAILED      seal-test | RHSA-test-web | patch: patch RHSA-test-web failed on seal-test and was rolled back",
				"skipped     seal-app-1 | RHSA-test-web | left: not installed: patch RHSA-test-web did not install and verify on the staging host seal-test")
			wantInOrder(t, "apply output", res.stdout, want...)
			if got := staging.preLog(t); !slices.Equal(got, tc.preLog) {
				t.Errorf("the %%pre scriptlets logged %q, want %q: seal-web must be down during the install and the rollback", got, tc.preLog)
			}
			staging.wantPackages(t, webUnpatched...)
			staging.wantServing(t, "seal-web", staging.webPort, "1.0")

			prod.wantPackages(t, webUnpatched...)
			if calls := prod.calls(t); len(calls) != 0 {
				t.Errorf("patrol called systemctl on the production host: %q", calls)
			}
			if pid := prod.servicePID("seal-web"); pid != prodWeb {
				t.Errorf("seal-web of the production host runs as PID %d, was %d", pid, prodWeb)
			}
		})
	}
}

// TestPatchApplyRejectsUnknownUnit applies a patch whose stop_services
// names a unit the host does not have: --check foresees it, and the real run
// rejects the patch before any service is stopped, naming the unit and the
// settings to correct.
func TestPatchApplyRejectsUnknownUnit(t *testing.T) {
	e := newServiceEnv(t, "notify", "seal-test")
	h := e.hosts[0]
	e.importWebPatch(t, e.rpms.web11, "seal-web", "seal-nosuch")
	webBefore := h.servicePID("seal-web")
	const (
		notFound   = "FAILED      seal-test | RHSA-test-web | pre_check: services not found on seal-test before the patch: seal-nosuch; correct the name in the catalog's stop_services or in the host variable patch_services"
		notFoundZH = "seal-test 上找不到服务：seal-nosuch；请改正补丁台账 stop_services 或主机变量 patch_services 中的服务名"
	)

	check := e.apply(t, "--check")
	if check.code != exitFailed {
		t.Errorf("apply --check: exit %d, want %d\n%s%s", check.code, exitFailed, check.stdout, check.stderr)
	}
	wantSubstrings(t, "apply --check output", check.stdout, notFound)

	res := e.apply(t)

	if res.code != exitFailed {
		t.Fatalf("apply: exit %d, want %d\n%s%s", res.code, exitFailed, res.stdout, res.stderr)
	}
	wantSubstrings(t, "apply output", res.stdout, notFound,
		"FAILED      seal-test | RHSA-test-web | patch: patch RHSA-test-web was not installed on seal-test; nothing was changed")
	if got := e.journalMessages(t)["seal-test RHSA-test-web pre_check failed"]; !strings.Contains(got, notFoundZH) {
		t.Errorf("journal pre_check record = %q, want it to contain %q", got, notFoundZH)
	}
	h.wantPackages(t, webUnpatched...)
	want := []string{
		"show -p Id,LoadState,ActiveState -- seal-web seal-nosuch",
		"show -p Id,LoadState,ActiveState -- seal-web seal-nosuch",
	}
	if got := h.calls(t); !slices.Equal(got, want) {
		t.Errorf("systemctl calls of --check and the real run = %q, want %q", got, want)
	}
	if pid := h.servicePID("seal-web"); pid != webBefore {
		t.Errorf("seal-web runs as PID %d, was %d: the rejected patch touched it", pid, webBefore)
	}
}
