package winrmconn

import (
	"encoding/base64"
	"fmt"
)

// uploadChunkSize is the number of base64 characters each upload command
// appends. With the redirection and a %TEMP% path of up to 200 characters the
// line stays well below MaxCommandLine.
const uploadChunkSize = 6000

// ChunkedScript returns the commands that run a script too long for one
// command line: each append command adds one base64 piece of the UTF-8 script
// to %TEMP%\name with cmd.exe's echo, and the run command decodes the file,
// deletes it and runs the script in PowerShell. name must be unique per run,
// such as "patrol-<random>.b64". Base64 text contains no character that
// cmd.exe treats specially, so the pieces need no quoting.
func ChunkedScript(script, name string) (appends []string, run string) {
	encoded := base64.StdEncoding.EncodeToString([]byte(script))
	path := `%TEMP%\` + name

	// The redirection comes first so that a piece ending in a digit is not
	// read as a handle number ("…2>>file" would redirect stderr).
	for len(encoded) > 0 {
		n := min(uploadChunkSize, len(encoded))
		appends = append(appends, fmt.Sprintf(`>>"%s" echo %s`, path, encoded[:n]))
		encoded = encoded[n:]
	}

	loader := fmt.Sprintf("$patrolPath = Join-Path $env:TEMP %s\r\n", QuotePowerShellArg(name)) +
		"$patrolText = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String(((Get-Content -LiteralPath $patrolPath) -join '')))\r\n" +
		"Remove-Item -LiteralPath $patrolPath -Force\r\n" +
		". ([ScriptBlock]::Create($patrolText))\r\n"
	run, _ = PowerShellCommandLine(loader)
	return appends, run
}

// CleanupCommand returns the cmd.exe command that deletes the upload file of
// ChunkedScript, for when an append command failed.
func CleanupCommand(name string) string {
	return fmt.Sprintf(`del /f /q "%%TEMP%%\%s"`, name)
}
