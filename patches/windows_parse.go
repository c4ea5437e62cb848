package patches

// Parsers of the Windows installer's host output, and the tables that turn
// wusa.exe and dism.exe exit codes into outcomes.
//
// NOTE: this file must not be named parse_windows.go: Go treats a _windows
// suffix as a build constraint, and patrol runs on Linux.

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"time"

	"patrol/checks"
	"patrol/i18n"
)

// DISM package states as `dism /English /Get-Packages` prints them. The
// names follow the DismPackageFeatureState enumeration of the DISM API.
const (
	DISMStateInstalled        = "Installed"
	DISMStateInstallPending   = "Install Pending"
	DISMStateUninstallPending = "Uninstall Pending"
	DISMStateSuperseded       = "Superseded"
	DISMStateStaged           = "Staged"
	DISMStateNotPresent       = "Not Present"
)

// WindowsPackage is one package that `dism /Online /English /Get-Packages`
// lists.
type WindowsPackage struct {
	// Identity is the package name DISM uses, such as
	// Package_for_KB2911134~31bf3856ad364e35~amd64~~6.3.1.0.
	Identity string
	// KB is the knowledge base number in the identity, such as KB2911134,
	// or "" for packages named without one (Package_for_RollupFix, language
	// packs, features on demand).
	KB          string
	State       string
	ReleaseType string
	// InstallTimeRaw is the Install Time value exactly as printed. DISM
	// writes it in the host culture's short date format even with /English,
	// and leaves it blank for a package that waits for a reboot.
	InstallTimeRaw string
	// InstallTime is the calendar date read from InstallTimeRaw; zero when
	// the value is blank or unreadable.
	InstallTime time.Time
}

// Present reports whether the package's fixes are on the host or will be
// after the next reboot. A superseded package counts: a newer update
// replaced its files, which keeps its fixes.
func (p WindowsPackage) Present() bool {
	switch p.State {
	case DISMStateInstalled, DISMStateInstallPending, DISMStateSuperseded:
		return true
	}
	return false
}

// packageKB finds the KB number in a CBS package identity:
// Package_for_KB2911134~…, Package_123_for_KB3192392~… (one of several
// packages of an update) and Package_for_KB3003743_SP1~….
var packageKB = regexp.MustCompile(`(?i)^Package(?:_\d+)?_for_(KB\d+)(?:_[A-Za-z0-9]+)?~`)

