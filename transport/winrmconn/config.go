package winrmconn

import (
	"fmt"
	"os"
	"time"

	"patrol/i18n"
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
	Host string
	// Source is the "file:line" of the host's inventory entry, used in
	// messages when set.
	Source  string
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
		Source:           h.Source,
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
			return Config{}, cfg.configError(nil,
				"password_env is missing: name the environment variable that holds the WinRM password",
				"缺少 password_env：请填写存放 WinRM 密码的环境变量名")
		}
		cfg.Password = getenv(h.PasswordEnv)
		if cfg.Password == "" {
			return Config{}, cfg.configError(nil,
				fmt.Sprintf("environment variable %s named by password_env is empty or not set: export the WinRM password in it", h.PasswordEnv),
				fmt.Sprintf("password_env 指定的环境变量 %s 为空或未设置：请在其中导出 WinRM 密码", h.PasswordEnv))
		}
	}

	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	// The client certificate is loaded here as well as in Dial, so a missing
	// or mismatched file is invalid input before anything runs.
	if cfg.Auth == AuthCert {
		if _, _, err := cfg.loadClientCert(); err != nil {
			return Config{}, err
		}
	}
	return cfg, nil
}

// Validate rejects combinations that would send credentials or commands
// unprotected without the host's insecure_http opt-in, and modes the winrm
// library cannot do. It reads no files. Its errors are *ConfigError.
func (c Config) Validate() error {
	switch c.Auth {
	case AuthNTLM:
		// Over HTTP, NTLM message encryption protects the messages.
	case AuthBasic:
		if !c.HTTPS && !c.InsecureHTTP {
			return c.configError(nil,
				"basic authentication over HTTP sends the password in clear text: set tls: true (HTTPS, port 5986), use auth: ntlm, or set insecure_http: true for this host",
				"通过 HTTP 的 basic 认证会以明文发送密码：请设置 tls: true（HTTPS，端口 5986），改用 auth: ntlm，或为该主机设置 insecure_http: true")
		}
	case AuthCert:
		// The client certificate is sent in the TLS handshake, so there is
		// nothing to send over plain HTTP, and insecure_http cannot help.
		if !c.HTTPS {
			return c.configError(nil,
				"certificate authentication needs HTTPS, because the client certificate is sent in the TLS handshake: set tls: true (port 5986); insecure_http does not apply to auth: cert",
				"证书认证必须走 HTTPS，因为客户端证书在 TLS 握手中发送：请设置 tls: true（端口 5986）；insecure_http 对 auth: cert 不起作用")
		}
		if c.CertFile == "" || c.CertKeyFile == "" {
			return c.configError(nil,
				"certificate authentication needs the inventory settings cert_file and cert_key_file (PEM client certificate and key)",
				"证书认证需要清单设置 cert_file 和 cert_key_file（PEM 格式的客户端证书和私钥）")
		}
	default:
		return c.configError(nil,
			fmt.Sprintf("auth %q is not supported over WinRM: use ntlm, basic or cert", c.Auth),
			fmt.Sprintf("WinRM 不支持 auth %q：请使用 ntlm、basic 或 cert", c.Auth))
	}

	if maxChunk := MaxCopyChunkSize(DefaultEnvelopeSize); c.CopyChunkSize < 0 || c.CopyChunkSize > maxChunk {
		return c.configError(nil,
			fmt.Sprintf("copy chunk size %d is out of range: give 0 for the largest (%d bytes) or a smaller positive number of bytes", c.CopyChunkSize, maxChunk),
			fmt.Sprintf("复制分块大小 %d 超出范围：填 0 表示最大值（%d 字节），或填更小的正字节数", c.CopyChunkSize, maxChunk))
	}

	if c.CAFile != "" && !c.HTTPS {
		return c.configError(nil,
			"ca_file is set but tls is false: set tls: true to verify the host's certificate",
			"设置了 ca_file 但 tls 为 false：请设置 tls: true 以校验主机证书")
	}
	return nil
}

// ConfigError is a host's WinRM setting that cannot work, found before any
// request is sent. It carries its message in both languages.
type ConfigError struct {
	Host string
	// Text names the host, the setting and what to do.
	Text i18n.Text
	// Err is the underlying cause, such as a file error, or nil.
	Err error
}

func (e *ConfigError) Error() string { return e.Text.EN }

// Message returns the user-facing text in both languages.
func (e *ConfigError) Message() i18n.Text { return e.Text }

func (e *ConfigError) Unwrap() error { return e.Err }

// configError builds a *ConfigError whose text starts with the host and,
// when known, its inventory source.
func (c Config) configError(cause error, en, zh string) *ConfigError {
	label, labelZH := "host "+c.Host, "主机 "+c.Host
	if c.Source != "" {
		label += " (" + c.Source + ")"
		labelZH += "（" + c.Source + "）"
	}
	return &ConfigError{Host: c.Host, Text: i18n.T(label+": "+en, labelZH+"："+zh), Err: cause}
}
