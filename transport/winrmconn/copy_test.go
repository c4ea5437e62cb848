package winrmconn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	winrmlab "patrol/lab/winrm"
	"patrol/transport"
)

// startFileLab runs a lab server that carries out the copy scripts on a
// directory, and returns a connection to it and that directory.
func startFileLab(t *testing.T) (*Conn, string) {
	t.Helper()
	root := t.TempDir()
	_, port, caFile := serveLab(t, winrmlab.Config{Files: root})
	return dialLab(t, port, caFile), root
}

// writeRandomFile writes size bytes from a seeded ChaCha8 generator, which is
// fast enough for hundreds of megabytes, and returns the path and SHA-256.
func writeRandomFile(t *testing.T, size int64, seed byte) (string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "patch.bin")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	h := sha256.New()
	src := rand.NewChaCha8([32]byte{seed})
	if _, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(src, size)); err != nil {
		t.Fatal(err)
	}
	return path, hex.EncodeToString(h.Sum(nil))
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	sum, _, err := fileSHA256(path)
	if err != nil {
		t.Fatalf("checksum %s: %v", path, err)
	}
	return sum
}

func TestPutLargeFileVerified(t *testing.T) {
	if testing.Short() {
		t.Skip("copies 200 MB; skipped under -short")
	}
	conn, root := startFileLab(t)
	const size = 200 << 20
	src, sum := writeRandomFile(t, size, 1)

	start := time.Now()
	res, err := conn.Put(context.Background(), src, `C:\patches\kb-200m.msu`, transport.PutOptions{})
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	elapsed := time.Since(start)
	t.Logf("copied %d MB in %s (%.1f MB/s)", size>>20, elapsed.Round(time.Millisecond), float64(size)/(1<<20)/elapsed.Seconds())

	if !res.Changed || res.Bytes != size || res.SHA256 != sum {
		t.Errorf("Put result = %+v, want changed, %d bytes, checksum %s", res, size, sum)
	}
	if got := sha256File(t, filepath.Join(root, "C", "patches", "kb-200m.msu")); got != sum {
		t.Errorf("checksum on the host = %s, want %s", got, sum)
	}

	res, err = conn.Put(context.Background(), src, `C:\patches\kb-200m.msu`, transport.PutOptions{})
	if err != nil {
		t.Fatalf("second Put: %v", err)
	}
	if res.Changed || res.Bytes != 0 {
		t.Errorf("second Put result = %+v, want unchanged with 0 bytes sent", res)
	}
}

