package patches

// No Oracle database can run where the tests run. The Oracle installer's
// tests therefore run it against a real OpenSSH server on 127.0.0.1
// (internal/sshtest) whose fake Oracle home holds shell shims named opatch,
// sqlplus and lsnrctl. Each shim logs its arguments, user, folder, environment
// and standard input, then prints output recorded on real Oracle hosts and
// exits with the recorded status. testdata/oracle/README.md names where each
// recording comes from. No recording of a catbundle.sql run was found, so the
// few files named constructed-* are built from the text catbundle.sql prints.
// The Windows query runs through the replaying WinRM server of lab/winrm.

import (
	"archive/zip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"patrol/i18n"
	"patrol/internal/sshtest"
	"patrol/inventory"
	winrmlab "patrol/lab/winrm"
	"patrol/transport"
	"patrol/transport/sshconn"
	"patrol/transport/winrmconn"
)

// oracleRecording reads a file of testdata/oracle.
func oracleRecording(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "oracle", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestOPatchParseLsinventory(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	for _, tc := range []struct {
		file string
		want map[string]time.Time
	}{
		{"public-11204-lsinventory-none.txt", map[string]time.Time{}},
		{"public-11204-zh-lsinventory-none.txt", map[string]time.Time{}},
		{"public-11204-zh-lsinventory-none-after-rollback.txt", map[string]time.Time{}},
		{"public-11204-lsinventory-one-patch-cst.txt", map[string]time.Time{
			"19692824": time.Date(2022, 7, 17, 21, 45, 16, 0, cst),
		}},
		{"public-11203-lsinventory-psu-subpatches.txt", map[string]time.Time{
			"14275605": time.Date(2015, 3, 25, 9, 55, 51, 0, cst),
			"13923374": time.Date(2015, 3, 25, 9, 55, 51, 0, cst),
			"13696216": time.Date(2015, 3, 25, 9, 55, 51, 0, cst),
			"13343438": time.Date(2015, 3, 25, 9, 55, 51, 0, cst),
		}},
		{"public-win-12102-lsinventory-bundle.txt", map[string]time.Time{
			"25433286": time.Date(2017, 3, 16, 9, 17, 26, 0, time.UTC),
		}},
		{"public-tuxedo-lsinventory-bst.txt", map[string]time.Time{
			"31786661": time.Date(2022, 3, 31, 10, 42, 51, 0, time.UTC),
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := ParseLsinventory(oracleRecording(t, tc.file))
			if err != nil {
				t.Fatalf("ParseLsinventory: %v", err)
			}
			if len(got) != len(tc.want) {
				t.Errorf("got %d patches %v, want %d", len(got), got, len(tc.want))
			}
			for number, when := range tc.want {
				at, ok := got[number]
				if !ok {
					t.Errorf("patch %s missing", number)
					continue
				}
				if !at.Equal(when) {
					t.Errorf("patch %s applied at %v, want %v", number, at, when)
				}
			}
		})
	}
}

func TestOPatchParseLsinventoryCRLF(t *testing.T) {
	crlf := strings.ReplaceAll(string(oracleRecording(t, "public-win-12102-lsinventory-bundle.txt")), "\n", "\r\n")
	got, err := ParseLsinventory([]byte(crlf))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got["25433286"]; !ok || len(got) != 1 {
		t.Errorf("got %v, want only 25433286", got)
	}
}

func TestOPatchParseLsinventoryRejects(t *testing.T) {
	for _, tc := range []struct {
		file, want string
	}{
		// Its author cut three of the four patches out of the listing.
		{"public-19c-lsinventory-truncated.txt", "counts 4 interim patches but 1"},
		{"public-opatch-lspatches-unrecognized-fr.txt", "error code 14"},
		{"public-11204-lsnrctl-start.txt", "neither"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := ParseLsinventory(oracleRecording(t, tc.file))
			if err == nil {
				t.Fatalf("ParseLsinventory = %v, want an error", got)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestOPatchParseTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"Sun Jul 17 21:45:16 CST 2022", time.Date(2022, 7, 17, 13, 45, 16, 0, time.UTC)},
		{"Wed Jul 10 15:00:04 GMT 2024", time.Date(2024, 7, 10, 15, 0, 4, 0, time.UTC)},
		{"Fri Jun 20 14:53:35 UTC 2014", time.Date(2014, 6, 20, 14, 53, 35, 0, time.UTC)},
		// NOVT (Novosibirsk) is in a real recording but not in the table: the
		// patch counts as installed at an unknown time.
		{"Wed Feb 10 17:31:06 NOVT 2016", time.Time{}},
		{"星期二 一月 12 10:22:33 CST 2021", time.Time{}},
		{"", time.Time{}},
	} {
		if got := parseOPatchTime(tc.in); !got.Equal(tc.want) {
			t.Errorf("parseOPatchTime(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestOPatchClassifyApply(t *testing.T) {
	for _, tc := range []struct {
		file   string
		exit   int
		want   opatchResult
		detail string
	}{
		{"public-11204-opatch-apply-psu-composite.txt", 0, opatchOK, ""},
		{"public-11204-opatch-apply-interim.txt", 0, opatchOK, ""},
		{"public-11204-opatch-apply-already-composite.txt", 0, opatchAlready, "already installed"},
		{"public-19c-opatch-rollback.txt", 0, opatchOK, ""},
		{"public-11203-opatch-apply-failed-73.txt", 73, opatchFailedRun, `Prerequisite check "CheckActiveFilesAndExecutables" failed.`},
		// The same output with a lost exit status still fails on its last line.
		{"public-11203-opatch-apply-failed-73.txt", 0, opatchFailedRun, "OPatch failed with error code 73"},
		// Exit 0 without "OPatch succeeded." is no success.
		{"public-11204-lsnrctl-stop.txt", 0, opatchFailedRun, "did not print"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, detail := classifyOPatch(tc.exit, string(oracleRecording(t, tc.file)))
			if got != tc.want {
				t.Errorf("classifyOPatch = %v (%q), want %v", got, detail, tc.want)
			}
			if !strings.Contains(detail, tc.detail) {
				t.Errorf("detail %q does not contain %q", detail, tc.detail)
			}
		})
	}
}

func TestOPatchClassifyPrereq(t *testing.T) {
	for _, tc := range []struct {
		file   string
		ok     bool
		detail string
	}{
		{"public-11203-opatch-prereq-passed.txt", true, ""},
		{"public-11204-zh-opatch-prereq-passed.txt", true, ""},
		// OPatch prints "OPatch succeeded." and exits 0 after these conflicts.
		{"public-11204-opatch-prereq-conflict.txt", false, "conflicting patches 20476175, 28072567"},
		{"public-11204-opatch-prereq-conflict-composite.txt", false, "conflicting patches 16776922, 21352635"},
		{"public-11203-opatch-apply-failed-73.txt", false, "CheckActiveFilesAndExecutables"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			ok, detail := classifyPrereq(0, string(oracleRecording(t, tc.file)))
			if ok != tc.ok {
				t.Errorf("classifyPrereq = %v (%q), want %v", ok, detail, tc.ok)
			}
			if !strings.Contains(detail, tc.detail) {
				t.Errorf("detail %q does not contain %q", detail, tc.detail)
			}
		})
	}
}

func TestSqlplusErrors(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"public-sqlplus-ora00942-exit0.txt", []string{`ORA-00942: table or view "SYS"."BOGUS" does not exist`}},
		{"public-11204-sqlplus-ora02065.txt", []string{"ORA-02065: illegal option for ALTER SYSTEM"}},
		{"public-112-sqlplus-shutdown-idle.txt", []string{"ORA-01034: ORACLE not available", "ORA-27101: shared memory realm does not exist"}},
		{"public-11201-zh-sqlplus-session.txt", []string{
			"ORA-01034: ORACLE not available",
			"ORA-27101: shared memory realm does not exist",
			"ORA-32004: obsolete or deprecated parameter(s) specified for RDBMS instance",
			"ORA-01113: 文件 24 需要介质恢复",
			"ORA-01110: 数据文件 24: '/tmp/FY_REC_DATA.DAT'",
			"ORA-01113: 文件 24 需要介质恢复",
			"ORA-01110: 数据文件 24: '/tmp/FY_REC_DATA.DAT'",
			`SP2-0042: 未知命令 "ll" - 其余行忽略。`,
		}},
		{"public-11204-sqlplus-shutdown-immediate.txt", nil},
		{"public-11201-sqlplus-startup.txt", nil},
		{"public-19c-sqlplus-utlrp.txt", nil},
		{"constructed-11204-catbundle-psu-apply.txt", nil},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got := SqlplusErrors(string(oracleRecording(t, tc.file)))
			if !slices.Equal(got, tc.want) {
				t.Errorf("SqlplusErrors =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestSqlplusShutdownOfIdleInstance(t *testing.T) {
	errs := SqlplusErrors(string(oracleRecording(t, "public-112-sqlplus-shutdown-idle.txt")))
	if !onlyCodes(errs, "ORA-01034", "ORA-27101") {
		t.Errorf("codes %v: an idle instance must read as already stopped", errorCodes(errs))
	}
	errs = SqlplusErrors(string(oracleRecording(t, "public-11201-zh-sqlplus-startup-ora01113.txt")))
	if onlyCodes(errs, "ORA-01034", "ORA-27101") {
		t.Errorf("codes %v must not read as an idle instance", errorCodes(errs))
	}
}

func TestOracleCatbundleLogs(t *testing.T) {
	out := string(oracleRecording(t, "constructed-11204-catbundle-psu-apply.txt"))
	got := catbundleLogs(out)
	want := []string{
		"@STATE@/cfgtoollogs/catbundle/catbundle_PSU_ORCL_GENERATE_2026Oct10_09_30_01.log",
		"@STATE@/cfgtoollogs/catbundle/catbundle_PSU_ORCL_APPLY_2026Oct10_09_30_05.log",
	}
	if !slices.Equal(got, want) {
		t.Errorf("catbundleLogs = %q, want %q", got, want)
	}
	// The generate log echoes catbundle.sql's source, whose PUT_LINE calls
	// contain "patch NOT installed"; only the printed line counts.
	if m := catbundleNotInstalled.FindString(string(oracleRecording(t, "constructed-11204-catbundle-generate-log.txt"))); m != "" {
		t.Errorf("clean generate log matched %q", m)
	}
	if m := catbundleNotInstalled.FindString(string(oracleRecording(t, "constructed-11204-catbundle-generate-log-not-installed.txt"))); m != "Error reading bundledata_PSU.xml - patch NOT installed" {
		t.Errorf("failed generate log matched %q", m)
	}
}

func TestOracleHostVars(t *testing.T) {
	host := func(os string, vars map[string]any) *inventory.Host {
		return &inventory.Host{Name: "seal-db-1", OS: os, Source: "hosts.yml:14", Vars: vars}
	}

	oh, err := OracleHostOf(host("centos7", map[string]any{"oracle_home": "/u01/app/oracle/product/11.2.0/dbhome_1"}))
	if err != nil {
		t.Fatal(err)
	}
	if oh.SID != "ORCL" || oh.User != "oracle" || oh.Windows {
		t.Errorf("defaults = %+v, want SID ORCL, user oracle, Linux", oh)
	}

	oh, err = OracleHostOf(host("win2012r2", map[string]any{"oracle_home": `D:\app\oracle\product\11.2.0\dbhome_1`, "oracle_sid": "SEAL"}))
	if err != nil {
		t.Fatal(err)
	}
	if !oh.Windows || oh.SID != "SEAL" || oh.join(oh.Home, "OPatch", "opatch.bat") != `D:\app\oracle\product\11.2.0\dbhome_1\OPatch\opatch.bat` {
		t.Errorf("Windows host = %+v", oh)
	}

	for _, tc := range []struct {
		name   string
		os     string
		vars   map[string]any
		en, zh string
	}{
		{"missing home", "centos7", nil,
			"host seal-db-1 (hosts.yml:14): variable oracle_home is not set: set it to the Oracle home to patch, such as /u01/app/oracle/product/11.2.0/dbhome_1",
			"主机 seal-db-1 (hosts.yml:14)：未设置变量 oracle_home：请设为要打补丁的 Oracle 主目录，例如 /u01/app/oracle/product/11.2.0/dbhome_1"},
		{"relative home", "centos7", map[string]any{"oracle_home": "app/oracle"}, `variable oracle_home "app/oracle" is not an absolute path`, "不是绝对路径"},
		{"Linux home on Windows", "win2012r2", map[string]any{"oracle_home": "/u01/app"}, `C:\app\oracle\product\11.2.0\dbhome_1`, "不是绝对路径"},
		{"bad SID", "centos7", map[string]any{"oracle_home": "/u01/h", "oracle_sid": "orcl; rm"}, `oracle_sid "orcl; rm" is not an instance name`, "不是实例名"},
		{"bad user", "centos7", map[string]any{"oracle_home": "/u01/h", "oracle_user": "Oracle DBA"}, `oracle_user "Oracle DBA" is not a Linux user name`, "不是 Linux 用户名"},
		{"number", "centos7", map[string]any{"oracle_home": "/u01/h", "oracle_version": 11.2}, "variable oracle_version must be a string, found 11.2", "必须是字符串"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := OracleHostOf(host(tc.os, tc.vars))
			var ie *InstallError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v (%T), want *InstallError", err, err)
			}
			if ie.Host != "seal-db-1" {
				t.Errorf("Host = %q", ie.Host)
			}
			if !strings.Contains(ie.Text.EN, tc.en) {
				t.Errorf("English %q does not contain %q", ie.Text.EN, tc.en)
			}
			if !strings.Contains(ie.Text.ZH, tc.zh) {
				t.Errorf("Chinese %q does not contain %q", ie.Text.ZH, tc.zh)
			}
		})
	}
}

// oracleShim is the shell script behind OPatch/opatch, bin/sqlplus and
// bin/lsnrctl of the fake Oracle home. It names the call by its tool and
// first argument (sqlplus calls by the SQL on standard input) and logs it.
// It prints responses/<kind>.<n>.out, else <kind>.out, with @STATE@ replaced
// by the state folder, and exits with the matching .code file, else 0. The
// sed pattern is split so that the test's replacement of @STATE@ in the
// script leaves it alone. A call without a response exits with 97 so that
// the test fails. While block.<kind> exists, a call of that kind creates
// blocked.<kind> and waits, so that a test can end the context mid-step.
const oracleShim = `#!/bin/sh
# Replays output recorded on real Oracle hosts; see testdata/oracle/README.md.
state='@STATE@'
tool='@TOOL@'
stdin=''
case "$tool" in
sqlplus)
	stdin=$(cat)
	case "$stdin" in
	*"SHUTDOWN IMMEDIATE"*) kind=shutdown ;;
	*STARTUP*) kind=startup ;;
	*"catbundle.sql psu apply"*) kind=catbundle-apply ;;
	*"catbundle.sql psu rollback"*) kind=catbundle-rollback ;;
	*utlrp.sql*) kind=utlrp ;;
	*) kind=sqlplus-unknown ;;
	esac ;;
*) kind="$tool-$1" ;;
esac
n=$(( $(cat "$state/count.$kind" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$state/count.$kind"
{
	printf 'call %s|args=%s|user=%s|cwd=%s|sid=%s|home=%s|nls=%s|lc_all=%s\n' "$kind" "$*" "$(id -un)" "$(pwd 2>/dev/null)" "$ORACLE_SID" "$ORACLE_HOME" "$NLS_LANG" "$LC_ALL"
	if [ "$tool" = sqlplus ]; then printf '%s\n' "$stdin" | sed 's/^/stdin: /'; fi
} >> "$state/calls.log"
if [ -f "$state/block.$kind" ]; then
	touch "$state/blocked.$kind"
	while [ -f "$state/block.$kind" ]; do sleep 0.05; done
fi
out="$state/responses/$kind.$n.out"; [ -f "$out" ] || out="$state/responses/$kind.out"
code="$state/responses/$kind.$n.code"; [ -f "$code" ] || code="$state/responses/$kind.code"
if [ ! -f "$out" ]; then echo "shim: no recorded output for $kind" >&2; exit 97; fi
sed "s|@""STATE@|$state|g" "$out"
if [ -f "$code" ]; then exit "$(cat "$code")"; fi
exit 0
`

// oracleLab is a fake Oracle home on a real sshd host, run as the user
// nobody, which stands in for the oracle account.
type oracleLab struct {
	t      *testing.T
	base   string
	home   string
	state  string
	upload string
	conn   transport.Connection
	host   *inventory.Host
	logs   []string
}

// oracleCall is one logged shim call.
type oracleCall struct {
	kind, args, user, cwd, sid, home, nls, lcAll string
	stdin                                        []string
}

func newOracleLab(t *testing.T) *oracleLab {
	t.Helper()
	if _, err := exec.LookPath("unzip"); err != nil {
		t.Fatal("the installer unpacks patches with unzip, which this machine lacks: install the unzip package")
	}
	base, err := os.MkdirTemp("", "patrol-oracle-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	l := &oracleLab{t: t, base: base, home: filepath.Join(base, "dbhome_1"), state: filepath.Join(base, "state"), upload: filepath.Join(base, "upload")}
	for _, d := range []string{l.home + "/OPatch", l.home + "/bin", l.state + "/responses", l.state + "/cfgtoollogs/catbundle", l.upload} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The account nobody writes the call log and counters.
	for _, d := range []string{base, l.state} {
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	for path, tool := range map[string]string{"OPatch/opatch": "opatch", "bin/sqlplus": "sqlplus", "bin/lsnrctl": "lsnrctl"} {
		script := strings.NewReplacer("@STATE@", l.state, "@TOOL@", tool).Replace(oracleShim)
		if err := os.WriteFile(filepath.Join(l.home, path), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	l.copy("constructed-11204-catbundle-generate-log.txt", "cfgtoollogs/catbundle/catbundle_PSU_ORCL_GENERATE_2026Oct10_09_30_01.log")
	l.copy("constructed-11204-catbundle-apply-log.txt", "cfgtoollogs/catbundle/catbundle_PSU_ORCL_APPLY_2026Oct10_09_30_05.log")

	server := sshtest.Start(t, sshtest.Options{})
	knownHosts := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(knownHosts, []byte(server.KnownHostsLine()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	noAgent := false
	l.host = &inventory.Host{
		Name: "seal-db-2", Address: server.Host, Port: server.Port, Connection: inventory.ConnSSH,
		User: "root", KeyFile: server.ClientKeyPath, Agent: &noAgent, OS: "centos7", System: "seal",
		Vars: map[string]any{"oracle_home": l.home, "oracle_user": "nobody", "oracle_sid": "ORCL", "oracle_version": "11.2.0.4"},
	}
	cfg, err := sshconn.ConfigFromHost(l.host, sshconn.Options{
		KnownHostsFiles: []string{knownHosts}, ConnectTimeout: 5 * time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := sshconn.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatalf("dial test sshd: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	l.conn = conn
	return l
}

// copy puts a testdata/oracle file into the state folder.
func (l *oracleLab) copy(file, to string) {
	l.t.Helper()
	if err := os.WriteFile(filepath.Join(l.state, to), oracleRecording(l.t, file), 0o644); err != nil {
		l.t.Fatal(err)
	}
}

// respond makes call n of kind (0: every call without its own response)
// print a recording and exit with code.
func (l *oracleLab) respond(kind string, n int, file string, code int) {
	l.t.Helper()
	name := kind
	if n > 0 {
		name += "." + strconv.Itoa(n)
	}
	l.copy(file, filepath.Join("responses", name+".out"))
	if err := os.WriteFile(filepath.Join(l.state, "responses", name+".code"), []byte(strconv.Itoa(code)+"\n"), 0o644); err != nil {
		l.t.Fatal(err)
	}
}

// respondInstall sets up a clean install of a PSU: every step prints what it
// printed on a recorded host.
func (l *oracleLab) respondInstall() {
	l.respond("opatch-lsinventory", 0, "public-11204-lsinventory-none.txt", 0)
	l.respond("opatch-prereq", 0, "public-11203-opatch-prereq-passed.txt", 0)
	l.respond("lsnrctl-stop", 0, "public-11204-lsnrctl-stop.txt", 0)
	l.respond("shutdown", 0, "public-11204-sqlplus-shutdown-immediate.txt", 0)
	l.respond("opatch-apply", 0, "public-11204-opatch-apply-psu-composite.txt", 0)
	l.respond("lsnrctl-start", 0, "public-11204-lsnrctl-start.txt", 0)
	l.respond("startup", 0, "public-11201-sqlplus-startup.txt", 0)
	l.respond("catbundle-apply", 0, "constructed-11204-catbundle-psu-apply.txt", 0)
	l.respond("utlrp", 0, "public-19c-sqlplus-utlrp.txt", 0)
}

// patchZip writes the zip of an opatch patch into the upload folder and
// returns its path. A PSU zip holds one folder named by the patch number.
func (l *oracleLab) patchZip(number string) string {
	l.t.Helper()
	path := filepath.Join(l.upload, "p"+number+"_112040_Linux-x86-64.zip")
	f, err := os.Create(path)
	if err != nil {
		l.t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, name := range []string{number + "/etc/config/inventory.xml", number + "/README.html"} {
		w, err := zw.Create(name)
		if err != nil {
			l.t.Fatal(err)
		}
		if _, err := w.Write([]byte("<patch/>\n")); err != nil {
			l.t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		l.t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		l.t.Fatal(err)
	}
	return path
}

func (l *oracleLab) target() Target {
	return Target{
		Host:   l.host,
		Conn:   l.conn,
		Become: &transport.Become{},
		Log: func(step string, detail i18n.Text) {
			l.logs = append(l.logs, step+": "+detail.EN)
		},
	}
}

// calls reads the shim call log.
func (l *oracleLab) calls() []oracleCall {
	l.t.Helper()
	var calls []oracleCall
	for _, line := range shimCallLog(l.t, l.state) {
		if rest, ok := strings.CutPrefix(line, "stdin: "); ok && len(calls) > 0 {
			calls[len(calls)-1].stdin = append(calls[len(calls)-1].stdin, rest)
			continue
		}
		rest, ok := strings.CutPrefix(line, "call ")
		if !ok {
			continue
		}
		f := strings.Split(rest, "|")
		c := oracleCall{kind: f[0]}
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "args":
				c.args = v
			case "user":
				c.user = v
			case "cwd":
				c.cwd = v
			case "sid":
				c.sid = v
			case "home":
				c.home = v
			case "nls":
				c.nls = v
			case "lc_all":
				c.lcAll = v
			}
		}
		calls = append(calls, c)
	}
	return calls
}

func kinds(calls []oracleCall) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.kind
	}
	return out
}

func oraclePSU(number string) *Patch {
	return &Patch{ID: number, Method: MethodOPatch, Title: "Database PSU 11.2.0.4.220118",
		AppliesTo: Applies{Product: "oracle", Version: "11.2.0.4"}, Verify: Verify{OPatch: number}, Source: "catalog.yml:40"}
}

func TestOracleInstallStepOrder(t *testing.T) {
	l := newOracleLab(t)
	l.respondInstall()
	zipPath := l.patchZip("33477185")

	out, err := OPatch{}.Install(context.Background(), l.target(), oraclePSU("33477185"), []string{zipPath})
	if err != nil {
		t.Fatalf("Install: %v", err)
	}
	if out.AlreadyInstalled || out.ExitCode != 0 {
		t.Errorf("Outcome = %+v, want a fresh install with exit code 0", out)
	}
	if !strings.Contains(out.Output, "Composite patch 33477185 successfully applied.") {
		t.Errorf("Output lacks the opatch verdict:\n%s", out.Output)
	}

	calls := l.calls()
	want := []string{"opatch-lsinventory", "opatch-prereq", "lsnrctl-stop", "shutdown", "opatch-apply", "lsnrctl-start", "startup", "catbundle-apply", "utlrp"}
	if got := kinds(calls); !slices.Equal(got, want) {
		t.Fatalf("steps = %v\nwant    %v", got, want)
	}

	patchDir := filepath.Join(l.upload, "opatch-33477185", "33477185")
	for _, c := range calls {
		if c.user != "nobody" {
			t.Errorf("%s ran as %q, want the Oracle user nobody", c.kind, c.user)
		}
		if c.sid != "ORCL" || c.home != l.home || c.nls != "AMERICAN_AMERICA.AL32UTF8" || c.lcAll != "C" {
			t.Errorf("%s environment: sid %q home %q NLS_LANG %q LC_ALL %q", c.kind, c.sid, c.home, c.nls, c.lcAll)
		}
		switch c.kind {
		case "opatch-prereq":
			if c.cwd != patchDir || c.args != "prereq CheckConflictAgainstOHWithDetail -ph ./" {
				t.Errorf("prereq ran %q in %q, want in %s", c.args, c.cwd, patchDir)
			}
		case "opatch-apply":
			if c.cwd != patchDir || c.args != "apply -silent" {
				t.Errorf("apply ran %q in %q, want apply -silent in %s", c.args, c.cwd, patchDir)
			}
		case "shutdown", "startup", "catbundle-apply", "utlrp":
			// The SQL arrives on standard input, never on the command line.
			if c.args != "-S /nolog" {
				t.Errorf("sqlplus arguments %q, want -S /nolog", c.args)
			}
			for _, line := range []string{"WHENEVER OSERROR EXIT FAILURE", "WHENEVER SQLERROR EXIT FAILURE", "CONNECT / AS SYSDBA", "EXIT"} {
				if !slices.Contains(c.stdin, line) {
					t.Errorf("%s standard input %q lacks %q", c.kind, c.stdin, line)
				}
			}
		}
	}
	stdinOf := func(kind string) []string {
		for _, c := range calls {
			if c.kind == kind {
				return c.stdin
			}
		}
		return nil
	}
	for kind, line := range map[string]string{
		"shutdown": "SHUTDOWN IMMEDIATE", "startup": "STARTUP",
		"catbundle-apply": "@?/rdbms/admin/catbundle.sql psu apply", "utlrp": "@?/rdbms/admin/utlrp.sql",
	} {
		if !slices.Contains(stdinOf(kind), line) {
			t.Errorf("%s standard input %q lacks %q", kind, stdinOf(kind), line)
		}
	}

	if _, err := os.Stat(filepath.Join(l.upload, "opatch-33477185")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("unpacked patch left behind: %v", err)
	}
	for _, step := range []string{"unzip: exit code 0", "opatch apply: exit code 0", "read " + l.state + "/cfgtoollogs/catbundle/catbundle_PSU_ORCL_APPLY_2026Oct10_09_30_05.log: exit code 0"} {
		if !slices.ContainsFunc(l.logs, func(s string) bool { return strings.HasPrefix(s, step) }) {
			t.Errorf("no log line %q in %q", step, l.logs)
		}
	}
}

func TestOracleInstallAlreadyInstalledStopsNothing(t *testing.T) {
	l := newOracleLab(t)
	l.respondInstall()
	l.respond("opatch-lsinventory", 0, "public-11204-lsinventory-one-patch-cst.txt", 0)

	out, err := OPatch{}.Install(context.Background(), l.target(), oraclePSU("19692824"), []string{l.patchZip("19692824")})
	if err != nil {
		t.Fatalf("Install: %v", err)
	}
	if !out.AlreadyInstalled {
		t.Errorf("Outcome = %+v, want AlreadyInstalled", out)
	}
	if got := kinds(l.calls()); !slices.Equal(got, []string{"opatch-lsinventory"}) {
		t.Errorf("steps = %v, want only the inventory query", got)
	}
}

func TestOracleInstallOPatchSaysAlreadyApplied(t *testing.T) {
	l := newOracleLab(t)
	l.respondInstall()
	l.respond("opatch-apply", 0, "public-11204-opatch-apply-already-composite.txt", 0)

	out, err := OPatch{}.Install(context.Background(), l.target(), oraclePSU("20299013"), []string{l.patchZip("20299013")})
	if err != nil {
		t.Fatalf("Install: %v", err)
	}
	if !out.AlreadyInstalled {
		t.Errorf("Outcome = %+v, want AlreadyInstalled", out)
	}
	want := []string{"opatch-lsinventory", "opatch-prereq", "lsnrctl-stop", "shutdown", "opatch-apply", "lsnrctl-start", "startup"}
	if got := kinds(l.calls()); !slices.Equal(got, want) {
		t.Errorf("steps = %v\nwant    %v", got, want)
	}
}

func TestOracleInstallConflictChangesNothing(t *testing.T) {
	l := newOracleLab(t)
	l.respondInstall()
	l.respond("opatch-prereq", 0, "public-11204-opatch-prereq-conflict.txt", 0)

	_, err := OPatch{}.Install(context.Background(), l.target(), oraclePSU("28072567"), []string{l.patchZip("28072567")})
	var ie *InstallError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v, want *InstallError", err)
	}
	if !strings.Contains(ie.Text.EN, "conflicting patches 20476175, 28072567") || !strings.Contains(ie.Text.ZH, "冲突") {
		t.Errorf("error = %q / %q", ie.Text.EN, ie.Text.ZH)
	}
	if got := kinds(l.calls()); !slices.Equal(got, []string{"opatch-lsinventory", "opatch-prereq"}) {
		t.Errorf("steps = %v, want no stop after a conflict", got)
	}
}

func TestOracleInstallOPatchFailureRestartsDatabase(t *testing.T) {
	l := newOracleLab(t)
	l.respondInstall()
	l.respond("opatch-apply", 0, "public-11203-opatch-apply-failed-73.txt", 73)

	out, err := OPatch{}.Install(context.Background(), l.target(), oraclePSU("14275605"), []string{l.patchZip("14275605")})
	var ie *InstallError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v, want *InstallError", err)
	}
	if out.ExitCode != 73 || ie.ExitCode != 73 {
		t.Errorf("exit codes %d / %d, want 73", out.ExitCode, ie.ExitCode)
	}
	for _, part := range []string{"opatch apply of patch 14275605 failed on seal-db-2 (exit code 73)", "CheckActiveFilesAndExecutables", "the listener and database were started again"} {
		if !strings.Contains(ie.Text.EN, part) {
			t.Errorf("error %q lacks %q", ie.Text.EN, part)
		}
	}
	if !strings.Contains(ie.Text.ZH, "监听和数据库已重新启动") {
		t.Errorf("Chinese error %q lacks the restart", ie.Text.ZH)
	}
	want := []string{"opatch-lsinventory", "opatch-prereq", "lsnrctl-stop", "shutdown", "opatch-apply", "lsnrctl-start", "startup"}
	if got := kinds(l.calls()); !slices.Equal(got, want) {
		t.Errorf("steps = %v\nwant    %v", got, want)
	}
}

func TestOracleInstallCancelledDuringApplyRestarts(t *testing.T) {
	l := newOracleLab(t)
	l.respondInstall()
	block := filepath.Join(l.state, "block.opatch-apply")
	if err := os.WriteFile(block, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(block) })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := OPatch{}.Install(ctx, l.target(), oraclePSU("33477185"), []string{l.patchZip("33477185")})
		done <- err
	}()

	// Wait until opatch apply runs, then end the run as Ctrl-C would.
	blocked := filepath.Join(l.state, "blocked.opatch-apply")
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(blocked); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("opatch apply never started; steps %v", kinds(l.calls()))
		}
	}
	cancel()
	err := <-done

	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want one that wraps context.Canceled", err)
	}
	if err != nil && !strings.Contains(err.Error(), "the listener and database were started again") {
		t.Errorf("error %q does not report the restart", err)
	}
	want := []string{"opatch-lsinventory", "opatch-prereq", "lsnrctl-stop", "shutdown", "opatch-apply", "lsnrctl-start", "startup"}
	if got := kinds(l.calls()); !slices.Equal(got, want) {
		t.Errorf("steps = %v\nwant    %v", got, want)
	}
}

func TestOracleInstallReportsFailedRestart(t *testing.T) {
	l := newOracleLab(t)
	l.respondInstall()
	l.respond("opatch-apply", 0, "public-11203-opatch-apply-failed-73.txt", 73)
	l.respond("startup", 0, "public-11201-zh-sqlplus-startup-ora01113.txt", 1)

	_, err := OPatch{}.Install(context.Background(), l.target(), oraclePSU("14275605"), []string{l.patchZip("14275605")})
	var ie *InstallError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v, want *InstallError", err)
	}
	for _, part := range []string{"exit code 73", "starting the listener and database again also failed", "ORA-01113", "start it by hand"} {
		if !strings.Contains(ie.Text.EN, part) {
			t.Errorf("error %q lacks %q", ie.Text.EN, part)
		}
	}
	if strings.Contains(ie.Text.EN, "ORA-32004") {
		t.Errorf("error %q names the ORA-32004 warning", ie.Text.EN)
	}
}

func TestOracleInstallStoppedListenerAndIdleDatabase(t *testing.T) {
	l := newOracleLab(t)
	l.respondInstall()
	l.respond("lsnrctl-stop", 0, "public-11204-lsnrctl-stop-no-listener.txt", 1)
	l.respond("shutdown", 0, "public-112-sqlplus-shutdown-idle.txt", 1)

	if _, err := (OPatch{}).Install(context.Background(), l.target(), oraclePSU("33477185"), []string{l.patchZip("33477185")}); err != nil {
		t.Fatalf("Install: %v", err)
	}
	if got := kinds(l.calls()); len(got) != 9 || got[4] != "opatch-apply" {
		t.Errorf("steps = %v, want the full install", got)
	}
}

func TestSqlplusErrorWithExitZeroFailsInstall(t *testing.T) {
	l := newOracleLab(t)
	l.respondInstall()
	// SQL*Plus exits with 0 after an error unless a WHENEVER line makes it fail.
	l.respond("catbundle-apply", 0, "public-sqlplus-ora00942-exit0.txt", 0)

	_, err := OPatch{}.Install(context.Background(), l.target(), oraclePSU("33477185"), []string{l.patchZip("33477185")})
	var ie *InstallError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v, want *InstallError", err)
	}
	if !strings.Contains(ie.Text.EN, "sqlplus catbundle.sql psu apply failed on seal-db-2 (exit code 0): ORA-00942") {
		t.Errorf("error = %q", ie.Text.EN)
	}
	if got := kinds(l.calls()); got[len(got)-1] != "catbundle-apply" {
		t.Errorf("steps = %v, want none after catbundle", got)
	}
}

