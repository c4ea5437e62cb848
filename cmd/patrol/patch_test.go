package main

import (
	"crypto/sha256"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"patrol/internal/sshtest"
	"patrol/journal"
	"patrol/patches"
	"patrol/workday"
)

// patchEnv is a seal system of rpm hosts behind real sshd endpoints, with a
// catalog that holds the test patch.
type patchEnv struct {
	home, dir string
	rpms      testRPMs
	catalog   string
	hosts     []*patchHost
}

// newPatchEnv starts one sshd endpoint per host name. The first host is the
// staging host; the others are production hosts.
func newPatchEnv(t *testing.T, names ...string) *patchEnv {
	t.Helper()
	e := &patchEnv{home: t.TempDir(), dir: t.TempDir(), rpms: buildTestRPMs(t)}
	servers := sshtest.StartMany(t, len(names), sshtest.Options{})
	trustHost(t, e.home, servers...)
	for i, name := range names {
		h := newPatchHost(t, name, servers[i], e.rpms)
		h.staging = i == 0
		e.hosts = append(e.hosts, h)
	}
	e.catalog = filepath.Join(e.dir, "catalog.yml")
	return e
}

func (e *patchEnv) inventory(t *testing.T) string {
	t.Helper()
	return patchInventory(t, e.dir, e.hosts...)
}

func (e *patchEnv) patrol(t *testing.T, args ...string) result {
	t.Helper()
	return runPatrol(t, e.home, e.dir, args...)
}

// patched and unpatched are the package lists of a host with and without
// the test patch.
var (
	patched   = []string{"patrol-test-base-1-1", "patrol-test-app-1.1-1", "patrol-test-new-1.0-1"}
	unpatched = []string{"patrol-test-base-1-1", "patrol-test-app-1.0-1"}
)

// fakeReboot makes a host "reboot" by changing a boot id file that
// boot_id_command prints, so the reboot step reconnects over SSH without
// restarting this machine.
func fakeReboot(t *testing.T, h *patchHost) {
	bootID := writeFile(t, filepath.Join(t.TempDir(), "boot_id"), "first\n")
	h.vars["boot_id_command"] = "cat " + bootID
	h.vars["reboot_command"] = "date +%s%N > " + bootID
}

