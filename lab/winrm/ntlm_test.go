package winrmlab

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/masterzen/winrm"

	"patrol/internal/loopback"
	"patrol/transport/winrmconn"
)

func TestNTOWFv2KnownAnswer(t *testing.T) {
	// The NTLMv2 example values of MS-NLMP: user "User", domain "Domain", password "Password".
	got := hex.EncodeToString(ntowfV2("Password", "User", "Domain"))
	if want := "0c868a403bfd7a93a3001ef22ef02e3f"; got != want {
		t.Errorf("NTOWFv2 = %s, want %s", got, want)
	}
}

func ntlmClient(t *testing.T, port int, password string) *winrm.Client {
	return newClient(t, port, clientOptions{password: password, decorate: func() winrm.Transporter {
		return winrm.NewClientNTLMWithDial(nil)
	}})
}

func encryptedClient(t *testing.T, port int, password string) *winrm.Client {
	return newClient(t, port, clientOptions{password: password, decorate: func() winrm.Transporter {
		enc, err := winrm.NewEncryption("ntlm")
		if err != nil {
			t.Fatalf("NewEncryption: %v", err)
		}
		return enc
	}})
}

// sealedClient logs in with patrol's NTLM transport, which seals every
// message and never falls back to unencrypted NTLM.
func sealedClient(t *testing.T, port int, password string) *winrm.Client {
	if password == "" {
		password = testPassword
	}
	return newClient(t, port, clientOptions{password: password, decorate: func() winrm.Transporter {
		return winrmconn.NewSealedNTLM(testUser, password, 5*time.Second)
	}})
}

func TestNTLMLogin(t *testing.T) {
	srv, port := startServer(t, Config{Auth: []AuthMethod{AuthNTLM}})
	client := ntlmClient(t, port, "")

	stdout, _, code, err := client.RunCmdWithContext(context.Background(), "hostname")
	if err != nil {
		t.Fatalf("run over NTLM: %v", err)
	}
	if stdout != "SEAL-DB-1\r\n" || code != 0 {
		t.Errorf("got stdout %q code %d, want %q code 0", stdout, code, "SEAL-DB-1\r\n")
	}
	// The client sends each request anonymously first, and the connection
	// stays authenticated, so one login serves the whole command.
	if n := srv.AuthAttempts(); n != 1 {
		t.Errorf("authentication attempts = %d, want 1 for one connection", n)
	}
}

func TestNTLMWrongPassword(t *testing.T) {
	srv, port := startServer(t, Config{Auth: []AuthMethod{AuthNTLM}})
	client := ntlmClient(t, port, "wrong")

	_, _, _, err := client.RunCmdWithContext(context.Background(), "hostname")
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("err = %v, want HTTP 401", err)
	}
	if n := srv.AuthAttempts(); n != 1 {
		t.Errorf("authentication attempts = %d, want 1", n)
	}
}

func TestNTLMWrongUser(t *testing.T) {
	_, port := startServer(t, Config{Auth: []AuthMethod{AuthNTLM}, User: "operator", Password: testPassword})
	client := ntlmClient(t, port, "")

	_, _, _, err := client.RunCmdWithContext(context.Background(), "hostname")
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("err = %v, want HTTP 401 for user %s", err, testUser)
	}
}

func TestNTLMBasicRejectedWhenNotAccepted(t *testing.T) {
	_, port := startServer(t, Config{Auth: []AuthMethod{AuthNTLM}})
	client := newClient(t, port, clientOptions{})

	_, _, _, err := client.RunCmdWithContext(context.Background(), "hostname")
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("err = %v, want HTTP 401 for Basic", err)
	}
}

func TestBasicAndNTLMTogether(t *testing.T) {
	_, port := startServer(t, Config{Auth: []AuthMethod{AuthBasic, AuthNTLM}})

	for name, client := range map[string]*winrm.Client{
		"basic":     newClient(t, port, clientOptions{}),
		"ntlm":      ntlmClient(t, port, ""),
		"encrypted": encryptedClient(t, port, ""),
	} {
		stdout, _, _, err := client.RunCmdWithContext(context.Background(), "hostname")
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if stdout != "SEAL-DB-1\r\n" {
			t.Errorf("%s: stdout = %q, want %q", name, stdout, "SEAL-DB-1\r\n")
		}
	}
}

