// Package problem is the error of an input file that failed validation: every
// problem found, each at the line and column a user must edit, in both user
// languages. The CLI maps a *ValidationError to exit code 2.
package problem

import (
	"fmt"
	"strings"

	"patrol/i18n"
)

// Problem is one thing wrong in an input file, at the place to edit.
type Problem struct {
	File string `json:"file"`
	// Line and Column are 1-based; zero means unknown (an unreadable file has
	// neither, a YAML syntax error names only the line).
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
	// Text is the message in both user languages: the fault, the offending
	// value and the fix.
	Text i18n.Text `json:"text"`
}

// In formats the problem as "file:line:column: message" in lang.
func (p Problem) In(lang i18n.Lang) string {
	switch {
	case p.Line > 0 && p.Column > 0:
		return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Column, p.Text.In(lang))
	case p.Line > 0:
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Text.In(lang))
	}
	return fmt.Sprintf("%s: %s", p.File, p.Text.In(lang))
}

// String formats the problem in English.
func (p Problem) String() string { return p.In(i18n.EN) }

// ValidationError lists every problem found in a file, so that a user can
// fix them in one pass.
type ValidationError struct {
	Problems []Problem
}

// Error joins the problems in English, one per line.
func (e *ValidationError) Error() string { return e.In(i18n.EN) }

// In joins the problems in lang, one per line.
func (e *ValidationError) In(lang i18n.Lang) string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.In(lang)
	}
	return strings.Join(lines, "\n")
}
