package winrmconn

import (
	"errors"
	"strings"
	"testing"
)

// envelopeFault is the PowerShell remoting form of the MaxEnvelopeSize fault
// reported in dsccommunity/SharePointDsc issue 670.
const envelopeFault = `The WinRM client sent a request to the remote WS-Management service and was notified that the request size exceeded the configured MaxEnvelopeSize quota.
    + CategoryInfo          : LimitsExceeded: [root/Microsoft/...gurationManager:String] [], CimException
    + FullyQualifiedErrorId : HRESULT 0x80338111`

func soapFault(reason string) string {
	return `http error 500: <s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault>` +
		`<s:Code><s:Value>s:Sender</s:Value></s:Code><s:Reason><s:Text xml:lang="en-US">` + reason +
		`</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>`
}

func TestClassifyFault(t *testing.T) {
	cases := []struct {
		name    string
		err     string
		kind    FaultKind
		setting string
	}{
		{"envelope remoting form", envelopeFault, FaultEnvelopeSize, "MaxEnvelopeSizekb"},
		{"envelope go client 413", "getting error 413 - RunWithContextWithString", FaultEnvelopeSize, "MaxEnvelopeSizekb"},
		{"envelope library http error", "http error 413: ", FaultEnvelopeSize, "MaxEnvelopeSizekb"},
		{"shells per user", soapFault("The WS-Management service cannot process the request. This user is allowed a maximum number of 5 concurrent shells, which has been exceeded. Close existing shells or raise the quota for this user."), FaultShellQuota, "MaxShellsPerUser"},
		{"operations per user", soapFault("The WS-Management service cannot process the request. This user is allowed a maximum number of 1500 concurrent operations, which has been exceeded."), FaultOperationQuota, "MaxConcurrentOperationsPerUser"},
		{"memory per shell", soapFault("Exception of type &apos;System.OutOfMemoryException&apos; was thrown."), FaultMemoryQuota, "MaxMemoryPerShellMB"},
		{"shell not found", soapFault("The request for the Windows Remote Shell with ShellId 1A2B failed because the shell was not found on the server."), FaultShellNotFound, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inner := errors.New(c.err)
			err := ClassifyFault(inner)

			var fault *FaultError
			if !errors.As(err, &fault) {
				t.Fatalf("ClassifyFault(%q) = %v, want a *FaultError", c.err, err)
			}
			if fault.Kind != c.kind {
				t.Errorf("kind = %q, want %q", fault.Kind, c.kind)
			}
			if fault.Setting != c.setting {
				t.Errorf("setting = %q, want %q", fault.Setting, c.setting)
			}
			if !errors.Is(err, inner) {
				t.Errorf("fault does not wrap the library error")
			}
			msg := fault.Message()
			if c.setting != "" && (!strings.Contains(msg.EN, c.setting) || !strings.Contains(msg.ZH, c.setting)) {
				t.Errorf("message does not name %s:\nEN %s\nZH %s", c.setting, msg.EN, msg.ZH)
			}
			if strings.Contains(msg.EN, "<s:") {
				t.Errorf("message keeps SOAP markup: %s", msg.EN)
			}
		})
	}
}

func TestClassifyFaultEnvelopeRemedy(t *testing.T) {
	var fault *FaultError
	if !errors.As(ClassifyFault(errors.New(envelopeFault)), &fault) {
		t.Fatal("envelope fault not classified")
	}
	// PowerShell needs the settings quoted; cmd.exe needs them bare.
	const powerShell = `winrm set winrm/config '@{MaxEnvelopeSizekb="8192"}'`
	const cmdExe = `cmd.exe: winrm set winrm/config @{MaxEnvelopeSizekb="8192"}`
	const cmdExeZH = `cmd.exe 中为 winrm set winrm/config @{MaxEnvelopeSizekb="8192"}`
	msg := fault.Message()
	for _, want := range []string{powerShell, cmdExe} {
		if !strings.Contains(msg.EN, want) {
			t.Errorf("English message lacks %s: %s", want, msg.EN)
		}
	}
	for _, want := range []string{powerShell, cmdExeZH, "命令没有执行"} {
		if !strings.Contains(msg.ZH, want) {
			t.Errorf("Chinese message lacks %s: %s", want, msg.ZH)
		}
	}
	if !strings.Contains(msg.EN, "did not run") {
		t.Errorf("English message does not say the command did not run: %s", msg.EN)
	}
}

// TestFaultRemediesQuoted checks that every remedy quotes its @{...}
// argument, which PowerShell would otherwise turn into the text
// System.Collections.Hashtable.
func TestFaultRemediesQuoted(t *testing.T) {
	for _, r := range faultRules {
		if r.remedy == "" {
			continue
		}
		if !strings.Contains(r.remedy, `'@{`) || !strings.HasSuffix(r.remedy, `}'`) {
			t.Errorf("%s remedy %s does not quote its @{...} argument for PowerShell", r.kind, r.remedy)
		}
		if got := cmdExeForm(r.remedy); strings.Contains(got, "'") {
			t.Errorf("cmd.exe form of %s = %s, want it without single quotes", r.remedy, got)
		}
	}
}

func TestCmdExeForm(t *testing.T) {
	cases := []struct{ powerShell, cmdExe string }{
		{`winrm set winrm/config '@{MaxEnvelopeSizekb="8192"}'`, `winrm set winrm/config @{MaxEnvelopeSizekb="8192"}`},
		{`winrm create winrm/config/service/certmapping?Issuer=AB+Subject=*+URI=* '@{UserName="patrol";Password="<password>"}' -remote:localhost`,
			`winrm create winrm/config/service/certmapping?Issuer=AB+Subject=*+URI=* @{UserName="patrol";Password="<password>"} -remote:localhost`},
		{`winrm enumerate winrm/config/listener`, `winrm enumerate winrm/config/listener`},
	}
	for _, c := range cases {
		if got := cmdExeForm(c.powerShell); got != c.cmdExe {
			t.Errorf("cmdExeForm(%s) = %s, want %s", c.powerShell, got, c.cmdExe)
		}
	}
}

