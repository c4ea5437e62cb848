package sshconn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"patrol/internal/sshtest"
	"patrol/transport"
)

func TestRunKnownHostKey(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	env := newEnv(t)
	env.trust(s)
	c := env.mustDial(env.host("web1", s))

	args := []string{"a b", "$HOME", "it's", ";echo injected", "`id`", "*", ""}
	result := run(t, c, transport.Command{Argv: append([]string{"printf", "[%s]\n"}, args...)})
	want := "[a b]\n[$HOME]\n[it's]\n[;echo injected]\n[`id`]\n[*]\n[]\n"
	if string(result.Stdout) != want {
		t.Errorf("argv stdout = %q, want %q", result.Stdout, want)
	}

	if got := stdout(t, c, "echo $LC_ALL"); got != "C" {
		t.Errorf("LC_ALL = %q, want C", got)
	}
	env2 := run(t, c, transport.Command{Script: `printf '%s' "$GREETING"`, Env: map[string]string{"GREETING": "hello 'world' $x"}})
	if string(env2.Stdout) != "hello 'world' $x" {
		t.Errorf("env value = %q", env2.Stdout)
	}

	failed := run(t, c, transport.Command{Script: "echo oops >&2; exit 3"})
	if failed.ExitCode != 3 {
		t.Errorf("exit code = %d, want 3", failed.ExitCode)
	}
	if string(failed.Stderr) != "oops\n" {
		t.Errorf("stderr = %q, want only the command's output", failed.Stderr)
	}

	echoed := run(t, c, transport.Command{Argv: []string{"cat"}, Stdin: strings.NewReader("from stdin\n")})
	if string(echoed.Stdout) != "from stdin\n" {
		t.Errorf("stdin round trip = %q", echoed.Stdout)
	}
}

func TestChangedHostKeyStopsHost(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	env := newEnv(t)
	env.trust(s)
	h := env.host("db1", s)
	env.mustDial(h).Close()
	oldKey := s.HostKey

	s.RestartWithNewHostKey(t)
	env.opts.AcceptNewHostKeys = true // must not override a changed key
	_, err := env.dial(h)

	unreachableReason(t, err, ReasonHostKey)
	var changed *HostKeyChangedError
	if !errors.As(err, &changed) {
		t.Fatalf("error %v is not a HostKeyChangedError", err)
	}
	msg := err.Error()
	for _, want := range []string{"db1", ssh.FingerprintSHA256(oldKey), ssh.FingerprintSHA256(s.HostKey), env.knownHosts + ":1", "line 1 of " + env.knownHosts} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if zh := changed.Message().ZH; !strings.Contains(zh, "主机密钥已改变") {
		t.Errorf("Chinese message = %q", zh)
	}
}

func TestUnknownHostKey(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	env := newEnv(t)
	h := env.host("new1", s)

	_, err := env.dial(h)
	unreachableReason(t, err, ReasonHostKey)
	var unknown *UnknownHostKeyError
	if !errors.As(err, &unknown) {
		t.Fatalf("error %v is not an UnknownHostKeyError", err)
	}
	if !strings.Contains(err.Error(), ssh.FingerprintSHA256(s.HostKey)) {
		t.Errorf("message lacks the offered fingerprint: %v", err)
	}
	if _, statErr := os.Stat(env.knownHosts); statErr == nil {
		t.Error("known_hosts written although new keys are not accepted")
	}

	env.opts.AcceptNewHostKeys = true
	env.mustDial(h).Close()
	data, err := os.ReadFile(env.knownHosts)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "|1|") || strings.Count(string(data), "\n") != 1 {
		t.Errorf("known_hosts = %q, want one hashed line", data)
	}

	env.opts.AcceptNewHostKeys = false
	env.mustDial(h).Close()
}

