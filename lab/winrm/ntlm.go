package winrmlab

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/rc4"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"

	"golang.org/x/crypto/md4" //nolint:staticcheck // NTLM's NT hash is MD4 by definition.
)

// NTLM negotiate flags of MS-NLMP that the lab server reads or sets.
const (
	flagUnicode          uint32 = 0x00000001
	flagRequestTarget    uint32 = 0x00000004
	flagSign             uint32 = 0x00000010
	flagSeal             uint32 = 0x00000020
	flagNTLM             uint32 = 0x00000200
	flagAlwaysSign       uint32 = 0x00008000
	flagTargetTypeServer uint32 = 0x00020000
	flagExtendedSecurity uint32 = 0x00080000
	flagTargetInfo       uint32 = 0x00800000
	flagVersion          uint32 = 0x02000000
	flag128              uint32 = 0x20000000
	flagKeyExchange      uint32 = 0x40000000
	flag56               uint32 = 0x80000000

	// flagsSupported are the client flags the server echoes in its CHALLENGE.
	// LM_KEY, DATAGRAM, IDENTITY and OEM are left out, so clients fall back to
	// NTLMv2 with Unicode strings.
	flagsSupported = flagUnicode | flagSign | flagSeal | flagAlwaysSign | flagExtendedSecurity |
		flagTargetInfo | flagVersion | flag128 | flagKeyExchange | flag56
)

// NTLM message types and the AV_PAIR ids of the CHALLENGE target info.
const (
	ntlmNegotiate    = 1
	ntlmChallenge    = 2
	ntlmAuthenticate = 3

	avEOL             = 0
	avNbComputerName  = 1
	avNbDomainName    = 2
	avDNSComputerName = 3
	avDNSDomainName   = 4
	avTimestamp       = 7
)

var ntlmSignature = []byte("NTLMSSP\x00")

// serverVersion is the VERSION field sent in the CHALLENGE: Windows 6.3 build
// 9600 (Server 2012 R2), NTLM revision 15.
var serverVersion = []byte{6, 3, 0x80, 0x25, 0, 0, 0, 15}

// errNTLMMessage marks a token that is not a well-formed NTLM message, as
// opposed to a well-formed one with wrong credentials.
var errNTLMMessage = errors.New("malformed NTLM message")

// ntlmType returns the message type of an NTLMSSP token, or an error when the
// token is not one (SPNEGO-wrapped tokens are not accepted).
func ntlmType(token []byte) (uint32, error) {
	if len(token) < 12 || !bytes.Equal(token[:8], ntlmSignature) {
		return 0, fmt.Errorf("%w: no NTLMSSP signature (SPNEGO-wrapped tokens are not supported)", errNTLMMessage)
	}
	return binary.LittleEndian.Uint32(token[8:12]), nil
}

// challengeState is the server state between its CHALLENGE and the
// client's AUTHENTICATE on one connection.
type challengeState struct {
	flags           uint32
	serverChallenge [8]byte
}

// newChallenge builds the CHALLENGE reply to a NEGOTIATE message,
// carrying a fresh server challenge and target info with the current time.
func newChallenge(negotiate []byte, machine string) ([]byte, *challengeState, error) {
	if len(negotiate) < 16 {
		return nil, nil, fmt.Errorf("%w: NEGOTIATE has %d bytes", errNTLMMessage, len(negotiate))
	}
	clientFlags := binary.LittleEndian.Uint32(negotiate[12:16])
	if clientFlags&flagUnicode == 0 {
		return nil, nil, fmt.Errorf("%w: the client does not offer Unicode strings", errNTLMMessage)
	}

	state := &challengeState{
		flags: clientFlags&flagsSupported | flagRequestTarget | flagTargetInfo | flagTargetTypeServer | flagNTLM,
	}
	// Signing and sealing keys are derived only the extended session security
	// way, so without it the server offers neither.
	if state.flags&flagExtendedSecurity == 0 {
		state.flags &^= flagSign | flagSeal | flagAlwaysSign | flagKeyExchange
	}
	if _, err := rand.Read(state.serverChallenge[:]); err != nil {
		return nil, nil, fmt.Errorf("generate server challenge: %w", err)
	}

	name := strings.ToUpper(machine)
	if len(name) > 15 {
		name = name[:15] // NetBIOS names have at most 15 characters.
	}
	targetName := utf16le(name)
	targetInfo := targetInfoPairs(name, strings.ToLower(machine))

	const headerSize = 56 // fixed fields plus the 8-byte VERSION
	var b bytes.Buffer
	b.Write(ntlmSignature)
	writeUint32(&b, ntlmChallenge)
	writeField(&b, len(targetName), headerSize)
	writeUint32(&b, state.flags)
	b.Write(state.serverChallenge[:])
	b.Write(make([]byte, 8)) // reserved
	writeField(&b, len(targetInfo), headerSize+len(targetName))
	b.Write(serverVersion)
	b.Write(targetName)
	b.Write(targetInfo)
	return b.Bytes(), state, nil
}

