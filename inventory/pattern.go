package inventory

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"patrol/i18n"
)

// PatternError is a host pattern that cannot be evaluated: a syntax error, or a
// term that matches no host or group. The CLI treats it as invalid input.
type PatternError struct {
	Pattern string
	Term    string
	Text    i18n.Text
}

func (e *PatternError) Error() string { return e.Text.EN }

// Message returns the error in both user languages.
func (e *PatternError) Message() i18n.Text { return e.Text }

// Select returns the hosts a pattern selects, in inventory order. Patterns follow
// Ansible, with terms separated by "," or ":". A term is "all" or "*", a host
// name, a group name (its hosts, children included), a glob over host and group
// names ("web*", "seal-db-?", "db[12]"), or "~" and a regular expression over
// them. A term prefixed "&" intersects and "!" excludes. Whatever the order they are
// written in, plain terms are joined first, then intersections applied, then
// exclusions; a pattern of only "&" and "!" terms starts from all hosts. So
// "linux:&seal:!web2" is the hosts in linux that are also in seal, except web2.
//
// A term that matches nothing is an error, with a suggestion when a name is
// close, because a typo in --limit or in an exclusion would otherwise run on the
// wrong hosts. An empty result from valid terms is not an error.
func (inv *Inventory) Select(pattern string) ([]*Host, error) {
	var union, intersect, exclude []string
	for _, term := range strings.FieldsFunc(pattern, func(r rune) bool { return r == ',' || r == ':' }) {
		term = strings.TrimSpace(term)
		switch {
		case term == "":
		case strings.HasPrefix(term, "!"):
			exclude = append(exclude, term[1:])
		case strings.HasPrefix(term, "&"):
			intersect = append(intersect, term[1:])
		default:
			union = append(union, term)
		}
	}
	if len(union)+len(intersect)+len(exclude) == 0 {
		return nil, &PatternError{Pattern: pattern, Text: msg(
			"empty host pattern %q; give host or group names, or all",
			"主机模式 %q 为空；请给出主机名、组名或 all", pattern)}
	}

	selected := map[string]bool{}
	if len(union) == 0 {
		union = []string{"all"}
	}
	for _, term := range union {
		matched, err := inv.matchTerm(pattern, term)
		if err != nil {
			return nil, err
		}
		for name := range matched {
			selected[name] = true
		}
	}
	for _, term := range intersect {
		matched, err := inv.matchTerm(pattern, term)
		if err != nil {
			return nil, err
		}
		for name := range selected {
			if !matched[name] {
				delete(selected, name)
			}
		}
	}
	for _, term := range exclude {
		matched, err := inv.matchTerm(pattern, term)
		if err != nil {
			return nil, err
		}
		for name := range matched {
			delete(selected, name)
		}
	}

	var out []*Host
	for _, h := range inv.hosts {
		if selected[h.Name] {
			out = append(out, h)
		}
	}
	return out, nil
}

// matchTerm returns the names of the hosts one term selects, without its "&" or
// "!" prefix.
func (inv *Inventory) matchTerm(pattern, term string) (map[string]bool, error) {
	if term == "" {
		return nil, &PatternError{Pattern: pattern, Term: term, Text: msg(
			"host pattern %q has an \"&\" or \"!\" without a name after it",
			"主机模式 %q 中的 \"&\" 或 \"!\" 后面缺少名称", pattern)}
	}

	if term == "all" || term == "*" {
		all := map[string]bool{}
		for _, h := range inv.hosts {
			all[h.Name] = true
		}
		return all, nil
	}

	match, err := termMatcher(pattern, term)
	if err != nil {
		return nil, err
	}
	matched := map[string]bool{}
	for _, h := range inv.hosts {
		if match(h.Name) {
			matched[h.Name] = true
		}
	}
	known := false
	for name := range inv.groups {
		if match(name) {
			known = true
			for member := range inv.groupMembers(name) {
				matched[member] = true
			}
		}
	}
	if len(matched) == 0 && !known {
		return nil, inv.unknownTerm(pattern, term)
	}
	return matched, nil
}

// termMatcher compiles a term into a name test: exact, glob or regular expression.
func termMatcher(pattern, term string) (func(string) bool, error) {
	if expr, ok := strings.CutPrefix(term, "~"); ok {
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, &PatternError{Pattern: pattern, Term: term, Text: msg(
				"invalid regular expression %q in host pattern: %v", "主机模式中的正则表达式 %q 无效：%v", expr, err)}
		}
		return re.MatchString, nil
	}
	if strings.ContainsAny(term, "*?[") {
		if _, err := path.Match(term, ""); err != nil {
			return nil, &PatternError{Pattern: pattern, Term: term, Text: msg(
				"invalid glob %q in host pattern: %v; check the brackets", "主机模式中的通配符 %q 无效：%v；请检查方括号", term, err)}
		}
		return func(name string) bool {
			ok, _ := path.Match(term, name)
			return ok
		}, nil
	}
	return func(name string) bool { return name == term }, nil
}

func (inv *Inventory) unknownTerm(pattern, term string) *PatternError {
	var names []string
	for _, h := range inv.hosts {
		names = append(names, h.Name)
	}
	names = append(names, sortedKeys(inv.groups)...)

	hintEN, hintZH := didYouMean(term, names)
	return &PatternError{Pattern: pattern, Term: term, Text: i18n.T(
		fmt.Sprintf("host pattern %q: %q matches no host or group%s; check the host and group names in the inventory", pattern, term, hintEN),
		fmt.Sprintf("主机模式 %q：%q 没有匹配任何主机或组%s；请核对清单中的主机名和组名", pattern, term, hintZH))}
}
