package bench

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"patrol/internal/loopback"
)

// SSHDPath is the OpenSSH server binary the benchmark starts.
const SSHDPath = "/usr/sbin/sshd"

// Server is one benchmark sshd: its own process, port, host key and HOME.
type Server struct {
	// Name is the inventory name, such as "h007".
	Name string
	// Port is the TCP port on 127.0.0.1.
	Port int
	// Dir holds the server's config, host key, PID file and log. It is also
	// the HOME of remote commands, so no shell start-up file runs.
	Dir string
	// HostKey is the server's public host key.
	HostKey ssh.PublicKey

	cmd  *exec.Cmd
	done chan struct{}
}

// KnownHostsLine returns the "[127.0.0.1]:port" known_hosts line of the
// server, the form both OpenSSH and patrol look up for ports other than 22.
func (s *Server) KnownHostsLine() string {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
	return knownhosts.Line([]string{knownhosts.Normalize(addr)}, s.HostKey)
}

// Cluster is a set of running servers sharing one authorized client key.
type Cluster struct {
	Servers []*Server
	// ClientKeyPath is an unencrypted ed25519 private key authorized on every
	// server for the current user.
	ClientKeyPath string
	// KnownHostsPath lists every server's host key.
	KnownHostsPath string

	mu      sync.Mutex
	stopped bool
}

// StartCluster starts n sshd processes on 127.0.0.1, each listening on its
// own port. Any server already started is stopped again when one fails.
func StartCluster(ctx context.Context, dir string, n int) (*Cluster, error) {
	if _, err := os.Stat(SSHDPath); err != nil {
		return nil, fmt.Errorf("%s not found: install openssh-server (make test-deps does)", SSHDPath)
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("the benchmark logs in as root on its own sshd servers, so it must run as root")
	}
	// Debian's sshd needs its privilege separation directory, which the
	// service unit normally creates at boot.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return nil, fmt.Errorf("create /run/sshd: %w", err)
	}

	c := &Cluster{
		ClientKeyPath:  filepath.Join(dir, "client_key"),
		KnownHostsPath: filepath.Join(dir, "known_hosts"),
	}
	authorizedKeys := filepath.Join(dir, "authorized_keys")
	if err := writeClientKey(c.ClientKeyPath, authorizedKeys); err != nil {
		return nil, err
	}

	ports, err := loopback.FreePorts(n)
	if err != nil {
		return nil, err
	}
	for i, port := range ports {
		s := &Server{Name: fmt.Sprintf("h%03d", i+1), Port: port, Dir: filepath.Join(dir, "sshd", fmt.Sprintf("h%03d", i+1))}
		c.Servers = append(c.Servers, s)
	}

	if err := c.startAll(ctx, authorizedKeys); err != nil {
		c.Stop()
		return nil, err
	}

	var lines strings.Builder
	for _, s := range c.Servers {
		lines.WriteString(s.KnownHostsLine())
		lines.WriteString("\n")
	}
	if err := os.WriteFile(c.KnownHostsPath, []byte(lines.String()), 0o600); err != nil {
		c.Stop()
		return nil, fmt.Errorf("write known_hosts: %w", err)
	}
	return c, nil
}

// startAll starts every server, a few at a time, and waits for their banners.
func (c *Cluster) startAll(ctx context.Context, authorizedKeys string) error {
	const parallel = 16
	slots := make(chan struct{}, parallel)
	errs := make(chan error, len(c.Servers))
	var wg sync.WaitGroup
	for _, s := range c.Servers {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			errs <- c.startOne(ctx, s, authorizedKeys)
		}()
	}
	wg.Wait()
	close(errs)
	return errors.Join(collect(errs)...)
}

