package builtin

import (
	"os"
	"testing"
)

func TestParseBootIdentity(t *testing.T) {
	linux, err := os.ReadFile("testdata/bootid/linux.txt")
	if err != nil {
		t.Fatal(err)
	}
	// windows.txt has the format of the default Windows command's output
	// (DateTime.ToString("o") in UTC); it was written by hand, not recorded.
	windows, err := os.ReadFile("testdata/bootid/windows.txt")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		out      string
		bootID   string
		bootTime string
	}{
		{"linux", string(linux), "1889a248-6b2f-48b9-888d-ac6d23aabd31", "2026-12-04 21:07:09"},
		{"windows", string(windows), "", "2026-05-03T01:12:45.5000000Z"},
		{"linux without uptime -s", "boot_id=abc\nboot_time=\n", "abc", ""},
		{"custom command", "  42 \n", "42", ""},
	}
	for _, tt := range tests {
		id, err := parseBootIdentity([]byte(tt.out))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if id.BootID != tt.bootID {
			t.Errorf("%s: BootID = %q, want %q", tt.name, id.BootID, tt.bootID)
		}
		if id.BootTime != tt.bootTime {
			t.Errorf("%s: BootTime = %q, want %q", tt.name, id.BootTime, tt.bootTime)
		}
	}
}

func TestParseBootIdentityEmpty(t *testing.T) {
	for _, out := range []string{"", " \n", "boot_time=\n"} {
		if _, err := parseBootIdentity([]byte(out)); err == nil {
			t.Errorf("output %q: no error, want one", out)
		}
	}
}

func TestBootIdentityDiffers(t *testing.T) {
	tests := []struct {
		name          string
		before, after string
		want          bool
	}{
		{"same boot_id, boot time jittered", "boot_id=a\nboot_time=2026-01-01 10:00:00", "boot_id=a\nboot_time=2026-01-01 10:00:01", false},
		{"new boot_id", "boot_id=a\nboot_time=2026-01-01 10:00:00", "boot_id=b\nboot_time=2026-01-01 10:00:00", true},
		{"boot time within tolerance", "boot_time=2026-01-01 10:00:00", "boot_time=2026-01-01 10:00:02", false},
		{"later boot time", "boot_time=2026-01-01 10:00:00", "boot_time=2026-01-02 08:00:00", true},
		{"windows same boot", "boot_time=2026-05-03T01:12:45.5000000Z", "boot_time=2026-05-03T01:12:45.5000000Z", false},
		{"windows new boot", "boot_time=2026-05-03T01:12:45.5000000Z", "boot_time=2026-05-04T07:00:10.1000000Z", true},
		{"unparsed boot times", "boot_time=yesterday", "boot_time=today", true},
		{"custom output", "7", "8", true},
	}
	for _, tt := range tests {
		before, err := parseBootIdentity([]byte(tt.before))
		if err != nil {
			t.Fatal(err)
		}
		after, err := parseBootIdentity([]byte(tt.after))
		if err != nil {
			t.Fatal(err)
		}
		if got := after.differsFrom(before); got != tt.want {
			t.Errorf("%s: differsFrom = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestDefaultRebootCommand(t *testing.T) {
	linux := defaultRebootCommand(false, 0, "it's patrol")
	want := `nohup sh -c 'sleep 2; shutdown -r now '\''it'\''\'\'''\''s patrol'\'' || reboot' </dev/null >/dev/null 2>&1 &`
	if linux != want {
		t.Errorf("linux:\n got %s\nwant %s", linux, want)
	}
	windows := defaultRebootCommand(true, 0, "it's patrol")
	if want := "shutdown.exe /r /t 5 /c 'it''s patrol'\nexit $LASTEXITCODE"; windows != want {
		t.Errorf("windows:\n got %q\nwant %q", windows, want)
	}
}
