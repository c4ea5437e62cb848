package sshconn

import (
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"patrol/i18n"
)

// Reasons of transport.UnreachableError set by this package.
const (
	ReasonNetwork     = "network"
	ReasonTimeout     = "timeout"
	ReasonAuth        = "auth"
	ReasonHostKey     = "hostkey"
	ReasonNegotiation = "negotiation"
)

// HostKeyChangedError means the host offered a key other than the one recorded
// in known_hosts: the host was reinstalled, its key rotated, or someone is in
// the middle. The host is stopped until the line is removed.
type HostKeyChangedError struct {
	Host string
	// Addr is the normalized known_hosts name, "host" or "[host]:port".
	Addr string
	// Known are the recorded keys for the host, with their file and line.
	Known []knownhosts.KnownKey
	// Offered is the key the server presented.
	Offered ssh.PublicKey
}

func (e *HostKeyChangedError) Error() string { return e.Message().EN }

// Message returns the user-facing text in both languages.
func (e *HostKeyChangedError) Message() i18n.Text {
	var known, knownZH []string
	for _, k := range e.Known {
		known = append(known, fmt.Sprintf("%s %s at %s:%d", k.Key.Type(), ssh.FingerprintSHA256(k.Key), k.Filename, k.Line))
		knownZH = append(knownZH, fmt.Sprintf("%s %s（%s 第 %d 行）", k.Key.Type(), ssh.FingerprintSHA256(k.Key), k.Filename, k.Line))
	}
	offered := fmt.Sprintf("%s %s", e.Offered.Type(), ssh.FingerprintSHA256(e.Offered))
	first := e.Known[0]
	return i18n.T(
		fmt.Sprintf("host key of %s (%s) has changed: known_hosts expects %s, the server offered %s; "+
			"if the change is expected (reinstall or key rotation), remove line %d of %s "+
			"(ssh-keygen -R '%s' -f %s) and connect again with --accept-new-host-keys",
			e.Host, e.Addr, strings.Join(known, ", "), offered, first.Line, first.Filename, e.Addr, first.Filename),
		fmt.Sprintf("主机 %s（%s）的主机密钥已改变：known_hosts 记录的是 %s，服务器提供的是 %s；"+
			"如果变更是预期的（重装系统或轮换密钥），请删除 %s 的第 %d 行"+
			"（ssh-keygen -R '%s' -f %s），再加 --accept-new-host-keys 重新连接",
			e.Host, e.Addr, strings.Join(knownZH, "，"), offered, first.Filename, first.Line, e.Addr, first.Filename),
	)
}

// UnknownHostKeyError means no known_hosts file has a key for the host and
// new keys are not accepted.
type UnknownHostKeyError struct {
	Host    string
	Addr    string
	Offered ssh.PublicKey
	// Files are the known_hosts files that were searched.
	Files []string
}

func (e *UnknownHostKeyError) Error() string { return e.Message().EN }

// Message returns the user-facing text in both languages.
func (e *UnknownHostKeyError) Message() i18n.Text {
	fp := e.Offered.Type() + " " + ssh.FingerprintSHA256(e.Offered)
	files := strings.Join(e.Files, ", ")
	return i18n.T(
		fmt.Sprintf("host key of %s (%s) is unknown: the server offered %s, which is in none of %s; "+
			"check the fingerprint with the host's administrator, then run with --accept-new-host-keys "+
			"or add the key with ssh-keyscan", e.Host, e.Addr, fp, files),
		fmt.Sprintf("主机 %s（%s）的主机密钥未知：服务器提供的 %s 不在 %s 中；"+
			"请与主机管理员核对指纹后，加 --accept-new-host-keys 运行，或用 ssh-keyscan 添加密钥", e.Host, e.Addr, fp, files),
	)
}

// NegotiationError means the host runs SSH but shares no algorithm with
// patrol for one step of the handshake.
type NegotiationError struct {
	Host string
	// What is the step: "key exchange", "host key", "client to server cipher", ….
	What string
	// ServerOffered are the algorithms the server offered for that step;
	// ClientOffered are patrol's.
	ServerOffered []string
	ClientOffered []string
	// Legacy is true when the host already has ssh_legacy set.
	Legacy bool
}

func (e *NegotiationError) Error() string { return e.Message().EN }

