package winrmconn

import (
	"fmt"
	"html"
	"regexp"
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
	// Remedy is the command an administrator runs on the host to raise it.
	Remedy string
	// Detail is the fault text the host sent, with markup removed.
	Detail string
	Err    error
}

func (e *FaultError) Error() string { return e.Message().EN }

func (e *FaultError) Unwrap() error { return e.Err }

// Message returns the user-facing explanation in both languages.
func (e *FaultError) Message() i18n.Text {
	detail := ""
	if e.Detail != "" {
		detail = " (" + e.Detail + ")"
	}

	switch e.Kind {
	case FaultEnvelopeSize:
		return i18n.T(
			"WinRM request exceeded the host's MaxEnvelopeSizekb quota, so the command did not run"+detail+
				"; raise it on the host with: "+e.Remedy,
			"WinRM 请求超过了主机的 MaxEnvelopeSizekb 配额，命令没有执行"+detail+
				"；请在主机上执行以下命令调大它："+e.Remedy)
	case FaultShellQuota, FaultOperationQuota, FaultMemoryQuota:
		return i18n.T(
			fmt.Sprintf("WinRM quota %s exceeded on the host%s; close other WinRM sessions of this user or raise it on the host with: %s",
				e.Setting, detail, e.Remedy),
			fmt.Sprintf("主机上的 WinRM 配额 %s 已用尽%s；请关闭该用户的其他 WinRM 会话，或在主机上执行以下命令调大它：%s",
				e.Setting, detail, e.Remedy))
	case FaultShellNotFound:
		return i18n.T(
			"WinRM shell was closed on the host (idle timeout or WinRM service restart)"+detail,
			"主机上的 WinRM shell 已被关闭（空闲超时或 WinRM 服务重启）"+detail)
	}
	return i18n.T("WinRM fault"+detail, "WinRM 故障"+detail)
}

// faultRules maps fault text to a kind. The host's reason text is localized
// on Chinese Windows, so the HRESULT codes and setting names, which are not
// translated, are matched as well as the English phrases.
var faultRules = []struct {
	kind    FaultKind
	setting string
	remedy  string
	match   []string
}{
	{FaultEnvelopeSize, "MaxEnvelopeSizekb", `winrm set winrm/config @{MaxEnvelopeSizekb="8192"}`,
		[]string{"maxenvelopesize", "0x80338111", "2150859025", "http error 413", "error 413"}},
	{FaultShellQuota, "MaxShellsPerUser", `winrm set winrm/config/winrs @{MaxShellsPerUser="30"}`,
		[]string{"maxshellsperuser", "concurrent shells"}},
	{FaultOperationQuota, "MaxConcurrentOperationsPerUser", `winrm set winrm/config/service @{MaxConcurrentOperationsPerUser="1500"}`,
		[]string{"maxconcurrentoperationsperuser", "concurrent operations"}},
	{FaultMemoryQuota, "MaxMemoryPerShellMB", `winrm set winrm/config/winrs @{MaxMemoryPerShellMB="2048"}`,
		[]string{"maxmemorypershellmb", "memory quota", "outofmemoryexception"}},
	{FaultShellNotFound, "", "",
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
