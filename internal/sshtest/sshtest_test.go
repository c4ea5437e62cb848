package sshtest

import (
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func dialKey(t *testing.T, s *Server, user string) *ssh.Client {
	t.Helper()
	client, err := ssh.Dial("tcp", s.Addr, &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(s.ClientSigner)},
		HostKeyCallback: ssh.FixedHostKey(s.HostKey),
	})
	if err != nil {
		t.Fatalf("dial %s: %v", s.Addr, err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

func output(t *testing.T, c *ssh.Client, cmd string) string {
	t.Helper()
	session, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close()
	out, err := session.CombinedOutput(cmd)
	if err != nil {
		t.Fatalf("%s: %v: %s", cmd, err, out)
	}
	return string(out)
}

func TestStartKeyLogin(t *testing.T) {
	s := Start(t, Options{})
	c := dialKey(t, s, "root")
	if got := output(t, c, "echo $HOME"); strings.TrimSpace(got) != s.Dir {
		t.Errorf("HOME = %q, want %q", got, s.Dir)
	}
	if !strings.Contains(s.Log(), "Accepted publickey for root") {
		t.Errorf("log has no accepted publickey line:\n%s", s.Log())
	}
}

func TestRestartNewHostKey(t *testing.T) {
	s := Start(t, Options{RSAHostKey: true})
	old := s.HostKey
	s.RestartWithNewHostKey(t)
	if string(old.Marshal()) == string(s.HostKey.Marshal()) {
		t.Fatal("host key did not change")
	}
	dialKey(t, s, "root")
}

func TestStartManyEndpoints(t *testing.T) {
	servers := StartMany(t, 20, Options{})
	for _, s := range servers {
		c := dialKey(t, s, "root")
		output(t, c, "true")
	}
	if servers[0].PID() == servers[19].PID() {
		t.Error("20 endpoints share one sshd, want two processes")
	}
}

func TestPasswordUserLogin(t *testing.T) {
	name, password := PasswordUser(t)
	s := Start(t, Options{PasswordAuth: true})
	client, err := ssh.Dial("tcp", s.Addr, &ssh.ClientConfig{
		User:            name,
		Auth:            []ssh.AuthMethod{ssh.Password(password)},
		HostKeyCallback: ssh.FixedHostKey(s.HostKey),
	})
	if err != nil {
		t.Fatalf("password login: %v\n%s", err, s.Log())
	}
	defer client.Close()
	if got := strings.TrimSpace(output(t, client, "id -un")); got != name {
		t.Errorf("id -un = %q", got)
	}
}

func TestKeyboardInteractiveOnly(t *testing.T) {
	name, password := PasswordUser(t)
	s := Start(t, Options{KeyboardInteractiveOnly: true})
	client, err := ssh.Dial("tcp", s.Addr, &ssh.ClientConfig{
		User: name,
		Auth: []ssh.AuthMethod{ssh.KeyboardInteractive(func(_, _ string, q []string, _ []bool) ([]string, error) {
			answers := make([]string, len(q))
			for i := range answers {
				answers[i] = password
			}
			return answers, nil
		})},
		HostKeyCallback: ssh.FixedHostKey(s.HostKey),
	})
	if err != nil {
		t.Fatalf("keyboard-interactive login: %v\n%s", err, s.Log())
	}
	defer client.Close()
	output(t, client, "true")
}

func TestLegacyAlgorithmsAccepted(t *testing.T) {
	s := Start(t, Options{RSAHostKey: true, KexAlgorithms: "diffie-hellman-group1-sha1,diffie-hellman-group-exchange-sha1", Ciphers: "aes128-cbc,3des-cbc", MACs: "hmac-sha1", HostKeyAlgorithms: "ssh-rsa"})
	out, err := exec.Command("ssh", "-V").CombinedOutput()
	t.Log(string(out), err)
	_ = s
}
