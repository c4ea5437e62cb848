package winrmlab

import (
	"bytes"
	"crypto/md5"
	"crypto/rc4"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// Magic constants of the NTLM signing and sealing key derivation (MS-NLMP SIGNKEY and SEALKEY).
var (
	clientSigningMagic = []byte("session key to client-to-server signing key magic constant\x00")
	serverSigningMagic = []byte("session key to server-to-client signing key magic constant\x00")
	clientSealingMagic = []byte("session key to client-to-server sealing key magic constant\x00")
	serverSealingMagic = []byte("session key to server-to-client sealing key magic constant\x00")
)

// Encrypted WinRM messages over HTTP: a multipart/encrypted body
// whose parts start with tab-indented headers, as Windows and pywinrm write them.
const (
	encryptedProtocol    = "application/HTTP-SPNEGO-session-encrypted"
	encryptedBoundary    = "--Encrypted Boundary"
	encryptedContentType = `multipart/encrypted;protocol="` + encryptedProtocol + `";boundary="Encrypted Boundary"`
	octetStreamHeader    = "\tContent-Type: application/octet-stream\r\n"
)

// sealingSession is the server side of NTLM message confidentiality and
// integrity with extended session security. One exists per
// authenticated connection. The RC4 states run on across messages, so the
// messages of a connection must be processed in order.
type sealingSession struct {
	flags                      uint32
	outgoingSign, incomingSign []byte
	outgoing, incoming         *rc4.Cipher
	outgoingSeq, incomingSeq   uint32
}

func newSealingSession(flags uint32, exportedKey []byte) *sealingSession {
	outgoing, _ := rc4.NewCipher(sealKey(flags, exportedKey, serverSealingMagic))
	incoming, _ := rc4.NewCipher(sealKey(flags, exportedKey, clientSealingMagic))
	return &sealingSession{
		flags:        flags,
		outgoingSign: md5Sum(exportedKey, serverSigningMagic),
		incomingSign: md5Sum(exportedKey, clientSigningMagic),
		outgoing:     outgoing,
		incoming:     incoming,
	}
}

// sealKey shortens the exported key to the negotiated strength before hashing.
func sealKey(flags uint32, exportedKey, magic []byte) []byte {
	switch {
	case flags&flag128 != 0:
		return md5Sum(exportedKey, magic)
	case flags&flag56 != 0:
		return md5Sum(exportedKey[:7], magic)
	default:
		return md5Sum(exportedKey[:5], magic)
	}
}

// seal encrypts message for the client and returns it with its 16-byte signature.
func (s *sealingSession) seal(message []byte) (sealed, signature []byte) {
	sealed = make([]byte, len(message))
	s.outgoing.XORKeyStream(sealed, message)
	signature = s.signature(message, s.outgoingSign, s.outgoingSeq, s.outgoing)
	s.outgoingSeq++
	return sealed, signature
}

// unseal decrypts a client message and checks its signature and sequence number.
func (s *sealingSession) unseal(sealed, signature []byte) ([]byte, error) {
	message := make([]byte, len(sealed))
	s.incoming.XORKeyStream(message, sealed)
	expected := s.signature(message, s.incomingSign, s.incomingSeq, s.incoming)
	if subtle.ConstantTimeCompare(signature, expected) != 1 {
		return nil, errors.New("NTLM message signature does not match: the message was altered or is out of sequence")
	}
	s.incomingSeq++
	return message, nil
}

// signature builds NTLMSSP_MESSAGE_SIGNATURE with extended session security:
// version 1, the first 8 bytes of HMAC-MD5(signing key, seq ‖ message),
// RC4-encrypted when keys were exchanged, and the sequence number.
func (s *sealingSession) signature(message, signKey []byte, seq uint32, cipher *rc4.Cipher) []byte {
	seqBytes := binary.LittleEndian.AppendUint32(nil, seq)
	checksum := hmacMD5(signKey, seqBytes, message)[:8]
	if s.flags&flagKeyExchange != 0 {
		cipher.XORKeyStream(checksum, checksum)
	}
	signature := binary.LittleEndian.AppendUint32(nil, 1)
	signature = append(signature, checksum...)
	return append(signature, seqBytes...)
}

// unwrapEncrypted returns the SOAP message inside an encrypted request body.
// The sealed data is located by the Length in OriginalContent, because RC4 keeps
// the length and the ciphertext may contain any bytes, the boundary included.
func (s *sealingSession) unwrapEncrypted(body []byte) ([]byte, error) {
	rest, ok := bytes.CutPrefix(body, []byte(encryptedBoundary+"\r\n"))
	if !ok {
		return nil, errors.New("encrypted body does not start with the Encrypted Boundary")
	}

	header, rest, ok := bytes.Cut(rest, []byte(encryptedBoundary+"\r\n"))
	if !ok {
		return nil, errors.New("encrypted body has no second part")
	}
	if !bytes.Contains(header, []byte(encryptedProtocol)) {
		return nil, fmt.Errorf("encrypted body protocol is not %s", encryptedProtocol)
	}
	_, lengthText, ok := bytes.Cut(header, []byte("Length="))
	if !ok {
		return nil, errors.New("encrypted body has no OriginalContent Length")
	}
	length, err := strconv.Atoi(string(bytes.TrimSpace(lengthText)))
	if err != nil || length < 0 {
		return nil, fmt.Errorf("encrypted body OriginalContent Length %q is not a number", bytes.TrimSpace(lengthText))
	}

	rest, ok = bytes.CutPrefix(rest, []byte(octetStreamHeader))
	if !ok {
		return nil, errors.New("encrypted body part is not application/octet-stream")
	}
	if len(rest) < 4 {
		return nil, errors.New("encrypted body is truncated before the signature")
	}
	signatureLength := int(binary.LittleEndian.Uint32(rest))
	if signatureLength != 16 || len(rest) < 4+signatureLength+length {
		return nil, fmt.Errorf("encrypted body is truncated: signature length %d, %d bytes for a %d-byte message", signatureLength, len(rest), length)
	}
	signature := rest[4 : 4+signatureLength]
	sealed := rest[4+signatureLength : 4+signatureLength+length]
	if !bytes.HasPrefix(rest[4+signatureLength+length:], []byte(encryptedBoundary+"--")) {
		return nil, errors.New("encrypted body does not end with the closing Encrypted Boundary")
	}
	return s.unseal(sealed, signature)
}

// wrapEncrypted seals a SOAP response into the multipart/encrypted body.
func (s *sealingSession) wrapEncrypted(message []byte, contentType string) []byte {
	sealed, signature := s.seal(message)

	var b bytes.Buffer
	b.WriteString(encryptedBoundary + "\r\n")
	b.WriteString("\tContent-Type: " + encryptedProtocol + "\r\n")
	fmt.Fprintf(&b, "\tOriginalContent: type=%s;Length=%d\r\n", contentType, len(message))
	b.WriteString(encryptedBoundary + "\r\n")
	b.WriteString(octetStreamHeader)
	b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(signature))))
	b.Write(signature)
	b.Write(sealed)
	b.WriteString(encryptedBoundary + "--\r\n")
	return b.Bytes()
}

func md5Sum(parts ...[]byte) []byte {
	h := md5.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}
