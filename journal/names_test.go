package journal

import (
	"os"
	"strings"
	"testing"

	"patrol/i18n"
)

// TestNamesInBothLanguages writes a record whose names were given in both
// languages and one given as plain text, reads them back and picks each
// language.
func TestNamesInBothLanguages(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, testHeader("20261204T210745Z-0a0b0c"))
	if err != nil {
		t.Fatal(err)
	}
	bilingual := testRecord("seal-db1", 1)
	bilingual.Play, bilingual.Task = "每月全面巡检", "CPU 负载"
	bilingual.PlayName = i18n.T("monthly full inspection", "每月全面巡检")
	bilingual.TaskName = i18n.T("CPU load", "CPU 负载")
	plain := testRecord("seal-db1", 2)
	plain.Task = "disk space"
	for _, r := range []Record{bilingual, plain} {
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(End{}); err != nil {
		t.Fatal(err)
	}

	_, records, _, err := Read(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 2 {
		t.Fatalf("read %d records, want 2", len(records))
	}
	cases := []struct {
		name           string
		rec            Record
		lang           i18n.Lang
		wantPlay, want string
	}{
		{"both languages in Chinese", records[0], i18n.ZH, "每月全面巡检", "CPU 负载"},
		{"both languages in English", records[0], i18n.EN, "monthly full inspection", "CPU load"},
		{"plain text in Chinese", records[1], i18n.ZH, "daily inspection", "disk space"},
		{"plain text in English", records[1], i18n.EN, "daily inspection", "disk space"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.rec.PlayIn(c.lang); got != c.wantPlay {
				t.Errorf("PlayIn = %q, want %q", got, c.wantPlay)
			}
			if got := c.rec.TaskIn(c.lang); got != c.want {
				t.Errorf("TaskIn = %q, want %q", got, c.want)
			}
		})
	}

	data, err := os.ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	if !strings.Contains(lines[1], `"task_name":{"zh":"CPU 负载","en":"CPU load"}`) {
		t.Errorf("bilingual record line lacks task_name:\n%s", lines[1])
	}
	if strings.Contains(lines[2], "task_name") || strings.Contains(lines[2], "play_name") {
		t.Errorf("plain record line has empty name fields:\n%s", lines[2])
	}
}

func TestRedactSecretsInNames(t *testing.T) {
	const secret = "s3cr3t-pw"
	w, err := Create(t.TempDir(), testHeader("20261204T210745Z-0d0e0f"), secret)
	if err != nil {
		t.Fatal(err)
	}
	r := testRecord("seal-db1", 1)
	r.TaskName = i18n.T("log in with "+secret, "用 "+secret+" 登录")
	if err := w.Append(r); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(End{}); err != nil {
		t.Fatal(err)
	}

	data, err := os.ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), secret) {
		t.Errorf("journal holds the secret in a task name:\n%s", data)
	}
}
