package winrmlab

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"
)

// sqlplusReplay replies to sqlplus by the SQL it reads, with one
// stdin_match entry for SHUTDOWN IMMEDIATE and one for STARTUP. Only
// stdinFallbackReplay has an entry for any other input.
const sqlplusReplay = `- match: "sqlplus"
  stdin_match: '(?m)^SHUTDOWN IMMEDIATE\r?$'
  stdout: "ORACLE instance shut down.\r\n"
- match: "sqlplus"
  stdin_match: '(?m)^STARTUP\r?$'
  stdout: "Database opened.\r\n"
- match: "lsnrctl"
  stdout: "The command completed successfully\r\n"
`

const stdinFallbackReplay = sqlplusReplay + `- match: "sqlplus"
  stdout: "no stdin_match\r\n"
  exit_code: 1
`

// startStdinServer serves replay with the request log on.
func startStdinServer(t *testing.T, replay string) (*Server, int) {
	t.Helper()
	entries, err := ParseReplay("sqlplus.yml", []byte(replay))
	if err != nil {
		t.Fatal(err)
	}
	return startServer(t, Config{Entries: entries, RecordRequests: true})
}

// faultAsError makes a SOAP fault in reply to a Receive an error, as the
// winrm transport of patrol does. The winrm library ignores the HTTP status
// of SOAP responses and would poll a faulted command forever. The TimedOut
// fault, whose text names OperationTimeout, still makes the library poll
// again.
type faultAsError struct {
	winrm.Transporter
}

func (f faultAsError) Post(client *winrm.Client, message *soap.SoapMessage) (string, error) {
	body, err := f.Transporter.Post(client, message)
	if err == nil && strings.Contains(body, "<s:Fault>") {
		return "", fmt.Errorf("SOAP fault: %s", body)
	}
	return body, err
}

// stdinClient is a winrm client that takes faults as errors.
func stdinClient(t *testing.T, port int) *winrm.Client {
	t.Helper()
	return newClient(t, port, clientOptions{decorate: func() winrm.Transporter {
		return faultAsError{winrm.NewClientWithDial((&net.Dialer{}).Dial)}
	}})
}

// runWithInput runs command with stdin and returns its stdout, exit code and
// error.
func runWithInput(t *testing.T, port int, command, stdin string) (string, int, error) {
	t.Helper()
	client := stdinClient(t, port)
	var stdout, stderr bytes.Buffer
	code, err := client.RunWithContextWithInput(context.Background(), command, &stdout, &stderr, strings.NewReader(stdin))
	return stdout.String(), code, err
}

func TestStdinMatchParse(t *testing.T) {
	entries, err := ParseReplay("sqlplus.yml", []byte(sqlplusReplay))
	if err != nil {
		t.Fatalf("ParseReplay: %v", err)
	}
	if entries[0].StdinMatch == nil || !entries[0].StdinMatch.MatchString("CONNECT / AS SYSDBA\nSHUTDOWN IMMEDIATE\nEXIT\n") {
		t.Errorf("entry 1 stdin_match = %v, want one that matches SHUTDOWN IMMEDIATE", entries[0].StdinMatch)
	}
	if entries[2].StdinMatch != nil {
		t.Errorf("entry 3 stdin_match = %v, want none", entries[2].StdinMatch)
	}

	_, err = ParseReplay("bad.yml", []byte(`- match: sqlplus
  stdin_match: "(unclosed"
- match: sqlplus
  stdin_match: [STARTUP]
`))
	if err == nil {
		t.Fatal("invalid stdin_match accepted")
	}
	for _, want := range []string{
		"bad.yml:2:16: stdin_match is not a valid regular expression",
		"bad.yml:4:16: stdin_match must be a single value, found a list",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%v", want, err)
		}
	}
}

func TestStdinMatchChoosesEntry(t *testing.T) {
	_, port := startStdinServer(t, sqlplusReplay)
	for _, tc := range []struct {
		stdin, want string
	}{
		{"CONNECT / AS SYSDBA\nSHUTDOWN IMMEDIATE\nEXIT\n", "ORACLE instance shut down.\r\n"},
		{"CONNECT / AS SYSDBA\nSTARTUP\nEXIT\n", "Database opened.\r\n"},
		// Line ends as a Windows client may send them.
		{"CONNECT / AS SYSDBA\r\nSTARTUP\r\nEXIT\r\n", "Database opened.\r\n"},
	} {
		stdout, code, err := runWithInput(t, port, "sqlplus.exe -S /nolog", tc.stdin)
		if err != nil || code != 0 {
			t.Errorf("stdin %q: exit %d, error %v", tc.stdin, code, err)
		}
		if stdout != tc.want {
			t.Errorf("stdin %q: stdout %q, want %q", tc.stdin, stdout, tc.want)
		}
	}
}

func TestStdinMatchNoEntryMatches(t *testing.T) {
	_, port := startStdinServer(t, sqlplusReplay)
	_, _, err := runWithInput(t, port, "sqlplus.exe -S /nolog", "CONNECT / AS SYSDBA\nSELECT 1 FROM dual;\n")
	if err == nil {
		t.Fatal("sqlplus with unmatched input succeeded, want a fault")
	}
	for _, want := range []string{"no replay entry matches the standard input", "replay lines [1 4]", "SELECT 1 FROM dual;"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("fault %q does not contain %q", err, want)
		}
	}
}

