package sshconn

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

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

// writePrefix writes the first n bytes of src to path, as an interrupted
// upload would have left them.
func writePrefix(t *testing.T, src, path string, n int64) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data[:n], 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestPutResumesPartialFile(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	env := newEnv(t)
	env.trust(s)
	c := env.mustDial(env.host("resume1", s))
	const size = 5 << 20
	src, sum := randomFile(t, size)
	dir := t.TempDir()
	dst := filepath.Join(dir, "patch.bin")

	const have = 3<<20 + 1000
	writePrefix(t, src, filepath.Join(dir, partialName(dst, sum)), have)
	// A partial file of another source for the same dst is stale.
	other, otherSum := randomFile(t, 1000)
	stale := filepath.Join(dir, partialName(dst, otherSum))
	writePrefix(t, other, stale, 500)

	result, err := c.Put(context.Background(), src, dst, transport.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(have - resumeBackoff); result.Resumed != want {
		t.Errorf("resumed %d bytes, want %d (the partial file less the back-off)", result.Resumed, want)
	}
	if result.Bytes != size-result.Resumed {
		t.Errorf("sent %d bytes, want %d", result.Bytes, size-result.Resumed)
	}
	if !result.Changed || result.SHA256 != sum || fileSum(t, dst) != sum {
		t.Errorf("put = %+v, dst sha256 %s, want %s", result, fileSum(t, dst), sum)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale partial file of another source still there (stat error %v)", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%s holds %d entries, want only patch.bin", dir, len(entries))
	}
}

func TestPutRestartsUnusablePartialFile(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	env := newEnv(t)
	env.trust(s)
	c := env.mustDial(env.host("resume2", s))
	const size = 4 << 20
	src, sum := randomFile(t, size)

	cases := []struct {
		name    string
		partial func(t *testing.T, path string)
	}{
		{"first byte differs", func(t *testing.T, path string) {
			writePrefix(t, src, path, 3<<20)
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			first := make([]byte, 1)
			data, _ := os.ReadFile(src)
			first[0] = data[0] ^ 0xff
			if _, err := f.WriteAt(first, 0); err != nil {
				t.Fatal(err)
			}
		}},
		{"longer than the source", func(t *testing.T, path string) {
			data, _ := os.ReadFile(src)
			if err := os.WriteFile(path, append(data, 'x'), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			dst := filepath.Join(dir, "patch.bin")
			tc.partial(t, filepath.Join(dir, partialName(dst, sum)))

			result, err := c.Put(context.Background(), src, dst, transport.PutOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if result.Resumed != 0 || result.Bytes != size {
				t.Errorf("resumed %d and sent %d bytes, want the whole %d sent", result.Resumed, result.Bytes, size)
			}
			if fileSum(t, dst) != sum {
				t.Errorf("dst sha256 %s, want %s", fileSum(t, dst), sum)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("%s holds %d entries, want only patch.bin", dir, len(entries))
			}
		})
	}
}

// TestPutRefusesLinkAtPartialName checks that a symbolic link where the
// partial file would be is neither followed nor replaced.
func TestPutRefusesLinkAtPartialName(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	env := newEnv(t)
	env.trust(s)
	c := env.mustDial(env.host("resume3", s))
	src, sum := randomFile(t, 100<<10)
	dir := t.TempDir()
	dst := filepath.Join(dir, "patch.bin")
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dir, partialName(dst, sum))); err != nil {
		t.Fatal(err)
	}

	_, err := c.Put(context.Background(), src, dst, transport.PutOptions{})
	if err == nil || !strings.Contains(err.Error(), "create") {
		t.Errorf("put with a link at the partial name: error %v, want a create error", err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "keep me" {
		t.Errorf("link target now holds %d bytes, want it untouched", len(data))
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Errorf("dst exists after the failed put (stat error %v)", err)
	}
}

func TestFinishRejectsChecksumMismatch(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	env := newEnv(t)
	env.trust(s)
	c := env.mustDial(env.host("resume4", s))
	dir := t.TempDir()
	tmp := filepath.Join(dir, "upload.part")
	if err := os.WriteFile(tmp, []byte("arrived damaged"), 0o600); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "patch.bin")
	sent := sha256.Sum256([]byte("sent intact"))

	err := c.finish(context.Background(), tmp, dst, hex.EncodeToString(sent[:]), 0o644, transport.PutOptions{})
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("finish of a damaged upload: error %v, want a checksum mismatch", err)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Errorf("dst exists after the mismatch (stat error %v)", err)
	}
}

