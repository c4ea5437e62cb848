package patches

import (
	"fmt"
	"strings"

	"patrol/i18n"
)

// Problem is one thing wrong in a catalog file, at the place a user must edit.
type Problem struct {
	File string
	// Line and Col are 1-based; zero means unknown.
	Line, Col int
	Text      i18n.Text
}

// In formats the problem as "file:line:col: message" in lang.
func (p Problem) In(lang i18n.Lang) string {
	switch {
	case p.Line > 0 && p.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Text.In(lang))
	case p.Line > 0:
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Text.In(lang))
	}
	return fmt.Sprintf("%s: %s", p.File, p.Text.In(lang))
}

// ValidationError lists every problem found in a catalog, so that a user can fix
// them in one pass. The CLI maps it to exit code 2.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string { return e.In(i18n.EN) }

// In joins the problems in lang, one per line.
func (e *ValidationError) In(lang i18n.Lang) string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.In(lang)
	}
	return strings.Join(lines, "\n")
}

func msg(en, zh string, args ...any) i18n.Text {
	return i18n.T(fmt.Sprintf(en, args...), fmt.Sprintf(zh, args...))
}