func TestPutResumesAfterCut(t *testing.T) {
	conn, root := startFileLab(t)
	const size = 24 << 20
	src, sum := writeRandomFile(t, size, 2)
	dst := `C:\patches\kb-resume.msu`
	part := filepath.Join(root, "C", "patches", "kb-resume.msu."+strings.ToUpper(sum[:16])+".patrol-part")

	// Cut the copy once the host holds a quarter of the file.
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer cancel()
		for ctx.Err() == nil {
			if info, err := os.Stat(part); err == nil && info.Size() >= size/4 {
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	if _, err := conn.Put(ctx, src, dst, transport.PutOptions{}); err == nil {
		t.Fatal("cut Put succeeded, want the context's error")
	}
	info, err := os.Stat(part)
	if err != nil {
		t.Fatalf("partial file after the cut: %v", err)
	}
	left := info.Size()
	if left == 0 || left >= size {
		t.Fatalf("partial file has %d bytes after the cut, want between 0 and %d", left, size)
	}

	res, err := conn.Put(context.Background(), src, dst, transport.PutOptions{})
	if err != nil {
		t.Fatalf("resumed Put: %v", err)
	}
	if res.Bytes != size-left {
		t.Errorf("resumed Put sent %d bytes, want %d (the size minus the %d bytes already there)", res.Bytes, size-left, left)
	}
	if got := sha256File(t, filepath.Join(root, "C", "patches", "kb-resume.msu")); got != sum {
		t.Errorf("checksum on the host = %s, want %s", got, sum)
	}
	if _, err := os.Stat(part); !os.IsNotExist(err) {
		t.Errorf("partial file still exists after the move: %v", err)
	}
}

func TestPutCheckModeWritesNothing(t *testing.T) {
	conn, root := startFileLab(t)
	src, sum := writeRandomFile(t, 1<<20, 3)

	res, err := conn.Put(context.Background(), src, `C:\patches\kb-check.msu`, transport.PutOptions{CheckMode: true})
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if !res.Changed || res.Bytes != 0 || res.SHA256 != sum {
		t.Errorf("Put result = %+v, want changed with 0 bytes sent", res)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("check mode wrote %d entries under the host's root, want none", len(entries))
	}
}

func TestPutRejectsOwner(t *testing.T) {
	conn, _ := startFileLab(t)
	src, _ := writeRandomFile(t, 10, 4)
	_, err := conn.Put(context.Background(), src, `C:\x.txt`, transport.PutOptions{Owner: "Administrator"})
	if err == nil || !strings.Contains(err.Error(), "owner") {
		t.Errorf("Put with owner error = %v, want one naming owner", err)
	}
}

func TestGetRoundTrip(t *testing.T) {
	conn, root := startFileLab(t)
	const size = 12<<20 + 12345
	src, sum := writeRandomFile(t, size, 5)
	if _, err := conn.Put(context.Background(), src, `C:\backup\rman.bak`, transport.PutOptions{}); err != nil {
		t.Fatalf("Put: %v", err)
	}

	dst := filepath.Join(t.TempDir(), "rman.bak")
	res, err := conn.Get(context.Background(), `C:\backup\rman.bak`, dst)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if !res.Changed || res.Bytes != size || res.SHA256 != sum {
		t.Errorf("Get result = %+v, want changed, %d bytes, checksum %s", res, size, sum)
	}
	if got := sha256File(t, dst); got != sum {
		t.Errorf("checksum of the fetched file = %s, want %s", got, sum)
	}

	res, err = conn.Get(context.Background(), `C:\backup\rman.bak`, dst)
	if err != nil {
		t.Fatalf("second Get: %v", err)
	}
	if res.Changed || res.Bytes != 0 {
		t.Errorf("second Get result = %+v, want unchanged", res)
	}
	_ = root
}

func TestGetResumesPartialFile(t *testing.T) {
	conn, root := startFileLab(t)
	const size = 3 << 20
	src, sum := writeRandomFile(t, size, 6)
	hostFile := filepath.Join(root, "C", "logs", "app.log")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(hostFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hostFile, data, 0o644); err != nil {
		t.Fatal(err)
	}

	// A partial file left by an earlier, cut Get holds the first megabyte.
	dst := filepath.Join(t.TempDir(), "app.log")
	const done = 1 << 20
	if err := os.WriteFile(uploadPartName(dst, sum), data[:done], 0o644); err != nil {
		t.Fatal(err)
	}

	res, err := conn.Get(context.Background(), `C:\logs\app.log`, dst)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if res.Bytes != size-done {
		t.Errorf("Get received %d bytes, want %d", res.Bytes, size-done)
	}
	if got := sha256File(t, dst); got != sum {
		t.Errorf("checksum of the fetched file = %s, want %s", got, sum)
	}
}

func TestGetMissingFile(t *testing.T) {
	conn, _ := startFileLab(t)
	_, err := conn.Get(context.Background(), `C:\nope.txt`, filepath.Join(t.TempDir(), "nope.txt"))
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("Get error = %v, want one saying the file was not found", err)
	}
}

// TestPutCorruptPartialFileRejected checks the verification on the host: a
// partial file of the right length but wrong content is resumed with nothing
// left to send, fails the checksum and is deleted, and the next Put succeeds.
func TestPutCorruptPartialFileRejected(t *testing.T) {
	conn, root := startFileLab(t)
	const size = 1 << 20
	src, sum := writeRandomFile(t, size, 7)
	part := filepath.Join(root, "C", "p", "a.msu."+strings.ToUpper(sum[:16])+".patrol-part")
	if err := os.MkdirAll(filepath.Dir(part), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(part, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}

	_, err := conn.Put(context.Background(), src, `C:\p\a.msu`, transport.PutOptions{})
	if err == nil || !strings.Contains(err.Error(), "checksum on the host") {
		t.Fatalf("Put over a corrupt partial file error = %v, want a checksum mismatch", err)
	}
	if _, err := os.Stat(part); !os.IsNotExist(err) {
		t.Errorf("corrupt partial file was kept: %v", err)
	}

	res, err := conn.Put(context.Background(), src, `C:\p\a.msu`, transport.PutOptions{})
	if err != nil {
		t.Fatalf("Put after the mismatch: %v", err)
	}
	if res.Bytes != size {
		t.Errorf("Put after the mismatch sent %d bytes, want %d", res.Bytes, size)
	}
}

// TestPutSealedNTLMSendsBesideReceive copies over NTLM message encryption on
// plain HTTP. While the upload script runs, the library keeps a Receive
// waiting on the host, which holds it until output or OperationTimeout. A
// transport that sends one request at a time makes every Send wait for that
// Receive to end, so the host would never see a Send while a Receive for the
// upload is in progress. The check reads the lab's request log, not a clock.
func TestPutSealedNTLMSendsBesideReceive(t *testing.T) {
	root := t.TempDir()
	srv, _, port := startNTLMLabWith(t, winrmlab.Config{Files: root, RecordRequests: true})
	conn, err := Dial(context.Background(), ntlmConfig(port, false))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer conn.Close()

	const size = 24 << 20
	src, sum := writeRandomFile(t, size, 8)
	start := time.Now()
	res, err := conn.Put(context.Background(), src, `C:\patches\kb-sealed.msu`, transport.PutOptions{})
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	elapsed := time.Since(start)
	t.Logf("copied %d MB over sealed NTLM in %s (%.1f MB/s)", size>>20, elapsed.Round(time.Millisecond), float64(size)/(1<<20)/elapsed.Seconds())

	if !res.Changed || res.Bytes != size || res.SHA256 != sum {
		t.Errorf("Put result = %+v, want changed, %d bytes, checksum %s", res, size, sum)
	}
	if got := sha256File(t, filepath.Join(root, "C", "patches", "kb-sealed.msu")); got != sum {
		t.Errorf("checksum on the host = %s, want %s", got, sum)
	}

	sends, besideReceive := 0, 0
	for _, r := range srv.Requests() {
		if r.Action != "Send" {
			continue
		}
		sends++
		if r.ReceivesInProgress > 0 {
			besideReceive++
		}
	}
	if minSends := size / MaxCopyChunkSize(DefaultEnvelopeSize); sends < minSends {
		t.Fatalf("the host saw %d Send requests, want at least %d for %d bytes", sends, minSends, size)
	}
	if besideReceive*2 <= sends {
		t.Errorf("%d of %d Send requests arrived while a Receive for the upload was in progress, want most: each Send waited for the held Receive to end", besideReceive, sends)
	}
}