func TestAcceptNewHostKeysConcurrent(t *testing.T) {
	servers := sshtest.StartMany(t, 20, sshtest.Options{})
	env := newEnv(t)
	env.opts.AcceptNewHostKeys = true

	var wg sync.WaitGroup
	errs := make(chan error, 3*len(servers))
	for i, s := range servers {
		h := env.host(fmt.Sprintf("h%d", i), s)
		cfg, err := ConfigFromHost(h, env.opts)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 { // three dials of the same host race to record its key
			wg.Go(func() {
				c, err := Dial(context.Background(), cfg)
				if err != nil {
					errs <- err
					return
				}
				c.Close()
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	data, err := os.ReadFile(env.knownHosts)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(data), "\n"); lines != len(servers) {
		t.Errorf("known_hosts has %d lines, want one per host (%d)", lines, len(servers))
	}
}

func TestHashedKnownHostsRealServer(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	env := newEnv(t)
	// The hashed name must be "[127.0.0.1]:port", as ssh-keygen -H writes it.
	hashed := ssh.MarshalAuthorizedKey(s.HostKey)
	line := "|1|" + hashedName(t, "[127.0.0.1]:"+strconv.Itoa(s.Port)) + " " + string(hashed)
	if err := os.WriteFile(env.knownHosts, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	env.mustDial(env.host("hashed1", s)).Close()
}

func TestWrongPasswordOneAttempt(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{PasswordAuth: true})
	env := newEnv(t)
	env.trust(s)
	h := env.passwordHost("pw1", s, "not-the-password")

	_, err := env.dial(h)
	unreachableReason(t, err, ReasonAuth)
	var authErr *AuthError
	if !errors.As(err, &authErr) || authErr.Kind != AuthRejected {
		t.Fatalf("error %v, want AuthError of kind rejected", err)
	}
	waitForLog(t, s, "Failed password")
	if n := s.CountLog("Failed password"); n != 1 {
		t.Errorf("server logged %d failed password attempts, want 1:\n%s", n, s.Log())
	}
}

func TestPasswordLogin(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{PasswordAuth: true})
	env := newEnv(t)
	env.trust(s)
	_, password := sshtest.PasswordUser(t)
	c := env.mustDial(env.passwordHost("pw2", s, password))
	if got := stdout(t, c, "id -un"); got != sshtest.TestUser {
		t.Errorf("id -un = %q", got)
	}
}

func TestKeyboardInteractiveOnly(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{KeyboardInteractiveOnly: true})
	env := newEnv(t)
	env.trust(s)
	_, password := sshtest.PasswordUser(t)

	c := env.mustDial(env.passwordHost("kbd1", s, password))
	if got := stdout(t, c, "id -un"); got != sshtest.TestUser {
		t.Errorf("id -un = %q", got)
	}

	_, err := env.dial(env.passwordHost("kbd2", s, "wrong"))
	unreachableReason(t, err, ReasonAuth)
	var authErr *AuthError
	if !errors.As(err, &authErr) || authErr.Kind != AuthRejected {
		t.Fatalf("error %v, want AuthError of kind rejected", err)
	}
	waitForLog(t, s, "Failed keyboard-interactive")
	if n := s.CountLog("Failed keyboard-interactive"); n != 1 {
		t.Errorf("server logged %d failed keyboard-interactive attempts, want 1:\n%s", n, s.Log())
	}
}

// A server that accepts only keyboard-interactive, and a host with only a
// key: no credential is tried, and the message names the method mismatch.
func TestAuthMethodMismatch(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{KeyboardInteractiveOnly: true})
	env := newEnv(t)
	env.trust(s)

	_, err := env.dial(env.host("kbd3", s))
	unreachableReason(t, err, ReasonAuth)
	var authErr *AuthError
	if !errors.As(err, &authErr) || authErr.Kind != AuthMethodMismatch {
		t.Fatalf("error %v, want AuthError of kind method-mismatch", err)
	}
	if !strings.Contains(err.Error(), "keyboard-interactive") {
		t.Errorf("message does not name the server's method: %v", err)
	}
}

func TestUnreachablePort(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := listener.Addr().(*net.TCPAddr).Port
	listener.Close()

	env := newEnv(t)
	env.opts.ConnectTimeout = 2 * time.Second
	s := &sshtest.Server{Host: "127.0.0.1", Port: port}
	_, err = env.dial(env.host("closed", s))
	unreachableReason(t, err, ReasonNetwork)
}

