package patches

import (
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"patrol/i18n"
	"patrol/inventory"
	"patrol/transport"
)

// OPatch installs Oracle Database patches (PSUs, Windows bundle patches,
// one-off patches) into an Oracle home with opatch. It follows the steps of
// the 11.2.0.4 PSU README (testdata/oracle/README.md names the copies that
// were read): conflict check, listener and database down, opatch apply,
// listener and database up, then catbundle.sql and utlrp.sql to load the SQL
// changes into the database. It reads the host's Oracle settings from the
// inventory variables that OracleHostOf documents.
type OPatch struct{}

// OracleHost is the Oracle home of one host, read from its inventory
// variables.
type OracleHost struct {
	// Home is oracle_home, the Oracle home directory. Required.
	Home string
	// SID is oracle_sid, the instance; default ORCL.
	SID string
	// User is oracle_user, the Linux account that owns the home and runs
	// opatch, sqlplus and lsnrctl; default oracle. Unused on Windows.
	User string
	// Version is oracle_version, such as 11.2.0.4. When both it and a patch's
	// applies_to.version are set they must match.
	Version string
	// Base is oracle_base. When set it is passed as ORACLE_BASE, which the
	// instance started after the patch uses for its diagnostic and catbundle
	// log folders.
	Base string
	// Listener is oracle_listener, the listener name for lsnrctl; empty
	// means lsnrctl's default, LISTENER.
	Listener string
	// OCMResponseFile is oracle_ocm_rsp, an OCM response file on the host
	// for `opatch apply -ocmrf`, which OPatch releases before 11.2.0.3.12
	// ask for in silent mode.
	OCMResponseFile string
	// StageDir is oracle_stage_dir, the folder the patch zip is unpacked in;
	// empty means the folder the zip was copied to. The Oracle user must be
	// able to enter it.
	StageDir string
	// Windows is true for Windows hosts: commands run through PowerShell and
	// the database has the Windows service OracleService<SID>.
	Windows bool
}

// Defaults and limits of the Oracle installer.
const (
	defaultOracleSID  = "ORCL"
	defaultOracleUser = "oracle"
	// oracleNLSLang makes sqlplus print English messages in UTF-8, whatever
	// the Oracle user's profile sets, so the error scan reads the same text
	// on every host. Error codes such as ORA-01034 do not depend on it.
	oracleNLSLang = "AMERICAN_AMERICA.AL32UTF8"
	// oracleJavaOptions makes the Java of opatch.bat print English on a
	// Chinese Windows host. On Linux LC_ALL=C, which the transport sets,
	// does the same.
	// NOTE: not yet tried on a Chinese Windows host; ParseLsinventory
	// rejects patch lines it cannot read rather than missing them.
	oracleJavaOptions = "-Duser.language=en -Duser.country=US"

	oracleQueryTimeout = 10 * time.Minute
	oracleStopTimeout  = 30 * time.Minute
	// The apply and SQL timeouts allow for slow hosts; a PSU's opatch apply
	// usually takes 10 to 30 minutes and catbundle.sql a few minutes.
	opatchApplyTimeout = 3 * time.Hour
	oracleSQLTimeout   = 3 * time.Hour
)

