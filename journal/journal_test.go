package journal

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"patrol/i18n"
	"patrol/module"
)

var started = time.Date(2026, 12, 4, 21, 7, 45, 0, time.UTC)

func testHeader(runID string) Header {
	return Header{
		RunID:     runID,
		StartedAt: started,
		User:      "ops",
		Hostname:  "patrol-01",
		Version:   "0.1.0",
		Args:      []string{"run", "playbooks/daily.yml", "-i", "inventory.yml"},
		Playbook:  FileDigest{Path: "playbooks/daily.yml", SHA256: strings.Repeat("a", 64)},
		Inventory: []FileDigest{{Path: "inventory.yml", SHA256: strings.Repeat("b", 64)}},
		Limit:     "seal",
	}
}

func testRecord(host string, i int) Record {
	return Record{
		Time:     started.Add(time.Duration(i) * time.Second),
		Host:     host,
		Play:     "daily inspection",
		Task:     fmt.Sprintf("disk %d", i),
		Module:   "check.disk",
		Status:   StatusOK,
		Duration: 1500 * time.Millisecond,
		Findings: []module.Finding{{
			Check: "check.disk", Item: "/", Status: module.StatusOK, Value: i18n.T("41% used", "已用 41%"),
			Threshold: i18n.T("warn ≥80%, fail ≥90%", "警告 ≥80%，不合格 ≥90%"), Message: i18n.T("disk use is normal", "磁盘使用率正常"),
		}},
	}
}

