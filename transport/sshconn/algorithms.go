package sshconn

import (
	"log/slog"
	"slices"

	"golang.org/x/crypto/ssh"
)

// algorithms returns the handshake algorithms for a host. Without legacy it
// is the zero Config, so x/crypto/ssh uses its defaults. With legacy it lists
// the supported algorithms followed by every insecure one this x/crypto
// version implements (SHA-1 Diffie-Hellman groups including group1 and
// group-exchange, CBC and RC4 ciphers, hmac-sha1-96), which old servers and
// network devices may be limited to.
func algorithms(legacy bool) ssh.Config {
	if !legacy {
		return ssh.Config{}
	}
	supported := ssh.SupportedAlgorithms()
	insecure := ssh.InsecureAlgorithms()
	return ssh.Config{
		KeyExchanges: concat(supported.KeyExchanges, insecure.KeyExchanges),
		Ciphers:      concat(supported.Ciphers, insecure.Ciphers),
		MACs:         concat(supported.MACs, insecure.MACs),
	}
}

// legacyHostKeyAlgorithms adds ssh-rsa (SHA-1 signatures) for servers
// older than OpenSSH 7.2, which know no rsa-sha2 signatures.
func legacyHostKeyAlgorithms() []string {
	return concat(ssh.SupportedAlgorithms().HostKeys, ssh.InsecureAlgorithms().HostKeys)
}

func concat(lists ...[]string) []string {
	var out []string
	for _, list := range lists {
		for _, name := range list {
			if !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	return out
}

// DefaultLogger is the logger used when a Config has none.
func DefaultLogger() *slog.Logger { return slog.Default() }
