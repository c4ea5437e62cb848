// Package copyscript holds the PowerShell scripts of file copy over WinRM:
// the exact templates the winrmconn transport sends and the parser with which
// the lab server (package winrmlab) recognises them and carries them out on a
// directory. It imports neither side, so both can import it.
package copyscript

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// A placeholder «name» in a template stands for a decimal number («size»,
// «offset») or a PowerShell single-quoted literal (all others). Fill replaces
// them.

// Replies the copy scripts write to stdout, one per line.
const (
	// ReplyMissing is the whole output of the stat script when the file does
	// not exist.
	ReplyMissing = "missing"
	// ReplyOffset starts the first line of the upload script: the length of
	// the partial file, from which the client continues.
	ReplyOffset = "offset "
	// ReplyDone starts the last line of the upload script after the partial
	// file matched and was moved into place, followed by its SHA-256.
	ReplyDone = "done "
	// ReplyMismatch starts the last line of the upload script when the
	// partial file did not match and was deleted, followed by its SHA-256.
	ReplyMismatch = "mismatch "
)

// ExitMismatch is the exit code of the upload script (written as "exit 3"
// in Upload) when the uploaded file did not have the expected SHA-256.
const ExitMismatch = 3

// UploadLineBytes is the number of file bytes in each base64 line sent to the
// upload script's stdin, and ReadLineBytes in each line the read script
// writes to stdout.
//
// NOTE: the winrm library starts every command with WINRS_CONSOLEMODE_STDIN
// set, so stdin may reach PowerShell through a console, whose line input has a
// length limit. Upload lines are kept to 4096 base64 characters for that
// reason, but this was not run against a Windows host.
const (
	UploadLineBytes = 3072
	ReadLineBytes   = 3 * 64 * 1024
)

// hashFunction defines Get-PatrolSHA256: Get-FileHash where it exists
// (PowerShell 4.0, Windows Server 2012 R2 and later), .NET SHA256 otherwise.
// Both give upper-case hex.
const hashFunction = "$ErrorActionPreference = 'Stop'\r\n" +
	"function Get-PatrolSHA256($p) {\r\n" +
	"  if (Get-Command Get-FileHash -ErrorAction SilentlyContinue) { return (Get-FileHash -LiteralPath $p -Algorithm SHA256).Hash }\r\n" +
	"  $s = [IO.File]::OpenRead($p)\r\n" +
	"  try { return [BitConverter]::ToString([Security.Cryptography.SHA256]::Create().ComputeHash($s)).Replace('-', '') } finally { $s.Close() }\r\n" +
	"}\r\n"

// Stat writes "<SHA-256> <length>" of a file, or ReplyMissing.
const Stat = hashFunction +
	"$p = «path»\r\n" +
	"if (-not [IO.File]::Exists($p)) { [Console]::Out.WriteLine('" + ReplyMissing + "'); exit 0 }\r\n" +
	"$n = (New-Object IO.FileInfo $p).Length\r\n" +
	"[Console]::Out.WriteLine((Get-PatrolSHA256 $p) + ' ' + $n)\r\n"

// Upload appends the base64 lines of stdin to the partial file,
// continuing after what an earlier, cut upload left there, then checks the
// SHA-256 of the whole partial file and moves it over the destination.
const Upload = hashFunction +
	"$part = «part»\r\n" +
	"$dst = «dst»\r\n" +
	"$size = «size»\r\n" +
	"$want = «sha256»\r\n" +
	"if ([IO.Directory]::Exists($dst)) { throw \"$dst is a directory: give the full path of the file to write\" }\r\n" +
	"[void][IO.Directory]::CreateDirectory([IO.Path]::GetDirectoryName($part))\r\n" +
	"$fs = New-Object IO.FileStream($part, [IO.FileMode]::OpenOrCreate, [IO.FileAccess]::Write)\r\n" +
	"try {\r\n" +
	"  if ($fs.Length -gt $size) { $fs.SetLength(0) }\r\n" +
	"  [void]$fs.Seek(0, [IO.SeekOrigin]::End)\r\n" +
	"  [Console]::Out.WriteLine('" + ReplyOffset + "' + $fs.Length)\r\n" +
	"  [Console]::Out.Flush()\r\n" +
	"  while ($null -ne ($line = [Console]::In.ReadLine())) {\r\n" +
	"    if ($line.Length -eq 0) { continue }\r\n" +
	"    $b = [Convert]::FromBase64String($line)\r\n" +
	"    $fs.Write($b, 0, $b.Length)\r\n" +
	"  }\r\n" +
	"} finally { $fs.Close() }\r\n" +
	"$got = Get-PatrolSHA256 $part\r\n" +
	"if ($got -ne $want) { Remove-Item -LiteralPath $part -Force; [Console]::Out.WriteLine('" + ReplyMismatch + "' + $got); exit 3 }\r\n" +
	"Move-Item -LiteralPath $part -Destination $dst -Force\r\n" +
	"[Console]::Out.WriteLine('" + ReplyDone + "' + $got)\r\n"