func TestClassifyFaultOther(t *testing.T) {
	for _, text := range []string{
		"http error 401: ",
		"dial tcp 127.0.0.1:5986: connect: connection refused",
		soapFault("The system cannot find the file specified."),
	} {
		inner := errors.New(text)
		if err := ClassifyFault(inner); err != inner {
			t.Errorf("ClassifyFault(%q) = %v, want the error unchanged", text, err)
		}
	}
	if ClassifyFault(nil) != nil {
		t.Errorf("ClassifyFault(nil) is not nil")
	}
}

// wsmanFaultBody is a fault envelope in the form Windows sends, with the
// Windows error number in the WSManFault Code attribute and the message in
// the host's display language.
func wsmanFaultBody(code, lang, message string) string {
	return `<s:Envelope xml:lang="` + lang + `" xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault>` +
		`<s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:InternalError</s:Value></s:Subcode></s:Code>` +
		`<s:Reason><s:Text xml:lang="` + lang + `">` + message + `</s:Text></s:Reason><s:Detail>` +
		`<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="` + code + `" Machine="seal-db-1">` +
		`<f:Message>` + message + `</f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>`
}

// The Chinese texts below are written for these tests, not recorded from a
// Chinese-language host: the point is that no English phrase or setting
// name in them is needed.
const (
	chineseOperationsText = "WS-Management 服务无法处理该请求。此用户最多只能同时进行 1500 个操作，已超过该数目。"
	chineseUsersText      = "WS-Management 服务无法处理该请求。同时执行远程 shell 操作的用户数已超过上限。"
)

func TestClassifyFaultByCode(t *testing.T) {
	cases := []struct {
		name    string
		err     error
		kind    FaultKind
		setting string
	}{
		{"shells per user in Chinese", &SOAPFaultError{Host: "seal-db-1", Body: wsmanFaultBody("2150859173", "zh-CN", chineseShellQuotaMessage)}, FaultShellQuota, "MaxShellsPerUser"},
		{"operations per user in Chinese", errors.New("http error 500: " + wsmanFaultBody("2150859174", "zh-CN", chineseOperationsText)), FaultOperationQuota, "MaxConcurrentOperationsPerUser"},
		{"concurrent users in Chinese", &SOAPFaultError{Host: "seal-db-1", Body: wsmanFaultBody("2150859179", "zh-CN", chineseUsersText)}, FaultUsersQuota, "MaxConcurrentUsers"},
		// The code decides over English text that names another quota.
		{"code before text", &SOAPFaultError{Host: "seal-db-1", Body: wsmanFaultBody("2150859174", "en-US", "This user is allowed a maximum number of 5 concurrent shells.")}, FaultOperationQuota, "MaxConcurrentOperationsPerUser"},
		// The Ruby winrm gem prints the WSManFault with single quotes
		// (hashicorp/vagrant issue 7489).
		{"single quoted code", errors.New(`[WSMAN ERROR CODE: 2150859173]: <f:WSManFault Code='2150859173' Machine='127.0.0.1' xmlns:f='http://schemas.microsoft.com/wbem/wsman/1/wsmanfault'><f:Message>` + chineseShellQuotaMessage + `</f:Message></f:WSManFault>`), FaultShellQuota, "MaxShellsPerUser"},
		{"shell not found in Chinese", &SOAPFaultError{Host: "seal-db-1", Body: wsmanFaultBody("2150858843", "zh-CN", "找不到 ShellId 为 1A2B 的 Windows 远程 shell。")}, FaultShellNotFound, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := ClassifyFault(c.err)

			var fault *FaultError
			if !errors.As(err, &fault) {
				t.Fatalf("ClassifyFault = %v, want a *FaultError", err)
			}
			if fault.Kind != c.kind {
				t.Errorf("kind = %q, want %q", fault.Kind, c.kind)
			}
			if fault.Setting != c.setting {
				t.Errorf("setting = %q, want %q", fault.Setting, c.setting)
			}
			msg := fault.Message()
			if c.setting != "" && (!strings.Contains(msg.EN, c.setting) || !strings.Contains(msg.ZH, c.setting)) {
				t.Errorf("message does not name %s:\nEN %s\nZH %s", c.setting, msg.EN, msg.ZH)
			}
			if c.setting != "" && (!strings.Contains(msg.EN, fault.Remedy) || !strings.Contains(msg.ZH, fault.Remedy)) {
				t.Errorf("message lacks the remedy %s:\nEN %s\nZH %s", fault.Remedy, msg.EN, msg.ZH)
			}
			if strings.Contains(msg.ZH, "<") {
				t.Errorf("Chinese message keeps markup: %s", msg.ZH)
			}
		})
	}
}

func TestClassifyFaultUnknownCodeChinese(t *testing.T) {
	inner := &SOAPFaultError{Host: "seal-db-1", Body: wsmanFaultBody("5", "zh-CN", "拒绝访问。")}
	if err := ClassifyFault(inner); err != error(inner) {
		t.Errorf("ClassifyFault = %v, want the error unchanged", err)
	}
	if got, want := inner.Error(), "WinRM fault from the host: 拒绝访问。 (WSManFault code 5)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
