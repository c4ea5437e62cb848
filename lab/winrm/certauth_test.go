package winrmlab

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/masterzen/winrm"

	"patrol/internal/upn"
)

// certClient returns a winrm client that authenticates with the client
// certificate and key over HTTPS and trusts the server's CA.
func certClient(t *testing.T, srv *Server, port int, certPEM, keyPEM []byte) *winrm.Client {
	t.Helper()
	endpoint := winrm.NewEndpoint("127.0.0.1", port, true, false, srv.CACertPEM(), certPEM, keyPEM, 0)
	params := *winrm.DefaultParameters
	params.TransportDecorator = func() winrm.Transporter { return &winrm.ClientAuthRequest{} }
	client, err := winrm.NewClientWithParameters(endpoint, "", "", &params)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return client
}

func TestCertAuthRunsCommand(t *testing.T) {
	srv, port := startServer(t, Config{TLS: true, Auth: []AuthMethod{AuthCert}})
	generated, ok := srv.GeneratedClientCertificate()
	if !ok {
		t.Fatal("no client certificate was generated for certificate authentication")
	}

	stdout, stderr, code, err := certClient(t, srv, port, generated.CertPEM, generated.KeyPEM).RunWithString("hostname", "")
	if err != nil {
		t.Fatalf("run hostname: %v", err)
	}
	if stdout != "SEAL-DB-1\r\n" || stderr != "" || code != 0 {
		t.Errorf("hostname = %q, %q, exit %d; want %q, empty, exit 0", stdout, stderr, code, "SEAL-DB-1\r\n")
	}
	// Create, Command, Receive, Signal and Delete each carry the header.
	if n := srv.AuthAttempts(); n < 4 {
		t.Errorf("AuthAttempts = %d, want every request checked", n)
	}
}

func TestCertAuthForeignCARejected(t *testing.T) {
	srv, port := startServer(t, Config{TLS: true, Auth: []AuthMethod{AuthCert}})
	foreign, err := GenerateClientCertificate(testUser)
	if err != nil {
		t.Fatal(err)
	}

	_, err = certClient(t, srv, port, foreign.CertPEM, foreign.KeyPEM).CreateShell()
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("CreateShell with a certificate of another CA: err = %v, want HTTP 401", err)
	}
	if n := srv.AuthAttempts(); n != 1 {
		t.Errorf("AuthAttempts = %d, want 1", n)
	}
}

func TestCertAuthGivenClientCA(t *testing.T) {
	ca := newTestCA(t)
	srv, port := startServer(t, Config{TLS: true, Auth: []AuthMethod{AuthCert}, ClientCAPEM: ca.certPEM})
	if _, ok := srv.GeneratedClientCertificate(); ok {
		t.Error("a client certificate was generated although a client CA was given")
	}

	certPEM, keyPEM := ca.issue(t, clientTemplate("administrator@seal.example"))
	stdout, _, _, err := certClient(t, srv, port, certPEM, keyPEM).RunWithString("hostname", "")
	if err != nil {
		t.Fatalf("run hostname: %v", err)
	}
	if stdout != "SEAL-DB-1\r\n" {
		t.Errorf("stdout = %q, want %q", stdout, "SEAL-DB-1\r\n")
	}
}

func TestCertAuthNoClientCertificate(t *testing.T) {
	srv, port := startServer(t, Config{TLS: true, Auth: []AuthMethod{AuthCert}})
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(srv.CACertPEM())
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}

	req, err := http.NewRequest(http.MethodPost, "https://127.0.0.1:"+strconv.Itoa(port)+"/wsman", strings.NewReader("<s:Envelope/>"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", mutualAuthProfile)
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status = %d, want 401", resp.StatusCode)
	}
}

func TestCertAuthWithBasicOnSameListener(t *testing.T) {
	srv, port := startServer(t, Config{TLS: true, Auth: []AuthMethod{AuthBasic, AuthCert}})
	client := newClient(t, port, clientOptions{https: true, caPEM: srv.CACertPEM()})
	stdout, _, _, err := client.RunWithString("hostname", "")
	if err != nil {
		t.Fatalf("Basic login on a listener that asks for client certificates: %v", err)
	}
	if stdout != "SEAL-DB-1\r\n" {
		t.Errorf("stdout = %q, want %q", stdout, "SEAL-DB-1\r\n")
	}
}

func TestCertAuthRejectedWhenNotAccepted(t *testing.T) {
	srv, port := startServer(t, Config{TLS: true, Auth: []AuthMethod{AuthBasic}})
	generated, err := GenerateClientCertificate(testUser)
	if err != nil {
		t.Fatal(err)
	}
	_, err = certClient(t, srv, port, generated.CertPEM, generated.KeyPEM).CreateShell()
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("CreateShell with certificate authentication off: err = %v, want HTTP 401", err)
	}
}

