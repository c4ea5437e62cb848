// Package patches holds the patch catalog: what arrived, how severe it is, its
// files, and how to install, verify and roll it back. It also holds the plan
// that compares the catalog with what each host has installed, the compliance
// view of deadlines met and missed, and the installers for CentOS (rpm),
// Windows (wusa, DISM) and Oracle (opatch).
package patches

import "patrol/workday"

// Severity is the urgency of a patch. The working-day calendar owns the type,
// because its deadline command takes a severity too.
type Severity = workday.Severity

// The three severities of the operations plan, most pressing first.
const (
	Urgent  = workday.Urgent
	Serious = workday.Serious
	Normal  = workday.Normal
)

// Severities lists the valid severities, most pressing first.
var Severities = workday.Severities

// ParseSeverity accepts the English names and the Chinese ones (紧急, 严重, 普通).
func ParseSeverity(s string) (Severity, error) { return workday.ParseSeverity(s) }
