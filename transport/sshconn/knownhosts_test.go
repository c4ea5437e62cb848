package sshconn

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// hashedName returns "salt|hmac" for a known_hosts |1| entry with a random salt.
func hashedName(t *testing.T, name string) string {
	t.Helper()
	salt := make([]byte, sha1.Size)
	if _, err := rand.Read(salt); err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha1.New, salt)
	mac.Write([]byte(name))
	return base64.StdEncoding.EncodeToString(salt) + "|" + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func testKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	public, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.NewPublicKey(public)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// The hashed entry of an OpenSSH known_hosts for example.com on port 55555:
// HMAC-SHA1 keyed with the salt over "[example.com]:55555".
const hashedExample = "|1|hgYNM0RCjd3UQc7YWEiQ2VVnS1k=|yktjOenUAajV/+EiT9IVWCKjRFw="

func TestHashedEntryExactHMAC(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("hgYNM0RCjd3UQc7YWEiQ2VVnS1k=")
	mac := hmac.New(sha1.New, salt)
	mac.Write([]byte("[example.com]:55555"))
	if got := base64.StdEncoding.EncodeToString(mac.Sum(nil)); got != "yktjOenUAajV/+EiT9IVWCKjRFw=" {
		t.Errorf("HMAC over [example.com]:55555 = %s", got)
	}
	bare := hmac.New(sha1.New, salt)
	bare.Write([]byte("example.com"))
	if got := base64.StdEncoding.EncodeToString(bare.Sum(nil)); got == "yktjOenUAajV/+EiT9IVWCKjRFw=" {
		t.Error("the bare host name hashes to the same value")
	}
}

func TestHashedEntryLookup(t *testing.T) {
	key := testKey(t)
	file := filepath.Join(t.TempDir(), "known_hosts")
	line := hashedExample + " " + string(ssh.MarshalAuthorizedKey(key))
	if err := os.WriteFile(file, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		addr    string
		matches bool
	}{
		{"example.com:55555", true},
		{"example.com:22", false},
		{"example.com:7999", false},
		{"other.example.com:55555", false},
	}
	for _, tt := range tests {
		err := lookupHostKey([]string{file}, tt.addr, key)
		if tt.matches && err != nil {
			t.Errorf("%s: %v, want a match", tt.addr, err)
		}
		var keyErr *knownhosts.KeyError
		if !tt.matches && !(errors.As(err, &keyErr) && len(keyErr.Want) == 0) {
			t.Errorf("%s: %v, want an unknown host", tt.addr, err)
		}
	}

	cfg := Config{Addr: "example.com:55555", KnownHostsFiles: []string{file}}
	if got := hostKeyAlgorithms(&cfg); len(got) != 1 || got[0] != ssh.KeyAlgoED25519 {
		t.Errorf("host key algorithms from a hashed entry = %v", got)
	}
}

func TestRecordedLineMatchesNormalizedName(t *testing.T) {
	key := testKey(t)
	file := filepath.Join(t.TempDir(), "sub", "known_hosts")
	cfg := Config{Name: "h", Addr: "10.1.2.3:2222", KnownHostsFiles: []string{file}, RecordFile: file, AcceptNewHostKeys: true, Logger: DefaultLogger()}
	checker := &hostKeyChecker{cfg: &cfg}
	if err := checker.verify(key); err != nil {
		t.Fatal(err)
	}
	if err := lookupHostKey([]string{file}, "10.1.2.3:2222", key); err != nil {
		t.Errorf("recorded key not found for the same address: %v", err)
	}
	var keyErr *knownhosts.KeyError
	if err := lookupHostKey([]string{file}, "10.1.2.3:22", key); !errors.As(err, &keyErr) {
		t.Errorf("recorded key matched port 22: %v", err)
	}
}
