package patches

import (
	"fmt"

	"patrol/i18n"
	"patrol/internal/problem"
)

// Problem is one thing wrong in a catalog file, at the place a user must edit.
type Problem = problem.Problem

// ValidationError lists every problem found in a catalog, so that a user can
// fix them in one pass. The CLI maps it to exit code 2.
type ValidationError = problem.ValidationError

func msg(en, zh string, args ...any) i18n.Text {
	return i18n.T(fmt.Sprintf(en, args...), fmt.Sprintf(zh, args...))
}
