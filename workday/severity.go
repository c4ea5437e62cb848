package workday

import (
	"fmt"
	"slices"
	"strings"

	"patrol/i18n"
)

// Severity is a patch severity of the patch-deadline rules.
type Severity string

// The severities, most pressing first.
const (
	Urgent  Severity = "urgent"  // 紧急
	Serious Severity = "serious" // 严重
	Normal  Severity = "normal"  // 普通
)

// Severities lists the severities, most pressing first.
var Severities = []Severity{Urgent, Serious, Normal}

var severityTexts = map[Severity]i18n.Text{
	Urgent:  i18n.T("urgent", "紧急"),
	Serious: i18n.T("serious", "严重"),
	Normal:  i18n.T("normal", "普通"),
}

// ParseSeverity reads a severity by its English or Chinese name: urgent or
// 紧急, serious or 严重, normal or 普通. English names ignore case.
func ParseSeverity(s string) (Severity, error) {
	s = strings.TrimSpace(s)
	for sev, t := range severityTexts {
		if strings.EqualFold(s, t.EN) || s == t.ZH {
			return sev, nil
		}
	}
	return "", fmt.Errorf("invalid severity %q: use urgent (紧急), serious (严重) or normal (普通)", s)
}

// Text returns the severity's name in both user languages.
func (s Severity) Text() i18n.Text {
	if t, ok := severityTexts[s]; ok {
		return t
	}
	return i18n.T(string(s), string(s))
}

// Policy maps each severity to the working days a patch of it may wait
// before it must be installed.
type Policy map[Severity]int

// DefaultPolicy returns the deadlines of the patch rules: urgent and serious
// patches within 1 working day of arrival, normal ones within 2. Each call
// returns a new map that the caller may change.
func DefaultPolicy() Policy {
	return Policy{Urgent: 1, Serious: 1, Normal: 2}
}

// Workdays returns the working days allowed for sev.
func (p Policy) Workdays(sev Severity) (int, error) {
	n, ok := p[sev]
	if !ok {
		return 0, fmt.Errorf("no deadline for severity %q: the policy sets %s", sev, p.names())
	}
	return n, nil
}

// Validate rejects unknown severities and deadlines shorter than one working
// day.
func (p Policy) Validate() error {
	for sev, n := range p {
		if _, ok := severityTexts[sev]; !ok {
			return fmt.Errorf("unknown severity %q in the deadline policy: use urgent, serious or normal", sev)
		}
		if n < 1 {
			return fmt.Errorf("the deadline of %s patches is %d working days: it must be at least 1", sev, n)
		}
	}
	return nil
}

func (p Policy) names() string {
	var names []string
	for _, sev := range Severities {
		if _, ok := p[sev]; ok {
			names = append(names, string(sev))
		}
	}
	return strings.Join(names, ", ")
}

// Rank orders severities for sorting, most pressing first: urgent 0, serious
// 1, normal 2, anything else after them.
func (s Severity) Rank() int {
	if i := slices.Index(Severities, s); i >= 0 {
		return i
	}
	return len(Severities)
}
