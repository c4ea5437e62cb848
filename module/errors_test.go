package module

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"patrol/i18n"
	"patrol/transport"
)

func TestLocalFailureMessage(t *testing.T) {
	text := i18n.T("fetch: creating folder /srv/fetched/web1 failed", "fetch：创建文件夹 /srv/fetched/web1 失败")
	denied := &fs.PathError{Op: "mkdir", Path: "/srv/fetched", Err: syscall.EACCES}

	msg := LocalFailure(text, "/srv/fetched/web1", denied).Message()

	if want := "fetch：创建文件夹 /srv/fetched/web1 失败：运行 patrol 的机器上无权访问 /srv/fetched；请检查运行 patrol 的用户对 /srv/fetched 的权限"; msg.ZH != want {
		t.Errorf("zh = %q, want %q", msg.ZH, want)
	}
	if !strings.Contains(msg.EN, "on the machine running patrol") || !strings.Contains(msg.EN, "check the permissions of /srv/fetched") {
		t.Errorf("en = %q", msg.EN)
	}
	if strings.Contains(msg.EN+msg.ZH, "become") {
		t.Errorf("a local failure advises become, which acts on the host: %q", msg.ZH)
	}

	// The same error on the host gets the host's advice.
	if remote := Failure(text, denied).Message(); !strings.Contains(remote.ZH, "become") {
		t.Errorf("host failure: zh = %q, want become advised", remote.ZH)
	}
}

func TestLocalFailureNamesFolderNotPattern(t *testing.T) {
	// os.CreateTemp names the pattern, not the folder, in its error.
	err := &fs.PathError{Op: "createtemp", Path: "/nope/patrol-content-*", Err: syscall.ENOENT}

	msg := LocalFailure(i18n.T("copy: staging content failed", "copy：暂存 content 失败"), "/nope", err).Message()

	if want := "copy：暂存 content 失败：运行 patrol 的机器上不存在 /nope；请检查路径"; msg.ZH != want {
		t.Errorf("zh = %q, want %q", msg.ZH, want)
	}
}

func TestLocalFailureUnderFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "fetched")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(file, "web1")
	err := os.MkdirAll(dir, 0o755)
	if err == nil {
		t.Fatalf("MkdirAll %s under a file succeeded", dir)
	}

	msg := LocalFailure(i18n.T("fetch: creating folder "+dir+" failed", "fetch：创建文件夹 "+dir+" 失败"), dir, err).Message()

	if want := "运行 patrol 的机器上，" + file + " 中有一级是文件而不是文件夹；请检查路径"; !strings.HasSuffix(msg.ZH, want) {
		t.Errorf("zh = %q, want it to end with %q", msg.ZH, want)
	}
}

func TestExplainedFailureMessage(t *testing.T) {
	text := i18n.T("task timed out after 1s; raise the task's timeout if the work needs longer",
		"任务超过时限 1s，已终止；如确需更长时间，请调大该任务的 timeout")
	cause := fmt.Errorf("process group killed: %w (context deadline exceeded)", transport.ErrTimeout)

	err := ExplainedFailure(text, cause)

	if got := err.Message(); got != text {
		t.Errorf("message = %+v, want the text alone", got)
	}
	if !strings.Contains(err.Error(), "process group killed") {
		t.Errorf("Error() = %q, want the cause kept as evidence", err.Error())
	}
}
