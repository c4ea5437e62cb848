package winrmconn

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bodgit/ntlmssp"
	"github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"
)

// errLoginRejected marks an NTLM login for which the host returned 401,
// because of a wrong user name or password or an account it does not admit.
var errLoginRejected = errors.New("NTLM login rejected")

// errSealingRejected marks a host that does not agree to NTLM message
// encryption, so no SOAP message may be sent to it over plain HTTP.
var errSealingRejected = errors.New("host did not agree to NTLM message encryption")

// Wire format of NTLM-encrypted WinRM messages over HTTP, as Windows and
// pywinrm write it: a multipart/encrypted body whose part headers start with a tab.
const (
	sealedProtocol    = "application/HTTP-SPNEGO-session-encrypted"
	sealedBoundary    = "--Encrypted Boundary"
	sealedContentType = `multipart/encrypted;protocol="` + sealedProtocol + `";boundary="Encrypted Boundary"`
	sealedOctetStream = "\tContent-Type: application/octet-stream\r\n"
	soapContentType   = "application/soap+xml;charset=UTF-8"
)

// NTLM negotiate flags that sealing needs in the CHALLENGE.
const (
	ntlmFlagSign uint32 = 0x00000010
	ntlmFlagSeal uint32 = 0x00000020
)

// maxErrorText caps the unencrypted error text of a response kept in an error.
const maxErrorText = 512

// maxSealedConnections caps the TCP connections one SealedNTLM keeps to its
// host. The winrm library keeps a Receive request waiting on the host for
// each running command, which the host holds until there is output or
// OperationTimeout passes. The Send and Signal requests of that command go
// over a second connection so that they do not wait behind the Receive, and
// two more serve commands that run at the same time on one Conn.
const maxSealedConnections = 4

// SealedNTLM is a winrm.Transporter for plain HTTP that logs in with NTLM once
// per TCP connection and then sends every SOAP message sealed (encrypted and
// signed) with the NTLM session keys. Unlike the winrm library's Encryption
// transport it never falls back to an unencrypted message: a failed login or a
// host that does not agree to sealing is an error, and a wrong password costs
// one login attempt.
//
// Each connection has its own NTLM login, session keys and sequence numbers,
// and carries one request at a time, because the sealing keys are RC4 streams
// that must advance in the order the host reads messages. Requests that run
// at the same time use up to maxSealedConnections connections.
type SealedNTLM struct {
	user, password string
	dialer         net.Dialer

	// slots holds one token per request in progress, so at most
	// maxSealedConnections connections are open.
	slots chan struct{}

	mu       sync.Mutex
	endpoint string // host:port
	timeout  time.Duration
	// idle lists the logged-in connections not in use, the most recently
	// used last.
	idle []*sealedConn
	// closed is set by Close. Requests after it still work, but their
	// connections are closed when they end instead of kept.
	closed bool
}

// sealedConn is one TCP connection with its NTLM login.
type sealedConn struct {
	conn     net.Conn
	reader   *bufio.Reader
	session  *ntlmssp.SecuritySession
	endpoint string
	timeout  time.Duration
	closed   bool
}

var _ winrm.Transporter = (*SealedNTLM)(nil)

// NewSealedNTLM returns the transport for user and password. connectTimeout
// bounds each TCP connect.
func NewSealedNTLM(user, password string, connectTimeout time.Duration) *SealedNTLM {
	return &SealedNTLM{
		user:     user,
		password: password,
		dialer:   net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second},
		slots:    make(chan struct{}, maxSealedConnections),
	}
}