func TestCertAuthConfigErrors(t *testing.T) {
	entries, err := LoadReplay(filepath.Join("testdata", "replay.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"without TLS", Config{Auth: []AuthMethod{AuthCert}}, "needs TLS"},
		{"client CA not PEM", Config{TLS: true, Auth: []AuthMethod{AuthCert}, ClientCAPEM: []byte("not a certificate")}, "no PEM CERTIFICATE block"},
		{"client CA without cert auth", Config{TLS: true, Auth: []AuthMethod{AuthBasic}, ClientCAPEM: newTestCA(t).certPEM}, "certificate authentication is off"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.Entries, c.cfg.User = entries, testUser
			_, err := New(c.cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("New: err = %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestClientCertVerify checks what the lab's certificate mapping accepts.
func TestClientCertVerify(t *testing.T) {
	ca := newTestCA(t)
	other := newTestCA(t)
	now := time.Now()
	auth := &clientCertAuth{roots: x509.NewCertPool()}
	auth.roots.AddCert(ca.cert)

	expired := clientTemplate("Administrator@localhost")
	expired.NotBefore, expired.NotAfter = now.Add(-48*time.Hour), now.Add(-24*time.Hour)
	serverOnly := clientTemplate("Administrator@localhost")
	serverOnly.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	noUPN := clientTemplate("")

	cases := []struct {
		name  string
		user  string
		chain []*x509.Certificate
		want  string // "" means accepted
	}{
		{"mapped", "Administrator", []*x509.Certificate{ca.issueCert(t, clientTemplate("Administrator@localhost"))}, ""},
		{"case and domain ignored", `SEAL-DB-1\administrator`, []*x509.Certificate{ca.issueCert(t, clientTemplate("ADMINISTRATOR@seal.example"))}, ""},
		{"other account", "Administrator", []*x509.Certificate{ca.issueCert(t, clientTemplate("Guest@localhost"))}, "maps to no account"},
		{"other CA", "Administrator", []*x509.Certificate{other.issueCert(t, clientTemplate("Administrator@localhost"))}, "does not chain to a trusted client CA"},
		{"expired", "Administrator", []*x509.Certificate{ca.issueCert(t, expired)}, "expired"},
		{"server authentication only", "Administrator", []*x509.Certificate{ca.issueCert(t, serverOnly)}, "does not chain"},
		{"no user principal name", "Administrator", []*x509.Certificate{ca.issueCert(t, noUPN)}, "no user principal name"},
		{"no certificate", "Administrator", nil, "no certificate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := auth.verify(&tls.ConnectionState{PeerCertificates: c.chain}, c.user, now)
			if c.want == "" {
				if err != nil {
					t.Errorf("verify: %v, want accepted", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("verify: err = %v, want one containing %q", err, c.want)
			}
		})
	}

	if err := auth.verify(nil, "Administrator", now); err == nil || !strings.Contains(err.Error(), "plain HTTP") {
		t.Errorf("verify without TLS: err = %v, want plain HTTP named", err)
	}
}

func TestGenerateClientCertificate(t *testing.T) {
	generated, err := GenerateClientCertificate(`SEAL-DB-1\Administrator`)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(generated.CertPEM, generated.KeyPEM)
	if err != nil {
		t.Fatalf("certificate and key do not form a pair: %v", err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	principal, err := upn.FromCertificate(leaf)
	if err != nil {
		t.Fatal(err)
	}
	if principal != "Administrator@localhost" {
		t.Errorf("UPN = %q, want Administrator@localhost", principal)
	}
	if leaf.Subject.CommonName != "Administrator" {
		t.Errorf("subject CN = %q, want Administrator", leaf.Subject.CommonName)
	}
	if len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Errorf("extended key usage = %v, want client authentication only", leaf.ExtKeyUsage)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(generated.CACertPEM)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate does not chain to its CA: %v", err)
	}
}

func TestWriteClientCertNextToReplay(t *testing.T) {
	srv, _ := startServer(t, Config{TLS: true, Auth: []AuthMethod{AuthCert}})
	dir := t.TempDir()
	certPath, keyPath, err := srv.WriteClientCert(filepath.Join(dir, "seal-db.yml"))
	if err != nil {
		t.Fatalf("WriteClientCert: %v", err)
	}
	if certPath != filepath.Join(dir, "seal-db-client.pem") || keyPath != filepath.Join(dir, "seal-db-client-key.pem") {
		t.Errorf("paths = %s, %s; want seal-db-client.pem and seal-db-client-key.pem in %s", certPath, keyPath, dir)
	}
	info, err := os.Stat(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("key file mode = %o, want 600", mode)
	}
	if _, err := tls.LoadX509KeyPair(certPath, keyPath); err != nil {
		t.Errorf("written files do not form a key pair: %v", err)
	}

	plain, _ := startServer(t, Config{TLS: true})
	if _, _, err := plain.WriteClientCert(filepath.Join(dir, "plain.yml")); err == nil {
		t.Error("WriteClientCert succeeded on a server without certificate authentication")
	}
}

// testCA is a throwaway CA that issues client certificates in tests.
type testCA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber:          serialNumber(),
		Subject:               pkix.Name{CommonName: "test client CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// clientTemplate is a client authentication certificate with upn in its
// subject alternative name, or with no subject alternative name when upn is
// empty.
func clientTemplate(principal string) *x509.Certificate {
	template := &x509.Certificate{
		SerialNumber: serialNumber(),
		Subject:      pkix.Name{CommonName: "patrol"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if principal != "" {
		san, err := upn.SubjectAltName(principal)
		if err != nil {
			panic(err)
		}
		template.ExtraExtensions = []pkix.Extension{san}
	}
	return template
}

func (ca *testCA) issueCert(t *testing.T, template *x509.Certificate) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificate(rand.Reader, template, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// issue returns the PEM of a certificate from template and of its key.
func (ca *testCA) issue(t *testing.T, template *x509.Certificate) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificate(rand.Reader, template, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}
