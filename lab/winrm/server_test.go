package winrmlab

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"
	"golang.org/x/text/encoding/simplifiedchinese"
)

const (
	testUser     = "Administrator"
	testPassword = "Lab-Passw0rd"
)

// startServer runs a lab server on a free loopback port and returns its port.
func startServer(t *testing.T, cfg Config) (*Server, int) {
	t.Helper()
	if cfg.Entries == nil {
		entries, err := LoadReplay(filepath.Join("testdata", "replay.yml"))
		if err != nil {
			t.Fatalf("load replay: %v", err)
		}
		cfg.Entries = entries
	}
	if cfg.User == "" {
		cfg.User, cfg.Password = testUser, testPassword
	}

	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv, l.Addr().(*net.TCPAddr).Port
}

type clientOptions struct {
	https    bool
	caPEM    []byte
	password string
	timeout  string
	decorate func() winrm.Transporter
}

func newClient(t *testing.T, port int, opt clientOptions) *winrm.Client {
	t.Helper()
	endpoint := winrm.NewEndpoint("127.0.0.1", port, opt.https, false, opt.caPEM, nil, nil, 0)
	params := *winrm.DefaultParameters
	if opt.timeout != "" {
		params.Timeout = opt.timeout
	}
	params.TransportDecorator = opt.decorate
	password := opt.password
	if password == "" {
		password = testPassword
	}
	client, err := winrm.NewClientWithParameters(endpoint, testUser, password, &params)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return client
}

func TestShellLifecycleHTTP(t *testing.T) {
	_, port := startServer(t, Config{})
	client := newClient(t, port, clientOptions{})

	shell, err := client.CreateShell()
	if err != nil {
		t.Fatalf("CreateShell: %v", err)
	}
	cmd, err := shell.Execute("hostname")
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	var stdout, stderr bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = stdout.ReadFrom(cmd.Stdout)
	}()
	_, _ = stderr.ReadFrom(cmd.Stderr)
	cmd.Wait()
	<-done

	if got := stdout.String(); got != "SEAL-DB-1\r\n" {
		t.Errorf("stdout = %q, want %q", got, "SEAL-DB-1\r\n")
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr = %q, want empty", stderr.String())
	}
	if code := cmd.ExitCode(); code != 0 {
		t.Errorf("exit code = %d, want 0", code)
	}
	if err := cmd.Close(); err != nil {
		t.Errorf("signal after finish: %v", err)
	}
	if err := shell.Close(); err != nil {
		t.Fatalf("delete shell: %v", err)
	}

	_, err = shell.Execute("hostname")
	if body := faultBody(t, err); !strings.Contains(body, "shell was not found") {
		t.Errorf("command in deleted shell: fault = %q, want shell not found", body)
	}
}

func TestHTTPSWithGeneratedCA(t *testing.T) {
	srv, port := startServer(t, Config{TLS: true})
	client := newClient(t, port, clientOptions{https: true, caPEM: srv.CACertPEM()})

	stdout, _, code, err := client.RunCmdWithContext(context.Background(), "hostname")
	if err != nil {
		t.Fatalf("run over HTTPS: %v", err)
	}
	if stdout != "SEAL-DB-1\r\n" || code != 0 {
		t.Errorf("got stdout %q code %d, want %q code 0", stdout, code, "SEAL-DB-1\r\n")
	}
}

func TestHTTPSUntrustedCertificateRejected(t *testing.T) {
	_, port := startServer(t, Config{TLS: true})
	client := newClient(t, port, clientOptions{https: true})

	_, _, _, err := client.RunCmdWithContext(context.Background(), "hostname")
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("err = %v, want a certificate verification error", err)
	}
}

func TestWriteCACertNextToReplay(t *testing.T) {
	srv, _ := startServer(t, Config{TLS: true})
	replay := filepath.Join(t.TempDir(), "seal-db.yml")

	path, err := srv.WriteCACert(replay)
	if err != nil {
		t.Fatalf("WriteCACert: %v", err)
	}
	if want := filepath.Join(filepath.Dir(replay), "seal-db-ca.pem"); path != want {
		t.Errorf("path = %q, want %q", path, want)
	}
}

func TestBasicAuthWrongPassword(t *testing.T) {
	_, port := startServer(t, Config{})
	client := newClient(t, port, clientOptions{password: "wrong"})

	_, _, _, err := client.RunCmdWithContext(context.Background(), "hostname")
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("err = %v, want HTTP 401", err)
	}
}

func TestUnknownCommandFault(t *testing.T) {
	_, port := startServer(t, Config{})
	client := newClient(t, port, clientOptions{})

	_, _, _, err := client.RunCmdWithContext(context.Background(), "format D: /q")
	if body := faultBody(t, err); !strings.Contains(body, "no replay entry matches: format D: /q") {
		t.Errorf("fault = %q, want the no replay entry message naming the command", body)
	}
}

