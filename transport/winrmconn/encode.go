// Package winrmconn is the WinRM transport: it runs commands and PowerShell
// scripts on Windows hosts through WS-Management (github.com/masterzen/winrm),
// decodes their output (UTF-8, GBK, UTF-16LE, CLIXML) and turns WS-Management
// faults into errors that name the setting to change.
package winrmconn

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf16"
)

// MaxCommandLine is the longest command line cmd.exe accepts (8191 characters).
// WinRM runs every command of a cmd shell through cmd.exe, so a PowerShell
// -EncodedCommand longer than this must be uploaded in chunks instead.
const MaxCommandLine = 8191

// powerShellPrefix starts every PowerShell command line patrol sends. The
// profile is skipped so that a host's profile cannot change the output, and
// Bypass lets the script run whatever the host's execution policy.
const powerShellPrefix = "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand "

// utf8Prelude makes PowerShell write UTF-8 to stdout and to native commands,
// and hides progress bars, which PowerShell would otherwise send as CLIXML
// progress records on stderr.
const utf8Prelude = "[Console]::OutputEncoding = [Text.Encoding]::UTF8; " +
	"$OutputEncoding = [Text.Encoding]::UTF8; " +
	"$ProgressPreference = 'SilentlyContinue'\r\n"

// EncodePowerShell returns the -EncodedCommand argument for script: the UTF-8
// prelude and the script as UTF-16LE, base64-encoded. Encoding avoids every
// quoting rule of cmd.exe and PowerShell.
func EncodePowerShell(script string) string {
	return encodeUTF16Base64(utf8Prelude + script)
}

// PowerShellCommandLine returns the full command line that runs script, and
// false when that line is longer than MaxCommandLine, in which case the caller
// must upload the script with ChunkedScript.
func PowerShellCommandLine(script string) (string, bool) {
	line := powerShellPrefix + EncodePowerShell(script)
	return line, len(line) <= MaxCommandLine
}

// MaxInlineScript returns the longest script, in UTF-16 code units, whose
// command line still fits in MaxCommandLine. Characters outside the Basic
// Multilingual Plane count as two units.
func MaxInlineScript() int {
	room := MaxCommandLine - len(powerShellPrefix)
	units := room / 4 * 3 / 2
	return units - len(utf16.Encode([]rune(utf8Prelude)))
}

func encodeUTF16Base64(s string) string {
	units := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(units))
	for i, u := range units {
		b[2*i] = byte(u)
		b[2*i+1] = byte(u >> 8)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// QuotePowerShellArg quotes s as a PowerShell single-quoted string literal, in
// which nothing is expanded and a quote is written twice. PowerShell also
// treats the typographic single quotes as quotes, so they are doubled too.
func QuotePowerShellArg(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\'', '\u2018', '\u2019', '\u201A', '\u201B':
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String()
}

// ArgvScript turns argv into a PowerShell script that runs the program (or
// cmdlet) with each element as one argument and exits with its exit code: the
// program's code, or 1 when a cmdlet failed. The script travels through
// -EncodedCommand, so cmd.exe never parses the arguments.
//
// Windows PowerShell 4.0 and 5.1 (up to PowerShell 7.2) drop empty arguments
// and pass embedded double quotes to native programs unescaped, so such
// arguments are rejected here rather than delivered wrong.
func ArgvScript(argv []string) (string, error) {
	return argvScript(argv, false)
}

// ArgvStdinScript is ArgvScript for a command with standard input. The
// script reads all of its own standard input, which WinRM Send delivers to
// powershell.exe, and pipes it to the program. Whether a program started by
// a -EncodedCommand script inherits that input by itself is undocumented,
// while piping to a native program is the documented PowerShell way.
//
// The input is read through [Console]::In, which decodes it with the console
// input code page, and written to the program as UTF-8 without a byte order
// mark followed by a line break. ASCII text, such as the SQL*Plus scripts
// patrol sends, arrives unchanged.
//
// NOTE: the piping has run only against the WinRM replay lab, which does not
// execute the script. It was not tried on a Windows host, where text outside
// ASCII depends on the console input code page.
func ArgvStdinScript(argv []string) (string, error) {
	return argvScript(argv, true)
}

// stdinPrelude reads the standard input into $patrolStdin, because $input is
// a PowerShell automatic variable. It sets $OutputEncoding, the encoding of
// text piped to native programs, to UTF-8 without a byte order mark: Windows
// PowerShell 4.0 and 5.1 default to ASCII, and [Text.Encoding]::UTF8 writes
// a byte order mark before the input.
const stdinPrelude = "$patrolStdin = [Console]::In.ReadToEnd()\r\n" +
	"$OutputEncoding = New-Object System.Text.UTF8Encoding $false\r\n"

func argvScript(argv []string, pipeStdin bool) (string, error) {
	if len(argv) == 0 {
		return "", fmt.Errorf("empty argv: give the program to run as its first element")
	}
	for i, a := range argv {
		if a == "" {
			return "", fmt.Errorf("argument %d is empty, which Windows PowerShell drops: use Script to pass it", i)
		}
		if strings.ContainsRune(a, '"') {
			return "", fmt.Errorf("argument %d (%q) contains a double quote, which Windows PowerShell passes unescaped: use Script to pass it", i, a)
		}
	}

	var b strings.Builder
	if pipeStdin {
		b.WriteString(stdinPrelude)
		b.WriteString("$patrolStdin | ")
	}
	b.WriteString("& ")
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(QuotePowerShellArg(a))
	}
	b.WriteString("\r\n$ok = $?\r\n")
	b.WriteString("if ($LASTEXITCODE -ne $null) { exit $LASTEXITCODE }\r\n")
	b.WriteString("if (-not $ok) { exit 1 }\r\n")
	return b.String(), nil
}
