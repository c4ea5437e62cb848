package sshconn

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// hostKeyChecker verifies one hop's host key against known_hosts files and,
// when allowed, records unknown keys. It keeps the failure for classification.
type hostKeyChecker struct {
	cfg *Config
	err error
}

// recordLocks serializes appends per known_hosts file, because many hosts are
// dialled at once and two dials of one host must not both append its key.
var recordLocks sync.Map // path -> *sync.Mutex

func (k *hostKeyChecker) check(_ string, _ net.Addr, key ssh.PublicKey) error {
	k.err = k.verify(key)
	return k.err
}

func (k *hostKeyChecker) verify(key ssh.PublicKey) error {
	files := existingFiles(k.cfg.KnownHostsFiles)
	err := lookupHostKey(files, k.cfg.Addr, key)
	if err == nil {
		return nil
	}
	var keyErr *knownhosts.KeyError
	if !errors.As(err, &keyErr) {
		return err
	}
	if len(keyErr.Want) > 0 {
		return &HostKeyChangedError{Host: k.cfg.Name, Addr: knownhosts.Normalize(k.cfg.Addr), Known: keyErr.Want, Offered: key}
	}
	if !k.cfg.AcceptNewHostKeys {
		return &UnknownHostKeyError{Host: k.cfg.Name, Addr: knownhosts.Normalize(k.cfg.Addr), Offered: key, Files: k.cfg.KnownHostsFiles}
	}
	return k.record(key)
}

// record appends the key as a hashed "[host]:port" line to RecordFile, after
// checking again under the lock in case another dial recorded it meanwhile.
func (k *hostKeyChecker) record(key ssh.PublicKey) error {
	path := k.cfg.RecordFile
	lock, _ := recordLocks.LoadOrStore(path, &sync.Mutex{})
	lock.(*sync.Mutex).Lock()
	defer lock.(*sync.Mutex).Unlock()

	err := lookupHostKey(existingFiles([]string{path}), k.cfg.Addr, key)
	var keyErr *knownhosts.KeyError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &keyErr) && len(keyErr.Want) > 0:
		return &HostKeyChangedError{Host: k.cfg.Name, Addr: knownhosts.Normalize(k.cfg.Addr), Known: keyErr.Want, Offered: key}
	case !errors.As(err, &keyErr):
		return err
	}

	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("record host key of %s: %w", k.cfg.Name, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("record host key of %s: %w", k.cfg.Name, err)
	}
	line := knownhosts.Line([]string{knownhosts.HashHostname(knownhosts.Normalize(k.cfg.Addr))}, key) + "\n"
	_, writeErr := f.WriteString(line)
	closeErr := f.Close()
	if err := errors.Join(writeErr, closeErr); err != nil {
		return fmt.Errorf("record host key of %s in %s: %w", k.cfg.Name, path, err)
	}
	k.cfg.Logger.Info("recorded new host key", "host", k.cfg.Name, "addr", k.cfg.Addr,
		"key", key.Type()+" "+ssh.FingerprintSHA256(key), "file", path)
	return nil
}

// hostKeyAlgorithms returns the signature algorithms matching the key types
// known_hosts records for the host, so the server is not asked for a key type
// it has but patrol has no record of (which would look like a changed key).
// It returns nil when no key is recorded.
func hostKeyAlgorithms(cfg *Config) []string {
	err := lookupHostKey(existingFiles(cfg.KnownHostsFiles), cfg.Addr, probeKey)
	var keyErr *knownhosts.KeyError
	if !errors.As(err, &keyErr) {
		return nil
	}

	var algorithms []string
	seen := map[string]bool{}
	add := func(names ...string) {
		for _, name := range names {
			if !seen[name] {
				seen[name] = true
				algorithms = append(algorithms, name)
			}
		}
	}
	for _, known := range keyErr.Want {
		switch known.Key.Type() {
		case ssh.KeyAlgoRSA:
			add(ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256)
			if cfg.Legacy {
				add(ssh.KeyAlgoRSA)
			}
		default:
			add(known.Key.Type())
		}
	}
	return algorithms
}

// probeKey is a key no host has; looking it up lists the host's known keys.
var probeKey = func() ssh.PublicKey {
	public, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		panic(err)
	}
	key, err := ssh.NewPublicKey(public)
	if err != nil {
		panic(err)
	}
	return key
}()

// lookupHostKey checks key for addr ("host:port") in files. The name is
// matched in knownhosts.Normalize form, plain or hashed (|1|salt|hmac).
func lookupHostKey(files []string, addr string, key ssh.PublicKey) error {
	callback, err := knownhosts.New(files...)
	if err != nil {
		return fmt.Errorf("read known_hosts: %w", err)
	}
	// Only the name is compared when one is given; the address is a dummy.
	return callback(addr, &net.TCPAddr{IP: net.IPv4zero}, key)
}

func existingFiles(paths []string) []string {
	var found []string
	for _, path := range paths {
		if _, err := os.Stat(path); err == nil {
			found = append(found, path)
		} else if !errors.Is(err, fs.ErrNotExist) {
			// Let knownhosts.New report the unreadable file.
			found = append(found, path)
		}
	}
	return found
}
