package checks

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"patrol/i18n"
	"patrol/module"
)

// selfSigned makes a certificate for 127.0.0.1 valid until notAfter and writes
// it to a PEM file that ca_file can point to.
func selfSigned(t *testing.T, notAfter time.Time) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "patrol test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              notAfter,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return pair, caFile
}

func tlsServer(t *testing.T, cert tls.Certificate, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes the client rejects on purpose
	srv.StartTLS()
	t.Cleanup(srv.Close)
	if !strings.HasPrefix(srv.URL, "https://127.0.0.1:") {
		t.Fatalf("test server at %s, want 127.0.0.1", srv.URL)
	}
	return srv
}

func page(body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(body))
	})
}

func findingByItem(t *testing.T, findings []module.Finding, item string) module.Finding {
	t.Helper()
	for _, f := range findings {
		if f.Item == item {
			return f
		}
	}
	t.Fatalf("no finding for %q in %+v", item, findings)
	return module.Finding{}
}

func TestHTTPCertificateDaysLeft(t *testing.T) {
	tests := []struct {
		name   string
		left   time.Duration
		status module.Status
	}{
		{"fresh", 90 * 24 * time.Hour, module.StatusOK},
		{"warn window", 20*24*time.Hour + time.Hour, module.StatusWarn},
		{"fail window", 5*24*time.Hour + time.Hour, module.StatusFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, caFile := selfSigned(t, time.Now().Add(tt.left))
			srv := tlsServer(t, cert, page("<title>旅馆业治安管理信息系统</title>"))

			res := runCheck(t, localEnv(t), httpCheck, module.Args{"url": srv.URL + "/", "ca_file": caFile, "contains": "旅馆业"})
			resp := findingByItem(t, res.Findings, srv.URL+"/")
			if resp.Status != module.StatusOK {
				t.Errorf("response = %s %q, want ok", resp.Status, resp.Message.EN)
			}
			c := findingByItem(t, res.Findings, srv.URL+"/ certificate")
			if c.Status != tt.status {
				t.Errorf("certificate = %s %q, want %s", c.Status, c.Value, tt.status)
			}
			if c.Threshold != i18n.T("warn ≤30 days, fail ≤7 days", "警告 ≤30 天，不合格 ≤7 天") {
				t.Errorf("threshold = %q", c.Threshold)
			}
		})
	}
}

func TestHTTPUntrustedCertificate(t *testing.T) {
	cert, _ := selfSigned(t, time.Now().Add(49*time.Hour))
	srv := tlsServer(t, cert, page("ok"))

	res := runCheck(t, localEnv(t), httpCheck, module.Args{"url": srv.URL})
	if f := res.Findings[0]; len(res.Findings) != 1 || f.Status != module.StatusFail || !strings.Contains(f.Message.EN, "certificate") {
		t.Errorf("untrusted certificate: %+v, want one fail naming the certificate", res.Findings)
	}

	res = runCheck(t, localEnv(t), httpCheck, module.Args{"url": srv.URL, "insecure": true})
	c := findingByItem(t, res.Findings, srv.URL+" certificate")
	if c.Status != module.StatusFail || c.Value != i18n.T("2 days left", "剩余 2 天") {
		t.Errorf("insecure still reports days left: %s %q, want fail 2 days left", c.Status, c.Value)
	}
}

func TestHTTPStatusBodyLatency(t *testing.T) {
	srv := httptest.NewServer(page("welcome"))
	t.Cleanup(srv.Close)

	tests := []struct {
		name   string
		args   module.Args
		item   string
		status module.Status
		value  i18n.Text
	}{
		{"200 ok", module.Args{"url": srv.URL + "/"}, srv.URL + "/", module.StatusOK, i18n.T("status 200", "状态码 200")},
		{"404 expected 200", module.Args{"url": srv.URL + "/missing"}, srv.URL + "/missing", module.StatusFail, i18n.T("status 404", "状态码 404")},
		{"404 expected", module.Args{"url": srv.URL + "/missing", "status": 404}, srv.URL + "/missing", module.StatusOK, i18n.T("status 404", "状态码 404")},
		{"text missing", module.Args{"url": srv.URL + "/", "contains": "login"}, srv.URL + "/", module.StatusFail, i18n.T("status 200, text missing", "状态码 200，缺少该文本")},
		{"latency limit", module.Args{"url": srv.URL + "/", "max_latency": time.Minute}, srv.URL + "/ latency", module.StatusOK, i18n.Text{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCheck(t, localEnv(t), httpCheck, tt.args)
			f := findingByItem(t, res.Findings, tt.item)
			if f.Status != tt.status {
				t.Errorf("status = %s, want %s (%s)", f.Status, tt.status, f.Message.EN)
			}
			if !tt.value.IsZero() && f.Value != tt.value {
				t.Errorf("value = %q, want %q", f.Value, tt.value)
			}
		})
	}
}

func TestHTTPConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	res := runCheck(t, localEnv(t), httpCheck, module.Args{"url": "http://" + addr + "/"})
	if len(res.Findings) != 1 || res.Findings[0].Status != module.StatusFail || res.Findings[0].Value != i18n.T("no response", "无响应") {
		t.Errorf("findings = %+v, want one fail with no response", res.Findings)
	}
}

// A web application that accepts the connection and never responds is not
// reported as a host that is down.
func TestHTTPServerNeverReplies(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan []net.Conn)
	go func() {
		var conns []net.Conn
		for {
			conn, err := ln.Accept()
			if err != nil {
				done <- conns
				return
			}
			conns = append(conns, conn)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for _, conn := range <-done {
			conn.Close()
		}
	})
	url := "http://" + ln.Addr().String() + "/"

	res := runCheck(t, localEnv(t), httpCheck, module.Args{"url": url, "timeout": 300 * time.Millisecond})

	if len(res.Findings) != 1 || res.Findings[0].Status != module.StatusFail {
		t.Fatalf("findings = %+v, want one fail", res.Findings)
	}
	msg := res.Findings[0].Message
	if strings.Contains(msg.ZH, "主机没有应答") || strings.Contains(msg.EN, "the host did not answer") {
		t.Errorf("message = %+v says the host did not answer, but it accepted the connection", msg)
	}
	if !strings.Contains(msg.ZH, "服务器已接受连接，但未在时限内应答") || !strings.Contains(msg.EN, "the server accepted the connection but did not reply in time") {
		t.Errorf("message = %+v, want the accepted connection that got no reply named", msg)
	}
}
