package builtin

import (
	"fmt"
	"strings"

	"patrol/i18n"
	"patrol/module"
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
		return nil, module.Failure(i18n.T(
			fmt.Sprintf("unterminated %c quote in %q; close the quote, or escape the character with a backslash", quote, line),
			fmt.Sprintf("%q 中的 %c 引号没有闭合；请补上引号，或用反斜杠转义该字符", line, quote)), nil)
	}
	if escaped || dqEscaped {
		return nil, module.Failure(i18n.T(
			fmt.Sprintf("trailing backslash in %q; remove it, or write \\\\ for a backslash", line),
			fmt.Sprintf("%q 以反斜杠结尾；请删除它，或用 \\\\ 表示一个反斜杠", line)), nil)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
