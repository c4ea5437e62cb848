package winrmlab

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"patrol/internal/upn"
)

// AuthCert is WinRM client-certificate authentication: the client presents a
// certificate in the TLS handshake and names the WS-Management mutual
// authentication profile in the Authorization header of every request. It
// needs Config.TLS.
const AuthCert AuthMethod = "cert"

// mutualAuthProfile is the whole Authorization header value of a request that
// authenticates with its TLS client certificate. masterzen/winrm
// (ClientAuthRequest) sends it with no scheme and no token.
const mutualAuthProfile = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual"

// ClientCertificate is a client CA with one client certificate it signed, all
// PEM-encoded.
type ClientCertificate struct {
	CACertPEM []byte
	CertPEM   []byte
	// KeyPEM is the PKCS #8 private key of CertPEM.
	KeyPEM []byte
}

// clientCertAuth is the set of client CAs the server verifies certificates
// against, with the client certificate it generated.
type clientCertAuth struct {
	roots *x509.CertPool
	// generated is the client certificate New made for Config.User, or nil
	// when Config.ClientCAPEM named the client CAs.
	generated *ClientCertificate
}

// setupCertAuth prepares certificate authentication when Config.Auth lists
// AuthCert: it loads the client CAs from Config.ClientCAPEM, or generates a
// client CA and a certificate for Config.User, and makes the TLS listener ask
// every client for a certificate.
func (s *Server) setupCertAuth() error {
	if !s.accepts(AuthCert) {
		if len(s.cfg.ClientCAPEM) > 0 {
			return errors.New("winrm lab: a client CA is given but certificate authentication is off: add cert to the accepted authentication")
		}
		return nil
	}
	if s.tls == nil {
		return errors.New("winrm lab: certificate authentication needs TLS: set TLS (--tls), because the client certificate travels in the TLS handshake")
	}

	auth := &clientCertAuth{roots: x509.NewCertPool()}
	if len(s.cfg.ClientCAPEM) > 0 {
		if err := addCACerts(auth.roots, s.cfg.ClientCAPEM); err != nil {
			return fmt.Errorf("winrm lab: client CA: %w", err)
		}
	} else {
		generated, err := GenerateClientCertificate(s.cfg.User)
		if err != nil {
			return fmt.Errorf("winrm lab: generate client certificate: %w", err)
		}
		if err := addCACerts(auth.roots, generated.CACertPEM); err != nil {
			return fmt.Errorf("winrm lab: generated client CA: %w", err)
		}
		auth.generated = &generated
	}

	// The lab requests the certificate in the first handshake because Go's TLS
	// server cannot renegotiate. It sends no CA names, so a client offers its
	// certificate whoever issued it, and a foreign one reaches the HTTP layer
	// and gets 401.
	// NOTE: WinRM on Windows requests the certificate by renegotiating after
	// it has read the Authorization header; that exchange is not reproduced.
	s.tls.ClientAuth = tls.RequestClientCert
	s.clientCerts = auth
	return nil
}

// authenticateCert checks the client certificate of a request that carries
// the mutual authentication profile and passes the request on when the
// certificate maps to Config.User. Every request is checked, because every
// request carries the header.
//
// Real WinRM maps a certificate to a local account through a certmapping
// entry (issuer thumbprint, subject pattern, resource URI) and returns 401 for
// a certificate it cannot map. The lab plays one entry that maps every
// certificate from a client CA whose UPN names Config.User, matching the UPN
// as Ansible's WinRM certificate guide does, and also returns 401.
func (s *Server) authenticateCert(w http.ResponseWriter, r *http.Request, conn *connAuth, next http.Handler) {
	if !s.accepts(AuthCert) || s.clientCerts == nil {
		s.unauthorized(w, conn)
		return
	}
	s.auth.attempts.Add(1)

	if err := s.clientCerts.verify(r.TLS, s.cfg.User, time.Now()); err != nil {
		// NOTE: no real host was recorded answering the header without a
		// certificate. The lab sends 401 there too.
		s.log.Warn("client certificate rejected", "err", err, "remote", r.RemoteAddr)
		s.unauthorized(w, conn)
		return
	}
	s.log.Debug("authenticated", "scheme", "cert", "user", s.cfg.User, "remote", r.RemoteAddr)
	next.ServeHTTP(w, r)
}