// TestPatchPlanApplyStatus imports a patch, checks what --check would do,
// plans it, applies it to the staging host and then to a pair in two
// batches, and reads the compliance status.
func TestPatchPlanApplyStatus(t *testing.T) {
	e := newPatchEnv(t, "seal-test", "seal-app-1", "seal-app-2")
	health := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(health.Close)
	for _, h := range e.hosts {
		h.vars["health_url"] = health.URL + "/health"
		fakeReboot(t, h)
	}
	e.hosts[1].pair, e.hosts[2].pair = "seal-app", "seal-app"
	inv := e.inventory(t)
	arrived := time.Now().In(time.FixedZone("CST", 8*3600)).Truncate(time.Second)
	importPatch(t, e.home, e.dir, e.catalog, e.rpms, "--reboot", "--arrived", arrived.Format(time.RFC3339))

	// --check describes every step and changes nothing.
	res := e.patrol(t, "patch", "apply", "-i", inv, "--catalog", e.catalog, "--check", "--serial", "2")
	if res.code != exitOK {
		t.Fatalf("apply --check: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	staging, batch1, batch2 := strings.Index(res.stdout, "== staging 1/1 =="), strings.Index(res.stdout, "== batch 1/2 =="), strings.Index(res.stdout, "== batch 2/2 ==")
	if staging < 0 || batch1 < staging || batch2 < batch1 {
		t.Errorf("apply --check does not show staging, then batch 1/2, then batch 2/2 (pair members apart even with --serial 2):\n%s", res.stdout)
	}
	wantSteps := []string{"lock", "pre_check", "copy", "install", "reboot", "verify", "post_check", "patch"}
	last := -1
	for _, step := range wantSteps {
		i := strings.Index(res.stdout[max(last, 0):], "seal-app-1 | RHSA-test-app | "+step+": would")
		if step == "lock" {
			i = strings.Index(res.stdout[max(last, 0):], "seal-app-1 | - | lock: would")
		}
		if i < 0 {
			t.Errorf("apply --check does not show step %s of seal-app-1 after the earlier steps:\n%s", step, res.stdout)
			continue
		}
		last = max(last, 0) + i
	}
	for _, h := range e.hosts {
		h.wantPackages(t, unpatched...)
		if exists(h.patchDir) {
			t.Errorf("apply --check created the patch folder %s", h.patchDir)
		}
	}
	if paths, _ := journal.List(filepath.Join(e.home, "journal")); len(paths) != 0 {
		t.Errorf("apply --check wrote journals %v", paths)
	}

	// A window that already ended starts nothing and reports what was left.
	res = e.patrol(t, "patch", "apply", "-i", inv, "--catalog", e.catalog, "--until", "2026-01-01T06:00:00+08:00")
	if res.code != exitOK || strings.Count(res.stdout, "| RHSA-test-app | left: left for the next window") != 3 {
		t.Errorf("apply after the window: exit %d, want 0 and the patch left on 3 hosts\n%s%s", res.code, res.stdout, res.stderr)
	}
	for _, h := range e.hosts {
		h.wantPackages(t, unpatched...)
	}

	// plan: missing everywhere, due at the close of the next working day.
	res = e.patrol(t, "patch", "plan", "-i", inv, "--catalog", e.catalog, "-o", "json")
	if res.code != exitOK {
		t.Fatalf("plan: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	wantDeadline := workday.Default().Deadline(arrived, 1)
	plans := decodeLines[patches.HostPlan](t, res.stdout)
	if len(plans) != 3 {
		t.Fatalf("plan has %d hosts, want 3:\n%s", len(plans), res.stdout)
	}
	for _, hp := range plans {
		if len(hp.Items) != 1 || hp.Items[0].State != patches.StateMissing || !hp.Items[0].Deadline.Equal(wantDeadline) {
			t.Errorf("plan of %s = %+v, want RHSA-test-app missing, due %s", hp.Host, hp.Items, wantDeadline)
		}
	}
	text := e.patrol(t, "patch", "plan", "-i", inv, "--catalog", e.catalog, "--lang", "zh")
	if !strings.Contains(text.stdout, "未安装") || !strings.Contains(text.stdout, wantDeadline.Format("2006-01-02 15:04")) {
		t.Errorf("Chinese plan table lacks the state or the deadline:\n%s", text.stdout)
	}

	// apply: staging first, then one pair member per batch.
	res = e.patrol(t, "patch", "apply", "-i", inv, "--catalog", e.catalog, "--serial", "2")
	if res.code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	for _, h := range e.hosts {
		h.wantPackages(t, patched...)
		if !strings.Contains(res.stdout, h.name+" | RHSA-test-app | patch: patch RHSA-test-app installed and verified") {
			t.Errorf("apply output does not report the patch verified on %s:\n%s", h.name, res.stdout)
		}
		if !strings.Contains(res.stdout, h.name+" | RHSA-test-app | reboot: rebooted and reconnected") {
			t.Errorf("apply output does not show the reboot of %s:\n%s", h.name, res.stdout)
		}
	}
	stagingDone := strings.Index(res.stdout, "seal-test | RHSA-test-app | patch:")
	firstProd := strings.Index(res.stdout, "seal-app-1 | RHSA-test-app | query:")
	if stagingDone < 0 || firstProd < stagingDone {
		t.Errorf("a production host started before the staging host finished:\n%s", res.stdout)
	}
	if strings.Index(res.stdout, "seal-app-2 | RHSA-test-app | query:") < strings.Index(res.stdout, "seal-app-1 | RHSA-test-app | patch:") {
		t.Errorf("the two hosts of pair seal-app were worked on at the same time:\n%s", res.stdout)
	}
	path, err := journal.Latest(filepath.Join(e.home, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	if sum, err := journal.Verify(path); err != nil || !sum.Ended || sum.EndStatus != journal.RunOK {
		t.Errorf("journal %s: %+v, %v; want an intact chain with an ok end", path, sum, err)
	}

	// status: every host installed the patch before its deadline.
	res = e.patrol(t, "patch", "status", "-i", inv, "--catalog", e.catalog, "-o", "json")
	rows := decodeLines[patches.ComplianceRow](t, res.stdout)
	if res.code != exitOK || len(rows) != 3 {
		t.Fatalf("status: exit %d, %d rows\n%s%s", res.code, len(rows), res.stdout, res.stderr)
	}
	for _, r := range rows {
		if r.Verdict != patches.VerdictMet {
			t.Errorf("status of %s on %s = %s, want met", r.Patch, r.Host, r.Verdict)
		}
	}

	// A second apply finds nothing missing and installs nothing.
	res = e.patrol(t, "patch", "apply", "-i", inv, "--catalog", e.catalog)
	if res.code != exitOK || strings.Contains(res.stdout, "| install:") {
		t.Errorf("second apply: exit %d, want 0 and no install step\n%s%s", res.code, res.stdout, res.stderr)
	}
}

// decodeLines decodes one JSON value per line.
func decodeLines[T any](t *testing.T, out string) []T {
	t.Helper()
	var values []T
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var v T
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("output line %q: %v", line, err)
		}
		values = append(values, v)
	}
	return values
}

// TestPatchApplyFailedVerifyRollsBack installs a patch whose verify command
// fails on the staging host: the rollback puts patrol-test-app 1.0 back and
// erases the new package, and the production host does not get the patch.
func TestPatchApplyFailedVerifyRollsBack(t *testing.T) {
	e := newPatchEnv(t, "seal-test", "seal-app-1")
	inv := e.inventory(t)
	importPatch(t, e.home, e.dir, e.catalog, e.rpms, "--verify-command", "test -e /nonexistent/patrol-test")

	res := e.patrol(t, "patch", "apply", "-i", inv, "--catalog", e.catalog)

	if res.code != exitFailed {
		t.Fatalf("apply: exit %d, want %d\n%s%s", res.code, exitFailed, res.stdout, res.stderr)
	}
	e.hosts[0].wantPackages(t, unpatched...)
	e.hosts[1].wantPackages(t, unpatched...)
	for _, want := range []string{
		"FAILED      seal-test | RHSA-test-app | verify: verify command",
		"changed     seal-test | RHSA-test-app | rollback: rolled back: seal-test no longer has patch RHSA-test-app",
		"FAILED      seal-test | RHSA-test-app | patch: patch RHSA-test-app failed on seal-test and was rolled back",
		"skipped     seal-app-1 | RHSA-test-app | left: not installed: patch RHSA-test-app did not install and verify on the staging host seal-test",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("apply output lacks %q:\n%s", want, res.stdout)
		}
	}
}

// TestPatchApplyFailedInstallRollsBack installs a patch one of whose
// packages fails its scriptlet: rpm installs the others and exits non-zero,
// and the rollback puts patrol-test-app 1.0 back and erases only what was
// added.
func TestPatchApplyFailedInstallRollsBack(t *testing.T) {
	e := newPatchEnv(t, "seal-test")
	inv := e.inventory(t)
	res := e.patrol(t, "patch", "import", e.rpms.app11, e.rpms.new10, e.rpms.broken, "--catalog", e.catalog,
		"--id", "RHSA-broken", "--severity", "normal", "--method", "rpm", "--os", "centos7", "--rollback-file", e.rpms.app10,
		"--sha256", sha256Hex(t, e.rpms.app11), "--sha256", sha256Hex(t, e.rpms.new10), "--sha256", sha256Hex(t, e.rpms.broken),
		"--rollback-sha256", sha256Hex(t, e.rpms.app10))
	if res.code != exitOK {
		t.Fatalf("import: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}

	res = e.patrol(t, "patch", "apply", "-i", inv, "--catalog", e.catalog)

	if res.code != exitFailed {
		t.Fatalf("apply: exit %d, want %d\n%s%s", res.code, exitFailed, res.stdout, res.stderr)
	}
	e.hosts[0].wantPackages(t, unpatched...)
	for _, want := range []string{
		"FAILED      seal-test | RHSA-broken | install: rpm failed to install RHSA-broken on seal-test",
		"changed     seal-test | RHSA-broken | rollback: rolled back",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("apply output lacks %q:\n%s", want, res.stdout)
		}
	}
}

// TestPatchApplyLockAndKillMidInstall starts an apply whose rpm waits in a
// %pre scriptlet, checks that a second apply on the host is refused with the
// first run's id, kills the first patrol with SIGKILL, and runs apply again:
// the rerun reports where the first run stopped and installs nothing twice.
func TestPatchApplyLockAndKillMidInstall(t *testing.T) {
	e := newPatchEnv(t, "seal-test")
	h := e.hosts[0]
	inv := e.inventory(t)
	importPatch(t, e.home, e.dir, e.catalog, e.rpms)
	first := startHeldApply(t, e, inv, h)
	journals, err := journal.List(filepath.Join(e.home, "journal"))
	if err != nil || len(journals) != 1 {
		t.Fatalf("journals of the first run: %v, %v", journals, err)
	}
	firstRun := strings.TrimSuffix(filepath.Base(journals[0]), journal.Ext)

	second := e.patrol(t, "patch", "apply", "-i", inv, "--catalog", e.catalog)
	if second.code != exitFailed || !strings.Contains(second.stdout, "host seal-test is locked by another patch apply run (run "+firstRun) {
		t.Errorf("second apply while the first holds the lock: exit %d, want %d and a refusal naming run %s\n%s%s",
			second.code, exitFailed, firstRun, second.stdout, second.stderr)
	}
	if running := "run " + firstRun + " is still running, on host seal-test at step install of patch RHSA-test-app"; !strings.HasPrefix(second.stdout, running) {
		t.Errorf("second apply does not start with %q:\n%s", running, second.stdout)
	}

	killHeldApply(t, first, h)

	rerun := e.patrol(t, "patch", "apply", "-i", inv, "--catalog", e.catalog)

	if rerun.code != exitOK {
		t.Fatalf("rerun: exit %d, want 0\n%s%s", rerun.code, rerun.stdout, rerun.stderr)
	}
	want := "previous run " + firstRun + " stopped on host seal-test at step install of patch RHSA-test-app"
	if !strings.HasPrefix(rerun.stdout, want) {
		t.Errorf("rerun does not start with %q:\n%s", want, rerun.stdout)
	}
	if strings.Contains(rerun.stdout, "| install:") {
		t.Errorf("rerun ran the install again:\n%s", rerun.stdout)
	}
	// The killed run installed the patch but never verified it, so the
	// rerun does.
	for _, want := range []string{
		"| query: already installed at ",
		"the run that installed it did not pass its checks (it was interrupted or they failed), so this run checks it again",
		"ok          seal-test | RHSA-test-app | verify: installed: patrol-test-app-1.1-1.noarch, patrol-test-new-1.0-1.noarch",
		"ok          seal-test | RHSA-test-app | patch: patch RHSA-test-app, installed by an earlier run, is now verified",
	} {
		if !strings.Contains(rerun.stdout, want) {
			t.Errorf("rerun output lacks %q:\n%s", want, rerun.stdout)
		}
	}
	h.wantPackages(t, patched...)
	if out := runCmd(t, "rpm", "--root", h.root, "--dbpath", rpmDBPath, "-q", "patrol-test-app", "patrol-test-new"); strings.Count(out, "\n") != 2 {
		t.Errorf("rpm -q does not list each package exactly once:\n%s", out)
	}
	if _, err := journal.Verify(journals[0]); err != nil {
		t.Errorf("journal of the killed run: %v", err)
	}
	if _, _, end, _ := journal.Read(journals[0]); end != nil {
		t.Errorf("the killed run wrote an end record: %+v", end)
	}
}

// TestPatchApplyRecheckAfterKillGatesProduction kills an apply run while
// rpm installs the patch on the staging host. In the rerun the staging
// host's post-check fails. The patch, which the rerun did not install, is
// reported for a person to roll back. The production host is left alone
// instead of getting a patch its staging host never passed.
func TestPatchApplyRecheckAfterKillGatesProduction(t *testing.T) {
	e := newPatchEnv(t, "seal-test", "seal-app-1")
	staging, production := e.hosts[0], e.hosts[1]
	inv := e.inventory(t)
	importPatch(t, e.home, e.dir, e.catalog, e.rpms)
	killHeldApply(t, startHeldApply(t, e, inv, staging), staging)
	staging.wantPackages(t, patched...)
	before := production.packages(t)

	staging.vars["health_url"] = "http://127.0.0.1:" + closedPort(t) + "/health"
	staging.vars["health_wait"] = "0s"
	rerun := e.patrol(t, "patch", "apply", "-i", e.inventory(t), "--catalog", e.catalog)

	if rerun.code != exitFailed {
		t.Fatalf("rerun: exit %d, want %d\n%s%s", rerun.code, exitFailed, rerun.stdout, rerun.stderr)
	}
	for _, want := range []string{
		"FAILED      seal-test | RHSA-test-app | post_check: health_url http://127.0.0.1:",
		"patch RHSA-test-app is on seal-test, installed by an earlier run, and failed its checks; this run did not install it",
		"skipped     seal-app-1 | RHSA-test-app | left: not installed: patch RHSA-test-app did not install and verify on the staging host seal-test",
	} {
		if !strings.Contains(rerun.stdout, want) {
			t.Errorf("rerun output lacks %q:\n%s", want, rerun.stdout)
		}
	}
	if strings.Contains(rerun.stdout, "| install:") || strings.Contains(rerun.stdout, "| rollback:") {
		t.Errorf("rerun installed or rolled back the patch it did not install:\n%s", rerun.stdout)
	}
	staging.wantPackages(t, patched...)
	production.wantPackages(t, before...)
	if exists(production.patchDir) {
		t.Errorf("the production host got a patch folder %s", production.patchDir)
	}
}

// TestPatchApplyFailedStagingPatchCheckedAgain applies a patch that cannot
// be rolled back to a staging host whose post-check fails. The patch stays
// there, and the next run must check it again instead of taking it as
// installed and tested: production waits until the staging host passes.
func TestPatchApplyFailedStagingPatchCheckedAgain(t *testing.T) {
	e := newPatchEnv(t, "seal-test", "seal-app-1")
	staging, production := e.hosts[0], e.hosts[1]
	res := e.patrol(t, "patch", "import", e.rpms.app11, e.rpms.new10, "--catalog", e.catalog,
		"--id", "RHSA-test-app", "--title", "test app 1.1", "--severity", "urgent", "--method", "rpm",
		"--os", "centos7", "--system", "seal", "--no-rollback",
		"--sha256", sha256Hex(t, e.rpms.app11), "--sha256", sha256Hex(t, e.rpms.new10))
	if res.code != exitOK {
		t.Fatalf("patch import: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	staging.vars["health_url"] = "http://127.0.0.1:" + closedPort(t) + "/health"
	staging.vars["health_wait"] = "0s"
	failing := e.inventory(t)
	before := production.packages(t)

	first := e.patrol(t, "patch", "apply", "-i", failing, "--catalog", e.catalog)
	second := e.patrol(t, "patch", "apply", "-i", failing, "--catalog", e.catalog)

	for i, run := range []result{first, second} {
		if run.code != exitFailed {
			t.Fatalf("run %d: exit %d, want %d\n%s%s", i+1, run.code, exitFailed, run.stdout, run.stderr)
		}
		if !strings.Contains(run.stdout, "FAILED      seal-test | RHSA-test-app | post_check: health_url") {
			t.Errorf("run %d: the staging post-check did not fail:\n%s", i+1, run.stdout)
		}
		if !strings.Contains(run.stdout, "skipped     seal-app-1 | RHSA-test-app | left: not installed: patch RHSA-test-app did not install and verify on the staging host seal-test") {
			t.Errorf("run %d: production was not left waiting:\n%s", i+1, run.stdout)
		}
	}
	if !strings.Contains(second.stdout, "the run that installed it did not pass its checks (it was interrupted or they failed), so this run checks it again") {
		t.Errorf("the second run took the failed patch as installed:\n%s", second.stdout)
	}
	staging.wantPackages(t, patched...)
	production.wantPackages(t, before...)

	// With the staging host healthy, its check passes and production gets
	// the patch.
	delete(staging.vars, "health_url")
	third := e.patrol(t, "patch", "apply", "-i", e.inventory(t), "--catalog", e.catalog)
	if third.code != exitOK {
		t.Fatalf("third run: exit %d, want 0\n%s%s", third.code, third.stdout, third.stderr)
	}
	if !strings.Contains(third.stdout, "patch RHSA-test-app, installed by an earlier run, is now verified") {
		t.Errorf("third run did not check the staging patch again:\n%s", third.stdout)
	}
	production.wantPackages(t, patched...)
}

// startHeldApply starts patch apply in the background with h's rpm held in
// the %pre scriptlet of patrol-test-app 1.1, and returns once rpm is there.
func startHeldApply(t *testing.T, e *patchEnv, inv string, h *patchHost) *exec.Cmd {
	t.Helper()
	h.hold(t)
	cmd := exec.Command(patrolBin, "patch", "apply", "-i", inv, "--catalog", e.catalog)
	cmd.Dir = e.dir
	cmd.Env = append(os.Environ(), "PATROL_HOME="+e.home, "PATROL_INVENTORY=", "PATROL_LANG=en")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// After killHeldApply these calls only return errors.
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	waitFor(t, time.Minute, "the %pre scriptlet of patrol-test-app 1.1 to start", func() bool {
		return exists(filepath.Join(h.root, "tmp", "pre-started-1.1"))
	})
	return cmd
}

// killHeldApply kills the run startHeldApply started, lets the rpm it left
// finish, and waits until the host's apply lock is free again.
func killHeldApply(t *testing.T, cmd *exec.Cmd, h *patchHost) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	h.release(t)
	waitFor(t, time.Minute, "the rpm left by the killed run to finish", func() bool { return !rpmRunningIn(h.root) })
	lockFile := filepath.Join(h.patchDir, "apply.lock")
	waitFor(t, time.Minute, "the killed run's SSH session to release the lock", func() bool {
		return exec.Command("flock", "-n", lockFile, "true").Run() == nil
	})
}

// TestPatchApplyPairStopsAfterFailedPostCheck gives the first host of a pair a
// health_url on a closed port: its post-check fails, the patch is rolled
// back, and the second host of the pair is never touched.
func TestPatchApplyPairStopsAfterFailedPostCheck(t *testing.T) {
	e := newPatchEnv(t, "seal-test", "seal-app-1", "seal-app-2")
	e.hosts[1].pair, e.hosts[2].pair = "seal-app", "seal-app"
	e.hosts[1].vars["health_url"] = "http://127.0.0.1:" + closedPort(t) + "/health"
	e.hosts[1].vars["health_wait"] = "0s"
	inv := e.inventory(t)
	importPatch(t, e.home, e.dir, e.catalog, e.rpms)
	before := e.hosts[2].packages(t)

	res := e.patrol(t, "patch", "apply", "-i", inv, "--catalog", e.catalog, "--serial", "1")

	if res.code != exitFailed {
		t.Fatalf("apply: exit %d, want %d\n%s%s", res.code, exitFailed, res.stdout, res.stderr)
	}
	e.hosts[0].wantPackages(t, patched...)
	e.hosts[1].wantPackages(t, unpatched...)
	e.hosts[2].wantPackages(t, before...)
	if exists(e.hosts[2].patchDir) {
		t.Errorf("the partner seal-app-2 got a patch folder %s", e.hosts[2].patchDir)
	}
	for _, want := range []string{
		"FAILED      seal-app-1 | RHSA-test-app | post_check: health_url http://127.0.0.1:",
		"changed     seal-app-1 | RHSA-test-app | rollback: rolled back",
		"skipped     seal-app-2 | RHSA-test-app | left: not started: batch 1 failed",
		"batch 1 failed, so no later batch started",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("apply output lacks %q:\n%s", want, res.stdout)
		}
	}
	if strings.Contains(res.stdout, "seal-app-2 | - | lock") {
		t.Errorf("the run took the lock of seal-app-2:\n%s", res.stdout)
	}
}

// TestPatchApplyRefusesSystemWithoutStaging patches a production host of a
// system without a staging host: it is refused, naming the setting.
func TestPatchApplyRefusesSystemWithoutStaging(t *testing.T) {
	e := newPatchEnv(t, "seal-app-1")
	e.hosts[0].staging = false
	inv := e.inventory(t)
	importPatch(t, e.home, e.dir, e.catalog, e.rpms)

	// --check foresees the refusal and exits as the real run does, so a
	// script can gate the real run on it.
	check := e.patrol(t, "patch", "apply", "-i", inv, "--catalog", e.catalog, "--check")
	if check.code != exitFailed {
		t.Errorf("apply --check: exit %d, want %d\n%s%s", check.code, exitFailed, check.stdout, check.stderr)
	}
	if !strings.Contains(check.stdout, "seal-app-1 | RHSA-test-app | refused: host seal-app-1 is not patched") ||
		!strings.Contains(check.stdout, "check mode found problems that would make the real run fail; exit code 1") {
		t.Errorf("apply --check does not show the refusal and what it means for the real run:\n%s", check.stdout)
	}

	res := e.patrol(t, "patch", "apply", "-i", inv, "--catalog", e.catalog)

	if res.code != exitFailed {
		t.Fatalf("apply: exit %d, want %d\n%s%s", res.code, exitFailed, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, "seal-app-1 | RHSA-test-app | refused: host seal-app-1 is not patched: system seal has no staging host") ||
		!strings.Contains(res.stdout, "staging: true") {
		t.Errorf("apply output lacks the refusal naming staging: true:\n%s", res.stdout)
	}
	e.hosts[0].wantPackages(t, unpatched...)
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	return port
}

// TestPatchImportChecksumAndReimport imports with a wrong delivered
// checksum (exit 2, nothing written), then for real, then the same files
// again (no change), then other files under the same id (exit 2).
func TestPatchImportChecksumAndReimport(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	rpms := buildTestRPMs(t)
	catalog := filepath.Join(dir, "catalog.yml")
	args := []string{"patch", "import", rpms.app11, "--catalog", catalog, "--id", "app-1.1", "--severity", "serious", "--method", "rpm", "--os", "centos7"}

	bad := runPatrol(t, home, dir, append(args, "--sha256", strings.Repeat("ab", 32))...)
	if bad.code != exitInvalid || !strings.Contains(bad.stderr, "checksum mismatch") {
		t.Errorf("import with a wrong checksum: exit %d, want %d and a checksum mismatch\n%s%s", bad.code, exitInvalid, bad.stdout, bad.stderr)
	}
	if exists(catalog) || exists(filepath.Join(dir, "repo")) {
		t.Errorf("the refused import wrote %s or the repository", catalog)
	}

	sum := sha256Hex(t, rpms.app11)
	good := runPatrol(t, home, dir, append(args, "--sha256", sum)...)
	if good.code != exitOK {
		t.Fatalf("import: exit %d\n%s%s", good.code, good.stdout, good.stderr)
	}
	written, err := os.ReadFile(catalog)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(written), "patrol-test-app-1.1-1.noarch") || !exists(filepath.Join(dir, "repo", "centos7", "patrol-test-app-1.1-1.noarch.rpm")) {
		t.Errorf("the catalog lacks verify.packages from the RPM header, or the repository lacks the file:\n%s", written)
	}

	again := runPatrol(t, home, dir, append(args, "--sha256", sum)...)
	after, _ := os.ReadFile(catalog)
	if again.code != exitOK || !strings.Contains(again.stdout, "already in") || string(after) != string(written) {
		t.Errorf("re-import: exit %d, catalog changed %v\n%s%s", again.code, string(after) != string(written), again.stdout, again.stderr)
	}

	other := runPatrol(t, home, dir, "patch", "import", rpms.new10, "--catalog", catalog, "--id", "app-1.1", "--severity", "serious", "--method", "rpm",
		"--sha256", sha256Hex(t, rpms.new10))
	if other.code != exitInvalid || !strings.Contains(other.stderr, "already in the catalog") {
		t.Errorf("same id with other files: exit %d, want %d\n%s%s", other.code, exitInvalid, other.stdout, other.stderr)
	}
}

func sha256File(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return sum[:]
}

// TestPatchInvalidInputExitsTwo checks that a bad catalog and a bad flag
// stop the patch commands before any host is contacted, with exit code 2.
func TestPatchInvalidInputExitsTwo(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	inv := writeFile(t, filepath.Join(dir, "inventory.yml"), "hosts:\n  seal-test: {connection: local, os: centos7, system: seal, staging: true}\n")
	bad := writeFile(t, filepath.Join(dir, "bad.yml"), "patches:\n  - id: x\n    severity: critical\n")
	good := writeFile(t, filepath.Join(dir, "catalog.yml"), "patches: []\n")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"patch", "plan", "-i", inv, "--catalog", bad}, "bad.yml:3:15: patch x: invalid severity"},
		{[]string{"patch", "status", "-i", inv, "--catalog", bad}, "bad.yml:2:5: patch is missing arrived, files, method"},
		{[]string{"patch", "apply", "-i", inv, "--catalog", bad}, "bad.yml:3:15"},
		{[]string{"patch", "apply", "-i", inv, "--catalog", good, "--until", "6am"}, `invalid window end "6am"`},
		{[]string{"patch", "apply", "-i", inv, "--catalog", good, "--serial", "0"}, "--serial 0"},
		{[]string{"patch", "plan", "-i", inv, "--catalog", filepath.Join(dir, "none.yml")}, "the catalog does not exist"},
		{[]string{"patch", "plan", "-i", inv}, "give --catalog FILE or set PATROL_CATALOG"},
		{[]string{"patch", "import", inv, "--catalog", good, "--id", "x", "--severity", "critical", "--method", "rpm"}, `invalid severity "critical"`},
	} {
		res := runPatrolEnv(t, []string{"PATROL_HOME=" + home, "PATROL_INVENTORY=", "PATROL_LANG=en", "PATROL_CATALOG="}, dir, tc.args...)
		if res.code != exitInvalid || !strings.Contains(res.stderr, tc.want) {
			t.Errorf("patrol %s: exit %d, want %d and %q on stderr\n%s%s", strings.Join(tc.args[:2], " "), res.code, exitInvalid, tc.want, res.stdout, res.stderr)
		}
	}
	if paths, _ := journal.List(filepath.Join(home, "journal")); len(paths) != 0 {
		t.Errorf("invalid input wrote journals %v", paths)
	}
}

// TestPatchApplyCheckForeseesFailures checks that --check runs the checks
// that change nothing (pre-checks, repository files, host variables) and
// exits with 1 where the real run would fail.
func TestPatchApplyCheckForeseesFailures(t *testing.T) {
	e := newPatchEnv(t, "seal-test", "seal-app-1")
	h := e.hosts[0]
	h.vars["backup_marker"] = "/nonexistent/patrol-backup-done"
	importPatch(t, e.home, e.dir, e.catalog, e.rpms)
	check := func(want ...string) {
		t.Helper()
		res := e.patrol(t, "patch", "apply", "-i", e.inventory(t), "--catalog", e.catalog, "--check")
		if res.code != exitFailed {
			t.Errorf("apply --check: exit %d, want %d\n%s%s", res.code, exitFailed, res.stdout, res.stderr)
		}
		for _, w := range want {
			if !strings.Contains(res.stdout, w) {
				t.Errorf("apply --check output lacks %q:\n%s", w, res.stdout)
			}
		}
	}
	apply := func(want string) {
		t.Helper()
		res := e.patrol(t, "patch", "apply", "-i", e.inventory(t), "--catalog", e.catalog)
		if res.code != exitFailed || !strings.Contains(res.stdout, want) {
			t.Errorf("apply: exit %d, want %d and %q\n%s%s", res.code, exitFailed, want, res.stdout, res.stderr)
		}
		for _, host := range e.hosts {
			host.wantPackages(t, unpatched...)
		}
	}

	// A backup marker that cannot be read fails the pre-check.
	check("FAILED      seal-test | RHSA-test-app | pre_check: cannot read the backup marker /nonexistent/patrol-backup-done on seal-test",
		"FAILED      seal-test | RHSA-test-app | patch: patch RHSA-test-app would fail on seal-test: the real run stops at step pre_check",
		"skipped     seal-app-1 | RHSA-test-app | left: would not be installed: patch RHSA-test-app would fail on the staging host seal-test")
	apply("FAILED      seal-test | RHSA-test-app | pre_check: cannot read the backup marker")

	// With a fresh marker the check passes.
	h.vars["backup_marker"] = writeFile(t, filepath.Join(t.TempDir(), "backup-done"), "")
	res := e.patrol(t, "patch", "apply", "-i", e.inventory(t), "--catalog", e.catalog, "--check")
	if res.code != exitOK || !strings.Contains(res.stdout, "seal-test | RHSA-test-app | pre_check: would check that") {
		t.Errorf("apply --check with a fresh backup marker: exit %d, want 0 and the pre-check described\n%s%s", res.code, res.stdout, res.stderr)
	}

	// A repository file changed since the import fails the copy.
	repoFile := filepath.Join(e.dir, "repo", "centos7", filepath.Base(e.rpms.new10))
	original, err := os.ReadFile(repoFile)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, repoFile, string(original)+"changed")
	check("FAILED      seal-test | RHSA-test-app | copy: patch file " + repoFile + " has SHA-256")
	apply("FAILED      seal-test | RHSA-test-app | copy: patch file " + repoFile + " has SHA-256")
	writeFile(t, repoFile, string(original))

	// An invalid host variable that the post-check reads would fail it
	// after the install.
	h.vars["health_url"], h.vars["health_wait"] = "http://127.0.0.1:"+closedPort(t)+"/", "soon"
	check("FAILED      seal-test | RHSA-test-app | post_check: host seal-test ("+filepath.Join(e.dir, "inventory.yml"),
		"variable health_wait is soon, but must be a duration")
	e.hosts[0].wantPackages(t, unpatched...)
}

