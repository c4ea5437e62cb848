package playbooks

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxIndentTry is how many columns deeper than a misplaced line reindent tries.
const maxIndentTry = 8

// maxSyntaxRepairs bounds how many broken lines decodeYAML repairs before it
// gives up looking for further problems.
const maxSyntaxRepairs = 20

// decodeYAML decodes the playbook's single YAML document. On a syntax error it
// reports the problem, re-indents or blanks out the offending line and decodes
// again, so that one misplaced line does not hide the other problems in the
// file. It returns the document's root node (nil when nothing could be
// decoded) and the repaired line numbers, near which a key may seem missing
// only because its line was blanked.
func (v *validator) decodeYAML(data []byte) (*yaml.Node, map[int]bool) {
	lines := strings.SplitAfter(string(data), "\n")
	blanked := map[int]bool{}

	for range maxSyntaxRepairs {
		root, err := v.decodeDocuments([]byte(strings.Join(lines, "")))
		if err == nil {
			return root, blanked
		}

		line, msg := locateSyntaxError(lines, err)
		col := errorColumn(lines, line, msg)
		if line < 1 || line > len(lines) || blanked[line] {
			en, zh := explainSyntaxError(msg, 0)
			v.add(line, col, en, zh)
			return nil, blanked
		}

		fixed, width, ok := reindent(lines, line)
		fitColumn := 0
		if ok {
			fitColumn = width + 1
		}
		en, zh := explainSyntaxError(msg, fitColumn)
		v.add(line, col, en, zh)
		lines[line-1] = fixed
		blanked[line] = true
	}
	return nil, blanked
}

// reindent returns the given line moved to the nearest indentation at which the
// file up to it decodes, and that indentation, so that a misplaced key still
// counts where it most likely belongs. A line no indentation fixes becomes
// empty and ok is false.
func reindent(lines []string, line int) (fixed string, width int, ok bool) {
	text := strings.TrimLeft(lines[line-1], " \t")
	if strings.TrimSpace(text) == "" {
		return "\n", 0, false
	}
	indent := lines[line-1][:len(lines[line-1])-len(text)]
	width = len(strings.ReplaceAll(indent, "\t", "  "))

	prefix := slices.Clone(lines[:line])
	for step := 0; step <= width+maxIndentTry; step++ {
		for _, w := range []int{width + step, width - step} {
			if w < 0 || (step == 0 && w == width && !strings.Contains(indent, "\t")) {
				continue
			}
			prefix[line-1] = strings.Repeat(" ", w) + text
			var node yaml.Node
			err := yaml.NewDecoder(strings.NewReader(strings.Join(prefix, ""))).Decode(&node)
			if err == nil || errors.Is(err, io.EOF) {
				return prefix[line-1], w, true
			}
		}
	}
	return "\n", 0, false
}

// decodeDocuments decodes the first document and reports any further ones,
// which a playbook may not have.
func (v *validator) decodeDocuments(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			v.add(1, 1, "the playbook is empty; write a list of plays, each with hosts and tasks",
				"playbook 为空；请写一个 play 列表，每个 play 含 hosts 和 tasks")
			return nil, nil
		}
		return nil, err
	}

	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, err
	default:
		line := extra.Line
		if len(extra.Content) > 0 {
			line = extra.Content[0].Line
		}
		v.add(line, 1, "a second YAML document starts here after ---; put all plays in one list in one document",
			"此处在 --- 之后开始了第二个 YAML 文档；请把所有 play 放在同一个文档的同一个列表里")
	}
	return &root, nil
}

var yamlErrorLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// locateSyntaxError finds the line a YAML syntax error is on. yaml.v3 (v3.0.1)
// reports the line where the enclosing block starts, often the "tasks:" above
// the mistake. So the file is decoded again one line longer each time. The
// first prefix that fails for a reason other than ending early has the
// offending line as its last line.
func locateSyntaxError(lines []string, err error) (int, string) {
	line, msg := 0, strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlErrorLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
		// The parser's errors (unlike the scanner's) give the 0-based line of
		// the collection being parsed, which is one less than its 1-based line.
		if strings.HasPrefix(msg, "did not find expected") || strings.HasPrefix(msg, "found undefined tag handle") {
			line++
		}
	}

	for k := max(line, 1); k <= len(lines); k++ {
		var node yaml.Node
		perr := yaml.NewDecoder(strings.NewReader(strings.Join(lines[:k], ""))).Decode(&node)
		if perr == nil || errors.Is(perr, io.EOF) || endsEarly(perr) {
			continue
		}
		pmsg := strings.TrimPrefix(perr.Error(), "yaml: ")
		if m := yamlErrorLine.FindStringSubmatch(perr.Error()); m != nil {
			pmsg = m[2]
		}
		return k, pmsg
	}

	if line == 0 {
		line = lineOfAnchor(lines, msg)
	}
	return max(line, 1), msg
}

