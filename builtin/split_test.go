package builtin

import (
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

var splitCases = []struct {
	name string
	line string
	want []string
}{
	{"empty", "", nil},
	{"blanks only", " \t\n ", nil},
	{"plain words", "ls -l /tmp", []string{"ls", "-l", "/tmp"}},
	{"runs of blanks", "  a \t b\n c  ", []string{"a", "b", "c"}},
	{"single quotes keep spaces", "echo 'a  b'", []string{"echo", "a  b"}},
	{"single quotes keep backslashes", `echo 'a\nb\\'`, []string{"echo", `a\nb\\`}},
	{"double quotes keep spaces", `echo "a  b"`, []string{"echo", "a  b"}},
	{"empty quotes are a word", `printf '' ""`, []string{"printf", "", ""}},
	{"quotes join a word", `a'b c'"d e"f`, []string{"ab cd ef"}},
	{"other quote inside", `echo "it's" 'say "hi"'`, []string{"echo", "it's", `say "hi"`}},
	{"backslash escapes a blank", `touch a\ b`, []string{"touch", "a b"}},
	{"backslash escapes quotes", `echo \"x\' \\`, []string{"echo", `"x'`, `\`}},
	{"backslash before a letter", `echo \n`, []string{"echo", "n"}},
	{"double quotes escape dollar", `echo "\$HOME"`, []string{"echo", "$HOME"}},
	{"double quotes escape backquote", "echo \"\\`x\\`\"", []string{"echo", "`x`"}},
	{"double quotes escape quote", `echo "a\"b"`, []string{"echo", `a"b`}},
	{"double quotes escape backslash", `echo "a\\b"`, []string{"echo", `a\b`}},
	{"double quotes keep other backslashes", `echo "a\nb\tc"`, []string{"echo", `a\nb\tc`}},
	{"backslash newline joins lines", "echo a\\\nb", []string{"echo", "ab"}},
	{"backslash newline between words", "echo a \\\n b", []string{"echo", "a", "b"}},
	{"backslash newline in double quotes", "echo \"a\\\nb\"", []string{"echo", "ab"}},
	{"no expansion", `echo $HOME * ~ $(id) | wc`, []string{"echo", "$HOME", "*", "~", "$(id)", "|", "wc"}},
	{"utf-8", `echo "巡检 报告"`, []string{"echo", "巡检 报告"}},
}

func TestSplitWords(t *testing.T) {
	for _, tc := range splitCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := splitWords(tc.line)
			if err != nil {
				t.Fatalf("splitWords(%q): %v", tc.line, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("splitWords(%q) = %q, want %q", tc.line, got, tc.want)
			}
		})
	}
}

// TestSplitWordsMatchesShell runs each case's line through /bin/sh with
// expansion turned off as far as quoting allows, so that the table itself is
// checked against a real POSIX shell.
func TestSplitWordsMatchesShell(t *testing.T) {
	for _, tc := range splitCases {
		if strings.ContainsAny(tc.line, "$*~|`") {
			continue // the shell would expand these; splitWords must not
		}
		if strings.Contains(strings.ReplaceAll(tc.line, "\\\n", ""), "\n") {
			continue // a bare newline ends a shell command but is a blank to splitWords
		}
		// The first word is a marker, so that an empty line still prints.
		out, err := exec.Command("/bin/sh", "-c", `printf '%s\0' marker `+tc.line).Output()
		if err != nil {
			t.Errorf("%s: sh: %v", tc.name, err)
			continue
		}
		shell := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")[1:]
		if len(shell) == 0 {
			shell = nil
		}
		got, _ := splitWords(tc.line)
		if !reflect.DeepEqual(got, shell) {
			t.Errorf("%s: splitWords(%q) = %q, /bin/sh gives %q", tc.name, tc.line, got, shell)
		}
	}
}

func TestSplitWordsErrors(t *testing.T) {
	for _, tc := range []struct {
		line string
		want string
	}{
		{`echo 'abc`, "unterminated ' quote"},
		{`echo "abc`, `unterminated " quote`},
		{`echo "a\"`, `unterminated " quote`},
		{`echo abc\`, "trailing backslash"},
	} {
		_, err := splitWords(tc.line)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("splitWords(%q) error = %v, want %q", tc.line, err, tc.want)
		}
	}
}
