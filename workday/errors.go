package workday

import (
	"fmt"

	"patrol/i18n"
	"patrol/internal/problem"
)

// Problem is one thing wrong in an override file, at the place to edit.
type Problem = problem.Problem

// ValidationError lists every problem of an override file, in file order. The
// CLI maps it to exit code 2 (invalid input).
type ValidationError = problem.ValidationError

// msg builds a bilingual message whose two forms take the same arguments in
// the same order.
func msg(en, zh string, args ...any) i18n.Text {
	return i18n.T(fmt.Sprintf(en, args...), fmt.Sprintf(zh, args...))
}
