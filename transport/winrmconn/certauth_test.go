package winrmconn

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"patrol/inventory"
	winrmlab "patrol/lab/winrm"
	"patrol/transport"
)

// serveCertLab starts the lab server over HTTPS with certificate
// authentication only, and returns it, its port, a file with its CA, and the
// client certificate and key files it generated for labUser.
func serveCertLab(t *testing.T) (srv *winrmlab.Server, port int, caFile, certFile, keyFile string) {
	t.Helper()
	entries, err := winrmlab.ParseReplay("replay.yml", labReplay(t))
	if err != nil {
		t.Fatalf("parse replay: %v", err)
	}
	srv, port, caFile = serveLab(t, winrmlab.Config{Entries: entries, Auth: []winrmlab.AuthMethod{winrmlab.AuthCert}})
	certFile, keyFile, err = srv.WriteClientCert(filepath.Join(t.TempDir(), "seal-db.yml"))
	if err != nil {
		t.Fatalf("write client certificate: %v", err)
	}
	return srv, port, caFile, certFile, keyFile
}

func certConfig(port int, caFile, certFile, keyFile string) Config {
	return Config{
		Host: "seal-db-1", Address: "127.0.0.1", Port: port, HTTPS: true,
		Auth: AuthCert, CAFile: caFile, CertFile: certFile, CertKeyFile: keyFile,
		ConnectTimeout: 5 * time.Second, OperationTimeout: 2 * time.Second,
	}
}

