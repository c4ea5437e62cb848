// Package sshconn is the SSH implementation of transport.Connection: one SSH
// connection per host (optionally through a chain of jump hosts), a session per
// command, and SFTP over the same connection for file copies.
//
// Host keys are verified against known_hosts files by default. Authentication
// makes at most one attempt per method so that a wrong password cannot lock an
// account. Legacy algorithms are enabled only for hosts marked ssh_legacy.
// The package must not import the playbooks or runner packages.
package sshconn

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"patrol/inventory"
)

// Defaults for Options fields left zero.
const (
	DefaultConnectTimeout = 10 * time.Second
	DefaultKeepAlive      = 15 * time.Second
	DefaultKeepAliveMax   = 3
	// DefaultMaxSessions stays under OpenSSH's default MaxSessions of 10,
	// leaving room for the SFTP session and the session that kills a
	// timed-out command.
	DefaultMaxSessions = 8
)

// Options are the run-wide SSH settings shared by every host.
type Options struct {
	// ConnectTimeout bounds the TCP connect plus the SSH handshake and login of
	// each hop. Zero means DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// KeepAlive is the interval between keepalive@openssh.com requests; zero
	// means DefaultKeepAlive and a negative value turns keepalives off.
	KeepAlive time.Duration
	// KeepAliveMax is how many intervals may pass without a keepalive reply
	// before the connection counts as dead. Zero means DefaultKeepAliveMax.
	KeepAliveMax int
	// MaxSessions bounds the commands running at once on one connection;
	// more wait for a free session. Zero means DefaultMaxSessions.
	MaxSessions int
	// AcceptNewHostKeys records the key of a host missing from every
	// known_hosts file instead of rejecting the host. A changed key is still
	// rejected.
	AcceptNewHostKeys bool
	// KnownHostsFiles are checked in order; new keys are recorded in the first.
	// Empty means DefaultKnownHostsFiles().
	KnownHostsFiles []string
	// PassphrasePrompt prompts for the passphrase of an encrypted key file when
	// the host names no key_passphrase_env. Nil means encrypted keys without a
	// passphrase variable fail.
	PassphrasePrompt func(keyFile string) ([]byte, error)
	// ResolveJump looks up an inventory host by name for `jump:` entries.
	ResolveJump func(name string) (*inventory.Host, bool)
	// Logger receives connection events; nil means slog.Default().
	Logger *slog.Logger
}

// Secret is a string that prints as "[redacted]" so that a Config can be
// logged without leaking it.
type Secret string

// String hides the secret.
func (Secret) String() string { return "[redacted]" }

// GoString hides the secret from %#v.
func (Secret) GoString() string { return "[redacted]" }

// Config is everything Dial needs for one host. Build it with ConfigFromHost.
type Config struct {
	// Name is the inventory name, used in messages.
	Name string
	// Addr is the "host:port" to dial.
	Addr string
	// User is the login user.
	User string

	// KeyFiles are private keys for public-key authentication, in order.
	KeyFiles []string
	// KeyFileExplicit is true when KeyFiles came from key_file, so a key that
	// cannot be loaded is an error instead of being skipped.
	KeyFileExplicit bool
	// Passphrase returns the passphrase of an encrypted key file; nil means
	// encrypted keys cannot be used.
	Passphrase func(keyFile string) ([]byte, error)
	// UseAgent offers the keys of the ssh-agent at $SSH_AUTH_SOCK.
	UseAgent bool
	// Password is used for password and keyboard-interactive authentication.
	Password Secret

	// KnownHostsFiles are checked for the host key; RecordFile receives new
	// keys when AcceptNewHostKeys is set.
	KnownHostsFiles   []string
	RecordFile        string
	AcceptNewHostKeys bool

	// Legacy appends the older algorithms of legacyAlgorithms for this host.
	Legacy bool

	ConnectTimeout time.Duration
	KeepAlive      time.Duration
	KeepAliveMax   int
	MaxSessions    int

	// Jumps are the bastions to pass through, outermost first. Each has its
	// own credentials and host key check, and no Jumps of its own.
	Jumps []Config

	Logger *slog.Logger
}

// DefaultKnownHostsFiles returns patrol's own known_hosts
// ($PATROL_HOME/known_hosts, else ~/.patrol/known_hosts) followed by
// ~/.ssh/known_hosts.
func DefaultKnownHostsFiles() []string {
	home, _ := os.UserHomeDir()
	own := filepath.Join(home, ".patrol", "known_hosts")
	if dir := os.Getenv("PATROL_HOME"); dir != "" {
		own = filepath.Join(dir, "known_hosts")
	}
	return []string{own, filepath.Join(home, ".ssh", "known_hosts")}
}

// ConfigFromHost builds the dial settings of h. It reads the password and key
// passphrase variables now, so that a missing variable fails before any host
// is contacted, and resolves `jump:` entries through opts.ResolveJump.
func ConfigFromHost(h *inventory.Host, opts Options) (Config, error) {
	return configFromHost(h, opts, map[string]bool{})
}

