// Package sshtest starts real OpenSSH servers (/usr/sbin/sshd) on 127.0.0.1 for
// tests, with throwaway host keys and a throwaway client key authorized for the
// user running the tests. Every server is stopped by its PID when the test ends.
//
// Tests run as root, and the servers let root log in with the client key.
// Password tests need an account with a known password. PasswordUser creates
// the local user "patrol-test" (useradd, chpasswd) the first time it runs on a
// machine, with a sudoers drop-in that lets that user run commands as "nobody"
// after giving its password. Both stay in place for later runs.
//
// The package must not be imported by non-test code.
package sshtest

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"patrol/internal/loopback"
)

// SSHDPath is the OpenSSH server binary the harness runs.
const SSHDPath = "/usr/sbin/sshd"

// maxListenersPerSSHD is OpenSSH's MAX_LISTEN_SOCKS: one sshd listens on at
// most 16 addresses, so StartMany groups ports 16 to a process.
const maxListenersPerSSHD = 16

// Options configure a test server. The zero value is an sshd with an ed25519
// host key that accepts only the client key.
type Options struct {
	// RSAHostKey gives the server an RSA host key instead of ed25519.
	RSAHostKey bool
	// PasswordAuth enables PasswordAuthentication (checked against /etc/shadow).
	PasswordAuth bool
	// KeyboardInteractiveOnly makes keyboard-interactive (through PAM) the only
	// method the server accepts, like hardened hosts and appliances.
	KeyboardInteractiveOnly bool
	// KexAlgorithms, Ciphers, MACs and HostKeyAlgorithms, when set, replace the
	// server's algorithm lists, to stand in for a legacy server.
	KexAlgorithms     string
	Ciphers           string
	MACs              string
	HostKeyAlgorithms string
	// MaxAuthTries sets sshd's MaxAuthTries; zero keeps sshd's default of 6.
	MaxAuthTries int
	// AllowTCPForwarding lets clients open direct-tcpip channels, for jump hosts.
	AllowTCPForwarding bool
	// ExtraConfig lines go first in the generated sshd_config, so they
	// override the harness's settings (sshd keeps a keyword's first value).
	ExtraConfig []string
}

// Server is one running test sshd endpoint.
type Server struct {
	// Host is always 127.0.0.1; Port the TCP port; Addr is "127.0.0.1:port".
	Host string
	Port int
	Addr string
	// HostKey is the server's public host key; HostKeyPath its private key file.
	HostKey     ssh.PublicKey
	HostKeyPath string
	// ClientKeyPath is an unencrypted private key authorized for every user;
	// ClientSigner is the same key, loaded.
	ClientKeyPath string
	ClientSigner  ssh.Signer
	// Dir is the server's private directory (config, keys, log).
	Dir string
	// LogPath is sshd's log file (-E), written at LogLevel VERBOSE.
	LogPath string

	proc *process
}

// process is one sshd process; with StartMany several Servers share it.
type process struct {
	mu      sync.Mutex
	t       testing.TB
	opts    Options
	dir     string
	ports   []int
	keyPath string
	hostKey ssh.PublicKey
	cmd     *exec.Cmd
	done    chan struct{}
}

// Start starts one sshd for the test and stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	servers := startProcess(t, opts, 1)
	return servers[0]
}

// StartMany starts n endpoints for tests of many hosts. Because one sshd
// listens on at most 16 ports, endpoints are grouped 16 to a process. The
// endpoints of a group share the host key, the log and RestartWithNewHostKey.
func StartMany(t testing.TB, n int, opts Options) []*Server {
	t.Helper()
	var all []*Server
	for len(all) < n {
		size := min(n-len(all), maxListenersPerSSHD)
		all = append(all, startProcess(t, opts, size)...)
	}
	return all
}

// Stop ends the server's sshd now, so that its port refuses connections. With
// StartMany it stops every endpoint of the server's group.
func (s *Server) Stop() {
	s.proc.mu.Lock()
	defer s.proc.mu.Unlock()
	s.proc.stop()
}

// KnownHostsLine returns a plain known_hosts line for the server, in the
// "[127.0.0.1]:port" form OpenSSH uses for ports other than 22.
func (s *Server) KnownHostsLine() string {
	return knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, s.currentHostKey())
}

