package taskscript

import (
	"encoding/base64"
	"strings"
	"testing"

	"patrol/transport/winrmconn/copyscript"
)

// commandText is a task script as the lab sees it: the command line with the
// encoded script decoded, after the one-line prelude of the transport.
func commandText(template string, values map[string]string) string {
	return "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand " +
		"[Console]::OutputEncoding = [Text.Encoding]::UTF8\r\n" + copyscript.Fill(template, values)
}

func TestParseRecognisesEachScript(t *testing.T) {
	script := "& wusa.exe 'C:\\patches\\kb.msu' /quiet /norestart\r\nexit $LASTEXITCODE"
	encoded := base64.StdEncoding.EncodeToString([]byte(script))
	id := map[string]string{"id": "'run-0123456789abcdef'"}

	got, ok := Parse(commandText(Register, map[string]string{"id": id["id"], "script": "'" + encoded + "'"}))
	if !ok || got != (Command{Kind: KindRegister, ID: "run-0123456789abcdef", Script: script}) {
		t.Errorf("Parse(Register) = %+v, %v", got, ok)
	}
	for kind, template := range map[Kind]string{KindStart: Start, KindPoll: Poll, KindRead: Read, KindCleanup: Cleanup} {
		got, ok := Parse(commandText(template, id))
		if !ok || got != (Command{Kind: kind, ID: "run-0123456789abcdef"}) {
			t.Errorf("Parse(kind %d) = %+v, %v", kind, got, ok)
		}
	}
}

func TestParseRejectsChangedScripts(t *testing.T) {
	id := map[string]string{"id": "'run-0123456789abcdef'"}
	for name, text := range map[string]string{
		"no prelude":         strings.Replace(commandText(Poll, id), "[Console]::OutputEncoding = [Text.Encoding]::UTF8\r\n", "", 1),
		"changed line":       strings.Replace(commandText(Poll, id), "'exit'", "'exit2'", 1),
		"extra command":      commandText(Poll, id) + "Remove-Item C:\\ -Recurse\r\n",
		"unquoted id":        commandText(Poll, map[string]string{"id": "run-1"}),
		"empty id":           commandText(Start, map[string]string{"id": "''"}),
		"script not base64":  commandText(Register, map[string]string{"id": id["id"], "script": "'not base64!'"}),
		"not a task command": "powershell.exe -EncodedCommand x\r\nGet-HotFix",
	} {
		if got, ok := Parse(text); ok {
			t.Errorf("%s: Parse = %+v, want no match", name, got)
		}
	}
}
