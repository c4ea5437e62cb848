package checks

// Parser of PowerShell's list view, the text that Format-List prints and that
// people paste when they publish Windows output:
//
//	DeviceID     : C:
//	DriveType    : 3
//	VolumeName   : 系统
//
// Each object is a record of "Name : Value" lines, the names padded to one
// column, and records are separated by a blank line. A value that does not
// fit on one line continues on lines indented to the value column. The
// public-* recordings show three kinds of break. Windows PowerShell breaks at
// a line break inside the value, or after a space that it keeps at the end of
// the line (word wrap). It also breaks hard at the console width, even inside
// a word, as the recording from a Chinese desktop shows.
//
// The Windows probes print Format-List through `Out-String -Width 4096`, so
// their own values do not wrap. The wrapping rules matter for output that was
// captured on a console.

import (
	"bytes"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"patrol/internal/textwidth"
)

// psListField is one "Name : Value" property of a record.
type psListField struct {
	Name  string
	Value string
}

// PSListRecord is one object of Format-List output, its properties in the
// order they were printed.
type PSListRecord struct {
	Fields []psListField
	// Line is the 1-based line of the record's first property.
	Line int
}

// Value returns the named property, compared without case as PowerShell
// compares property names, and whether the record has it.
func (r PSListRecord) Value(name string) (string, bool) {
	for _, f := range r.Fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value, true
		}
	}
	return "", false
}

// Get returns the named property, or "" when the record lacks it.
func (r PSListRecord) Get(name string) string {
	v, _ := r.Value(name)
	return v
}

// Has reports whether the record has the named property.
func (r PSListRecord) Has(name string) bool {
	_, ok := r.Value(name)
	return ok
}

// psListFieldLine matches a property line: indentation, a name that neither
// starts nor ends with a space and contains no colon, padding, " :" and the
// value. Format-List always puts a space before the colon, which keeps
// "C:\Windows" or "Service Name:  x" inside a message from reading as a name.
var psListFieldLine = regexp.MustCompile(`^([ \t]*)([^\s:](?:[^:]*[^\s:])?) +:(?: (.*))?$`)

// psListState is the parser's position inside the current record.
type psListState struct {
	records []PSListRecord
	// inRecord is false before the first property and after a line that
	// ends a record.
	inRecord bool
	// indent is the indentation of the current record's property lines.
	indent int
	// valueColumn is the display column where the last property's value
	// starts; continuation lines are indented to it.
	valueColumn int
	// lastLine is the last raw line that added to the current value.
	lastLine string
	blanks   int
}

// ParsePSList reads Format-List output into records. A record ends at a
// blank line followed by a property line, at a property name that repeats
// (output pasted without blank lines), and at a line of other text at the
// records' indentation, such as a prompt or "<SNIP>". A continuation line is
// appended directly after a hard break at the console width or after a kept
// trailing space. Where the value had a line break, it is appended after
// "\n", so a caller that needs one line replaces "\n" with a space. A byte
// order mark and CR LF or CR CR LF line ends are accepted.
//
// NOTE: the console width is taken to be the width that the longest lines
// share, so a value broken hard at the width is read as one only where at
// least two lines reach that width. A lone broken line keeps a "\n".
func ParsePSList(out []byte) []PSListRecord {
	text := string(bytes.TrimPrefix(out, []byte("\xef\xbb\xbf")))
	lines := strings.Split(strings.ReplaceAll(text, "\r", ""), "\n")
	consoleWidth := consoleWidthOf(lines)

	var p psListState
	for i, line := range lines {
		if strings.TrimSpace(line) == "" {
			p.blanks++
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " \t"))
		m := psListFieldLine.FindStringSubmatch(line)
		switch {
		case m != nil && (!p.inRecord || indent <= p.indent):
			p.addField(i+1, indent, m)
		case p.inRecord && indent > p.indent:
			p.continueValue(line, indent, consoleWidth)
		default:
			// Text that is no part of a record: a prompt, a heading, "<SNIP>".
			p.inRecord = false
		}
		p.blanks = 0
	}
	return p.records
}

