package winrmconn

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/masterzen/winrm"

	"patrol/transport"
)

// ErrNotSupported marks an operation the WinRM transport does not do yet.
var ErrNotSupported = errors.New("not yet supported over WinRM")

// Conn is an open WinRM connection to one host. It keeps one shell open for
// the whole run, and every command runs in that shell, so the host sees one
// login per run rather than one per command.
type Conn struct {
	cfg    Config
	client *winrm.Client
	faults *faultCheck
	// transport is closed with the connection when the client's transport
	// keeps a connection of its own (SealedNTLM), else nil.
	transport io.Closer

	mu    sync.Mutex
	shell *winrm.Shell
	// inUse counts the commands started and not yet finished per shell, so
	// that a retired shell is deleted when its last command ends.
	inUse map[*winrm.Shell]int
	// retired holds shells replaced after an operations quota fault that
	// still run commands.
	retired map[*winrm.Shell]bool
}

var _ transport.Connection = (*Conn)(nil)

// Dial opens the shell on the host described by cfg. Authentication, TLS and
// network failures are returned as *transport.UnreachableError.
func Dial(ctx context.Context, cfg Config) (*Conn, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}

	client, check, closer, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	c := &Conn{cfg: cfg, client: client, faults: check, transport: closer}

	if err := ctx.Err(); err != nil {
		return nil, err
	}
	shell, err := client.CreateShell()
	if err != nil {
		c.closeTransport()
		return nil, c.dialError(err)
	}
	c.shell = shell
	return c, nil
}

// newClient builds the winrm client of cfg. Its transport is wrapped in
// check, which turns SOAP faults into errors. closer, when not nil, closes the
// connection its transport keeps open.
func newClient(cfg Config) (client *winrm.Client, check *faultCheck, closer io.Closer, err error) {
	endpoint := &winrm.Endpoint{
		Host:  cfg.Address,
		Port:  cfg.Port,
		HTTPS: cfg.HTTPS,
		// The HTTP response may come up to one operation timeout late.
		Timeout: cfg.OperationTimeout + cfg.ConnectTimeout,
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("host %s: read ca_file: %w", cfg.Host, err)
		}
		endpoint.CACert = pem
	}

	params := winrm.NewParameters(fmt.Sprintf("PT%dS", int(cfg.OperationTimeout/time.Second)), "en-US", DefaultEnvelopeSize)
	dial := (&net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}).Dial
	params.Dial = dial

	switch {
	case cfg.Auth == AuthCert:
		cert, key, err := cfg.loadClientCert()
		if err != nil {
			return nil, nil, nil, err
		}
		endpoint.Cert, endpoint.Key = cert, key
		params.TransportDecorator = func() winrm.Transporter { return winrm.NewClientAuthRequestWithDial(dial) }
	case cfg.Auth == AuthNTLM && cfg.HTTPS, cfg.Auth == AuthNTLM && cfg.InsecureHTTP:
		params.TransportDecorator = func() winrm.Transporter { return winrm.NewClientNTLMWithDial(dial) }
	case cfg.Auth == AuthNTLM:
		// Plain HTTP without insecure_http: every message is sealed, and a
		// host that does not agree to sealing is an error, never plaintext.
		sealed := NewSealedNTLM(cfg.User, cfg.Password, cfg.ConnectTimeout)
		params.TransportDecorator = func() winrm.Transporter { return sealed }
		closer = sealed
	default:
		// Basic authentication: the transport the library uses by default.
		params.TransportDecorator = func() winrm.Transporter { return winrm.NewClientWithDial(dial) }
	}
	inner := params.TransportDecorator
	check = &faultCheck{host: cfg.Host}
	params.TransportDecorator = func() winrm.Transporter {
		check.inner = inner()
		return check
	}

	client, err = winrm.NewClientWithParameters(endpoint, cfg.User, cfg.Password, params)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("host %s: set up WinRM client: %w", cfg.Host, err)
	}
	return client, check, closer, nil
}