func TestEncodedPowerShellMatched(t *testing.T) {
	_, port := startServer(t, Config{})
	client := newClient(t, port, clientOptions{})

	_, stderr, code, err := client.RunPSWithContext(context.Background(), "Get-HotFix | Sort-Object -Property:InstalledOn")
	if err != nil {
		t.Fatalf("run PowerShell: %v", err)
	}
	if !strings.Contains(stderr, `Exception getting "InstalledOn"`) {
		t.Errorf("stderr = %q, want the recorded Sort-Object exception", stderr)
	}
	if code != 1 {
		t.Errorf("exit code = %d, want 1", code)
	}
}

func TestGBKBytesExact(t *testing.T) {
	_, port := startServer(t, Config{})
	client := newClient(t, port, clientOptions{})

	var stdout, stderr bytes.Buffer
	code, err := client.RunWithContext(context.Background(), "quser", &stdout, &stderr)
	if err != nil || code != 0 {
		t.Fatalf("run quser: code %d, err %v", code, err)
	}

	wantHeader := []byte{0x20, 0xd3, 0xc3, 0xbb, 0xa7, 0xc3, 0xfb}
	if !bytes.HasPrefix(stdout.Bytes(), wantHeader) {
		t.Fatalf("stdout starts % x, want GBK bytes % x", stdout.Bytes()[:min(len(wantHeader), stdout.Len())], wantHeader)
	}
	decoded, err := simplifiedchinese.GBK.NewDecoder().Bytes(stdout.Bytes())
	if err != nil {
		t.Fatalf("decode GBK: %v", err)
	}
	if !strings.Contains(string(decoded), "用户名") || !strings.Contains(string(decoded), "运行中") {
		t.Errorf("decoded = %q, want the Chinese quser header and state", decoded)
	}
}

func TestExitCodes(t *testing.T) {
	_, port := startServer(t, Config{})
	client := newClient(t, port, clientOptions{})

	tests := []struct {
		command string
		want    int
	}{
		{`wusa.exe C:\patches\WindowsBlue-KB3037315-x64.msu /quiet /norestart`, 3010},
		{"wmic qfe get HotFixID,InstalledOn /format:list", 0},
	}
	for _, tt := range tests {
		_, _, code, err := client.RunCmdWithContext(context.Background(), tt.command)
		if err != nil {
			t.Errorf("%s: %v", tt.command, err)
			continue
		}
		if code != tt.want {
			t.Errorf("%s: exit code = %d, want %d", tt.command, code, tt.want)
		}
	}
}

// receiveCounter wraps the client transport and counts Receive requests.
type receiveCounter struct {
	winrm.Transporter
	receives *atomic.Int32
}

func (c receiveCounter) Post(client *winrm.Client, message *soap.SoapMessage) (string, error) {
	if strings.Contains(message.String(), "windows/shell/Receive") {
		c.receives.Add(1)
	}
	return c.Transporter.Post(client, message)
}

func TestLargeOutputChunked(t *testing.T) {
	output := bytes.Repeat([]byte("0123456789abcdef"), 20000) // 320000 bytes
	entry := Entry{Match: regexp.MustCompile("^type big.log$"), Stdout: output, ExitCode: 0}
	_, port := startServer(t, Config{Entries: []Entry{entry}})

	var receives atomic.Int32
	client := newClient(t, port, clientOptions{decorate: func() winrm.Transporter {
		return receiveCounter{Transporter: winrm.NewClientWithDial(nil), receives: &receives}
	}})

	var stdout, stderr bytes.Buffer
	code, err := client.RunWithContext(context.Background(), "type big.log", &stdout, &stderr)
	if err != nil || code != 0 {
		t.Fatalf("run: code %d, err %v", code, err)
	}
	if !bytes.Equal(stdout.Bytes(), output) {
		t.Errorf("stdout has %d bytes, want the %d recorded bytes unchanged", stdout.Len(), len(output))
	}
	if want := int32(len(output) / DefaultChunkSize); receives.Load() < want {
		t.Errorf("Receive requests = %d, want at least %d chunks", receives.Load(), want)
	}
}

func TestMaxEnvelopeSizeFault(t *testing.T) {
	_, port := startServer(t, Config{MaxEnvelopeSize: 8 * 1024})
	client := newClient(t, port, clientOptions{})

	script := "Write-Output '" + strings.Repeat("x", 10*1024) + "'"
	_, _, _, err := client.RunPSWithContext(context.Background(), script)
	if err == nil {
		t.Fatal("a 20 KB envelope was accepted, want the MaxEnvelopeSize fault")
	}
	if !strings.Contains(err.Error(), "413") {
		t.Errorf("err = %v, want HTTP 413 as Windows sends it", err)
	}
}

