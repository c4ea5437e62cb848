// Package winrmlab is a WinRM (WS-Management) server that replays command output
// recorded on real Windows hosts. Tests of the winrm transport and of the Windows
// checks run against it, and `patrol lab winrm` runs it standalone so a person can try
// playbooks on a replayed host. It never runs a command: every answer comes from the
// replay file, and a command without a replay entry gets a SOAP fault.
package winrmlab

import (
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Windows defaults and limits the server reproduces.
const (
	// DefaultMaxEnvelopeSize is MaxEnvelopeSizekb = 500 of Windows Server 2012 R2, in bytes.
	DefaultMaxEnvelopeSize = 500 * 1024
	// DefaultChunkSize is how many bytes of each stream one Receive response carries.
	DefaultChunkSize = 32 * 1024
	// defaultOperationTimeout applies when a request has no OperationTimeout header;
	// WinRM's own default is 60 seconds.
	defaultOperationTimeout = 60 * time.Second
	// maxFaultCommandText bounds the command text quoted in a fault, so the fault
	// stays a small envelope even for a long script.
	maxFaultCommandText = 4096
)

// Windows error codes sent in WSManFault elements.
const (
	codeOperationTimeout = 2150858793 // 0x80338029 ERROR_WSMAN_OPERATION_TIMEDOUT
	codeShellNotFound    = 2150858843 // 0x8033805B, unknown ShellId
	codeMaxEnvelopeSize  = 2150859025 // 0x80338111, request larger than MaxEnvelopeSizekb
)

// AuthMethod names an HTTP authentication scheme the server accepts.
type AuthMethod string

// Authentication schemes.
const (
	AuthBasic AuthMethod = "basic"
	// AuthNTLM is NTLMv2 under the Negotiate and NTLM schemes, with NTLM
	// message encryption over HTTP when the client negotiates sealing.
	AuthNTLM AuthMethod = "ntlm"
)

// Config sets up a Server.
type Config struct {
	// Entries are the replayed commands, usually from LoadReplay.
	Entries []Entry
	// User and Password are the only credentials accepted.
	User     string
	Password string
	// Auth lists the accepted schemes (AuthBasic, AuthNTLM, AuthCert); empty
	// means Basic.
	Auth []AuthMethod
	// ClientCAPEM holds the PEM CA certificates that client certificates must
	// chain to under AuthCert. Empty makes New generate a client CA and a
	// certificate for User (see certauth.go).
	ClientCAPEM []byte
	// TLS makes Serve speak HTTPS with a certificate signed by a CA generated for this
	// server (see CACertPEM and WriteCACert).
	TLS bool
	// MaxEnvelopeSize is the largest request body accepted, in bytes; larger requests
	// get the MaxEnvelopeSize quota fault. Zero means DefaultMaxEnvelopeSize.
	MaxEnvelopeSize int
	// ChunkSize caps the bytes of each stream per Receive response. Zero means
	// DefaultChunkSize.
	ChunkSize int
	// Machine is the host name reported in faults; empty means "winrm-lab".
	Machine string
	// Logger receives one line per request error and per start and stop; nil
	// discards them.
	Logger *slog.Logger
	// Files, when set, is a directory on which the server carries out patrol's
	// own copy scripts (see files.go) instead of replaying them. C:\x maps to
	// Files/C/x.
	Files string
	// RefuseSealing makes NTLM logins offer no signing or sealing, like a host
	// that does not agree to NTLM message encryption.
	RefuseSealing bool
	// SimulateReboot makes the server play a host that restarts on
	// shutdown.exe /r and answers the boot time probe itself (see reboot.go).
	SimulateReboot bool
	// RebootDownTime is how long a simulated reboot keeps the host
	// unreachable; zero means DefaultRebootDownTime.
	RebootDownTime time.Duration
	// MaxShellsPerUser, when above zero, makes shell Create fail with the
	// QuotaLimit fault while that many shells are open (see faults.go).
	MaxShellsPerUser int
	// Faults are SOAP faults sent in place of the response to chosen
	// requests, to test how a client reports them (see faults.go).
	Faults []InjectedFault
	// CreateWithoutShellID makes the response to shell Create carry an
	// empty ShellId, and no shell is opened (see faults.go).
	CreateWithoutShellID bool
	// RecordRequests keeps a record of every WS-Management request for
	// Requests (see requestlog.go). It is off by default, so that a lab
	// that runs for days keeps no growing history.
	RecordRequests bool
}

// Server is a replaying WinRM endpoint at /wsman. It is safe for concurrent requests,
// as a client polls Receive while it sends Signal.
type Server struct {
	cfg  Config
	log  *slog.Logger
	http *http.Server
	tls  *tls.Config

	caPEM []byte
	files *fileSystem
	tasks taskTable
	auth  authCounter

	reboot        *rebootSim
	afterCommands commandsSeen
	requests      requestLog
	// injectedSent counts the matching requests of each Config.Faults entry.
	injectedSent []atomic.Int64

	clientCerts *clientCertAuth // nil unless Config.Auth lists AuthCert

	mu     sync.Mutex
	shells map[string]*shell
	closed chan struct{}
	once   sync.Once
}

// shell is one open Windows Remote Shell and the commands started in it.
type shell struct {
	id       string
	commands map[string]*command
}

// command is one replayed command: its output, how much of it was sent, and whether
// a signal stopped it.
type command struct {
	id    string
	text  string
	entry *Entry
	// pending, while entry is nil, are the entries that may reply once the
	// standard input has ended, because the first of them sets stdin_match
	// (see stdin.go).
	pending []*Entry
	started time.Time
	readyAt time.Time

	// receiving counts the Receive requests for this command that are in
	// progress, for the request log.
	receiving atomic.Int32

	mu         sync.Mutex
	stdoutSent int
	stderrSent int
	done       bool
	// input is the standard input received so far, kept only while pending
	// is set.
	input []byte

	// inputEnded is closed when the client has sent the end of the input.
	inputEnded chan struct{}
	endOnce    sync.Once

	stopped  chan struct{}
	stopOnce sync.Once

	// file is set for a copy script emulated by Config.Files or a task script
	// (tasks.go); entry is nil then.
	file *fileCommand
}

// New checks the configuration and prepares the TLS certificates when cfg.TLS is set.
func New(cfg Config) (*Server, error) {
	if cfg.User == "" {
		return nil, errors.New("winrm lab: no user configured: set the user the client logs in as")
	}
	if len(cfg.Entries) == 0 && cfg.Files == "" {
		return nil, errors.New("winrm lab: no replay entries: load a replay file with LoadReplay")
	}
	if cfg.MaxEnvelopeSize == 0 {
		cfg.MaxEnvelopeSize = DefaultMaxEnvelopeSize
	}
	if cfg.ChunkSize == 0 {
		cfg.ChunkSize = DefaultChunkSize
	}
	if cfg.Machine == "" {
		cfg.Machine = "winrm-lab"
	}
	if err := checkInjectedFaults(cfg.Faults); err != nil {
		return nil, err
	}
	if !cfg.SimulateReboot {
		for _, e := range cfg.Entries {
			if e.AfterReboots > 0 {
				return nil, fmt.Errorf("winrm lab: the replay entry of line %d sets after_reboots, which needs the reboot simulation: turn it on (SimulateReboot)", e.Line)
			}
		}
	}
	if len(cfg.Auth) == 0 {
		cfg.Auth = []AuthMethod{AuthBasic}
	}
	for _, m := range cfg.Auth {
		if m != AuthBasic && m != AuthNTLM && m != AuthCert {
			return nil, fmt.Errorf("winrm lab: authentication %q is not supported: use %q, %q or %q", m, AuthBasic, AuthNTLM, AuthCert)
		}
	}

	s := &Server{
		cfg:    cfg,
		log:    cfg.Logger,
		shells: map[string]*shell{},
		closed: make(chan struct{}),
		reboot: newRebootSim(cfg),

		injectedSent: make([]atomic.Int64, len(cfg.Faults)),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if cfg.Files != "" {
		s.files = &fileSystem{root: cfg.Files}
	}

	if cfg.TLS {
		caPEM, tlsConfig, err := newCertificates()
		if err != nil {
			return nil, fmt.Errorf("winrm lab: generate TLS certificates: %w", err)
		}
		s.caPEM = caPEM
		s.tls = tlsConfig
	}
	if err := s.setupCertAuth(); err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/wsman", s.handle)
	s.http = &http.Server{Handler: s.whileUp(s.requireAuth(mux)), ConnContext: withConnAuth, ReadHeaderTimeout: 30 * time.Second}
	return s, nil
}

// Serve handles WinRM requests on l until Close, over HTTPS when Config.TLS is set.
// It returns nil after Close.
func (s *Server) Serve(l net.Listener) error {
	if s.tls != nil {
		l = tls.NewListener(l, s.tls)
	}
	s.log.Info("winrm lab listening", "address", l.Addr().String(), "tls", s.tls != nil, "entries", len(s.cfg.Entries))

	err := s.http.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// ListenAndServe listens on addr, a host:port such as 127.0.0.1:15985, and serves.
func (s *Server) ListenAndServe(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("winrm lab: listen on %s: %w", addr, err)
	}
	return s.Serve(l)
}

// Close stops the server, ends waiting Receive requests and drops all shells.
func (s *Server) Close() error {
	s.once.Do(func() { close(s.closed) })
	err := s.http.Close()

	s.mu.Lock()
	clear(s.shells)
	s.mu.Unlock()
	s.log.Info("winrm lab stopped")
	return err
}

// handle authenticates a request, checks its size and dispatches it by action.
func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "WinRM accepts POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(s.cfg.MaxEnvelopeSize)+1))
	if err != nil {
		s.log.Warn("read request body", "err", err)
		return
	}
	if len(body) > s.cfg.MaxEnvelopeSize {
		s.writeFault(w, "", &fault{
			status:  http.StatusRequestEntityTooLarge,
			subcode: "w:EncodingLimit",
			code:    codeMaxEnvelopeSize,
			detail:  "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/MaxEnvelopeSize",
			message: fmt.Sprintf("The WS-Management service cannot process the request because the request size exceeded the configured MaxEnvelopeSize quota (MaxEnvelopeSizekb = %d). Raise it with winrm set winrm/config '@{MaxEnvelopeSizekb=\"8192\"}' (PowerShell) or send smaller requests.", s.cfg.MaxEnvelopeSize/1024),
		})
		return
	}

	req, err := parseRequest(body)
	if err != nil {
		s.writeFault(w, "", &fault{status: http.StatusBadRequest, subcode: "w:InvalidMessageInformationHeader", message: err.Error()})
		return
	}

	response, f := s.dispatch(r, req)
	if f != nil {
		s.writeFault(w, req.Header.MessageID, f)
		return
	}
	w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
	_, _ = w.Write(response)
}

// dispatch handles one request and records it when Config.RecordRequests
// is set.
func (s *Server) dispatch(r *http.Request, req *request) ([]byte, *fault) {
	record := s.startRecord(r, req)
	response, f := s.dispatchAction(r, req, record)
	s.finishRecord(record, f)
	return response, f
}

// dispatchAction handles one request by its action. record, when not nil,
// gets the command text and id of a Command request.
func (s *Server) dispatchAction(r *http.Request, req *request, record *RequestRecord) ([]byte, *fault) {
	if f := s.injectedFault(req); f != nil {
		return nil, f
	}

	id := req.Header.MessageID
	switch req.Header.Action {
	case actionCreate:
		if f := s.shellQuotaFault(); f != nil {
			return nil, f
		}
		if s.cfg.CreateWithoutShellID {
			return createResponseWithoutShellID(req.Header.MessageID), nil
		}
		return s.createShell(r, req), nil
	case actionCommand:
		return s.startCommand(req, record)
	case actionReceive:
		return s.receive(r, req)
	case actionSend:
		return s.send(req)
	case actionSignal:
		return s.signal(req)
	case actionDelete:
		if f := s.deleteShell(req.shellID()); f != nil {
			return nil, f
		}
		return deleteResponse(id), nil
	default:
		return nil, &fault{
			status:  http.StatusInternalServerError,
			subcode: "w:ActionNotSupported",
			message: fmt.Sprintf("The WS-Management service does not support the action %q; this lab server implements Create, Command, Receive, Send, Signal and Delete of the cmd shell.", req.Header.Action),
		}
	}
}

func (s *Server) createShell(r *http.Request, req *request) []byte {
	sh := &shell{id: strings.ToUpper(newID()), commands: map[string]*command{}}

	s.mu.Lock()
	s.shells[sh.id] = sh
	s.mu.Unlock()

	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	s.log.Info("shell created", "shell", sh.id, "remote", r.RemoteAddr)
	return createResponse(req.Header.MessageID, scheme+"://"+r.Host+"/wsman", sh.id)
}

// startCommand matches the decoded command text against the replay entries; the
// first entry that matches wins, unless entries with stdin_match make the
// choice wait for the standard input (see stdin.go).
func (s *Server) startCommand(req *request, record *RequestRecord) ([]byte, *fault) {
	if req.Body.CommandLine == nil {
		return nil, &fault{status: http.StatusBadRequest, subcode: "w:SchemaValidationError", message: "the Command request has no rsp:CommandLine element"}
	}
	sh, f := s.lookupShell(req.shellID())
	if f != nil {
		return nil, f
	}

	text := commandText(req.Body.CommandLine.Command, req.Body.CommandLine.Arguments)
	if record != nil {
		record.Command = text
	}
	file := s.startFileCommand(text)
	if file == nil {
		file = s.startTaskCommand(text)
	}
	if file != nil {
		cmd := &command{id: strings.ToUpper(newID()), text: text, file: file, stopped: make(chan struct{}), inputEnded: make(chan struct{})}
		s.addCommand(sh, cmd, record)
		s.noteCommand(text)
		s.log.Info("copy command started", "shell", sh.id, "command_id", cmd.id)
		return commandResponse(req.Header.MessageID, cmd.id), nil
	}

	entry := s.rebootEntry(text)
	var pending []*Entry
	if entry == nil {
		candidates := s.replayCandidates(text)
		switch {
		case len(candidates) == 0:
			s.log.Warn("no replay entry matches", "shell", sh.id, "command", truncate(text, 200))
			return nil, &fault{
				status:  http.StatusInternalServerError,
				subcode: "w:InternalError",
				message: "no replay entry matches: " + truncate(text, maxFaultCommandText),
			}
		case candidates[0].StdinMatch == nil:
			entry = candidates[0]
		default:
			pending = candidates
		}
	}

	now := time.Now()
	cmd := &command{
		id:         strings.ToUpper(newID()),
		text:       text,
		entry:      entry,
		pending:    pending,
		started:    now,
		stopped:    make(chan struct{}),
		inputEnded: make(chan struct{}),
	}
	if entry != nil {
		cmd.readyAt = now.Add(entry.Delay)
	}
	s.addCommand(sh, cmd, record)
	s.noteCommand(text)

	if entry == nil {
		s.log.Info("command started, waiting for its standard input", "shell", sh.id, "command_id", cmd.id, "replay_lines", entryLines(pending))
	} else {
		s.log.Info("command started", "shell", sh.id, "command_id", cmd.id, "replay_line", entry.Line)
	}
	return commandResponse(req.Header.MessageID, cmd.id), nil
}

// addCommand adds cmd to the shell and its id to record.
func (s *Server) addCommand(sh *shell, cmd *command, record *RequestRecord) {
	s.mu.Lock()
	sh.commands[cmd.id] = cmd
	s.mu.Unlock()
	if record != nil {
		record.CommandID = cmd.id
	}
}

// receive returns the next chunk of output. While a delayed entry is not ready yet it
// waits up to the request's OperationTimeout and then answers with the TimedOut
// fault, which WinRM clients take as "poll again".
func (s *Server) receive(r *http.Request, req *request) ([]byte, *fault) {
	if req.Body.Receive == nil {
		return nil, &fault{status: http.StatusBadRequest, subcode: "w:SchemaValidationError", message: "the Receive request has no rsp:Receive element"}
	}
	cmd, f := s.lookupCommand(req.shellID(), req.Body.Receive.DesiredStream.CommandID)
	if f != nil {
		return nil, f
	}
	cmd.receiving.Add(1)
	defer cmd.receiving.Add(-1)
	if cmd.file != nil {
		return s.receiveFile(r, req, cmd)
	}
	if f := s.awaitEntry(r, req, cmd); f != nil {
		return nil, f
	}

	readyAt := cmd.readyTime()
	if wait := time.Until(readyAt); wait > 0 {
		timeout := req.operationTimeout(defaultOperationTimeout)
		timer := time.NewTimer(min(wait, timeout))
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-cmd.stopped:
		case <-s.closed:
		case <-r.Context().Done():
		}
		if time.Now().Before(readyAt) && !cmd.isStopped() {
			return nil, &fault{
				status:  http.StatusInternalServerError,
				subcode: "w:TimedOut",
				code:    codeOperationTimeout,
				message: "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.",
			}
		}
	}

	return s.nextChunk(req, cmd), nil
}