// Read writes a file from an offset as base64 lines of up to
// ReadLineBytes bytes each.
const Read = "$ErrorActionPreference = 'Stop'\r\n" +
	"$fs = [IO.File]::OpenRead(«path»)\r\n" +
	"try {\r\n" +
	"  [void]$fs.Seek(«offset», [IO.SeekOrigin]::Begin)\r\n" +
	"  $out = [Console]::OpenStandardOutput()\r\n" +
	"  $buf = New-Object byte[] 196608\r\n" +
	"  while (($n = $fs.Read($buf, 0, $buf.Length)) -gt 0) {\r\n" +
	"    $line = [Text.Encoding]::ASCII.GetBytes([Convert]::ToBase64String($buf, 0, $n) + \"`n\")\r\n" +
	"    $out.Write($line, 0, $line.Length)\r\n" +
	"  }\r\n" +
	"  $out.Flush()\r\n" +
	"} finally { $fs.Close() }\r\n"

// FileCommandKind names one of the copy scripts.
type FileCommandKind int

// Copy scripts.
const (
	FileStat FileCommandKind = iota + 1
	FileUpload
	FileRead
)

// FileCommand is a copy script with its arguments, as Parse finds
// them in a command line.
type FileCommand struct {
	Kind FileCommandKind
	// Path is the file of FileStat and FileRead, and the destination of
	// FileUpload.
	Path string
	// Part is the partial file FileUpload writes before the move.
	Part string
	// Size and SHA256 are the length and upper-case hex checksum the
	// uploaded file must have.
	Size   int64
	SHA256 string
	// Offset is where FileRead starts reading.
	Offset int64
}

// Parse recognises the command line of a copy script, as a server sees it
// after replacing the -EncodedCommand argument with the script it encodes.
// The first line of the script, the prelude the transport puts before every
// script, is skipped; the rest must be exactly Stat, Upload or Read with its
// placeholders filled.
func Parse(text string) (FileCommand, bool) {
	_, script, ok := strings.Cut(text, " -EncodedCommand ")
	if !ok {
		return FileCommand{}, false
	}
	if _, script, ok = strings.Cut(script, "\r\n"); !ok {
		return FileCommand{}, false
	}

	if v, ok := matchTemplate(Stat, script); ok {
		return FileCommand{Kind: FileStat, Path: v["path"]}, v["path"] != ""
	}
	if v, ok := matchTemplate(Upload, script); ok {
		size, err := strconv.ParseInt(v["size"], 10, 64)
		valid := err == nil && v["part"] != "" && v["dst"] != "" && isSHA256Hex(v["sha256"])
		return FileCommand{Kind: FileUpload, Path: v["dst"], Part: v["part"], Size: size, SHA256: v["sha256"]}, valid
	}
	if v, ok := matchTemplate(Read, script); ok {
		offset, err := strconv.ParseInt(v["offset"], 10, 64)
		return FileCommand{Kind: FileRead, Path: v["path"], Offset: offset}, err == nil && v["path"] != ""
	}
	return FileCommand{}, false
}

// Fill replaces each placeholder «name» of template with values[name], which
// the caller has already quoted or formatted.
func Fill(template string, values map[string]string) string {
	for name, value := range values {
		template = strings.ReplaceAll(template, "«"+name+"»", value)
	}
	return template
}

// matchTemplate checks that text is template with each placeholder replaced
// by a single-quoted literal or a decimal number, and returns the unquoted
// values by placeholder name.
func matchTemplate(template, text string) (map[string]string, bool) {
	values := map[string]string{}
	for {
		start := strings.Index(template, "«")
		if start < 0 {
			return values, text == template
		}
		if !strings.HasPrefix(text, template[:start]) {
			return nil, false
		}
		text = text[start:]
		template = template[start+len("«"):]
		end := strings.Index(template, "»")
		name := template[:end]
		template = template[end+len("»"):]

		value, rest, ok := cutValue(text, numericPlaceholders[name])
		if !ok {
			return nil, false
		}
		if old, seen := values[name]; seen && old != value {
			return nil, false
		}
		values[name] = value
		text = rest
	}
}

// numericPlaceholders are the placeholders that take a decimal number; all
// others take a quoted literal.
var numericPlaceholders = map[string]bool{"size": true, "offset": true}

// cutValue reads a run of decimal digits, or a single-quoted PowerShell
// literal as winrmconn.QuotePowerShellArg writes it, from the start of text.
func cutValue(text string, numeric bool) (value, rest string, ok bool) {
	if text == "" {
		return "", "", false
	}
	if numeric {
		n := 0
		for n < len(text) && text[n] >= '0' && text[n] <= '9' {
			n++
		}
		return text[:n], text[n:], n > 0
	}

	if text[0] != '\'' {
		return "", "", false
	}
	var b strings.Builder
	for i := 1; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if !isPowerShellQuote(r) {
			b.WriteRune(r)
			i += size
			continue
		}
		next, nextSize := utf8.DecodeRuneInString(text[i+size:])
		if next == r {
			b.WriteRune(r)
			i += size + nextSize
			continue
		}
		return b.String(), text[i+size:], true
	}
	return "", "", false
}

func isPowerShellQuote(r rune) bool {
	switch r {
	case '\'', '\u2018', '\u2019', '\u201A', '\u201B':
		return true
	}
	return false
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789ABCDEF", c) {
			return false
		}
	}
	return true
}

// Match checks that text is template with each placeholder filled as Fill
// fills it, and returns the unquoted values by placeholder name. Sibling
// script packages (taskscript) parse their own templates with it.
func Match(template, text string) (map[string]string, bool) {
	return matchTemplate(template, text)
}