// dialError sorts an error of the first request into the reasons of
// transport.UnreachableError. Known WinRM faults stay *FaultError, because
// the host was reached and its configuration needs a change.
func (c *Conn) dialError(err error) error {
	if errors.Is(err, errNoShellID) {
		// The error text names MaxShellsPerUser as a likely cause, which
		// ClassifyFault would take for the quota fault itself.
		return &transport.UnreachableError{Host: c.cfg.Host, Reason: "negotiation", Err: err}
	}
	classified := ClassifyFault(err)
	var fault *FaultError
	if errors.As(classified, &fault) {
		return classified
	}
	if c.cfg.Auth == AuthCert {
		if rejected := c.cfg.certDialError(err); rejected != nil {
			return rejected
		}
	}

	text := err.Error()
	reason := "network"
	var netErr net.Error
	var urlErr *url.Error
	switch {
	case errors.Is(err, errSealingRejected):
		reason = "negotiation"
		err = fmt.Errorf("%s does not accept NTLM-encrypted WinRM messages over HTTP, so no WinRM message was sent: use HTTPS (tls: true), or set insecure_http: true to send messages unencrypted: %w", c.cfg.Address, err)
	case errors.Is(err, errLoginRejected), strings.Contains(text, "http error 401"), strings.Contains(text, "http response error: 401"):
		reason = "auth"
		err = fmt.Errorf("%s rejected the user name or password (%s authentication): check user and the variable named by password_env: %w", c.cfg.Address, c.cfg.Auth, err)
	case strings.Contains(text, "x509:") || strings.Contains(text, "tls: "):
		// The certificate is the host's identity over HTTPS, like an SSH
		// host key, so a failed verification is reported the same way.
		reason = "hostkey"
		err = fmt.Errorf("certificate of %s failed verification: install a certificate signed by a trusted CA on the host or set ca_file to the CA that signed it: %w", c.cfg.Address, err)
	case errors.As(err, &netErr) && netErr.Timeout(), errors.As(err, &urlErr) && urlErr.Timeout():
		reason = "timeout"
	case strings.Contains(text, "http error") || strings.Contains(text, "invalid content type"):
		reason = "negotiation"
	case errors.As(err, new(*SOAPFaultError)):
		// The WinRM service replied, but with a fault in place of a shell.
		reason = "negotiation"
	}
	return &transport.UnreachableError{Host: c.cfg.Host, Reason: reason, Err: err}
}

// Run runs cmd in PowerShell on the host: Script as it is, Argv through
// ArgvScript, or through ArgvStdinScript when cmd has Stdin. Output is
// decoded to UTF-8 and CLIXML on stderr is turned into text. Scripts too long
// for one command line are uploaded in chunks first.
func (c *Conn) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	start := time.Now()
	if cmd.Become != nil {
		return transport.Result{}, fmt.Errorf("host %s: become is not supported over WinRM: log in as a member of the Administrators group instead", c.cfg.Host)
	}

	script, err := commandScript(cmd)
	if err != nil {
		return transport.Result{}, fmt.Errorf("host %s: %w", c.cfg.Host, err)
	}

	if cmd.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cmd.Timeout)
		defer cancel()
	}

	line, err := c.commandLine(ctx, script)
	if err != nil {
		return transport.Result{}, err
	}

	stdout, stderr, code, err := c.execute(ctx, line, cmd.Stdin)
	if err != nil {
		return transport.Result{}, err
	}

	errText := DecodeOutput(stderr, true)
	if text, ok := ParseCLIXML(errText); ok {
		errText = text
	}
	return transport.Result{
		Stdout:   []byte(DecodeOutput(stdout, true)),
		Stderr:   []byte(errText),
		ExitCode: code,
		Duration: time.Since(start),
	}, nil
}

// commandScript builds the PowerShell text of cmd with its environment
// variables set first, in a stable order. An Argv command with Stdin gets
// ArgvStdinScript, which pipes the input to the program, while a Script
// reads its standard input itself.
func commandScript(cmd transport.Command) (string, error) {
	script := cmd.Script
	if len(cmd.Argv) > 0 {
		build := ArgvScript
		if cmd.Stdin != nil {
			build = ArgvStdinScript
		}
		var err error
		if script, err = build(cmd.Argv); err != nil {
			return "", err
		}
	}

	names := make([]string, 0, len(cmd.Env))
	for name := range cmd.Env {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		fmt.Fprintf(&b, "${env:%s} = %s\r\n", strings.ReplaceAll(name, "}", "`}"), QuotePowerShellArg(cmd.Env[name]))
	}
	b.WriteString(script)
	return b.String(), nil
}

// commandLine returns the command line that runs script: the script itself
// when it fits, else the loader of a script uploaded first.
func (c *Conn) commandLine(ctx context.Context, script string) (string, error) {
	line, fits := PowerShellCommandLine(script)
	if fits {
		return line, nil
	}
	return c.upload(ctx, script)
}