func TestSqlplusExitCodeFailsInstall(t *testing.T) {
	l := newOracleLab(t)
	l.respondInstall()
	// Exit status 1 from WHENEVER SQLERROR EXIT FAILURE with a clean screen.
	l.respond("utlrp", 0, "public-19c-sqlplus-utlrp.txt", 1)

	_, err := OPatch{}.Install(context.Background(), l.target(), oraclePSU("33477185"), []string{l.patchZip("33477185")})
	var ie *InstallError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v, want *InstallError", err)
	}
	if !strings.Contains(ie.Text.EN, "sqlplus utlrp.sql failed on seal-db-2 (exit code 1)") || ie.ExitCode != 1 {
		t.Errorf("error = %q, exit %d", ie.Text.EN, ie.ExitCode)
	}
}

func TestOracleCatbundleGenerateLogFailsInstall(t *testing.T) {
	l := newOracleLab(t)
	l.respondInstall()
	l.copy("constructed-11204-catbundle-generate-log-not-installed.txt", "cfgtoollogs/catbundle/catbundle_PSU_ORCL_GENERATE_2026Oct10_09_30_01.log")

	_, err := OPatch{}.Install(context.Background(), l.target(), oraclePSU("33477185"), []string{l.patchZip("33477185")})
	var ie *InstallError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v, want *InstallError", err)
	}
	if !strings.Contains(ie.Text.EN, "Error reading bundledata_PSU.xml - patch NOT installed") || !strings.Contains(ie.Text.EN, "GENERATE_2026Oct10_09_30_01.log") {
		t.Errorf("error = %q", ie.Text.EN)
	}
}