// targetInfoPairs builds the AV_PAIR list of a stand-alone server, whose
// NetBIOS domain is its own computer name.
func targetInfoPairs(netbiosName, dnsName string) []byte {
	var b bytes.Buffer
	pair := func(id uint16, value []byte) {
		writeUint16(&b, id)
		writeUint16(&b, uint16(len(value)))
		b.Write(value)
	}
	pair(avNbDomainName, utf16le(netbiosName))
	pair(avNbComputerName, utf16le(netbiosName))
	pair(avDNSDomainName, utf16le(dnsName))
	pair(avDNSComputerName, utf16le(dnsName))
	pair(avTimestamp, fileTime(time.Now()))
	pair(avEOL, nil)
	return b.Bytes()
}

// authenticateMessage is the part of an AUTHENTICATE message
// the server checks.
type authenticateMessage struct {
	ntResponse          []byte
	domain              string
	user                string
	encryptedSessionKey []byte
	flags               uint32
}

func parseAuthenticate(msg []byte) (*authenticateMessage, error) {
	if len(msg) < 64 {
		return nil, fmt.Errorf("%w: AUTHENTICATE has %d bytes", errNTLMMessage, len(msg))
	}
	field := func(offset int) ([]byte, error) {
		length := int(binary.LittleEndian.Uint16(msg[offset:]))
		start := int(binary.LittleEndian.Uint32(msg[offset+4:]))
		if start > len(msg) || length > len(msg)-start {
			return nil, fmt.Errorf("%w: field at offset %d points past the message end", errNTLMMessage, offset)
		}
		return msg[start : start+length], nil
	}

	var m authenticateMessage
	var err error
	var domain, user []byte
	if m.ntResponse, err = field(20); err != nil {
		return nil, err
	}
	if domain, err = field(28); err != nil {
		return nil, err
	}
	if user, err = field(36); err != nil {
		return nil, err
	}
	if m.encryptedSessionKey, err = field(52); err != nil {
		return nil, err
	}
	m.flags = binary.LittleEndian.Uint32(msg[60:64])
	if m.flags&flagUnicode == 0 {
		return nil, fmt.Errorf("%w: AUTHENTICATE strings are not Unicode", errNTLMMessage)
	}
	m.domain, m.user = fromUTF16le(domain), fromUTF16le(user)
	return &m, nil
}

// verifyNTLMv2 checks the NTLMv2 response of m against the password and returns
// the exported session key the client derived (MS-NLMP 3.3.2).
// It returns ok false for wrong credentials and for NTLMv1 responses, which
// the server does not accept.
func verifyNTLMv2(m *authenticateMessage, state *challengeState, password string) (exportedKey []byte, ok bool) {
	// An NTLMv2 response is the 16-byte NTProofStr followed by the client blob;
	// NTLMv1 responses are exactly 24 bytes.
	if len(m.ntResponse) <= 24 {
		return nil, false
	}
	proof, blob := m.ntResponse[:16], m.ntResponse[16:]

	key := ntowfV2(password, m.user, m.domain)
	expected := hmacMD5(key, state.serverChallenge[:], blob)
	if subtle.ConstantTimeCompare(proof, expected) != 1 {
		return nil, false
	}

	// For NTLMv2 the key exchange key is the session base key.
	sessionBaseKey := hmacMD5(key, proof)
	if state.flags&flagKeyExchange == 0 || len(m.encryptedSessionKey) != 16 {
		return sessionBaseKey, true
	}
	cipher, _ := rc4.NewCipher(sessionBaseKey) // a 16-byte key is always valid
	exportedKey = make([]byte, 16)
	cipher.XORKeyStream(exportedKey, m.encryptedSessionKey)
	return exportedKey, true
}

// ntowfV2 is HMAC-MD5(MD4(UTF-16LE(password)), UTF-16LE(UPPER(user) + domain)).
func ntowfV2(password, user, domain string) []byte {
	h := md4.New()
	h.Write(utf16le(password))
	return hmacMD5(h.Sum(nil), utf16le(strings.ToUpper(user)+domain))
}

func hmacMD5(key []byte, data ...[]byte) []byte {
	mac := hmac.New(md5.New, key)
	for _, d := range data {
		mac.Write(d)
	}
	return mac.Sum(nil)
}

// fileTime encodes t as a Windows FILETIME: 100-nanosecond intervals since
// 1601-01-01 UTC, little-endian.
func fileTime(t time.Time) []byte {
	const epochDifference = 116444736000000000 // 1601-01-01 to 1970-01-01 in 100 ns
	b := make([]byte, 8)
	binary.LittleEndian.PutUint64(b, uint64(t.UnixNano()/100+epochDifference))
	return b
}

func utf16le(s string) []byte {
	units := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(units))
	for i, u := range units {
		binary.LittleEndian.PutUint16(b[2*i:], u)
	}
	return b
}

func fromUTF16le(b []byte) string {
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(units))
}

func writeUint16(b *bytes.Buffer, v uint16) {
	_ = binary.Write(b, binary.LittleEndian, v)
}

func writeUint32(b *bytes.Buffer, v uint32) {
	_ = binary.Write(b, binary.LittleEndian, v)
}

// writeField writes an NTLM payload descriptor: length, maximum length, offset.
func writeField(b *bytes.Buffer, length, offset int) {
	writeUint16(b, uint16(length))
	writeUint16(b, uint16(length))
	writeUint32(b, uint32(offset))
}
