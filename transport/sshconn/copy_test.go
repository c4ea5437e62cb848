package sshconn

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"patrol/internal/sshtest"
	"patrol/transport"
)

func randomFile(t *testing.T, size int) (string, string) {
	t.Helper()
	data := make([]byte, size)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "payload.bin")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return path, hex.EncodeToString(sum[:])
}

func TestPutVerifiesAndSkips(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	env := newEnv(t)
	env.trust(s)
	c := env.mustDial(env.host("files1", s))
	src, sum := randomFile(t, 5<<20+123)
	dst := filepath.Join(s.Dir, "upload", "payload.bin")
	stdout(t, c, "mkdir -p "+ShellQuote(filepath.Dir(dst)))
	ctx := context.Background()

	first, err := c.Put(ctx, src, dst, transport.PutOptions{Mode: 0o640, Owner: "nobody"})
	if err != nil {
		t.Fatal(err)
	}
	if !first.Changed || first.SHA256 != sum || first.Bytes != 5<<20+123 {
		t.Errorf("first put = %+v, want changed with sha256 %s", first, sum)
	}
	if got := stdout(t, c, "sha256sum < "+ShellQuote(dst)+" | cut -d' ' -f1"); got != sum {
		t.Errorf("remote sha256 = %s, want %s", got, sum)
	}
	if got := stdout(t, c, "stat -c '%a %U' "+ShellQuote(dst)); got != "640 nobody" {
		t.Errorf("mode and owner = %q, want 640 nobody", got)
	}
	if got := stdout(t, c, "ls -A "+ShellQuote(filepath.Dir(dst))); got != "payload.bin" {
		t.Errorf("directory holds %q, want no temporary files", got)
	}

	second, err := c.Put(ctx, src, dst, transport.PutOptions{Mode: 0o640, Owner: "nobody"})
	if err != nil {
		t.Fatal(err)
	}
	if second.Changed || second.Bytes != 0 {
		t.Errorf("second put = %+v, want unchanged", second)
	}

	chmodOnly, err := c.Put(ctx, src, dst, transport.PutOptions{Mode: 0o600, CheckMode: true})
	if err != nil {
		t.Fatal(err)
	}
	if !chmodOnly.Changed {
		t.Error("check mode with a new mode reports no change")
	}
	if got := stdout(t, c, "stat -c '%a' "+ShellQuote(dst)); got != "640" {
		t.Errorf("check mode changed the mode to %s", got)
	}

	other, _ := randomFile(t, 1000)
	check, err := c.Put(ctx, other, dst, transport.PutOptions{CheckMode: true})
	if err != nil {
		t.Fatal(err)
	}
	if !check.Changed {
		t.Error("check mode with new content reports no change")
	}
	if got := stdout(t, c, "sha256sum < "+ShellQuote(dst)+" | cut -d' ' -f1"); got != sum {
		t.Error("check mode wrote the file")
	}
}

func TestPutWithBecome(t *testing.T) {
	requireSudo(t)
	s := sshtest.Start(t, sshtest.Options{PasswordAuth: true})
	env := newEnv(t)
	env.trust(s)
	_, password := sshtest.PasswordUser(t)
	c := env.mustDial(env.passwordHost("files2", s, password))

	// Only nobody may write here; the login user cannot.
	root := env.mustDial(env.host("files2root", s))
	dir := filepath.Join(s.Dir, "nobody-only")
	stdout(t, root, "mkdir -m 700 "+ShellQuote(dir)+" && chown nobody "+ShellQuote(dir))

	src, sum := randomFile(t, 200<<10)
	dst := filepath.Join(dir, "conf")
	result, err := c.Put(context.Background(), src, dst, transport.PutOptions{
		Mode:   0o600,
		Become: &transport.Become{User: "nobody", Password: password},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !result.Changed || result.SHA256 != sum {
		t.Errorf("put = %+v", result)
	}
	if got := stdout(t, root, "stat -c '%a %U' "+ShellQuote(dst)+"; sha256sum < "+ShellQuote(dst)); !strings.Contains(got, "600 nobody") || !strings.Contains(got, sum) {
		t.Errorf("installed file: %q", got)
	}
	if got := stdout(t, root, "ls -A /tmp | grep -c '^.upload.patrol-' || true"); got != "0" {
		t.Errorf("%s private uploads left in /tmp", got)
	}
}

func TestGetVerifiesAndSkips(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	env := newEnv(t)
	env.trust(s)
	c := env.mustDial(env.host("files3", s))
	remote := filepath.Join(s.Dir, "report.bin")
	stdout(t, c, "head -c 3000000 /dev/urandom > "+ShellQuote(remote))
	sum := stdout(t, c, "sha256sum < "+ShellQuote(remote)+" | cut -d' ' -f1")

	dst := filepath.Join(t.TempDir(), "report.bin")
	first, err := c.Get(context.Background(), remote, dst)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Changed || first.SHA256 != sum || first.Bytes != 3000000 {
		t.Errorf("first get = %+v, want changed with sha256 %s", first, sum)
	}
	data, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != sum {
		t.Error("local file differs from the remote one")
	}

	second, err := c.Get(context.Background(), remote, dst)
	if err != nil {
		t.Fatal(err)
	}
	if second.Changed {
		t.Errorf("second get = %+v, want unchanged", second)
	}
	entries, _ := os.ReadDir(filepath.Dir(dst))
	if len(entries) != 1 {
		t.Errorf("local directory holds %d entries, want no temporary files", len(entries))
	}

	if _, err := c.Get(context.Background(), filepath.Join(s.Dir, "missing"), dst+".2"); err == nil {
		t.Error("get of a missing file succeeded")
	}
}