// startOne writes one server's files and starts its sshd. The process is
// recorded in the cluster under its lock, so Stop finds every started PID.
func (c *Cluster) startOne(ctx context.Context, s *Server, authorizedKeys string) error {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", s.Dir, err)
	}
	keyPath := filepath.Join(s.Dir, "ssh_host_ed25519_key")
	hostKey, err := writeHostKey(keyPath)
	if err != nil {
		return err
	}
	s.HostKey = hostKey
	configPath := filepath.Join(s.Dir, "sshd_config")
	if err := os.WriteFile(configPath, []byte(sshdConfig(s, keyPath, authorizedKeys)), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", configPath, err)
	}
	logPath := filepath.Join(s.Dir, "sshd.log")

	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return errors.New("benchmark stopped")
	}
	cmd := exec.Command(SSHDPath, "-D", "-f", configPath, "-E", logPath)
	// Its own process group keeps a terminal's Ctrl-C away from sshd, so the
	// benchmark stops it by PID in order. Pdeathsig ends it should the
	// benchmark itself be killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	err = cmd.Start()
	if err == nil {
		s.cmd = cmd
		s.done = make(chan struct{})
		go func() {
			cmd.Wait()
			close(s.done)
		}()
	}
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("run %s for %s: %w", SSHDPath, s.Name, err)
	}

	deadline := time.Now().Add(15 * time.Second)
	if err := loopback.WaitForSSH(ctx, s.Port, deadline, s.done); err != nil {
		log, _ := os.ReadFile(logPath)
		return fmt.Errorf("sshd %s on port %d did not start: %w; log:\n%s", s.Name, s.Port, err, log)
	}
	return nil
}

// Stop ends every sshd the cluster started, by PID: SIGTERM, then SIGKILL
// after five seconds. Sessions still open keep their own sshd children until
// their clients close them. Stop may be called more than once.
func (c *Cluster) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	for _, s := range c.Servers {
		if s.cmd != nil {
			s.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	deadline := time.After(5 * time.Second)
	for _, s := range c.Servers {
		if s.cmd == nil {
			continue
		}
		select {
		case <-s.done:
		case <-deadline:
			s.cmd.Process.Kill()
			<-s.done
		}
		s.cmd = nil
	}
}

// PIDs returns the PIDs of the listening sshd processes.
func (c *Cluster) PIDs() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var pids []int
	for _, s := range c.Servers {
		if s.cmd != nil {
			pids = append(pids, s.cmd.Process.Pid)
		}
	}
	return pids
}

// sshdConfig is the configuration of one benchmark server. Logins are by
// public key only, without PAM, and each server gets a HOME without dot
// files: root's own start-up files (pyenv init and the like) would otherwise
// add their CPU time to every remote command, and the benchmark would
// measure a shell instead of the tools.
func sshdConfig(s *Server, keyPath, authorizedKeys string) string {
	lines := []string{
		"ListenAddress 127.0.0.1:" + strconv.Itoa(s.Port),
		"HostKey " + keyPath,
		"PidFile " + filepath.Join(s.Dir, "sshd.pid"),
		"AuthorizedKeysFile " + authorizedKeys,
		"SetEnv HOME=" + s.Dir,
		"PermitRootLogin prohibit-password",
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"UsePAM no",
		"StrictModes no",
		"PrintMotd no",
		"PrintLastLog no",
		"X11Forwarding no",
		"AllowTcpForwarding no",
		"Subsystem sftp " + sftpServer(),
		"UseDNS no",
		// Ansible's ControlMaster and patrol open many sessions on one
		// connection, and the floor opens up to 50 connections at once.
		"MaxStartups 200:30:400",
		"MaxSessions 64",
		"LogLevel INFO",
	}
	return strings.Join(lines, "\n") + "\n"
}

// sftpServerPath is Debian's OpenSSH SFTP server (package
// openssh-sftp-server), a separate program as on the hosts patrol serves.
const sftpServerPath = "/usr/lib/openssh/sftp-server"

// sftpServer returns the sftp Subsystem command: sftpServerPath, or sshd's
// built-in internal-sftp where that is not installed.
func sftpServer() string {
	if _, err := os.Stat(sftpServerPath); err == nil {
		return sftpServerPath
	}
	return "internal-sftp"
}

func collect(errs <-chan error) []error {
	var out []error
	for err := range errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

func writeHostKey(path string) (ssh.PublicKey, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate host key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(key, "patrol-bench host key")
	if err != nil {
		return nil, fmt.Errorf("marshal host key: %w", err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, fmt.Errorf("write host key %s: %w", path, err)
	}
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		return nil, fmt.Errorf("load host key: %w", err)
	}
	return signer.PublicKey(), nil
}

func writeClientKey(path, authorizedKeysPath string) error {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate client key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(key, "patrol-bench client key")
	if err != nil {
		return fmt.Errorf("marshal client key: %w", err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return fmt.Errorf("write client key %s: %w", path, err)
	}
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		return fmt.Errorf("load client key: %w", err)
	}
	if err := os.WriteFile(authorizedKeysPath, ssh.MarshalAuthorizedKey(signer.PublicKey()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", authorizedKeysPath, err)
	}
	return nil
}
