package winrmconn

import (
	"encoding/base64"
	"strings"
	"testing"
	"unicode/utf16"
)

// decodeUTF16Base64 reverses EncodePowerShell the way powershell.exe reads
// -EncodedCommand.
func decodeUTF16Base64(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("decode base64: %v", err)
	}
	if len(b)%2 != 0 {
		t.Fatalf("odd UTF-16LE length %d", len(b))
	}
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return string(utf16.Decode(units))
}

func TestEncodePowerShellRoundTrip(t *testing.T) {
	scripts := []string{
		"Get-HotFix",
		`Write-Output "a b" 'c''d' $env:TEMP`,
		"Get-EventLog -LogName System | Where-Object { $_.Message -like '*服务*' }",
		"'emoji 😀 outside the BMP'",
		"",
	}
	for _, script := range scripts {
		got := decodeUTF16Base64(t, EncodePowerShell(script))
		if !strings.HasPrefix(got, utf8Prelude) {
			t.Errorf("EncodePowerShell(%q) lacks the UTF-8 prelude: %q", script, got)
		}
		if strings.TrimPrefix(got, utf8Prelude) != script {
			t.Errorf("EncodePowerShell(%q) decodes to %q", script, got)
		}
	}
}

func TestPowerShellCommandLineFlags(t *testing.T) {
	line, ok := PowerShellCommandLine("Get-Service")
	if !ok {
		t.Fatalf("short script reported too long")
	}
	for _, flag := range []string{"-NoProfile", "-NonInteractive", "-ExecutionPolicy Bypass", "-EncodedCommand "} {
		if !strings.Contains(line, flag) {
			t.Errorf("command line %q lacks %s", line, flag)
		}
	}
}

func TestPowerShellCommandLineLimit(t *testing.T) {
	max := MaxInlineScript()
	cases := []struct {
		script string
		fits   bool
	}{
		{strings.Repeat("a", max), true},
		{strings.Repeat("a", max+3), false},
		{strings.Repeat("服", max), true},
		{strings.Repeat("服", max+3), false},
		{strings.Repeat("x", 9000), false},
	}
	for _, c := range cases {
		line, fits := PowerShellCommandLine(c.script)
		if fits != c.fits {
			t.Errorf("script of %d chars: fits = %v, want %v (line %d chars)", len([]rune(c.script)), fits, c.fits, len(line))
		}
		if fits != (len(line) <= MaxCommandLine) {
			t.Errorf("script of %d chars: fits = %v but line is %d chars", len([]rune(c.script)), fits, len(line))
		}
	}
}

