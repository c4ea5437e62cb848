package winrmconn

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	winrmlab "patrol/lab/winrm"
	"patrol/transport"
)

const (
	labUser     = "Administrator"
	labPassword = "lab-pass-1"
)

// labReplay is what the lab server replays. The quser bytes are the GBK
// output of testdata/quser-gbk.bin, and the CLIXML error is the recorded one
// of testdata/clixml-command-not-found.txt.
func labReplay(t *testing.T) []byte {
	t.Helper()
	quser, err := os.ReadFile("testdata/quser-gbk.bin")
	if err != nil {
		t.Fatal(err)
	}
	clixml, err := os.ReadFile("testdata/clixml-command-not-found.txt")
	if err != nil {
		t.Fatal(err)
	}
	return []byte(`
- match: "& 'quser'"
  stdout_base64: "` + encodeStd(quser) + `"
  exit_code: 0
- match: "Bogus"
  stderr_base64: "` + encodeStd(clixml) + `"
  exit_code: 1
- match: '^>>"%TEMP%\\patrol-[0-9a-f]+\.b64" echo [A-Za-z0-9+/=]+$'
  exit_code: 0
- match: "FromBase64String"
  stdout: "long script ran\r\n"
  exit_code: 0
- match: "Start-Sleep"
  stdout: "late\r\n"
  delay: 30s
`)
}

func startLab(t *testing.T) (port int, caFile string) {
	t.Helper()
	entries, err := winrmlab.ParseReplay("replay.yml", labReplay(t))
	if err != nil {
		t.Fatalf("parse replay: %v", err)
	}
	_, port, caFile = serveLab(t, winrmlab.Config{Entries: entries})
	return port, caFile
}

// serveLab starts the lab server over HTTPS with the test credentials and
// cfg's other settings, and returns it, its port and a file with its CA.
func serveLab(t *testing.T, cfg winrmlab.Config) (srv *winrmlab.Server, port int, caFile string) {
	t.Helper()
	cfg.User, cfg.Password, cfg.TLS = labUser, labPassword, true
	srv, err := winrmlab.New(cfg)
	if err != nil {
		t.Fatalf("start lab server: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() {
		_ = srv.Close()
		<-served
	})

	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, srv.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, l.Addr().(*net.TCPAddr).Port, caFile
}

// dialLab opens a connection to a lab server and closes it when the test ends.
func dialLab(t *testing.T, port int, caFile string) *Conn {
	t.Helper()
	conn, err := Dial(context.Background(), labConfig(port, caFile))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func labConfig(port int, caFile string) Config {
	return Config{
		Host: "seal-db-1", Address: "127.0.0.1", Port: port, HTTPS: true,
		Auth: AuthBasic, User: labUser, Password: labPassword, CAFile: caFile,
		ConnectTimeout: 5 * time.Second, OperationTimeout: 2 * time.Second,
	}
}

func TestConnRunThroughLabServer(t *testing.T) {
	port, caFile := startLab(t)
	conn, err := Dial(context.Background(), labConfig(port, caFile))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer conn.Close()

	res, err := conn.Run(context.Background(), transport.Command{Argv: []string{"quser"}})
	if err != nil {
		t.Fatalf("Run quser: %v", err)
	}
	want, _ := os.ReadFile("testdata/quser-gbk.expected.txt")
	if string(res.Stdout) != string(want) {
		t.Errorf("quser stdout = %q, want %q", res.Stdout, want)
	}

	res, err = conn.Run(context.Background(), transport.Command{Script: "Bogus"})
	if err != nil {
		t.Fatalf("Run Bogus: %v", err)
	}
	if res.ExitCode != 1 {
		t.Errorf("exit code = %d, want 1", res.ExitCode)
	}
	if !strings.HasPrefix(string(res.Stderr), "Bogus : The term 'Bogus' is not recognized") || strings.Contains(string(res.Stderr), "CLIXML") {
		t.Errorf("stderr is not plain text: %q", res.Stderr)
	}
}

// TestConnRunLongScript checks that a script over the command-line limit is
// sent as upload commands and then run. The lab server replays the upload
// commands without writing a file, so the reassembly itself is covered by
// TestChunkedScript.
func TestConnRunLongScript(t *testing.T) {
	port, caFile := startLab(t)
	conn, err := Dial(context.Background(), labConfig(port, caFile))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer conn.Close()

	script := strings.Repeat("Write-Output '巡检 check'\r\n", 1000)
	res, err := conn.Run(context.Background(), transport.Command{Script: script})
	if err != nil {
		t.Fatalf("Run long script: %v", err)
	}
	if string(res.Stdout) != "long script ran\r\n" {
		t.Errorf("stdout = %q, want the output of the loader command", res.Stdout)
	}
}

func TestConnRunTimeout(t *testing.T) {
	port, caFile := startLab(t)
	conn, err := Dial(context.Background(), labConfig(port, caFile))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer conn.Close()

	_, err = conn.Run(context.Background(), transport.Command{Script: "Start-Sleep 30", Timeout: 500 * time.Millisecond})
	if !errors.Is(err, transport.ErrTimeout) {
		t.Errorf("Run error = %v, want one wrapping transport.ErrTimeout", err)
	}
}

func TestDialWrongPassword(t *testing.T) {
	port, caFile := startLab(t)
	cfg := labConfig(port, caFile)
	cfg.Password = "wrong"

	_, err := Dial(context.Background(), cfg)
	var u *transport.UnreachableError
	if !errors.As(err, &u) || u.Reason != "auth" {
		t.Errorf("Dial error = %v, want an unreachable error with reason auth", err)
	}
}

func TestDialUntrustedCertificate(t *testing.T) {
	port, _ := startLab(t)
	cfg := labConfig(port, "")

	_, err := Dial(context.Background(), cfg)
	var u *transport.UnreachableError
	if !errors.As(err, &u) || u.Reason != "hostkey" {
		t.Errorf("Dial error = %v, want an unreachable error with reason hostkey", err)
	}
}
