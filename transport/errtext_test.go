package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"patrol/i18n"
	"patrol/internal/loopback"
)

// refusedError dials a loopback port that nothing listens on any more.
func refusedError(t *testing.T) error {
	t.Helper()
	err, setupErr := loopback.RefusedDial()
	if setupErr != nil {
		t.Skip(setupErr)
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

// silentListener accepts connections on 127.0.0.1 and never writes to them,
// like a hung web application or sshd. It returns the address.
func silentListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

func TestDescribeErrorSilentServer(t *testing.T) {
	addr := silentListener(t)

	_, clientErr := (&http.Client{Timeout: 200 * time.Millisecond}).Get("http://" + addr + "/")
	headerTransport := &http.Transport{ResponseHeaderTimeout: 200 * time.Millisecond}
	defer headerTransport.CloseIdleConnections()
	_, headerErr := (&http.Client{Transport: headerTransport}).Get("http://" + addr + "/wsman")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(200 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	_, _, _, sshErr := ssh.NewClientConn(conn, addr, &ssh.ClientConfig{User: "patrol", HostKeyCallback: ssh.InsecureIgnoreHostKey()})

	cases := []struct {
		name string
		err  error
		want cause
	}{
		{"http client timeout", clientErr, causeNoResponse},
		{"http response header timeout", headerErr, causeResponseTimeout},
		{"ssh handshake deadline", sshErr, causeResponseTimeout},
	}
	for _, c := range cases {
		if c.err == nil {
			t.Fatalf("%s: no error from a server that never replies", c.name)
		}
		msg, ok := DescribeError(c.err)
		if !ok || msg != causeTexts[c.want] {
			t.Errorf("%s: %q described as (%q, %t), want %q", c.name, c.err, msg.EN, ok, causeTexts[c.want].EN)
		}
		if strings.Contains(msg.ZH, "主机没有应答") {
			t.Errorf("%s: zh %q says the host did not answer, but it accepted the connection", c.name, msg.ZH)
		}
	}

	// Reached through the transport's timeout reason, the SSH handshake
	// timeout is still one of a server that accepted the connection.
	unreachable := &UnreachableError{Host: "hotel-web", Reason: "timeout", Err: fmt.Errorf("ssh handshake with %s did not finish within 200ms: %w", addr, sshErr)}
	if got := unreachable.Message(); got != causeTexts[causeResponseTimeout] {
		t.Errorf("unreachable with reason timeout: %q", got.EN)
	}
}

// fullBacklogAddr returns the address of a socket that listens with a
// backlog of 0, never accepts, and has a full accept queue. The kernel then
// drops further SYNs, so a dial to it times out like a dial to a host that
// is down.
func fullBacklogAddr(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)

	for range 4 {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return addr
		}
		t.Cleanup(func() { conn.Close() })
	}
	t.Skipf("%s accepted 4 connections with a backlog of 0", addr)
	return ""
}

func TestDescribeErrorDialTimeout(t *testing.T) {
	addr := fullBacklogAddr(t)

	_, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)

	if err == nil {
		t.Fatalf("dial %s succeeded", addr)
	}
	if msg, ok := DescribeError(err); !ok || msg != causeTexts[causeConnectTimeout] {
		t.Errorf("%q described as (%q, %t), want the connection timeout", err, msg.EN, ok)
	}
	unreachable := &UnreachableError{Host: "hotel-web", Reason: "timeout", Err: fmt.Errorf("connect to %s: %w", addr, err)}
	if got := unreachable.Message(); got != causeTexts[causeConnectTimeout] {
		t.Errorf("unreachable with reason timeout: %q", got.EN)
	}
}

