package checks

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"patrol/inventory"
	"patrol/module"
	"patrol/transport"
)

// replayConn returns, for each command, the output of the first entry whose
// marker the script contains, and records the scripts it ran. It keeps these
// tests off the network; cmd/patrol's WinRM tests run the same probes through
// the lab server over HTTPS.
type replayConn struct {
	replies []replay
	scripts []string
}

type replay struct {
	marker string
	stdout []byte
}

func (c *replayConn) Run(_ context.Context, cmd transport.Command) (transport.Result, error) {
	c.scripts = append(c.scripts, cmd.Script)
	for _, r := range c.replies {
		if strings.Contains(cmd.Script, r.marker) {
			return transport.Result{Stdout: r.stdout}, nil
		}
	}
	return transport.Result{Stderr: []byte("no recorded output for this command"), ExitCode: 1}, nil
}

func (c *replayConn) Put(context.Context, string, string, transport.PutOptions) (transport.PutResult, error) {
	return transport.PutResult{}, errors.New("replayConn has no files")
}

func (c *replayConn) Get(context.Context, string, string) (transport.PutResult, error) {
	return transport.PutResult{}, errors.New("replayConn has no files")
}

func (c *replayConn) Close() error { return nil }

func windowsEnv(t *testing.T) (*module.Env, *replayConn) {
	conn := &replayConn{replies: []replay{
		{"Win32_LogicalDisk", readTestdata(t, "constructed-win2012r2-logicaldisk.txt")},
		{"Win32_Service", readTestdata(t, "constructed-win2012r2-zh-services.txt")},
		{"Get-NetFirewallProfile", readTestdata(t, "constructed-win2012r2-firewall-profiles.csv")},
		{"Win32_QuickFixEngineering", readTestdata(t, "constructed-win2012r2-zh-hotfix-probe.txt")},
		{"PendingFileRenameOperations", readTestdata(t, "constructed-win2012r2-reboot-signals.txt")},
	}}
	env := localEnv(t)
	env.Host = &inventory.Host{Name: "seal-db-1", OS: "win2012r2", Connection: "winrm"}
	env.Conn = conn
	env.Now = func() time.Time { return date(2020, time.June, 1) }
	return env, conn
}

// TestWindowsHostGetsWindowsProbes runs each check with a Windows probe on a
// Windows host and checks that only PowerShell reached the host.
func TestWindowsHostGetsWindowsProbes(t *testing.T) {
	tests := []struct {
		check string
		args  module.Args
		// want are the items and statuses expected, in order.
		want []string
	}{
		{diskCheck, nil, []string{"C: fail", "D: ok", "Win32_LogicalDisk error"}},
		{serviceCheck, module.Args{"units": []any{"OracleServiceORCL", "WinRM"}, "failed": true},
			[]string{"OracleServiceORCL fail", "WinRM ok", "OracleServiceORCL fail"}},
		{firewallCheck, nil, []string{"Domain profile ok", "Private profile ok", "Public profile fail"}},
		{hotfixCheck, module.Args{"required": []any{"KB4012213"}}, []string{"installed hotfixes ok", "KB4012213 ok"}},
		{rebootCheck, nil, []string{"reboot warn"}},
	}
	for _, tt := range tests {
		t.Run(tt.check, func(t *testing.T) {
			env, conn := windowsEnv(t)
			res := runCheck(t, env, tt.check, tt.args)
			var got []string
			for _, f := range res.Findings {
				got = append(got, f.Item+" "+string(f.Status))
				if f.Message.EN == "" || f.Message.ZH == "" {
					t.Errorf("%s: message missing a language: %+v", f.Item, f.Message)
				}
			}
			if strings.Join(got, "; ") != strings.Join(tt.want, "; ") {
				t.Errorf("findings = %q, want %q", got, tt.want)
			}
			for _, s := range conn.scripts {
				if !strings.HasPrefix(s, psPrelude) {
					t.Errorf("a non-PowerShell script reached the Windows host: %q", firstLine(s))
				}
			}
		})
	}
}

// TestLinuxHostKeepsLinuxProbes checks that the Windows-only checks say so on
// a Linux host instead of running PowerShell.
func TestLinuxHostKeepsLinuxProbes(t *testing.T) {
	for _, check := range []string{hotfixCheck, rebootCheck} {
		env, conn := windowsEnv(t)
		env.Host = &inventory.Host{Name: "web-1", OS: "centos7", Connection: "ssh"}
		res := runCheck(t, env, check, nil)
		if len(res.Findings) != 1 || res.Findings[0].Status != module.StatusError || len(conn.scripts) != 0 {
			t.Errorf("%s on Linux: %+v, scripts %q", check, res.Findings, conn.scripts)
		}
	}
	if diskProbes.pick(&module.Env{Host: &inventory.Host{OS: "centos7"}}) == nil {
		t.Error("Linux host got no disk probe")
	}
}

func TestSpecsListWindowsChecks(t *testing.T) {
	names := map[string]bool{}
	for _, s := range Specs() {
		names[s.Name] = true
		if s.Title.EN == "" || s.Title.ZH == "" {
			t.Errorf("%s: title missing a language", s.Name)
		}
	}
	for _, n := range []string{hotfixCheck, rebootCheck} {
		if !names[n] {
			t.Errorf("%s is not in Specs()", n)
		}
	}
}
