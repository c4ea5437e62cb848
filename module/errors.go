package module

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"

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
	// describe names the cause Err in both languages with what to do, for
	// Message. It is nil when Text already names the cause.
	describe func(error) (i18n.Text, bool)
}

// Failure returns an Error with text and the cause err, which may be nil,
// for a failure on the host or on the connection to it. Message adds the
// description of err from transport.DescribeError.
func Failure(text i18n.Text, err error) *Error {
	return &Error{Text: text, Err: err, describe: transport.DescribeError}
}

// LocalFailure returns an Error with text and the cause err for a failure on
// the machine running patrol at path, such as creating the folder for
// fetched files. Message names the path (the one in err when it is a
// *fs.PathError) and its problem (permissions, a missing path, a full
// disk), never the host-side advice of transport.DescribeError.
func LocalFailure(text i18n.Text, path string, err error) *Error {
	describe := func(err error) (i18n.Text, bool) { return describeLocal(path, err) }
	return &Error{Text: text, Err: err, describe: describe}
}

// ExplainedFailure returns an Error whose text already names the cause and
// what to do, such as a task timeout. Message is text alone, and err stays
// in Error() as evidence.
func ExplainedFailure(text i18n.Text, err error) *Error {
	return &Error{Text: text, Err: err}
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Text.EN
	}
	return e.Text.EN + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Message returns Text followed by the cause in both languages when it can
// be named (a refused connection, permission denied, a missing file), else
// Text alone.
func (e *Error) Message() i18n.Text {
	if e.Err == nil || e.describe == nil {
		return e.Text
	}
	cause, ok := e.describe(e.Err)
	if !ok {
		return e.Text
	}
	return i18n.T(e.Text.EN+": "+cause.EN, e.Text.ZH+"："+cause.ZH)
}

// describeLocal names the cause of a failed file operation on path on the
// machine running patrol. It names the path in err instead when that is a
// parent of path, such as the folder that os.MkdirAll could not create.
func describeLocal(path string, err error) (i18n.Text, bool) {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) && isWithin(path, pathErr.Path) {
		path = pathErr.Path
	}

	switch {
	case errors.Is(err, fs.ErrPermission):
		return i18n.T(
			"on the machine running patrol, access to "+path+" was denied; check the permissions of "+path+" for the user running patrol",
			"运行 patrol 的机器上无权访问 "+path+"；请检查运行 patrol 的用户对 "+path+" 的权限"), true
	case errors.Is(err, fs.ErrNotExist):
		return i18n.T(
			"on the machine running patrol, "+path+" does not exist; check the path",
			"运行 patrol 的机器上不存在 "+path+"；请检查路径"), true
	case errors.Is(err, syscall.ENOTDIR):
		return i18n.T(
			"on the machine running patrol, a part of "+path+" is a file, not a folder; check the path",
			"运行 patrol 的机器上，"+path+" 中有一级是文件而不是文件夹；请检查路径"), true
	case errors.Is(err, syscall.EROFS):
		return i18n.T(
			"on the machine running patrol, "+path+" is on a read-only file system; choose another path",
			"运行 patrol 的机器上，"+path+" 位于只读文件系统；请换一个路径"), true
	case errors.Is(err, syscall.ENOSPC):
		return i18n.T(
			"on the machine running patrol, no space is left on the device of "+path+"; free space there and run again",
			"运行 patrol 的机器上 "+path+" 所在设备空间不足；请清理后重新运行"), true
	}
	return i18n.Text{}, false
}

// isWithin reports whether path is parent itself or lies inside it.
func isWithin(path, parent string) bool {
	rel, err := filepath.Rel(parent, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
