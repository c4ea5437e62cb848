package winrmconn

import (
	"fmt"
	"html"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"patrol/i18n"
)

// FaultKind is a class of WS-Management fault that patrol explains to the user.
type FaultKind string

// Fault kinds recognised by ClassifyFault.
const (
	// FaultEnvelopeSize: a request was larger than MaxEnvelopeSizekb, so the
	// command did not run at all.
	FaultEnvelopeSize FaultKind = "envelope-size"
	// FaultShellQuota: the user has MaxShellsPerUser shells open already.
	FaultShellQuota FaultKind = "shell-quota"
	// FaultUsersQuota: MaxConcurrentUsers users have shells open already.
	FaultUsersQuota FaultKind = "users-quota"
	// FaultOperationQuota: the user has MaxConcurrentOperationsPerUser
	// operations in progress already.
	FaultOperationQuota FaultKind = "operation-quota"
	// FaultMemoryQuota: the shell's processes used more than MaxMemoryPerShellMB.
	FaultMemoryQuota FaultKind = "memory-quota"
	// FaultShellNotFound: the shell was closed on the host (idle timeout,
	// WinRM restart), so a new shell is needed.
	FaultShellNotFound FaultKind = "shell-not-found"
)

// FaultError is a WS-Management fault or HTTP status that has a known cause
// and remedy. Message names the setting to raise where there is one.
type FaultError struct {
	Kind FaultKind
	// Setting is the WinRM configuration value to raise, such as
	// "MaxEnvelopeSizekb"; empty when no setting applies.
	Setting string
	// Remedy is the command an administrator runs on the host to raise it,
	// as PowerShell takes it; Message also gives the cmd.exe form.
	Remedy string
	// Detail is the fault text the host sent, with markup removed.
	Detail string
	Err    error
}

func (e *FaultError) Error() string { return e.Message().EN }

func (e *FaultError) Unwrap() error { return e.Err }

// Message returns the user-facing explanation in both languages.
func (e *FaultError) Message() i18n.Text {
	detail, detailZH := "", ""
	if e.Detail != "" {
		detail = " (" + e.Detail + ")"
		detailZH = "（" + e.Detail + "）"
	}

	remedy := fmt.Sprintf("%s (PowerShell; in cmd.exe: %s)", e.Remedy, cmdExeForm(e.Remedy))
	remedyZH := fmt.Sprintf("%s（PowerShell；cmd.exe 中为 %s）", e.Remedy, cmdExeForm(e.Remedy))

	switch e.Kind {
	case FaultEnvelopeSize:
		return i18n.T(
			"WinRM request exceeded the host's MaxEnvelopeSizekb quota, so the command did not run"+detail+
				"; raise it on the host with: "+remedy,
			"WinRM 请求超过了主机的 MaxEnvelopeSizekb 配额，命令没有执行"+detailZH+
				"；请在主机上执行以下命令调大它："+remedyZH)
	case FaultUsersQuota:
		return i18n.T(
			fmt.Sprintf("WinRM quota %s exceeded on the host: too many users have shells open%s; retry when other users' WinRM sessions end or raise it on the host with: %s",
				e.Setting, detail, remedy),
			fmt.Sprintf("主机上的 WinRM 配额 %s 已用尽，同时打开 shell 的用户过多%s；请等其他用户的 WinRM 会话结束后重试，或在主机上执行以下命令调大它：%s",
				e.Setting, detailZH, remedyZH))
	case FaultShellQuota, FaultOperationQuota, FaultMemoryQuota:
		return i18n.T(
			fmt.Sprintf("WinRM quota %s exceeded on the host%s; close other WinRM sessions of this user or raise it on the host with: %s",
				e.Setting, detail, remedy),
			fmt.Sprintf("主机上的 WinRM 配额 %s 已用尽%s；请关闭该用户的其他 WinRM 会话，或在主机上执行以下命令调大它：%s",
				e.Setting, detailZH, remedyZH))
	case FaultShellNotFound:
		return i18n.T(
			"WinRM shell was closed on the host (idle timeout or WinRM service restart)"+detail,
			"主机上的 WinRM shell 已被关闭（空闲超时或 WinRM 服务重启）"+detailZH)
	}
	return i18n.T("WinRM fault"+detail, "WinRM 故障"+detailZH)
}