func configFromHost(h *inventory.Host, opts Options, visiting map[string]bool) (Config, error) {
	if h.Connection != "" && h.Connection != inventory.ConnSSH {
		return Config{}, fmt.Errorf("host %s: connection is %q, not ssh", h.Name, h.Connection)
	}
	if visiting[h.Name] {
		return Config{}, fmt.Errorf("host %s: jump hosts form a loop; check the jump lists of the hosts involved", h.Name)
	}
	visiting[h.Name] = true
	defer delete(visiting, h.Name)

	cfg := Config{
		Name:              h.Name,
		Addr:              net.JoinHostPort(h.Addr(), strconv.Itoa(portOrDefault(h.Port))),
		Legacy:            h.SSHLegacy,
		AcceptNewHostKeys: opts.AcceptNewHostKeys,
		ConnectTimeout:    durationOr(opts.ConnectTimeout, DefaultConnectTimeout),
		KeepAlive:         durationOr(opts.KeepAlive, DefaultKeepAlive),
		KeepAliveMax:      opts.KeepAliveMax,
		UseAgent:          h.Agent == nil || *h.Agent,
		Logger:            opts.Logger,
	}
	if cfg.KeepAliveMax <= 0 {
		cfg.KeepAliveMax = DefaultKeepAliveMax
	}
	cfg.MaxSessions = opts.MaxSessions
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}

	var err error
	if cfg.User, err = loginUser(h.User); err != nil {
		return Config{}, fmt.Errorf("host %s: %w", h.Name, err)
	}
	if err := setCredentials(&cfg, h, opts); err != nil {
		return Config{}, fmt.Errorf("host %s: %w", h.Name, err)
	}
	setKnownHosts(&cfg, h, opts)

	for _, spec := range h.Jump {
		hops, err := jumpConfigs(spec, cfg, opts, visiting)
		if err != nil {
			return Config{}, fmt.Errorf("host %s: jump %q: %w", h.Name, spec, err)
		}
		cfg.Jumps = append(cfg.Jumps, hops...)
	}
	return cfg, nil
}

func setCredentials(cfg *Config, h *inventory.Host, opts Options) error {
	if h.PasswordEnv != "" {
		password, ok := os.LookupEnv(h.PasswordEnv)
		if !ok || password == "" {
			return fmt.Errorf("password_env %s is not set; export it before the run or remove password_env", h.PasswordEnv)
		}
		cfg.Password = Secret(password)
	}

	if h.KeyFile != "" {
		path, err := expandHome(h.KeyFile)
		if err != nil {
			return err
		}
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("key_file: %w", err)
		}
		cfg.KeyFiles = []string{path}
		cfg.KeyFileExplicit = true
	} else {
		cfg.KeyFiles = defaultKeyFiles()
	}

	switch {
	case h.KeyPassphraseEnv != "":
		passphrase, ok := os.LookupEnv(h.KeyPassphraseEnv)
		if !ok {
			return fmt.Errorf("key_passphrase_env %s is not set; export it before the run", h.KeyPassphraseEnv)
		}
		cfg.Passphrase = func(string) ([]byte, error) { return []byte(passphrase), nil }
	case opts.PassphrasePrompt != nil:
		cfg.Passphrase = opts.PassphrasePrompt
	}
	return nil
}

func setKnownHosts(cfg *Config, h *inventory.Host, opts Options) {
	files := opts.KnownHostsFiles
	if h.KnownHostsFile != "" {
		if path, err := expandHome(h.KnownHostsFile); err == nil {
			files = []string{path}
		}
	}
	if len(files) == 0 {
		files = DefaultKnownHostsFiles()
	}
	cfg.KnownHostsFiles = files
	cfg.RecordFile = files[0]
}

// jumpConfigs turns one `jump:` entry into hops. An inventory name brings the
// bastion's own jump chain first. Any other entry is [user@]address[:port],
// and that hop uses the target's key files and agent but not its password.
func jumpConfigs(spec string, target Config, opts Options, visiting map[string]bool) ([]Config, error) {
	if opts.ResolveJump != nil {
		if h, ok := opts.ResolveJump(spec); ok {
			hop, err := configFromHost(h, opts, visiting)
			if err != nil {
				return nil, err
			}
			hops := hop.Jumps
			hop.Jumps = nil
			return append(hops, hop), nil
		}
	}

	userName, hostPort, found := strings.Cut(spec, "@")
	if !found {
		userName, hostPort = target.User, spec
	}
	host, port := hostPort, "22"
	if h, p, err := net.SplitHostPort(hostPort); err == nil {
		host, port = h, p
	}
	if host == "" || userName == "" {
		return nil, errors.New("not an inventory host and not in the form [user@]address[:port]")
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return nil, fmt.Errorf("invalid port %q", port)
	}

	hop := target
	hop.Name = spec
	hop.Addr = net.JoinHostPort(host, port)
	hop.User = userName
	hop.Password = ""
	hop.Legacy = false
	hop.Jumps = nil
	return []Config{hop}, nil
}

func loginUser(name string) (string, error) {
	if name != "" {
		return name, nil
	}
	current, err := user.Current()
	if err != nil {
		return "", fmt.Errorf("no user set and the current user is unknown: %w; set user on the host", err)
	}
	return current.Username, nil
}

// defaultKeyFiles lists the identity files OpenSSH tries by default that exist.
func defaultKeyFiles() []string {
	home, err := os.UserHomeDir()
	if err != nil {
		return nil
	}
	var files []string
	for _, name := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
		path := filepath.Join(home, ".ssh", name)
		if _, err := os.Stat(path); err == nil {
			files = append(files, path)
		}
	}
	return files
}

func expandHome(path string) (string, error) {
	if path != "~" && !strings.HasPrefix(path, "~/") {
		return path, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("expand %s: %w", path, err)
	}
	return filepath.Join(home, strings.TrimPrefix(path, "~")), nil
}

func portOrDefault(port int) int {
	if port == 0 {
		return 22
	}
	return port
}

func durationOr(d, fallback time.Duration) time.Duration {
	if d == 0 {
		return fallback
	}
	return d
}
