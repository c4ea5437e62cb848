package winrmlab

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Namespaces of WS-Management as Windows Remote Shell uses them.
const (
	nsSOAP       = "http://www.w3.org/2003/05/soap-envelope"
	nsAddressing = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
	nsTransfer   = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
	nsWSMan      = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
	nsShell      = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
	nsFault      = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
)

// Actions the server implements, and the resource URI of the cmd.exe shell.
const (
	actionCreate  = nsTransfer + "/Create"
	actionDelete  = nsTransfer + "/Delete"
	actionCommand = nsShell + "/Command"
	actionReceive = nsShell + "/Receive"
	actionSend    = nsShell + "/Send"
	actionSignal  = nsShell + "/Signal"
	actionFault   = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"

	resourceCmdShell = nsShell + "/cmd"

	signalTerminate = nsShell + "/signal/terminate"
	signalCtrlC     = nsShell + "/signal/ctrl_c"
	signalCtrlBreak = nsShell + "/signal/ctrl_break"

	stateRunning = nsShell + "/CommandState/Running"
	stateDone    = nsShell + "/CommandState/Done"
)

// request is the part of a WS-Management request envelope the server reads.
type request struct {
	XMLName xml.Name `xml:"http://www.w3.org/2003/05/soap-envelope Envelope"`
	Header  struct {
		Action           string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing Action"`
		MessageID        string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing MessageID"`
		ResourceURI      string `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd ResourceURI"`
		OperationTimeout string `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd OperationTimeout"`
		MaxEnvelopeSize  string `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd MaxEnvelopeSize"`
		Selectors        []struct {
			Name  string `xml:"Name,attr"`
			Value string `xml:",chardata"`
		} `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd SelectorSet>Selector"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Header"`
	Body struct {
		CommandLine *struct {
			Command   string   `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Command"`
			Arguments []string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Arguments"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell CommandLine"`
		Receive *struct {
			DesiredStream struct {
				CommandID string `xml:"CommandId,attr"`
			} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell DesiredStream"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Receive"`
		Send *struct {
			Streams []struct {
				Name      string `xml:"Name,attr"`
				CommandID string `xml:"CommandId,attr"`
				End       string `xml:"End,attr"`
				Data      string `xml:",chardata"`
			} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Stream"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Send"`
		Signal *struct {
			CommandID string `xml:"CommandId,attr"`
			Code      string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Code"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Signal"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Body"`
}

func parseRequest(body []byte) (*request, error) {
	var req request
	if err := xml.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("parse SOAP envelope: %w", err)
	}
	return &req, nil
}

// shellID returns the ShellId selector, which addresses the shell of every request
// after Create.
func (r *request) shellID() string {
	for _, s := range r.Header.Selectors {
		if s.Name == "ShellId" {
			return strings.TrimSpace(s.Value)
		}
	}
	return ""
}

// operationTimeout parses the OperationTimeout header, an xs:duration such as PT60S or
// PT60.000S. It returns fallback when the header is absent or in a form this parser
// does not read.
func (r *request) operationTimeout(fallback time.Duration) time.Duration {
	v := strings.TrimSpace(r.Header.OperationTimeout)
	rest, ok := strings.CutPrefix(v, "PT")
	if !ok {
		return fallback
	}

	var total time.Duration
	for _, unit := range []struct {
		suffix string
		scale  time.Duration
	}{{"H", time.Hour}, {"M", time.Minute}, {"S", time.Second}} {
		before, after, found := strings.Cut(rest, unit.suffix)
		if !found {
			continue
		}
		n, err := strconv.ParseFloat(before, 64)
		if err != nil || n < 0 {
			return fallback
		}
		total += time.Duration(n * float64(unit.scale))
		rest = after
	}
	if rest != "" || total <= 0 {
		return fallback
	}
	return total
}

// maxResponseSize returns the MaxEnvelopeSize header, the largest response the client
// accepts, or 0 when it is absent.
func (r *request) maxResponseSize() int {
	n, err := strconv.Atoi(strings.TrimSpace(r.Header.MaxEnvelopeSize))
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// envelope writes a response envelope around body with the reply headers a Windows
// host sends.
func envelope(action, relatesTo, body string) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	b.WriteString(`<s:Envelope xml:lang="en-US" xmlns:s="` + nsSOAP + `" xmlns:a="` + nsAddressing +
		`" xmlns:x="` + nsTransfer + `" xmlns:w="` + nsWSMan + `" xmlns:rsp="` + nsShell + `">`)
	b.WriteString(`<s:Header>`)
	b.WriteString(`<a:Action>` + escape(action) + `</a:Action>`)
	b.WriteString(`<a:MessageID>uuid:` + newID() + `</a:MessageID>`)
	b.WriteString(`<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>`)
	if relatesTo != "" {
		b.WriteString(`<a:RelatesTo>` + escape(relatesTo) + `</a:RelatesTo>`)
	}
	b.WriteString(`</s:Header><s:Body>`)
	b.WriteString(body)
	b.WriteString(`</s:Body></s:Envelope>`)
	return []byte(b.String())
}

func createResponse(relatesTo, address, shellID string) []byte {
	body := `<x:ResourceCreated><a:Address>` + escape(address) + `</a:Address><a:ReferenceParameters>` +
		`<w:ResourceURI>` + resourceCmdShell + `</w:ResourceURI>` +
		`<w:SelectorSet><w:Selector Name="ShellId">` + shellID + `</w:Selector></w:SelectorSet>` +
		`</a:ReferenceParameters></x:ResourceCreated>` +
		`<rsp:Shell><rsp:ShellId>` + shellID + `</rsp:ShellId><rsp:ResourceUri>` + resourceCmdShell + `</rsp:ResourceUri>` +
		`<rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>`
	return envelope(nsTransfer+"/CreateResponse", relatesTo, body)
}

func commandResponse(relatesTo, commandID string) []byte {
	body := `<rsp:CommandResponse><rsp:CommandId>` + commandID + `</rsp:CommandId></rsp:CommandResponse>`
	return envelope(nsShell+"/CommandResponse", relatesTo, body)
}

// receiveResponse sends one chunk of each stream. A nil exitCode means the command is
// still running.
func receiveResponse(relatesTo, commandID string, stdout, stderr []byte, exitCode *int64) []byte {
	var b strings.Builder
	b.WriteString(`<rsp:ReceiveResponse>`)
	writeStream(&b, "stdout", commandID, stdout)
	writeStream(&b, "stderr", commandID, stderr)
	if exitCode == nil {
		b.WriteString(`<rsp:CommandState CommandId="` + commandID + `" State="` + stateRunning + `"/>`)
	} else {
		b.WriteString(`<rsp:CommandState CommandId="` + commandID + `" State="` + stateDone + `">`)
		b.WriteString(`<rsp:ExitCode>` + strconv.FormatInt(*exitCode, 10) + `</rsp:ExitCode></rsp:CommandState>`)
	}
	b.WriteString(`</rsp:ReceiveResponse>`)
	return envelope(nsShell+"/ReceiveResponse", relatesTo, b.String())
}

func writeStream(b *strings.Builder, name, commandID string, data []byte) {
	if len(data) == 0 {
		return
	}
	b.WriteString(`<rsp:Stream Name="` + name + `" CommandId="` + commandID + `">`)
	b.WriteString(base64.StdEncoding.EncodeToString(data))
	b.WriteString(`</rsp:Stream>`)
}

func signalResponse(relatesTo string) []byte {
	return envelope(nsShell+"/SignalResponse", relatesTo, `<rsp:SignalResponse/>`)
}

func sendResponse(relatesTo string) []byte {
	return envelope(nsShell+"/SendResponse", relatesTo, `<rsp:SendResponse/>`)
}

func deleteResponse(relatesTo string) []byte {
	return envelope(nsTransfer+"/DeleteResponse", relatesTo, "")
}

// fault is a WS-Management SOAP fault: a subcode from the WS-Management standard,
// the Windows error code where one is known, and a message.
type fault struct {
	status  int    // HTTP status sent with the fault
	subcode string // WS-Management subcode such as w:TimedOut
	code    uint32 // Windows error code in the WSManFault element, 0 when not known
	message string
	detail  string // optional w:FaultDetail URI
	lang    string // xml:lang of message; empty means en-US
}

func (f *fault) Error() string { return f.message }

func faultResponse(relatesTo, machine string, f *fault) []byte {
	value := "s:Receiver"
	if f.subcode == "w:EncodingLimit" || f.subcode == "w:ActionNotSupported" || f.subcode == "w:InvalidSelectors" {
		value = "s:Sender"
	}

	var b strings.Builder
	b.WriteString(`<s:Fault><s:Code><s:Value>` + value + `</s:Value><s:Subcode><s:Value>` + f.subcode + `</s:Value></s:Subcode></s:Code>`)
	lang := f.lang
	if lang == "" {
		lang = "en-US"
	}
	b.WriteString(`<s:Reason><s:Text xml:lang="` + escape(lang) + `">` + escape(f.message) + `</s:Text></s:Reason><s:Detail>`)
	if f.detail != "" {
		b.WriteString(`<w:FaultDetail>` + escape(f.detail) + `</w:FaultDetail>`)
	}
	b.WriteString(`<f:WSManFault xmlns:f="` + nsFault + `"`)
	if f.code != 0 {
		b.WriteString(` Code="` + strconv.FormatUint(uint64(f.code), 10) + `"`)
	}
	b.WriteString(` Machine="` + escape(machine) + `"><f:Message>` + escape(f.message) + `</f:Message></f:WSManFault>`)
	b.WriteString(`</s:Detail></s:Fault>`)
	return envelope(actionFault, relatesTo, b.String())
}

func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
