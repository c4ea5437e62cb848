package builtin

import (
	"fmt"
	"strings"
)

// splitWords splits a command line into words the way a POSIX shell would split
// them, honouring single quotes, double quotes and backslashes, but without any
// expansion: `$HOME`, globs and pipes reach the program as plain text.
func splitWords(line string) ([]string, error) {
	var (
		words   []string
		cur     strings.Builder
		inWord  bool
		quote   rune
		escaped bool
		// dqEscaped is a backslash inside double quotes, which escapes only
		// the characters a POSIX shell lets it escape there: $ ` " \ and
		// newline.
		dqEscaped bool
	)
	for _, r := range line {
		switch {
		case escaped:
			// A backslash before a newline joins the lines, as in a shell.
			if r != '\n' {
				cur.WriteRune(r)
				inWord = true
			}
			escaped = false
		case dqEscaped:
			switch {
			case r == '\n':
			case strings.ContainsRune("\"\\$`", r):
				cur.WriteRune(r)
			default:
				cur.WriteRune('\\')
				cur.WriteRune(r)
			}
			dqEscaped = false
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case quote == '"':
			switch r {
			case '"':
				quote = 0
			case '\\':
				dqEscaped = true
			default:
				cur.WriteRune(r)
			}
		case r == '\\':
			escaped = true
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote in %q; close the quote, or escape the character with a backslash", quote, line)
	}
	if escaped || dqEscaped {
		return nil, fmt.Errorf("trailing backslash in %q; remove it, or write \\\\ for a backslash", line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