var (
	oracleSIDPattern      = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,15}$`)
	oracleUserPattern     = regexp.MustCompile(`^[a-z_][a-z0-9_.-]{0,31}$`)
	oracleListenerPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)
	windowsAbsPath        = regexp.MustCompile(`^[A-Za-z]:\\`)
	// opatchNumberPattern is an Oracle patch number. It also keeps the
	// staging folder named after it inside its parent.
	opatchNumberPattern = regexp.MustCompile(`^[0-9]{1,12}$`)
)

// OracleHostOf reads the Oracle settings of h from its variables: oracle_home
// (required), oracle_sid, oracle_user, oracle_version, oracle_base,
// oracle_listener, oracle_ocm_rsp and oracle_stage_dir. Every problem is
// reported in one *InstallError that names the host and the variable.
func OracleHostOf(h *inventory.Host) (OracleHost, error) {
	oh := OracleHost{Windows: h.IsWindows()}
	var en, zh []string
	problem := func(e, z string, args ...any) {
		en = append(en, fmt.Sprintf(e, args...))
		zh = append(zh, fmt.Sprintf(z, args...))
	}
	get := func(name string) string {
		v, ok := h.Vars[name]
		if !ok || v == nil {
			return ""
		}
		s, ok := v.(string)
		if !ok {
			problem("variable %s must be a string, found %v", "变量 %s 必须是字符串，实际为 %v", name, v)
			return ""
		}
		return strings.TrimSpace(s)
	}

	oh.Home = get("oracle_home")
	oh.SID = get("oracle_sid")
	oh.User = get("oracle_user")
	oh.Version = get("oracle_version")
	oh.Base = get("oracle_base")
	oh.Listener = get("oracle_listener")
	oh.OCMResponseFile = get("oracle_ocm_rsp")
	oh.StageDir = get("oracle_stage_dir")

	example := "/u01/app/oracle/product/11.2.0/dbhome_1"
	if oh.Windows {
		example = `C:\app\oracle\product\11.2.0\dbhome_1`
	}
	switch {
	case oh.Home == "":
		problem("variable oracle_home is not set: set it to the Oracle home to patch, such as %s",
			"未设置变量 oracle_home：请设为要打补丁的 Oracle 主目录，例如 %s", example)
	case !oh.absolute(oh.Home):
		problem("variable oracle_home %q is not an absolute path: write the full path, such as %s",
			"变量 oracle_home 的值 %q 不是绝对路径：请写完整路径，例如 %s", oh.Home, example)
	}
	for _, v := range []struct{ name, value string }{{"oracle_base", oh.Base}, {"oracle_ocm_rsp", oh.OCMResponseFile}, {"oracle_stage_dir", oh.StageDir}} {
		if v.value != "" && !oh.absolute(v.value) {
			problem("variable %s %q is not an absolute path", "变量 %s 的值 %q 不是绝对路径", v.name, v.value)
		}
	}

	if oh.SID == "" {
		oh.SID = defaultOracleSID
	} else if !oracleSIDPattern.MatchString(oh.SID) {
		problem("variable oracle_sid %q is not an instance name: use a letter then up to 15 letters, digits or _",
			"变量 oracle_sid 的值 %q 不是实例名：应以字母开头，后跟最多 15 个字母、数字或 _", oh.SID)
	}
	if oh.User == "" {
		oh.User = defaultOracleUser
	} else if !oracleUserPattern.MatchString(oh.User) {
		problem("variable oracle_user %q is not a Linux user name", "变量 oracle_user 的值 %q 不是 Linux 用户名", oh.User)
	}
	if oh.Listener != "" && !oracleListenerPattern.MatchString(oh.Listener) {
		problem("variable oracle_listener %q is not a listener name such as LISTENER", "变量 oracle_listener 的值 %q 不是监听名（例如 LISTENER）", oh.Listener)
	}

	if len(en) > 0 {
		where := h.Name
		if h.Source != "" {
			where += " (" + h.Source + ")"
		}
		return oh, &InstallError{Host: h.Name, Text: i18n.T(
			fmt.Sprintf("host %s: %s", where, strings.Join(en, "; ")),
			fmt.Sprintf("主机 %s：%s", where, strings.Join(zh, "；")))}
	}
	return oh, nil
}

func (oh OracleHost) absolute(p string) bool {
	if oh.Windows {
		return windowsAbsPath.MatchString(p)
	}
	return strings.HasPrefix(p, "/")
}

// join joins path elements with the host's separator.
func (oh OracleHost) join(elem ...string) string {
	if oh.Windows {
		return strings.Join(elem, `\`)
	}
	return path.Join(elem...)
}

// dir returns the folder of a path on the host.
func (oh OracleHost) dir(p string) string {
	if oh.Windows {
		if i := strings.LastIndexByte(p, '\\'); i > 0 {
			return p[:i]
		}
		return p
	}
	return path.Dir(p)
}

// Query lists the interim patches of the host's Oracle home with
// `opatch lsinventory`.
func (OPatch) Query(ctx context.Context, t Target) (*Installed, error) {
	s, err := newOracleSession(t, "")
	if err != nil {
		return nil, err
	}
	patches, err := s.query(ctx)
	if err != nil {
		return nil, err
	}
	return &Installed{OPatches: patches, Queried: []string{"opatch"}}, nil
}

// Install unpacks the patch zip, checks it for conflicts, stops the listener
// and database, runs opatch apply (napply for a folder of several patches),
// starts the listener and database, and runs catbundle.sql psu apply and
// utlrp.sql. A patch that lsinventory already lists is not touched. After a
// failure once the database was stopped, the listener and database are started
// again and the error reports both outcomes.
func (OPatch) Install(ctx context.Context, t Target, p *Patch, remote []string) (Outcome, error) {
	s, err := newOracleSession(t, p.ID)
	if err != nil {
		return Outcome{}, err
	}
	number := p.opatchNumber()
	if !opatchNumberPattern.MatchString(number) {
		return Outcome{}, s.fail(-1, "patch %s has no Oracle patch number in verify.opatch", "补丁 %s 的 verify.opatch 中没有 Oracle 补丁号", p.ID)
	}
	if len(remote) != 1 {
		return Outcome{}, s.fail(-1, "patch %s has %d files; method opatch installs one zip", "补丁 %s 有 %d 个文件；opatch 方式只安装一个 zip 文件", p.ID, len(remote))
	}
	if p.AppliesTo.Version != "" && s.oh.Version != "" && p.AppliesTo.Version != s.oh.Version {
		return Outcome{}, s.fail(-1, "patch %s is for Oracle %s but oracle_version of the host is %s", "补丁 %s 适用于 Oracle %s，但主机的 oracle_version 为 %s", p.ID, p.AppliesTo.Version, s.oh.Version)
	}

	installed, err := s.query(ctx)
	if err != nil {
		return Outcome{}, err
	}
	if _, ok := installed[number]; ok {
		s.log("opatch lsinventory", i18n.T("patch "+number+" is already installed; nothing to do", "补丁 "+number+" 已安装，无需操作"))
		return Outcome{AlreadyInstalled: true, Output: s.output()}, nil
	}

	stage := s.oh.join(s.stageParent(remote[0]), "opatch-"+number)
	defer s.removeStage(ctx, stage)
	patchDir, napply, err := s.unpack(ctx, remote[0], stage, number)
	if err != nil {
		return Outcome{}, err
	}
	if err := s.prereq(ctx, patchDir); err != nil {
		return Outcome{}, err
	}

	if err := s.stop(ctx); err != nil {
		return Outcome{}, s.restartAfter(ctx, err)
	}
	exitCode, already, err := s.apply(ctx, patchDir, napply)
	if err != nil {
		return Outcome{ExitCode: exitCode, Output: s.output()}, s.restartAfter(ctx, err)
	}
	if err := s.startAnyway(ctx); err != nil {
		return Outcome{ExitCode: exitCode, Output: s.output()}, err
	}
	if already {
		return Outcome{AlreadyInstalled: true, ExitCode: exitCode, Output: s.output()}, nil
	}

	if err := s.catbundle(ctx, "apply"); err != nil {
		return Outcome{ExitCode: exitCode, Output: s.output()}, err
	}
	if err := s.utlrp(ctx); err != nil {
		return Outcome{ExitCode: exitCode, Output: s.output()}, err
	}
	return Outcome{ExitCode: exitCode, Output: s.output()}, nil
}

// Rollback runs `opatch rollback -id N` between a stop and a start of the
// listener and database, then catbundle.sql psu rollback, which runs the
// rollback script that the apply generated, and utlrp.sql. It rejects a patch
// whose catalog entry has rollback: none, and a patch that was installed
// before the install began.
func (OPatch) Rollback(ctx context.Context, t Target, p *Patch, before *Installed, rollbackFiles []string) (Outcome, error) {
	s, err := newOracleSession(t, p.ID)
	if err != nil {
		return Outcome{}, err
	}
	number := p.opatchNumber()
	if !opatchNumberPattern.MatchString(number) {
		return Outcome{}, s.fail(-1, "patch %s has no Oracle patch number in verify.opatch", "补丁 %s 的 verify.opatch 中没有 Oracle 补丁号", p.ID)
	}
	if p.Rollback.None {
		return Outcome{}, s.fail(-1, "patch %s cannot be rolled back (rollback: none in the catalog): check host %s by hand",
			"补丁 %s 不可回退（补丁台账中为 rollback: none）：请人工检查主机 %s", p.ID, t.Host.Name)
	}
	if before != nil {
		if _, ok := before.OPatches[number]; ok {
			return Outcome{}, s.fail(-1, "patch %s was installed before this run; it is not rolled back", "补丁 %s 在本次运行前已安装，不予回退", number)
		}
	}

	installed, err := s.query(ctx)
	if err != nil {
		return Outcome{}, err
	}
	if _, ok := installed[number]; !ok {
		s.log("opatch lsinventory", i18n.T("patch "+number+" is not installed; nothing to roll back", "补丁 "+number+" 未安装，无需回退"))
		return Outcome{Output: s.output()}, nil
	}

	if err := s.stop(ctx); err != nil {
		return Outcome{}, s.restartAfter(ctx, err)
	}
	exitCode, err := s.rollback(ctx, number)
	if err != nil {
		return Outcome{ExitCode: exitCode, Output: s.output()}, s.restartAfter(ctx, err)
	}
	if err := s.startAnyway(ctx); err != nil {
		return Outcome{ExitCode: exitCode, Output: s.output()}, err
	}
	if err := s.catbundle(ctx, "rollback"); err != nil {
		return Outcome{ExitCode: exitCode, Output: s.output()}, err
	}
	if err := s.utlrp(ctx); err != nil {
		return Outcome{ExitCode: exitCode, Output: s.output()}, err
	}
	return Outcome{ExitCode: exitCode, Output: s.output()}, nil
}

// opatchNumber returns the number under which opatch lists the patch.
func (p *Patch) opatchNumber() string {
	if p.Verify.OPatch != "" {
		return p.Verify.OPatch
	}
	return p.ID
}

// oracleSession runs the steps of one query, install or rollback on a host
// and keeps their output for the Outcome.
type oracleSession struct {
	t     Target
	oh    OracleHost
	patch string
	// transcript holds each step's command name, exit code and output.
	transcript []string
}

func newOracleSession(t Target, patch string) (*oracleSession, error) {
	oh, err := OracleHostOf(t.Host)
	if err != nil {
		var ie *InstallError
		if errors.As(err, &ie) {
			ie.Patch = patch
		}
		return nil, err
	}
	return &oracleSession{t: t, oh: oh, patch: patch}, nil
}

// asOracle is the sudo setting that runs a Linux command as the Oracle user:
// through the host's become password when it has one, else through a sudo
// that must not ask. The login user runs it directly when it is that user.
func (s *oracleSession) asOracle() *transport.Become {
	if s.oh.Windows {
		return nil
	}
	if s.t.Become != nil {
		return &transport.Become{User: s.oh.User, Password: s.t.Become.Password}
	}
	if s.t.Host.User == s.oh.User {
		return nil
	}
	return &transport.Become{User: s.oh.User}
}

// env is the environment of every Oracle command. It is set in full because
// sudo starts the command without the Oracle user's profile.
func (s *oracleSession) env(java bool) map[string]string {
	env := map[string]string{
		"ORACLE_HOME": s.oh.Home,
		"ORACLE_SID":  s.oh.SID,
		"NLS_LANG":    oracleNLSLang,
	}
	if s.oh.Base != "" {
		env["ORACLE_BASE"] = s.oh.Base
	}
	if s.oh.Windows {
		if java {
			env["_JAVA_OPTIONS"] = oracleJavaOptions
		}
		return env
	}
	env["PATH"] = s.oh.Home + "/bin:" + s.oh.Home + "/OPatch:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	return env
}

func (s *oracleSession) opatchPath() string {
	if s.oh.Windows {
		return s.oh.join(s.oh.Home, "OPatch", "opatch.bat")
	}
	return s.oh.join(s.oh.Home, "OPatch", "opatch")
}

func (s *oracleSession) binPath(name string) string {
	if s.oh.Windows {
		return s.oh.join(s.oh.Home, "bin", name+".exe")
	}
	return s.oh.join(s.oh.Home, "bin", name)
}

// oracleCommand runs argv as the Oracle user, in dir when dir is set.
func (s *oracleSession) oracleCommand(dir string, java bool, timeout time.Duration, argv ...string) transport.Command {
	cmd := transport.Command{Env: s.env(java), Become: s.asOracle(), Timeout: timeout}
	switch {
	case dir == "":
		cmd.Argv = argv
	case s.oh.Windows:
		quoted := make([]string, len(argv))
		for i, a := range argv {
			quoted[i] = psQuote(a)
		}
		cmd.Script = "Set-Location -LiteralPath " + psQuote(dir) + "\r\n& " + strings.Join(quoted, " ") + "\r\nexit $LASTEXITCODE\r\n"
	default:
		cmd.Argv = append([]string{"/bin/sh", "-c", `cd -- "$1" || exit 1; shift; exec "$@"`, "sh", dir}, argv...)
	}
	return cmd
}

// sqlplus runs a SQL*Plus script as SYSDBA through operating system
// authentication. The script goes to standard input, so nothing of it shows
// on a process list, and it starts with WHENEVER lines that make SQL*Plus
// exit with status 1 on the first SQL or operating system error. FAILURE is
// used rather than SQL.SQLCODE because Unix keeps only the low 8 bits of an
// exit status, so an ORA-01792 would exit with 0.
//
// On Windows the WinRM transport's script reads the input and pipes it to
// sqlplus.exe (winrmconn.ArgvStdinScript).
// NOTE: the WinRM lab checks that the SQL arrives with the command, but no
// Windows host has shown that sqlplus.exe reads it from that pipe.
func (s *oracleSession) sqlplus(ctx context.Context, step string, timeout time.Duration, body string) (transport.Result, error) {
	script := "WHENEVER OSERROR EXIT FAILURE\nWHENEVER SQLERROR EXIT FAILURE\nCONNECT / AS SYSDBA\n" + body + "\nEXIT\n"
	cmd := s.oracleCommand("", false, timeout, s.binPath("sqlplus"), "-S", "/nolog")
	cmd.Stdin = strings.NewReader(script)
	return s.run(ctx, step, cmd)
}

// query runs opatch lsinventory and parses it.
func (s *oracleSession) query(ctx context.Context) (map[string]time.Time, error) {
	res, err := s.run(ctx, "opatch lsinventory", s.oracleCommand("", true, oracleQueryTimeout, s.opatchPath(), "lsinventory"))
	if err != nil {
		return nil, err
	}
	patches, perr := ParseLsinventory(res.Stdout)
	if perr == nil && res.ExitCode != 0 {
		perr = fmt.Errorf("opatch lsinventory exited with %d: %s", res.ExitCode, lastLine(string(res.Stdout)))
	}
	if perr != nil {
		return nil, s.fail(res.ExitCode, "cannot read the Oracle patches of %s in %s: %v", "无法读取 %s 上 %s 的 Oracle 补丁：%v", s.t.Host.Name, s.oh.Home, perr)
	}
	return patches, nil
}

// stageParent is the folder the patch is unpacked in.
func (s *oracleSession) stageParent(zip string) string {
	if s.oh.StageDir != "" {
		return s.oh.StageDir
	}
	return s.oh.dir(zip)
}

// unpackScript unzips $2 into the fresh folder $1 and checks that it contains
// the folder $3. It hands the files to the user $4 when set. It prints "apply"
// when that folder is one patch (it has etc/config/inventory.xml), else
// "napply", for a folder of several patches.
// NOTE: the napply case is inferred from the OPatch layout of one patch per
// folder; no recorded bundle of several patches has been unpacked here.
const unpackScript = `set -e
rm -rf -- "$1"
mkdir -p -- "$1"
unzip -q -o "$2" -d "$1"
if [ ! -d "$1/$3" ]; then echo "the zip does not contain the folder $3: check verify.opatch in the catalog" >&2; exit 3; fi
if [ -n "$4" ]; then chown -R -- "$4" "$1"; fi
if [ -f "$1/$3/etc/config/inventory.xml" ]; then echo apply; else echo napply; fi
`

// unpack unzips the patch into stage and returns the patch folder and whether
// it needs opatch napply.
func (s *oracleSession) unpack(ctx context.Context, zip, stage, number string) (dir string, napply bool, err error) {
	var cmd transport.Command
	if s.oh.Windows {
		cmd = transport.Command{Timeout: oracleStopTimeout, Script: "$ErrorActionPreference = 'Stop'\r\n" +
			"$stage = " + psQuote(stage) + "\r\n" +
			"if (Test-Path -LiteralPath $stage) { Remove-Item -LiteralPath $stage -Recurse -Force }\r\n" +
			"Add-Type -AssemblyName System.IO.Compression.FileSystem\r\n" +
			"[System.IO.Compression.ZipFile]::ExtractToDirectory(" + psQuote(zip) + ", $stage)\r\n" +
			"$dir = Join-Path $stage " + psQuote(number) + "\r\n" +
			"if (-not (Test-Path -LiteralPath $dir -PathType Container)) { [Console]::Error.WriteLine('the zip does not contain the folder " + number + ": check verify.opatch in the catalog'); exit 3 }\r\n" +
			"if (Test-Path -LiteralPath (Join-Path $dir 'etc\\config\\inventory.xml')) { 'apply' } else { 'napply' }\r\n"}
	} else {
		owner := ""
		if s.t.Become != nil && s.asOracle() != nil {
			owner = s.oh.User
		}
		cmd = transport.Command{Timeout: oracleStopTimeout, Become: s.t.Become, Argv: []string{"/bin/sh", "-c", unpackScript, "sh", stage, zip, number, owner}}
	}
	res, err := s.run(ctx, "unzip", cmd)
	if err != nil {
		return "", false, err
	}
	kind := lastLine(string(res.Stdout))
	if res.ExitCode != 0 || (kind != "apply" && kind != "napply") {
		return "", false, s.fail(res.ExitCode, "cannot unpack %s into %s (exit code %d): %s", "无法将 %s 解压到 %s（退出码 %d）：%s", zip, stage, res.ExitCode, lastLine(trimOutput(res.Stdout, res.Stderr)))
	}
	return s.oh.join(stage, number), kind == "napply", nil
}

// removeStage deletes the unpacked patch. A failure is logged only: the
// patch itself is in place or was reported failed already.
func (s *oracleSession) removeStage(ctx context.Context, stage string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), oracleQueryTimeout)
	defer cancel()
	cmd := transport.Command{Timeout: oracleQueryTimeout, Become: s.t.Become, Argv: []string{"rm", "-rf", "--", stage}}
	if s.oh.Windows {
		cmd = transport.Command{Timeout: oracleQueryTimeout, Script: "if (Test-Path -LiteralPath " + psQuote(stage) + ") { Remove-Item -LiteralPath " + psQuote(stage) + " -Recurse -Force }\r\n"}
	}
	res, err := s.run(ctx, "remove "+stage, cmd)
	if err == nil && res.ExitCode != 0 {
		s.log("remove "+stage, i18n.T("could not remove the unpacked patch "+stage+": remove it by hand", "无法删除解压的补丁 "+stage+"：请手工删除"))
	}
}

// prereq runs opatch prereq CheckConflictAgainstOHWithDetail in the patch
// folder, with the database still up.
func (s *oracleSession) prereq(ctx context.Context, dir string) error {
	res, err := s.run(ctx, "opatch prereq CheckConflictAgainstOHWithDetail",
		s.oracleCommand(dir, true, oracleQueryTimeout, s.opatchPath(), "prereq", "CheckConflictAgainstOHWithDetail", "-ph", "./"))
	if err != nil {
		return err
	}
	if ok, detail := classifyPrereq(res.ExitCode, string(res.Stdout)+"\n"+string(res.Stderr)); !ok {
		return s.fail(res.ExitCode, "opatch found a conflict for patch %s on %s, nothing was changed: %s; get a merged patch or roll back the conflicting one",
			"opatch 发现补丁 %s 在 %s 上有冲突，未做任何改动：%s；请获取合并补丁或先回退冲突补丁", s.patch, s.t.Host.Name, detail)
	}
	return nil
}

// apply runs opatch apply -silent (or napply) in the patch folder.
func (s *oracleSession) apply(ctx context.Context, dir string, napply bool) (exitCode int, already bool, err error) {
	args := []string{s.opatchPath(), "apply", "-silent"}
	if napply {
		args = []string{s.opatchPath(), "napply", "-silent", "-skip_subset", "-skip_duplicate"}
	}
	if s.oh.OCMResponseFile != "" {
		args = append(args, "-ocmrf", s.oh.OCMResponseFile)
	}
	step := "opatch " + args[1]
	res, err := s.run(ctx, step, s.oracleCommand(dir, true, opatchApplyTimeout, args...))
	if err != nil {
		return -1, false, err
	}
	switch result, detail := classifyOPatch(res.ExitCode, trimOutput(res.Stdout, res.Stderr)); result {
	case opatchAlready:
		return res.ExitCode, true, nil
	case opatchFailedRun:
		return res.ExitCode, false, s.fail(res.ExitCode, "%s of patch %s failed on %s (exit code %d): %s",
			"在 %[3]s 上执行 %[1]s 安装补丁 %[2]s 失败（退出码 %[4]d）：%[5]s", step, s.patch, s.t.Host.Name, res.ExitCode, detail)
	}
	return res.ExitCode, false, nil
}

// rollback runs opatch rollback -id N -silent.
func (s *oracleSession) rollback(ctx context.Context, number string) (int, error) {
	res, err := s.run(ctx, "opatch rollback", s.oracleCommand("", true, opatchApplyTimeout, s.opatchPath(), "rollback", "-id", number, "-silent"))
	if err != nil {
		return -1, err
	}
	if result, detail := classifyOPatch(res.ExitCode, trimOutput(res.Stdout, res.Stderr)); result == opatchFailedRun {
		return res.ExitCode, s.fail(res.ExitCode, "opatch rollback of patch %s failed on %s (exit code %d): %s",
			"在 %[2]s 上执行 opatch rollback 回退补丁 %[1]s 失败（退出码 %[3]d）：%[4]s", number, s.t.Host.Name, res.ExitCode, detail)
	}
	return res.ExitCode, nil
}

// stop stops the listener, then the database with SHUTDOWN IMMEDIATE, and on
// Windows the OracleService<SID> service that holds the home's DLLs. A
// listener or database that was not running counts as stopped.
//
// NOTE: the Windows install steps (unzip through .NET, Stop-Service and
// Start-Service, opatch.bat apply in the patch folder) have run only against
// the WinRM replay lab, partly with output recorded on Linux. The Windows
// rollback (opatch rollback, catbundle.sql psu rollback) has not run even
// there, and no step has run on a Windows host. Other services that load
// the home's DLLs (OracleMTSRecoveryService, the VSS writer, DBConsole) are
// left to the patch's stop_services in the catalog.
func (s *oracleSession) stop(ctx context.Context) error {
	res, err := s.run(ctx, "lsnrctl stop", s.oracleCommand("", false, oracleStopTimeout, s.lsnrctlArgs("stop")...))
	if err != nil {
		return err
	}
	tns := lsnrctlErrors(string(res.Stdout) + string(res.Stderr))
	if res.ExitCode != 0 && !slices.Contains(errorCodes(tns), "TNS-12541") {
		return s.fail(res.ExitCode, "lsnrctl stop failed on %s (exit code %d): %s", "在 %s 上执行 lsnrctl stop 失败（退出码 %d）：%s", s.t.Host.Name, res.ExitCode, lastLine(trimOutput(res.Stdout, res.Stderr)))
	}

	res, err = s.sqlplus(ctx, "shutdown immediate", oracleStopTimeout, "SHUTDOWN IMMEDIATE")
	if err != nil {
		return err
	}
	// ORA-01034 and ORA-27101 mean no instance is running.
	oraErrs := SqlplusErrors(string(res.Stdout) + "\n" + string(res.Stderr))
	if (res.ExitCode != 0 || len(oraErrs) > 0) && !onlyCodes(oraErrs, "ORA-01034", "ORA-27101") {
		return s.sqlError("shutdown immediate", res, oraErrs)
	}

	if s.oh.Windows {
		service := "OracleService" + s.oh.SID
		res, err := s.run(ctx, "Stop-Service "+service, transport.Command{Timeout: oracleStopTimeout, Script: "$ErrorActionPreference = 'Stop'\r\n" +
			"$service = Get-Service -Name " + psQuote(service) + "\r\n" +
			"if ($service.Status -ne 'Stopped') { Stop-Service -InputObject $service -Force }\r\n"})
		if err != nil {
			return err
		}
		if res.ExitCode != 0 {
			return s.fail(res.ExitCode, "cannot stop the service %s on %s: %s", "无法停止 %s 上的服务 %s：%s", service, s.t.Host.Name, lastLine(trimOutput(res.Stdout, res.Stderr)))
		}
	}
	return nil
}

// start starts the listener and the database, trying the database even when
// the listener fails, and reports both failures.
func (s *oracleSession) start(ctx context.Context) error {
	var failures []*InstallError
	add := func(err error) {
		var ie *InstallError
		if errors.As(err, &ie) {
			failures = append(failures, ie)
		} else if err != nil {
			failures = append(failures, &InstallError{Host: s.t.Host.Name, Patch: s.patch, Text: i18n.T(err.Error(), "启动失败："+err.Error())})
		}
	}
	add(s.startListener(ctx))
	add(s.startDatabase(ctx))
	if len(failures) == 0 {
		return nil
	}
	en := make([]string, len(failures))
	zh := make([]string, len(failures))
	for i, f := range failures {
		en[i], zh[i] = f.Text.EN, f.Text.ZH
	}
	return &InstallError{Host: s.t.Host.Name, Patch: s.patch, ExitCode: failures[0].ExitCode, Output: s.output(), Text: i18n.T(
		strings.Join(en, "; ")+"; the database or listener is down: start it by hand",
		strings.Join(zh, "；")+"；数据库或监听未运行：请手工启动")}
}

// startAnyway is start for a listener and database that this session
// stopped: it runs even when ctx has ended, with its own time limit, because
// leaving the database down is worse than overrunning a cancelled run.
func (s *oracleSession) startAnyway(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*oracleStopTimeout)
	defer cancel()
	return s.start(ctx)
}

func (s *oracleSession) startListener(ctx context.Context) error {
	res, err := s.run(ctx, "lsnrctl start", s.oracleCommand("", false, oracleStopTimeout, s.lsnrctlArgs("start")...))
	if err != nil {
		return err
	}
	// TNS-01106 means the listener is running already.
	tns := lsnrctlErrors(string(res.Stdout) + string(res.Stderr))
	if res.ExitCode != 0 && !onlyCodes(tns, "TNS-01106") {
		return s.fail(res.ExitCode, "lsnrctl start failed on %s (exit code %d): %s", "在 %s 上执行 lsnrctl start 失败（退出码 %d）：%s", s.t.Host.Name, res.ExitCode, strings.Join(tns, "; "))
	}
	return nil
}

func (s *oracleSession) startDatabase(ctx context.Context) error {
	if s.oh.Windows {
		service := "OracleService" + s.oh.SID
		res, err := s.run(ctx, "Start-Service "+service, transport.Command{Timeout: oracleStopTimeout, Script: "$ErrorActionPreference = 'Stop'\r\nStart-Service -Name " + psQuote(service) + "\r\n"})
		if err != nil {
			return err
		}
		if res.ExitCode != 0 {
			return s.fail(res.ExitCode, "cannot start the service %s on %s: %s", "无法启动 %s 上的服务 %s：%s", service, s.t.Host.Name, lastLine(trimOutput(res.Stdout, res.Stderr)))
		}
	}
	res, err := s.sqlplus(ctx, "startup", oracleStopTimeout, "STARTUP")
	if err != nil {
		return err
	}
	// ORA-32004 (obsolete parameters) is a warning after which the instance
	// starts; ORA-01081 means the service on Windows started it already.
	oraErrs := SqlplusErrors(string(res.Stdout) + "\n" + string(res.Stderr))
	var serious []string
	for i, code := range errorCodes(oraErrs) {
		if code != "ORA-32004" && code != "ORA-01081" {
			serious = append(serious, oraErrs[i])
		}
	}
	if len(serious) > 0 || (res.ExitCode != 0 && !onlyCodes(oraErrs, "ORA-01081")) {
		return s.sqlError("startup", res, serious)
	}
	return nil
}

func (s *oracleSession) lsnrctlArgs(action string) []string {
	args := []string{s.binPath("lsnrctl"), action}
	if s.oh.Listener != "" {
		args = append(args, s.oh.Listener)
	}
	return args
}

// catbundle runs catbundle.sql psu apply or rollback and checks its output and
// the log files it names. The 11.2.0.4 Windows bundle patches load their SQL
// with the same PSU series, as their README specifies.
func (s *oracleSession) catbundle(ctx context.Context, mode string) error {
	step := "catbundle.sql psu " + mode
	script := "@?/rdbms/admin/catbundle.sql psu " + mode
	if s.oh.Windows {
		script = `@?\rdbms\admin\catbundle.sql psu ` + mode
	}
	res, err := s.sqlplus(ctx, step, oracleSQLTimeout, script)
	if err != nil {
		return err
	}
	out := string(res.Stdout) + "\n" + string(res.Stderr)
	oraErrs := SqlplusErrors(out)
	if m := catbundleNotInstalled.FindString(out); m != "" {
		oraErrs = append(oraErrs, m)
	}
	if res.ExitCode != 0 || len(oraErrs) > 0 {
		return s.sqlError(step, res, oraErrs)
	}

	// The generate phase writes its errors only to its log file, so the log
	// files are read as the PSU README instructs.
	// NOTE: every ORA- line fails the step, including errors that a PSU
	// README lists as ignorable; a person then reads the log and decides.
	for _, file := range catbundleLogs(out) {
		cmd := s.oracleCommand("", false, oracleQueryTimeout, "cat", "--", file)
		if s.oh.Windows {
			cmd = transport.Command{Timeout: oracleQueryTimeout, Script: "Get-Content -LiteralPath " + psQuote(file) + "\r\n"}
		}
		log, err := s.run(ctx, "read "+file, cmd)
		if err != nil {
			return err
		}
		if log.ExitCode != 0 {
			return s.fail(log.ExitCode, "cannot read the catbundle.sql log %s on %s: %s", "无法读取 %[2]s 上的 catbundle.sql 日志 %[1]s：%[3]s", file, s.t.Host.Name, lastLine(trimOutput(log.Stdout, log.Stderr)))
		}
		logErrs := SqlplusErrors(string(log.Stdout))
		if m := catbundleNotInstalled.FindString(string(log.Stdout)); m != "" {
			logErrs = append(logErrs, m)
		}
		if len(logErrs) > 0 {
			return s.fail(0, "%s reported errors in %s on %s: %s; the database has the new binaries but not all SQL changes: fix the cause and run it again",
				"%[1]s 在 %[3]s 上的日志 %[2]s 中报告错误：%[4]s；数据库软件已更新但 SQL 变更未全部加载：请排除原因后重新执行", step, file, s.t.Host.Name, strings.Join(logErrs, "; "))
		}
	}
	return nil
}

// utlrp recompiles the objects the SQL changes left invalid.
func (s *oracleSession) utlrp(ctx context.Context) error {
	script := "@?/rdbms/admin/utlrp.sql"
	if s.oh.Windows {
		script = `@?\rdbms\admin\utlrp.sql`
	}
	res, err := s.sqlplus(ctx, "utlrp.sql", oracleSQLTimeout, script)
	if err != nil {
		return err
	}
	oraErrs := SqlplusErrors(string(res.Stdout) + "\n" + string(res.Stderr))
	if res.ExitCode != 0 || len(oraErrs) > 0 {
		return s.sqlError("utlrp.sql", res, oraErrs)
	}
	return nil
}

// sqlError reports a failed sqlplus step with its error lines, or its exit
// code when it printed none.
func (s *oracleSession) sqlError(step string, res transport.Result, oraErrs []string) error {
	detail := strings.Join(oraErrs, "; ")
	if detail == "" {
		detail = lastLine(trimOutput(res.Stdout, res.Stderr))
	}
	return s.fail(res.ExitCode, "sqlplus %s failed on %s (exit code %d): %s", "在 %[2]s 上执行 sqlplus %[1]s 失败（退出码 %[3]d）：%[4]s", step, s.t.Host.Name, res.ExitCode, detail)
}

// restartAfter starts the listener and database after cause, a failure once
// they may have been stopped, and returns cause with the restart's result
// added. A cause that is no *InstallError, such as a lost connection, stays
// wrapped, so that transport.IsUnreachable and errors.Is still see it.
func (s *oracleSession) restartAfter(ctx context.Context, cause error) error {
	restartErr := s.startAnyway(ctx)
	var se *InstallError
	errors.As(restartErr, &se)

	var ie *InstallError
	if !errors.As(cause, &ie) {
		if restartErr != nil {
			return fmt.Errorf("%w; starting the listener and database again also failed: %s", cause, se.Text.EN)
		}
		return fmt.Errorf("%w; the listener and database were started again", cause)
	}
	if restartErr != nil {
		ie.Text = i18n.T(ie.Text.EN+"; starting the listener and database again also failed: "+se.Text.EN,
			ie.Text.ZH+"；重新启动监听和数据库也失败："+se.Text.ZH)
	} else {
		ie.Text = i18n.T(ie.Text.EN+"; the listener and database were started again",
			ie.Text.ZH+"；监听和数据库已重新启动")
	}
	ie.Output = s.output()
	return ie
}

// run runs one step, logs it with its exit code and output, and keeps the
// output for the Outcome. A transport error comes back wrapped with the step
// and host.
func (s *oracleSession) run(ctx context.Context, step string, cmd transport.Command) (transport.Result, error) {
	res, err := s.t.Conn.Run(ctx, cmd)
	if err != nil {
		s.log(step, i18n.T("could not run: "+err.Error(), "无法执行："+err.Error()))
		s.transcript = append(s.transcript, "== "+step+": "+err.Error())
		return res, fmt.Errorf("%s on %s: %w", step, s.t.Host.Name, err)
	}
	out := trimOutput(res.Stdout, res.Stderr)
	s.transcript = append(s.transcript, fmt.Sprintf("== %s (exit code %d)\n%s", step, res.ExitCode, out))
	s.log(step, i18n.T(fmt.Sprintf("exit code %d\n%s", res.ExitCode, out), fmt.Sprintf("退出码 %d\n%s", res.ExitCode, out)))
	return res, nil
}

func (s *oracleSession) log(step string, detail i18n.Text) {
	if s.t.Log != nil {
		s.t.Log(step, detail)
	}
}

// output is the transcript of the steps so far, trimmed like other installer
// output.
func (s *oracleSession) output() string {
	return trimOutput([]byte(strings.Join(s.transcript, "\n")), nil)
}

// fail builds the *InstallError of a failed step with the transcript so far.
// en and zh are format strings with the same arguments.
func (s *oracleSession) fail(exitCode int, en, zh string, args ...any) *InstallError {
	return &InstallError{Host: s.t.Host.Name, Patch: s.patch, ExitCode: exitCode, Output: s.output(),
		Text: i18n.T(fmt.Sprintf(en, args...), fmt.Sprintf(zh, args...))}
}

// psQuote quotes s as a PowerShell single-quoted string.
func psQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
