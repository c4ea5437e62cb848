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
	return fmt.Sprintf("host %s sent a WinRM fault: %s", e.Host, faultReason(e.Body))
}

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

	// lastSend is the most recent fault on a Send request. The library's
	// stdin writer returns io.ErrShortWrite in place of that error.
	lastSend atomic.Pointer[SOAPFaultError]
}

func (t *faultCheck) Transport(endpoint *winrm.Endpoint) error {
	return t.inner.Transport(endpoint)
}

// Post sends message and returns an error for a fault response and for a
// Create response without a ShellId.
func (t *faultCheck) Post(client *winrm.Client, message *soap.SoapMessage) (string, error) {
	body, err := t.inner.Post(client, message)
	if err != nil {
		return body, err
	}

	action := ""
	if m := requestAction.FindStringSubmatch(message.String()); m != nil {
		action = m[1]
	}

	if faultElement.MatchString(body) {
		// A Receive that waited OperationTimeout without output ends in the
		// TimedOut fault. The library polls again on it, so it passes.
		if action == actionReceive && soapTimedOut.MatchString(body) {
			return body, nil
		}
		fault := &SOAPFaultError{Host: t.host, Body: body}
		if action == actionSend {
			t.lastSend.Store(fault)
		}
		return "", fault
	}

	if action == actionCreate && !shellIDValue.MatchString(body) {
		return "", fmt.Errorf("host %s: the WinRM service created no shell (its Create response has no ShellId), so no command can run: check the shell quota MaxShellsPerUser with 'winrm get winrm/config/winrs' and the Microsoft-Windows-WinRM/Operational event log on the host", t.host)
	}
	return body, nil
}

// sendFault returns the last fault on a Send request, or nil.
// NOTE: commands that run at the same time share the transport, so the fault
// may belong to another command's input.
func (t *faultCheck) sendFault() error {
	if f := t.lastSend.Load(); f != nil {
		return f
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
	return ""
}