// verify returns why the client certificate of state does not map to user,
// or nil when it does. A certificate maps when it chains to one of the client
// CAs, is valid at now and allows client authentication. Its user principal
// name before "@" must also equal user without its domain, in any case, as
// Windows compares account names.
func (a *clientCertAuth) verify(state *tls.ConnectionState, user string, now time.Time) error {
	if state == nil {
		return errors.New("certificate authentication over plain HTTP: the request carries no TLS client certificate")
	}
	if len(state.PeerCertificates) == 0 {
		return errors.New("the client presented no certificate in the TLS handshake")
	}

	leaf := state.PeerCertificates[0]
	intermediates := x509.NewCertPool()
	for _, c := range state.PeerCertificates[1:] {
		intermediates.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots:         a.roots,
		Intermediates: intermediates,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return fmt.Errorf("client certificate %q (issuer %q) does not chain to a trusted client CA: %w", leaf.Subject, leaf.Issuer, err)
	}

	principal, err := upn.FromCertificate(leaf)
	if err != nil {
		return fmt.Errorf("client certificate %q: %w", leaf.Subject, err)
	}
	if principal == "" {
		return fmt.Errorf("client certificate %q has no user principal name in its subject alternative name, so no account matches it", leaf.Subject)
	}
	name, _, _ := strings.Cut(principal, "@")
	if !strings.EqualFold(name, accountName(user)) {
		return fmt.Errorf("client certificate %q has the user principal name %q, which maps to no account: the lab maps %s@* to %s", leaf.Subject, principal, accountName(user), user)
	}
	return nil
}

// GenerateClientCertificate creates a throwaway client CA and a client
// certificate it signs for user, the way a certificate for WinRM
// certificate authentication is made: client authentication usage and the
// user principal name user@localhost in the subject alternative name. A domain
// prefix (DOMAIN\user) is left out of the name. It is valid for one year.
func GenerateClientCertificate(user string) (ClientCertificate, error) {
	account := accountName(user)
	if account == "" {
		return ClientCertificate{}, errors.New("no user name for the client certificate")
	}

	now := time.Now()
	ca, err := newCA("patrol winrm lab client CA", now)
	if err != nil {
		return ClientCertificate{}, err
	}
	caKey, caCert, caDER := ca.key, ca.cert, ca.cert.Raw

	san, err := upn.SubjectAltName(account + "@localhost")
	if err != nil {
		return ClientCertificate{}, err
	}
	clientKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return ClientCertificate{}, err
	}
	clientTemplate := &x509.Certificate{
		SerialNumber:    serialNumber(),
		Subject:         pkix.Name{CommonName: account},
		NotBefore:       now.Add(-time.Hour),
		NotAfter:        now.Add(365 * 24 * time.Hour),
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		ExtraExtensions: []pkix.Extension{san},
	}
	clientDER, err := x509.CreateCertificate(rand.Reader, clientTemplate, caCert, &clientKey.PublicKey, caKey)
	if err != nil {
		return ClientCertificate{}, fmt.Errorf("create client certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(clientKey)
	if err != nil {
		return ClientCertificate{}, err
	}

	return ClientCertificate{
		CACertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		CertPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: clientDER}),
		KeyPEM:    pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

// GeneratedClientCertificate returns the client CA, certificate and key New
// generated for Config.User, and false when certificate authentication is off
// or Config.ClientCAPEM named the client CAs.
func (s *Server) GeneratedClientCertificate() (ClientCertificate, bool) {
	if s.clientCerts == nil || s.clientCerts.generated == nil {
		return ClientCertificate{}, false
	}
	return *s.clientCerts.generated, true
}

// WriteClientCert writes the generated client certificate and key next to the
// replay file, as NAME-client.pem and NAME-client-key.pem for NAME.yml, and
// returns their paths for the inventory's cert_file and cert_key_file. The
// key file is readable by its owner only.
func (s *Server) WriteClientCert(replayPath string) (certPath, keyPath string, err error) {
	generated, ok := s.GeneratedClientCertificate()
	if !ok {
		return "", "", errors.New("winrm lab: no generated client certificate: certificate authentication is off, or the server checks certificates against the client CA it was given")
	}

	base := filepath.Base(replayPath)
	stem := filepath.Join(filepath.Dir(replayPath), strings.TrimSuffix(base, filepath.Ext(base)))
	certPath, keyPath = stem+"-client.pem", stem+"-client-key.pem"
	if err := os.WriteFile(certPath, generated.CertPEM, 0o644); err != nil {
		return "", "", fmt.Errorf("winrm lab: write client certificate: %w", err)
	}
	// WriteFile keeps the mode of a file that exists, so a key left by an
	// earlier run is narrowed explicitly.
	if err := os.WriteFile(keyPath, generated.KeyPEM, 0o600); err != nil {
		return "", "", fmt.Errorf("winrm lab: write client key: %w", err)
	}
	if err := os.Chmod(keyPath, 0o600); err != nil {
		return "", "", fmt.Errorf("winrm lab: restrict client key: %w", err)
	}
	return certPath, keyPath, nil
}

// addCACerts adds every CERTIFICATE block of data to pool and fails when data
// has none or one does not parse.
func addCACerts(pool *x509.CertPool, data []byte) error {
	found := 0
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return fmt.Errorf("certificate %d: %w", found+1, err)
		}
		pool.AddCert(cert)
		found++
	}
	if found == 0 {
		return errors.New("no PEM CERTIFICATE block found: give the CA certificate in PEM form (-----BEGIN CERTIFICATE-----)")
	}
	return nil
}

// accountName returns user without a DOMAIN\ prefix.
func accountName(user string) string {
	if _, name, found := strings.Cut(user, `\`); found {
		return name
	}
	return user
}