// writeJournal writes a header, n results on one host and an end record.
func writeJournal(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	w, err := Create(dir, testHeader("20261204T210745Z-abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := w.Append(testRecord("seal-db1", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(End{EndedAt: started.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return w.Path()
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitAfter(string(data), "\n")[:bytes.Count(data, []byte("\n"))]
}

func writeLines(t *testing.T, path string, lines []string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
}

func requireBreak(t *testing.T, err error, kind BreakKind, line, intact int) *BreakError {
	t.Helper()
	var brk *BreakError
	if !errors.As(err, &brk) {
		t.Fatalf("Verify error = %v, want a *BreakError of kind %s", err, kind)
	}
	if brk.Kind != kind {
		t.Errorf("kind = %s, want %s (%v)", brk.Kind, kind, brk)
	}
	if brk.Line != line {
		t.Errorf("line = %d, want %d (%v)", brk.Line, line, brk)
	}
	if brk.IntactThrough != intact {
		t.Errorf("intact through = %d, want %d (%v)", brk.IntactThrough, intact, brk)
	}
	return brk
}

func TestWriteAndVerify(t *testing.T) {
	path := writeJournal(t, 3)

	sum, err := Verify(path)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if sum.Lines != 5 || sum.IntactThrough != 5 || sum.Results != 3 {
		t.Errorf("summary lines/intact/results = %d/%d/%d, want 5/5/3", sum.Lines, sum.IntactThrough, sum.Results)
	}
	if !sum.Ended || sum.EndStatus != RunOK || sum.Truncated {
		t.Errorf("summary ended/status/truncated = %v/%s/%v", sum.Ended, sum.EndStatus, sum.Truncated)
	}
	if sum.RunID != "20261204T210745Z-abcdef" {
		t.Errorf("run id = %q", sum.RunID)
	}
	if len(sum.LastHash) != 64 {
		t.Errorf("last hash = %q", sum.LastHash)
	}

	h, recs, end, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if h.Type != TypeHeader || h.User != "ops" || h.Playbook.Path != "playbooks/daily.yml" || h.Limit != "seal" {
		t.Errorf("header = %+v", h)
	}
	if len(recs) != 3 {
		t.Fatalf("records = %d, want 3", len(recs))
	}
	for i, r := range recs {
		if r.Seq != i+1 || r.Type != TypeResult || r.Duration != 1500*time.Millisecond {
			t.Errorf("record %d: seq %d type %s duration %v", i, r.Seq, r.Type, r.Duration)
		}
		if len(r.Findings) != 1 || r.Findings[0].Message.ZH != "磁盘使用率正常" {
			t.Errorf("record %d findings = %+v", i, r.Findings)
		}
	}
	if end == nil || end.Counts.OK != 3 || end.Counts.Hosts != 1 || end.Status != RunOK {
		t.Errorf("end = %+v", end)
	}
}

func TestFileAndDirModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "journal")
	w, err := Create(dir, testHeader("20261204T210745Z-000001"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(End{})

	fi, err := os.Stat(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode = %v, want 0600", fi.Mode().Perm())
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Errorf("dir mode = %v, want 0700", di.Mode().Perm())
	}
}

func TestCreateExistingRunID(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, testHeader("20261204T210745Z-000002"))
	if err != nil {
		t.Fatal(err)
	}
	w.Close(End{})

	if _, err := Create(dir, testHeader("20261204T210745Z-000002")); err == nil {
		t.Fatal("second Create with the same run id succeeded, want an error")
	}
}

func TestCreateInvalidRunID(t *testing.T) {
	for _, id := range []string{"", "../x", "a/b", ".."} {
		if _, err := Create(t.TempDir(), testHeader(id)); err == nil {
			t.Errorf("Create with run id %q succeeded, want an error", id)
		}
	}
}

func TestConcurrentAppend(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, testHeader("20261204T210745Z-c0ffee"))
	if err != nil {
		t.Fatal(err)
	}

	const goroutines, perGoroutine = 50, 20
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*perGoroutine)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < perGoroutine; i++ {
				r := testRecord(fmt.Sprintf("host-%02d", g), i)
				if i%5 == 0 {
					r.Status = StatusFailed
				}
				errs <- w.Append(r)
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(End{}); err != nil {
		t.Fatal(err)
	}

	sum, err := Verify(w.Path())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if sum.Results != 1000 || sum.Lines != 1002 {
		t.Errorf("results/lines = %d/%d, want 1000/1002", sum.Results, sum.Lines)
	}
	_, recs, end, err := Read(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	perHost := map[string]int{}
	for i, r := range recs {
		if r.Seq != i+1 {
			t.Fatalf("record %d has seq %d", i, r.Seq)
		}
		perHost[r.Host]++
	}
	if len(perHost) != goroutines {
		t.Errorf("hosts = %d, want %d", len(perHost), goroutines)
	}
	if end.Counts.Failed != 200 || end.Counts.OK != 800 || end.Counts.Hosts != 50 {
		t.Errorf("end counts = %+v", end.Counts)
	}
	if end.Status != RunFailed {
		t.Errorf("end status = %s, want %s derived from the failed results", end.Status, RunFailed)
	}
}

func TestAppendAfterClose(t *testing.T) {
	w, err := Create(t.TempDir(), testHeader("20261204T210745Z-000003"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(End{Status: RunInterrupted}); err != nil {
		t.Fatal(err)
	}
	if err := w.Append(testRecord("h", 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}
	if err := w.Close(End{}); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	sum, err := Verify(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	if sum.EndStatus != RunInterrupted {
		t.Errorf("end status = %s, want interrupted", sum.EndStatus)
	}
}

func TestRedactSecrets(t *testing.T) {
	const secret = "S3cr<et>|pa\"ss"
	dir := t.TempDir()
	h := testHeader("20261204T210745Z-5ec5e7")
	h.Args = append(h.Args, "--password="+secret)
	w, err := Create(dir, h, secret, "")
	if err != nil {
		t.Fatal(err)
	}

	r := testRecord("seal-db1", 1)
	r.Msg = "login with " + secret + " failed"
	r.Findings[0].Evidence = []string{"line " + secret}
	r.Findings[0].Message = i18n.T("pw "+secret, "密码 "+secret)
	r.Findings[0].Metrics = map[string]float64{secret: 1}
	if err := w.Append(r); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(End{}); err != nil {
		t.Fatal(err)
	}

	if r.Findings[0].Evidence[0] != "line "+secret {
		t.Errorf("Append changed the caller's findings: %q", r.Findings[0].Evidence[0])
	}
	data, err := os.ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range []string{secret, "S3cr", `pa\"ss`} {
		if bytes.Contains(data, []byte(form)) {
			t.Errorf("journal contains %q:\n%s", form, data)
		}
	}
	if got := bytes.Count(data, []byte(Mask)); got != 6 {
		t.Errorf("journal has %d masks, want 6:\n%s", got, data)
	}
	if _, err := Verify(w.Path()); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestTamperEditedLine(t *testing.T) {
	path := writeJournal(t, 5)
	lines := readLines(t, path)
	lines[3] = strings.Replace(lines[3], `"status":"ok"`, `"status":"changed"`, 1)
	writeLines(t, path, lines)

	_, err := Verify(path)
	requireBreak(t, err, BreakEdited, 4, 3)
}

func TestTamperEditedHeader(t *testing.T) {
	path := writeJournal(t, 2)
	lines := readLines(t, path)
	lines[0] = strings.Replace(lines[0], `"user":"ops"`, `"user":"someone"`, 1)
	writeLines(t, path, lines)

	_, err := Verify(path)
	requireBreak(t, err, BreakEdited, 1, 0)
}

func TestTamperEditedSeq(t *testing.T) {
	path := writeJournal(t, 5)
	lines := readLines(t, path)
	lines[2] = strings.Replace(lines[2], `"seq":2,`, `"seq":7,`, 1)
	writeLines(t, path, lines)

	_, err := Verify(path)
	requireBreak(t, err, BreakEdited, 3, 2)
}

func TestTamperInvalidLine(t *testing.T) {
	path := writeJournal(t, 5)
	lines := readLines(t, path)
	lines[2] = "not json\n"
	writeLines(t, path, lines)

	_, err := Verify(path)
	requireBreak(t, err, BreakEdited, 3, 2)
}

func TestTamperDeletedLine(t *testing.T) {
	path := writeJournal(t, 5)
	lines := readLines(t, path)
	lines = append(lines[:3], lines[4:]...) // drop result 3
	writeLines(t, path, lines)

	_, err := Verify(path)
	brk := requireBreak(t, err, BreakDeleted, 4, 3)
	if !strings.Contains(brk.Reason, "results 3 to 3") {
		t.Errorf("reason = %q", brk.Reason)
	}
}

func TestTamperDeletedLastResult(t *testing.T) {
	path := writeJournal(t, 5)
	lines := readLines(t, path)
	lines = append(lines[:5], lines[6:]...) // drop result 5, keep the end record
	writeLines(t, path, lines)

	_, err := Verify(path)
	requireBreak(t, err, BreakDeleted, 6, 5)
}

func TestTamperDeletedHeader(t *testing.T) {
	path := writeJournal(t, 2)
	lines := readLines(t, path)
	writeLines(t, path, lines[1:])

	_, err := Verify(path)
	requireBreak(t, err, BreakDeleted, 1, 0)
}

func TestTamperSwappedLines(t *testing.T) {
	path := writeJournal(t, 5)
	lines := readLines(t, path)
	lines[2], lines[3] = lines[3], lines[2]
	writeLines(t, path, lines)

	_, err := Verify(path)
	requireBreak(t, err, BreakReordered, 3, 2)
}

func TestTamperMovedLine(t *testing.T) {
	path := writeJournal(t, 5)
	lines := readLines(t, path)
	moved := lines[1]
	lines = append(lines[:1], lines[2:]...)
	lines = append(lines[:4], append([]string{moved}, lines[4:]...)...) // result 1 now after result 4
	writeLines(t, path, lines)

	_, err := Verify(path)
	requireBreak(t, err, BreakReordered, 2, 1)
}

func TestTamperAfterEnd(t *testing.T) {
	path := writeJournal(t, 3)
	lines := readLines(t, path)
	lines = append(lines, lines[len(lines)-1])
	writeLines(t, path, lines)

	_, err := Verify(path)
	requireBreak(t, err, BreakAfterEnd, 6, 5)
}

func TestTamperEndCounts(t *testing.T) {
	path := writeJournal(t, 3)
	lines := readLines(t, path)
	last := len(lines) - 1
	lines[last] = strings.Replace(lines[last], `"ok":3`, `"ok":2`, 1)
	writeLines(t, path, lines)

	_, err := Verify(path)
	requireBreak(t, err, BreakEdited, 5, 4)
}

// TestTruncatedMidLine stands for a patrol process killed while it wrote a
// record: the file ends inside a line.
func TestTruncatedMidLine(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, testHeader("20261204T210745Z-dead00"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if err := w.Append(testRecord("seal-db1", i)); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(testRecord("seal-db1", 4)); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(w.Path(), fi.Size()+40); err != nil {
		t.Fatal(err)
	}

	sum, err := Verify(w.Path())
	brk := requireBreak(t, err, BreakTruncated, 6, 5)
	if !strings.Contains(brk.Error(), "truncated, chain intact up to line 5") {
		t.Errorf("message = %q", brk.Error())
	}
	if !sum.Truncated || sum.Ended || sum.Results != 4 || sum.IntactThrough != 5 {
		t.Errorf("summary = %+v", sum)
	}

	_, recs, end, err := Read(w.Path())
	if err != nil {
		t.Fatalf("Read of a truncated journal: %v", err)
	}
	if len(recs) != 4 || end != nil {
		t.Errorf("Read returned %d records and end %v, want 4 and nil", len(recs), end)
	}
}

func TestTruncatedHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.jsonl")
	writeLines(t, path, []string{`{"type":"header","run_id":"x"`})

	_, err := Verify(path)
	requireBreak(t, err, BreakTruncated, 1, 0)
}

func TestListAndLatest(t *testing.T) {
	dir := t.TempDir()
	if _, err := Latest(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Latest of an empty dir = %v, want fs.ErrNotExist", err)
	}

	ids := []string{"20261204T210745Z-bbbbbb", "20261101T080000Z-ffffff", "20261204T210746Z-000000"}
	for _, id := range ids {
		w, err := Create(dir, testHeader(id))
		if err != nil {
			t.Fatal(err)
		}
		w.Close(End{})
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600)

	paths, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"20261101T080000Z-ffffff.jsonl", "20261204T210745Z-bbbbbb.jsonl", "20261204T210746Z-000000.jsonl"}
	if len(paths) != len(want) {
		t.Fatalf("List = %v", paths)
	}
	for i := range want {
		if filepath.Base(paths[i]) != want[i] {
			t.Errorf("List[%d] = %s, want %s", i, paths[i], want[i])
		}
	}
	latest, err := Latest(dir)
	if err != nil || filepath.Base(latest) != want[2] {
		t.Errorf("Latest = %s, %v", latest, err)
	}

	missing, err := List(filepath.Join(dir, "missing"))
	if err != nil || len(missing) != 0 {
		t.Errorf("List of a missing dir = %v, %v", missing, err)
	}
}

func TestNewRunID(t *testing.T) {
	a := NewRunID(started)
	b := NewRunID(started)
	prefix := started.UTC().Format("20060102T150405.000Z") + "-"
	if !strings.HasPrefix(a, prefix) || len(a) != len(prefix)+6 {
		t.Errorf("run id = %q", a)
	}
	if a == b {
		t.Errorf("two run ids in the same second are equal: %s", a)
	}
	later := NewRunID(started.Add(time.Millisecond))
	if !(a < later) {
		t.Errorf("run ids do not sort by time: %s >= %s", a, later)
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("PATROL_HOME", "/srv/patrol")
	dir, err := DefaultDir()
	if err != nil || dir != "/srv/patrol/journal" {
		t.Errorf("DefaultDir = %q, %v", dir, err)
	}
}

func TestVerifyRunInProgress(t *testing.T) {
	w, err := Create(t.TempDir(), testHeader("20261204T210745Z-0a0a0a"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(End{})
	for i := 0; i < 3; i++ {
		if err := w.Append(testRecord("seal-db1", i)); err != nil {
			t.Fatal(err)
		}
	}

	sum, err := Verify(w.Path())
	if err != nil {
		t.Fatalf("Verify of a journal still being written: %v", err)
	}
	if sum.Ended {
		t.Error("summary reports an end record that was not written")
	}
	if sum.Results != 3 {
		t.Errorf("results = %d, want 3", sum.Results)
	}
}