// Log returns the server log so far.
func (s *Server) Log() string {
	data, err := os.ReadFile(s.LogPath)
	if err != nil {
		return ""
	}
	return string(data)
}

// CountLog counts the log lines that contain substr, such as "Failed password".
func (s *Server) CountLog(substr string) int {
	count := 0
	scanner := bufio.NewScanner(strings.NewReader(s.Log()))
	for scanner.Scan() {
		if strings.Contains(scanner.Text(), substr) {
			count++
		}
	}
	return count
}

// RestartWithNewHostKey stops the server, gives it a freshly generated host
// key of the same type and starts it again on the same port, as after a
// reinstall. It updates HostKey.
func (s *Server) RestartWithNewHostKey(t testing.TB) {
	t.Helper()
	p := s.proc
	p.mu.Lock()
	defer p.mu.Unlock()

	p.stop()
	hostKey, err := writeHostKey(p.keyPath, p.opts.RSAHostKey)
	if err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	p.hostKey = hostKey
	s.HostKey = hostKey
	if err := p.start(); err != nil {
		t.Fatalf("sshtest: restart sshd: %v", err)
	}
}

// PID returns the PID of the listening sshd process.
func (s *Server) PID() int {
	s.proc.mu.Lock()
	defer s.proc.mu.Unlock()
	return s.proc.cmd.Process.Pid
}

func (s *Server) currentHostKey() ssh.PublicKey {
	s.proc.mu.Lock()
	defer s.proc.mu.Unlock()
	return s.proc.hostKey
}

func startProcess(t testing.TB, opts Options, nports int) []*Server {
	t.Helper()
	requireSSHD(t)

	dir, err := os.MkdirTemp("", "sshtest-")
	if err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// Other users (the password test account) must read authorized_keys.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("sshtest: %v", err)
	}

	// Debian's sshd needs its privilege separation directory, which the
	// service unit normally creates at boot.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatalf("sshtest: %v", err)
	}

	p := &process{t: t, opts: opts, dir: dir, keyPath: filepath.Join(dir, "ssh_host_key")}
	p.hostKey, err = writeHostKey(p.keyPath, opts.RSAHostKey)
	if err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	clientKeyPath := filepath.Join(dir, "client_key")
	signer, err := writeClientKey(clientKeyPath, filepath.Join(dir, "authorized_keys"))
	if err != nil {
		t.Fatalf("sshtest: %v", err)
	}

	// A port found free can be taken before sshd binds it; try fresh ports then.
	for attempt := 0; ; attempt++ {
		p.ports, err = loopback.FreePorts(nports)
		if err != nil {
			t.Fatalf("sshtest: %v", err)
		}
		err = p.start()
		if err == nil {
			break
		}
		if attempt == 3 {
			t.Fatalf("sshtest: start sshd: %v", err)
		}
	}
	t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.stop()
	})

	servers := make([]*Server, len(p.ports))
	for i, port := range p.ports {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		servers[i] = &Server{
			Host:          "127.0.0.1",
			Port:          port,
			Addr:          addr,
			HostKey:       p.hostKey,
			HostKeyPath:   p.keyPath,
			ClientKeyPath: clientKeyPath,
			ClientSigner:  signer,
			Dir:           dir,
			LogPath:       filepath.Join(dir, "sshd.log"),
			proc:          p,
		}
	}
	return servers
}

// start writes the config and runs sshd until all its ports accept SSH.
func (p *process) start() error {
	configPath := filepath.Join(p.dir, "sshd_config")
	if err := os.WriteFile(configPath, []byte(p.config()), 0o600); err != nil {
		return err
	}
	logPath := filepath.Join(p.dir, "sshd.log")

	cmd := exec.Command(SSHDPath, "-D", "-e", "-f", configPath, "-E", logPath)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", SSHDPath, err)
	}
	p.cmd = cmd
	p.done = make(chan struct{})
	go func(done chan struct{}) {
		cmd.Wait()
		close(done)
	}(p.done)

	deadline := time.Now().Add(10 * time.Second)
	for _, port := range p.ports {
		if err := loopback.WaitForSSH(context.Background(), port, deadline, p.done); err != nil {
			p.stop()
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("sshd on port %d did not start: %w; log:\n%s", port, err, log)
		}
	}
	return nil
}