func TestPutWithBecomeResumesPrivateUpload(t *testing.T) {
	requireSudo(t)
	s := sshtest.Start(t, sshtest.Options{PasswordAuth: true})
	env := newEnv(t)
	env.trust(s)
	name, password := sshtest.PasswordUser(t)
	c := env.mustDial(env.passwordHost("resume5", s, password))
	login, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(login.Uid)
	gid, _ := strconv.Atoi(login.Gid)

	// Only nobody may write here; the login user cannot.
	dir := filepath.Join(s.Dir, "nobody-only")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	nobodyUID, _ := strconv.Atoi(nobody.Uid)
	if err := os.Chown(dir, nobodyUID, -1); err != nil {
		t.Fatal(err)
	}

	const size = 3 << 20
	src, sum := randomFile(t, size)
	dst := filepath.Join(dir, "conf.bin")
	private := tempName("/tmp", "upload")
	if err := os.Mkdir(private, 0o711); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(private) })
	partial := filepath.Join(private, partialName(dst, sum))
	writePrefix(t, src, partial, size-1000)
	for _, p := range []string{private, partial} {
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
	}

	result, err := c.Put(context.Background(), src, dst, transport.PutOptions{
		Mode:   0o600,
		Become: &transport.Become{User: "nobody", Password: password},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(size - 1000 - resumeBackoff); result.Resumed != want || result.Bytes != size-want {
		t.Errorf("resumed %d and sent %d bytes, want %d resumed", result.Resumed, result.Bytes, want)
	}
	if fileSum(t, dst) != sum {
		t.Errorf("dst sha256 %s, want %s", fileSum(t, dst), sum)
	}
	if _, err := os.Stat(private); !os.IsNotExist(err) {
		t.Errorf("private upload directory %s left behind (stat error %v)", private, err)
	}
}

// TestPutResumesOverLossyLink copies a 30 MB file to an sshd in a network
// namespace over a 10 Mbit/s link that drops 1% of packets, cuts the link
// halfway, and copies again: the second Put must send only the rest, at no
// less than 90% of the link rate.
//
// The patch workflow requires that rate on such a link, so this test
// measures it. make bench measures everything else about copy speed.
func TestPutResumesOverLossyLink(t *testing.T) {
	link := newLossyLink(t)
	link.shape(1)

	env := newEnv(t)
	// Keepalives notice the cut link. The limit must exceed the time to drain
	// what the SSH channel window lets queue up (2 MiB is 1.7 s at 10 Mbit/s).
	env.opts.KeepAlive = 2 * time.Second
	env.opts.KeepAliveMax = 3
	env.opts.ConnectTimeout = 10 * time.Second
	knownHosts, err := os.OpenFile(env.knownHosts, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	knownHosts.WriteString(link.KnownHostsLine() + "\n")
	knownHosts.Close()

	const size = 30 << 20
	src, sum := randomFile(t, size)
	dir := filepath.Join(t.TempDir(), "patches")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "patch.bin")
	partial := filepath.Join(dir, partialName(dst, sum))

	first := env.mustDial(link.host("lossy1"))
	done := make(chan error, 1)
	go func() {
		_, err := first.Put(context.Background(), src, dst, transport.PutOptions{})
		done <- err
	}()
	waitForSize(t, partial, size/2, done)
	link.setUp(false)
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("put over a cut link succeeded")
		}
		t.Logf("first put failed as expected: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("put did not fail within 60 s of cutting the link")
	}
	info, err := os.Stat(partial)
	if err != nil {
		t.Fatalf("partial upload not kept: %v", err)
	}
	if _, err := os.Stat(dst); err == nil {
		t.Fatal("dst exists after the interrupted put")
	}
	link.setUp(true)

	// The dead connection was reset, so its queued data does not follow
	// once the link is back.
	if out, err := exec.Command("ss", "-Htn", "state", "fin-wait-1", "dst", link.nsAddr).CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("ss: %v; closed connection still sends its queued data:\n%s", err, out)
	}
	second := env.mustDial(link.host("lossy2"))
	before := link.stats()
	start := time.Now()
	result, err := second.Put(context.Background(), src, dst, transport.PutOptions{})
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("partial had %d bytes; second put resumed %d, sent %d in %s", info.Size(), result.Resumed, result.Bytes, elapsed)

	if result.Resumed == 0 || result.Resumed+result.Bytes != size {
		t.Errorf("resumed %d + sent %d bytes, want a resume that adds up to %d", result.Resumed, result.Bytes, size)
	}
	if result.Bytes > size*6/10 {
		t.Errorf("second put sent %d bytes, more than 60%% of %d", result.Bytes, size)
	}
	if result.SHA256 != sum || fileSum(t, dst) != sum {
		t.Errorf("dst sha256 = %s (reported %s), want %s", fileSum(t, dst), result.SHA256, sum)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%s holds %d entries, want only patch.bin", dir, len(entries))
	}

	// The rate is that of sending the bytes. The checksums before and after
	// take CPU time, which varies with what else runs on the machine. For
	// the whole Put the rate was 89.6-93.4% of the link, and for the
	// sending alone about one point more.
	rate := float64(result.Bytes) * 8 / result.Sending.Seconds()
	t.Logf("resumed part: sent in %s, %.2f Mbit/s, %.1f%% of the %d Mbit/s link", result.Sending, rate/1e6, 100*rate/linkRateBits, linkRateBits/1_000_000)
	if rate < 0.9*linkRateBits {
		t.Errorf("resumed part ran at %.2f Mbit/s, below 90%% of the %d Mbit/s link\ncounters before the second put:\n%s\nafter:\n%s",
			rate/1e6, linkRateBits/1_000_000, before, link.stats())
	}
}