// nextChunk sends up to one chunk of stdout and of stderr, and the exit code with
// the last chunk.
func (s *Server) nextChunk(req *request, cmd *command) []byte {
	cmd.mu.Lock()
	defer cmd.mu.Unlock()

	if cmd.isStopped() {
		cmd.done = true
		code := int64(exitCodeTerminated)
		return receiveResponse(req.Header.MessageID, cmd.id, nil, nil, &code)
	}

	size := s.chunkSize(cmd.entry, req.maxResponseSize())
	stdout := next(cmd.entry.Stdout, &cmd.stdoutSent, size)
	stderr := next(cmd.entry.Stderr, &cmd.stderrSent, size)

	if cmd.stdoutSent < len(cmd.entry.Stdout) || cmd.stderrSent < len(cmd.entry.Stderr) {
		return receiveResponse(req.Header.MessageID, cmd.id, stdout, stderr, nil)
	}
	cmd.done = true
	code := cmd.entry.ExitCode
	return receiveResponse(req.Header.MessageID, cmd.id, stdout, stderr, &code)
}

// exitCodeTerminated is the exit code reported for a command stopped by a signal:
// STATUS_CONTROL_C_EXIT (0xC000013A), what cmd.exe children return on Ctrl+C.
//
// NOTE: taken from the Windows status table, not recorded from a 2012 R2 host after a
// WinRM terminate signal.
const exitCodeTerminated = -1073741510

