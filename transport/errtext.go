package transport

import (
	"crypto/tls"
	"errors"
	"io"
	"io/fs"
	"net"
	"regexp"
	"strings"
	"syscall"

	"patrol/i18n"
)

// messenger is an error that carries its message in both languages, such as
// the SSH host key and login errors of sshconn.
type messenger interface {
	Message() i18n.Text
}

// Message returns why the host could not be reached and what to check next,
// in both languages, for consoles and reports. An error of the transport that
// has its own bilingual message, such as an unknown host key or a rejected
// login, gives that message. Otherwise the text follows Reason and the
// system error. The raw system error is left out, because Error() keeps it
// for evidence.
func (e *UnreachableError) Message() i18n.Text {
	var m messenger
	if errors.As(e.Err, &m) {
		return m.Message()
	}
	return unreachableText(e.Reason, e.Err)
}

// unreachableTextPattern matches the text of UnreachableError.Error().
var unreachableTextPattern = regexp.MustCompile(`(?s)^host (\S+) unreachable \(([a-z]+)\): (.*)$`)

// UnreachableFromText rebuilds an UnreachableError from its Error() text, as
// journals written before they recorded the bilingual message kept it. A text
// of another form becomes the cause of an error without a host or reason.
// The cause is text only, so Message classifies it by the system's wording.
func UnreachableFromText(text string) *UnreachableError {
	m := unreachableTextPattern.FindStringSubmatch(text)
	if m == nil {
		return &UnreachableError{Err: errors.New(text)}
	}
	return &UnreachableError{Host: m[1], Reason: m[2], Err: errors.New(m[3])}
}

// unreachableText explains a failed connection by its reason class, and a
// network failure by its cause.
func unreachableText(reason string, err error) i18n.Text {
	switch reason {
	case "auth":
		return i18n.T(
			"the host rejected the login: it does not accept the configured user with its password, key or certificate; check user, password_env, key_file or cert_file of this host in the inventory",
			"主机拒绝登录：主机不接受所配置的用户及其密码、密钥或证书；请检查清单中该主机的 user、password_env、key_file 或 cert_file")
	case "hostkey":
		return i18n.T(
			"the host's identity could not be verified: its SSH host key is unknown or has changed, or its HTTPS certificate failed verification; compare the fingerprint or certificate with the host's administrator before trusting it",
			"无法验证主机身份：主机的 SSH 主机密钥未知或已改变，或其 HTTPS 证书未通过验证；请先与主机管理员核对指纹或证书，再信任该主机")
	case "negotiation":
		return i18n.T(
			"the host answered, but patrol and the host could not agree on how to talk (SSH algorithms or WinRM settings); check the host's SSH or WinRM configuration against the error in the evidence",
			"主机有应答，但 patrol 与主机无法协商通信方式（SSH 算法或 WinRM 设置）；请对照证据中的原始错误检查主机的 SSH 或 WinRM 配置")
	case "timeout":
		// The transport timed out, but a timeout after the host accepted
		// the connection (an SSH handshake, a WinRM reply) needs other advice.
		if c := classify(err, true); c == causeResponseTimeout || c == causeNoResponse {
			return causeTexts[c]
		}
		return causeTexts[causeConnectTimeout]
	}
	if text, ok := causeTexts[classify(err, true)]; ok {
		return text
	}
	return i18n.T(
		"the network connection to the host failed; check the address and port in the inventory and the network path to the host",
		"与主机的网络连接失败；请检查清单中的地址和端口，以及到主机的网络")
}

// DescribeError names the cause of a failed connection, command or file
// operation on a host in both languages, with what to check next. It covers
// errors with their own bilingual message and task and command timeouts. It
// also covers refused and timed-out connections, servers that accepted the
// connection but did not respond, no route and unknown host names. Lost
// connections, rejected certificates, permission denied, missing files and
// full disks are covered too.
// It reports false for other errors, which only the system's own text
// explains. Its advice is for the host and the network to it, so failures
// on the machine running patrol need other words (module.LocalFailure).
func DescribeError(err error) (i18n.Text, bool) {
	var m messenger
	if errors.As(err, &m) {
		return m.Message(), true
	}
	text, ok := causeTexts[classify(err, false)]
	return text, ok
}

