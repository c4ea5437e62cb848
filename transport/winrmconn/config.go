package winrmconn

import (
	"fmt"
	"os"
	"time"

	"patrol/inventory"
)

// Authentication methods of a WinRM host.
const (
	AuthNTLM  = "ntlm"
	AuthBasic = "basic"
	AuthCert  = "cert"
)

// Defaults for Options fields left zero.
const (
	DefaultConnectTimeout = 10 * time.Second
	// DefaultOperationTimeout is the WS-Management OperationTimeout of each
	// request. A receive request returns after it even while the command
	// still runs, and the client asks again, so it bounds how long a request
	// may wait, not how long a command may run. It also bounds how late a
	// command timeout or cancellation reaches the host, because the winrm
	// library checks for them between receive requests.
	DefaultOperationTimeout = 20 * time.Second
	// DefaultEnvelopeSize is the MaxEnvelopeSize patrol asks for, in bytes:
	// the 500 KB default of Windows Server 2012 R2 and later.
	DefaultEnvelopeSize = 500 * 1024
)

// Options are the run-wide WinRM settings shared by every host.
type Options struct {
	// ConnectTimeout bounds the TCP connect and TLS handshake. Zero means
	// DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// OperationTimeout is the WS-Management operation timeout. Zero means
	// DefaultOperationTimeout.
	OperationTimeout time.Duration
	// Getenv reads the password variables; nil means os.Getenv.
	Getenv func(string) string
}

// Config is everything Dial needs to open one WinRM host.
type Config struct {
	// Host is the inventory name, used in messages.
	Host    string
	Address string
	Port    int
	// HTTPS selects the TLS listener (default port 5986).
	HTTPS bool
	// Auth is AuthNTLM, AuthBasic or AuthCert.
	Auth     string
	User     string
	Password string
	// InsecureHTTP allows Basic authentication and unencrypted NTLM over
	// plain HTTP. The caller prints a warning on every run when it is set.
	InsecureHTTP bool
	// CAFile is a PEM file of CA certificates that replaces the system roots
	// when verifying the host's certificate.
	CAFile string
	// CertFile and CertKeyFile are the PEM client certificate and key of
	// AuthCert.
	CertFile    string
	CertKeyFile string

	ConnectTimeout   time.Duration
	OperationTimeout time.Duration

	// CopyChunkSize is the number of file bytes Put sends in one WinRM Send
	// request. Zero means MaxCopyChunkSize(DefaultEnvelopeSize); Validate
	// rejects larger values, which the host would refuse.
	CopyChunkSize int
}

// ConfigFromHost builds the Config of an inventory host. The password is read
// from the variable named by password_env; auth: cert needs no password and
// uses the host's cert_file and cert_key_file instead.
func ConfigFromHost(h *inventory.Host, opts Options) (Config, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}

	cfg := Config{
		Host:             h.Name,
		Address:          h.Addr(),
		Port:             h.Port,
		HTTPS:            h.TLS,
		Auth:             h.Auth,
		User:             h.User,
		InsecureHTTP:     h.InsecureHTTP,
		CAFile:           h.CAFile,
		CertFile:         h.CertFile,
		CertKeyFile:      h.CertKeyFile,
		ConnectTimeout:   opts.ConnectTimeout,
		OperationTimeout: opts.OperationTimeout,
	}
	if cfg.Auth == "" {
		cfg.Auth = AuthNTLM
	}
	if cfg.Port == 0 {
		cfg.Port = 5985
		if cfg.HTTPS {
			cfg.Port = 5986
		}
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.OperationTimeout == 0 {
		cfg.OperationTimeout = DefaultOperationTimeout
	}

	if cfg.Auth != AuthCert {
		if h.PasswordEnv == "" {
			return Config{}, fmt.Errorf("host %s (%s): password_env is missing: name the environment variable that holds the WinRM password", h.Name, h.Source)
		}
		cfg.Password = getenv(h.PasswordEnv)
		if cfg.Password == "" {
			return Config{}, fmt.Errorf("host %s: environment variable %s named by password_env is empty or not set: export the WinRM password in it", h.Name, h.PasswordEnv)
		}
	}

	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Validate rejects combinations that would send credentials or commands
// unprotected without the host's insecure_http opt-in, and modes the winrm
// library cannot do.
func (c Config) Validate() error {
	switch c.Auth {
	case AuthNTLM:
		// Over HTTP, NTLM message encryption protects the messages.
	case AuthBasic:
		if !c.HTTPS && !c.InsecureHTTP {
			return fmt.Errorf("host %s: basic authentication over HTTP sends the password in clear text: set tls: true (HTTPS, port 5986), use auth: ntlm, or set insecure_http: true for this host", c.Host)
		}
	case AuthCert:
		if !c.HTTPS {
			return fmt.Errorf("host %s: certificate authentication needs HTTPS: set tls: true", c.Host)
		}
		if c.CertFile == "" || c.CertKeyFile == "" {
			return fmt.Errorf("host %s: certificate authentication needs the inventory settings cert_file and cert_key_file (PEM client certificate and key)", c.Host)
		}
	default:
		return fmt.Errorf("host %s: auth %q is not supported over WinRM: use ntlm, basic or cert", c.Host, c.Auth)
	}

	if maxChunk := MaxCopyChunkSize(DefaultEnvelopeSize); c.CopyChunkSize < 0 || c.CopyChunkSize > maxChunk {
		return fmt.Errorf("host %s: copy chunk size %d is out of range: give 0 for the largest (%d bytes) or a smaller positive number of bytes", c.Host, c.CopyChunkSize, maxChunk)
	}

	if c.CAFile != "" && !c.HTTPS {
		return fmt.Errorf("host %s: ca_file is set but tls is false: set tls: true to verify the host's certificate", c.Host)
	}
	return nil
}
