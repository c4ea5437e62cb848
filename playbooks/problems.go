package playbooks

import (
	"sort"
	"strings"

	"patrol/i18n"
)

// Problem is one thing wrong in a playbook, found before anything runs.
type Problem struct {
	Pos Pos
	// Msg is the English message: what is wrong, the offending value and the fix.
	Msg string
	// MsgZH is Msg in Simplified Chinese.
	MsgZH string
}

// String renders the problem as "file:line:column: message" in English.
func (p Problem) String() string { return p.In(i18n.EN) }

// In renders the problem as "file:line:column: message" in lang.
func (p Problem) In(lang i18n.Lang) string {
	return p.Pos.String() + ": " + i18n.T(p.Msg, p.MsgZH).In(lang)
}

// ValidationError lists every problem found in a playbook. Load and Parse return
// it so that the CLI can print one line per problem and exit with code 2.
type ValidationError struct {
	File     string
	Problems []Problem
}

// Error renders all problems in English, one per line.
func (e *ValidationError) Error() string { return e.In(i18n.EN) }

// In renders all problems in lang, one per line, ordered by position.
func (e *ValidationError) In(lang i18n.Lang) string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.In(lang)
	}
	return strings.Join(lines, "\n")
}

// OpenError is a playbook that could not be read, or a name that is neither
// a file nor a built-in playbook, with its message in both user languages.
type OpenError struct {
	// Name is the path or built-in playbook name as given.
	Name string
	Text i18n.Text
	// Err is the file system error behind the failure, nil for an unknown
	// built-in playbook name.
	Err error
}

// Error returns the message in English.
func (e *OpenError) Error() string { return e.Text.EN }

// Message returns the message in both user languages.
func (e *OpenError) Message() i18n.Text { return e.Text }

// Unwrap returns the file system error, so that errors.Is finds
// fs.ErrNotExist.
func (e *OpenError) Unwrap() error { return e.Err }

// problems collects the problems of one file while it is validated.
type problems struct {
	file string
	list []Problem
}

func (ps *problems) add(line, col int, en, zh string) {
	ps.list = append(ps.list, Problem{Pos: Pos{File: ps.file, Line: line, Col: col}, Msg: en, MsgZH: zh})
}

// err returns a *ValidationError sorted by position, or nil when there are none.
func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	sort.SliceStable(ps.list, func(i, j int) bool {
		a, b := ps.list[i].Pos, ps.list[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return &ValidationError{File: ps.file, Problems: ps.list}
}
