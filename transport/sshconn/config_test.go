package sshconn

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"patrol/internal/sshtest"
	"patrol/inventory"
)

func TestConfigMissingPasswordEnv(t *testing.T) {
	h := &inventory.Host{Name: "a", User: "root", PasswordEnv: "PATROL_TEST_UNSET_PASSWORD"}
	_, err := ConfigFromHost(h, Options{})
	if err == nil || !strings.Contains(err.Error(), "PATROL_TEST_UNSET_PASSWORD") {
		t.Fatalf("error = %v, want one naming the variable", err)
	}
}

func TestConfigPasswordRedacted(t *testing.T) {
	t.Setenv("PATROL_TEST_PW", "s3cret")
	cfg, err := ConfigFromHost(&inventory.Host{Name: "a", User: "root", PasswordEnv: "PATROL_TEST_PW"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if printed := strings.Join([]string{sprintV(cfg), sprintGo(cfg)}, " "); strings.Contains(printed, "s3cret") {
		t.Errorf("printed config contains the password: %s", printed)
	}
}

func TestConfigJumpChain(t *testing.T) {
	hosts := map[string]*inventory.Host{
		"outer": {Name: "outer", Address: "10.0.0.1", User: "ops"},
		"inner": {Name: "inner", Address: "10.0.0.2", Port: 2222, User: "ops", Jump: []string{"outer"}},
	}
	opts := Options{ResolveJump: func(name string) (*inventory.Host, bool) { h, ok := hosts[name]; return h, ok }}

	cfg, err := ConfigFromHost(&inventory.Host{Name: "app", Address: "10.0.1.5", User: "root", Jump: []string{"inner", "admin@10.9.9.9:2200"}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, hop := range cfg.Jumps {
		got = append(got, hop.User+"@"+hop.Addr)
	}
	want := "ops@10.0.0.1:22 ops@10.0.0.2:2222 admin@10.9.9.9:2200"
	if strings.Join(got, " ") != want {
		t.Errorf("hops = %v, want %s", got, want)
	}

	hosts["outer"].Jump = []string{"inner"}
	if _, err := ConfigFromHost(hosts["inner"], opts); err == nil || !strings.Contains(err.Error(), "loop") {
		t.Errorf("jump loop error = %v", err)
	}
}

func TestEncryptedKeyFromPassphraseEnv(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	env := newEnv(t)
	env.trust(s)

	_, private, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKeyWithPassphrase(private, "", []byte("open sesame"))
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, _ := ssh.NewSignerFromKey(private)
	authorized, err := os.OpenFile(filepath.Join(s.Dir, "authorized_keys"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	authorized.Write(ssh.MarshalAuthorizedKey(signer.PublicKey()))
	authorized.Close()

	h := env.host("enc1", s)
	h.KeyFile = keyPath
	h.KeyPassphraseEnv = "PATROL_TEST_KEY_PASSPHRASE"
	t.Setenv("PATROL_TEST_KEY_PASSPHRASE", "open sesame")
	env.mustDial(h).Close()

	t.Setenv("PATROL_TEST_KEY_PASSPHRASE", "wrong")
	_, err = env.dial(h)
	unreachableReason(t, err, ReasonAuth)
	if !strings.Contains(err.Error(), "key_passphrase_env") {
		t.Errorf("message does not point at key_passphrase_env: %v", err)
	}
}

func sprintV(v any) string  { return fmt.Sprintf("%v %+v", v, v) }
func sprintGo(v any) string { return fmt.Sprintf("%#v", v) }