func startRecordingServer(t *testing.T, cfg Config) (*Server, *loopback.RecordingListener, int) {
	t.Helper()
	entries, err := LoadReplay("testdata/replay.yml")
	if err != nil {
		t.Fatalf("load replay: %v", err)
	}
	cfg.Entries, cfg.User, cfg.Password = entries, testUser, testPassword
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
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

func TestNTLMEncryptedRun(t *testing.T) {
	_, recorder, port := startRecordingServer(t, Config{Auth: []AuthMethod{AuthNTLM}})
	client := encryptedClient(t, port, "")

	stdout, _, code, err := client.RunCmdWithContext(context.Background(), "wmic qfe get HotFixID,InstalledOn /format:list")
	if err != nil {
		t.Fatalf("run over encrypted NTLM: %v", err)
	}
	if code != 0 || !strings.Contains(stdout, "HotFixID=") {
		t.Errorf("got stdout %q code %d, want the recorded wmic output", stdout, code)
	}

	traffic := recorder.Traffic()
	if !bytes.Contains(traffic, []byte("multipart/encrypted")) {
		t.Error("no multipart/encrypted request reached the server")
	}
	for _, plain := range []string{"wmic qfe", "rsp:CommandLine", "soap+xml;charset=UTF-8\r\n\r\n<"} {
		if bytes.Contains(traffic, []byte(plain)) {
			t.Errorf("request traffic contains plaintext %q", plain)
		}
	}
}

func TestNTLMEncryptedWrongPassword(t *testing.T) {
	srv, _, port := startRecordingServer(t, Config{Auth: []AuthMethod{AuthNTLM}})
	client := sealedClient(t, port, "wrong")

	_, _, _, err := client.RunCmdWithContext(context.Background(), "hostname")
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("err = %v, want HTTP 401", err)
	}
	if n := srv.AuthAttempts(); n != 1 {
		t.Errorf("authentication attempts = %d, want 1", n)
	}
}

func TestNTLMRefuseSealing(t *testing.T) {
	srv, recorder, port := startRecordingServer(t, Config{Auth: []AuthMethod{AuthNTLM}, RefuseSealing: true})

	// The library's transport ignores the missing sealing flags and gets 400
	// for its encrypted request.
	if _, _, _, err := encryptedClient(t, port, "").RunCmdWithContext(context.Background(), "hostname"); err == nil {
		t.Error("library encrypted client: want an error from a server that refuses sealing")
	}

	// patrol's transport stops at the CHALLENGE, before logging in.
	before := srv.AuthAttempts()
	_, _, _, err := sealedClient(t, port, "").RunCmdWithContext(context.Background(), "hostname")
	if err == nil || !strings.Contains(err.Error(), "NTLM message encryption") {
		t.Errorf("sealed client err = %v, want the host to be reported as not agreeing to NTLM message encryption", err)
	}
	if n := srv.AuthAttempts() - before; n != 0 {
		t.Errorf("sealed client authentication attempts = %d, want 0", n)
	}
	if traffic := recorder.Traffic(); bytes.Contains(traffic, []byte("hostname")) {
		t.Error("the command text crossed the network in plaintext")
	}
}

func TestNTLMSealedClientRun(t *testing.T) {
	srv, recorder, port := startRecordingServer(t, Config{Auth: []AuthMethod{AuthNTLM}})
	client := sealedClient(t, port, "")

	stdout, _, code, err := client.RunCmdWithContext(context.Background(), "wmic qfe get HotFixID,InstalledOn /format:list")
	if err != nil {
		t.Fatalf("run over sealed NTLM: %v", err)
	}
	if code != 0 || !strings.Contains(stdout, "HotFixID=") {
		t.Errorf("got stdout %q code %d, want the recorded wmic output", stdout, code)
	}
	if n := srv.AuthAttempts(); n != 1 {
		t.Errorf("authentication attempts = %d, want 1 login for the whole command", n)
	}
	for _, plain := range []string{"wmic qfe", "rsp:CommandLine", "Envelope"} {
		if bytes.Contains(recorder.Traffic(), []byte(plain)) {
			t.Errorf("request traffic contains plaintext %q", plain)
		}
	}
}

// TestNTLMChallengeBoundToConnection checks that an AUTHENTICATE counts only
// on the connection that received the CHALLENGE.
func TestNTLMChallengeBoundToConnection(t *testing.T) {
	_, port := startServer(t, Config{Auth: []AuthMethod{AuthNTLM}})
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/wsman"

	// A type 3 message header with empty fields and the Unicode flag.
	authenticate := make([]byte, 64)
	copy(authenticate, ntlmSignature)
	authenticate[8] = ntlmAuthenticate
	authenticate[60] = byte(flagUnicode)

	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader("<x/>"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Negotiate "+encodeStd(authenticate))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	resp.Body.Close()

	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status = %d, want 401", resp.StatusCode)
	}
	if got := resp.Header.Values("WWW-Authenticate"); len(got) != 1 || got[0] != "Negotiate" {
		t.Errorf("WWW-Authenticate = %q, want [Negotiate] to restart the handshake", got)
	}
}

func encodeStd(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
