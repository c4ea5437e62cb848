package module

import (
	"patrol/i18n"
	"patrol/transport"
)

// Error is a module error with its message in both languages, for the
// terminal and reports. Err, when set, is the cause as Go or the host gave
// it: Error() keeps its text, which the journal records and reports show as
// evidence.
type Error struct {
	Text i18n.Text
	Err  error
}

// Failure returns an Error with text and the cause err, which may be nil.
func Failure(text i18n.Text, err error) *Error {
	return &Error{Text: text, Err: err}
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Text.EN
	}
	return e.Text.EN + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Message returns Text followed by the cause in both languages when
// transport.DescribeError can name it (a refused connection, permission
// denied, a missing file), else Text alone.
func (e *Error) Message() i18n.Text {
	if e.Err == nil {
		return e.Text
	}
	cause, ok := transport.DescribeError(e.Err)
	if !ok {
		return e.Text
	}
	return i18n.T(e.Text.EN+": "+cause.EN, e.Text.ZH+"："+cause.ZH)
}