// chunkSize picks the bytes per stream per response: the entry's or server's size,
// reduced so that two base64 streams fit in the client's MaxEnvelopeSize.
func (s *Server) chunkSize(entry *Entry, maxResponse int) int {
	size := s.cfg.ChunkSize
	if entry.ChunkSize > 0 {
		size = entry.ChunkSize
	}
	if maxResponse > 0 {
		const envelopeOverhead = 2048
		limit := (maxResponse - envelopeOverhead) / 2 * 3 / 4
		size = max(1, min(size, limit))
	}
	return size
}

func next(data []byte, sent *int, size int) []byte {
	end := min(len(data), *sent+size)
	chunk := data[*sent:end]
	*sent = end
	return chunk
}

// send accepts stdin. Emulated copy scripts read it. A replayed command
// keeps it while the choice of its entry waits for it (see stdin.go) and
// discards it otherwise.
func (s *Server) send(req *request) ([]byte, *fault) {
	if req.Body.Send == nil {
		return nil, &fault{status: http.StatusBadRequest, subcode: "w:SchemaValidationError", message: "the Send request has no rsp:Send element"}
	}
	for _, stream := range req.Body.Send.Streams {
		cmd, f := s.lookupCommand(req.shellID(), stream.CommandID)
		if f != nil {
			return nil, f
		}
		if cmd.file != nil {
			f = sendFile(cmd, stream.Data, stream.End)
		} else {
			f = cmd.takeInput(stream.Data, stream.End == "true")
		}
		if f != nil {
			return nil, f
		}
	}
	return sendResponse(req.Header.MessageID), nil
}

