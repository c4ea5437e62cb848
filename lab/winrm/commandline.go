package winrmlab

import (
	"encoding/base64"
	"strings"
	"unicode/utf16"
)

// commandText joins a WinRM command and its arguments into one line and replaces the
// base64 argument of powershell.exe -EncodedCommand with the script it encodes, so a
// replay entry can match the PowerShell text a client actually sent.
func commandText(command string, arguments []string) string {
	tokens := strings.Fields(command)
	for _, arg := range arguments {
		tokens = append(tokens, strings.Fields(arg)...)
	}

	for i := 0; i+1 < len(tokens); i++ {
		if !isEncodedCommandFlag(tokens[i]) {
			continue
		}
		if script, ok := decodeUTF16Base64(tokens[i+1]); ok {
			tokens[i+1] = script
		}
	}
	return strings.Join(tokens, " ")
}

// isEncodedCommandFlag reports whether a token names the -EncodedCommand parameter of
// powershell.exe, which accepts any unambiguous prefix (-e, -enc, ...) and the -ec
// alias, in any case.
func isEncodedCommandFlag(token string) bool {
	if len(token) < 2 || (token[0] != '-' && token[0] != '/') {
		return false
	}
	name := strings.ToLower(token[1:])
	return name == "ec" || strings.HasPrefix("encodedcommand", name)
}

// decodeUTF16Base64 decodes base64 of UTF-16LE text, the form -EncodedCommand takes.
func decodeUTF16Base64(s string) (string, bool) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw)%2 != 0 {
		return "", false
	}

	units := make([]uint16, len(raw)/2)
	for i := range units {
		units[i] = uint16(raw[2*i]) | uint16(raw[2*i+1])<<8
	}
	if len(units) > 0 && units[0] == 0xFEFF {
		units = units[1:]
	}
	return string(utf16.Decode(units)), true
}
