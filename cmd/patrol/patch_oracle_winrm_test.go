package main

// The tests of this file run `patrol patch apply` of an Oracle patch (method
// opatch) against a Windows Server 2012 R2 host with an Oracle 11.2.0.4 home,
// played by the WinRM lab over HTTPS. The lab replays every command of the
// Oracle installer: opatch.bat, lsnrctl.exe and sqlplus.exe, whose SQL must
// arrive on standard input (stdin_match), and the PowerShell steps around
// them. Its request log gives the order in which the host received them.
//
// The outputs come from patches/testdata/oracle, whose README names the
// source of each file. They were recorded on different hosts: the Windows
// ones (public-win-*) on a 19c home, the opatch lsinventory and sqlplus ones
// on Linux 11.2 homes, whose text OPatch and SQL*Plus print the same way on
// Windows apart from paths. No Windows recording of an empty lsinventory, of
// a failed opatch apply or of sqlplus was found. Versions and patch numbers
// inside the texts therefore differ from the test's patch. That does not
// matter, because patrol reads only the patch lines of lsinventory and the
// result lines of the other tools.
// Recorded text is sent with Windows line ends (CRLF).

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"patrol/journal"
	winrmlab "patrol/lab/winrm"
)

// The Oracle host and patch of these tests. The zip holds test bytes under a
// name of Oracle's p<number>_<version>_<platform>.zip form; the lab replays
// its unzip.
const (
	oraWinHost    = "seal-db-test"
	oraWinHome    = `C:\app\oracle\product\11.2.0\dbhome_1`
	oraWinBase    = `C:\app\oracle`
	oraWinSID     = "SEAL"
	oraWinPatch   = "19692824"
	oraWinZip     = "p19692824_112040_MSWIN-x86-64.zip"
	oraWinPatches = `C:\Windows\Temp\patrol-patches\` + oraWinPatch
	oraWinStage   = oraWinPatches + `\opatch-` + oraWinPatch
)

// oraWinSQL is the standard input patrol gives sqlplus for one SQL step.
func oraWinSQL(body string) string {
	return "WHENEVER OSERROR EXIT FAILURE\nWHENEVER SQLERROR EXIT FAILURE\nCONNECT / AS SYSDBA\n" + body + "\nEXIT\n"
}

// oraWinReplay is one lab entry. stdinMatch and afterCommand are regular
// expressions; empty means the key is left out.
type oraWinReplay struct {
	match, stdinMatch, afterCommand string
	stdout                          string
	exit                            int64
}

// oracleRecordingCRLF reads a file of patches/testdata/oracle with Windows
// line ends.
func oracleRecordingCRLF(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "patches", "testdata", "oracle", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n", "\r\n")
}

// catbundleOnWindows puts the constructed catbundle.sql output and logs on
// the test host: the log folder under oracle_base and the scripts in the
// home, with Windows separators, for instance SEAL.
func catbundleOnWindows(t *testing.T, name string) string {
	return strings.NewReplacer(
		"@STATE@/cfgtoollogs/catbundle/", oraWinBase+`\cfgtoollogs\catbundle\`,
		"/u01/app/oracle/product/11.2.0/dbhome_1/rdbms/admin/", oraWinHome+`\rdbms\admin\`,
		"_ORCL_", "_"+oraWinSID+"_",
	).Replace(oracleRecordingCRLF(t, name))
}

// oraWinEntries are the replies of the Windows Oracle host. applyExit and
// applyOutput are those of opatch apply; installed adds the lsinventory that
// lists the patch once opatch apply has run.
func oraWinEntries(t *testing.T, applyOutput string, applyExit int64, installed bool) []oraWinReplay {
	q := regexp.QuoteMeta
	home := q(oraWinHome)
	opatch := home + `\\OPatch\\opatch\.bat' `
	// sqlplus runs through ArgvStdinScript: the script pipes its standard
	// input to the program.
	sqlplus := `[$]patrolStdin [|] & '` + home + `\\bin\\sqlplus\.exe' '-S' '/nolog'`
	sql := func(body string) string { return `\A` + q(oraWinSQL(body)) + `\z` }
	lock := func(action, reply string) oraWinReplay {
		// Constructed: the lock script has not run on a real host, so its
		// lines are written in the form windowsLockScript prints.
		return oraWinReplay{match: "# patrol apply lock: " + action, stdout: reply + "\r\npatrol-lock: owner \r\n"}
	}

	var entries []oraWinReplay
	if installed {
		entries = append(entries, oraWinReplay{match: opatch + `'lsinventory'`, afterCommand: opatch + `'apply' '-silent'`,
			stdout: oracleRecordingCRLF(t, "public-11204-lsinventory-one-patch-cst.txt")})
	}
	entries = append(entries,
		oraWinReplay{match: opatch + `'lsinventory'`, stdout: oracleRecordingCRLF(t, "public-11204-lsinventory-none.txt")},
		// Constructed: the unpack script prints "apply" for a folder that
		// holds one patch; ZipFile.ExtractToDirectory prints nothing.
		oraWinReplay{match: `ExtractToDirectory\('` + q(oraWinPatches+`\`+oraWinZip) + `', \$stage\)`, stdout: "apply\r\n"},
		// Constructed: Remove-Item prints nothing.
		oraWinReplay{match: `if \(Test-Path -LiteralPath '` + q(oraWinStage) + `'\) \{ Remove-Item`},
		oraWinReplay{match: `Set-Location -LiteralPath '` + q(oraWinStage+`\`+oraWinPatch) + `'\r\n& '` + opatch + `'prereq' 'CheckConflictAgainstOHWithDetail' '-ph' '\./'`,
			stdout: oracleRecordingCRLF(t, "public-win-19c-opatch-prereq-passed.txt")},
		oraWinReplay{match: `Set-Location -LiteralPath '` + q(oraWinStage+`\`+oraWinPatch) + `'\r\n& '` + opatch + `'apply' '-silent'`,
			stdout: applyOutput, exit: applyExit},
		oraWinReplay{match: home + `\\bin\\lsnrctl\.exe' 'stop'`, stdout: oracleRecordingCRLF(t, "public-win-19c-lsnrctl-stop.txt")},
		oraWinReplay{match: home + `\\bin\\lsnrctl\.exe' 'start'`, stdout: oracleRecordingCRLF(t, "public-win-19c-lsnrctl-start.txt")},
		oraWinReplay{match: sqlplus, stdinMatch: sql("SHUTDOWN IMMEDIATE"), stdout: oracleRecordingCRLF(t, "public-11204-sqlplus-shutdown-immediate.txt")},
		oraWinReplay{match: sqlplus, stdinMatch: sql("STARTUP"), stdout: oracleRecordingCRLF(t, "public-11201-sqlplus-startup.txt")},
		oraWinReplay{match: sqlplus, stdinMatch: sql(`@?\rdbms\admin\catbundle.sql psu apply`), stdout: catbundleOnWindows(t, "constructed-11204-catbundle-psu-apply.txt")},
		oraWinReplay{match: sqlplus, stdinMatch: sql(`@?\rdbms\admin\utlrp.sql`), stdout: oracleRecordingCRLF(t, "public-19c-sqlplus-utlrp.txt")},
		oraWinReplay{match: `Get-Content -LiteralPath '` + q(oraWinBase+`\cfgtoollogs\catbundle\catbundle_PSU_`+oraWinSID+`_GENERATE_`), stdout: catbundleOnWindows(t, "constructed-11204-catbundle-generate-log.txt")},
		oraWinReplay{match: `Get-Content -LiteralPath '` + q(oraWinBase+`\cfgtoollogs\catbundle\catbundle_PSU_`+oraWinSID+`_APPLY_`), stdout: catbundleOnWindows(t, "constructed-11204-catbundle-apply-log.txt")},
		// Constructed: Stop-Service and Start-Service print nothing when
		// they succeed.
		oraWinReplay{match: `Get-Service -Name 'OracleService` + oraWinSID + `'\r\nif \(\$service\.Status -ne 'Stopped'\) \{ Stop-Service -InputObject \$service -Force \}`},
		oraWinReplay{match: `Start-Service -Name 'OracleService` + oraWinSID + `'`},

		lock("acquire", "patrol-lock: acquired 2030-01-01T00:05:00Z"),
		lock("renew", "patrol-lock: renewed 2030-01-01T00:06:40Z"),
		lock("release", "patrol-lock: released 2030-01-01T00:06:41Z"),
		// The Windows update query runs too, because the host is a Windows
		// host (see patch_winrm_test.go for these files).
		oraWinReplay{match: `Win32_QuickFixEngineering`, stdout: windowsRecording(t, "constructed-win2012r2-zh-hotfix-probe.txt")},
		oraWinReplay{match: `'/Get-Packages'`, stdout: windowsRecording(t, "constructed-win2012r2-dism-get-packages.txt")},
		// Constructed: DriveInfo.AvailableFreeSpace prints one number, 40 GiB.
		oraWinReplay{match: `AvailableFreeSpace`, stdout: "42949672960\r\n"},
		oraWinReplay{match: `New-Item -ItemType Directory`},
		oraWinReplay{match: `Remove-Item -LiteralPath '` + q(oraWinPatches) + `' -Recurse -Force`},
	)
	return entries
}

// oraWinEnv is one Windows Oracle host in the lab and a catalog that holds
// the patch.
type oraWinEnv struct {
	home, dir, catalog, inventory string
	srv                           *winrmlab.Server
	log                           *syncBuffer
}

func newOraWinEnv(t *testing.T, entries []oraWinReplay) *oraWinEnv {
	t.Helper()
	e := &oraWinEnv{home: t.TempDir(), dir: t.TempDir(), log: &syncBuffer{}}

	var y strings.Builder
	for _, r := range entries {
		fmt.Fprintf(&y, "- match: %s\n  stdout_base64: %s\n  exit_code: %d\n", jsonString(t, r.match), base64.StdEncoding.EncodeToString([]byte(r.stdout)), r.exit)
		if r.stdinMatch != "" {
			fmt.Fprintf(&y, "  stdin_match: %s\n", jsonString(t, r.stdinMatch))
		}
		if r.afterCommand != "" {
			fmt.Fprintf(&y, "  after_command: %s\n", jsonString(t, r.afterCommand))
		}
	}
	parsed, err := winrmlab.ParseReplay(oraWinHost+".yml", []byte(y.String()))
	if err != nil {
		t.Fatal(err)
	}
	e.srv, err = winrmlab.New(winrmlab.Config{
		Entries: parsed, User: labUser, Password: labPassword, TLS: true, Files: filepath.Join(e.dir, "files"),
		RecordRequests: true, Logger: slog.New(slog.NewTextHandler(e.log, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.srv.Serve(ln)
	t.Cleanup(func() { e.srv.Close() })
	caFile, err := e.srv.WriteCACert(filepath.Join(e.dir, oraWinHost+".yml"))
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())

	e.inventory = writeFile(t, filepath.Join(e.dir, "inventory.yml"), "hosts:\n"+windowsHost(oraWinHost, port, caFile, "SEAL_WIN_PASSWORD")+
		"    staging: true\n    vars:\n"+
		"      oracle_home: '"+oraWinHome+"'\n      oracle_base: '"+oraWinBase+"'\n      oracle_sid: "+oraWinSID+"\n      oracle_version: 11.2.0.4\n")

	zip := writeFile(t, filepath.Join(e.dir, oraWinZip), "test bytes standing in for "+oraWinZip+"\n")
	e.catalog = filepath.Join(e.dir, "catalog.yml")
	res := e.patrol(t, "patch", "import", zip, "--catalog", e.catalog, "--id", oraWinPatch, "--title", "Oracle 11.2.0.4 patch on Windows",
		"--severity", "urgent", "--method", "opatch", "--os", "win2012r2", "--system", "seal", "--oracle-version", "11.2.0.4",
		"--sha256", sha256Hex(t, zip))
	if res.code != exitOK {
		t.Fatalf("patch import: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	return e
}

func (e *oraWinEnv) patrol(t *testing.T, args ...string) result {
	t.Helper()
	return runPatrolEnv(t, []string{"PATROL_HOME=" + e.home, "PATROL_INVENTORY=", "PATROL_LANG=en", "SEAL_WIN_PASSWORD=" + labPassword}, e.dir, args...)
}

// oracleSteps names the Oracle installer's commands the host received, in
// order, and leaves out the others (lock, Windows update query, copy).
// sqlplus steps are named by the SQL they read.
func (e *oraWinEnv) oracleSteps(t *testing.T) []string {
	t.Helper()
	named := []struct {
		pattern *regexp.Regexp
		name    string
	}{
		{regexp.MustCompile(`opatch\.bat' 'lsinventory'`), "opatch lsinventory"},
		{regexp.MustCompile(`ExtractToDirectory`), "unzip"},
		{regexp.MustCompile(`opatch\.bat' 'prereq'`), "opatch prereq"},
		{regexp.MustCompile(`opatch\.bat' 'apply'`), "opatch apply"},
		{regexp.MustCompile(`opatch\.bat' 'rollback'`), "opatch rollback"},
		{regexp.MustCompile(`lsnrctl\.exe' 'stop'`), "lsnrctl stop"},
		{regexp.MustCompile(`lsnrctl\.exe' 'start'`), "lsnrctl start"},
		{regexp.MustCompile(`Stop-Service -InputObject`), "Stop-Service"},
		{regexp.MustCompile(`Start-Service -Name 'OracleService`), "Start-Service"},
		{regexp.MustCompile(`Get-Content -LiteralPath`), "read catbundle log"},
		{regexp.MustCompile(`Test-Path -LiteralPath '[^']*\\opatch-\d+'\) \{ Remove-Item`), "remove unzipped patch"},
	}
	sqlStep := regexp.MustCompile(`(?m)^CONNECT / AS SYSDBA\n(.*)\nEXIT\n\z`)

	var steps []string
	for _, c := range e.srv.Commands() {
		if strings.Contains(c.Text, `\bin\sqlplus.exe'`) {
			m := sqlStep.FindStringSubmatch(string(c.Stdin))
			if m == nil || !c.StdinEnded {
				t.Errorf("sqlplus received standard input %q (ended %v), want a SQL step", c.Stdin, c.StdinEnded)
				continue
			}
			steps = append(steps, "sqlplus "+m[1])
			continue
		}
		for _, n := range named {
			if n.pattern.MatchString(c.Text) {
				steps = append(steps, n.name)
				break
			}
		}
	}
	return steps
}

// journalSteps returns task=status of the patch's journal records on the
// host, in order.
func (e *oraWinEnv) journalSteps(t *testing.T) []string {
	t.Helper()
	path, err := journal.Latest(filepath.Join(e.home, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	if sum, err := journal.Verify(path); err != nil || !sum.Ended {
		t.Errorf("journal %s: %+v, %v; want an intact, ended chain", path, sum, err)
	}
	_, records, _, err := journal.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, r := range records {
		if r.Host == oraWinHost && r.Play == oraWinPatch {
			steps = append(steps, r.Task+"="+string(r.Status))
		}
	}
	return steps
}

// TestPatchApplyOracleOnWindows installs the Oracle patch: the listener,
// database and OracleService<SID> go down, opatch apply runs, they come up
// again, catbundle.sql and utlrp.sql load the SQL changes, and lsinventory
// then lists the patch.
func TestPatchApplyOracleOnWindows(t *testing.T) {
	e := newOraWinEnv(t, oraWinEntries(t, oracleRecordingCRLF(t, "public-win-19c-opatch-apply.txt"), 0, true))

	res := e.patrol(t, "patch", "apply", "-i", e.inventory, "--catalog", e.catalog)
	if res.code != exitOK {
		t.Fatalf("apply: exit %d\nstdout:\n%s\nstderr:\n%s\nlab:\n%s", res.code, res.stdout, res.stderr, e.log)
	}
	for _, want := range []string{
		oraWinHost + " | " + oraWinPatch + " | install: installed with opatch",
		oraWinHost + " | " + oraWinPatch + " | verify: installed: opatch " + oraWinPatch,
		oraWinHost + " | " + oraWinPatch + " | patch: patch " + oraWinPatch + " installed and verified",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("apply output lacks %q:\n%s", want, res.stdout)
		}
	}

	steps := e.oracleSteps(t)
	unzip := slices.Index(steps, "unzip")
	if unzip < 1 || steps[unzip-1] != "opatch lsinventory" {
		t.Fatalf("Oracle steps = %q, want opatch lsinventory before the unzip", steps)
	}
	wantInstall := []string{
		"unzip",
		"opatch prereq",
		"lsnrctl stop",
		"sqlplus SHUTDOWN IMMEDIATE",
		"Stop-Service",
		"opatch apply",
		"lsnrctl start",
		"Start-Service",
		"sqlplus STARTUP",
		`sqlplus @?\rdbms\admin\catbundle.sql psu apply`,
		"read catbundle log",
		"read catbundle log",
		`sqlplus @?\rdbms\admin\utlrp.sql`,
		"remove unzipped patch",
		// The verify step queries the home again.
		"opatch lsinventory",
	}
	if got := steps[unzip:]; !slices.Equal(got, wantInstall) {
		t.Errorf("Oracle steps from the unzip on:\n%q\nwant\n%q", got, wantInstall)
	}
	for _, s := range steps[:unzip] {
		if s != "opatch lsinventory" {
			t.Errorf("step %q ran before the unzip, want only opatch lsinventory: %q", s, steps)
		}
	}

	wantJournal := []string{"query=ok", "pre_check=ok", "copy=changed", "stop_services=skipped", "install=changed",
		"reboot=skipped", "start_services=skipped", "verify=ok", "post_check=skipped", "patch=changed"}
	if got := e.journalSteps(t); !slices.Equal(got, wantJournal) {
		t.Errorf("journal steps = %v, want %v", got, wantJournal)
	}

	// The lab now lists the patch, so a second run installs nothing.
	before := len(e.srv.Commands())
	res = e.patrol(t, "patch", "apply", "-i", e.inventory, "--catalog", e.catalog)
	if res.code != exitOK || strings.Contains(res.stdout, "| install:") {
		t.Errorf("second apply: exit %d, want 0 and no install step\n%s%s", res.code, res.stdout, res.stderr)
	}
	for _, c := range e.srv.Commands()[before:] {
		if strings.Contains(c.Text, "'apply' '-silent'") || strings.Contains(c.Text, "lsnrctl.exe") {
			t.Errorf("second apply ran %q", c.Text)
		}
	}
}

// TestPatchApplyOracleOnWindowsOPatchFails makes opatch apply exit 73 with
// OPatch's CheckActiveFilesAndExecutables failure: the listener and database
// must be started again, the patch reported failed with OPatch's message,
// and no SQL step run.
func TestPatchApplyOracleOnWindowsOPatchFails(t *testing.T) {
	e := newOraWinEnv(t, oraWinEntries(t, oracleRecordingCRLF(t, "public-11203-opatch-apply-failed-73.txt"), 73, false))

	res := e.patrol(t, "patch", "apply", "-i", e.inventory, "--catalog", e.catalog)
	if res.code != exitFailed {
		t.Fatalf("apply: exit %d, want %d\nstdout:\n%s\nstderr:\n%s\nlab:\n%s", res.code, exitFailed, res.stdout, res.stderr, e.log)
	}
	install := oraWinHost + " | " + oraWinPatch + " | install: opatch apply of patch " + oraWinPatch + " failed on " + oraWinHost + " (exit code 73): "
	i := strings.Index(res.stdout, install)
	if i < 0 {
		t.Fatalf("apply output lacks %q:\n%s", install, res.stdout)
	}
	line, _, _ := strings.Cut(res.stdout[i:], "\n")
	for _, want := range []string{`Prerequisite check "CheckActiveFilesAndExecutables" failed.`, "OPatch failed with error code 73", "the listener and database were started again"} {
		if !strings.Contains(line, want) {
			t.Errorf("install line lacks %q: %s", want, line)
		}
	}
	if want := oraWinHost + " | " + oraWinPatch + " | patch: patch " + oraWinPatch + " failed on " + oraWinHost; !strings.Contains(res.stdout, want) {
		t.Errorf("apply output lacks %q:\n%s", want, res.stdout)
	}

	steps := e.oracleSteps(t)
	apply := slices.Index(steps, "opatch apply")
	if apply < 0 {
		t.Fatalf("Oracle steps = %q, want opatch apply", steps)
	}
	wantAround := []string{
		"lsnrctl stop",
		"sqlplus SHUTDOWN IMMEDIATE",
		"Stop-Service",
		"opatch apply",
		"lsnrctl start",
		"Start-Service",
		"sqlplus STARTUP",
		"remove unzipped patch",
	}
	if apply < 3 || !slices.Equal(steps[apply-3:min(len(steps), apply+5)], wantAround) {
		t.Errorf("Oracle steps = %q, want %q around opatch apply", steps, wantAround)
	}
	// The rollback finds the patch missing and changes nothing, so only
	// queries follow.
	for _, s := range steps[min(len(steps), apply+5):] {
		if s != "opatch lsinventory" {
			t.Errorf("step %q ran after the failed install, want only opatch lsinventory: %q", s, steps)
		}
	}
	for _, s := range steps {
		if strings.Contains(s, "catbundle") || strings.Contains(s, "utlrp") || s == "opatch rollback" {
			t.Errorf("step %q ran although opatch apply failed", s)
		}
	}

	got := e.journalSteps(t)
	for _, want := range []string{"install=failed", "patch=failed"} {
		if !slices.Contains(got, want) {
			t.Errorf("journal steps = %v, want %s", got, want)
		}
	}
	if slices.Contains(got, "verify=ok") {
		t.Errorf("journal steps = %v, want no verify=ok", got)
	}
}