// Windows error numbers that WinRM puts in the Code attribute of the
// WSManFault element. The names and values are the Windows SDK constants as
// microsoft/windows-rs publishes them
// (crates/libs/windows/src/Windows/Win32/System/RemoteManagement/mod.rs).
// The public reports named at each one show a host sending it.
const (
	// codeQuotaMaxShells is ERROR_WSMAN_QUOTA_MAX_SHELLS (0x803381A5), the
	// MaxShellsPerUser fault ("This user is allowed a maximum number of 5
	// concurrent shells", hashicorp/vagrant issue 7489).
	codeQuotaMaxShells = 2150859173
	// codeQuotaMaxOperations is ERROR_WSMAN_QUOTA_MAX_OPERATIONS
	// (0x803381A6), the MaxConcurrentOperationsPerUser fault ("This user is
	// allowed a maximum number of 15 concurrent operations",
	// dmitry-zaets/vagrantfile-windows-iis-mssql issue 7; ansible/ansible
	// pull request 83656 retries on it).
	codeQuotaMaxOperations = 2150859174
	// codeQuotaMaxShellUsers is ERROR_WSMAN_QUOTA_MAX_SHELLUSERS
	// (0x803381AB): more users than MaxConcurrentUsers have shells open.
	// NOTE: no public report of a host sending it was found; the setting
	// is inferred from the constant's name.
	codeQuotaMaxShellUsers = 2150859179
	// codeRequestTooLarge is ERROR_WSMAN_HTTP_REQUEST_TOO_LARGE_STATUS
	// (0x80338111), the code Windows clients give the HTTP 413 a host sends
	// for a request larger than MaxEnvelopeSizekb (HRESULT 0x80338111 in
	// dsccommunity/SharePointDsc issue 670).
	codeRequestTooLarge = 2150859025
	// codeUnexpectedSelectors is ERROR_WSMAN_UNEXPECTED_SELECTORS
	// (0x8033805B), sent with "the shell was not found on the server".
	codeUnexpectedSelectors = 2150858843
	// codeOperationTimedOut is ERROR_WSMAN_OPERATION_TIMEDOUT (0x80338029),
	// the end of a Receive that waited OperationTimeout.
	codeOperationTimedOut = 2150858793
)

// cmdExeForm turns a winrm command written for PowerShell into the form
// cmd.exe takes. The settings argument @{Name="value"} must be quoted
// '@{...}' in PowerShell, which otherwise parses it as a hash table and passes
// winrm the text System.Collections.Hashtable (PowerShell/PowerShell issue
// 1761). cmd.exe passes single quotes on to winrm, which then answers
// "Invalid use of command line" (MicrosoftDocs/office-docs-powershell issue
// 4884, tested by the page's author in a Command Prompt), so there the
// argument stays bare.
func cmdExeForm(powerShell string) string {
	return strings.NewReplacer("'@{", "@{", "}'", "}").Replace(powerShell)
}