// faultBody returns the SOAP fault the client received for a Command request. The
// client ignores the HTTP status of SOAP responses, so a fault reaches the caller as
// an ExecuteCommandError that carries the response body.
func faultBody(t *testing.T, err error) string {
	t.Helper()
	var execErr *winrm.ExecuteCommandError
	if !errors.As(err, &execErr) {
		t.Fatalf("err = %v, want a *winrm.ExecuteCommandError carrying a fault", err)
	}
	if !strings.Contains(execErr.Body, "<s:Fault>") {
		t.Fatalf("response body is not a SOAP fault: %q", execErr.Body)
	}
	return execErr.Body
}

func TestMaxEnvelopeSizeFaultBody(t *testing.T) {
	srv, port := startServer(t, Config{MaxEnvelopeSize: 1024})
	_ = srv

	body := strings.NewReader(strings.Repeat("x", 2048))
	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:"+strconv.Itoa(port)+"/wsman", body)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(testUser, testPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	fault, _ := io.ReadAll(resp.Body)

	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d, want 413", resp.StatusCode)
	}
	for _, want := range []string{"w:EncodingLimit", `Code="2150859025"`, "MaxEnvelopeSizekb = 1", "faultDetail/MaxEnvelopeSize"} {
		if !strings.Contains(string(fault), want) {
			t.Errorf("fault does not contain %q:\n%s", want, fault)
		}
	}
}

func TestDelayedCommandStoppedOnCancel(t *testing.T) {
	_, port := startServer(t, Config{})
	client := newClient(t, port, clientOptions{timeout: "PT1S"})

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	stdout, _, code, err := client.RunCmdWithContext(ctx, "ping -n 3600 127.0.0.1")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing from a stopped command", stdout)
	}
	if code != exitCodeTerminated {
		t.Errorf("exit code = %d, want %d", code, exitCodeTerminated)
	}
}

func TestCommandTextDecodesEncodedCommand(t *testing.T) {
	encode := func(script string) string {
		var raw []byte
		for _, r := range script {
			raw = append(raw, byte(r), byte(r>>8))
		}
		return base64.StdEncoding.EncodeToString(raw)
	}
	script := "Get-Service -Name 'W32Time'"

	tests := []struct {
		command string
		args    []string
		want    string
	}{
		{"powershell.exe -EncodedCommand " + encode(script), nil, "powershell.exe -EncodedCommand " + script},
		{"powershell", []string{"-NoProfile", "-enc", encode(script)}, "powershell -NoProfile -enc " + script},
		{"PowerShell.exe -EC " + encode(script), nil, "PowerShell.exe -EC " + script},
		{"powershell.exe -ExecutionPolicy Bypass -File x.ps1", nil, "powershell.exe -ExecutionPolicy Bypass -File x.ps1"},
		{"cmd /c echo -e notbase64!", nil, "cmd /c echo -e notbase64!"},
	}
	for _, tt := range tests {
		if got := commandText(tt.command, tt.args); got != tt.want {
			t.Errorf("commandText(%q, %q) = %q, want %q", tt.command, tt.args, got, tt.want)
		}
	}
}

func TestOperationTimeoutParse(t *testing.T) {
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"PT60S", 60 * time.Second},
		{"PT60.000S", 60 * time.Second},
		{"PT1M30S", 90 * time.Second},
		{"PT0.5S", 500 * time.Millisecond},
		{"", 7 * time.Second},
		{"P1D", 7 * time.Second},
	}
	for _, tt := range tests {
		var r request
		r.Header.OperationTimeout = tt.header
		if got := r.operationTimeout(7 * time.Second); got != tt.want {
			t.Errorf("operationTimeout(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestParseReplayErrors(t *testing.T) {
	data := []byte(`- match: "^hostname$"
  stdot: "x"
- match: "(unclosed"
  exit_code: 3010
- match: "gbk"
  stdout: "a"
  stdout_base64: "YQ=="
- stdout: "no match"
  exit_code: nine
  delay: soon
`)
	_, err := ParseReplay("bad.yml", data)
	if err == nil {
		t.Fatal("invalid replay accepted")
	}
	for _, want := range []string{
		`bad.yml:2:3: unknown key "stdot"`,
		"bad.yml:3:10: match is not a valid regular expression",
		"bad.yml:7:18: stdout and stdout_base64 are both set",
		"bad.yml:8:3: entry has no match",
		`bad.yml:9:14: exit_code "nine" is not an integer`,
		`bad.yml:10:10: delay "soon" is not a duration`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%v", want, err)
		}
	}
}

func TestLoadReplayFixture(t *testing.T) {
	entries, err := LoadReplay(filepath.Join("testdata", "replay.yml"))
	if err != nil {
		t.Fatalf("LoadReplay: %v", err)
	}
	wusa := entries[4]
	if wusa.ExitCode != 3010 {
		t.Errorf("wusa entry exit code = %d, want 3010", wusa.ExitCode)
	}
	if got := strconv.Itoa(wusa.Line); got != "27" {
		t.Errorf("wusa entry line = %s, want 27", got)
	}
}
