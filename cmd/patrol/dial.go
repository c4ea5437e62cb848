package main

import (
	"context"
	"fmt"
	"os"
	"sync"

	"golang.org/x/term"

	"patrol/inventory"
	"patrol/runner"
	"patrol/transport"
	"patrol/transport/local"
	"patrol/transport/sshconn"
	"patrol/transport/winrmconn"
)

// sshOptions are the run-wide SSH settings from the global flags.
func (a *app) sshOptions(inv *inventory.Inventory) sshconn.Options {
	return sshconn.Options{
		ConnectTimeout:    a.connectTimeout,
		AcceptNewHostKeys: a.acceptNewKeys,
		PassphrasePrompt:  a.promptPassphrase,
		ResolveJump: func(name string) (*inventory.Host, bool) {
			h := inv.Host(name)
			return h, h != nil
		},
		Logger: a.logger(""),
	}
}

// winrmOptions are the run-wide WinRM settings from the global flags.
func (a *app) winrmOptions() winrmconn.Options {
	return winrmconn.Options{ConnectTimeout: a.connectTimeout}
}

// checkConnections builds every selected host's connection settings before
// anything runs, so a missing password variable or key file is invalid input
// rather than a failure halfway through a run.
func (a *app) checkConnections(inv *inventory.Inventory, hosts []*inventory.Host) error {
	opts := a.sshOptions(inv)
	for _, h := range hosts {
		switch h.Connection {
		case inventory.ConnSSH:
			if _, err := sshconn.ConfigFromHost(h, opts); err != nil {
				return fmt.Errorf("%s (%s): %w", h.Name, h.Source, err)
			}
		case inventory.ConnWinRM:
			cfg, err := winrmconn.ConfigFromHost(h, a.winrmOptions())
			if err != nil {
				return fmt.Errorf("%s (%s): %w", h.Name, h.Source, err)
			}
			if cfg.InsecureHTTP {
				fmt.Fprintf(a.stderr, "%s: %s\n", a.tr("warning", "警告"), fmt.Sprintf(a.tr(
					"%s uses WinRM over plain HTTP (insecure_http: true): commands and output cross the network unencrypted",
					"%s 通过明文 HTTP 使用 WinRM（insecure_http: true）：命令与输出在网络上不加密传输"), h.Name))
			}
		}
	}
	return nil
}

// dialer opens a host's connection by its kind.
func (a *app) dialer(inv *inventory.Inventory) runner.Dialer {
	opts := a.sshOptions(inv)
	return func(ctx context.Context, h *inventory.Host) (transport.Connection, error) {
		switch h.Connection {
		case inventory.ConnLocal:
			return local.New(), nil
		case inventory.ConnWinRM:
			cfg, err := winrmconn.ConfigFromHost(h, a.winrmOptions())
			if err != nil {
				return nil, err
			}
			conn, err := winrmconn.Dial(ctx, cfg)
			if err != nil {
				return nil, err
			}
			return conn, nil
		case inventory.ConnSSH:
			cfg, err := sshconn.ConfigFromHost(h, opts)
			if err != nil {
				return nil, err
			}
			conn, err := sshconn.Dial(ctx, cfg)
			if err != nil {
				// Return a nil interface, not a nil *Conn inside one.
				return nil, err
			}
			return conn, nil
		}
		return nil, fmt.Errorf("host %s: connection %q is not supported", h.Name, h.Connection)
	}
}

var (
	promptMu    sync.Mutex
	passphrases = map[string][]byte{}
)

// promptPassphrase asks for an encrypted key's passphrase on the terminal, once
// per key file however many hosts use it.
func (a *app) promptPassphrase(keyFile string) ([]byte, error) {
	promptMu.Lock()
	defer promptMu.Unlock()
	if p, ok := passphrases[keyFile]; ok {
		return p, nil
	}

	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("key %s is encrypted and there is no terminal to ask for its passphrase; set key_passphrase_env", keyFile)
	}
	defer tty.Close()
	fmt.Fprintf(tty, a.tr("Passphrase for %s: ", "请输入 %s 的口令："), keyFile)
	pass, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err == nil {
		passphrases[keyFile] = pass
	}
	return pass, err
}
