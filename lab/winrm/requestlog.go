package winrmlab

import (
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
)

// RequestRecord is one WS-Management request the server has handled.
type RequestRecord struct {
	// Action is the last segment of the WS-Addressing action: Create,
	// Command, Receive, Send, Signal or Delete.
	Action string
	// ShellID is the ShellId selector; empty for Create.
	ShellID string
	// CommandID is the command a Receive, Send or Signal request is for, and
	// the id a Command request started.
	CommandID string
	// Command is, for a Command request, the command text after decoding,
	// as replay entries match it.
	Command string
	// Stdin is, for a Send request, the standard input it carried, decoded
	// from base64. StdinEnd is set when the request ended the input.
	Stdin    []byte
	StdinEnd bool
	// Remote is the client's address and port, so requests with the same
	// Remote came over the same TCP connection.
	Remote string
	// ReceivesInProgress is, for a Send, the number of Receive requests for
	// the same command that the server was still handling when the Send
	// arrived. It is zero for a client that sends one request at a time.
	ReceivesInProgress int
	// Fault is the WS-Management subcode of the fault sent in reply, such
	// as w:TimedOut; empty when the request succeeded.
	Fault string
}

// requestLog holds the records of Config.RecordRequests.
type requestLog struct {
	mu      sync.Mutex
	records []RequestRecord
}

// Requests returns the requests handled so far, in the order their
// responses were ready. It is empty unless Config.RecordRequests is set.
func (s *Server) Requests() []RequestRecord {
	s.requests.mu.Lock()
	defer s.requests.mu.Unlock()
	return append([]RequestRecord(nil), s.requests.records...)
}

// startRecord describes req as it arrives, or returns nil when requests are
// not recorded.
func (s *Server) startRecord(r *http.Request, req *request) *RequestRecord {
	if !s.cfg.RecordRequests {
		return nil
	}
	action := req.Header.Action
	record := &RequestRecord{
		Action:  action[strings.LastIndex(action, "/")+1:],
		ShellID: req.shellID(),
		Remote:  r.RemoteAddr,
	}

	switch {
	case req.Body.Receive != nil:
		record.CommandID = strings.TrimSpace(req.Body.Receive.DesiredStream.CommandID)
	case req.Body.Signal != nil:
		record.CommandID = strings.TrimSpace(req.Body.Signal.CommandID)
	case req.Body.Send != nil && len(req.Body.Send.Streams) > 0:
		record.CommandID = strings.TrimSpace(req.Body.Send.Streams[0].CommandID)
		if cmd, f := s.lookupCommand(record.ShellID, record.CommandID); f == nil {
			record.ReceivesInProgress = int(cmd.receiving.Load())
		}
		for _, stream := range req.Body.Send.Streams {
			// Data that is not base64 gets a fault from send; the record
			// keeps what could be decoded.
			raw, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(stream.Data))
			record.Stdin = append(record.Stdin, raw...)
			record.StdinEnd = record.StdinEnd || stream.End == "true"
		}
	}
	return record
}

// finishRecord adds record with the outcome f to the log.
func (s *Server) finishRecord(record *RequestRecord, f *fault) {
	if record == nil {
		return
	}
	if f != nil {
		record.Fault = f.subcode
	}
	s.requests.mu.Lock()
	s.requests.records = append(s.requests.records, *record)
	s.requests.mu.Unlock()
}

// CommandRecord is one command the server started, with the standard input
// the client sent it.
type CommandRecord struct {
	// ID is the CommandId the server gave the command.
	ID string
	// Text is the command text after decoding, as replay entries match it.
	Text string
	// Stdin is the data of every Send request for the command, in order.
	Stdin []byte
	// StdinEnded is set when a Send request ended the input.
	StdinEnded bool
}

// Commands returns the commands started so far, in the order their
// responses were ready, each with its standard input. Like Requests it is
// empty unless Config.RecordRequests is set.
func (s *Server) Commands() []CommandRecord {
	var commands []CommandRecord
	index := map[string]int{}
	for _, r := range s.Requests() {
		switch {
		case r.Action == "Command" && r.Fault == "" && r.CommandID != "":
			index[r.CommandID] = len(commands)
			commands = append(commands, CommandRecord{ID: r.CommandID, Text: r.Command})
		case r.Action == "Send" && r.Fault == "":
			if i, ok := index[r.CommandID]; ok {
				commands[i].Stdin = append(commands[i].Stdin, r.Stdin...)
				commands[i].StdinEnded = commands[i].StdinEnded || r.StdinEnd
			}
		}
	}
	return commands
}