func TestSilentHostTimesOut(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()
	go func() {
		// Accept and never send a banner, like a host behind a broken proxy.
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()

	env := newEnv(t)
	env.opts.ConnectTimeout = time.Second
	s := &sshtest.Server{Host: "127.0.0.1", Port: listener.Addr().(*net.TCPAddr).Port}
	done := make(chan error, 1)
	go func() {
		_, err := env.dial(env.host("silent", s))
		done <- err
	}()
	select {
	case err := <-done:
		unreachableReason(t, err, ReasonTimeout)
	case <-time.After(30 * time.Second):
		t.Fatal("dial did not give up after the 1s connect timeout")
	}
}

func TestTimeoutKillsRemoteProcess(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	env := newEnv(t)
	env.trust(s)
	c := env.mustDial(env.host("slow1", s))

	result, err := c.Run(context.Background(), transport.Command{
		Script:  "sleep 300 & echo $!; wait",
		Timeout: time.Second,
	})
	if !errors.Is(err, transport.ErrTimeout) {
		t.Fatalf("error = %v, want ErrTimeout", err)
	}
	pid := strings.TrimSpace(string(result.Stdout))
	if _, convErr := strconv.Atoi(pid); convErr != nil {
		t.Fatalf("stdout %q holds no PID", result.Stdout)
	}

	alive := run(t, c, transport.Command{Argv: []string{"kill", "-0", pid}})
	if alive.ExitCode == 0 {
		t.Errorf("remote sleep %s still runs after the timeout", pid)
	}
	ps := run(t, c, transport.Command{Argv: []string{"ps", "-p", pid}})
	if ps.ExitCode == 0 {
		t.Errorf("ps still lists %s:\n%s", pid, ps.Stdout)
	}
}

func TestCancelKillsRemoteProcess(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	env := newEnv(t)
	env.trust(s)
	c := env.mustDial(env.host("slow2", s))

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(500*time.Millisecond, cancel)
	result, err := c.Run(ctx, transport.Command{Argv: []string{"/bin/sh", "-c", "echo $$; exec sleep 300"}})
	if !errors.Is(err, context.Canceled) || errors.Is(err, transport.ErrTimeout) {
		t.Fatalf("error = %v, want context.Canceled only", err)
	}
	pid := strings.TrimSpace(string(result.Stdout))
	if alive := run(t, c, transport.Command{Argv: []string{"kill", "-0", pid}}); alive.ExitCode == 0 {
		t.Errorf("remote sleep %s still runs after cancel", pid)
	}
}

func TestConcurrentRunsOneConn(t *testing.T) {
	// OpenSSH's default MaxSessions of 10 must not make commands fail.
	s := sshtest.Start(t, sshtest.Options{ExtraConfig: []string{"MaxSessions 10"}})
	env := newEnv(t)
	env.trust(s)
	c := env.mustDial(env.host("busy1", s))

	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			want := strconv.Itoa(i)
			result, err := c.Run(context.Background(), transport.Command{Argv: []string{"sh", "-c", "sleep 0.2; echo $0", want}})
			switch {
			case err != nil:
				errs <- err
			case strings.TrimSpace(string(result.Stdout)) != want:
				errs <- fmt.Errorf("command %d printed %q", i, result.Stdout)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestDeadLinkFailsPendingCommand(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	env := newEnv(t)
	env.trust(s)
	env.opts.KeepAlive = 200 * time.Millisecond
	env.opts.KeepAliveMax = 2
	c := env.mustDial(env.host("dead1", s))
	stdout(t, c, "true")

	// Freeze the server side of this connection, as a cut link would.
	frozen := sshtest.FreezeSessions(t, s)
	defer frozen()

	done := make(chan error, 1)
	go func() {
		_, err := c.Run(context.Background(), transport.Command{Argv: []string{"sleep", "1"}})
		done <- err
	}()
	select {
	case err := <-done:
		unreachableReason(t, err, ReasonNetwork)
	case <-time.After(30 * time.Second):
		t.Fatal("command on a dead link did not fail")
	}
}

func TestJumpChainTwoHops(t *testing.T) {
	bastion1 := sshtest.Start(t, sshtest.Options{AllowTCPForwarding: true})
	bastion2 := sshtest.Start(t, sshtest.Options{AllowTCPForwarding: true})
	target := sshtest.Start(t, sshtest.Options{})
	env := newEnv(t)
	env.trust(bastion1, bastion2, target)
	env.host("bastion1", bastion1)
	env.host("bastion2", bastion2)
	h := env.host("app1", target)
	h.Jump = []string{"bastion1", "bastion2"}

	c := env.mustDial(h)
	if got := stdout(t, c, "echo through"); got != "through" {
		t.Errorf("stdout = %q", got)
	}
	for name, s := range map[string]*sshtest.Server{"bastion1": bastion1, "bastion2": bastion2, "target": target} {
		if n := s.CountLog("Accepted publickey for root"); n != 1 {
			t.Errorf("%s accepted %d logins, want 1", name, n)
		}
	}
}

func TestJumpHostKeyCheckedPerHop(t *testing.T) {
	bastion := sshtest.Start(t, sshtest.Options{AllowTCPForwarding: true})
	target := sshtest.Start(t, sshtest.Options{})
	env := newEnv(t)
	env.trust(bastion) // the target's key is unknown
	env.host("bastion", bastion)
	h := env.host("app2", target)
	h.Jump = []string{"bastion"}

	_, err := env.dial(h)
	unreachableReason(t, err, ReasonHostKey)
}

func TestJumpForwardingDenied(t *testing.T) {
	bastion := sshtest.Start(t, sshtest.Options{})
	target := sshtest.Start(t, sshtest.Options{})
	env := newEnv(t)
	env.trust(bastion, target)
	env.host("bastion", bastion)
	h := env.host("app3", target)
	h.Jump = []string{"bastion"}

	_, err := env.dial(h)
	unreachableReason(t, err, ReasonNetwork)
	if !strings.Contains(err.Error(), "bastion") {
		t.Errorf("message does not name the jump host: %v", err)
	}
}

// legacyOptions is a server limited to algorithms of OpenSSH 5/6 era and
// network devices that OpenSSH 9.2 still implements.
var legacyOptions = sshtest.Options{
	RSAHostKey:        true,
	KexAlgorithms:     "diffie-hellman-group1-sha1,diffie-hellman-group-exchange-sha1",
	Ciphers:           "aes128-cbc,3des-cbc",
	MACs:              "hmac-sha1",
	HostKeyAlgorithms: "ssh-rsa",
}

func TestLegacyServerNeedsSSHLegacy(t *testing.T) {
	s := sshtest.Start(t, legacyOptions)
	env := newEnv(t)
	env.trust(s)
	h := env.host("switch1", s)

	_, err := env.dial(h)
	unreachableReason(t, err, ReasonNegotiation)
	var negotiation *NegotiationError
	if !errors.As(err, &negotiation) {
		t.Fatalf("error %v is not a NegotiationError", err)
	}
	if !strings.Contains(strings.Join(negotiation.ServerOffered, " "), "diffie-hellman-group1-sha1") {
		t.Errorf("server offered = %v, want the server's key exchanges", negotiation.ServerOffered)
	}
	if !strings.Contains(err.Error(), "ssh_legacy: true") {
		t.Errorf("message does not suggest ssh_legacy: %v", err)
	}

	h.SSHLegacy = true
	c := env.mustDial(h)
	if got := stdout(t, c, "echo legacy"); got != "legacy" {
		t.Errorf("stdout = %q", got)
	}
}

func TestKnownKeyTypeChoosesHostKeyAlgorithm(t *testing.T) {
	// The server has an RSA key; known_hosts records it, and patrol must
	// negotiate an RSA signature rather than ask for ed25519 first.
	s := sshtest.Start(t, sshtest.Options{RSAHostKey: true})
	env := newEnv(t)
	env.trust(s)
	cfg, err := ConfigFromHost(env.host("rsa1", s), env.opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := hostKeyAlgorithms(&cfg); strings.Join(got, ",") != "rsa-sha2-512,rsa-sha2-256" {
		t.Errorf("host key algorithms = %v", got)
	}
	env.mustDial(env.host("rsa1", s)).Close()
}

func TestBecomeAsRoot(t *testing.T) {
	requireSudo(t)
	user, _ := sshtest.PasswordUser(t)
	s := sshtest.Start(t, sshtest.Options{})
	env := newEnv(t)
	env.trust(s)
	c := env.mustDial(env.host("sudo1", s))

	result := run(t, c, transport.Command{Argv: []string{"id", "-un"}, Become: &transport.Become{User: user}})
	if got := strings.TrimSpace(string(result.Stdout)); got != user {
		t.Errorf("id -un = %q (stderr %q), want %s", got, result.Stderr, user)
	}
}

func TestBecomeWithPassword(t *testing.T) {
	requireSudo(t)
	s := sshtest.Start(t, sshtest.Options{PasswordAuth: true})
	env := newEnv(t)
	env.trust(s)
	_, password := sshtest.PasswordUser(t)
	c := env.mustDial(env.passwordHost("sudo2", s, password))
	become := &transport.Become{User: "nobody", Password: password}

	result := run(t, c, transport.Command{Script: "id -un; cat", Stdin: strings.NewReader("input\n"), Become: become})
	if string(result.Stdout) != "nobody\ninput\n" {
		t.Errorf("stdout = %q (stderr %q), want the user and only the command's input", result.Stdout, result.Stderr)
	}

	_, err := c.Run(context.Background(), transport.Command{Script: "sleep 300 & echo $!; wait", Become: become, Timeout: time.Second})
	if !errors.Is(err, transport.ErrTimeout) {
		t.Fatalf("error = %v, want ErrTimeout", err)
	}
	if n := stdout(t, c, "pgrep -u nobody -x sleep | wc -l"); n != "0" {
		t.Errorf("%s sleep processes of nobody remain after the timeout", n)
	}
}

func requireSudo(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/usr/bin/sudo"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("sudo is not installed")
		}
		t.Skip("sudo is not installed")
	}
}

func waitForLog(t *testing.T, s *sshtest.Server, substr string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.CountLog(substr) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	// Give a second attempt, if any, time to reach the log too.
	time.Sleep(200 * time.Millisecond)
}

// sshd without PAM advertises keyboard-interactive but has no device to run
// it, so it replies to the request with USERAUTH_FAILURE at once (message 51
// where x/crypto expects 60). That is an auth failure, not a protocol error.
func TestKeyboardInteractiveRejectedOutright(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{ExtraConfig: []string{"KbdInteractiveAuthentication yes"}})
	env := newEnv(t)
	env.trust(s)
	_, password := sshtest.PasswordUser(t)

	_, err := env.dial(env.passwordHost("kbd4", s, password))
	unreachableReason(t, err, ReasonAuth)
	var authErr *AuthError
	if !errors.As(err, &authErr) || authErr.Kind != AuthRejected {
		t.Fatalf("error %v, want AuthError of kind rejected", err)
	}
	if !strings.Contains(authErr.Detail, "before asking for the password") {
		t.Errorf("detail = %q", authErr.Detail)
	}
	if strings.Contains(err.Error(), "unexpected message") {
		t.Errorf("message shows the protocol error: %v", err)
	}
}

func TestAuthResultMessageType51(t *testing.T) {
	auth := newAuthenticator(&Config{Name: "idrac", User: "root", Password: "x"}, nil)
	got := auth.result(errors.New("ssh: handshake failed: ssh: unexpected message type 51 (expected 60)"))
	if got == nil || got.Kind != AuthRejected {
		t.Fatalf("result = %+v, want an auth failure of kind rejected", got)
	}
}