// stop ends the listening sshd by its PID. Sessions already open keep their
// own sshd processes until the client closes them.
func (p *process) stop() {
	if p.cmd == nil {
		return
	}
	select {
	case <-p.done:
	default:
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
	}
	p.cmd = nil
}

func (p *process) config() string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	// sshd keeps the first value of each keyword, so extra lines come first
	// and override the defaults below.
	for _, extra := range p.opts.ExtraConfig {
		line("%s", extra)
	}
	for _, port := range p.ports {
		line("ListenAddress 127.0.0.1:%d", port)
	}
	line("HostKey %s", p.keyPath)
	line("PidFile %s", filepath.Join(p.dir, "sshd.pid"))
	line("AuthorizedKeysFile %s", filepath.Join(p.dir, "authorized_keys"))
	line("PermitRootLogin yes")
	line("StrictModes no")
	line("LogLevel VERBOSE")
	line("PrintMotd no")
	line("PrintLastLog no")
	line("Subsystem sftp internal-sftp")
	// A HOME without dot files keeps root's shell start-up files (pyenv and
	// the like) out of every command the tests run.
	line("SetEnv HOME=%s", p.dir)
	line("MaxStartups 400:30:800")
	line("MaxSessions 200")
	if p.opts.MaxAuthTries > 0 {
		line("MaxAuthTries %d", p.opts.MaxAuthTries)
	}
	line("AllowTcpForwarding %s", yesNo(p.opts.AllowTCPForwarding))

	if p.opts.KeyboardInteractiveOnly {
		// Without PAM this sshd has no keyboard-interactive device.
		line("UsePAM yes")
		line("PasswordAuthentication no")
		line("KbdInteractiveAuthentication yes")
		line("PubkeyAuthentication no")
		line("AuthenticationMethods keyboard-interactive")
	} else {
		line("UsePAM no")
		line("PasswordAuthentication %s", yesNo(p.opts.PasswordAuth))
		line("KbdInteractiveAuthentication no")
		line("PubkeyAuthentication yes")
	}

	if p.opts.KexAlgorithms != "" {
		line("KexAlgorithms %s", p.opts.KexAlgorithms)
	}
	if p.opts.Ciphers != "" {
		line("Ciphers %s", p.opts.Ciphers)
	}
	if p.opts.MACs != "" {
		line("MACs %s", p.opts.MACs)
	}
	if p.opts.HostKeyAlgorithms != "" {
		line("HostKeyAlgorithms %s", p.opts.HostKeyAlgorithms)
	}
	return b.String()
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

// requireSSHD fails the test under CI, and skips it elsewhere, when sshd or
// root privileges are missing.
func requireSSHD(t testing.TB) {
	t.Helper()
	var problem string
	if _, err := os.Stat(SSHDPath); err != nil {
		problem = fmt.Sprintf("%s not found (install openssh-server)", SSHDPath)
	} else if os.Geteuid() != 0 {
		problem = "sshd tests must run as root"
	}
	if problem == "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("sshtest: %s", problem)
	}
	t.Skipf("sshtest: %s", problem)
}

func writeHostKey(path string, useRSA bool) (ssh.PublicKey, error) {
	var private any
	if useRSA {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("generate RSA host key: %w", err)
		}
		private = key
	} else {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate ed25519 host key: %w", err)
		}
		private = key
	}
	block, err := ssh.MarshalPrivateKey(private, "sshtest host key")
	if err != nil {
		return nil, fmt.Errorf("marshal host key: %w", err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, fmt.Errorf("write host key: %w", err)
	}
	signer, err := ssh.NewSignerFromKey(private)
	if err != nil {
		return nil, fmt.Errorf("load host key: %w", err)
	}
	return signer.PublicKey(), nil
}

func writeClientKey(path, authorizedKeysPath string) (ssh.Signer, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate client key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(key, "sshtest client key")
	if err != nil {
		return nil, fmt.Errorf("marshal client key: %w", err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, fmt.Errorf("write client key: %w", err)
	}
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		return nil, fmt.Errorf("load client key: %w", err)
	}
	authorized := ssh.MarshalAuthorizedKey(signer.PublicKey())
	if err := os.WriteFile(authorizedKeysPath, authorized, 0o644); err != nil {
		return nil, fmt.Errorf("write authorized_keys: %w", err)
	}
	return signer, nil
}