// signal stops a command on terminate, ctrl_c or ctrl_break; a Receive that waits
// for delayed output returns at once with the terminated exit code.
func (s *Server) signal(req *request) ([]byte, *fault) {
	if req.Body.Signal == nil {
		return nil, &fault{status: http.StatusBadRequest, subcode: "w:SchemaValidationError", message: "the Signal request has no rsp:Signal element"}
	}
	cmd, f := s.lookupCommand(req.shellID(), req.Body.Signal.CommandID)
	if f != nil {
		return nil, f
	}

	code := strings.TrimSpace(req.Body.Signal.Code)
	switch code {
	case signalTerminate, signalCtrlC, signalCtrlBreak:
	default:
		return nil, &fault{status: http.StatusInternalServerError, subcode: "w:InvalidParameter", message: fmt.Sprintf("unknown signal code %q: use terminate, ctrl_c or ctrl_break", code)}
	}

	cmd.mu.Lock()
	finished := cmd.done
	cmd.mu.Unlock()
	if !finished {
		cmd.stopOnce.Do(func() { close(cmd.stopped) })
		s.log.Info("command stopped by signal", "command_id", cmd.id, "signal", code[strings.LastIndex(code, "/")+1:])
	}
	return signalResponse(req.Header.MessageID), nil
}