func TestQuotePowerShellArg(t *testing.T) {
	cases := map[string]string{
		"plain":            "'plain'",
		"it's":             "'it''s'",
		"$env:TEMP":        "'$env:TEMP'",
		"a b":              "'a b'",
		"curly\u2019s":     "'curly\u2019\u2019s'",
		`C:\Program Files`: `'C:\Program Files'`,
		"":                 "''",
	}
	for in, want := range cases {
		if got := QuotePowerShellArg(in); got != want {
			t.Errorf("QuotePowerShellArg(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestArgvScript(t *testing.T) {
	got, err := ArgvScript([]string{"wusa.exe", `C:\Patches\KB 1.msu`, "/quiet", "/norestart"})
	if err != nil {
		t.Fatalf("ArgvScript: %v", err)
	}
	wantFirst := `& 'wusa.exe' 'C:\Patches\KB 1.msu' '/quiet' '/norestart'`
	if first, _, _ := strings.Cut(got, "\r\n"); first != wantFirst {
		t.Errorf("first line = %q, want %q", first, wantFirst)
	}
	if !strings.Contains(got, "exit $LASTEXITCODE") {
		t.Errorf("script does not pass the exit code on: %q", got)
	}
}

func TestArgvScriptRejects(t *testing.T) {
	bad := [][]string{
		nil,
		{"cmd.exe", ""},
		{"findstr", `"quoted"`, "file.txt"},
	}
	for _, argv := range bad {
		if _, err := ArgvScript(argv); err == nil {
			t.Errorf("ArgvScript(%q) succeeded, want an error", argv)
		}
	}
}

func TestArgvStdinScript(t *testing.T) {
	const prelude = "$patrolStdin = [Console]::In.ReadToEnd()\r\n" +
		"$OutputEncoding = New-Object System.Text.UTF8Encoding $false\r\n"
	const exitLines = "$ok = $?\r\n" +
		"if ($LASTEXITCODE -ne $null) { exit $LASTEXITCODE }\r\n" +
		"if (-not $ok) { exit 1 }\r\n"
	cases := []struct {
		name string
		argv []string
		want string
	}{
		{
			name: "sqlplus",
			argv: []string{`D:\app\oracle\product\11.2.0\dbhome_1\bin\sqlplus.exe`, "-S", "/nolog"},
			want: prelude + `$patrolStdin | & 'D:\app\oracle\product\11.2.0\dbhome_1\bin\sqlplus.exe' '-S' '/nolog'` + "\r\n" + exitLines,
		},
		{
			name: "quoted arguments",
			argv: []string{`C:\Program Files\tool.exe`, "it's", "$env:TEMP"},
			want: prelude + `$patrolStdin | & 'C:\Program Files\tool.exe' 'it''s' '$env:TEMP'` + "\r\n" + exitLines,
		},
		{
			name: "cmdlet",
			argv: []string{"Out-File", "-LiteralPath", `C:\x.txt`},
			want: prelude + `$patrolStdin | & 'Out-File' '-LiteralPath' 'C:\x.txt'` + "\r\n" + exitLines,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ArgvStdinScript(c.argv)
			if err != nil {
				t.Fatalf("ArgvStdinScript: %v", err)
			}
			if got != c.want {
				t.Errorf("script =\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

func TestArgvStdinScriptKeepsArgvExitHandling(t *testing.T) {
	argv := []string{"lsnrctl.exe", "stop"}
	plain, err := ArgvScript(argv)
	if err != nil {
		t.Fatal(err)
	}
	piped, err := ArgvStdinScript(argv)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(piped, plain) {
		t.Errorf("the stdin script does not end with the ArgvScript lines:\n%s\nArgvScript:\n%s", piped, plain)
	}
	if strings.Contains(piped, "$input") {
		t.Errorf("the stdin script uses $input, an automatic variable of PowerShell:\n%s", piped)
	}
	if strings.Contains(piped, "[Text.Encoding]::UTF8") {
		t.Errorf("the stdin script pipes with [Text.Encoding]::UTF8, which writes a byte order mark:\n%s", piped)
	}
}

func TestArgvStdinScriptRejects(t *testing.T) {
	for _, argv := range [][]string{nil, {"sqlplus.exe", ""}, {"sqlplus.exe", `"/ as sysdba"`}} {
		if _, err := ArgvStdinScript(argv); err == nil {
			t.Errorf("ArgvStdinScript(%q) succeeded, want an error", argv)
		}
	}
}

func TestChunkedScript(t *testing.T) {
	script := strings.Repeat("Write-Output '用户名 ok'\r\n", 2000)
	appends, run := ChunkedScript(script, "patrol-test.b64")

	if len(appends) < 2 {
		t.Fatalf("got %d append commands for a %d-byte script, want several", len(appends), len(script))
	}
	var joined strings.Builder
	for _, cmd := range appends {
		if len(cmd)+200 > MaxCommandLine {
			t.Errorf("append command of %d chars leaves no room for %%TEMP%%", len(cmd))
		}
		piece, ok := strings.CutPrefix(cmd, `>>"%TEMP%\patrol-test.b64" echo `)
		if !ok {
			t.Fatalf("append command has an unexpected form: %.80q", cmd)
		}
		joined.WriteString(piece)
	}
	decoded, err := base64.StdEncoding.DecodeString(joined.String())
	if err != nil {
		t.Fatalf("joined pieces are not base64: %v", err)
	}
	if string(decoded) != script {
		t.Errorf("joined pieces decode to a different script")
	}

	if len(run) > MaxCommandLine {
		t.Errorf("run command is %d chars, over %d", len(run), MaxCommandLine)
	}
	loader := decodeUTF16Base64(t, strings.TrimPrefix(run, powerShellPrefix))
	if !strings.Contains(loader, "'patrol-test.b64'") || !strings.Contains(loader, "Remove-Item") {
		t.Errorf("loader does not read and delete the upload file: %q", loader)
	}
}
