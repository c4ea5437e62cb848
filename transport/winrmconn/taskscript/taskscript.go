// Package taskscript holds the PowerShell scripts with which the winrmconn
// transport runs a script as a one-shot scheduled task under SYSTEM: the exact
// templates the transport sends and the parser with which the lab server
// recognises them. Windows rejects some work in a network logon (the Windows
// Update agent, wusa.exe), and a task also outlives one WinRM operation.
package taskscript

import (
	"encoding/base64"
	"strings"

	"patrol/transport/winrmconn/copyscript"
)

// TaskPath is the Task Scheduler folder of patrol's tasks.
const TaskPath = `\patrol\`

// Replies the task scripts write to stdout, one per line.
const (
	// ReplyRunning is the output of Poll while the exit code file is absent.
	ReplyRunning = "running"
	// ReplyDone starts the output of Poll once the task ended, followed by
	// the exit code of the script.
	ReplyDone = "done "
	// ReplyStdout and ReplyStderr start the two lines of Read, followed by
	// the base64 of the bytes the script wrote to that stream.
	ReplyStdout = "stdout "
	ReplyStderr = "stderr "
)

// common starts every task script. «id» is the task name inside TaskPath,
// which also names the working directory under %SystemRoot%\Temp, where
// both an administrator in a network logon and SYSTEM may write.
const common = "$ErrorActionPreference = 'Stop'\r\n" +
	"$id = «id»\r\n" +
	"$dir = Join-Path $env:SystemRoot ('Temp\\patrol-' + $id)\r\n" +
	"$hasTasks = [bool](Get-Command Register-ScheduledTask -ErrorAction SilentlyContinue)\r\n"

// wrapper is the program of the task. It runs script.ps1 in a child
// powershell.exe with stdout and stderr redirected to files, then writes the
// exit code to exit.tmp and renames it to exit, so a poll never reads a
// partial exit code.
const wrapper = "$d = $PSScriptRoot\r\n" +
	"try {\r\n" +
	"  $p = Start-Process -FilePath 'powershell.exe' -ArgumentList @('-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', (Join-Path $d 'script.ps1')) -RedirectStandardOutput (Join-Path $d 'stdout') -RedirectStandardError (Join-Path $d 'stderr') -NoNewWindow -Wait -PassThru\r\n" +
	"  $code = $p.ExitCode\r\n" +
	"} catch {\r\n" +
	"  [IO.File]::AppendAllText((Join-Path $d 'stderr'), $_.ToString())\r\n" +
	"  $code = 1\r\n" +
	"}\r\n" +
	"[IO.File]::WriteAllText((Join-Path $d 'exit.tmp'), [string]$code)\r\n" +
	"Move-Item -LiteralPath (Join-Path $d 'exit.tmp') -Destination (Join-Path $d 'exit') -Force\r\n"

// Register writes the script («script», base64 of its UTF-8 text) and the
// wrapper into the working directory and registers the task under SYSTEM.
// Register-ScheduledTask exists from Windows Server 2012; older hosts use
// schtasks.exe. The path of the wrapper is not quoted in the action because
// %SystemRoot% has no spaces on a default installation.
const Register = common +
	"[void][IO.Directory]::CreateDirectory($dir)\r\n" +
	"$utf8 = New-Object Text.UTF8Encoding $true\r\n" +
	"$prelude = '[Console]::OutputEncoding = [Text.Encoding]::UTF8; $OutputEncoding = [Text.Encoding]::UTF8; $ProgressPreference = ''SilentlyContinue''' + \"`r`n\"\r\n" +
	"$body = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String(«script»))\r\n" +
	"[IO.File]::WriteAllText((Join-Path $dir 'script.ps1'), $prelude + $body, $utf8)\r\n" +
	"[IO.File]::WriteAllText((Join-Path $dir 'wrapper.ps1'), @'\r\n" +
	wrapper +
	"'@, $utf8)\r\n" +
	"$arg = '-NoProfile -NonInteractive -ExecutionPolicy Bypass -File ' + (Join-Path $dir 'wrapper.ps1')\r\n" +
	"if ($hasTasks) {\r\n" +
	"  $action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument $arg\r\n" +
	"  $principal = New-ScheduledTaskPrincipal -UserId 'SYSTEM' -LogonType ServiceAccount -RunLevel Highest\r\n" +
	"  $settings = New-ScheduledTaskSettingsSet -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries -ExecutionTimeLimit ([TimeSpan]::Zero)\r\n" +
	"  [void](Register-ScheduledTask -TaskPath '" + TaskPath + "' -TaskName $id -Action $action -Principal $principal -Settings $settings -Force)\r\n" +
	"} else {\r\n" +
	"  $out = schtasks.exe /Create /TN ('" + TaskPath + "' + $id) /TR ('powershell.exe ' + $arg) /SC ONCE /ST 00:00 /RU SYSTEM /RL HIGHEST /F 2>&1\r\n" +
	"  if ($LASTEXITCODE -ne 0) { throw \"schtasks /Create failed: $out\" }\r\n" +
	"}\r\n"

// Start starts the registered task.
const Start = common +
	"if ($hasTasks) { Start-ScheduledTask -TaskPath '" + TaskPath + "' -TaskName $id }\r\n" +
	"else {\r\n" +
	"  $out = schtasks.exe /Run /TN ('" + TaskPath + "' + $id) 2>&1\r\n" +
	"  if ($LASTEXITCODE -ne 0) { throw \"schtasks /Run failed: $out\" }\r\n" +
	"}\r\n"

// Poll writes ReplyDone and the exit code once the exit file exists, else
// ReplyRunning.
//
// NOTE: a task that ends without writing the exit file (the wrapper failed
// to start) reads as running, so the caller waits for its whole timeout.
const Poll = common +
	"$f = Join-Path $dir 'exit'\r\n" +
	"if ([IO.File]::Exists($f)) { [Console]::Out.WriteLine('" + ReplyDone + "' + [IO.File]::ReadAllText($f).Trim()) }\r\n" +
	"else { [Console]::Out.WriteLine('" + ReplyRunning + "') }\r\n"

// Read writes the stdout and stderr files of the script as base64, one line
// each, so their bytes arrive unchanged whatever the console encoding.
const Read = common +
	"foreach ($n in 'stdout', 'stderr') {\r\n" +
	"  $f = Join-Path $dir $n\r\n" +
	"  $b = if ([IO.File]::Exists($f)) { [IO.File]::ReadAllBytes($f) } else { New-Object byte[] 0 }\r\n" +
	"  [Console]::Out.WriteLine($n + ' ' + [Convert]::ToBase64String($b))\r\n" +
	"}\r\n"

// Cleanup stops the task if it still runs, deletes it and deletes the
// working directory. Each step runs even when an earlier one failed.
//
// NOTE: stopping the task ends the wrapper. Whether Task Scheduler also ends
// its child processes (powershell.exe, wusa.exe) was not checked on a Windows
// host, and a file that a child still holds open stays in the directory.
const Cleanup = common +
	"$ErrorActionPreference = 'Continue'\r\n" +
	"if ($hasTasks) {\r\n" +
	"  Stop-ScheduledTask -TaskPath '" + TaskPath + "' -TaskName $id -ErrorAction SilentlyContinue\r\n" +
	"  Unregister-ScheduledTask -TaskPath '" + TaskPath + "' -TaskName $id -Confirm:$false -ErrorAction SilentlyContinue\r\n" +
	"} else {\r\n" +
	"  [void](schtasks.exe /End /TN ('" + TaskPath + "' + $id) 2>&1)\r\n" +
	"  [void](schtasks.exe /Delete /TN ('" + TaskPath + "' + $id) /F 2>&1)\r\n" +
	"}\r\n" +
	"Remove-Item -LiteralPath $dir -Recurse -Force -ErrorAction SilentlyContinue\r\n"

// Kind names one of the task scripts.
type Kind int

// Task scripts.
const (
	KindRegister Kind = iota + 1
	KindStart
	KindPoll
	KindRead
	KindCleanup
)

// Command is a task script with its arguments, as Parse finds them.
type Command struct {
	Kind Kind
	// ID is the task name inside TaskPath.
	ID string
	// Script is the text the task runs, for KindRegister only.
	Script string
}

// Parse recognises the command line of a task script, as a server sees it
// after replacing the -EncodedCommand argument with the script it encodes.
// The first line, the prelude the transport puts before every script, is
// skipped; the rest must be exactly one template with its placeholders
// filled.
func Parse(text string) (Command, bool) {
	_, script, ok := strings.Cut(text, " -EncodedCommand ")
	if !ok {
		return Command{}, false
	}
	if _, script, ok = strings.Cut(script, "\r\n"); !ok {
		return Command{}, false
	}

	if v, ok := copyscript.Match(Register, script); ok {
		body, err := base64.StdEncoding.DecodeString(v["script"])
		return Command{Kind: KindRegister, ID: v["id"], Script: string(body)}, err == nil && v["id"] != ""
	}
	for _, t := range []struct {
		kind     Kind
		template string
	}{{KindStart, Start}, {KindPoll, Poll}, {KindRead, Read}, {KindCleanup, Cleanup}} {
		if v, ok := copyscript.Match(t.template, script); ok {
			return Command{Kind: t.kind, ID: v["id"]}, v["id"] != ""
		}
	}
	return Command{}, false
}
