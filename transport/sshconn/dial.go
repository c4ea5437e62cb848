package sshconn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"patrol/transport"
)

// Conn is an open SSH connection to one host, shared by concurrent Run, Put
// and Get calls for the whole run. It implements transport.Connection.
type Conn struct {
	cfg    Config
	client *ssh.Client
	// hops are the jump host connections, outermost first.
	hops []*ssh.Client
	// tcp is the TCP connection to the first hop (the host itself without
	// jump hosts), which carries the traffic of every hop.
	tcp *net.TCPConn

	// sessions holds one token per command session in use.
	sessions chan struct{}

	sftpMu     sync.Mutex
	sftpClient *sftp.Client

	// shellMu is held while a probe runs in shell, the connection's probe
	// shell; nil until the first probe.
	shellMu sync.Mutex
	shell   *probeShell

	sudoMu sync.Mutex
	// sudoNeedsPassword caches, per target user, whether sudo requires a
	// password from this login user.
	sudoNeedsPassword map[string]bool

	closeOnce sync.Once
	// dead is closed when the connection is lost or closed, and deadErr
	// records the cause.
	dead    chan struct{}
	deadErr error
}

var _ transport.Connection = (*Conn)(nil)

// Dial connects to cfg.Addr through cfg.Jumps, verifies every host key and
// logs in. Every failure is a *transport.UnreachableError whose Reason is
// network, timeout, hostkey, negotiation or auth.
func Dial(ctx context.Context, cfg Config) (*Conn, error) {
	if cfg.Logger == nil {
		cfg.Logger = DefaultLogger()
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	c := &Conn{
		cfg:               cfg,
		dead:              make(chan struct{}),
		sessions:          make(chan struct{}, cfg.MaxSessions),
		sudoNeedsPassword: map[string]bool{},
	}

	var previous *ssh.Client
	var previousName string
	for i := range cfg.Jumps {
		hop := cfg.Jumps[i]
		client, netConn, err := dialHop(ctx, previous, previousName, &hop)
		if err != nil {
			c.closeHops()
			return nil, unreachable(cfg.Name, fmt.Errorf("jump host %s: %w", hop.Name, err))
		}
		if i == 0 {
			c.tcp, _ = netConn.(*net.TCPConn)
		}
		c.hops = append(c.hops, client)
		previous, previousName = client, hop.Name
	}

	client, netConn, err := dialHop(ctx, previous, previousName, &c.cfg)
	if err != nil {
		c.closeHops()
		return nil, unreachable(cfg.Name, err)
	}
	if previous == nil {
		c.tcp, _ = netConn.(*net.TCPConn)
	}
	c.client = client
	for _, hop := range append(slices.Clone(cfg.Jumps), cfg) {
		if hop.Legacy {
			// A security finding: this host still needs broken algorithms.
			cfg.Logger.Warn("ssh_legacy enables SHA-1 key exchange and CBC ciphers for this host; upgrade its SSH server",
				"host", hop.Name, "addr", hop.Addr)
		}
	}

	go c.watch()
	if cfg.KeepAlive > 0 {
		go c.keepAlive()
	}
	return c, nil
}

// Close ends the connection and its jump hosts. Commands still running on
// the host get no more output; they are not killed.
func (c *Conn) Close() error {
	c.closeShell()
	c.markDead(errors.New("connection closed"))
	c.sftpMu.Lock()
	if c.sftpClient != nil {
		c.sftpClient.Close()
	}
	c.sftpMu.Unlock()
	err := c.client.Close()
	c.closeHops()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// hopError carries the reason class of a failed hop up to unreachable().
type hopError struct {
	reason string
	err    error
}

func (e *hopError) Error() string { return e.err.Error() }
func (e *hopError) Unwrap() error { return e.err }

func unreachable(host string, err error) error {
	reason := ReasonNetwork
	var hop *hopError
	if errors.As(err, &hop) {
		reason = hop.reason
	}
	return &transport.UnreachableError{Host: host, Reason: reason, Err: err}
}

// dialHop opens the TCP connection (directly or through previous), then runs
// the SSH handshake and login, all within cfg.ConnectTimeout. It returns the
// client and the connection it runs on.
func dialHop(ctx context.Context, previous *ssh.Client, previousName string, cfg *Config) (*ssh.Client, net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()

	netConn, err := dialTCP(ctx, previous, cfg.Addr)
	if err != nil {
		reason := ReasonNetwork
		if ctx.Err() != nil || isTimeout(err) {
			reason = ReasonTimeout
		}
		if previous != nil {
			return nil, nil, &hopError{reason, fmt.Errorf("connect to %s through jump host %s (check AllowTcpForwarding there): %w",
				cfg.Addr, previousName, err)}
		}
		return nil, nil, &hopError{reason, fmt.Errorf("connect to %s: %w", cfg.Addr, err)}
	}

	signers, closeAgent, err := loadSigners(cfg)
	if err != nil {
		netConn.Close()
		return nil, nil, &hopError{ReasonAuth, err}
	}
	defer closeAgent()
	auth := newAuthenticator(cfg, signers)
	hostKeys := &hostKeyChecker{cfg: cfg}
	clientConfig := &ssh.ClientConfig{
		User:              cfg.User,
		AuthCallback:      auth.next,
		HostKeyCallback:   hostKeys.check,
		HostKeyAlgorithms: hostKeyAlgorithms(cfg),
		Config:            algorithms(cfg.Legacy),
	}
	if cfg.Legacy && len(clientConfig.HostKeyAlgorithms) == 0 {
		clientConfig.HostKeyAlgorithms = legacyHostKeyAlgorithms()
	}

	// Channels through a jump host have no deadlines, so the handshake is
	// bounded by closing the connection when ctx ends.
	handshakeDone := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			netConn.Close()
		case <-handshakeDone:
		}
	}()
	sshConn, chans, reqs, err := ssh.NewClientConn(netConn, cfg.Addr, clientConfig)
	close(handshakeDone)
	if err != nil {
		netConn.Close()
		return nil, nil, classifyHandshake(ctx, cfg, clientConfig, hostKeys, auth, err)
	}
	return ssh.NewClient(sshConn, chans, reqs), netConn, nil
}

