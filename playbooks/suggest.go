package playbooks

import (
	"fmt"
	"sort"
	"strings"

	"patrol/internal/typo"
)

// suggest returns up to three candidates close to name by edit distance, closest
// first. A dotted candidate whose last part equals name ("disk" for "check.disk")
// also counts as close.
func suggest(name string, candidates []string) []string {
	type scored struct {
		name     string
		distance int
	}
	limit := maxDistance(name)
	var close []scored
	for _, c := range candidates {
		d := typo.Distance(strings.ToLower(name), strings.ToLower(c))
		if i := strings.LastIndexByte(c, '.'); i >= 0 && c[i+1:] == name {
			d = min(d, 1)
		}
		if d <= limit && c != name {
			close = append(close, scored{c, d})
		}
	}
	sort.SliceStable(close, func(i, j int) bool { return close[i].distance < close[j].distance })

	var out []string
	for i := 0; i < len(close) && i < 3; i++ {
		out = append(out, close[i].name)
	}
	return out
}

// maxDistance is the largest edit distance still taken as a typo: one edit for
// short names, up to three for long ones.
func maxDistance(name string) int {
	switch n := len(name); {
	case n <= 4:
		return 1
	case n <= 8:
		return 2
	default:
		return 3
	}
}

// didYouMean formats suggestions as ` (did you mean "x"?)` in English and Chinese,
// or two empty strings when there are none.
func didYouMean(name string, candidates []string) (en, zh string) {
	s := suggest(name, candidates)
	if len(s) == 0 {
		return "", ""
	}
	quoted := make([]string, len(s))
	for i, c := range s {
		quoted[i] = fmt.Sprintf("%q", c)
	}
	list := strings.Join(quoted, " or ")
	return fmt.Sprintf(" (did you mean %s?)", list), fmt.Sprintf("（是否想写 %s？）", strings.Join(quoted, " 或 "))
}