// faultRules maps a fault to a kind: by the Windows error number of its
// WSManFault element first, because the message text is localized (Chinese
// on Chinese-language hosts), then by the English phrases, HRESULT codes and
// setting names in the text.
var faultRules = []struct {
	kind    FaultKind
	setting string
	remedy  string
	codes   []uint32
	match   []string
}{
	{FaultEnvelopeSize, "MaxEnvelopeSizekb", `winrm set winrm/config '@{MaxEnvelopeSizekb="8192"}'`,
		[]uint32{codeRequestTooLarge},
		[]string{"maxenvelopesize", "0x80338111", "2150859025", "http error 413", "error 413"}},
	{FaultShellQuota, "MaxShellsPerUser", `winrm set winrm/config/winrs '@{MaxShellsPerUser="30"}'`,
		[]uint32{codeQuotaMaxShells},
		[]string{"maxshellsperuser", "concurrent shells", "0x803381a5"}},
	{FaultUsersQuota, "MaxConcurrentUsers", `winrm set winrm/config/winrs '@{MaxConcurrentUsers="30"}'`,
		[]uint32{codeQuotaMaxShellUsers},
		[]string{"maxconcurrentusers", "0x803381ab"}},
	{FaultOperationQuota, "MaxConcurrentOperationsPerUser", `winrm set winrm/config/service '@{MaxConcurrentOperationsPerUser="1500"}'`,
		[]uint32{codeQuotaMaxOperations},
		[]string{"maxconcurrentoperationsperuser", "concurrent operations", "0x803381a6"}},
	// NOTE: a shell over MaxMemoryPerShellMB gets no WSMan fault. Its
	// processes fail to allocate memory, so only the .NET exception name,
	// which Windows does not translate, is matched.
	{FaultMemoryQuota, "MaxMemoryPerShellMB", `winrm set winrm/config/winrs '@{MaxMemoryPerShellMB="2048"}'`,
		nil,
		[]string{"maxmemorypershellmb", "memory quota", "outofmemoryexception"}},
	{FaultShellNotFound, "", "",
		[]uint32{codeUnexpectedSelectors},
		[]string{"shell was not found", "0x8033805b", "2150858843", "invalid selectors"}},
}

// ClassifyFault returns a *FaultError for an error of the winrm library whose
// text shows a known fault, and err itself otherwise.
func ClassifyFault(err error) error {
	if err == nil {
		return nil
	}
	// The library keeps the fault of a Command response in
	// ExecuteCommandError.Body, out of its error text.
	text := err.Error()
	if body := faultBody(err); body != "" {
		text = body
	}
	if kind, ok := classifyFaultText(err.Error() + "\n" + text); ok {
		for _, r := range faultRules {
			if r.kind == kind {
				return &FaultError{Kind: kind, Setting: r.setting, Remedy: r.remedy, Detail: faultReason(text), Err: err}
			}
		}
	}
	return err
}

func classifyFaultText(s string) (FaultKind, bool) {
	if code := wsmanFaultCode(s); code != 0 {
		for _, r := range faultRules {
			if slices.Contains(r.codes, code) {
				return r.kind, true
			}
		}
	}

	lower := strings.ToLower(s)
	for _, r := range faultRules {
		for _, m := range r.match {
			if strings.Contains(lower, m) {
				return r.kind, true
			}
		}
	}
	return "", false
}

// wsmanCode finds the Code attribute of a WSManFault element, quoted with
// ' or ".
var wsmanCode = regexp.MustCompile(`<(?:\w+:)?WSManFault\b[^>]*?\sCode\s*=\s*["'](\d+)["']`)

// wsmanFaultCode returns the Windows error number of the first WSManFault
// element in s, or 0 when there is none.
func wsmanFaultCode(s string) uint32 {
	m := wsmanCode.FindStringSubmatch(s)
	if m == nil {
		return 0
	}
	code, err := strconv.ParseUint(m[1], 10, 32)
	if err != nil {
		return 0
	}
	return uint32(code)
}

var (
	reasonText   = regexp.MustCompile(`(?s)<(?:\w+:)?Text[^>]*>(.*?)</(?:\w+:)?Text>`)
	faultMessage = regexp.MustCompile(`(?s)<(?:\w+:)?Message[^>]*>(.*?)</(?:\w+:)?Message>`)
	markup       = regexp.MustCompile(`<[^>]*>`)
)

// faultReason extracts the human-readable reason from a SOAP fault in s, or
// returns s itself, trimmed, when it holds no SOAP fault.
func faultReason(s string) string {
	for _, re := range []*regexp.Regexp{reasonText, faultMessage} {
		if m := re.FindStringSubmatch(s); m != nil {
			return strings.Join(strings.Fields(html.UnescapeString(markup.ReplaceAllString(m[1], ""))), " ")
		}
	}
	return strings.Join(strings.Fields(s), " ")
}
