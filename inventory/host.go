// Package inventory loads the hosts patrol manages, their groups, variables and
// connection settings, and selects hosts with --limit patterns. It knows nothing of
// playbooks, runs or transports.
package inventory

// Connection kinds a host may use.
const (
	ConnSSH   = "ssh"
	ConnWinRM = "winrm"
	ConnLocal = "local"
)

// Host is one inventory entry with its connection settings and merged variables.
type Host struct {
	// Name is the inventory name, used in patterns, messages and reports.
	Name string `json:"name"`
	// Address is the DNS name or IP to connect to; empty means Name.
	Address string `json:"address,omitempty"`
	// Port is the TCP port; zero means the connection's default (22, 5985/5986).
	Port int `json:"port,omitempty"`
	// Connection is ssh, winrm or local.
	Connection string `json:"connection"`
	// User is the login user.
	User string `json:"user,omitempty"`

	// KeyFile is a private key for SSH public-key authentication.
	KeyFile string `json:"key_file,omitempty"`
	// KeyPassphraseEnv names the environment variable holding the key's passphrase;
	// when empty and the key is encrypted, patrol prompts on a terminal.
	KeyPassphraseEnv string `json:"key_passphrase_env,omitempty"`
	// Agent allows keys from ssh-agent ($SSH_AUTH_SOCK). Default true.
	Agent *bool `json:"agent,omitempty"`
	// PasswordEnv names the environment variable holding the login password, used for
	// SSH password and keyboard-interactive authentication and WinRM.
	PasswordEnv string `json:"password_env,omitempty"`
	// Jump lists bastion hosts, outermost first, by inventory name or as
	// user@address:port.
	Jump []string `json:"jump,omitempty"`
	// SSHLegacy enables the older key exchanges, ciphers and host key algorithms
	// that CentOS 6/7-era servers and network devices need, for this host only.
	SSHLegacy bool `json:"ssh_legacy,omitempty"`
	// KnownHostsFile overrides the known_hosts file patrol checks and records into.
	KnownHostsFile string `json:"known_hosts_file,omitempty"`

	// Become runs tasks through sudo unless a play or task says otherwise.
	Become bool `json:"become,omitempty"`
	// BecomeUser is the sudo target user; empty means root.
	BecomeUser string `json:"become_user,omitempty"`
	// BecomePasswordEnv names the environment variable holding the sudo password.
	BecomePasswordEnv string `json:"become_password_env,omitempty"`

	// OS is the operating system family: centos7, win2012r2, debian, …
	OS string `json:"os,omitempty"`
	// System is the business system: hotel, entertainment or seal.
	System string `json:"system,omitempty"`
	// Staging marks the host on which patches for its system are installed and
	// verified before any production host of that system. One per system.
	Staging bool `json:"staging,omitempty"`
	// Pair names the hot-standby pair (or larger cluster) the host belongs to.
	// Patch apply never takes two hosts of one pair down at the same time.
	Pair string `json:"pair,omitempty"`

	// WinRM settings.
	Auth         string `json:"auth,omitempty"` // ntlm, basic or cert
	TLS          bool   `json:"tls,omitempty"`
	InsecureHTTP bool   `json:"insecure_http,omitempty"`
	CAFile       string `json:"ca_file,omitempty"`
	// CertFile is the PEM client certificate of auth: cert. The host maps it to a
	// local Windows account, so no password is sent.
	CertFile string `json:"cert_file,omitempty"`
	// CertKeyFile is the PEM private key of CertFile.
	CertKeyFile string `json:"cert_key_file,omitempty"`

	// Groups are the names of every group the host belongs to, directly or through
	// child groups, sorted.
	Groups []string `json:"groups,omitempty"`
	// Vars are the host's variables after merging all, group and host levels.
	Vars map[string]any `json:"vars,omitempty"`

	// Source is the "file:line" of the host's definition, for messages.
	Source string `json:"source,omitempty"`
}

// Addr returns the address to dial, falling back to the host name.
func (h *Host) Addr() string {
	if h.Address != "" {
		return h.Address
	}
	return h.Name
}

// IsWindows reports whether the host runs Windows, judged by its OS name or its
// connection.
func (h *Host) IsWindows() bool {
	return h.Connection == ConnWinRM || len(h.OS) >= 3 && h.OS[:3] == "win"
}
