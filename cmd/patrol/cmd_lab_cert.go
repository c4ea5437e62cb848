package main

import (
	"crypto/x509"
	"fmt"
	"os"

	winrmlab "patrol/lab/winrm"
)

// readLabClientCA reads the --client-ca file, or returns nil when the flag is
// not set.
func (a *app) readLabClientCA(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, invalid(fmt.Errorf("--client-ca %s: %w", path, err))
	}
	if !x509.NewCertPool().AppendCertsFromPEM(data) {
		return nil, invalid(fmt.Errorf("--client-ca %s: %s", path, a.tr(
			"no PEM CA certificate in it: give the CA that signs the client certificates, in PEM form (-----BEGIN CERTIFICATE-----)",
			"其中没有 PEM 格式的 CA 证书：请提供签发客户端证书的 CA，格式为 PEM（-----BEGIN CERTIFICATE-----）")))
	}
	return data, nil
}

// writeLabClientCert writes the client certificate and key the lab generated
// next to the replay file and prints their paths, which go into the
// inventory's cert_file and cert_key_file. It does nothing when certificate
// authentication is off or --client-ca was given.
func (a *app) writeLabClientCert(srv *winrmlab.Server, replayPath string) error {
	if _, ok := srv.GeneratedClientCertificate(); !ok {
		return nil
	}
	certPath, keyPath, err := srv.WriteClientCert(replayPath)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, a.labelled(a.tr("client certificate (cert_file)", "客户端证书（cert_file）"), certPath))
	fmt.Fprintln(a.stdout, a.labelled(a.tr("client key (cert_key_file)", "客户端私钥（cert_key_file）"), keyPath))
	return nil
}
