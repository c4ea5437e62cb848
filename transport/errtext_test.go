package transport

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strings"
	"syscall"
	"testing"

	"patrol/i18n"
)

// refusedError dials a loopback port that nothing listens on any more.
func refusedError(t *testing.T) error {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	conn, err := net.Dial("tcp", addr)
	if err == nil {
		conn.Close()
		t.Skipf("%s accepted a connection after its listener closed", addr)
	}
	return err
}

// assertChinese fails when text has a run of Latin letters that is not one
// of the allowed names (settings and commands the reader types).
func assertChinese(t *testing.T, text string, allowed ...string) {
	t.Helper()
	rest := text
	for _, a := range allowed {
		rest = strings.ReplaceAll(rest, a, "")
	}
	words := 0
	for _, f := range strings.FieldsFunc(rest, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') }) {
		if len(f) > 1 {
			words++
		}
	}
	if words > 0 {
		t.Errorf("Chinese text has English words: %q", text)
	}
}

func TestUnreachableMessageRefused(t *testing.T) {
	err := &UnreachableError{Host: "hotel-web", Reason: "network", Err: fmt.Errorf("dial: %w", refusedError(t))}

	msg := err.Message()

	if !strings.Contains(msg.ZH, "连接被拒绝") {
		t.Errorf("zh = %q, want the refused connection named", msg.ZH)
	}
	assertChinese(t, msg.ZH)
	if !strings.Contains(msg.EN, "refused") {
		t.Errorf("en = %q", msg.EN)
	}
	if !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("Error() = %q, want the system error kept", err.Error())
	}
}

func TestUnreachableMessageByReason(t *testing.T) {
	cases := []struct {
		reason string
		err    error
		zh     string
	}{
		{"timeout", errors.New("dial tcp 10.10.1.12:22: i/o timeout"), "连接超时"},
		{"auth", errors.New("http response error: 401 - invalid content type"), "拒绝登录"},
		{"hostkey", errors.New("x509: certificate signed by unknown authority"), "主机身份"},
		{"negotiation", errors.New("ssh: no common algorithm for key exchange"), "协商"},
		{"network", errors.New("dial tcp 10.0.0.9:22: connect: no route to host"), "没有到主机的路由"},
		{"network", &net.DNSError{Err: "no such host", Name: "seal-db-9", IsNotFound: true}, "无法解析"},
		{"network", errors.New("ssh: handshake failed: EOF"), "关闭了连接"},
	}
	for _, c := range cases {
		msg := (&UnreachableError{Host: "h", Reason: c.reason, Err: c.err}).Message()
		if !strings.Contains(msg.ZH, c.zh) {
			t.Errorf("%s %v: zh = %q, want %q", c.reason, c.err, msg.ZH, c.zh)
		}
		assertChinese(t, msg.ZH, "SSH", "WinRM", "HTTPS", "patrol", "user", "password_env", "key_file", "cert_file", "DNS", "VPN")
		if msg.EN == "" {
			t.Errorf("%s: no English message", c.reason)
		}
	}
}

// hostKeyError stands for an error of a transport with its own bilingual
// message, such as sshconn.UnknownHostKeyError.
type hostKeyError struct{}

func (hostKeyError) Error() string { return "host key of web1 is unknown" }
func (hostKeyError) Message() i18n.Text {
	return i18n.T("host key of web1 is unknown", "主机 web1 的主机密钥未知")
}

func TestUnreachableMessagePrefersOwnMessage(t *testing.T) {
	err := &UnreachableError{Host: "web1", Reason: "hostkey", Err: fmt.Errorf("jump host j1: %w", hostKeyError{})}

	if got := err.Message().ZH; got != "主机 web1 的主机密钥未知" {
		t.Errorf("zh = %q, want the inner error's message", got)
	}
}

func TestUnreachableFromText(t *testing.T) {
	old := (&UnreachableError{Host: "hotel-web", Reason: "hostkey", Err: hostKeyError{}}).Error()

	got := UnreachableFromText(old)

	if got.Host != "hotel-web" || got.Reason != "hostkey" || got.Err.Error() != "host key of web1 is unknown" {
		t.Errorf("from %q: host %q reason %q err %v", old, got.Host, got.Reason, got.Err)
	}
	if !strings.Contains(got.Message().ZH, "主机身份") {
		t.Errorf("zh = %q", got.Message().ZH)
	}

	bare := UnreachableFromText("dial tcp 10.10.1.12:22: connect: connection timed out")
	if bare.Reason != "" || !strings.Contains(bare.Message().ZH, "连接超时") {
		t.Errorf("bare text: reason %q zh %q", bare.Reason, bare.Message().ZH)
	}
}

func TestDescribeError(t *testing.T) {
	cases := []struct {
		err error
		zh  string
	}{
		{fmt.Errorf("host h: %w (the command was stopped)", ErrTimeout), "超过时限"},
		{refusedError(t), "连接被拒绝"},
		{&fs.PathError{Op: "open", Path: "/etc/shadow", Err: syscall.EACCES}, "权限不足"},
		{&fs.PathError{Op: "open", Path: "/nope", Err: syscall.ENOENT}, "不存在"},
		{&fs.PathError{Op: "write", Path: "/data/x", Err: syscall.ENOSPC}, "空间不足"},
		{errors.New(`Get "https://10.0.0.1/": tls: failed to verify certificate: x509: certificate has expired`), "证书"},
	}
	for _, c := range cases {
		msg, ok := DescribeError(c.err)
		if !ok || !strings.Contains(msg.ZH, c.zh) {
			t.Errorf("%v: (%q, %t), want %q", c.err, msg.ZH, ok, c.zh)
		}
	}

	if msg, ok := DescribeError(errors.New("exit status 3")); ok {
		t.Errorf("an unknown error was described as %q", msg.ZH)
	}
}
