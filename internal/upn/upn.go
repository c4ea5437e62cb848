// Package upn reads and writes the user principal name (UPN) that Windows
// maps a client certificate to an account by. It sits in a subject
// alternative name as an otherName, which Go's crypto/x509 skips.
package upn

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
)

var (
	oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}
	// oidUPN is Microsoft's otherName type of a user principal name.
	oidUPN = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 20, 2, 3}
)

// SubjectAltName builds a subject alternative name extension that holds
// one otherName, the user principal name upn as a UTF8String (RFC 5280
// section 4.2.1.6 and Microsoft's UPN object identifier).
func SubjectAltName(upn string) (pkix.Extension, error) {
	value, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagUTF8String, Bytes: []byte(upn)})
	if err != nil {
		return pkix.Extension{}, err
	}
	explicitValue, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: value})
	if err != nil {
		return pkix.Extension{}, err
	}
	typeID, err := asn1.Marshal(oidUPN)
	if err != nil {
		return pkix.Extension{}, err
	}
	otherName := asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: append(typeID, explicitValue...)}
	names, err := asn1.Marshal([]asn1.RawValue{otherName})
	if err != nil {
		return pkix.Extension{}, err
	}
	return pkix.Extension{Id: oidSubjectAltName, Value: names}, nil
}

// FromCertificate returns the first user principal name in the subject
// alternative name of cert, or "" when it has none. Go's x509 package skips
// otherName entries, so the extension is parsed here.
func FromCertificate(cert *x509.Certificate) (string, error) {
	for _, ext := range cert.Extensions {
		if !ext.Id.Equal(oidSubjectAltName) {
			continue
		}
		var names []asn1.RawValue
		rest, err := asn1.Unmarshal(ext.Value, &names)
		if err != nil {
			return "", fmt.Errorf("invalid subject alternative name extension: %w", err)
		}
		if len(rest) > 0 {
			return "", errors.New("invalid subject alternative name extension: trailing data")
		}
		for _, name := range names {
			// otherName is [0] IMPLICIT SEQUENCE { type-id, [0] EXPLICIT value }.
			if name.Class != asn1.ClassContextSpecific || name.Tag != 0 {
				continue
			}
			var typeID asn1.ObjectIdentifier
			rest, err := asn1.Unmarshal(name.Bytes, &typeID)
			if err != nil || !typeID.Equal(oidUPN) {
				continue
			}
			var explicitValue asn1.RawValue
			if _, err := asn1.Unmarshal(rest, &explicitValue); err != nil {
				return "", fmt.Errorf("invalid user principal name: %w", err)
			}
			var upn string
			if _, err := asn1.Unmarshal(explicitValue.Bytes, &upn); err != nil {
				return "", fmt.Errorf("invalid user principal name: %w", err)
			}
			return upn, nil
		}
	}
	return "", nil
}