// cause is a class of system error that DescribeError and Message explain.
type cause int

const (
	causeOther cause = iota
	causeTaskTimeout
	causeCommandTimeout
	causeRefused
	causeConnectTimeout
	causeResponseTimeout
	causeNoResponse
	causeNoRoute
	causeNoSuchHost
	causeLost
	causeCertificate
	causePermission
	causeNotExist
	causeNoSpace
)

var causeTexts = map[cause]i18n.Text{
	causeTaskTimeout: i18n.T(
		"the task ran longer than its timeout and was stopped; raise the task's timeout if the work needs longer",
		"任务超过时限，已终止；如确需更长时间，请调大该任务的 timeout"),
	causeCommandTimeout: i18n.T(
		"the command ran longer than its time limit and was stopped",
		"命令超过时限，已被终止"),
	causeRefused: i18n.T(
		"the connection was refused: no service listens on that port, or a firewall rejects the connection; check that the service runs on the host and that the port is right",
		"连接被拒绝：该端口上没有服务在监听，或防火墙拒绝了连接；请检查主机上的服务是否在运行、端口是否正确"),
	causeConnectTimeout: i18n.T(
		"the connection timed out: the host did not answer; check that the host is running, that the address is right and that no firewall drops the traffic",
		"连接超时：主机没有应答；请检查主机是否开机、地址是否正确、防火墙是否放行"),
	causeResponseTimeout: i18n.T(
		"the server accepted the connection but did not respond in time; check that the service on the host (the application, sshd or WinRM) runs and is not overloaded",
		"服务器接受了连接，但没有及时响应；请检查主机上的服务（应用、sshd 或 WinRM）是否在运行、是否负载过高"),
	// An HTTP client's own timeout ends a slow connect and a slow reply
	// with the same error text, so this text names both.
	causeNoResponse: i18n.T(
		"the request timed out without a response: the server did not accept the connection or did not answer in time; if the host is reachable, check the application behind the address and its load",
		"请求超时，没有收到响应：服务器没有接受连接，或没有及时应答；如果主机能连通，请检查该地址背后的应用及其负载"),
	causeNoRoute: i18n.T(
		"there is no route to the host: check the address and the network path (links, routes, VPN) to the host",
		"没有到主机的路由：请检查地址以及到主机的网络（线路、路由、VPN）"),
	causeNoSuchHost: i18n.T(
		"the host name does not resolve: check the address in the inventory and the DNS settings",
		"主机名无法解析：请检查清单中的地址和 DNS 设置"),
	causeLost: i18n.T(
		"the host closed the connection or the link was cut; check the network to the host and the service's connection limits, then run again",
		"主机关闭了连接或线路中断；请检查到主机的网络和服务的连接数限制，然后重新运行"),
	causeCertificate: i18n.T(
		"the server's TLS certificate failed verification: it is expired, not yet valid, issued for another name or signed by an untrusted CA; renew the certificate or trust its CA",
		"服务器的 TLS 证书未通过验证：证书已过期、尚未生效、签发给其他名称或由不受信任的 CA 签发；请更新证书或信任其 CA"),
	causePermission: i18n.T(
		"permission denied: the user may not do this on the host; run with become, or grant the user the right",
		"权限不足：该用户在主机上无权执行此操作；请使用 become（sudo）运行，或为该用户授权"),
	causeNotExist: i18n.T(
		"the file or directory does not exist; check the path",
		"文件或目录不存在；请检查路径"),
	causeNoSpace: i18n.T(
		"no space is left on the device; free space on the file system and run again",
		"设备空间不足；请清理文件系统后重新运行"),
}

