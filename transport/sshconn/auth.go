package sshconn

import (
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// SSH authentication method names (RFC 4252, RFC 4256).
const (
	methodPublicKey = "publickey"
	methodPassword  = "password"
	methodKeyboard  = "keyboard-interactive"
)

// authenticator picks each authentication method from the list the server
// advertises (after the initial "none" request) and tries each at most once.
// The password is sent at most once per login unless a method succeeded
// partially, so a wrong password costs exactly one failed attempt on the
// server, whatever mix of password and keyboard-interactive it offers.
type authenticator struct {
	cfg     *Config
	signers []ssh.Signer

	mu              sync.Mutex
	serverMethods   []string
	tried           []string
	partial         []string
	passwordSent    bool
	keyboardAnswers int
	failure         *AuthError
}

func newAuthenticator(cfg *Config, signers []ssh.Signer) *authenticator {
	return &authenticator{cfg: cfg, signers: signers}
}

// available lists the methods patrol has credentials for, in the order they
// are tried.
func (a *authenticator) available() []string {
	var methods []string
	if len(a.signers) > 0 {
		methods = append(methods, methodPublicKey)
	}
	if a.cfg.Password != "" {
		methods = append(methods, methodPassword, methodKeyboard)
	}
	return methods
}

// next is the ssh.ClientAuthCallback.
func (a *authenticator) next(ctx *ssh.ClientAuthContext) (ssh.AuthMethod, error) {
	a.mu.Lock()
	defer a.mu.Unlock()

	if a.failure != nil {
		return nil, a.failure
	}
	a.serverMethods = ctx.AllowedMethods
	a.tried = withoutNone(ctx.TriedMethods)
	a.partial = ctx.PartialSuccessMethods

	for _, method := range a.available() {
		if !slices.Contains(ctx.AllowedMethods, method) || a.used(method) {
			continue
		}
		if method != methodPublicKey && a.passwordRejected() {
			continue
		}
		switch method {
		case methodPublicKey:
			return ssh.PublicKeys(a.signers...), nil
		case methodPassword:
			return ssh.PasswordCallback(a.password), nil
		case methodKeyboard:
			return ssh.KeyboardInteractive(a.answer), nil
		}
	}

	a.failure = a.classify()
	return nil, a.failure
}

func (a *authenticator) used(method string) bool {
	return slices.Contains(a.tried, method) || slices.Contains(a.partial, method)
}

// passwordRejected reports whether the password reached the server and a
// method that carried it failed.
func (a *authenticator) passwordRejected() bool {
	if !a.passwordSent {
		return false
	}
	return slices.Contains(a.tried, methodPassword) || (slices.Contains(a.tried, methodKeyboard) && a.keyboardAnswers > 0)
}

func (a *authenticator) password() (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.passwordSent = true
	return string(a.cfg.Password), nil
}

// answer replies to keyboard-interactive prompts: each echo-off prompt gets
// the password, once. A prompt shown with echo on (a user name, a menu) or a
// second secret (a one-time code) cannot be answered and ends the login.
func (a *authenticator) answer(_, _ string, questions []string, echos []bool) ([]string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()

	answers := make([]string, len(questions))
	for i, question := range questions {
		if echos[i] {
			return nil, a.fail(fmt.Sprintf("keyboard-interactive asked %q with echo on, which patrol cannot answer", question))
		}
		if a.keyboardAnswers > 0 {
			return nil, a.fail(fmt.Sprintf("keyboard-interactive asked for a second secret %q after the password", question))
		}
		answers[i] = string(a.cfg.Password)
		a.keyboardAnswers++
		a.passwordSent = true
	}
	return answers, nil
}

func (a *authenticator) fail(detail string) *AuthError {
	a.failure = a.classify()
	a.failure.Detail = detail
	if a.failure.Kind == AuthMethodMismatch {
		a.failure.Kind = AuthRejected
		a.failure.Tried = append(a.failure.Tried, methodKeyboard)
	}
	return a.failure
}

func (a *authenticator) classify() *AuthError {
	e := &AuthError{
		Host:          a.cfg.Name,
		User:          a.cfg.User,
		ServerMethods: a.serverMethods,
		Tried:         a.tried,
		Partial:       a.partial,
		Available:     a.available(),
	}
	switch {
	case len(a.partial) > 0:
		e.Kind = AuthPartial
	case len(a.tried) > 0:
		e.Kind = AuthRejected
		if slices.Contains(a.tried, methodKeyboard) && a.keyboardAnswers == 0 {
			e.Detail = "the server offered keyboard-interactive but rejected it before asking for the password"
		}
	default:
		e.Kind = AuthMethodMismatch
	}
	return e
}

// result returns the classified failure after a failed handshake, or nil
// when authentication never ran or did not fail.
func (a *authenticator) result(handshakeErr error) *AuthError {
	a.mu.Lock()
	defer a.mu.Unlock()

	if a.failure != nil {
		return a.failure
	}
	if handshakeErr == nil {
		return nil
	}
	msg := handshakeErr.Error()
	switch {
	case strings.Contains(msg, "unable to authenticate"),
		strings.Contains(msg, "Too many authentication failures"):
		e := a.classify()
		if e.Kind == AuthMethodMismatch && len(a.tried) == 0 && strings.Contains(msg, "Too many") {
			e.Kind = AuthRejected
		}
		return e
	case strings.Contains(msg, "unexpected message type 51"):
		// USERAUTH_FAILURE where keyboard-interactive expects INFO_REQUEST:
		// the server rejected the method outright.
		e := a.classify()
		e.Kind = AuthRejected
		e.Detail = "the server offered keyboard-interactive but rejected it before asking for the password"
		return e
	}
	return nil
}

func withoutNone(methods []string) []string {
	var out []string
	for _, m := range methods {
		if m != "none" {
			out = append(out, m)
		}
	}
	return out
}

// loadSigners reads the key files and the agent's keys. The returned closer
// releases the agent connection after the login.
func loadSigners(cfg *Config) ([]ssh.Signer, func(), error) {
	var signers []ssh.Signer
	for _, path := range cfg.KeyFiles {
		signer, err := loadKeyFile(cfg, path)
		if err != nil {
			if cfg.KeyFileExplicit {
				return nil, nil, err
			}
			cfg.Logger.Debug("skipping default key file", "host", cfg.Name, "file", path, "error", err)
			continue
		}
		signers = append(signers, signer)
	}

	closeAgent := func() {}
	if sock := os.Getenv("SSH_AUTH_SOCK"); cfg.UseAgent && sock != "" {
		conn, err := net.Dial("unix", sock)
		if err != nil {
			cfg.Logger.Warn("ssh-agent not reachable; continuing without it", "host", cfg.Name, "socket", sock, "error", err)
		} else {
			closeAgent = func() { conn.Close() }
			agentSigners, err := agent.NewClient(conn).Signers()
			if err != nil {
				cfg.Logger.Warn("ssh-agent keys not readable; continuing without them", "host", cfg.Name, "error", err)
			}
			signers = append(signers, agentSigners...)
		}
	}
	return signers, closeAgent, nil
}

func loadKeyFile(cfg *Config, path string) (ssh.Signer, error) {
	pemBytes, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(pemBytes)
	var missing *ssh.PassphraseMissingError
	if !errors.As(err, &missing) {
		if err != nil {
			return nil, fmt.Errorf("parse key file %s: %w", path, err)
		}
		return signer, nil
	}

	if cfg.Passphrase == nil {
		return nil, fmt.Errorf("key file %s is encrypted; set key_passphrase_env on the host or run on a terminal to be asked", path)
	}
	passphrase, err := cfg.Passphrase(path)
	if err != nil {
		return nil, fmt.Errorf("passphrase for key file %s: %w", path, err)
	}
	signer, err = ssh.ParsePrivateKeyWithPassphrase(pemBytes, passphrase)
	if err != nil {
		return nil, fmt.Errorf("decrypt key file %s: %w; check key_passphrase_env", path, err)
	}
	return signer, nil
}