// waitForSize waits until the file at path has at least size bytes. It
// fails the test when put finishes first or after two minutes.
func waitForSize(t *testing.T, path string, size int64, put <-chan error) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if info, err := os.Stat(path); err == nil && info.Size() >= size {
			return
		}
		select {
		case err := <-put:
			t.Fatalf("put finished (error %v) before %s reached %d bytes", err, path, size)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not reach %d bytes within two minutes", path, size)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func fileSum(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// TestSHA256Shell runs the checksum function of the remote scripts with
// openssl on PATH and with only sha256sum.
func TestSHA256Shell(t *testing.T) {
	src, sum := randomFile(t, 70000)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	prefix := sha256.Sum256(data[:1000])

	onlyCoreutils := t.TempDir()
	for _, tool := range []string{"head", "sha256sum"} {
		path, err := exec.LookPath(tool)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(path, filepath.Join(onlyCoreutils, tool)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl not found: install the openssl package")
	}

	for name, path := range map[string]string{"openssl": os.Getenv("PATH"), "sha256sum only": onlyCoreutils} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command("/bin/sh", "-c", sha256Shell+`sha256 "$1" && sha256 "$1" 1000`, "sh", src)
			cmd.Env = []string{"PATH=" + path}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			want := sum + "\n" + hex.EncodeToString(prefix[:]) + "\n"
			if string(out) != want {
				t.Errorf("output %q, want %q", out, want)
			}
		})
	}
}