func TestOracleInstallChecksVersionAndFiles(t *testing.T) {
	l := newOracleLab(t)
	p := oraclePSU("33477185")
	p.AppliesTo.Version = "11.2.0.3"
	_, err := OPatch{}.Install(context.Background(), l.target(), p, []string{l.patchZip("33477185")})
	if err == nil || !strings.Contains(err.Error(), "patch 33477185 is for Oracle 11.2.0.3 but oracle_version of the host is 11.2.0.4") {
		t.Errorf("version mismatch: error %v", err)
	}
	_, err = OPatch{}.Install(context.Background(), l.target(), oraclePSU("33477185"), nil)
	if err == nil || !strings.Contains(err.Error(), "has 0 files") {
		t.Errorf("no files: error %v", err)
	}
	if calls := l.calls(); len(calls) != 0 {
		t.Errorf("steps = %v, want none", kinds(calls))
	}
}

func TestOracleInstallMissingHomeRunsNothing(t *testing.T) {
	l := newOracleLab(t)
	delete(l.host.Vars, "oracle_home")
	_, err := OPatch{}.Install(context.Background(), l.target(), oraclePSU("33477185"), []string{l.patchZip("33477185")})
	var ie *InstallError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v, want *InstallError", err)
	}
	if ie.Patch != "33477185" || !strings.Contains(ie.Text.EN, "host seal-db-2: variable oracle_home is not set") || !strings.Contains(ie.Text.ZH, "未设置变量 oracle_home") {
		t.Errorf("error = %+v", ie)
	}
	if calls := l.calls(); len(calls) != 0 {
		t.Errorf("steps = %v, want none", kinds(calls))
	}
}