// classify sorts err by the system error it wraps. Errors that reached here
// as text only (older journals, messages of other libraries) are sorted by
// the wording Go and the operating systems use for those errors.
// connection is true when err is known to be a failed connection, so that
// its text needs no further sign of one.
func classify(err error, connection bool) cause {
	if err == nil {
		return causeOther
	}
	var opErr *net.OpError
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	isOpErr := errors.As(err, &opErr)
	switch {
	case errors.Is(err, ErrTimeout):
		return causeCommandTimeout
	case errors.As(err, &certErr):
		return causeCertificate
	case errors.Is(err, syscall.ECONNREFUSED):
		return causeRefused
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return causeNoRoute
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return causeNoSuchHost
	case isOpErr && opErr.Op == "dial" && (opErr.Timeout() || errors.Is(err, syscall.ETIMEDOUT)):
		return causeConnectTimeout
	case errors.Is(err, fs.ErrPermission):
		return causePermission
	case errors.Is(err, fs.ErrNotExist):
		return causeNotExist
	case errors.Is(err, syscall.ENOSPC):
		return causeNoSpace
	}

	// An end of file or a reset is a lost link only on a network connection:
	// the same errors come from local pipes and truncated files.
	text := strings.ToLower(err.Error())
	connection = connection || isOpErr || looksLikeConnection(text)
	lost := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
	if connection && lost {
		return causeLost
	}
	return classifyText(text, connection)
}

// connectionWords are signs that an error's text is that of a network
// connection: Go's net, net/http and x/crypto/ssh prefixes, sshconn's
// handshake error and the Windows socket calls.
var connectionWords = []string{
	"dial ", "read tcp", "write tcp", "connect:", "connectex:", "lookup ",
	"wsarecv", "wsasend", "ssh:", "ssh handshake", "net/http:", `"http://`, `"https://`,
}

func looksLikeConnection(lower string) bool {
	return containsAny(lower, connectionWords...)
}

// causeWords are the phrases of errors by cause, in the order they are
// tried, in lower case: patrol's own timeouts, Go's net, crypto/x509 and
// syscall texts on Linux, and the Windows texts. Network phrases count
// only in the text of a connection error, because the same words turn up
// in task output ("eof", "deadline exceeded").
var causeWords = []struct {
	cause   cause
	network bool
	words   []string
}{
	// The runner's "task timed out" wraps the transport's "command timed out".
	{causeTaskTimeout, false, []string{"task timed out"}},
	{causeCommandTimeout, false, []string{"command timed out"}},
	{causeCertificate, false, []string{
		"tls: failed to verify certificate", "x509: certificate signed by unknown authority",
		"x509: certificate has expired", "x509: certificate is valid for", "x509: certificate is not valid",
		"x509: cannot validate certificate", "x509: certificate is not authorized"}},
	{causeRefused, true, []string{"connection refused", "actively refused"}},
	{causeNoRoute, true, []string{"no route to host", "network is unreachable", "host is unreachable"}},
	{causeNoSuchHost, true, []string{"no such host"}},
	// A timeout of an established connection means the link went away.
	{causeLost, true, []string{"connection reset", "broken pipe", "forcibly closed", "connection lost",
		": eof", "unexpected eof", "read: connection timed out", "write: connection timed out"}},
	{causePermission, false, []string{"permission denied", "access is denied"}},
	{causeNotExist, false, []string{"no such file or directory", "cannot find the file", "cannot find the path"}},
	{causeNoSpace, false, []string{"no space left on device", "not enough space"}},
}

func classifyText(lower string, connection bool) cause {
	for _, c := range causeWords {
		if c.network && !connection {
			continue
		}
		if containsAny(lower, c.words...) {
			return c.cause
		}
	}
	if connection {
		return timeoutCause(lower)
	}
	return causeOther
}

// timeoutCause sorts a timeout by the text of a connection error: one while
// connecting, one after the server accepted the connection, or an HTTP
// client timeout, which can be either.
func timeoutCause(lower string) cause {
	if !containsAny(lower, "i/o timeout", "timed out", "deadline exceeded", "did not properly respond", "timeout awaiting", "handshake timeout") {
		return causeOther
	}
	switch {
	case containsAny(lower, "dial ", "connect:", "connectex:"):
		return causeConnectTimeout
	case strings.Contains(lower, "handshake"):
		// An SSH or TLS handshake starts once the server accepted the connection.
		return causeResponseTimeout
	case containsAny(lower, "client.timeout exceeded", "context deadline exceeded"):
		// net/http gives these for a slow connect as well as a slow reply.
		return causeNoResponse
	}
	return causeResponseTimeout
}

func containsAny(s string, words ...string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
