package winrmconn

import (
	"errors"
	"fmt"
	"regexp"
	"sync/atomic"

	"github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"
)

// SOAPFaultError is a SOAP fault the host sent in reply to a WinRM request.
// Body is the whole response, so ClassifyFault can match the Windows error
// code as well as the reason text, which Windows localizes.
type SOAPFaultError struct {
	Host string
	Body string
}

func (e *SOAPFaultError) Error() string {
	text := "WinRM fault from the host: " + faultReason(e.Body)
	if code := wsmanFaultCode(e.Body); code != 0 {
		text += fmt.Sprintf(" (WSManFault code %d)", code)
	}
	return text
}

// errNoShellID marks a Create response without a ShellId.
var errNoShellID = errors.New("the WinRM service created no shell (its Create response has no ShellId), so no command can run")

var (
	faultElement  = regexp.MustCompile(`<(?:\w+:)?Fault[\s>]`)
	soapTimedOut  = regexp.MustCompile(`<(?:\w+:)?Value>\s*(?:\w+:)?TimedOut\s*<`)
	shellIDValue  = regexp.MustCompile(`<(?:\w+:)?Selector\s+Name=["']ShellId["']\s*>\s*[^<\s]`)
	requestAction = regexp.MustCompile(`<(?:\w+:)?Action[^>]*>\s*([^<\s]+)\s*<`)
)

const (
	actionCreate  = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
	actionReceive = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive"
	actionSend    = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send"
)

// faultCheck wraps a transport of the winrm library and turns SOAP faults
// into errors. The library's Post returns the body of any SOAP-typed response
// without looking at the HTTP status (masterzen/winrm 3fad6e106085), so
// without this check a fault on shell Create, Send or Delete reads as success.
type faultCheck struct {
	host  string
	inner winrm.Transporter

	// lastSend is the error of the most recent failed Send request. The
	// library's stdin writer returns io.ErrShortWrite in place of it.
	lastSend atomic.Pointer[sendFailure]
}

type sendFailure struct{ err error }

func (t *faultCheck) Transport(endpoint *winrm.Endpoint) error {
	return t.inner.Transport(endpoint)
}

// Post sends message and returns an error for a fault response and for a
// Create response without a ShellId.
func (t *faultCheck) Post(client *winrm.Client, message *soap.SoapMessage) (string, error) {
	action := ""
	if m := requestAction.FindStringSubmatch(message.String()); m != nil {
		action = m[1]
	}

	body, err := t.inner.Post(client, message)
	var status *HTTPStatusError
	if errors.As(err, &status) && faultElement.MatchString(status.Body) {
		// SealedNTLM returns a fault as an error. It is handled here as the
		// library's own transports deliver it, as a response body.
		body, err = status.Body, nil
	}
	if err != nil {
		if action == actionSend {
			t.lastSend.Store(&sendFailure{err})
		}
		return "", err
	}

	if faultElement.MatchString(body) {
		// A Receive that waited OperationTimeout without output ends in the
		// TimedOut fault. The library polls again when the response has no
		// output, whatever language the fault text is in.
		if action == actionReceive && receiveTimedOut(body) {
			return body, nil
		}
		fault := &SOAPFaultError{Host: t.host, Body: body}
		if action == actionSend {
			t.lastSend.Store(&sendFailure{fault})
		}
		return "", fault
	}

	if action == actionCreate && !shellIDValue.MatchString(body) {
		return "", fmt.Errorf("%w: check the shell quota MaxShellsPerUser with 'winrm get winrm/config/winrs' and the Microsoft-Windows-WinRM/Operational event log on the host", errNoShellID)
	}
	return body, nil
}

// receiveTimedOut reports whether a fault body is the end of a Receive that
// waited OperationTimeout: the w:TimedOut subcode or the Windows error
// ERROR_WSMAN_OPERATION_TIMEDOUT, which pywinrm (winrm/protocol.py) also
// checks for.
func receiveTimedOut(body string) bool {
	return soapTimedOut.MatchString(body) || wsmanFaultCode(body) == codeOperationTimedOut
}

// sendFault returns the error of the last failed Send request, or nil.
// NOTE: commands that run at the same time share the transport, so the error
// may belong to another command's input.
func (t *faultCheck) sendFault() error {
	if f := t.lastSend.Load(); f != nil {
		return f.err
	}
	return nil
}

// faultBody returns the SOAP response carried by err, or "" when it has none.
func faultBody(err error) string {
	var fault *SOAPFaultError
	if errors.As(err, &fault) {
		return fault.Body
	}
	var command *winrm.ExecuteCommandError
	if errors.As(err, &command) {
		return command.Body
	}
	var status *HTTPStatusError
	if errors.As(err, &status) {
		return status.Body
	}
	return ""
}