func TestOracleRollbackStepOrder(t *testing.T) {
	l := newOracleLab(t)
	l.respond("opatch-lsinventory", 0, "public-11204-lsinventory-one-patch-cst.txt", 0)
	l.respond("lsnrctl-stop", 0, "public-11204-lsnrctl-stop.txt", 0)
	l.respond("shutdown", 0, "public-11204-sqlplus-shutdown-immediate.txt", 0)
	l.respond("opatch-rollback", 0, "public-19c-opatch-rollback.txt", 0)
	l.respond("lsnrctl-start", 0, "public-11204-lsnrctl-start.txt", 0)
	l.respond("startup", 0, "public-11201-sqlplus-startup.txt", 0)
	l.respond("catbundle-rollback", 0, "constructed-11204-catbundle-psu-apply.txt", 0)
	l.respond("utlrp", 0, "public-19c-sqlplus-utlrp.txt", 0)

	before := &Installed{OPatches: map[string]time.Time{}, Queried: []string{"opatch"}}
	if _, err := (OPatch{}).Rollback(context.Background(), l.target(), oraclePSU("19692824"), before, nil); err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	calls := l.calls()
	want := []string{"opatch-lsinventory", "lsnrctl-stop", "shutdown", "opatch-rollback", "lsnrctl-start", "startup", "catbundle-rollback", "utlrp"}
	if got := kinds(calls); !slices.Equal(got, want) {
		t.Fatalf("steps = %v\nwant    %v", got, want)
	}
	if calls[3].args != "rollback -id 19692824 -silent" {
		t.Errorf("rollback arguments %q", calls[3].args)
	}
	if !slices.Contains(calls[6].stdin, "@?/rdbms/admin/catbundle.sql psu rollback") {
		t.Errorf("catbundle rollback standard input %q", calls[6].stdin)
	}
}

