package winrmconn

import (
	"strings"
	"testing"

	"patrol/inventory"
)

func TestConfigFromHost(t *testing.T) {
	env := map[string]string{"SEAL_DB_PASSWORD": "secret"}
	opts := Options{Getenv: func(k string) string { return env[k] }}

	cases := []struct {
		name    string
		host    inventory.Host
		port    int
		wantErr string
	}{
		{"ntlm over http", inventory.Host{Name: "a", Auth: "ntlm", PasswordEnv: "SEAL_DB_PASSWORD"}, 5985, ""},
		{"default auth https", inventory.Host{Name: "a", TLS: true, PasswordEnv: "SEAL_DB_PASSWORD"}, 5986, ""},
		{"basic over https", inventory.Host{Name: "a", Auth: "basic", TLS: true, PasswordEnv: "SEAL_DB_PASSWORD"}, 5986, ""},
		{"basic over http rejected", inventory.Host{Name: "a", Auth: "basic", PasswordEnv: "SEAL_DB_PASSWORD"}, 0, "insecure_http"},
		{"basic over insecure http", inventory.Host{Name: "a", Auth: "basic", InsecureHTTP: true, Port: 15985, PasswordEnv: "SEAL_DB_PASSWORD"}, 15985, ""},
		{"cert over http rejected", inventory.Host{Name: "a", Auth: "cert"}, 0, "needs HTTPS"},
		{"cert without files", inventory.Host{Name: "a", Auth: "cert", TLS: true}, 0, "cert_file"},
		{"cert files as variables ignored", inventory.Host{Name: "a", Auth: "cert", TLS: true, Vars: map[string]any{"cert_file": "c.pem", "cert_key_file": "k.pem"}}, 0, "cert_file"},
		{"cert files missing", inventory.Host{Name: "a", Auth: "cert", TLS: true, CertFile: "c.pem", CertKeyFile: "k.pem"}, 0, "cert_file c.pem: file not found"},
		{"kerberos rejected", inventory.Host{Name: "a", Auth: "kerberos", PasswordEnv: "SEAL_DB_PASSWORD"}, 0, "not supported"},
		{"no password_env", inventory.Host{Name: "a"}, 0, "password_env is missing"},
		{"empty password variable", inventory.Host{Name: "a", PasswordEnv: "UNSET_VAR"}, 0, "UNSET_VAR"},
		{"ca_file without tls", inventory.Host{Name: "a", CAFile: "ca.pem", PasswordEnv: "SEAL_DB_PASSWORD"}, 0, "tls: true"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ConfigFromHost(&c.host, opts)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error = %v, want one mentioning %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ConfigFromHost: %v", err)
			}
			if cfg.Port != c.port {
				t.Errorf("port = %d, want %d", cfg.Port, c.port)
			}
			if cfg.Auth != AuthCert && cfg.Password != "secret" {
				t.Errorf("password not read from password_env")
			}
			if cfg.CertFile != c.host.CertFile || cfg.CertKeyFile != c.host.CertKeyFile {
				t.Errorf("cert files = %q, %q, want %q, %q", cfg.CertFile, cfg.CertKeyFile, c.host.CertFile, c.host.CertKeyFile)
			}
		})
	}
}