// TestPatchPlanListsNotApplicable plans an RPM patch for a host that does
// not have its package in any version, and a Windows patch for Linux hosts.
// The text names the first always and the second only with --verbose. JSON
// lists both, apart from the items.
func TestPatchPlanListsNotApplicable(t *testing.T) {
	e := newPatchEnv(t, "seal-test", "seal-app-1")
	runCmd(t, "rpm", "--root", e.hosts[1].root, "--dbpath", rpmDBPath, "-e", "patrol-test-app")
	inv := e.inventory(t)
	importPatch(t, e.home, e.dir, e.catalog, e.rpms)
	msu := writeFile(t, filepath.Join(t.TempDir(), "windows8.1-kb4012213-x64.msu"), "update")
	res := e.patrol(t, "patch", "import", msu, "--catalog", e.catalog, "--id", "KB4012213", "--severity", "serious",
		"--method", "wusa", "--os", "win2012r2", "--sha256", sha256Hex(t, msu))
	if res.code != exitOK {
		t.Fatalf("import the Windows patch: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}

	text := e.patrol(t, "patch", "plan", "-i", inv, "--catalog", e.catalog)
	for _, want := range []string{"up to date: seal-app-1", "seal-app-1: not applicable: RHSA-test-app (patrol-test-app, patrol-test-new not installed)"} {
		if !strings.Contains(text.stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, text.stdout)
		}
	}
	if strings.Contains(text.stdout, "KB4012213") {
		t.Errorf("plan without --verbose lists the Windows patch:\n%s", text.stdout)
	}
	verbose := e.patrol(t, "patch", "plan", "-i", inv, "--catalog", e.catalog, "-v")
	if want := "seal-test: not applicable: KB4012213 (for win2012r2, the host is centos7)"; !strings.Contains(verbose.stdout, want) {
		t.Errorf("plan -v lacks %q:\n%s", want, verbose.stdout)
	}
	zh := e.patrol(t, "patch", "plan", "-i", inv, "--catalog", e.catalog, "--lang", "zh")
	if want := "seal-app-1：不适用：RHSA-test-app（未安装 patrol-test-app、patrol-test-new）"; !strings.Contains(zh.stdout, want) {
		t.Errorf("Chinese plan lacks %q:\n%s", want, zh.stdout)
	}

	js := e.patrol(t, "patch", "plan", "-i", inv, "--catalog", e.catalog, "-o", "json")
	lines := strings.Split(strings.TrimSpace(js.stdout), "\n")
	if js.code != exitOK || len(lines) != 2 {
		t.Fatalf("plan -o json: exit %d, %d lines\n%s%s", js.code, len(lines), js.stdout, js.stderr)
	}
	if !strings.Contains(lines[1], `"items":[]`) {
		t.Errorf("plan JSON of seal-app-1 does not have \"items\":[]: %s", lines[1])
	}
	if strings.Contains(lines[0], `"time_left":`) || !strings.Contains(lines[0], `"time_left_seconds":`) {
		t.Errorf("plan JSON of seal-test does not give the time left in seconds: %s", lines[0])
	}
	plans := decodeLines[patches.HostPlan](t, js.stdout)
	reasons := map[string]patches.NotApplicableReason{}
	for _, na := range plans[1].NotApplicable {
		reasons[na.Patch] = na.Reason
	}
	if reasons["RHSA-test-app"] != patches.ReasonPackageNotInstalled || reasons["KB4012213"] != patches.ReasonOS {
		t.Errorf("not_applicable of seal-app-1 = %+v, want RHSA-test-app package_not_installed and KB4012213 os", plans[1].NotApplicable)
	}
	item := plans[0].Items[0]
	if left := time.Until(item.Deadline); abs(time.Duration(item.TimeLeftSeconds)*time.Second-left) > 10*time.Minute {
		t.Errorf("time_left_seconds = %d, but the deadline %s is %s away", item.TimeLeftSeconds, item.Deadline, left)
	}
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// TestPatchImportRequiresDeliveredChecksums imports without the delivered
// checksums (exit 2, nothing written, the file and flag named), then with
// --no-delivered-checksum, which warns and records the arrival in the
// calendar's zone even when the machine runs in UTC.
func TestPatchImportRequiresDeliveredChecksums(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	rpms := buildTestRPMs(t)
	catalog := filepath.Join(dir, "catalog.yml")
	env := []string{"PATROL_HOME=" + home, "PATROL_INVENTORY=", "PATROL_LANG=en", "PATROL_CALENDAR=", "TZ=UTC"}
	args := []string{"patch", "import", rpms.app11, "--catalog", catalog, "--id", "app-1.1", "--severity", "serious", "--method", "rpm",
		"--os", "centos7", "--rollback-file", rpms.app10}

	for _, tc := range []struct {
		name  string
		extra []string
		want  []string
	}{
		{"no checksum", nil, []string{"no delivered checksum for " + rpms.app11, "--sha256", "--no-delivered-checksum"}},
		{"no checksum, Chinese", []string{"--lang", "zh"}, []string{rpms.app11 + " 没有随附的校验和", "--sha256"}},
		{"rollback file without one", []string{"--sha256", sha256Hex(t, rpms.app11)}, []string{"no delivered checksum for " + rpms.app10, "--rollback-sha256"}},
		{"wrong rollback checksum", []string{"--sha256", sha256Hex(t, rpms.app11), "--rollback-sha256", sha256Hex(t, rpms.app11)},
			[]string{"checksum mismatch for " + rpms.app10, "--rollback-sha256"}},
	} {
		res := runPatrolEnv(t, env, dir, append(slices.Clone(args), tc.extra...)...)
		if res.code != exitInvalid {
			t.Errorf("%s: exit %d, want %d\n%s%s", tc.name, res.code, exitInvalid, res.stdout, res.stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(res.stderr, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", tc.name, w, res.stderr)
			}
		}
		if exists(catalog) || exists(filepath.Join(dir, "repo")) {
			t.Fatalf("%s: the refused import wrote %s or the repository", tc.name, catalog)
		}
	}

	res := runPatrolEnv(t, env, dir, append(args, "--no-delivered-checksum")...)
	if res.code != exitOK {
		t.Fatalf("import --no-delivered-checksum: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if want := "warning: imported without a delivered checksum (--no-delivered-checksum): " + rpms.app11 + ", " + rpms.app10; !strings.Contains(res.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
	}
	written, err := os.ReadFile(catalog)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`arrived: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00`).Match(written) {
		t.Errorf("the default arrival is not in the calendar's zone Asia/Shanghai:\n%s", written)
	}
}

// TestPatchApplyChineseOutput checks that Chinese output names the steps
// in Chinese, shows the missing backup check as a step line rather than a
// log line, and that JSON keeps the step identifiers.
func TestPatchApplyChineseOutput(t *testing.T) {
	e := newPatchEnv(t, "seal-test")
	inv := e.inventory(t)
	importPatch(t, e.home, e.dir, e.catalog, e.rpms)

	check := e.patrol(t, "patch", "apply", "-i", inv, "--catalog", e.catalog, "--check", "--lang", "zh")
	for _, want := range []string{
		"seal-test | - | 加锁：将获取",
		"seal-test | RHSA-test-app | 预检：将检查",
		"不会检查备份：主机未设置 backup_marker 变量",
		"seal-test | RHSA-test-app | 复制：将复制 3 个文件",
		"seal-test | RHSA-test-app | 结果：将安装补丁 RHSA-test-app",
	} {
		if !strings.Contains(check.stdout, want) {
			t.Errorf("Chinese apply --check lacks %q:\n%s", want, check.stdout)
		}
	}
	js := e.patrol(t, "patch", "apply", "-i", inv, "--catalog", e.catalog, "--check", "--lang", "zh", "-o", "json")
	if !strings.Contains(js.stdout, `"step":"pre_check"`) || strings.Contains(js.stdout, `"step":"预检"`) {
		t.Errorf("JSON does not keep the step identifiers:\n%s", js.stdout)
	}

	res := e.patrol(t, "patch", "apply", "-i", inv, "--catalog", e.catalog, "--lang", "zh")
	if res.code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if strings.Contains(res.stderr, "level=") {
		t.Errorf("apply printed log lines to stderr:\n%s", res.stderr)
	}
	if want := "seal-test | RHSA-test-app | 预检："; !strings.Contains(res.stdout, want) || !strings.Contains(res.stdout, "未检查备份：请把主机变量 backup_marker 设为备份任务更新的文件") {
		t.Errorf("apply does not show the missing backup check in the pre_check line:\n%s", res.stdout)
	}
	path, err := journal.Latest(filepath.Join(e.home, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	_, records, _, err := journal.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range records {
		if rec.Task == "预检" || rec.Task == "复制" {
			t.Errorf("journal record has a translated step name: %+v", rec)
		}
	}
}

// TestPatchChineseCallsCatalogLedger checks that Chinese messages and help
// call the catalog 补丁台账, not 目录, which reads as a folder.
func TestPatchChineseCallsCatalogLedger(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	env := []string{"PATROL_HOME=" + home, "PATROL_INVENTORY=", "PATROL_LANG=zh", "PATROL_CATALOG="}
	inv := writeFile(t, filepath.Join(dir, "inventory.yml"), "hosts:\n  seal-test: {connection: local, os: centos7, system: seal, staging: true}\n")

	for _, args := range [][]string{
		{"patch", "--help"}, {"patch", "import", "--help"}, {"patch", "apply", "--help"}, {"patch", "plan", "--help"},
		{"patch", "plan", "-i", inv}, {"patch", "plan", "-i", inv, "--catalog", filepath.Join(dir, "none.yml")},
	} {
		res := runPatrolEnv(t, env, dir, args...)
		out := res.stdout + res.stderr
		if !strings.Contains(out, "补丁台账") {
			t.Errorf("patrol %s does not say 补丁台账:\n%s", strings.Join(args, " "), out)
		}
		if strings.Contains(out, "目录") {
			t.Errorf("patrol %s says 目录:\n%s", strings.Join(args, " "), out)
		}
	}
}

// TestPatchReadmeTryIt runs the "try it on this machine" commands of both
// READMEs, which must be the same, as a user would paste them.
func TestPatchReadmeTryIt(t *testing.T) {
	en := readmeBlock(t, "../../README.md", "### Try it on this machine\n")
	zh := readmeBlock(t, "../../README.zh-CN.md", "### 在本机试用\n")
	if en != zh {
		t.Errorf("the two READMEs give different commands:\n%s\n---\n%s", en, zh)
	}

	tmp := t.TempDir()
	cmd := exec.Command("bash", "-e", "-c", en)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(patrolBin)+":"+os.Getenv("PATH"), "TMPDIR="+tmp,
		"PATROL_HOME="+t.TempDir(), "PATROL_LANG=en", "PATROL_CATALOG=", "PATROL_INVENTORY=", "PATROL_CALENDAR=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("README commands: %v\n%s", err, out)
	}
	for _, want := range []string{
		"added patch DEMO-1 to catalog.yml",
		"trial  DEMO-1  normal",
		"would       trial | DEMO-1 | patch: would install patch DEMO-1",
		"changed     trial | DEMO-1 | patch: patch DEMO-1 installed and verified",
		"up to date: trial",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("README commands do not print %q:\n%s", want, out)
		}
	}
}

// readmeBlock returns the first ```sh block after heading in a README.
func readmeBlock(t *testing.T, path, heading string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i := strings.Index(text, heading)
	if i < 0 {
		t.Fatalf("%s has no heading %q", path, strings.TrimSpace(heading))
	}
	start := strings.Index(text[i:], "```sh\n")
	if start < 0 {
		t.Fatalf("%s: no ```sh block after %q", path, strings.TrimSpace(heading))
	}
	block := text[i+start+len("```sh\n"):]
	end := strings.Index(block, "```\n")
	if end < 0 {
		t.Fatalf("%s: the block after %q does not end", path, strings.TrimSpace(heading))
	}
	return block[:end]
}