// endsEarly reports whether a decode error could come from cutting the text
// inside a quoted string or a [ ] or { } collection that continues below.
func endsEarly(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "end of stream") ||
		strings.Contains(msg, "did not find expected ',' or") ||
		strings.Contains(msg, "did not find expected node content")
}

var unknownAnchor = regexp.MustCompile(`unknown anchor '([^']*)' referenced`)

// lineOfAnchor finds the line of an alias to an undefined anchor, which yaml.v3
// reports without a line.
func lineOfAnchor(lines []string, msg string) int {
	m := unknownAnchor.FindStringSubmatch(msg)
	if m == nil {
		return 1
	}
	for i, l := range lines {
		if strings.Contains(l, "*"+m[1]) {
			return i + 1
		}
	}
	return 1
}

// errorColumn returns the 1-based column to report a syntax error at: the
// opening quote or bracket for one left unclosed, else the line's indentation.
func errorColumn(lines []string, line int, msg string) int {
	if line >= 1 && line <= len(lines) {
		opener := ""
		switch {
		case strings.Contains(msg, "end of stream"):
			opener = `"'`
		case strings.Contains(msg, "did not find expected ',' or"):
			opener = "[{"
		}
		if i := strings.IndexAny(lines[line-1], opener); opener != "" && i >= 0 {
			return i + 1
		}
	}
	return indentColumn(lines, line)
}

// indentColumn returns the 1-based column of the first character of a line that
// is not a space, which is where indentation mistakes show.
func indentColumn(lines []string, line int) int {
	if line < 1 || line > len(lines) {
		return 1
	}
	l := lines[line-1]
	if i := strings.IndexByte(l, '\t'); i >= 0 && strings.TrimLeft(l[:i], " ") == "" {
		return i + 1
	}
	return len(l) - len(strings.TrimLeft(l, " ")) + 1
}

// explainSyntaxError turns yaml.v3's parser message into what a playbook author
// should check, keeping the original text for searching. fitColumn, when not
// zero, is the column at which the line would decode.
func explainSyntaxError(msg string, fitColumn int) (en, zh string) {
	type hint struct{ match, en, zh string }
	hints := []hint{
		{"tab character", "indentation uses a tab; YAML indentation must be spaces",
			"缩进使用了制表符（Tab）；YAML 缩进只能用空格"},
		{"did not find expected key", "this line is indented differently from the keys around it; align it with the keys of the same mapping",
			"此行的缩进与周围的键不一致；请与同一映射中的其他键对齐"},
		{"did not find expected '-' indicator", "this line breaks the list above it; indent it under a list item or start it with '- ' aligned with the other items",
			"此行打断了上面的列表；请把它缩进到某个列表项之下，或与其他项对齐并以 '- ' 开头"},
		{"mapping values are not allowed", "unexpected ':' on this line; it is probably indented deeper than the key above, or a value containing ': ' needs quotes",
			"此行出现了意外的 ':'；可能比上一行的键缩进更深，或者含有 ': ' 的值需要加引号"},
		{"could not find expected ':'", "a key on this line lacks its ':'; write key: value",
			"此行的键缺少 ':'；请写成 key: value"},
		{"end of stream", "a quote or bracket opened on this line is never closed; close it",
			"此行开始的引号或括号没有闭合；请补上"},
		{"did not find expected ',' or", "a [ ] or { } collection opened on this line is not closed properly; check its commas and closing bracket",
			"此行开始的 [ ] 或 { } 没有正确闭合；请检查逗号和右括号"},
		{"cannot start any token", "this line starts with a character YAML does not allow there (a tab, @ or `); quote the value",
			"此行以 YAML 不允许的字符开头（Tab、@ 或 `）；请给值加引号"},
		{"unknown anchor", "this alias refers to an anchor that is not defined above it; define &name before using *name",
			"此别名引用的锚点在前面没有定义；请先定义 &name 再使用 *name"},
	}
	en, zh = msg, msg
	explained := false
	for _, h := range hints {
		if strings.Contains(msg, h.match) {
			en, zh, explained = h.en, h.zh, true
			break
		}
	}
	if fitColumn > 0 {
		en += fmt.Sprintf("; at column %d it fits the lines above", fitColumn)
		zh += fmt.Sprintf("；移到第 %d 列即可与上面的行对齐", fitColumn)
	}
	if !explained {
		return "invalid YAML: " + en, "YAML 格式错误：" + zh
	}
	return fmt.Sprintf("invalid YAML: %s (yaml: %s)", en, msg), fmt.Sprintf("YAML 格式错误：%s（yaml: %s）", zh, msg)
}
