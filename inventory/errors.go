package inventory

import (
	"fmt"
	"sort"
	"strings"

	"patrol/i18n"
	"patrol/internal/typo"
)

// Problem is one thing wrong in an inventory file, at the place a user must edit.
type Problem struct {
	// File is the inventory file path as given to Load.
	File string `json:"file"`
	// Line and Col are 1-based. Zero means unknown: a file that cannot be read has
	// neither, and a YAML syntax error names only the line.
	Line int `json:"line,omitempty"`
	Col  int `json:"col,omitempty"`
	// Msg is the English message: what is wrong, the offending value and the fix.
	Msg string `json:"msg"`
	// Text is the same message in both user languages.
	Text i18n.Text `json:"text"`
}

// String formats the problem as "file:line:col: message" in English.
func (p Problem) String() string { return p.In(i18n.EN) }

// In formats the problem as "file:line:col: message" in lang.
func (p Problem) In(lang i18n.Lang) string {
	msg := p.Text.In(lang)
	if msg == "" {
		msg = p.Msg
	}
	switch {
	case p.Line > 0 && p.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, msg)
	case p.Line > 0:
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, msg)
	default:
		return fmt.Sprintf("%s: %s", p.File, msg)
	}
}

// ValidationError lists every problem found in the inventory files, so a user can
// fix them all in one pass. The CLI maps it to exit code 2 (invalid input).
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

// problems collects problems while loading, dropping exact repeats: a bad group
// variable would otherwise be reported once for every host in the group.
type problems struct {
	list []Problem
	seen map[string]bool
}

func (ps *problems) add(file string, line, col int, text i18n.Text) {
	p := Problem{File: file, Line: line, Col: col, Msg: text.EN, Text: text}
	key := p.String()
	if ps.seen == nil {
		ps.seen = map[string]bool{}
	}
	if ps.seen[key] {
		return
	}
	ps.seen[key] = true
	ps.list = append(ps.list, p)
}

// err returns nil when there are no problems, else a *ValidationError with the
// problems sorted by file order, line and column.
func (ps *problems) err(fileOrder []string) error {
	if len(ps.list) == 0 {
		return nil
	}
	rank := map[string]int{}
	for i, f := range fileOrder {
		if _, ok := rank[f]; !ok {
			rank[f] = i
		}
	}
	sort.SliceStable(ps.list, func(i, j int) bool {
		a, b := ps.list[i], ps.list[j]
		if rank[a.File] != rank[b.File] {
			return rank[a.File] < rank[b.File]
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return &ValidationError{Problems: ps.list}
}

// msg builds a bilingual message; both forms take the same arguments in the same
// order.
func msg(en, zh string, args ...any) i18n.Text {
	return i18n.T(fmt.Sprintf(en, args...), fmt.Sprintf(zh, args...))
}

// suggest returns the candidate closest to word, or "" when none is close enough
// to be a likely typo. The limit grows with the word: one edit for short words,
// up to a third of the length for long ones.
func suggest(word string, candidates []string) string {
	return typo.Closest(word, candidates)
}

// didYouMean returns the hint ` (did you mean "x"?)` in both languages, or two
// empty strings when no candidate is close.
func didYouMean(word string, candidates []string) (en, zh string) {
	s := suggest(word, candidates)
	if s == "" {
		return "", ""
	}
	return fmt.Sprintf(" (did you mean %q?)", s), fmt.Sprintf("（是否想写 %q？）", s)
}
