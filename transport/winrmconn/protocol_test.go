package winrmconn

import (
	"strings"
	"testing"

	"patrol/transport/winrmconn/copyscript"
)

// serverText turns a script into the command text a server sees: the
// command line with the -EncodedCommand argument decoded.
func serverText(t *testing.T, script string) string {
	t.Helper()
	line, fits := PowerShellCommandLine(script)
	if !fits {
		t.Fatalf("copy script does not fit one command line: %d characters", len(line))
	}
	prefix, encoded, _ := strings.Cut(line, "-EncodedCommand ")
	return prefix + "-EncodedCommand " + decodeUTF16Base64(t, encoded)
}

func TestParseCopyScripts(t *testing.T) {
	const sum = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		name   string
		script string
		want   copyscript.FileCommand
	}{
		{"stat", StatScript(`C:\补丁\it's.msu`), copyscript.FileCommand{Kind: copyscript.FileStat, Path: `C:\补丁\it's.msu`}},
		{"upload", UploadScript(`C:\p\a.part`, `C:\p\a`, 42, sum), copyscript.FileCommand{Kind: copyscript.FileUpload, Path: `C:\p\a`, Part: `C:\p\a.part`, Size: 42, SHA256: strings.ToUpper(sum)}},
		{"read", ReadScript(`D:\backup\x.bak`, 7), copyscript.FileCommand{Kind: copyscript.FileRead, Path: `D:\backup\x.bak`, Offset: 7}},
	}
	for _, tt := range tests {
		got, ok := copyscript.Parse(serverText(t, tt.script))
		if !ok {
			t.Errorf("%s: Parse did not recognise the script", tt.name)
			continue
		}
		if got != tt.want {
			t.Errorf("%s: Parse = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestParseRejectsOtherScripts(t *testing.T) {
	stat := serverText(t, StatScript(`C:\a`))
	for name, text := range map[string]string{
		"plain command":  serverText(t, "Get-HotFix"),
		"extra line":     stat + "Remove-Item C:\\ -Recurse\r\n",
		"injected quote": strings.Replace(stat, `'C:\a'`, `'C:\a' + 'b'`, 1),
		"number as path": strings.Replace(stat, `'C:\a'`, `12`, 1),
	} {
		if got, ok := copyscript.Parse(text); ok {
			t.Errorf("%s: Parse recognised %+v, want no match", name, got)
		}
	}
}

func TestMaxCopyChunkSizeFitsEnvelope(t *testing.T) {
	got := MaxCopyChunkSize(DefaultEnvelopeSize)
	if got != 282624 {
		t.Errorf("MaxCopyChunkSize(500 KB) = %d, want 282624 (92 lines of 3072 bytes)", got)
	}
	if got%copyscript.UploadLineBytes != 0 {
		t.Errorf("MaxCopyChunkSize = %d, not a whole number of lines", got)
	}
}