func TestOracleRollbackFailureRestartsDatabase(t *testing.T) {
	l := newOracleLab(t)
	l.respond("opatch-lsinventory", 0, "public-11204-lsinventory-one-patch-cst.txt", 0)
	l.respond("lsnrctl-stop", 0, "public-11204-lsnrctl-stop.txt", 0)
	l.respond("shutdown", 0, "public-11204-sqlplus-shutdown-immediate.txt", 0)
	l.respond("opatch-rollback", 0, "public-11203-opatch-apply-failed-73.txt", 73)
	l.respond("lsnrctl-start", 0, "public-11204-lsnrctl-start.txt", 0)
	l.respond("startup", 0, "public-11201-sqlplus-startup.txt", 0)

	_, err := OPatch{}.Rollback(context.Background(), l.target(), oraclePSU("19692824"), nil, nil)
	if err == nil || !strings.Contains(err.Error(), "opatch rollback of patch 19692824 failed") || !strings.Contains(err.Error(), "started again") {
		t.Errorf("error %v", err)
	}
	want := []string{"opatch-lsinventory", "lsnrctl-stop", "shutdown", "opatch-rollback", "lsnrctl-start", "startup"}
	if got := kinds(l.calls()); !slices.Equal(got, want) {
		t.Errorf("steps = %v\nwant    %v", got, want)
	}
}

