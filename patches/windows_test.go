package patches

// The Windows installer's tests run it against the replaying WinRM server of
// lab/winrm, over HTTPS on 127.0.0.1, through the real winrmconn transport.
// The lab emulates patrol's SYSTEM scheduled tasks and replies to each
// command with output recorded on real hosts. testdata/windows/README.md
// lists where each recording comes from.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"patrol/checks"
	"patrol/i18n"
	"patrol/inventory"
	winrmlab "patrol/lab/winrm"
	"patrol/transport/local"
	"patrol/transport/winrmconn"
)

const (
	winLabUser     = "Administrator"
	winLabPassword = "s3cret-Pw"
)

// replay is one lab entry: the command regexp and what the host printed.
type replay struct {
	match  string
	stdout []byte
	exit   int64
}

// recording reads a file of testdata/windows.
func recording(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "windows", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// usCultureHeader is the framing the hotfix query prints before the
// Win32_QuickFixEngineering blocks, for a US-locale host. The recorded
// wmic listings carry only the blocks.
const usCultureHeader = "Culture=en-US\r\nShortDatePattern=M/d/yyyy\r\n\r\n"

// startWindowsLab serves the entries and returns a connection to the lab
// and the lab itself, whose Tasks the tests check.
func startWindowsLab(t *testing.T, entries ...replay) (*winrmconn.Conn, *winrmlab.Server) {
	t.Helper()
	var y strings.Builder
	for _, e := range entries {
		match, err := json.Marshal(e.match)
		if err != nil {
			t.Fatal(err)
		}
		y.WriteString("- match: " + string(match) + "\n")
		y.WriteString("  stdout_base64: " + base64.StdEncoding.EncodeToString(e.stdout) + "\n")
		y.WriteString("  exit_code: " + strings.TrimSpace(jsonNumber(e.exit)) + "\n")
	}
	parsed, err := winrmlab.ParseReplay("windows.yml", []byte(y.String()))
	if err != nil {
		t.Fatalf("parse replay: %v", err)
	}
	srv, err := winrmlab.New(winrmlab.Config{Entries: parsed, User: winLabUser, Password: winLabPassword, TLS: true})
	if err != nil {
		t.Fatalf("start lab: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() {
		_ = srv.Close()
		<-served
	})

	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, srv.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	conn, err := winrmconn.Dial(context.Background(), winrmconn.Config{
		Host: "seal-db-1", Address: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, HTTPS: true,
		Auth: winrmconn.AuthBasic, User: winLabUser, Password: winLabPassword, CAFile: caFile,
		ConnectTimeout: 5 * time.Second, OperationTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatalf("dial lab: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn, srv
}

func jsonNumber(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// windowsTarget returns a target on conn whose log lines land in *logs.
func windowsTarget(conn *winrmconn.Conn, logs *[]string) Target {
	return Target{
		Host: &inventory.Host{Name: "seal-db-1", OS: "win2012r2", System: "seal"},
		Conn: conn,
		Log: func(step string, detail i18n.Text) {
			*logs = append(*logs, step+": "+detail.EN+" | "+detail.ZH)
		},
	}
}

func windowsPatch(id string, method Method) *Patch {
	return &Patch{ID: id, Method: method, Verify: Verify{KB: id}, Source: "catalog.yml:12"}
}

// Regexps of the commands the installer sends.
const (
	matchHotfixQuery = `Win32_QuickFixEngineering`
	matchGetPackages = `'/Get-Packages'`
)

// checkTasksCleaned fails when a scheduled task was left registered.
func checkTasksCleaned(t *testing.T, srv *winrmlab.Server, want int) {
	t.Helper()
	tasks := srv.Tasks()
	if len(tasks) != want {
		t.Errorf("lab saw %d scheduled tasks, want %d", len(tasks), want)
	}
	for _, task := range tasks {
		if !task.Started || !task.Finished || !task.Deleted {
			t.Errorf("task %s = %+v, want started, finished and deleted", task.Name, task)
		}
	}
}

func TestWindowsQueryChineseHostCountsPendingDISM(t *testing.T) {
	conn, _ := startWindowsLab(t,
		replay{match: matchHotfixQuery, stdout: recording(t, "constructed-win2012r2-zh-hotfix-probe.txt")},
		replay{match: matchGetPackages, stdout: recording(t, "constructed-win2012r2-dism-get-packages.txt")},
	)
	var logs []string
	in, err := Windows{}.Query(context.Background(), windowsTarget(conn, &logs))
	if err != nil {
		t.Fatalf("Query: %v", err)
	}

	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	want := map[string]time.Time{
		"KB2919355": day(2014, 3, 18), // hotfix list; DISM's Superseded entry does not override it
		"KB3000850": {},               // blank InstalledOn; DISM's Uninstall Pending does not remove it
		"KB4012213": day(2017, 3, 14), // US form on a zh-CN host
		"KB4556853": day(2020, 5, 12),
		"KB2911134": day(2013, 12, 12), // only in DISM, Install Time 2013/12/12 1:19
		"KB4019213": {},                // DISM Install Pending, no install time yet
	}
	for kb, at := range want {
		got, ok := in.KBs[kb]
		if !ok {
			t.Errorf("KBs lacks %s", kb)
			continue
		}
		if !got.Equal(at) {
			t.Errorf("KBs[%s] = %v, want %v", kb, got, at)
		}
	}
	if _, ok := in.KBs["KB890830"]; !ok {
		t.Errorf("KBs lacks KB890830 (FILETIME InstalledOn)")
	}
	if len(in.KBs) != len(want)+1 {
		t.Errorf("KBs has %d entries, want %d: %v", len(in.KBs), len(want)+1, in.KBs)
	}
	if !slices.Equal(in.Queried, []string{"hotfix", "dism"}) {
		t.Errorf("Queried = %v, want [hotfix dism]", in.Queried)
	}
	if !slices.ContainsFunc(logs, func(l string) bool {
		return strings.Contains(l, "KB4019213 is installed but waits for a reboot") && strings.Contains(l, "需要重启")
	}) {
		t.Errorf("log does not name the pending KB4019213: %q", logs)
	}
}

func TestWindowsQueryUSHostReadsMonthFirstDates(t *testing.T) {
	conn, _ := startWindowsLab(t,
		replay{match: matchHotfixQuery, stdout: append([]byte(usCultureHeader), recording(t, "public-wufuc92-wmic-qfe-list.txt")...)},
		replay{match: matchGetPackages, stdout: recording(t, "public-win11-dism-get-packages.txt")},
	)
	var logs []string
	in, err := Windows{}.Query(context.Background(), windowsTarget(conn, &logs))
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if len(in.KBs) != 32 {
		t.Errorf("got %d KBs, want the 32 of the recording", len(in.KBs))
	}
	if got := in.KBs["KB2999226"]; !got.Equal(time.Date(2017, 6, 30, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("KB2999226 = %v, want 2017-06-30", got)
	}
	if got := in.KBs["KB3000483"]; !got.Equal(time.Date(2017, 7, 3, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("KB3000483 = %v, want 2017-07-03 (7/3/2017 is month-first)", got)
	}
	if !slices.Equal(in.Queried, []string{"hotfix", "dism"}) {
		t.Errorf("Queried = %v", in.Queried)
	}
}

func TestWindowsQueryDISMFailureKeepsHotfixes(t *testing.T) {
	conn, _ := startWindowsLab(t,
		replay{match: matchHotfixQuery, stdout: append([]byte(usCultureHeader), recording(t, "public-wufuc92-wmic-qfe-list.txt")...)},
		replay{match: matchGetPackages, stdout: recording(t, "public-win81-dism-6.3-pending-operations.txt"), exit: 0x800f0806},
	)
	var logs []string
	in, err := Windows{}.Query(context.Background(), windowsTarget(conn, &logs))
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if len(in.KBs) != 32 {
		t.Errorf("got %d KBs, want 32 from the hotfix list", len(in.KBs))
	}
	if !slices.Equal(in.Queried, []string{"hotfix"}) {
		t.Errorf("Queried = %v, want [hotfix] after the failed DISM run", in.Queried)
	}
	if len(logs) != 1 || !strings.Contains(logs[0], "0x800F0806") || !strings.Contains(logs[0], "due to pending operations") {
		t.Errorf("log = %q, want one line with the DISM exit code and message", logs)
	}
}

func TestWindowsQueryRejectsOutputWithoutCulture(t *testing.T) {
	conn, _ := startWindowsLab(t,
		replay{match: matchHotfixQuery, stdout: recording(t, "public-wufuc92-wmic-qfe-list.txt")},
	)
	var logs []string
	_, err := Windows{}.Query(context.Background(), windowsTarget(conn, &logs))
	if err == nil || !strings.Contains(err.Error(), "no Culture= line") {
		t.Errorf("Query error = %v, want the missing Culture= line named", err)
	}
}

// wusaMatch is the task script's command line for an .msu on the host.
func wusaMatch(file string) string {
	return `wusa\.exe'\) -ArgumentList '"` + regexp.QuoteMeta(file) + `" /quiet /norestart' -Wait -PassThru`
}

const msuPath = `C:\Windows\Temp\patrol\windows8.1-kb3037315-x64.msu`

func TestWindowsInstallWUSAExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		exit      int64
		want      Outcome
		wantError []string
	}{
		// The three runs of one .msu recorded in sous-chefs/powershell #48.
		{name: "installed", exit: 0, want: Outcome{}},
		{name: "reboot required", exit: 3010, want: Outcome{RebootRequired: true, ExitCode: 3010}},
		{name: "already installed", exit: 2359302, want: Outcome{AlreadyInstalled: true, ExitCode: 2359302}},
		{name: "not applicable", exit: 0x80240017, want: Outcome{ExitCode: -2145124329},
			wantError: []string{"KB3037315", "seal-db-1", "0x80240017 WU_E_NOT_APPLICABLE", "does not apply", "不适用"}},
		// The code of the wusa event in the AskCore post on 2008 R2.
		{name: "another install running", exit: 2149842953, want: Outcome{ExitCode: -2145124343},
			wantError: []string{"0x80240009 WU_E_OPERATIONINPROGRESS", "another update installation", "另一个补丁安装"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, srv := startWindowsLab(t, replay{match: wusaMatch(msuPath), exit: tc.exit})
			var logs []string
			got, err := Windows{}.Install(context.Background(), windowsTarget(conn, &logs), windowsPatch("KB3037315", MethodWUSA), []string{msuPath})
			checkTasksCleaned(t, srv, 1)
			if got != tc.want {
				t.Errorf("Outcome = %+v, want %+v", got, tc.want)
			}
			checkInstallError(t, err, tc.wantError)
		})
	}
}

// checkInstallError checks that err is an *InstallError whose text in
// either language contains each of want, or that err is nil when want is.
func checkInstallError(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Errorf("error = %v, want none", err)
		}
		return
	}
	var ie *InstallError
	if !errors.As(err, &ie) {
		t.Fatalf("error = %v (%T), want *InstallError", err, err)
	}
	both := ie.Text.EN + "\n" + ie.Text.ZH
	for _, w := range want {
		if !strings.Contains(both, w) {
			t.Errorf("error text lacks %q:\n%s", w, both)
		}
	}
	if ie.Text.ZH == "" || ie.Text.ZH == ie.Text.EN {
		t.Errorf("error has no Chinese text: %q", ie.Text.ZH)
	}
}

// dismAddMatch is the task script's command line for a .cab on the host.
func dismAddMatch(file string) string {
	return `dism\.exe'\) /Online /Add-Package \('/PackagePath:' \+ '` + regexp.QuoteMeta(file) + `'\) /Quiet /NoRestart`
}

const cabPath = `C:\Windows\Temp\patrol\Windows8.1-KB3172614-x64.cab`

func TestWindowsInstallDISMExitCodes(t *testing.T) {
	packages := recording(t, "constructed-win2012r2-dism-get-packages.txt")
	for _, tc := range []struct {
		name       string
		exit       int64
		stdout     []byte
		want       Outcome
		wantOutput string
		wantError  []string
	}{
		// Recorded without /Quiet, with which DISM prints nothing on success.
		{name: "installed, Chinese output", exit: 0, stdout: recording(t, "public-zh-dism-add-package-success.txt"),
			wantOutput: "操作成功完成。"},
		// /Quiet leaves DISM silent unless it fails.
		{name: "reboot required", exit: 3010, want: Outcome{RebootRequired: true, ExitCode: 3010}},
		{name: "not applicable", exit: 0x800f081e, stdout: recording(t, "public-win81-dism-6.3-add-package-not-applicable.txt"),
			want: Outcome{ExitCode: -2146498530}, wantOutput: "The specified package is not applicable to this image.",
			wantError: []string{"KB3172614", "0x800F081E CBS_E_NOT_APPLICABLE", "does not apply", "不适用",
				"Error: 0x800f081e The specified package is not applicable to this image."}},
		{name: "unknown failure, Chinese output", exit: 0x800f0954, stdout: recording(t, "public-zh-dism-enable-feature-0x800f0954.txt"),
			want: Outcome{ExitCode: -2146498220}, wantOutput: "错误: 0x800f0954",
			wantError: []string{"0x800F0954", "dism.log", "CBS.log", "不认识该退出码", "错误: 0x800f0954 DISM 失败。不执行任何操作。"}},
		{name: "pending operations", exit: 0x800f0806, stdout: recording(t, "public-win81-dism-6.3-pending-operations.txt"),
			want: Outcome{ExitCode: -2146498554}, wantOutput: "pending operations",
			wantError: []string{"0x800F0806", "reboot the host", "重启主机"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, srv := startWindowsLab(t,
				replay{match: matchGetPackages, stdout: packages},
				replay{match: dismAddMatch(cabPath), stdout: tc.stdout, exit: tc.exit},
			)
			var logs []string
			got, err := Windows{}.Install(context.Background(), windowsTarget(conn, &logs), windowsPatch("KB3172614", MethodDISM), []string{cabPath})
			checkTasksCleaned(t, srv, 1)
			if !strings.Contains(got.Output, tc.wantOutput) {
				t.Errorf("Output = %q, want it to contain %q", got.Output, tc.wantOutput)
			}
			got.Output = ""
			if got != tc.want {
				t.Errorf("Outcome = %+v, want %+v", got, tc.want)
			}
			checkInstallError(t, err, tc.wantError)
		})
	}
}

func TestWindowsInstallDISMAlreadyInstalledRunsNothing(t *testing.T) {
	packages := recording(t, "constructed-win2012r2-dism-get-packages.txt")
	for _, tc := range []struct {
		kb   string
		want Outcome
	}{
		{kb: "KB2911134", want: Outcome{AlreadyInstalled: true, Output: "Package_for_KB2911134~31bf3856ad364e35~amd64~~6.3.1.0: Installed"}},
		{kb: "KB4019213", want: Outcome{AlreadyInstalled: true, RebootRequired: true, Output: "Package_for_KB4019213~31bf3856ad364e35~amd64~~6.3.1.0: Install Pending"}},
	} {
		t.Run(tc.kb, func(t *testing.T) {
			conn, srv := startWindowsLab(t, replay{match: matchGetPackages, stdout: packages})
			var logs []string
			got, err := Windows{}.Install(context.Background(), windowsTarget(conn, &logs), windowsPatch(tc.kb, MethodDISM), []string{`C:\Windows\Temp\patrol\` + tc.kb + `.cab`})
			if err != nil {
				t.Fatalf("Install: %v", err)
			}
			if got != tc.want {
				t.Errorf("Outcome = %+v, want %+v", got, tc.want)
			}
			checkTasksCleaned(t, srv, 0)
		})
	}
}

func TestWindowsInstallNeedsSystemRunner(t *testing.T) {
	target := Target{Host: &inventory.Host{Name: "seal-db-1", OS: "win2012r2"}, Conn: local.New()}
	_, err := Windows{}.Install(context.Background(), target, windowsPatch("KB3037315", MethodWUSA), []string{msuPath})
	checkInstallError(t, err, []string{"cannot run commands as SYSTEM", "connection: winrm", "*local.Conn", "SYSTEM 身份"})
}

func TestWindowsRollbackWUSA(t *testing.T) {
	uninstall := `wusa\.exe'\) -ArgumentList '/uninstall /kb:3037315 /quiet /norestart' -Wait -PassThru`
	for _, tc := range []struct {
		name       string
		exit       int64
		want       Outcome
		wantOutput string
	}{
		{name: "removed", exit: 0},
		{name: "removed, reboot required", exit: 3010, want: Outcome{ExitCode: 3010, RebootRequired: true}},
		{name: "not installed", exit: 2359303, want: Outcome{ExitCode: 2359303}, wantOutput: "KB3037315 is not installed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, srv := startWindowsLab(t, replay{match: uninstall, exit: tc.exit})
			var logs []string
			got, err := Windows{}.Rollback(context.Background(), windowsTarget(conn, &logs), windowsPatch("KB3037315", MethodWUSA), &Installed{}, nil)
			if err != nil {
				t.Fatalf("Rollback: %v", err)
			}
			checkTasksCleaned(t, srv, 1)
			if !strings.Contains(got.Output, tc.wantOutput) {
				t.Errorf("Output = %q, want it to contain %q", got.Output, tc.wantOutput)
			}
			got.Output = ""
			if got != tc.want {
				t.Errorf("Outcome = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestWindowsRollbackDISMRemovesPackageByIdentity(t *testing.T) {
	remove := `dism\.exe'\) /Online /Remove-Package \('/PackageName:' \+ 'Package_for_KB4019213~31bf3856ad364e35~amd64~~6\.3\.1\.0'\) /Quiet /NoRestart`
	conn, srv := startWindowsLab(t,
		replay{match: matchGetPackages, stdout: recording(t, "constructed-win2012r2-dism-get-packages.txt")},
		replay{match: remove, exit: 3010},
	)
	var logs []string
	got, err := Windows{}.Rollback(context.Background(), windowsTarget(conn, &logs), windowsPatch("KB4019213", MethodDISM), &Installed{}, nil)
	if err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	if got != (Outcome{ExitCode: 3010, RebootRequired: true}) {
		t.Errorf("Outcome = %+v, want exit code 3010 with a reboot", got)
	}
	checkTasksCleaned(t, srv, 1)
}

func TestWindowsRollbackDISMNothingToRemove(t *testing.T) {
	conn, srv := startWindowsLab(t,
		replay{match: matchGetPackages, stdout: recording(t, "constructed-win2012r2-dism-get-packages.txt")},
	)
	var logs []string
	// KB3000850 is Uninstall Pending: already on its way out.
	got, err := Windows{}.Rollback(context.Background(), windowsTarget(conn, &logs), windowsPatch("KB3000850", MethodDISM), &Installed{}, nil)
	if err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	if !strings.Contains(got.Output, "nothing to remove") {
		t.Errorf("Output = %q, want it to say there was nothing to remove", got.Output)
	}
	checkTasksCleaned(t, srv, 0)
}

func TestWindowsRollbackRespectsNoneAndEarlierInstall(t *testing.T) {
	conn, srv := startWindowsLab(t, replay{match: `wusa`, exit: 0})
	var logs []string
	target := windowsTarget(conn, &logs)

	none := windowsPatch("KB3037315", MethodWUSA)
	none.Rollback.None = true
	_, err := Windows{}.Rollback(context.Background(), target, none, &Installed{}, nil)
	checkInstallError(t, err, []string{"rollback: none", "KB3037315", "catalog.yml:12", "无法在 seal-db-1 上回退"})

	before := &Installed{KBs: map[string]time.Time{"KB3037315": {}}}
	got, err := Windows{}.Rollback(context.Background(), target, windowsPatch("KB3037315", MethodWUSA), before, nil)
	if err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	if !strings.Contains(got.Output, "installed before patrol's install") {
		t.Errorf("Output = %q, want it to say the update was there before", got.Output)
	}
	checkTasksCleaned(t, srv, 0)
}

func TestParseDISMPackages(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		file    string
		pattern string
		want    []WindowsPackage
	}{
		{
			file: "constructed-win2012r2-dism-get-packages.txt", pattern: "yyyy/M/d",
			want: []WindowsPackage{
				{Identity: "Package_for_KB2911134~31bf3856ad364e35~amd64~~6.3.1.0", KB: "KB2911134", State: DISMStateInstalled, ReleaseType: "Update", InstallTimeRaw: "2013/12/12 1:19", InstallTime: day(2013, 12, 12)},
				{Identity: "Package_for_KB4019213~31bf3856ad364e35~amd64~~6.3.1.0", KB: "KB4019213", State: DISMStateInstallPending, ReleaseType: "Security Update"},
				{Identity: "Package_for_KB2919355~31bf3856ad364e35~amd64~~6.3.1.14", KB: "KB2919355", State: DISMStateSuperseded, ReleaseType: "Update", InstallTimeRaw: "2014/3/18 10:02", InstallTime: day(2014, 3, 18)},
				{Identity: "Package_for_KB3000850~31bf3856ad364e35~amd64~~6.3.1.0", KB: "KB3000850", State: DISMStateUninstallPending, ReleaseType: "Update", InstallTimeRaw: "2014/11/20 9:40", InstallTime: day(2014, 11, 20)},
			},
		},
		{
			file: "public-azure-docs-dism-install-pending.txt",
			want: []WindowsPackage{
				{Identity: "Package_for_RollupFix~31bf3856ad364e35~amd64~~17134.345.1.5", State: DISMStateInstallPending, ReleaseType: "Security Update"},
			},
		},
		{file: "public-win81-dism-6.3-add-package-not-applicable.txt"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := ParseDISMPackages(recording(t, tc.file), tc.pattern)
			if err != nil {
				t.Fatalf("ParseDISMPackages: %v", err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d packages, want %d: %+v", len(got), len(tc.want), got)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("package %d = %+v\nwant %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestParseDISMPackagesDayFirstHost(t *testing.T) {
	// The Windows 11 recording is from a host whose culture writes
	// dd/MM/yyyy: 06/09/2024 is 6 September.
	got, err := ParseDISMPackages(recording(t, "public-win11-dism-get-packages.txt"), "dd/MM/yyyy")
	if err != nil {
		t.Fatalf("ParseDISMPackages: %v", err)
	}
	if len(got) != 6 {
		t.Fatalf("got %d packages, want 6", len(got))
	}
	for _, p := range got {
		if p.KB != "" || p.State != DISMStateInstalled || p.ReleaseType != "OnDemand Pack" {
			t.Errorf("package %+v, want an Installed OnDemand Pack without a KB", p)
		}
	}
	if want := time.Date(2024, 9, 6, 0, 0, 0, 0, time.UTC); !got[0].InstallTime.Equal(want) {
		t.Errorf("Install Time %q read as %v, want %v", got[0].InstallTimeRaw, got[0].InstallTime, want)
	}
	if want := time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC); !got[2].InstallTime.Equal(want) {
		t.Errorf("Install Time %q read as %v, want %v", got[2].InstallTimeRaw, got[2].InstallTime, want)
	}
}

func TestParseDISMPackagesRejectsBrokenBlocks(t *testing.T) {
	for _, tc := range []struct {
		name, out, want string
	}{
		{"state before identity", "Packages listing:\r\n\r\nState : Installed\r\n", `line 3: "State : Installed" comes before any Package Identity line`},
		{"empty identity", "Package Identity : \r\nState : Installed\r\n", "line 1: Package Identity is empty"},
		{"no state", "Package Identity : Package_for_KB2911134~31bf3856ad364e35~amd64~~6.3.1.0\r\nRelease Type : Update\r\n", "package 1 (Package_for_KB2911134~31bf3856ad364e35~amd64~~6.3.1.0) has no State line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseDISMPackages([]byte(tc.out), "")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestPackageKB(t *testing.T) {
	for identity, want := range map[string]string{
		"Package_for_KB2911134~31bf3856ad364e35~amd64~~6.3.1.0":         "KB2911134",
		"Package_123_for_KB3192392~31bf3856ad364e35~amd64~~6.3.1.4":     "KB3192392",
		"Package_for_KB3003743_SP1~31bf3856ad364e35~amd64~~6.1.1.1":     "KB3003743",
		"Package_for_RollupFix~31bf3856ad364e35~amd64~~17134.345.1.5":   "",
		"Microsoft-Windows-Notepad-System-FoD-Package~31bf3856ad364e35": "",
	} {
		got := ""
		if m := packageKB.FindStringSubmatch(identity); m != nil {
			got = m[1]
		}
		if got != want {
			t.Errorf("KB of %s = %q, want %q", identity, got, want)
		}
	}
}

func TestHotfixKBsKeepsUndatedEntries(t *testing.T) {
	listing := checks.ParseHotfixListing(recording(t, "constructed-win2012r2-zh-hotfix-probe.txt"))
	kbs := HotfixKBs(listing)
	if len(kbs) != 5 {
		t.Errorf("got %d KBs, want 5: %v", len(kbs), kbs)
	}
	if at, ok := kbs["KB3000850"]; !ok || !at.IsZero() {
		t.Errorf("KB3000850 = %v, %v; want present with no date", at, ok)
	}
	if want := time.Date(2014, 3, 18, 0, 0, 0, 0, time.UTC); !kbs["KB2919355"].Equal(want) {
		t.Errorf("KB2919355 = %v, want %v", kbs["KB2919355"], want)
	}
}

func TestClassifyExitCodes(t *testing.T) {
	for _, tc := range []struct {
		method Method
		code   int
		name   string
		result exitResult
	}{
		{MethodWUSA, 0, "ERROR_SUCCESS", exitDone},
		{MethodWUSA, 3010, "ERROR_SUCCESS_REBOOT_REQUIRED", exitRebootRequired},
		{MethodWUSA, 1641, "ERROR_SUCCESS_REBOOT_INITIATED", exitRebooting},
		{MethodWUSA, 2359301, "WU_S_REBOOT_REQUIRED", exitRebootRequired},
		{MethodWUSA, 2359302, "WU_S_ALREADY_INSTALLED", exitAlreadyInstalled},
		{MethodWUSA, 2359303, "WU_S_ALREADY_UNINSTALLED", exitNotInstalled},
		{MethodWUSA, 2359299, "WU_S_UPDATE_ERROR", exitFailed},
		{MethodWUSA, -2145124329, "WU_E_NOT_APPLICABLE", exitNotApplicable},
		{MethodWUSA, 2149842967, "WU_E_NOT_APPLICABLE", exitNotApplicable},
		{MethodWUSA, -2145124343, "WU_E_OPERATIONINPROGRESS", exitFailed},
		{MethodWUSA, -2145124330, "WU_E_INSTALL_NOT_ALLOWED", exitFailed},
		{MethodWUSA, -2147023838, "ERROR_SERVICE_DISABLED", exitFailed},
		{MethodWUSA, -2147024891, "E_ACCESSDENIED", exitFailed},
		{MethodDISM, 0, "ERROR_SUCCESS", exitDone},
		{MethodDISM, 3010, "ERROR_SUCCESS_REBOOT_REQUIRED", exitRebootRequired},
		{MethodDISM, -2146498530, "CBS_E_NOT_APPLICABLE", exitNotApplicable},
		{MethodDISM, -2146498525, "CBS_E_NEW_SERVICING_STACK_REQUIRED", exitFailed},
		{MethodDISM, -2146498270, "CBS_E_INSTALLERS_FAILED", exitFailed},
		{MethodDISM, -2146498511, "CBS_E_STORE_CORRUPTION", exitFailed},
		{MethodDISM, 740, "ERROR_ELEVATION_REQUIRED", exitFailed},
		{MethodDISM, 2, "ERROR_FILE_NOT_FOUND", exitFailed},
	} {
		got, ok := classifyExit(tc.method, tc.code)
		if !ok {
			t.Errorf("%s exit code %d: unknown, want %s", tc.method, tc.code, tc.name)
			continue
		}
		if got.Name != tc.name || got.Result != tc.result {
			t.Errorf("%s exit code %d = %s/%d, want %s/%d", tc.method, tc.code, got.Name, got.Result, tc.name, tc.result)
		}
		if got.Result == exitFailed || got.Result == exitNotApplicable {
			if got.Advice.EN == "" || got.Advice.ZH == "" {
				t.Errorf("%s exit code %d has no advice in both languages", tc.method, tc.code)
			}
		}
	}

	// Each tool's codes are its own: DISM never reports WUA results.
	if _, ok := classifyExit(MethodDISM, 2359302); ok {
		t.Errorf("DISM exit code 2359302 is known, want unknown")
	}
	if _, ok := classifyExit(MethodWUSA, -2146498530); ok {
		t.Errorf("wusa exit code 0x800F081E is known, want unknown")
	}
}

func TestInstallScriptRejectsQuotedPath(t *testing.T) {
	if _, err := installScript(MethodWUSA, `C:\a"b.msu`); err == nil {
		t.Error("installScript accepted a path with a double quote")
	}
	script, err := installScript(MethodDISM, `C:\Temp\o'brien\kb.cab`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(script, `'C:\Temp\o''brien\kb.cab'`) {
		t.Errorf("script does not quote the single quote in the path:\n%s", script)
	}
}