func TestCertAuthRunThroughLab(t *testing.T) {
	_, port, caFile, certFile, keyFile := serveCertLab(t)

	conn, err := Dial(context.Background(), certConfig(port, caFile, certFile, keyFile))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer conn.Close()

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

func TestCertAuthForeignCARejected(t *testing.T) {
	srv, port, caFile, _, _ := serveCertLab(t)
	foreign, err := winrmlab.GenerateClientCertificate(labUser)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// cert_file carries the issuing CA too, so the message can give its
	// thumbprint for the host's certmapping.
	certFile := writeTestFile(t, dir, "foreign.pem", append(append([]byte{}, foreign.CertPEM...), foreign.CACertPEM...))
	keyFile := writeTestFile(t, dir, "foreign-key.pem", foreign.KeyPEM)

	_, err = Dial(context.Background(), certConfig(port, caFile, certFile, keyFile))

	var u *transport.UnreachableError
	if !errors.As(err, &u) || u.Reason != "auth" {
		t.Fatalf("Dial error = %v, want an unreachable error with reason auth", err)
	}
	var rejected *CertRejectedError
	if !errors.As(err, &rejected) {
		t.Fatalf("Dial error is %T, want it to wrap *CertRejectedError", err)
	}
	block, _ := pem.Decode(foreign.CACertPEM)
	sum := sha1.Sum(block.Bytes)
	thumbprint := strings.ToUpper(hex.EncodeToString(sum[:]))
	message := rejected.Message()
	for _, want := range []string{certFile, "Administrator@localhost", "Issuer=" + thumbprint, "winrm/config/service/certmapping", `'@{Certificate="true"}'`, `URI=* '@{UserName=`, "cmd.exe"} {
		if !strings.Contains(message.EN, want) {
			t.Errorf("message lacks %q:\n%s", want, message.EN)
		}
	}
	for _, want := range []string{certFile, "拒绝了", "Issuer=" + thumbprint, `'@{Certificate="true"}'`, "cmd.exe"} {
		if !strings.Contains(message.ZH, want) {
			t.Errorf("Chinese message lacks %q:\n%s", want, message.ZH)
		}
	}
	if n := srv.AuthAttempts(); n != 1 {
		t.Errorf("the host checked %d certificates, want 1 (no retry)", n)
	}
}

// TestCertAuthRejectedInHandshake plays a host whose TLS layer checks the
// client certificate itself and ends the handshake with an alert. The host
// speaks TLS 1.2 at most, as Windows Server 2012 R2 does. Under TLS 1.2 the
// alert arrives before the handshake completes, whereas under TLS 1.3 the
// client may see a reset connection instead.
func TestCertAuthRejectedInHandshake(t *testing.T) {
	_, _, _, certFile, keyFile := serveCertLab(t)
	host := httptest.NewUnstartedServer(http.NotFoundHandler())
	host.TLS = &tls.Config{MaxVersion: tls.VersionTLS12, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: x509.NewCertPool()}
	host.StartTLS()
	defer host.Close()
	caFile := writeTestFile(t, t.TempDir(), "host-ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: host.Certificate().Raw}))

	_, err := Dial(context.Background(), certConfig(host.Listener.Addr().(*net.TCPAddr).Port, caFile, certFile, keyFile))

	var rejected *CertRejectedError
	if !errors.As(err, &rejected) {
		t.Fatalf("Dial error = %v (%T), want it to wrap *CertRejectedError", err, err)
	}
	if !strings.Contains(rejected.Message().EN, "TLS handshake failed") || !strings.Contains(rejected.Message().ZH, "TLS 握手失败") {
		t.Errorf("message does not say the handshake failed:\n%s\n%s", rejected.Message().EN, rejected.Message().ZH)
	}
}

func TestCertAuthMissingKeyFile(t *testing.T) {
	srv, port, caFile, certFile, _ := serveCertLab(t)
	missing := filepath.Join(t.TempDir(), "seal-db-client-key.pem")

	host := inventory.Host{Name: "seal-db-1", Source: "inventory.yml:4", Address: "127.0.0.1", Port: port,
		Auth: AuthCert, TLS: true, CAFile: caFile, CertFile: certFile, CertKeyFile: missing}
	_, err := ConfigFromHost(&host, Options{})
	checkConfigError(t, err, missing, "cert_key_file", "file not found", "文件不存在")
	if !strings.Contains(err.Error(), "host seal-db-1 (inventory.yml:4)") {
		t.Errorf("error does not name the host and its inventory line: %v", err)
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error does not wrap the file error: %v", err)
	}

	_, err = Dial(context.Background(), certConfig(port, caFile, certFile, missing))
	checkConfigError(t, err, missing, "cert_key_file", "file not found", "文件不存在")
	if n := srv.AuthAttempts(); n != 0 {
		t.Errorf("the host checked %d certificates, want none", n)
	}
}

// TestCertAuthOverHTTPRefused checks that auth: cert over plain HTTP fails
// before patrol opens a connection to the host.
func TestCertAuthOverHTTPRefused(t *testing.T) {
	_, _, _, certFile, keyFile := serveCertLab(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cfg := certConfig(l.Addr().(*net.TCPAddr).Port, "", certFile, keyFile)
	cfg.HTTPS = false

	_, err = Dial(context.Background(), cfg)

	var configErr *ConfigError
	if !errors.As(err, &configErr) {
		t.Fatalf("Dial error = %v (%T), want *ConfigError", err, err)
	}
	for _, want := range []string{"host seal-db-1", "needs HTTPS", "tls: true"} {
		if !strings.Contains(configErr.Message().EN, want) {
			t.Errorf("message lacks %q: %s", want, configErr.Message().EN)
		}
	}
	if !strings.Contains(configErr.Message().ZH, "主机 seal-db-1") || !strings.Contains(configErr.Message().ZH, "tls: true") {
		t.Errorf("Chinese message does not name the host and setting: %s", configErr.Message().ZH)
	}

	// The listener queues connections in the order they were made, so if the
	// sentinel is the first one accepted, Dial made none.
	sentinel, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer sentinel.Close()
	first, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if first.RemoteAddr().String() != sentinel.LocalAddr().String() {
		t.Errorf("Dial connected to the host (from %s) before refusing certificate authentication over HTTP", first.RemoteAddr())
	}
}

func TestCertAuthVerifiesHostCertificate(t *testing.T) {
	_, port, _, certFile, keyFile := serveCertLab(t)

	_, err := Dial(context.Background(), certConfig(port, "", certFile, keyFile))

	var u *transport.UnreachableError
	if !errors.As(err, &u) || u.Reason != "hostkey" {
		t.Errorf("Dial without ca_file = %v, want an unreachable error with reason hostkey", err)
	}
}

func TestCertAuthConfigFromHost(t *testing.T) {
	_, port, caFile, certFile, keyFile := serveCertLab(t)
	host := inventory.Host{Name: "seal-db-1", Address: "127.0.0.1", Port: port,
		Auth: AuthCert, TLS: true, CAFile: caFile, CertFile: certFile, CertKeyFile: keyFile}

	cfg, err := ConfigFromHost(&host, Options{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatalf("ConfigFromHost: %v", err)
	}
	if cfg.Password != "" || cfg.CertFile != certFile || cfg.CertKeyFile != keyFile {
		t.Errorf("config = password %q, cert %q, key %q; want no password and the inventory's files", cfg.Password, cfg.CertFile, cfg.CertKeyFile)
	}
	conn, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	_ = conn.Close()
}

func TestLoadClientCertErrors(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	good, goodKey := selfSignedClientCert(t, nil)
	_, otherKey := selfSignedClientCert(t, nil)
	expired, expiredKey := selfSignedClientCert(t, func(c *x509.Certificate) {
		c.NotBefore, c.NotAfter = now.Add(-48*time.Hour), now.Add(-24*time.Hour)
	})
	future, futureKey := selfSignedClientCert(t, func(c *x509.Certificate) {
		c.NotBefore, c.NotAfter = now.Add(24*time.Hour), now.Add(48*time.Hour)
	})
	serverOnly, serverOnlyKey := selfSignedClientCert(t, func(c *x509.Certificate) {
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	})
	goodBlock, _ := pem.Decode(good)

	files := map[string][]byte{
		"good.pem":          good,
		"good-key.pem":      goodKey,
		"other-key.pem":     otherKey,
		"expired.pem":       expired,
		"expired-key.pem":   expiredKey,
		"future.pem":        future,
		"future-key.pem":    futureKey,
		"server.pem":        serverOnly,
		"server-key.pem":    serverOnlyKey,
		"client.der":        goodBlock.Bytes,
		"notes.txt":         []byte("client certificate for seal-db-1\n"),
		"encrypted-key.pem": pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{0x30, 0x00}}),
		"legacy-encrypted-key.pem": pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY",
			Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00000000000000000000000000000000"}, Bytes: []byte{0x30, 0x00}}),
	}
	for name, data := range files {
		writeTestFile(t, dir, name, data)
	}
	if err := os.Mkdir(filepath.Join(dir, "certs"), 0o755); err != nil {
		t.Fatal(err)
	}
	path := func(name string) string { return filepath.Join(dir, name) }

	cases := []struct {
		name         string
		cert, key    string
		file         string // the path the message must name
		want, wantZH string
	}{
		{"cert missing", "absent.pem", "good-key.pem", "absent.pem", "cert_file " + path("absent.pem") + ": file not found", "文件不存在"},
		{"cert is a directory", "certs", "good-key.pem", "certs", "cannot be read", "无法读取"},
		{"cert not PEM", "notes.txt", "good-key.pem", "notes.txt", "is not a PEM certificate", "不是 PEM 证书"},
		{"cert in DER", "client.der", "good-key.pem", "client.der", "openssl x509 -inform der", "DER"},
		{"files swapped", "good-key.pem", "good.pem", "good-key.pem", "look swapped", "填反"},
		{"key is a certificate", "good.pem", "good.pem", "good.pem", "cert_key_file " + path("good.pem") + " contains a certificate but no private key", "填反"},
		{"key not PEM", "good.pem", "notes.txt", "notes.txt", "is not a PEM private key", "不是 PEM 私钥"},
		{"key encrypted", "good.pem", "encrypted-key.pem", "encrypted-key.pem", "encrypted with a passphrase", "口令加密"},
		{"key encrypted in legacy PEM", "good.pem", "legacy-encrypted-key.pem", "legacy-encrypted-key.pem", "encrypted with a passphrase", "口令加密"},
		{"key of another certificate", "good.pem", "other-key.pem", "other-key.pem", "is not the private key of the certificate", "不是"},
		{"certificate expired", "expired.pem", "expired-key.pem", "expired.pem", "expired at", "已于"},
		{"certificate not yet valid", "future.pem", "future-key.pem", "future.pem", "is not valid before", "之前无效"},
		{"certificate for servers only", "server.pem", "server-key.pem", "server.pem", "is not for client authentication", "不能用于客户端认证"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := Config{Host: "seal-db-1", Auth: AuthCert, HTTPS: true, CertFile: path(c.cert), CertKeyFile: path(c.key)}
			_, _, err := cfg.loadClientCert()
			checkConfigError(t, err, path(c.file), c.want, c.wantZH)
		})
	}

	t.Run("valid pair", func(t *testing.T) {
		cfg := Config{Host: "seal-db-1", Auth: AuthCert, HTTPS: true, CertFile: path("good.pem"), CertKeyFile: path("good-key.pem")}
		certPEM, keyPEM, err := cfg.loadClientCert()
		if err != nil {
			t.Fatalf("loadClientCert: %v", err)
		}
		if string(certPEM) != string(good) || string(keyPEM) != string(goodKey) {
			t.Error("loadClientCert did not return the files as read")
		}
	})
}

// TestLoadClientCertRSAPKCS1 loads an RSA key in the PKCS #1 form that older
// OpenSSL versions write ("BEGIN RSA PRIVATE KEY").
func TestLoadClientCertRSAPKCS1(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	template := clientCertTemplate()
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := Config{Host: "seal-db-1", Auth: AuthCert, HTTPS: true,
		CertFile:    writeTestFile(t, dir, "rsa.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		CertKeyFile: writeTestFile(t, dir, "rsa-key.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))}

	if _, _, err := cfg.loadClientCert(); err != nil {
		t.Errorf("loadClientCert: %v", err)
	}
}

// checkConfigError fails t unless err is a *ConfigError whose English text
// names file and contains want, and whose Chinese text names file and
// contains wantZH.
func checkConfigError(t *testing.T, err error, file string, want ...string) {
	t.Helper()
	var configErr *ConfigError
	if !errors.As(err, &configErr) {
		t.Fatalf("error = %v (%T), want *ConfigError", err, err)
	}
	text := configErr.Message()
	if !strings.Contains(text.EN, file) || !strings.Contains(text.ZH, file) {
		t.Errorf("message does not name %s:\n%s\n%s", file, text.EN, text.ZH)
	}
	for _, w := range want {
		if !strings.Contains(text.EN, w) && !strings.Contains(text.ZH, w) {
			t.Errorf("message lacks %q:\n%s\n%s", w, text.EN, text.ZH)
		}
	}
}

func clientCertTemplate() *x509.Certificate {
	return &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: labUser},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
}

// selfSignedClientCert returns the PEM of a self-signed client certificate,
// changed by edit when it is not nil, and of its PKCS #8 key.
func selfSignedClientCert(t *testing.T, edit func(*x509.Certificate)) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := clientCertTemplate()
	if edit != nil {
		edit(template)
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

func writeTestFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