// ParseDISMPackages parses the output of `dism /Online /English
// /Get-Packages`: blocks of "Label : value" lines, each starting with
// Package Identity. shortDatePattern is the host culture's .NET short date
// pattern (yyyy/M/d on zh-CN), used to read Install Time; empty means the US
// month-first form. Lines outside the blocks (the banner, "Packages
// listing:", the closing "The operation completed successfully.") are
// skipped. An error names the line that breaks the block structure.
func ParseDISMPackages(out []byte, shortDatePattern string) ([]WindowsPackage, error) {
	var pkgs []WindowsPackage
	var cur *WindowsPackage
	sc := bufio.NewScanner(bytes.NewReader(bytes.TrimPrefix(out, []byte("\xef\xbb\xbf"))))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		label, value, ok := strings.Cut(line, " : ")
		if !ok {
			// "Install Time :" with a blank value loses its separator's
			// trailing space to TrimSpace.
			label, ok = strings.CutSuffix(line, " :")
		}
		if !ok {
			continue
		}
		label, value = strings.TrimSpace(label), strings.TrimSpace(value)

		if label == "Package Identity" {
			if value == "" {
				return nil, fmt.Errorf("dism output line %d: Package Identity is empty", n)
			}
			pkgs = append(pkgs, WindowsPackage{Identity: value})
			cur = &pkgs[len(pkgs)-1]
			if m := packageKB.FindStringSubmatch(value); m != nil {
				cur.KB = strings.ToUpper(m[1])
			}
			continue
		}
		switch label {
		case "State", "Release Type", "Install Time":
		default:
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("dism output line %d: %q comes before any Package Identity line", n, line)
		}
		switch label {
		case "State":
			cur.State = value
		case "Release Type":
			cur.ReleaseType = value
		case "Install Time":
			cur.InstallTimeRaw = value
			if date, ok, _ := checks.ParseInstalledOn(value, shortDatePattern); ok {
				cur.InstallTime = date
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read dism output: %w", err)
	}
	for i, p := range pkgs {
		if p.State == "" {
			return nil, fmt.Errorf("dism output: package %d (%s) has no State line", i+1, p.Identity)
		}
	}
	return pkgs, nil
}

var hotfixID = regexp.MustCompile(`^KB[0-9]+$`)

// hotfixKB writes a Win32_QuickFixEngineering HotFixID as a KB number, or
// returns "" for IDs that are not one (Windows XP listed "File 1" and the
// like).
func hotfixKB(id string) string {
	id = strings.ToUpper(strings.TrimSpace(id))
	if !strings.HasPrefix(id, "KB") {
		id = "KB" + id
	}
	if !hotfixID.MatchString(id) {
		return ""
	}
	return id
}

// HotfixKBs turns a Win32_QuickFixEngineering listing into KB numbers and
// install dates. A KB whose InstalledOn is blank or unreadable maps to the
// zero time: it is installed, on a date Windows did not record.
func HotfixKBs(listing checks.HotfixListing) map[string]time.Time {
	kbs := map[string]time.Time{}
	for _, h := range listing.Hotfixes {
		kb := hotfixKB(h.ID)
		if kb == "" {
			continue
		}
		at := time.Time{}
		if h.DateKnown {
			at = h.InstalledOn
		}
		if prev, seen := kbs[kb]; !seen || prev.IsZero() {
			kbs[kb] = at
		}
	}
	return kbs
}

// exitResult is the meaning of a wusa or dism exit code for the caller.
type exitResult int

const (
	exitDone exitResult = iota + 1
	exitRebootRequired
	// exitRebooting: the tool started a restart itself (1641), which
	// /norestart should prevent.
	exitRebooting
	exitAlreadyInstalled
	// exitNotInstalled: an uninstall found nothing to remove.
	exitNotInstalled
	exitNotApplicable
	exitFailed
)

// windowsExit is the meaning of one exit code.
type windowsExit struct {
	// Name is the constant of winerror.h, wuerror.h or the CBS headers.
	Name   string
	Result exitResult
	// Advice is, for failures, the message part that explains the cause and
	// the next step.
	Advice i18n.Text
}

// windowsExitCode reads an exit code as the 32-bit value Windows returned.
// Task Scheduler and PowerShell report HRESULTs such as 0x80240017 as
// negative Int32 values (-2145124329); the lab and other callers may give
// the unsigned form (2149842967). Both map to the same value.
func windowsExitCode(code int) uint32 {
	return uint32(int32(code))
}

// exitCodeText writes a code as decimal and hexadecimal, with its name when
// known: "-2145124329, 0x80240017 WU_E_NOT_APPLICABLE".
func exitCodeText(code int, name string) string {
	s := fmt.Sprintf("%d, 0x%X", code, windowsExitCode(code))
	if name != "" {
		s += " " + name
	}
	return s
}

// Advice shared by both tools.
var (
	adviceNotApplicable = i18n.T(
		"the update does not apply to this host: it is for another Windows version, edition or architecture, a newer update already replaced it, or an update it requires is missing. Check applies_to of the patch in the catalog, and install the prerequisites that the KB article names first",
		"该补丁不适用于此主机：它针对其他 Windows 版本、版本类型或体系结构，或已被更新的补丁取代，或缺少它所依赖的补丁。请检查补丁台账中该补丁的 applies_to，并先安装 KB 文章列出的前提补丁")
	adviceFileNotFound = i18n.T(
		"the patch file is not on the host at the path patrol gave; check that the copy step succeeded and that the disk is not full, then run again",
		"主机上 patrol 指定的路径下没有补丁文件；请确认复制步骤成功且磁盘未满，然后重新运行")
	adviceAccessDenied = i18n.T(
		"access was denied although the installer ran as SYSTEM; check that security software does not block wusa.exe or dism.exe and that the file is readable",
		"安装程序以 SYSTEM 身份运行仍被拒绝访问；请检查安全软件是否拦截 wusa.exe 或 dism.exe，以及补丁文件是否可读")
	adviceInvalidParameter = i18n.T(
		"the tool rejected its command line; this is a patrol bug, so report it with the output below",
		"工具拒绝了命令行参数；这是 patrol 的缺陷，请附上下面的输出报告")
)

// commonExits are the Win32 codes both tools return (winerror.h, "System
// Error Codes" on learn.microsoft.com). 3010 and 1641 are the codes the
// Windows Installer documentation names as success that needs a restart.
var commonExits = map[uint32]windowsExit{
	0:    {Name: "ERROR_SUCCESS", Result: exitDone},
	3010: {Name: "ERROR_SUCCESS_REBOOT_REQUIRED", Result: exitRebootRequired},
	1641: {Name: "ERROR_SUCCESS_REBOOT_INITIATED", Result: exitRebooting},
	2:    {Name: "ERROR_FILE_NOT_FOUND", Result: exitFailed, Advice: adviceFileNotFound},
	3:    {Name: "ERROR_PATH_NOT_FOUND", Result: exitFailed, Advice: adviceFileNotFound},
	5:    {Name: "ERROR_ACCESS_DENIED", Result: exitFailed, Advice: adviceAccessDenied},
	87:   {Name: "ERROR_INVALID_PARAMETER", Result: exitFailed, Advice: adviceInvalidParameter},
	// The same Win32 errors as HRESULTs (FACILITY_WIN32).
	0x80070002: {Name: "ERROR_FILE_NOT_FOUND", Result: exitFailed, Advice: adviceFileNotFound},
	0x80070003: {Name: "ERROR_PATH_NOT_FOUND", Result: exitFailed, Advice: adviceFileNotFound},
	0x80070005: {Name: "E_ACCESSDENIED", Result: exitFailed, Advice: adviceAccessDenied},
}

// wusaExits are the wusa.exe codes beyond commonExits. wusa exits with the
// Windows Update Agent's result. The WU_* names and meanings are from "WUA
// Success and Error Codes" (https://learn.microsoft.com/windows/win32/wua_sdk/wua-success-and-error-codes-).
// One Windows 8.1 / 2012 R2 .msu run three times exited 0, then 3010, then
// 2359302 (https://github.com/sous-chefs/powershell/issues/48). An install
// that waited behind another one logged 2149842953, 0x80240009 (Microsoft
// AskCore blog, "Updates taking a long time to install in Windows Server
// 2008 R2").
var wusaExits = map[uint32]windowsExit{
	0x00240005: {Name: "WU_S_REBOOT_REQUIRED", Result: exitRebootRequired},
	0x00240006: {Name: "WU_S_ALREADY_INSTALLED", Result: exitAlreadyInstalled},
	0x00240007: {Name: "WU_S_ALREADY_UNINSTALLED", Result: exitNotInstalled},
	0x80240017: {Name: "WU_E_NOT_APPLICABLE", Result: exitNotApplicable, Advice: adviceNotApplicable},
	// "The operation completed successfully but errors occurred applying
	// the updates." The Windows Update Agent API of a 2012 R2 host returned
	// it while a reboot was pending, so the installed state is unknown until
	// after a reboot (https://github.com/criteo-cookbooks/wsus-client/issues/41).
	0x00240003: {Name: "WU_S_UPDATE_ERROR", Result: exitFailed, Advice: i18n.T(
		"Windows Update finished but reported errors while applying the update, which happens while an earlier update waits for a reboot; reboot the host, then run patrol again, which checks whether the update is installed",
		"Windows 更新已结束但应用补丁时报告错误，通常是因为之前的补丁在等待重启；请重启主机后重新运行 patrol，patrol 会检查补丁是否已安装")},
	0x80240009: {Name: "WU_E_OPERATIONINPROGRESS", Result: exitFailed, Advice: i18n.T(
		"another update installation is running on the host (Windows Update, or another wusa.exe); wait until it ends, or reboot the host, then run again",
		"主机上正在进行另一个补丁安装（Windows 更新或另一个 wusa.exe）；请等待其结束或重启主机后重新运行")},
	0x80240016: {Name: "WU_E_INSTALL_NOT_ALLOWED", Result: exitFailed, Advice: i18n.T(
		"Windows refused the install because another installation is in progress or the host waits for a mandatory restart; reboot the host, then run again",
		"Windows 拒绝安装：另一个安装正在进行，或主机在等待必需的重启；请重启主机后重新运行")},
	// HRESULT of ERROR_SERVICE_DISABLED (1058). wusa.exe needs the Windows
	// Update service (wuauserv), which hardened offline hosts often disable.
	// NOTE: no recording of wusa.exe exiting with this code was found; the
	// mapping follows winerror.h.
	0x80070422: {Name: "ERROR_SERVICE_DISABLED", Result: exitFailed, Advice: i18n.T(
		"the Windows Update service (wuauserv) is disabled, and wusa.exe needs it even for offline .msu files; set its start type to Manual (sc.exe config wuauserv start= demand), run again, and disable it afterwards if your policy requires",
		"Windows Update 服务（wuauserv）已禁用，而 wusa.exe 安装离线 .msu 文件也需要它；请将其启动类型设为手动（sc.exe config wuauserv start= demand）后重新运行，如策略要求可在完成后再禁用")},
}

// dismExits are the dism.exe codes beyond commonExits. DISM exits with the
// HRESULT of the servicing stack (CBS). Sources, by code:
//   - 0x800F081E "The specified package is not applicable to this image." and
//     0x800F0806 "The operation could not be completed due to pending
//     operations.": recorded from DISM 6.3.9600.17031, the Windows 8.1 and
//     2012 R2 version (testdata/windows). The name CBS_E_NOT_APPLICABLE is
//     what err.exe prints (https://serverfault.com/questions/1153656).
//   - 0x800F0922 CBS_E_INSTALLERS_FAILED and 0x800F0831
//     CBS_E_STORE_CORRUPTION ("manifest missing for package" in CBS.log):
//     Microsoft support articles in MicrosoftDocs/SupportArticles-docs.
//   - 0x800F0823 CBS_E_NEW_SERVICING_STACK_REQUIRED "Package needs a newer
//     version of the servicing stack.": an error lookup quoted in
//     https://github.com/OSDeploy/OSDBuilder/issues/60.
//   - 740 ERROR_ELEVATION_REQUIRED: winerror.h.
var dismExits = map[uint32]windowsExit{
	0x800F081E: {Name: "CBS_E_NOT_APPLICABLE", Result: exitNotApplicable, Advice: adviceNotApplicable},
	0x800F0823: {Name: "CBS_E_NEW_SERVICING_STACK_REQUIRED", Result: exitFailed, Advice: i18n.T(
		"the package needs a newer servicing stack; install the latest servicing stack update for Windows Server 2012 R2 first (add it to the catalog with an earlier arrival), then this patch",
		"该补丁需要更新的服务堆栈；请先安装 Windows Server 2012 R2 最新的服务堆栈更新（SSU，可在补丁台账中以更早的到达时间加入），再安装此补丁")},
	0x800F0922: {Name: "CBS_E_INSTALLERS_FAILED", Result: exitFailed, Advice: i18n.T(
		"an installer step of the package failed and Windows rolled the package back; reboot the host, check that the System Reserved partition has free space, read C:\\Windows\\Logs\\CBS\\CBS.log, then run again",
		"补丁的安装步骤失败，Windows 已回滚该补丁；请重启主机，确认系统保留分区有可用空间，查看 C:\\Windows\\Logs\\CBS\\CBS.log 后重新运行")},
	0x800F0831: {Name: "CBS_E_STORE_CORRUPTION", Result: exitFailed, Advice: i18n.T(
		"the component store lacks the manifest of an update this package builds on; install the update named in C:\\Windows\\Logs\\CBS\\CBS.log (\"manifest missing for package\") or repair the store with DISM /Online /Cleanup-Image /RestoreHealth /Source:… from matching installation media, then run again",
		"组件存储缺少该补丁所依赖补丁的清单；请安装 C:\\Windows\\Logs\\CBS\\CBS.log 中（\"manifest missing for package\"）指出的补丁，或用匹配的安装介质执行 DISM /Online /Cleanup-Image /RestoreHealth /Source:… 修复后重新运行")},
	0x800F0806: {Name: "", Result: exitFailed, Advice: i18n.T(
		"DISM could not finish because of pending servicing operations; reboot the host so they complete, then run again",
		"存在挂起的服务操作，DISM 无法完成；请重启主机让其完成后重新运行")},
	740: {Name: "ERROR_ELEVATION_REQUIRED", Result: exitFailed, Advice: i18n.T(
		"DISM needs an elevated administrator; the scheduled task did not run as SYSTEM, so check Task Scheduler on the host",
		"DISM 需要提升权限的管理员；计划任务未以 SYSTEM 身份运行，请检查主机上的任务计划程序")},
}

// classifyExit looks up an exit code of wusa or dism.
func classifyExit(method Method, code int) (windowsExit, bool) {
	c := windowsExitCode(code)
	if e, ok := commonExits[c]; ok {
		return e, true
	}
	table := dismExits
	if method == MethodWUSA {
		table = wusaExits
	}
	e, ok := table[c]
	return e, ok
}
