package winrmconn

import (
	"context"
	"strings"
	"testing"

	winrmlab "patrol/lab/winrm"
	"patrol/transport"
)

func TestCommandScriptStdin(t *testing.T) {
	sqlplus := []string{`D:\app\oracle\product\11.2.0\dbhome_1\bin\sqlplus.exe`, "-S", "/nolog"}
	withStdin, err := ArgvStdinScript(sqlplus)
	if err != nil {
		t.Fatal(err)
	}
	withoutStdin, err := ArgvScript(sqlplus)
	if err != nil {
		t.Fatal(err)
	}
	const env = "${env:ORACLE_SID} = 'SEAL'\r\n"

	cases := []struct {
		name string
		cmd  transport.Command
		want string
	}{
		{"argv with stdin", transport.Command{Argv: sqlplus, Stdin: strings.NewReader("EXIT\n")}, withStdin},
		{"argv without stdin", transport.Command{Argv: sqlplus}, withoutStdin},
		{"argv with stdin and env", transport.Command{Argv: sqlplus, Stdin: strings.NewReader("EXIT\n"), Env: map[string]string{"ORACLE_SID": "SEAL"}}, env + withStdin},
		// A script reads its standard input itself, so it is sent as written.
		{"script with stdin", transport.Command{Script: "[Console]::In.ReadLine()", Stdin: strings.NewReader("x\n")}, "[Console]::In.ReadLine()"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := commandScript(c.cmd)
			if err != nil {
				t.Fatalf("commandScript: %v", err)
			}
			if got != c.want {
				t.Errorf("script =\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

// TestRunArgvStdinThroughLab runs sqlplus with a SQL script on standard
// input against a lab entry that replies only when that script arrives.
func TestRunArgvStdinThroughLab(t *testing.T) {
	entries, err := winrmlab.ParseReplay("sqlplus.yml", []byte(`- match: "[$]patrolStdin [|] & 'sqlplus[.]exe' '-S' '/nolog'"
  stdin_match: '(?m)^SHUTDOWN IMMEDIATE$'
  stdout: "Database closed.\r\nDatabase dismounted.\r\nORACLE instance shut down.\r\n"
`))
	if err != nil {
		t.Fatal(err)
	}
	srv, port, caFile := serveLab(t, winrmlab.Config{Entries: entries, RecordRequests: true})
	conn := dialLab(t, port, caFile)

	script := "WHENEVER SQLERROR EXIT FAILURE\nCONNECT / AS SYSDBA\nSHUTDOWN IMMEDIATE\nEXIT\n"
	res, err := conn.Run(context.Background(), transport.Command{Argv: []string{"sqlplus.exe", "-S", "/nolog"}, Stdin: strings.NewReader(script)})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.ExitCode != 0 || !strings.Contains(string(res.Stdout), "ORACLE instance shut down.") {
		t.Errorf("exit %d, stdout %q; want the shutdown entry", res.ExitCode, res.Stdout)
	}

	commands := srv.Commands()
	if len(commands) != 1 {
		t.Fatalf("lab started %d commands, want 1: %+v", len(commands), commands)
	}
	if string(commands[0].Stdin) != script || !commands[0].StdinEnded {
		t.Errorf("lab received stdin %q (ended %v), want %q, ended", commands[0].Stdin, commands[0].StdinEnded, script)
	}
	if !strings.Contains(commands[0].Text, "$patrolStdin = [Console]::In.ReadToEnd()") {
		t.Errorf("command does not read its standard input: %q", commands[0].Text)
	}
}

func TestRunArgvStdinMismatchIsError(t *testing.T) {
	entries, err := winrmlab.ParseReplay("sqlplus.yml", []byte(`- match: "sqlplus"
  stdin_match: '(?m)^STARTUP$'
  stdout: "Database opened.\r\n"
`))
	if err != nil {
		t.Fatal(err)
	}
	_, port, caFile := serveLab(t, winrmlab.Config{Entries: entries})
	conn := dialLab(t, port, caFile)

	_, err = conn.Run(context.Background(), transport.Command{Argv: []string{"sqlplus.exe", "-S", "/nolog"}, Stdin: strings.NewReader("SHUTDOWN ABORT\n")})
	if err == nil || !strings.Contains(err.Error(), "no replay entry matches the standard input") {
		t.Errorf("Run = %v, want the lab's fault for unmatched input", err)
	}
}