func (p *psListState) addField(lineNo, indent int, m []string) {
	name, value := m[2], m[3]
	newRecord := !p.inRecord || p.blanks > 0
	if !newRecord {
		newRecord = p.records[len(p.records)-1].Has(name)
	}
	if newRecord {
		p.records = append(p.records, PSListRecord{Line: lineNo})
	}
	rec := &p.records[len(p.records)-1]
	rec.Fields = append(rec.Fields, psListField{Name: name, Value: value})

	p.inRecord = true
	p.indent = indent
	p.valueColumn = textwidth.String(m[0]) - textwidth.String(value)
	p.lastLine = m[0]
}

// continueValue appends a continuation line to the last property's value.
func (p *psListState) continueValue(line string, indent, consoleWidth int) {
	piece := strings.TrimLeft(line, " \t")
	if indent >= p.valueColumn {
		// Spaces beyond the value column belong to the value.
		piece = line[p.valueColumn:]
	}
	rec := &p.records[len(p.records)-1]
	f := &rec.Fields[len(rec.Fields)-1]

	sep := "\n"
	switch {
	case p.blanks > 0:
		sep = strings.Repeat("\n", p.blanks+1)
	case strings.HasSuffix(f.Value, " "):
		// Word wrap keeps the space at the end of the broken line.
		sep = ""
	case brokenAtWidth(p.lastLine, piece, consoleWidth):
		sep = ""
	}
	f.Value += sep + piece
	p.lastLine = line
}

// consoleWidthOf returns the width of the longest lines when at least two
// lines have it, and 0 (no known width) otherwise. One longest line proves
// nothing: it is as likely the first line of a value with line breaks, as in
// public-win10-get-winevent-errors-fl.txt, as a line cut at the width.
func consoleWidthOf(lines []string) int {
	widest, count := 0, 0
	for _, l := range lines {
		switch w := textwidth.String(l); {
		case w > widest:
			widest, count = w, 1
		case w == widest:
			count++
		}
	}
	if count < 2 {
		return 0
	}
	return widest
}

// brokenAtWidth reports whether prev was cut at the console width, so that
// next continues the same word. A wide (CJK) character that did not fit in
// the last column leaves the line one column short.
func brokenAtWidth(prev, next string, consoleWidth int) bool {
	if consoleWidth == 0 {
		return false
	}
	w := textwidth.String(prev)
	if w >= consoleWidth {
		return true
	}
	r, _ := utf8.DecodeRuneInString(next)
	return w == consoleWidth-1 && textwidth.Rune(r) == 2
}

// psListValue returns a record's property as one trimmed line: line breaks
// and runs of white space become one space.
func psListValue(r PSListRecord, name string) string {
	return strings.Join(strings.Fields(r.Get(name)), " ")
}

// parsePSDateTime reads a DateTime property: ISO 8601, as the probes print it
// (UTC), or the host culture's short date and long time, as Format-List shows
// a DateTime on a console ("2024/5/18 19:24:32", "5/6/2024 1:09:46 AM").
// shortDatePattern is the culture's .NET pattern; without it year-first and
// US month-first dates are tried. A culture-formatted time has no zone, so it
// is returned as the host's wall clock in zone hostClock and wall is set.
func parsePSDateTime(raw, shortDatePattern string) (t time.Time, wall, ok bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return time.Time{}, false, false
	}
	if t, err := time.Parse(time.RFC3339, raw); err == nil {
		return t.UTC(), false, true
	}
	t, ok = parseLocalDateTime(raw, shortDatePattern)
	return t.In(hostClock), true, ok
}

// hostClock is the zone of a time read as the host's wall clock from output
// that gave no zone. Its offset is 0, so ages against UTC clocks come out as
// for a UTC time, and formatTime shows the time as read instead of
// converting it.
var hostClock = time.FixedZone("host", 0)
