package main

// The Windows patch tests run patrol patch plan, apply and status against two
// Windows Server 2012 R2 hosts that the WinRM lab plays over HTTPS: a staging
// host and a production host, each its own lab server with its own files,
// scheduled tasks and simulated reboots. Outputs come from
// patches/testdata/windows (see its README for each recording's source);
// each entry below says whether its output is recorded or constructed.

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"patrol/journal"
	winrmlab "patrol/lab/winrm"
	"patrol/patches"
)

// winKB is the test update: the November 2019 security-only update for
// Windows Server 2012 R2. The .msu file is test bytes under its real name.
const (
	winKB      = "KB4525250"
	winMSUName = "windows8.1-kb4525250-x64.msu"
)

// winReplay is one lab entry. afterReboot entries reply only once the host
// came back from its reboot.
type winReplay struct {
	match       string
	stdout      string
	exit        int64
	afterReboot bool
}

// winLabHost is one lab server playing a Windows host.
type winLabHost struct {
	name, port, caFile, files string
	srv                       *winrmlab.Server
	log                       *syncBuffer
}

// windowsRecording reads a file of patches/testdata/windows.
func windowsRecording(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "patches", "testdata", "windows", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// startWindowsPatchLab serves entries with file emulation and the reboot
// simulation on.
func startWindowsPatchLab(t *testing.T, name string, entries []winReplay) *winLabHost {
	t.Helper()
	dir := t.TempDir()
	var y strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&y, "- match: %s\n  stdout_base64: %s\n  exit_code: %d\n", jsonString(t, e.match), base64.StdEncoding.EncodeToString([]byte(e.stdout)), e.exit)
		if e.afterReboot {
			y.WriteString("  after_reboots: 1\n")
		}
	}
	parsed, err := winrmlab.ParseReplay(name+".yml", []byte(y.String()))
	if err != nil {
		t.Fatal(err)
	}
	h := &winLabHost{name: name, files: filepath.Join(dir, "files"), log: &syncBuffer{}}
	h.srv, err = winrmlab.New(winrmlab.Config{
		Entries: parsed, User: labUser, Password: labPassword, TLS: true, Files: h.files,
		SimulateReboot: true, RebootDownTime: time.Second, Logger: slog.New(slog.NewTextHandler(h.log, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go h.srv.Serve(ln)
	t.Cleanup(func() { h.srv.Close() })
	if h.caFile, err = h.srv.WriteCACert(filepath.Join(dir, name+".yml")); err != nil {
		t.Fatal(err)
	}
	_, h.port, _ = net.SplitHostPort(ln.Addr().String())
	return h
}

// hotfixWithKB is the hotfix listing of the constructed zh-CN recording
// with a constructed block for winKB, installed today in the zh-CN form
// yyyy/M/d, as Win32_QuickFixEngineering lists it after the reboot.
func hotfixWithKB(t *testing.T) string {
	today := time.Now().In(time.FixedZone("CST", 8*3600))
	return windowsRecording(t, "constructed-win2012r2-zh-hotfix-probe.txt") +
		fmt.Sprintf("HotFixID=%s\r\nDescription=Security Update\r\nInstalledBy=NT AUTHORITY\\SYSTEM\r\nInstalledOn=%d/%d/%d\r\n\r\n",
			winKB, today.Year(), today.Month(), today.Day())
}

// windowsHostEntries are the replies of one Windows host to every command of
// patch plan, apply and status, with wusaExit as the exit code of the
// install task.
func windowsHostEntries(t *testing.T, wusaExit int64) []winReplay {
	lock := func(action, reply string) winReplay {
		// Constructed: the lock script has not run on a real host, so its
		// lines are written in the form windowsLockScript prints.
		return winReplay{match: "# patrol apply lock: " + action, stdout: reply + "\r\npatrol-lock: owner \r\n"}
	}
	return []winReplay{
		// Recorded hotfix probe (constructed-win2012r2-zh-hotfix-probe.txt,
		// see its README row) plus the constructed winKB block; only once
		// the host rebooted after the install.
		{match: `Win32_QuickFixEngineering`, stdout: hotfixWithKB(t), afterReboot: true},
		{match: `Win32_QuickFixEngineering`, stdout: windowsRecording(t, "constructed-win2012r2-zh-hotfix-probe.txt")},
		{match: `'/Get-Packages'`, stdout: windowsRecording(t, "constructed-win2012r2-dism-get-packages.txt")},
		lock("acquire", "patrol-lock: acquired 2030-01-01T00:05:00Z"),
		lock("renew", "patrol-lock: renewed 2030-01-01T00:06:40Z"),
		lock("release", "patrol-lock: released 2030-01-01T00:06:41Z"),
		// Constructed: DriveInfo.AvailableFreeSpace prints one number, 40 GiB.
		{match: `AvailableFreeSpace`, stdout: "42949672960\r\n"},
		// Constructed: the backup marker is two hours old.
		{match: `LastWriteTimeUtc`, stdout: "7200\r\n"},
		// Constructed: [string]$s.Status of a running service.
		{match: `Get-Service -Name 'W3SVC'`, stdout: "Running\r\n"},
		{match: `Stop-Service -Name 'W3SVC'`},
		{match: `Start-Service -Name 'W3SVC'`},
		// Constructed: [int]$r.StatusCode of Invoke-WebRequest.
		{match: `Invoke-WebRequest`, stdout: "200\r\n"},
		{match: `New-Item -ItemType Directory`},
		{match: `Remove-Item -LiteralPath`},
		// wusa prints nothing with /quiet. 3010 is recorded (sous-chefs/
		// powershell issue #48); 0x80240017 and 2359303 are documented
		// WUA codes (see the README's exit code table).
		{match: `(?i)wusa\.exe.*"[^"]*\\` + winKB + `\\` + winMSUName + `" /quiet /norestart`, exit: wusaExit},
		{match: `/uninstall /kb:` + strings.TrimPrefix(winKB, "KB") + ` /quiet /norestart`, exit: 2359303},
	}
}

// windowsPatchEnv is a seal system of a staging and a production Windows
// host with a catalog holding winKB.
type windowsPatchEnv struct {
	home, dir, catalog, inventory string
	staging, production           *winLabHost
}

func newWindowsPatchEnv(t *testing.T, stagingWusaExit int64) *windowsPatchEnv {
	t.Helper()
	e := &windowsPatchEnv{home: t.TempDir(), dir: t.TempDir()}
	e.staging = startWindowsPatchLab(t, "seal-db-test", windowsHostEntries(t, stagingWusaExit))
	e.production = startWindowsPatchLab(t, "seal-db-1", windowsHostEntries(t, 3010))

	var inv strings.Builder
	inv.WriteString("hosts:\n")
	for _, h := range []*winLabHost{e.staging, e.production} {
		inv.WriteString(windowsHost(h.name, h.port, h.caFile, "SEAL_WIN_PASSWORD"))
		if h == e.staging {
			inv.WriteString("    staging: true\n")
		}
		inv.WriteString("    vars:\n      backup_marker: 'D:\\backup\\last-full.done'\n      health_url: http://127.0.0.1/seal/health\n      reboot_timeout: 60s\n")
	}
	e.inventory = writeFile(t, filepath.Join(e.dir, "inventory.yml"), inv.String())

	msu := writeFile(t, filepath.Join(e.dir, winMSUName), "test bytes standing in for "+winMSUName+"\n")
	e.catalog = filepath.Join(e.dir, "catalog.yml")
	res := e.patrol(t, "patch", "import", msu, "--catalog", e.catalog, "--id", winKB, "--title", "2019-11 security-only update",
		"--severity", "urgent", "--method", "wusa", "--os", "win2012r2", "--system", "seal", "--stop-service", "W3SVC",
		"--sha256", sha256Hex(t, msu))
	if res.code != exitOK {
		t.Fatalf("patch import: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	return e
}

func (e *windowsPatchEnv) patrol(t *testing.T, args ...string) result {
	t.Helper()
	return runPatrolEnv(t, []string{"PATROL_HOME=" + e.home, "PATROL_INVENTORY=", "PATROL_LANG=en", "SEAL_WIN_PASSWORD=" + labPassword}, e.dir, args...)
}

// patchFolder is where the lab's file emulation keeps the patch's copies.
func (h *winLabHost) patchFolder() string {
	return filepath.Join(h.files, "C", "Windows", "Temp", "patrol-patches", winKB)
}

// TestPatchApplyWindowsStagingThenProduction plans winKB, applies it to the
// staging host and then the production host (wusa exits 3010, so each host
// reboots), checks the journal and status, and applies again.
func TestPatchApplyWindowsStagingThenProduction(t *testing.T) {
	e := newWindowsPatchEnv(t, 3010)

	res := e.patrol(t, "patch", "plan", "-i", e.inventory, "--catalog", e.catalog, "-o", "json")
	if res.code != exitOK {
		t.Fatalf("plan: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	plans := decodeLines[patches.HostPlan](t, res.stdout)
	if len(plans) != 2 {
		t.Fatalf("plan has %d hosts, want 2:\n%s", len(plans), res.stdout)
	}
	for _, hp := range plans {
		if len(hp.Items) != 1 || hp.Items[0].State != patches.StateMissing {
			t.Errorf("plan of %s = %+v, want %s missing", hp.Host, hp.Items, winKB)
		}
	}

	res = e.patrol(t, "patch", "apply", "-i", e.inventory, "--catalog", e.catalog)
	if res.code != exitOK {
		t.Fatalf("apply: exit %d\nstdout:\n%s\nstderr:\n%s\nstaging lab:\n%s\nproduction lab:\n%s", res.code, res.stdout, res.stderr, e.staging.log, e.production.log)
	}
	for _, h := range []*winLabHost{e.staging, e.production} {
		for _, want := range []string{
			h.name + " | - | lock: apply lock held in C:\\Windows\\Temp\\patrol-patches",
			h.name + " | " + winKB + " | copy: 1 files in C:\\Windows\\Temp\\patrol-patches\\" + winKB + ", checksums verified: 1 copied",
			h.name + " | " + winKB + " | install: installed with wusa; the installer asks for a reboot",
			h.name + " | " + winKB + " | reboot: rebooted and reconnected",
			h.name + " | " + winKB + " | verify: installed: " + winKB,
			h.name + " | " + winKB + " | patch: patch " + winKB + " installed and verified",
		} {
			if !strings.Contains(res.stdout, want) {
				t.Errorf("apply output lacks %q:\n%s", want, res.stdout)
			}
		}
		checkTasks(t, h, 1)
		if !strings.Contains(h.log.String(), "host down") {
			t.Errorf("lab host %s never went down for the reboot", h.name)
		}
	}
	stagingDone := strings.Index(res.stdout, "seal-db-test | "+winKB+" | patch:")
	productionStart := strings.Index(res.stdout, "seal-db-1 | "+winKB+" | query:")
	if stagingDone < 0 || productionStart < stagingDone {
		t.Errorf("the production host started before the staging host finished:\n%s", res.stdout)
	}
	// The cleanup's Remove-Item is replayed, not carried out, so the copy
	// stays in the lab's folder to show that it arrived whole.
	checkWindowsCopy(t, e.staging, e.dir)
	checkWindowsCopy(t, e.production, e.dir)

	path, err := journal.Latest(filepath.Join(e.home, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	if sum, err := journal.Verify(path); err != nil || !sum.Ended || sum.EndStatus != journal.RunOK {
		t.Errorf("journal %s: %+v, %v; want an intact chain with an ok end", path, sum, err)
	}
	_, records, _, err := journal.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"seal-db-test", "seal-db-1"} {
		var steps []string
		for _, r := range records {
			if r.Host == host && r.Play == winKB {
				steps = append(steps, r.Task+"="+string(r.Status))
			}
		}
		want := []string{"query=ok", "pre_check=ok", "copy=changed", "stop_services=changed", "install=changed",
			"reboot=changed", "start_services=changed", "verify=ok", "post_check=ok", "patch=changed"}
		if strings.Join(steps, " ") != strings.Join(want, " ") {
			t.Errorf("journal steps of %s = %v, want %v", host, steps, want)
		}
	}

	res = e.patrol(t, "patch", "status", "-i", e.inventory, "--catalog", e.catalog, "-o", "json")
	rows := decodeLines[patches.ComplianceRow](t, res.stdout)
	if res.code != exitOK || len(rows) != 2 {
		t.Fatalf("status: exit %d, %d rows\n%s%s", res.code, len(rows), res.stdout, res.stderr)
	}
	for _, r := range rows {
		if r.Verdict != patches.VerdictMet {
			t.Errorf("status of %s on %s = %s, want met", r.Patch, r.Host, r.Verdict)
		}
	}

	res = e.patrol(t, "patch", "apply", "-i", e.inventory, "--catalog", e.catalog)
	if res.code != exitOK || strings.Contains(res.stdout, "| install:") {
		t.Errorf("second apply: exit %d, want 0 and no install step\n%s%s", res.code, res.stdout, res.stderr)
	}
	checkTasks(t, e.staging, 1)
	checkTasks(t, e.production, 1)
}

// TestPatchApplyWindowsNotApplicableOnStaging makes wusa exit 0x80240017
// (WU_E_NOT_APPLICABLE) on the staging host: the production host must not
// be touched, and the run exits 1 naming the KB.
func TestPatchApplyWindowsNotApplicableOnStaging(t *testing.T) {
	e := newWindowsPatchEnv(t, 0x80240017)

	res := e.patrol(t, "patch", "apply", "-i", e.inventory, "--catalog", e.catalog)
	if res.code != exitFailed {
		t.Fatalf("apply: exit %d, want %d\n%s%s", res.code, exitFailed, res.stdout, res.stderr)
	}
	if want := "seal-db-test | " + winKB + " | install: wusa could not install " + winKB + " on seal-db-test (exit code -2145124329, 0x80240017 WU_E_NOT_APPLICABLE"; !strings.Contains(res.stdout, want) {
		t.Errorf("apply output lacks %q:\n%s", want, res.stdout)
	}
	if want := "seal-db-1 | " + winKB + " | left: not installed: patch " + winKB + " did not install and verify on the staging host seal-db-test"; !strings.Contains(res.stdout, want) {
		t.Errorf("apply output lacks %q:\n%s", want, res.stdout)
	}
	for _, step := range []string{"lock", "copy", "install", "reboot"} {
		if strings.Contains(res.stdout, "seal-db-1 | - | "+step+":") || strings.Contains(res.stdout, "seal-db-1 | "+winKB+" | "+step+":") {
			t.Errorf("the production host got step %s:\n%s", step, res.stdout)
		}
	}
	checkTasks(t, e.production, 0)
	if _, err := os.Stat(e.production.patchFolder()); !os.IsNotExist(err) {
		t.Errorf("patch folder on the production host: %v, want none", err)
	}
	if strings.Contains(e.production.log.String(), "host down") {
		t.Error("the production host rebooted")
	}
	if !strings.Contains(res.stdout, "seal-db-test | "+winKB+" | rollback:") {
		t.Errorf("apply output has no rollback step on the staging host:\n%s", res.stdout)
	}
}

// checkTasks requires want scheduled tasks on the host, each started,
// finished and deleted.
func checkTasks(t *testing.T, h *winLabHost, want int) {
	t.Helper()
	tasks := h.srv.Tasks()
	if len(tasks) != want {
		t.Errorf("%s ran %d scheduled tasks, want %d", h.name, len(tasks), want)
	}
	for _, task := range tasks {
		if !task.Started || !task.Finished || !task.Deleted {
			t.Errorf("%s task %s = %+v, want started, finished and deleted", h.name, task.Name, task)
		}
	}
}

// checkWindowsCopy requires the .msu to have arrived whole on the host.
func checkWindowsCopy(t *testing.T, h *winLabHost, dir string) {
	t.Helper()
	want, err := os.ReadFile(filepath.Join(dir, winMSUName))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(h.patchFolder(), winMSUName))
	if err != nil || string(got) != string(want) {
		t.Errorf("copy of %s on %s = %q, %v; want the repository file", winMSUName, h.name, got, err)
	}
}