// Transport stores the endpoint. Endpoint.Timeout bounds each request from
// sending it to reading the whole response.
func (t *SealedNTLM) Transport(e *winrm.Endpoint) error {
	if e.HTTPS {
		return errors.New("NTLM message encryption is for plain HTTP: over HTTPS, TLS already encrypts the messages")
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	t.endpoint = net.JoinHostPort(e.Host, strconv.Itoa(e.Port))
	t.timeout = e.Timeout
	return nil
}

// Post seals message, sends it and returns the unsealed response. A sealed
// response with a status other than 200 is an *HTTPStatusError, which reads
// "http error CODE: TEXT" as the library's transports write it.
func (t *SealedNTLM) Post(_ *winrm.Client, message *soap.SoapMessage) (string, error) {
	t.slots <- struct{}{}
	defer func() { <-t.slots }()

	body := []byte(message.String())
	c, reused := t.takeIdle()
	if c == nil {
		var err error
		if c, err = t.login(); err != nil {
			return "", err
		}
	}

	response, err := c.exchange(body)

	// A connection that sat idle may have been closed by the host before it
	// read the request. Only then is the message sent again, over a new login.
	if err != nil && reused && closedBeforeResponse(err) {
		c.close()
		if c, err = t.login(); err != nil {
			return "", err
		}
		response, err = c.exchange(body)
	}
	var status *HTTPStatusError
	if err != nil && !errors.As(err, &status) {
		c.close()
		return "", err
	}
	// A fault arrives sealed like any response, so the connection and its
	// NTLM session stay usable after it.
	t.putIdle(c)
	return response, err
}

// Close closes the idle connections to the host. Connections in use are
// closed when their request ends.
func (t *SealedNTLM) Close() error {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	t.closed = true
	t.mu.Unlock()

	for _, c := range idle {
		c.close()
	}
	return nil
}

// takeIdle returns the most recently used idle connection, or nil when
// there is none.
func (t *SealedNTLM) takeIdle() (c *sealedConn, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.idle) == 0 {
		return nil, false
	}
	c = t.idle[len(t.idle)-1]
	t.idle = t.idle[:len(t.idle)-1]
	return c, true
}

// putIdle keeps c for the next request, unless the host closed it or the
// transport was closed.
func (t *SealedNTLM) putIdle(c *sealedConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c.closed || t.closed {
		c.close()
		return
	}
	t.idle = append(t.idle, c)
}

// close closes the TCP connection. A later request on c fails with
// net.ErrClosed.
func (c *sealedConn) close() {
	if c.conn != nil && !c.closed {
		_ = c.conn.Close()
	}
	c.closed = true
}