// Message returns the user-facing text in both languages.
func (e *NegotiationError) Message() i18n.Text {
	server := strings.Join(e.ServerOffered, " ")
	client := strings.Join(e.ClientOffered, " ")
	if e.Legacy {
		return i18n.T(
			fmt.Sprintf("no common %s algorithm with %s even with ssh_legacy: the server offered [%s], patrol offered [%s]; "+
				"upgrade the server's SSH or enable a newer algorithm on it", e.What, e.Host, server, client),
			fmt.Sprintf("即使启用 ssh_legacy，与 %s 也没有共同的 %s 算法：服务器提供 [%s]，patrol 提供 [%s]；"+
				"请升级服务器的 SSH 或在服务器上启用较新的算法", e.Host, e.What, server, client),
		)
	}
	return i18n.T(
		fmt.Sprintf("no common %s algorithm with %s: the server offered [%s], patrol offered [%s]; "+
			"for an old server or network device set ssh_legacy: true on this host, which enables SHA-1 key exchange "+
			"and CBC ciphers for it alone", e.What, e.Host, server, client),
		fmt.Sprintf("与 %s 没有共同的 %s 算法：服务器提供 [%s]，patrol 提供 [%s]；"+
			"如果是老旧服务器或网络设备，请在该主机上设置 ssh_legacy: true，只对该主机启用 SHA-1 密钥交换和 CBC 加密算法",
			e.Host, e.What, server, client),
	)
}

// AuthFailure classifies why login failed.
type AuthFailure string

// Classes of AuthFailure.
const (
	// AuthMethodMismatch: the server accepts none of the methods patrol has
	// credentials for, so no credential was tried.
	AuthMethodMismatch AuthFailure = "method-mismatch"
	// AuthRejected: the server rejected the credentials patrol sent.
	AuthRejected AuthFailure = "rejected"
	// AuthPartial: a first method succeeded but the server required another
	// step that patrol could not complete.
	AuthPartial AuthFailure = "partial"
)

// AuthError is a failed login.
type AuthError struct {
	Host string
	User string
	Kind AuthFailure
	// ServerMethods are the methods the server accepted at the last step.
	ServerMethods []string
	// Tried are the methods patrol attempted and the server rejected.
	Tried []string
	// Partial are the methods that succeeded as a first step.
	Partial []string
	// Detail adds what happened inside a method, such as a prompt patrol
	// cannot answer.
	Detail string
	// Available are the methods patrol had credentials for.
	Available []string
}

func (e *AuthError) Error() string { return e.Message().EN }

// Message returns the user-facing text in both languages.
func (e *AuthError) Message() i18n.Text {
	server := strings.Join(e.ServerMethods, ",")
	detail, detailZH := "", ""
	if e.Detail != "" {
		detail, detailZH = " ("+e.Detail+")", "（"+e.Detail+"）"
	}
	switch e.Kind {
	case AuthMethodMismatch:
		return i18n.T(
			fmt.Sprintf("login to %s as %s failed: the server accepts only %s, but patrol has credentials for %s; "+
				"no credential was tried; set key_file or password_env for this host",
				e.Host, e.User, server, orNone(e.Available)),
			fmt.Sprintf("以 %s 登录 %s 失败：服务器只接受 %s，而 patrol 只有 %s 的凭据，未尝试任何凭据；"+
				"请为该主机设置 key_file 或 password_env", e.User, e.Host, server, orNone(e.Available)),
		)
	case AuthPartial:
		return i18n.T(
			fmt.Sprintf("login to %s as %s failed: the server accepted %s but then required %s, which patrol could not complete%s",
				e.Host, e.User, strings.Join(e.Partial, ","), server, detail),
			fmt.Sprintf("以 %s 登录 %s 失败：服务器接受了 %s，但随后要求 %s，patrol 无法完成%s",
				e.User, e.Host, strings.Join(e.Partial, ","), server, detailZH),
		)
	default:
		return i18n.T(
			fmt.Sprintf("login to %s as %s failed: the server rejected %s%s; check the user, key_file and password_env "+
				"(patrol tries each method once so that the account is not locked)",
				e.Host, e.User, orNone(e.Tried), detail),
			fmt.Sprintf("以 %s 登录 %s 失败：服务器拒绝了 %s%s；请检查 user、key_file 和 password_env"+
				"（patrol 每种方式只尝试一次，以免账户被锁定）", e.User, e.Host, orNone(e.Tried), detailZH),
		)
	}
}

func orNone(methods []string) string {
	if len(methods) == 0 {
		return "none"
	}
	return strings.Join(methods, ",")
}
