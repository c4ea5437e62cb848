package winrmconn

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// DecodeOutput turns the raw output of a Windows command into UTF-8 text.
//
// Output arrives in one of three encodings. PowerShell with the prelude of
// EncodePowerShell writes UTF-8 (utf8Forced). PowerShell redirection and some
// tools such as wmic write UTF-16LE, usually with a byte order mark. Tools of
// cmd.exe such as quser, ipconfig and net write the host's OEM code page,
// which is 936 (GBK) on Chinese Windows. A UTF-8 byte order mark is dropped.
// Output that is valid UTF-8 as a whole is kept as UTF-8 even when not
// forced, because ASCII output is both, and GBK text with Chinese characters
// is rarely valid UTF-8 over more than a few characters. When utf8Forced is
// set, lines that are not valid UTF-8 are decoded as GBK one by one.
func DecodeOutput(b []byte, utf8Forced bool) string {
	if rest, ok := bytes.CutPrefix(b, []byte{0xEF, 0xBB, 0xBF}); ok {
		return string(rest)
	}
	if rest, ok := bytes.CutPrefix(b, []byte{0xFF, 0xFE}); ok {
		return decodeUTF16LE(rest)
	}
	if looksUTF16LE(b) {
		return decodeUTF16LE(b)
	}
	if utf8.Valid(b) {
		return string(b)
	}
	if !utf8Forced {
		return decodeGBK(b)
	}

	// A native program run from a UTF-8 PowerShell script may still write
	// GBK straight to stdout, so forced output is decided line by line.
	var out bytes.Buffer
	for line := range bytes.SplitAfterSeq(b, []byte("\n")) {
		if utf8.Valid(line) {
			out.Write(line)
		} else {
			out.WriteString(decodeGBK(line))
		}
	}
	return out.String()
}

func decodeGBK(b []byte) string {
	text, err := simplifiedchinese.GBK.NewDecoder().Bytes(b)
	if err != nil {
		// The GBK decoder replaces invalid sequences rather than failing, so
		// this is not reached in practice. Keep the bytes visible anyway.
		return string(bytes.ToValidUTF8(b, []byte("\uFFFD")))
	}
	return string(text)
}

// looksUTF16LE reports whether b is UTF-16LE text without a byte order mark:
// an even length with a zero byte at most odd positions. ASCII text in
// UTF-16LE has a zero at every odd position, and GBK or UTF-8 text never
// contains zero bytes.
func looksUTF16LE(b []byte) bool {
	if len(b) < 4 || len(b)%2 != 0 {
		return false
	}
	zeros := 0
	for i := 1; i < len(b); i += 2 {
		if b[i] == 0 {
			zeros++
		}
	}
	return zeros*2 >= len(b)/2
}

func decodeUTF16LE(b []byte) string {
	if len(b)%2 != 0 {
		b = append(b[:len(b):len(b)], 0)
	}
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return string(utf16.Decode(units))
}