func TestOracleRollbackRefusals(t *testing.T) {
	l := newOracleLab(t)
	none := oraclePSU("19692824")
	none.Rollback.None = true
	_, err := OPatch{}.Rollback(context.Background(), l.target(), none, nil, nil)
	var ie *InstallError
	if !errors.As(err, &ie) || !strings.Contains(ie.Text.EN, "cannot be rolled back (rollback: none in the catalog)") || !strings.Contains(ie.Text.ZH, "不可回退") {
		t.Errorf("rollback: none: error %v", err)
	}

	before := &Installed{OPatches: map[string]time.Time{"19692824": {}}}
	_, err = OPatch{}.Rollback(context.Background(), l.target(), oraclePSU("19692824"), before, nil)
	if err == nil || !strings.Contains(err.Error(), "was installed before this run") {
		t.Errorf("installed before: error %v", err)
	}
	if calls := l.calls(); len(calls) != 0 {
		t.Errorf("steps = %v, want none", kinds(calls))
	}
}

func TestOracleRollbackOfMissingPatchStopsNothing(t *testing.T) {
	l := newOracleLab(t)
	l.respond("opatch-lsinventory", 0, "public-11204-lsinventory-none.txt", 0)
	if _, err := (OPatch{}).Rollback(context.Background(), l.target(), oraclePSU("19692824"), nil, nil); err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	if got := kinds(l.calls()); !slices.Equal(got, []string{"opatch-lsinventory"}) {
		t.Errorf("steps = %v", got)
	}
}

