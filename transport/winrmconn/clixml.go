package winrmconn

import (
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
)

// clixmlMarker starts each CLIXML document that powershell.exe writes to a
// redirected stderr when it runs with -EncodedCommand or -Command.
const clixmlMarker = "#< CLIXML"

// ParseCLIXML turns the CLIXML that PowerShell writes on stderr into the text
// a console would have shown: error records as their lines, warnings with a
// "WARNING: " prefix, and progress records dropped. Text around the CLIXML
// documents, such as output of a native program, is kept in place. It reports
// false, with stderr unchanged, when stderr holds no CLIXML document or one
// that is not well-formed XML.
func ParseCLIXML(stderr string) (text string, ok bool) {
	if !strings.Contains(stderr, clixmlMarker) {
		return stderr, false
	}

	var out strings.Builder
	rest := stderr
	for {
		before, after, found := strings.Cut(rest, clixmlMarker)
		out.WriteString(before)
		if !found {
			break
		}
		after = strings.TrimLeft(after, "\r\n")

		docText, consumed, err := parseCLIXMLDocument(after)
		if err != nil {
			return stderr, false
		}
		out.WriteString(docText)
		rest = after[consumed:]
	}
	return out.String(), true
}

// parseCLIXMLDocument reads one <Objs> element from the start of s and returns
// its readable text and the number of bytes it took up.
func parseCLIXMLDocument(s string) (string, int, error) {
	dec := xml.NewDecoder(strings.NewReader(s))
	var out strings.Builder
	depth := 0
	stream := ""
	inStream := false

	for {
		offset := dec.InputOffset()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return "", 0, io.ErrUnexpectedEOF
		}
		if err != nil {
			return "", 0, err
		}

		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 && t.Name.Local != "Objs" {
				return "", 0, errors.New("CLIXML does not start with <Objs>")
			}
			// Records of the error, warning, verbose, debug and information
			// streams are <S S="stream"> children of <Objs>. Progress records
			// are <Obj S="progress"> and are skipped with everything else.
			if depth == 2 && t.Name.Local == "S" {
				stream = attr(t, "S")
				inStream = true
			}
		case xml.CharData:
			if inStream {
				writeStreamText(&out, stream, unescapeCLIXML(string(t)))
			}
		case xml.EndElement:
			if depth == 2 {
				inStream = false
			}
			depth--
			if depth == 0 {
				return out.String(), int(dec.InputOffset()), nil
			}
		case xml.ProcInst, xml.Comment, xml.Directive:
			if depth == 0 && offset > 0 {
				return "", 0, errors.New("unexpected XML before <Objs>")
			}
		}
	}
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// writeStreamText writes one stream record as the console shows it. Error and
// information text is written as it is. Warning, verbose and debug records get
// the prefix the console gives them, once per line.
func writeStreamText(out *strings.Builder, stream, text string) {
	prefix := ""
	switch strings.ToLower(stream) {
	case "warning":
		prefix = "WARNING: "
	case "verbose":
		prefix = "VERBOSE: "
	case "debug":
		prefix = "DEBUG: "
	}
	if prefix != "" && (out.Len() == 0 || strings.HasSuffix(out.String(), "\n")) {
		out.WriteString(prefix)
	}
	out.WriteString(text)
}

// unescapeCLIXML replaces the _xHHHH_ escapes of CLIXML strings, which encode
// one UTF-16 code unit each (control characters such as _x000D__x000A_ for
// CRLF, surrogate halves, and _x005F_ for an underscore that would otherwise
// start an escape).
func unescapeCLIXML(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}

	var units []uint16
	var out strings.Builder
	flush := func() {
		if len(units) > 0 {
			out.WriteString(string(utf16.Decode(units)))
			units = units[:0]
		}
	}
	for i := 0; i < len(s); {
		if i+7 <= len(s) && s[i] == '_' && s[i+1] == 'x' && s[i+6] == '_' {
			if v, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
				units = append(units, uint16(v))
				i += 7
				continue
			}
		}
		flush()
		out.WriteByte(s[i])
		i++
	}
	flush()
	return out.String()
}
