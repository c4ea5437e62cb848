package winrmlab

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// codeQuotaMaxShells is ERROR_WSMAN_QUOTA_MAX_SHELLS (0x803381A5), the code
// Windows puts in the WSManFault of the MaxShellsPerUser fault. The value is
// from the Windows SDK constants as microsoft/windows-rs publishes them
// (crates/libs/windows/src/Windows/Win32/System/RemoteManagement/mod.rs), and
// hashicorp/vagrant issue 7489 shows a 2008 R2 host sending it with the
// message below.
const codeQuotaMaxShells = 2150859173

// shellQuotaFault returns the fault Windows sends on shell Create when the
// user has Config.MaxShellsPerUser shells open already, or nil when one more
// shell is allowed. The message is the one Windows Server sends; it names the
// number of shells but not the setting MaxShellsPerUser. The subcode is the
// wsman:QuotaLimit of MS-WSMV 3.1.4.5.2.1.
func (s *Server) shellQuotaFault() *fault {
	if s.cfg.MaxShellsPerUser <= 0 {
		return nil
	}

	s.mu.Lock()
	open := len(s.shells)
	s.mu.Unlock()
	if open < s.cfg.MaxShellsPerUser {
		return nil
	}
	return &fault{
		status:  http.StatusInternalServerError,
		subcode: "w:QuotaLimit",
		code:    codeQuotaMaxShells,
		message: fmt.Sprintf("The WS-Management service cannot process the request. This user is allowed a maximum number of %d concurrent shells, which has been exceeded. Close existing shells or raise the quota for this user.", s.cfg.MaxShellsPerUser),
	}
}

// InjectedFault is a SOAP fault the server sends in place of its response to
// the requests of one action, for testing how a client reports faults that
// real hosts send rarely, such as a failed shell Delete.
type InjectedFault struct {
	// Action is the request that gets the fault: Create, Command, Receive,
	// Send, Signal or Delete.
	Action string
	// Match, when set, limits a Command, Receive, Send or Signal fault to
	// commands whose text it matches. Create and Delete have no command, so
	// Match must be nil for them.
	Match *regexp.Regexp
	// Subcode is the WS-Management subcode; empty means w:InternalError.
	Subcode string
	// Code is the Windows error number of the WSManFault element; zero
	// leaves the attribute out.
	Code uint32
	// Message is the fault text, in the host's display language.
	Message string
	// Lang is the xml:lang of Message, such as zh-CN; empty means en-US.
	Lang string
	// Times is how many matching requests get the fault; zero means all.
	Times int
}

var injectableActions = map[string]string{
	"Create":  actionCreate,
	"Command": actionCommand,
	"Receive": actionReceive,
	"Send":    actionSend,
	"Signal":  actionSignal,
	"Delete":  actionDelete,
}

// checkInjectedFaults rejects faults the server could not send.
func checkInjectedFaults(faults []InjectedFault) error {
	var problems []error
	for i, f := range faults {
		if _, ok := injectableActions[f.Action]; !ok {
			problems = append(problems, fmt.Errorf("winrm lab: fault %d: action %q is not one of Create, Command, Receive, Send, Signal or Delete", i+1, f.Action))
		}
		if f.Match != nil && (f.Action == "Create" || f.Action == "Delete") {
			problems = append(problems, fmt.Errorf("winrm lab: fault %d: a %s request has no command text to match: remove Match", i+1, f.Action))
		}
		if f.Times < 0 {
			problems = append(problems, fmt.Errorf("winrm lab: fault %d: times %d is negative: give 0 for every matching request or a positive count", i+1, f.Times))
		}
		if strings.TrimSpace(f.Message) == "" {
			problems = append(problems, fmt.Errorf("winrm lab: fault %d: message is empty: give the text the host would send", i+1))
		}
	}
	return errors.Join(problems...)
}

// injectedFault returns the first Config.Faults entry that applies to req,
// or nil.
func (s *Server) injectedFault(req *request) *fault {
	for i, injected := range s.cfg.Faults {
		if injectableActions[injected.Action] != req.Header.Action {
			continue
		}
		if injected.Match != nil && !injected.Match.MatchString(s.requestCommandText(req)) {
			continue
		}
		if sent := s.injectedSent[i].Add(1); injected.Times > 0 && sent > int64(injected.Times) {
			continue
		}

		subcode := injected.Subcode
		if subcode == "" {
			subcode = "w:InternalError"
		}
		return &fault{
			status:  http.StatusInternalServerError,
			subcode: subcode,
			code:    injected.Code,
			message: injected.Message,
			lang:    injected.Lang,
		}
	}
	return nil
}

// requestCommandText returns the text of the command req starts or
// addresses, or "" when it has none or the command is unknown.
func (s *Server) requestCommandText(req *request) string {
	if req.Body.CommandLine != nil {
		return commandText(req.Body.CommandLine.Command, req.Body.CommandLine.Arguments)
	}

	commandID := ""
	switch {
	case req.Body.Receive != nil:
		commandID = req.Body.Receive.DesiredStream.CommandID
	case req.Body.Signal != nil:
		commandID = req.Body.Signal.CommandID
	case req.Body.Send != nil && len(req.Body.Send.Streams) > 0:
		commandID = req.Body.Send.Streams[0].CommandID
	}
	cmd, f := s.lookupCommand(req.shellID(), commandID)
	if f != nil {
		return ""
	}
	return cmd.text
}

// createResponseWithoutShellID is a Create response whose ShellId selector
// and element are empty (Config.CreateWithoutShellID). It is built for
// testing a client's check, not recorded from a host.
func createResponseWithoutShellID(relatesTo string) []byte {
	body := `<x:ResourceCreated><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address><a:ReferenceParameters>` +
		`<w:ResourceURI>` + resourceCmdShell + `</w:ResourceURI>` +
		`<w:SelectorSet><w:Selector Name="ShellId"></w:Selector></w:SelectorSet>` +
		`</a:ReferenceParameters></x:ResourceCreated>` +
		`<rsp:Shell><rsp:ShellId></rsp:ShellId><rsp:ResourceUri>` + resourceCmdShell + `</rsp:ResourceUri></rsp:Shell>`
	return envelope(nsTransfer+"/CreateResponse", relatesTo, body)
}