// upload sends a long script in pieces with ChunkedScript and returns the
// command line that runs it.
func (c *Conn) upload(ctx context.Context, script string) (string, error) {
	name, err := randomName()
	if err != nil {
		return "", err
	}
	appends, run := ChunkedScript(script, name)
	for i, line := range appends {
		_, stderr, code, err := c.execute(ctx, line, nil)
		if err == nil && code != 0 {
			err = fmt.Errorf("exit code %d: %s", code, strings.TrimSpace(DecodeOutput(stderr, false)))
		}
		if err != nil {
			_, _, _, _ = c.execute(context.WithoutCancel(ctx), CleanupCommand(name), nil)
			return "", fmt.Errorf("host %s: upload script piece %d of %d: %w", c.cfg.Host, i+1, len(appends), err)
		}
	}
	return run, nil
}

func randomName() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random upload file name: %w", err)
	}
	return "patrol-" + hex.EncodeToString(b) + ".b64", nil
}

// execute runs one command line in the shared shell, opening a new shell once
// when the host has closed the old one.
func (c *Conn) execute(ctx context.Context, line string, stdin io.Reader) (stdout, stderr []byte, code int, err error) {
	command, release, err := c.start(ctx, line)
	if err != nil {
		return nil, nil, 0, err
	}
	defer release()
	return c.collect(ctx, command, stdin)
}

// start starts one command line in the shared shell. It opens a new shell
// and tries once more when the host has closed the old one, or when the shell
// has used up MaxConcurrentOperationsPerUser. Windows frees that count of a
// text shell's commands only when the shell closes (MS-WSMV product behavior
// note 118), so the old shell is deleted once its last command ends. The caller reads the command's output
// until it ends, then calls release.
func (c *Conn) start(ctx context.Context, line string) (command *winrm.Command, release func(), err error) {
	shell, err := c.acquireShell()
	if err != nil {
		return nil, nil, err
	}

	command, err = shell.ExecuteWithContext(ctx, line)
	var fault *FaultError
	if err != nil && errors.As(ClassifyFault(err), &fault) && (fault.Kind == FaultShellNotFound || fault.Kind == FaultOperationQuota) {
		c.releaseShell(shell)
		var idle *winrm.Shell
		if shell, idle, err = c.replaceShell(shell, fault.Kind == FaultOperationQuota); err != nil {
			return nil, nil, err
		}
		if idle != nil {
			c.deleteRetired(idle)
		}
		command, err = shell.ExecuteWithContext(ctx, line)
	}
	if err != nil {
		c.releaseShell(shell)
		return nil, nil, c.runError(ctx, err)
	}
	return command, func() { c.releaseShell(shell) }, nil
}

// collect feeds stdin, gathers the output of command and waits for its end or
// for ctx. When ctx ends first, the winrm library sends the terminate signal
// after its receive request in progress returns, within one operation timeout.
func (c *Conn) collect(ctx context.Context, command *winrm.Command, stdin io.Reader) ([]byte, []byte, int, error) {
	var outBuf, errBuf bytes.Buffer
	var outErr, errErr, inErr error
	var wg sync.WaitGroup
	wg.Add(3)

	go func() {
		defer wg.Done()
		// End of input is always sent, so that a program that reads stdin
		// does not wait for input that never comes.
		if stdin != nil {
			_, inErr = io.Copy(command.Stdin, stdin)
		}
		if err := command.Stdin.Close(); inErr == nil {
			inErr = err
		}
		if inErr != nil {
			// The host rejected the input, so the command would wait for
			// the rest of it: stop the command.
			_ = command.Close()
		}
	}()
	go func() {
		defer wg.Done()
		_, outErr = io.Copy(&outBuf, command.Stdout)
	}()
	go func() {
		defer wg.Done()
		_, errErr = io.Copy(&errBuf, command.Stderr)
	}()

	done := make(chan struct{})
	go func() {
		command.Wait()
		wg.Wait()
		close(done)
	}()

	select {
	case <-done:
	case <-ctx.Done():
		return nil, nil, 0, c.runError(ctx, ctx.Err())
	}

	if inErr != nil {
		return nil, nil, 0, c.runError(ctx, fmt.Errorf("send stdin: %w", c.inputError(inErr)))
	}
	if err := errors.Join(outErr, errErr); err != nil {
		return nil, nil, 0, c.runError(ctx, err)
	}
	return outBuf.Bytes(), errBuf.Bytes(), command.ExitCode(), nil
}