func TestOracleQueryOverSSH(t *testing.T) {
	l := newOracleLab(t)
	l.respond("opatch-lsinventory", 0, "public-11203-lsinventory-psu-subpatches.txt", 0)
	in, err := OPatch{}.Query(context.Background(), l.target())
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if !slices.Equal(in.Queried, []string{"opatch"}) || len(in.OPatches) != 4 {
		t.Errorf("Installed = %+v", in)
	}
	if _, ok := in.OPatches["13343438"]; !ok {
		t.Errorf("sub-patch 13343438 of the PSU missing: %v", in.OPatches)
	}

	l.respond("opatch-lsinventory", 2, "public-opatch-lspatches-unrecognized-fr.txt", 14)
	_, err = OPatch{}.Query(context.Background(), l.target())
	if err == nil || !strings.Contains(err.Error(), "cannot read the Oracle patches of seal-db-2") || !strings.Contains(err.Error(), "error code 14") {
		t.Errorf("failed lsinventory: error %v", err)
	}
}

// startOracleLab serves replay entries (command regexp, output) on
// 127.0.0.1 over HTTPS and returns a WinRM connection to it.
func startOracleLab(t *testing.T, entries map[string][]byte) transport.Connection {
	t.Helper()
	var y strings.Builder
	for match, out := range entries {
		m, err := json.Marshal(match)
		if err != nil {
			t.Fatal(err)
		}
		y.WriteString("- match: " + string(m) + "\n  stdout_base64: " + base64.StdEncoding.EncodeToString(out) + "\n  exit_code: 0\n")
	}

	parsed, err := winrmlab.ParseReplay("oracle.yml", []byte(y.String()))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := winrmlab.New(winrmlab.Config{Entries: parsed, User: "Administrator", Password: "s3cret-Pw", TLS: true})
	if err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		<-served
	})

	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, srv.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	conn, err := winrmconn.Dial(context.Background(), winrmconn.Config{
		Host: "seal-db-1", Address: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, HTTPS: true,
		Auth: winrmconn.AuthBasic, User: "Administrator", Password: "s3cret-Pw", CAFile: caFile,
		ConnectTimeout: 5 * time.Second, OperationTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatalf("dial lab: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestOracleQueryOverWinRM(t *testing.T) {
	// The lab replies only to a command that sets ORACLE_HOME and the English
	// Java locale and then runs opatch.bat lsinventory of that home.
	conn := startOracleLab(t, map[string][]byte{
		`(?s)ORACLE_HOME\} = 'D:\\app\\oracle\\product\\11\.2\.0\\dbhome_1'.*_JAVA_OPTIONS\} = '-Duser\.language=en.*& 'D:\\app\\oracle\\product\\11\.2\.0\\dbhome_1\\OPatch\\opatch\.bat' 'lsinventory'`: oracleRecording(t, "public-win-12102-lsinventory-bundle.txt"),
	})
	target := Target{Conn: conn, Host: &inventory.Host{Name: "seal-db-1", OS: "win2012r2", Connection: inventory.ConnWinRM,
		Vars: map[string]any{"oracle_home": `D:\app\oracle\product\11.2.0\dbhome_1`}}}
	in, err := OPatch{}.Query(context.Background(), target)
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if at, ok := in.OPatches["25433286"]; !ok || !at.Equal(time.Date(2017, 3, 16, 9, 17, 26, 0, time.UTC)) || len(in.OPatches) != 1 {
		t.Errorf("OPatches = %v, want 25433286 applied 2017-03-16 09:17:26 GMT", in.OPatches)
	}
}

// shimCallLog returns the lines of the call log that a test's command shims
// append to in state, or nil before the first call.
func shimCallLog(t *testing.T, state string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(state, "calls.log"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	text := strings.TrimRight(string(data), "\n")
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}