func dialTCP(ctx context.Context, previous *ssh.Client, addr string) (net.Conn, error) {
	if previous != nil {
		return previous.DialContext(ctx, "tcp", addr)
	}
	dialer := &net.Dialer{KeepAlive: 30 * time.Second}
	return dialer.DialContext(ctx, "tcp", addr)
}

func classifyHandshake(ctx context.Context, cfg *Config, clientConfig *ssh.ClientConfig, hostKeys *hostKeyChecker, auth *authenticator, err error) error {
	if hostKeys.err != nil {
		return &hopError{ReasonHostKey, hostKeys.err}
	}

	var negotiation *ssh.AlgorithmNegotiationError
	if errors.As(err, &negotiation) {
		negErr := &NegotiationError{
			Host:          cfg.Name,
			What:          negotiation.What,
			ServerOffered: negotiation.RequestedAlgorithms,
			ClientOffered: negotiation.SupportedAlgorithms,
			Legacy:        cfg.Legacy,
		}
		if negotiation.What == "host key" && len(clientConfig.HostKeyAlgorithms) > 0 && hostKeyAlgorithms(cfg) != nil {
			// patrol asked only for the key types known_hosts records; a
			// server without them has replaced its keys.
			return &hopError{ReasonHostKey, fmt.Errorf("%w; known_hosts records only %s keys for this host, "+
				"so its keys were replaced: check with the host's administrator and remove the old line",
				negErr, strings.Join(clientConfig.HostKeyAlgorithms, ","))}
		}
		return &hopError{ReasonNegotiation, negErr}
	}

	if authErr := auth.result(err); authErr != nil {
		return &hopError{ReasonAuth, authErr}
	}
	if ctx.Err() != nil {
		return &hopError{ReasonTimeout, fmt.Errorf("ssh handshake with %s did not finish within %s: %w", cfg.Addr, cfg.ConnectTimeout, err)}
	}
	return &hopError{ReasonNetwork, fmt.Errorf("ssh handshake with %s: %w", cfg.Addr, err)}
}

func isTimeout(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout() || errors.Is(err, context.DeadlineExceeded)
}

// watch marks the connection dead when the server or the network ends it.
func (c *Conn) watch() {
	err := c.client.Wait()
	if err == nil {
		err = errors.New("server closed the connection")
	}
	c.markDead(err)
}

// keepAlive sends keepalive@openssh.com requests every interval. When no
// reply arrives within KeepAliveMax intervals it closes the connection, so
// commands waiting on a dead link fail instead of hanging.
func (c *Conn) keepAlive() {
	ticker := time.NewTicker(c.cfg.KeepAlive)
	defer ticker.Stop()
	limit := c.cfg.KeepAlive * time.Duration(max(c.cfg.KeepAliveMax, 1))

	for {
		select {
		case <-c.dead:
			return
		case <-ticker.C:
		}

		replied := make(chan struct{})
		go func() {
			c.client.SendRequest("keepalive@openssh.com", true, nil)
			close(replied)
		}()
		select {
		case <-replied:
		case <-c.dead:
			return
		case <-time.After(limit):
			err := fmt.Errorf("no keepalive reply from %s within %s", c.cfg.Name, limit)
			c.cfg.Logger.Warn("closing dead ssh connection", "host", c.cfg.Name, "error", err)
			c.markDead(err)
			if c.tcp != nil {
				// Closing with a reset drops the data still queued. Else the
				// kernel sends it (up to megabytes of a file copy) once the
				// link returns, to a session patrol has given up on, and it
				// competes with the next connection for the link.
				c.tcp.SetLinger(0)
			}
			c.client.Close()
			c.closeHops()
			return
		}
	}
}

func (c *Conn) markDead(err error) {
	c.closeOnce.Do(func() {
		c.deadErr = err
		close(c.dead)
	})
}

// lostError returns the error for a command cut off by a lost connection.
func (c *Conn) lostError(err error) error {
	select {
	case <-c.dead:
		err = fmt.Errorf("connection lost: %w (%v)", c.deadErr, err)
	default:
	}
	return &transport.UnreachableError{Host: c.cfg.Name, Reason: ReasonNetwork, Err: err}
}

func (c *Conn) closeHops() {
	for _, hop := range slices.Backward(c.hops) {
		hop.Close()
	}
}