// login connects and runs the NTLM handshake with empty POST requests, as
// WinRM clients do before sending encrypted messages. The handshake stops
// before the AUTHENTICATE message, so before any credential check, when the
// host's CHALLENGE does not offer signing and sealing.
func (t *SealedNTLM) login() (*sealedConn, error) {
	t.mu.Lock()
	c := &sealedConn{endpoint: t.endpoint, timeout: t.timeout}
	t.mu.Unlock()
	if c.endpoint == "" {
		return nil, errors.New("NTLM transport used before Transport set its endpoint")
	}

	conn, err := t.dialer.Dial("tcp", c.endpoint)
	if err != nil {
		return nil, err
	}
	c.conn, c.reader = conn, bufio.NewReader(conn)

	if err := c.handshake(t.user, t.password); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

func (c *sealedConn) handshake(userName, password string) error {
	user, domain := splitNTLMUser(userName)
	client, err := ntlmssp.NewClient(
		ntlmssp.SetUserInfo(user, password),
		ntlmssp.SetDomain(domain),
		ntlmssp.SetVersion(ntlmssp.DefaultVersion()),
	)
	if err != nil {
		return fmt.Errorf("set up NTLM client: %w", err)
	}

	negotiate, err := client.Authenticate(nil, nil)
	if err != nil {
		return fmt.Errorf("build NTLM NEGOTIATE message: %w", err)
	}
	resp, text, err := c.roundTrip(nil, "", "Negotiate "+base64.StdEncoding.EncodeToString(negotiate))
	if err != nil {
		return err
	}
	challenge, err := negotiateToken(resp)
	if err != nil {
		return fmt.Errorf("http error %d: NTLM handshake: %w %s", resp.StatusCode, err, text)
	}
	if err := checkSealingOffered(challenge); err != nil {
		return err
	}

	authenticate, err := client.Authenticate(challenge, nil)
	if err != nil {
		return fmt.Errorf("build NTLM AUTHENTICATE message: %w", err)
	}
	resp, text, err = c.roundTrip(nil, "", "Negotiate "+base64.StdEncoding.EncodeToString(authenticate))
	if err != nil {
		return err
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("http error 401: %w", errLoginRejected)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("http error %d: NTLM handshake: %s", resp.StatusCode, text)
	case client.SecuritySession() == nil:
		return fmt.Errorf("%w: no NTLM session keys after the handshake", errSealingRejected)
	}
	c.session = client.SecuritySession()
	return nil
}

// HTTPStatusError is a response to a sealed message with a status other
// than 200. Body is the unsealed response, usually a SOAP fault.
type HTTPStatusError struct {
	Status int
	Body   string
}

func (e *HTTPStatusError) Error() string {
	return fmt.Sprintf("http error %d: %s", e.Status, e.Body)
}

// exchange sends one sealed message on the logged-in connection and returns
// the unsealed response.
func (c *sealedConn) exchange(message []byte) (string, error) {
	sealed, err := c.seal(message)
	if err != nil {
		return "", err
	}
	resp, text, err := c.roundTrip(sealed, sealedContentType, "")
	if err != nil {
		return "", err
	}

	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/encrypted") {
		// Error responses outside the NTLM session, such as 400 or 413, come
		// unencrypted. Their text is only put in the error, never returned as
		// a SOAP response.
		if resp.StatusCode == http.StatusUnauthorized {
			return "", fmt.Errorf("http error 401: the host ended the NTLM session: %w", errLoginRejected)
		}
		return "", fmt.Errorf("http error %d: unencrypted response to an encrypted request: %s", resp.StatusCode, text)
	}
	plain, err := c.unseal(resp.body)
	if err != nil {
		return "", fmt.Errorf("read encrypted response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", &HTTPStatusError{Status: resp.StatusCode, Body: string(plain)}
	}
	return string(plain), nil
}

// response is an HTTP response with its whole body read.
type response struct {
	*http.Response
	body []byte
}

// roundTrip sends one POST on the current connection and reads the whole
// response. text is the body, cut to maxErrorText, for error messages.
func (c *sealedConn) roundTrip(body []byte, contentType, authorization string) (*response, string, error) {
	req, err := http.NewRequest(http.MethodPost, "http://"+c.endpoint+"/wsman", bytes.NewReader(body))
	if err != nil {
		return nil, "", fmt.Errorf("build WinRM request: %w", err)
	}
	req.Header.Set("User-Agent", "patrol WinRM client")
	if contentType == "" {
		contentType = soapContentType
	}
	req.Header.Set("Content-Type", contentType)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	if body == nil {
		req.ContentLength = 0
		req.Body = http.NoBody
	}

	if c.timeout > 0 {
		_ = c.conn.SetDeadline(time.Now().Add(c.timeout))
	}
	if err := req.Write(c.conn); err != nil {
		return nil, "", err
	}
	resp, err := http.ReadResponse(c.reader, req)
	if err != nil {
		return nil, "", err
	}
	data, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, "", fmt.Errorf("read WinRM response: %w", err)
	}
	if resp.Close {
		// The host closes the connection after this response, which ends the
		// NTLM login, so the connection is not used again.
		c.close()
	}

	text := string(data)
	if len(text) > maxErrorText {
		text = text[:maxErrorText] + "..."
	}
	return &response{Response: resp, body: data}, strings.TrimSpace(text), nil
}

// seal builds the multipart/encrypted body of message.
func (c *sealedConn) seal(message []byte) ([]byte, error) {
	sealed, signature, err := c.session.Wrap(message)
	if err != nil {
		return nil, fmt.Errorf("encrypt WinRM message: %w", err)
	}
	if len(signature) != 16 || (len(message) > 0 && bytes.Equal(sealed, message)) {
		return nil, fmt.Errorf("%w: the NTLM session did not encrypt the message", errSealingRejected)
	}

	var b bytes.Buffer
	b.WriteString(sealedBoundary + "\r\n")
	b.WriteString("\tContent-Type: " + sealedProtocol + "\r\n")
	fmt.Fprintf(&b, "\tOriginalContent: type=%s;Length=%d\r\n", soapContentType, len(message))
	b.WriteString(sealedBoundary + "\r\n")
	b.WriteString(sealedOctetStream)
	b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(signature))))
	b.Write(signature)
	b.Write(sealed)
	b.WriteString(sealedBoundary + "--\r\n")
	return b.Bytes(), nil
}