// inputError returns the error behind a failed write to a command's stdin.
// The library returns io.ErrShortWrite when a Send request fails, so the
// error of that request, usually the fault the host sent, is taken from the
// transport.
func (c *Conn) inputError(err error) error {
	if errors.Is(err, io.ErrShortWrite) && c.faults != nil {
		if sendErr := c.faults.sendFault(); sendErr != nil {
			return sendErr
		}
	}
	return err
}

// runError wraps an error that stopped a command: a timeout wraps
// transport.ErrTimeout, a lost link becomes *transport.UnreachableError, and
// WinRM faults become *FaultError.
func (c *Conn) runError(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("host %s: %w (the command was stopped)", c.cfg.Host, transport.ErrTimeout)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("host %s: %w", c.cfg.Host, ctx.Err())
	}

	classified := ClassifyFault(err)
	var fault *FaultError
	if errors.As(classified, &fault) {
		return fmt.Errorf("host %s: %w", c.cfg.Host, classified)
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return &transport.UnreachableError{Host: c.cfg.Host, Reason: "network", Err: err}
	}
	return fmt.Errorf("host %s: run command: %w", c.cfg.Host, err)
}

// acquireShell returns the current shell and counts one more command in it.
func (c *Conn) acquireShell() (*winrm.Shell, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.shell == nil {
		return nil, fmt.Errorf("host %s: connection is closed", c.cfg.Host)
	}
	if c.inUse == nil {
		c.inUse = map[*winrm.Shell]int{}
	}
	c.inUse[c.shell]++
	return c.shell, nil
}

// releaseShell counts one command less in shell and deletes a retired shell
// after its last command.
func (c *Conn) releaseShell(shell *winrm.Shell) {
	c.mu.Lock()
	c.inUse[shell]--
	idle := c.inUse[shell] <= 0
	if idle {
		delete(c.inUse, shell)
	}
	closeNow := idle && c.retired[shell]
	if closeNow {
		delete(c.retired, shell)
	}
	c.mu.Unlock()

	if closeNow {
		c.deleteRetired(shell)
	}
}

// replaceShell makes a new shell current in place of old unless another
// command already did so, and counts one command in it. With retire set the
// old shell is still alive on the host: it is returned as idle for the caller
// to delete when no command runs in it, else it is deleted when its last
// command ends.
func (c *Conn) replaceShell(old *winrm.Shell, retire bool) (shell, idle *winrm.Shell, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.shell == nil {
		return nil, nil, fmt.Errorf("host %s: connection is closed", c.cfg.Host)
	}
	if c.shell != old {
		c.inUse[c.shell]++
		return c.shell, nil, nil
	}
	shell, err = c.client.CreateShell()
	if err != nil {
		return nil, nil, c.dialError(err)
	}
	c.shell = shell
	c.inUse[shell]++
	if !retire {
		return shell, nil, nil
	}
	if c.inUse[old] == 0 {
		return shell, old, nil
	}
	if c.retired == nil {
		c.retired = map[*winrm.Shell]bool{}
	}
	c.retired[old] = true
	return shell, nil, nil
}

// deleteRetired deletes a shell replaced after an operations quota fault.
// No command waits for the result, and a shell that could not be deleted
// ends at the host's IdleTimeout, so errors are ignored.
func (c *Conn) deleteRetired(shell *winrm.Shell) {
	_ = shell.Close()
}

// Close deletes the shell on the host. Commands still running in it end.
// A shell the host no longer has (after a reboot, a WinRM restart or its idle
// timeout) counts as deleted. Any other failure is returned, and the results
// of the commands already run stand.
func (c *Conn) Close() error {
	c.mu.Lock()
	shell := c.shell
	c.shell = nil
	retired := c.retired
	c.retired = nil
	c.mu.Unlock()

	for old := range retired {
		c.deleteRetired(old)
	}

	if shell == nil {
		return nil
	}
	defer c.closeTransport()
	err := shell.Close()
	if err == nil {
		return nil
	}
	var fault *FaultError
	if errors.As(ClassifyFault(err), &fault) && fault.Kind == FaultShellNotFound {
		return nil
	}
	return fmt.Errorf("host %s: close WinRM shell: %w; the commands already run are not affected, but the shell stays open on the host until its IdleTimeout (winrm/config/winrs) ends it, and counts toward MaxShellsPerUser until then", c.cfg.Host, err)
}

func (c *Conn) closeTransport() {
	if c.transport != nil {
		_ = c.transport.Close()
	}
}