func TestStdinMatchFallsThrough(t *testing.T) {
	_, port := startStdinServer(t, stdinFallbackReplay)
	stdout, code, err := runWithInput(t, port, "sqlplus.exe -S /nolog", "SELECT 1 FROM dual;\n")
	if err != nil {
		t.Fatal(err)
	}
	if stdout != "no stdin_match\r\n" || code != 1 {
		t.Errorf("stdout %q, exit %d; want the entry without stdin_match and exit 1", stdout, code)
	}
}

func TestEntryWithoutStdinMatchRepliesWithoutInput(t *testing.T) {
	_, port := startStdinServer(t, sqlplusReplay)
	client := stdinClient(t, port)
	// No input is sent at all, not even its end, as pywinrm's run_cmd does.
	stdout, _, code, err := client.RunCmdWithContext(context.Background(), "lsnrctl.exe stop")
	if err != nil || code != 0 || stdout != "The command completed successfully\r\n" {
		t.Errorf("lsnrctl: stdout %q, exit %d, error %v", stdout, code, err)
	}
}

func TestStdinMatchWaitsForEndOfInput(t *testing.T) {
	srv, port := startStdinServer(t, sqlplusReplay)
	client := stdinClient(t, port)
	shell, err := client.CreateShell()
	if err != nil {
		t.Fatal(err)
	}
	defer shell.Close()
	cmd, err := shell.ExecuteWithContext(context.Background(), "sqlplus.exe -S /nolog")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.Stdin.Write([]byte("CONNECT / AS SYSDBA\n")); err != nil {
		t.Fatal(err)
	}

	// The client polls for output while the input is incomplete. Only once
	// a Receive waits on the server does the rest of the input go out, so
	// an entry chosen before the end of the input would be the wrong one.
	waitForReceive(t, srv, "sqlplus")
	if _, err := cmd.Stdin.Write([]byte("STARTUP\nEXIT\n")); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Stdin.Close(); err != nil {
		t.Fatal(err)
	}
	stdout, err := io.ReadAll(cmd.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if string(stdout) != "Database opened.\r\n" || cmd.ExitCode() != 0 {
		t.Errorf("stdout %q, exit %d; want the STARTUP entry", stdout, cmd.ExitCode())
	}
}

func TestStdinMatchCommandStoppedWhileWaiting(t *testing.T) {
	srv, port := startStdinServer(t, sqlplusReplay)
	client := stdinClient(t, port)
	shell, err := client.CreateShell()
	if err != nil {
		t.Fatal(err)
	}
	defer shell.Close()
	cmd, err := shell.ExecuteWithContext(context.Background(), "sqlplus.exe -S /nolog")
	if err != nil {
		t.Fatal(err)
	}
	waitForReceive(t, srv, "sqlplus")

	if err := cmd.Close(); err != nil {
		t.Fatalf("terminate signal: %v", err)
	}
	cmd.Wait()
	if cmd.ExitCode() != exitCodeTerminated {
		t.Errorf("exit code %d, want %d (terminated)", cmd.ExitCode(), exitCodeTerminated)
	}
}

func TestCommandsRecordStdin(t *testing.T) {
	srv, port := startStdinServer(t, sqlplusReplay)
	input := "CONNECT / AS SYSDBA\nSHUTDOWN IMMEDIATE\nEXIT\n"
	if _, _, err := runWithInput(t, port, "sqlplus.exe -S /nolog", input); err != nil {
		t.Fatal(err)
	}
	client := stdinClient(t, port)
	if _, _, _, err := client.RunCmdWithContext(context.Background(), "lsnrctl.exe start"); err != nil {
		t.Fatal(err)
	}

	commands := srv.Commands()
	if len(commands) != 2 {
		t.Fatalf("Commands() = %+v, want 2 commands", commands)
	}
	if commands[0].Text != "sqlplus.exe -S /nolog" || string(commands[0].Stdin) != input || !commands[0].StdinEnded {
		t.Errorf("first command = %q with stdin %q (ended %v), want sqlplus with %q, ended", commands[0].Text, commands[0].Stdin, commands[0].StdinEnded, input)
	}
	if commands[1].Text != "lsnrctl.exe start" || len(commands[1].Stdin) != 0 || commands[1].StdinEnded {
		t.Errorf("second command = %q with stdin %q (ended %v), want lsnrctl without input", commands[1].Text, commands[1].Stdin, commands[1].StdinEnded)
	}

	var sends int
	for _, r := range srv.Requests() {
		if r.Action == "Send" {
			sends++
			if r.CommandID != commands[0].ID {
				t.Errorf("Send for command %s, want %s", r.CommandID, commands[0].ID)
			}
		}
	}
	if sends == 0 {
		t.Error("the request log has no Send request")
	}
}

// waitForReceive waits until a Receive request for the command whose text
// contains text is in progress on srv.
func waitForReceive(t *testing.T, srv *Server, text string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		srv.mu.Lock()
		receiving := false
		for _, sh := range srv.shells {
			for _, cmd := range sh.commands {
				if strings.Contains(cmd.text, text) && cmd.receiving.Load() > 0 {
					receiving = true
				}
			}
		}
		srv.mu.Unlock()
		if receiving {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no Receive request for %q arrived within 30s", text)
}
