package patches

import (
	"strings"
	"testing"
)

// The Windows recordings of testdata/oracle (public-win-*) come from one
// patching session on a Windows 19c home; its README names the source.
// Over WinRM their lines end in CRLF, so each is parsed in both forms.

func TestOPatchClassifyWindowsRecordings(t *testing.T) {
	for _, tc := range []struct {
		file string
		exit int
		want opatchResult
	}{
		{"public-win-19c-opatch-apply.txt", 0, opatchOK},
		// A lost exit status does not turn the recorded success into a failure.
		{"public-win-19c-opatch-apply.txt", 1, opatchFailedRun},
	} {
		for _, out := range lineEndings(t, tc.file) {
			got, detail := classifyOPatch(tc.exit, out)
			if got != tc.want {
				t.Errorf("%s, exit %d: classifyOPatch = %v (%q), want %v", tc.file, tc.exit, got, detail, tc.want)
			}
		}
	}
}

func TestOPatchPrereqWindowsRecording(t *testing.T) {
	for _, out := range lineEndings(t, "public-win-19c-opatch-prereq-passed.txt") {
		if ok, detail := classifyPrereq(0, out); !ok {
			t.Errorf("classifyPrereq = false (%q), want passed", detail)
		}
	}
}

func TestLsnrctlWindowsRecordings(t *testing.T) {
	for _, file := range []string{"public-win-19c-lsnrctl-stop.txt", "public-win-19c-lsnrctl-start.txt"} {
		for _, out := range lineEndings(t, file) {
			if errs := lsnrctlErrors(out); len(errs) != 0 {
				t.Errorf("%s: lsnrctlErrors = %q, want none", file, errs)
			}
		}
	}
}

// lineEndings returns a recording with LF line ends, as stored, and with
// CRLF, as WinRM delivers Windows output.
func lineEndings(t *testing.T, file string) []string {
	t.Helper()
	lf := strings.ReplaceAll(string(oracleRecording(t, file)), "\r\n", "\n")
	return []string{lf, strings.ReplaceAll(lf, "\n", "\r\n")}
}