// unseal decrypts a multipart/encrypted response body and checks its
// signature and sequence number. The sealed bytes are found by the Length in
// OriginalContent, because the ciphertext may contain the boundary.
func (c *sealedConn) unseal(body []byte) ([]byte, error) {
	rest, ok := bytes.CutPrefix(body, []byte(sealedBoundary+"\r\n"))
	if !ok {
		return nil, errors.New("body does not start with the Encrypted Boundary")
	}
	header, rest, ok := bytes.Cut(rest, []byte(sealedBoundary+"\r\n"))
	if !ok {
		return nil, errors.New("body has no encrypted part")
	}
	if !bytes.Contains(header, []byte(sealedProtocol)) {
		return nil, fmt.Errorf("body protocol is not %s", sealedProtocol)
	}
	_, lengthText, ok := bytes.Cut(header, []byte("Length="))
	if !ok {
		return nil, errors.New("body has no OriginalContent Length")
	}
	length, err := strconv.Atoi(string(bytes.TrimSpace(lengthText)))
	if err != nil || length < 0 {
		return nil, fmt.Errorf("OriginalContent Length %q is not a number", bytes.TrimSpace(lengthText))
	}

	rest, ok = bytes.CutPrefix(rest, []byte(sealedOctetStream))
	if !ok {
		return nil, errors.New("encrypted part is not application/octet-stream")
	}
	if len(rest) < 4 {
		return nil, errors.New("body is truncated before the signature")
	}
	signatureLength := int(binary.LittleEndian.Uint32(rest))
	if signatureLength != 16 || len(rest)-4-signatureLength < length {
		return nil, fmt.Errorf("body is truncated: signature length %d, %d bytes for a %d-byte message", signatureLength, len(rest), length)
	}
	signature := rest[4 : 4+signatureLength]
	sealed := rest[4+signatureLength : 4+signatureLength+length]
	if !bytes.HasPrefix(rest[4+signatureLength+length:], []byte(sealedBoundary+"--")) {
		return nil, errors.New("body does not end with the closing Encrypted Boundary")
	}

	message, err := c.session.Unwrap(sealed, signature)
	if err != nil {
		return nil, fmt.Errorf("NTLM signature check failed, so the response was altered or is out of sequence: %w", err)
	}
	return message, nil
}

// negotiateToken returns the NTLM CHALLENGE of a 401 response's
// "WWW-Authenticate: Negotiate TOKEN" header.
func negotiateToken(resp *response) ([]byte, error) {
	if resp.StatusCode != http.StatusUnauthorized {
		return nil, errors.New("expected 401 with an NTLM CHALLENGE")
	}
	for _, value := range resp.Header.Values("WWW-Authenticate") {
		scheme, token, found := strings.Cut(value, " ")
		if !found || !strings.EqualFold(scheme, "Negotiate") && !strings.EqualFold(scheme, "NTLM") {
			continue
		}
		challenge, err := base64.StdEncoding.DecodeString(strings.TrimSpace(token))
		if err != nil {
			return nil, fmt.Errorf("invalid NTLM CHALLENGE token: %w", err)
		}
		return challenge, nil
	}
	return nil, errors.New("the host offers no NTLM CHALLENGE (is NTLM (Negotiate) authentication enabled in the WinRM service?)")
}

// checkSealingOffered reads the negotiate flags of an NTLM CHALLENGE message
// (at byte offset 20) and fails unless they include signing and sealing.
func checkSealingOffered(challenge []byte) error {
	if len(challenge) < 24 || !bytes.HasPrefix(challenge, []byte("NTLMSSP\x00")) || binary.LittleEndian.Uint32(challenge[8:12]) != 2 {
		return errors.New("invalid NTLM CHALLENGE message")
	}
	flags := binary.LittleEndian.Uint32(challenge[20:24])
	if flags&ntlmFlagSign == 0 || flags&ntlmFlagSeal == 0 {
		return fmt.Errorf("%w: its NTLM CHALLENGE does not offer signing and sealing", errSealingRejected)
	}
	return nil
}

// splitNTLMUser splits DOMAIN\user and user@domain into the user and domain
// fields of NTLM.
func splitNTLMUser(name string) (user, domain string) {
	if d, u, found := strings.Cut(name, `\`); found {
		return u, d
	}
	if u, d, found := strings.Cut(name, "@"); found {
		return u, d
	}
	return name, ""
}

// closedBeforeResponse reports whether err shows the host closed the
// connection before sending any of the response.
func closedBeforeResponse(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}