// TestClassifyText sorts error texts as Go 1.26, x/crypto/ssh 0.59 and
// Windows print them (the test above records the first ones live), and
// task output that only shares words with them.
func TestClassifyText(t *testing.T) {
	cases := []struct {
		text string
		want cause
	}{
		// patrol's own timeouts
		{"task timed out after 1s; raise the task's timeout if the work needs longer: process group killed: command timed out after 1s (context deadline exceeded)", causeTaskTimeout},
		{"host web1: command timed out (the command was stopped)", causeCommandTimeout},
		{`run "df -P": host web1: scheduled task patrol-1 did not end within 2m0s, so it was stopped and deleted: command timed out`, causeCommandTimeout},

		// connecting
		{"dial tcp 127.0.0.1:43921: connect: connection refused", causeRefused},
		{"dial tcp 10.0.0.5:5985: connectex: No connection could be made because the target machine actively refused it.", causeRefused},
		{"dial tcp 10.0.0.9:22: connect: no route to host", causeNoRoute},
		{"lookup seal-db-9 on 127.0.0.53:53: no such host", causeNoSuchHost},
		{"dial tcp 127.0.0.1:43487: i/o timeout", causeConnectTimeout},
		{"connect to 10.10.1.12:22: dial tcp 10.10.1.12:22: connect: connection timed out", causeConnectTimeout},
		{"dial tcp 10.0.0.5:5985: connectex: A connection attempt failed because the connected party did not properly respond after a period of time, or established connection failed because connected host has failed to respond.", causeConnectTimeout},

		// after the server accepted the connection
		{"ssh: handshake failed: read tcp 127.0.0.1:35638->127.0.0.1:41749: i/o timeout", causeResponseTimeout},
		{`Post "http://10.0.0.5:5985/wsman": net/http: timeout awaiting response headers`, causeResponseTimeout},
		{`Post "https://10.0.0.5:5986/wsman": net/http: TLS handshake timeout`, causeResponseTimeout},
		{"ssh handshake with 10.0.0.5:22 did not finish within 10s: context deadline exceeded", causeResponseTimeout},
		{`Get "http://127.0.0.1:41749/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, causeNoResponse},
		{`Get "http://127.0.0.1:41749/": context deadline exceeded`, causeNoResponse},
		{"ssh: handshake failed: EOF", causeLost},
		{`Get "http://127.0.0.1:43921/": EOF`, causeLost},
		{"read tcp 127.0.0.1:50122->127.0.0.1:22: read: connection reset by peer", causeLost},
		{"read tcp 10.0.0.2:50122->10.0.0.5:22: read: connection timed out", causeLost},
		{"wsarecv: An existing connection was forcibly closed by the remote host.", causeLost},
		{`Get "https://10.0.0.1/": tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time 2026-12-01T00:00:00Z is after 2026-11-30T00:00:00Z`, causeCertificate},

		// files and rights
		{"open /etc/shadow: permission denied", causePermission},
		{"open C:\\Windows\\System32\\config\\SAM: Access is denied.", causePermission},
		{"stat /opt/app/run.sh: no such file or directory", causeNotExist},
		{"mktemp exited 1: mktemp: failed to create file via template '/tmp/.patrol-script-XXXXXXXX': No space left on device", causeNoSpace},

		// task output and other errors that only share words
		{"context deadline exceeded", causeOther},
		{"boot identity command printed neither boot_id nor boot_time: unexpected EOF", causeOther},
		{"test_command exited with status 1: curl: (28) Operation timed out after 5001 milliseconds with 0 bytes received", causeOther},
		{"exit code 1 is not one of ok_codes [0]", causeOther},
		{"x509: malformed certificate", causeOther},
		{"ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain", causeOther},
	}
	for _, c := range cases {
		if got := classify(errors.New(c.text), false); got != c.want {
			t.Errorf("%q: cause %d, want %d", c.text, got, c.want)
		}
	}
}

func TestDescribeErrorLocalStreams(t *testing.T) {
	cases := []error{
		fmt.Errorf("read catalog patches.yml: %w", io.ErrUnexpectedEOF),
		&fs.PathError{Op: "write", Path: "|1", Err: syscall.EPIPE},
		fmt.Errorf("wait for the scan: %w", context.DeadlineExceeded),
	}
	for _, err := range cases {
		if msg, ok := DescribeError(err); ok {
			t.Errorf("%q described as %q, want no network advice", err, msg.EN)
		}
	}
}

func TestCauseTextsChinese(t *testing.T) {
	for c, text := range causeTexts {
		assertChinese(t, text.ZH, "timeout", "sshd", "WinRM", "DNS", "VPN", "TLS", "CA", "become", "sudo")
		if text.EN == "" {
			t.Errorf("cause %d has no English text", c)
		}
	}
}
