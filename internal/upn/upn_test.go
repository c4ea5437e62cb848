package upn

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"
)

func TestSubjectAltNameRoundTrip(t *testing.T) {
	ext, err := SubjectAltName("ops@SEAL.LOCAL")
	if err != nil {
		t.Fatal(err)
	}
	cert := &x509.Certificate{Extensions: []pkix.Extension{ext}}

	got, err := FromCertificate(cert)
	if err != nil {
		t.Fatal(err)
	}
	if got != "ops@SEAL.LOCAL" {
		t.Errorf("UPN = %q, want ops@SEAL.LOCAL", got)
	}
}

func TestFromCertificateWithoutUPN(t *testing.T) {
	got, err := FromCertificate(&x509.Certificate{})
	if err != nil || got != "" {
		t.Errorf("FromCertificate = %q, %v; want empty, nil", got, err)
	}
}
