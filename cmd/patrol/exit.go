package main

import (
	"errors"
	"fmt"
	"io"

	"patrol/i18n"
	"patrol/module"
	"patrol/transport"
)

// Exit codes, the one table of them. The help text prints it.
const (
	exitOK          = 0   // every task succeeded (checks may warn)
	exitFailed      = 1   // a task or check failed
	exitInvalid     = 2   // invalid input: nothing ran
	exitUnreachable = 3   // a host was unreachable
	exitInterrupted = 130 // interrupted (Ctrl-C, SIGTERM)
)

var exitCodeHelp = i18n.T(`Exit codes:
  0    every task succeeded (checks may warn)
  1    a task or check failed
  2    invalid input (inventory, playbook, flags): nothing ran
  3    a host was unreachable
  130  interrupted`, `退出码：
  0    全部任务成功（检查项可以有警告）
  1    有任务或检查项失败
  2    输入无效（清单、剧本、参数）：什么都没有执行
  3    有主机无法连接
  130  被中断`)

// inputError marks invalid input: the message is shown as is and the exit code
// is 2.
type inputError struct{ err error }

func (e *inputError) Error() string { return e.err.Error() }
func (e *inputError) Unwrap() error { return e.err }

func invalid(err error) error { return &inputError{err: err} }

// exitError carries an exit code chosen by a command after it printed its own
// output.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// exitCode maps an error returned by a command to the process exit code and
// prints it when it has something to say.
func exitCode(err error, stderr io.Writer, lang i18n.Lang) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ie *inputError
	if errors.As(err, &ie) {
		fmt.Fprintln(stderr, localize(ie.err, lang))
		return exitInvalid
	}
	fmt.Fprintln(stderr, labelledIn(lang, msgError.In(lang), localize(err, lang)))
	return exitFailed
}

// localized is an error that can print itself in either language.
type localized interface {
	In(lang i18n.Lang) string
}

// messenger is an error that carries its message in both languages.
type messenger interface {
	Message() i18n.Text
}

// localize returns err's message in lang when err carries one, else its
// English text. An unreachable host whose cause has no message of its own,
// and a module error with a cause, get the system's error in brackets, so
// that the terminal shows the address, path or call that failed.
func localize(err error, lang i18n.Lang) string {
	var l localized
	if errors.As(err, &l) {
		return l.In(lang)
	}
	var m messenger
	var u *transport.UnreachableError
	if errors.As(err, &u) && u.Err != nil && !errors.As(u.Err, &m) {
		return withCause(u.Message().In(lang), u.Err, lang)
	}
	var me *module.Error
	if errors.As(err, &me) && me.Err != nil && !errors.As(me.Err, &m) {
		return withCause(me.Message().In(lang), me.Err, lang)
	}
	if errors.As(err, &m) {
		return m.Message().In(lang)
	}
	return err.Error()
}

// localizeTaskError is localize for the error of a task on a host: an error
// without a message of its own gets the cause that transport.DescribeError
// names, with the system's error in brackets. patrol's own commands call
// localize instead, because their errors happen on the machine running
// patrol and this advice is for the host.
func localizeTaskError(err error, lang i18n.Lang) string {
	var l localized
	var m messenger
	if errors.As(err, &l) || errors.As(err, &m) {
		return localize(err, lang)
	}
	if text, ok := transport.DescribeError(err); ok {
		return withCause(text.In(lang), err, lang)
	}
	return err.Error()
}

// withCause follows a message with the system's error in brackets.
func withCause(message string, cause error, lang i18n.Lang) string {
	if lang == i18n.ZH {
		return message + "（" + cause.Error() + "）"
	}
	return message + " (" + cause.Error() + ")"
}

// errorMessage returns the message of a task's error in both languages for
// the journal, or the zero Text when err carries none and
// transport.DescribeError cannot name its cause. It finds the message as
// localizeTaskError does, but leaves out the system error, which the
// journal keeps in Msg.
func errorMessage(err error) i18n.Text {
	if err == nil {
		return i18n.Text{}
	}
	var l localized
	if errors.As(err, &l) {
		return i18n.Text{EN: l.In(i18n.EN), ZH: l.In(i18n.ZH)}
	}
	var m messenger
	if errors.As(err, &m) {
		return m.Message()
	}
	if text, ok := transport.DescribeError(err); ok {
		return text
	}
	return i18n.Text{}
}

// flagValueError is an invalid flag value: the flag's name, then the value's
// own message in the user's language.
type flagValueError struct {
	flag string
	err  error
}

func (e *flagValueError) Error() string { return e.flag + ": " + e.err.Error() }
func (e *flagValueError) Unwrap() error { return e.err }

// In formats the error in lang.
func (e *flagValueError) In(lang i18n.Lang) string { return e.flag + ": " + localize(e.err, lang) }

// invalidFlag marks err as an invalid value of flag, exit code 2.
func invalidFlag(flag string, err error) error { return invalid(&flagValueError{flag: flag, err: err}) }
