package winrmconn

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"patrol/internal/loopback"
	winrmlab "patrol/lab/winrm"
	"patrol/transport"
)

// startNTLMLab runs the lab server over plain HTTP with NTLM authentication.
func startNTLMLab(t *testing.T) (*winrmlab.Server, *loopback.RecordingListener, int) {
	t.Helper()
	return startNTLMLabWith(t, winrmlab.Config{})
}

// startNTLMLabWith is startNTLMLab with the other server settings of cfg.
func startNTLMLabWith(t *testing.T, cfg winrmlab.Config) (*winrmlab.Server, *loopback.RecordingListener, int) {
	t.Helper()
	entries, err := winrmlab.ParseReplay("replay.yml", labReplay(t))
	if err != nil {
		t.Fatalf("parse replay: %v", err)
	}
	cfg.Entries, cfg.User, cfg.Password = entries, labUser, labPassword
	cfg.Auth = []winrmlab.AuthMethod{winrmlab.AuthNTLM}
	srv, err := winrmlab.New(cfg)
	if err != nil {
		t.Fatalf("start lab server: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	recorder := &loopback.RecordingListener{Listener: l}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(recorder) }()
	t.Cleanup(func() {
		_ = srv.Close()
		<-served
	})
	return srv, recorder, l.Addr().(*net.TCPAddr).Port
}

func ntlmConfig(port int, insecureHTTP bool) Config {
	return Config{
		Host: "seal-db-1", Address: "127.0.0.1", Port: port,
		Auth: AuthNTLM, User: labUser, Password: labPassword, InsecureHTTP: insecureHTTP,
		ConnectTimeout: 5 * time.Second, OperationTimeout: 2 * time.Second,
	}
}

func runQuser(t *testing.T, conn *Conn) {
	t.Helper()
	res, err := conn.Run(context.Background(), transport.Command{Argv: []string{"quser"}})
	if err != nil {
		t.Fatalf("Run quser: %v", err)
	}
	want, err := os.ReadFile("testdata/quser-gbk.expected.txt")
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Stdout) != string(want) {
		t.Errorf("quser stdout = %q, want %q", res.Stdout, want)
	}
}

func TestNTLMInsecureHTTPRun(t *testing.T) {
	srv, _, port := startNTLMLab(t)
	conn, err := Dial(context.Background(), ntlmConfig(port, true))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer conn.Close()

	runQuser(t, conn)
	if n := srv.AuthAttempts(); n < 1 {
		t.Errorf("authentication attempts = %d, want NTLM logins on the server", n)
	}
}

func TestNTLMEncryptedHTTPRun(t *testing.T) {
	_, recorder, port := startNTLMLab(t)
	conn, err := Dial(context.Background(), ntlmConfig(port, false))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer conn.Close()

	runQuser(t, conn)

	script, err := ArgvScript([]string{"quser"})
	if err != nil {
		t.Fatal(err)
	}
	line, _ := PowerShellCommandLine(script)
	traffic := recorder.Traffic()
	if !bytes.Contains(traffic, []byte("multipart/encrypted")) {
		t.Error("no multipart/encrypted request reached the server")
	}
	if bytes.Contains(traffic, []byte(line)) {
		t.Errorf("the command line %q crossed the network in plaintext", line)
	}
	for _, plain := range []string{"Envelope", "windows/shell"} {
		if bytes.Contains(traffic, []byte(plain)) {
			t.Errorf("request traffic contains plaintext SOAP %q", plain)
		}
	}
}

func TestNTLMWrongPasswordOneAttempt(t *testing.T) {
	srv, _, port := startNTLMLab(t)
	cfg := ntlmConfig(port, true)
	cfg.Password = "wrong"

	_, err := Dial(context.Background(), cfg)
	var u *transport.UnreachableError
	if !errors.As(err, &u) || u.Reason != "auth" {
		t.Errorf("Dial error = %v, want an unreachable error with reason auth", err)
	}
	if n := srv.AuthAttempts(); n != 1 {
		t.Errorf("authentication attempts = %d, want 1", n)
	}
}

func TestNTLMEncryptedWrongPassword(t *testing.T) {
	srv, _, port := startNTLMLab(t)
	cfg := ntlmConfig(port, false)
	cfg.Password = "wrong"

	_, err := Dial(context.Background(), cfg)
	var u *transport.UnreachableError
	if !errors.As(err, &u) || u.Reason != "auth" {
		t.Errorf("Dial error = %v, want an unreachable error with reason auth", err)
	}
	if n := srv.AuthAttempts(); n != 1 {
		t.Errorf("authentication attempts = %d, want 1", n)
	}
}

func TestNTLMEncryptedRefusedSealing(t *testing.T) {
	srv, recorder, port := startNTLMLabWith(t, winrmlab.Config{RefuseSealing: true})

	_, err := Dial(context.Background(), ntlmConfig(port, false))
	var u *transport.UnreachableError
	if !errors.As(err, &u) || u.Reason != "negotiation" {
		t.Errorf("Dial error = %v, want an unreachable error with reason negotiation", err)
	}
	if !errors.Is(err, errSealingRejected) {
		t.Errorf("Dial error = %v, want errSealingRejected", err)
	}
	if n := srv.AuthAttempts(); n != 0 {
		t.Errorf("authentication attempts = %d, want 0 (no login without sealing)", n)
	}
	traffic := recorder.Traffic()
	for _, plain := range []string{"Envelope", "windows/shell", "multipart/encrypted"} {
		if bytes.Contains(traffic, []byte(plain)) {
			t.Errorf("request traffic contains %q, want only the NTLM handshake", plain)
		}
	}
}

func TestNTLMInsecureHTTPStillUnencrypted(t *testing.T) {
	_, recorder, port := startNTLMLabWith(t, winrmlab.Config{RefuseSealing: true})
	conn, err := Dial(context.Background(), ntlmConfig(port, true))
	if err != nil {
		t.Fatalf("Dial with insecure_http: %v", err)
	}
	defer conn.Close()

	runQuser(t, conn)
	if !bytes.Contains(recorder.Traffic(), []byte("Envelope")) {
		t.Error("insecure_http traffic has no plaintext SOAP, want the explicit unencrypted mode")
	}
}

func TestBasicStillWorksOverHTTPS(t *testing.T) {
	port, caFile := startLab(t)
	conn, err := Dial(context.Background(), labConfig(port, caFile))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer conn.Close()

	runQuser(t, conn)
}

// TestNTLMEncryptedFaultKeepsLogin checks that a fault, which arrives sealed
// like any response, does not cost a new NTLM login. A long command gets the
// TimedOut fault every OperationTimeout, so a client that logged in again
// after each would add a logon event on the host each time.
func TestNTLMEncryptedFaultKeepsLogin(t *testing.T) {
	srv, _, port := startNTLMLabWith(t, winrmlab.Config{RecordRequests: true})
	conn, err := Dial(context.Background(), ntlmConfig(port, false))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer conn.Close()

	_, err = conn.Run(context.Background(), transport.Command{Script: "Get-LabCommandWithoutReplay"})
	if err == nil || !strings.Contains(err.Error(), "WinRM fault from the host: no replay entry matches") {
		t.Fatalf("Run error = %v, want the lab's fault for a command without a replay entry", err)
	}
	faulted := srv.Requests()
	before := srv.AuthAttempts()
	runQuser(t, conn)

	// No request was in progress beside the faulted Command, so the next
	// request takes its connection, unless the fault closed it.
	last := faulted[len(faulted)-1]
	next := srv.Requests()[len(faulted)]
	if last.Action != "Command" || last.Fault == "" {
		t.Fatalf("last request before quser = %+v, want the faulted Command", last)
	}
	if next.Remote != last.Remote {
		t.Errorf("the request after the fault came from %s, want the faulted Command's connection %s", next.Remote, last.Remote)
	}
	if after := srv.AuthAttempts(); after > before+1 {
		t.Errorf("NTLM logins rose from %d to %d, want at most one more for a Send beside a Receive", before, after)
	}
}
