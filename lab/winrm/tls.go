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
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// CACertPEM returns the PEM of the CA that signed the server certificate, or nil
// without Config.TLS. A client trusts the server by adding it to its roots.
func (s *Server) CACertPEM() []byte {
	return s.caPEM
}

// WriteCACert writes the CA certificate next to the replay file, as NAME-ca.pem for
// NAME.yml, and returns its path so a person can hand it to the inventory.
func (s *Server) WriteCACert(replayPath string) (string, error) {
	if s.caPEM == nil {
		return "", errors.New("winrm lab: no CA certificate: the server was created without TLS")
	}

	base := filepath.Base(replayPath)
	name := strings.TrimSuffix(base, filepath.Ext(base)) + "-ca.pem"
	path := filepath.Join(filepath.Dir(replayPath), name)
	if err := os.WriteFile(path, s.caPEM, 0o644); err != nil {
		return "", fmt.Errorf("winrm lab: write CA certificate: %w", err)
	}
	return path, nil
}

// newCertificates creates a throwaway CA and a server certificate it signs, valid for
// localhost, 127.0.0.1 and ::1. The keys live in memory only.
func newCertificates() (caPEM []byte, config *tls.Config, err error) {
	now := time.Now()
	ca, err := newCA("patrol winrm lab CA", now)
	if err != nil {
		return nil, nil, err
	}
	caKey, caCert, caDER := ca.key, ca.cert, ca.cert.Raw

	serverKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serverTemplate := &x509.Certificate{
		SerialNumber: serialNumber(),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	serverDER, err := x509.CreateCertificate(rand.Reader, serverTemplate, caCert, &serverKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("create server certificate: %w", err)
	}

	caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	config = &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{{Certificate: [][]byte{serverDER, caDER}, PrivateKey: serverKey}},
	}
	return caPEM, config, nil
}

func serialNumber() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

// labCA is a throwaway certificate authority of the lab.
type labCA struct {
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
}

// newCA creates a self-signed CA named commonName, valid for a year from now
// and allowed to sign only end-entity certificates.
func newCA(commonName string, now time.Time) (labCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return labCA{}, err
	}
	template := &x509.Certificate{
		SerialNumber:          serialNumber(),
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return labCA{}, fmt.Errorf("create %s certificate: %w", commonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return labCA{}, err
	}
	return labCA{key: key, cert: cert}, nil
}
