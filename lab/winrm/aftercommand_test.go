package winrmlab

import (
	"context"
	"strings"
	"testing"
)

func TestAfterCommandEntryRepliesOnceCommandRan(t *testing.T) {
	entries, err := ParseReplay("opatch.yml", []byte(`- match: "lsinventory"
  after_command: "'apply' '-silent'"
  stdout: "Patch  19692824     : applied\r\n"
- match: "lsinventory"
  stdout: "There are no Interim patches installed in this Oracle Home.\r\n"
- match: "'apply' '-silent'"
  stdout: "OPatch succeeded.\r\n"
`))
	if err != nil {
		t.Fatal(err)
	}
	_, port := startServer(t, Config{Entries: entries})
	client := newClient(t, port, clientOptions{})
	run := func(command string) string {
		t.Helper()
		stdout, _, _, err := client.RunCmdWithContext(context.Background(), command)
		if err != nil {
			t.Fatalf("%s: %v", command, err)
		}
		return stdout
	}

	if got := run("opatch.bat 'lsinventory'"); !strings.Contains(got, "no Interim patches") {
		t.Errorf("lsinventory before apply = %q, want no patches", got)
	}
	if got := run("opatch.bat 'lsinventory'"); !strings.Contains(got, "no Interim patches") {
		t.Errorf("second lsinventory before apply = %q, want no patches", got)
	}
	run("opatch.bat 'apply' '-silent'")
	if got := run("opatch.bat 'lsinventory'"); !strings.Contains(got, "19692824") {
		t.Errorf("lsinventory after apply = %q, want patch 19692824", got)
	}
}

func TestAfterCommandParseError(t *testing.T) {
	_, err := ParseReplay("bad.yml", []byte("- match: lsinventory\n  after_command: \"(apply\"\n"))
	if err == nil || !strings.Contains(err.Error(), "bad.yml:2:18: after_command is not a valid regular expression") {
		t.Errorf("ParseReplay = %v, want an error at bad.yml:2:18", err)
	}
}