func (s *Server) deleteShell(id string) *fault {
	s.mu.Lock()
	sh, ok := s.shells[id]
	delete(s.shells, id)
	s.mu.Unlock()
	if !ok {
		return shellNotFound(id)
	}

	for _, cmd := range sh.commands {
		cmd.stopOnce.Do(func() { close(cmd.stopped) })
	}
	s.log.Info("shell deleted", "shell", id)
	return nil
}

func (s *Server) lookupShell(id string) (*shell, *fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh, ok := s.shells[id]
	if !ok {
		return nil, shellNotFound(id)
	}
	return sh, nil
}

func (s *Server) lookupCommand(shellID, commandID string) (*command, *fault) {
	sh, f := s.lookupShell(shellID)
	if f != nil {
		return nil, f
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	cmd, ok := sh.commands[strings.TrimSpace(commandID)]
	if !ok {
		return nil, &fault{status: http.StatusInternalServerError, subcode: "w:InvalidSelectors", message: fmt.Sprintf("The request for command %q failed because the command was not found in shell %s.", commandID, shellID)}
	}
	return cmd, nil
}

func shellNotFound(id string) *fault {
	return &fault{
		status:  http.StatusInternalServerError,
		subcode: "w:InvalidSelectors",
		code:    codeShellNotFound,
		message: fmt.Sprintf("The request for the Windows Remote Shell with ShellId %s failed because the shell was not found on the server. Possible causes are: the specified ShellId is incorrect or the shell no longer exists on the server. Provide the correct ShellId or create a new shell and retry the operation.", id),
	}
}

func (s *Server) writeFault(w http.ResponseWriter, relatesTo string, f *fault) {
	s.log.Warn("fault", "subcode", f.subcode, "message", truncate(f.message, 200))

	// Raw WinRM clients (pywinrm, masterzen/winrm) report a too large request as a bare
	// HTTP 413. masterzen/winrm ignores the status of any SOAP-typed response, so the
	// quota fault goes out typed as plain XML, which every client treats as an error.
	// NOTE: the body and content type Windows sends with its 413 were not recorded.
	contentType := "application/soap+xml;charset=UTF-8"
	if f.status == http.StatusRequestEntityTooLarge {
		contentType = "application/xml;charset=UTF-8"
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(f.status)
	_, _ = w.Write(faultResponse(relatesTo, s.cfg.Machine, f))
}

func (c *command) isStopped() bool {
	select {
	case <-c.stopped:
		return true
	default:
		return false
	}
}

func (s *Server) accepts(m AuthMethod) bool {
	for _, a := range s.cfg.Auth {
		if a == m {
			return true
		}
	}
	return false
}

// credentialsMatch compares in constant time. Windows compares user names without
// regard to case, so the server does too.
func (s *Server) credentialsMatch(user, password string) bool {
	userOK := subtle.ConstantTimeCompare([]byte(strings.ToLower(user)), []byte(strings.ToLower(s.cfg.User)))
	passwordOK := subtle.ConstantTimeCompare([]byte(password), []byte(s.cfg.Password))
	return userOK&passwordOK == 1
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
