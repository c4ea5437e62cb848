package checks

import (
	"strings"
	"testing"
	"time"

	"patrol/inventory"
	"patrol/module"
)

func TestParseSignatureDate(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	want := time.Date(2020, 5, 30, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		kind, raw string
		want      time.Time
	}{
		{"Binary", "00c01e515836d601", want},
		{"QWord", "132352992000000000", want},
		{"String", "132352992000000000", want},
		{"DWord", "1590825600", want},
		{"String", "1590825600000", want},
		{"DWord", "20200530", time.Date(2020, 5, 29, 16, 0, 0, 0, time.UTC)},
		{"String", "2020-05-30 16:00:00", want},
		{"String", "2020/5/30 16:00:00", want},
		{"String", "2020-05-30T08:00:00Z", want},
		{"String", "2020.5.30", time.Date(2020, 5, 29, 16, 0, 0, 0, time.UTC)},
		{"String", "20200530160000", want},
	}
	for _, tt := range tests {
		got, err := ParseSignatureDate(tt.kind, tt.raw, cst)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseSignatureDate(%s, %q) = %v, %v; want %v", tt.kind, tt.raw, got, err, tt.want)
		}
	}
}

func TestParseSignatureDateRejects(t *testing.T) {
	for _, tt := range [][2]string{
		{"String", "05/30/2020"}, // month or day first cannot be told apart
		{"String", "30/05/2020"},
		{"String", "24.00.12.05"},
		{"DWord", "12345"},
		{"Binary", "00c01e51"},
		{"String", ""},
	} {
		if got, err := ParseSignatureDate(tt[0], tt[1], time.UTC); err == nil {
			t.Errorf("ParseSignatureDate(%s, %q) = %v, want an error", tt[0], tt[1], got)
		}
	}
}

func TestRegistryProviderPath(t *testing.T) {
	want := `Registry::HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows Defender\Signature Updates`
	for _, in := range []string{
		`HKLM\SOFTWARE\Microsoft\Windows Defender\Signature Updates`,
		`HKLM:\SOFTWARE\Microsoft\Windows Defender\Signature Updates\`,
		`HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows Defender\Signature Updates`,
		`Registry::hklm\SOFTWARE\Microsoft\Windows Defender\Signature Updates`,
	} {
		if got, err := RegistryProviderPath(in); err != nil || got != want {
			t.Errorf("RegistryProviderPath(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := RegistryProviderPath(`SOFTWARE\Rising`); err == nil {
		t.Error("a key without a hive was accepted")
	}
}

func TestParseSignatureProbe(t *testing.T) {
	tests := []struct {
		file  string
		found bool
		date  time.Time
	}{
		{"constructed-win2012r2-antivirus-file-probe.txt", true, time.Date(2020, 5, 20, 1, 30, 0, 0, time.UTC)},
		{"constructed-win2012r2-antivirus-registry-binary-probe.txt", true, time.Date(2020, 5, 30, 8, 0, 0, 0, time.UTC)},
		{"constructed-win2012r2-antivirus-registry-string-probe.txt", true, time.Date(2020, 5, 31, 2, 0, 0, 0, time.UTC)},
		{"constructed-win2012r2-antivirus-missing-probe.txt", false, time.Time{}},
	}
	for _, tt := range tests {
		sig, err := ParseSignatureProbe(readTestdata(t, tt.file))
		if err != nil {
			t.Errorf("%s: %v", tt.file, err)
			continue
		}
		if sig.Found != tt.found || !sig.Date.Equal(tt.date) || !sig.Now.Equal(time.Date(2020, 6, 1, 2, 0, 0, 0, time.UTC)) {
			t.Errorf("%s: found %t date %v now %v (%s), want found %t date %v", tt.file, sig.Found, sig.Date, sig.Now, sig.ParseError, tt.found, tt.date)
		}
	}
	if _, err := ParseSignatureProbe([]byte("Found=True\r\n")); err == nil {
		t.Error("output without Now was accepted")
	}
}

func TestEvaluateSignature(t *testing.T) {
	src := SignatureSource{Path: `C:\Rising\virlib.dat`}
	at := time.Date(2020, 6, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		name     string
		sig      Signature
		maxAge   time.Duration
		failAge  time.Duration
		want     module.Status
		contains string
	}{
		{"fresh", Signature{Found: true, Date: at.Add(-2 * day), Now: at}, 7 * day, 0, module.StatusOK, "2020-05-30"},
		{"old warns", Signature{Found: true, Date: at.Add(-8 * day), Now: at}, 7 * day, 14 * day, module.StatusWarn, "8d"},
		{"at max warns", Signature{Found: true, Date: at.Add(-7 * day), Now: at}, 7 * day, 0, module.StatusWarn, "7d"},
		{"very old fails", Signature{Found: true, Date: at.Add(-30 * day), Now: at}, 7 * day, 14 * day, module.StatusFail, "30d"},
		{"no fail_age only warns", Signature{Found: true, Date: at.Add(-30 * day), Now: at}, 7 * day, 0, module.StatusWarn, "30d"},
		{"missing fails", Signature{Now: at}, 7 * day, 0, module.StatusFail, "check the path"},
		{"future warns", Signature{Found: true, Date: at.Add(3 * day), Now: at}, 7 * day, 0, module.StatusWarn, "future"},
		{"unreadable value", Signature{Found: true, RawKind: "String", Raw: "24.00.12.05", ParseError: "bad", Now: at}, 7 * day, 0, module.StatusError, "no date"},
	}
	for _, tt := range tests {
		f := EvaluateSignature(src, tt.sig, tt.maxAge, tt.failAge)
		if f.Status != tt.want {
			t.Errorf("%s: status %s, want %s: %s", tt.name, f.Status, tt.want, f.Message.EN)
		}
		if !strings.Contains(f.Message.EN+" "+f.Value.EN, tt.contains) {
			t.Errorf("%s: %q / %q does not contain %q", tt.name, f.Message.EN, f.Value.EN, tt.contains)
		}
		if f.Message.ZH == "" {
			t.Errorf("%s: no Chinese message", tt.name)
		}
	}
}

func TestParseIISProbe(t *testing.T) {
	tests := []struct {
		file      string
		service   string
		source    string
		sites     string
		pools     string
		installed bool
	}{
		{"constructed-win2012r2-iis-webadministration-probe.txt", "Running", "WebAdministration",
			"Default Web Site=Started OA办公系统=Stopped ReportServer=Started", "DefaultAppPool=Started .NET v4.5=Started OAAppPool=Stopped", true},
		{"constructed-win2012r2-iis-appcmd-probe.txt", "Running", "appcmd",
			"Default Web Site=Started OA办公系统=Stopped", "DefaultAppPool=Started OAAppPool=Stopped", true},
		{"constructed-win2012r2-iis-stopped-probe.txt", "Stopped", "WebAdministration",
			"Default Web Site=Unknown", "DefaultAppPool=Unknown", true},
		{"constructed-win2012r2-iis-missing-probe.txt", "Missing", "", "", "", false},
	}
	join := func(objs []IISObject) string {
		var parts []string
		for _, o := range objs {
			parts = append(parts, o.Name+"="+o.State)
		}
		return strings.Join(parts, " ")
	}
	for _, tt := range tests {
		inv, err := ParseIISProbe(readTestdata(t, tt.file))
		if err != nil {
			t.Errorf("%s: %v", tt.file, err)
			continue
		}
		if inv.Installed != tt.installed || inv.Service != tt.service || inv.Source != tt.source {
			t.Errorf("%s: %+v", tt.file, inv)
		}
		if got := join(inv.Sites); got != tt.sites {
			t.Errorf("%s: sites %q, want %q", tt.file, got, tt.sites)
		}
		if got := join(inv.AppPools); got != tt.pools {
			t.Errorf("%s: pools %q, want %q", tt.file, got, tt.pools)
		}
	}
}

func TestParseIISProbeBroken(t *testing.T) {
	for _, out := range []string{
		"",
		"W3SVC=Running\r\nSource=appcmd\r\n--- sites\r\n<appcmd><SITE \r\n--- apppools\r\n<appcmd></appcmd>\r\n",
		"W3SVC=Running\r\nSource=WebAdministration\r\n--- sites\r\n\"Name\",\"State\"\r\n",
	} {
		if inv, err := ParseIISProbe([]byte(out)); err == nil {
			t.Errorf("ParseIISProbe(%q) = %+v, want an error", out, inv)
		}
	}
}

func TestEvaluateIIS(t *testing.T) {
	running := IISInventory{Installed: true, Service: "Running",
		Sites:    []IISObject{{"Default Web Site", "Started"}, {"OA办公系统", "Stopped"}},
		AppPools: []IISObject{{"DefaultAppPool", "Started"}, {"OAAppPool", "Stopped"}}}
	missing := IISInventory{Service: "Missing"}
	stopped := IISInventory{Installed: true, Service: "Stopped", Sites: []IISObject{{"Default Web Site", "Unknown"}}}
	tests := []struct {
		name         string
		inv          IISInventory
		sites, pools []string
		want         string
	}{
		{"all objects", running, nil, nil,
			"site Default Web Site ok; site OA办公系统 fail; app pool DefaultAppPool ok; app pool OAAppPool fail"},
		{"listed only, any case", running, []string{"default web site"}, []string{"defaultapppool"},
			"site default web site ok; app pool defaultapppool ok"},
		{"listed site missing", running, []string{"Shop"}, nil,
			"site Shop fail; app pool DefaultAppPool ok; app pool OAAppPool fail"},
		{"not installed, nothing listed", missing, nil, nil, "IIS ok"},
		{"not installed, site listed", missing, []string{"Default Web Site"}, nil, "IIS fail"},
		{"service stopped", stopped, nil, nil, "W3SVC fail; site Default Web Site fail"},
		{"nothing configured", IISInventory{Installed: true, Service: "Running"}, nil, nil, "IIS ok"},
	}
	for _, tt := range tests {
		var got []string
		for _, f := range EvaluateIIS(tt.inv, tt.sites, tt.pools) {
			got = append(got, f.Item+" "+string(f.Status))
			if f.Message.EN == "" || f.Message.ZH == "" || f.Value.EN == "" {
				t.Errorf("%s: %s: message or value missing: %+v", tt.name, f.Item, f)
			}
		}
		if strings.Join(got, "; ") != tt.want {
			t.Errorf("%s: findings %q, want %q", tt.name, strings.Join(got, "; "), tt.want)
		}
	}
}

// TestAntivirusIISProbeSelection runs both checks through the Windows probes
// with recorded output and checks that a Linux host gets no PowerShell.
func TestAntivirusIISProbeSelection(t *testing.T) {
	tests := []struct {
		check  string
		marker string
		file   string
		args   module.Args
		want   string
		script string
	}{
		{antivirusCheck, "LastWriteTime", "constructed-win2012r2-antivirus-file-probe.txt",
			module.Args{"path": `C:\Program Files (x86)\Rising\RAV\Data\virlib.dat`},
			`C:\Program Files (x86)\Rising\RAV\Data\virlib.dat warn`, `$path = 'C:\Program Files (x86)\Rising\RAV\Data\virlib.dat'`},
		{antivirusCheck, "GetValueKind", "constructed-win2012r2-antivirus-registry-binary-probe.txt",
			module.Args{"registry_key": `HKLM\SOFTWARE\Microsoft\Windows Defender\Signature Updates`, "registry_value": "ASSignatureApplied", "max_age": "1d"},
			`HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows Defender\Signature Updates\ASSignatureApplied warn`,
			`$key = 'Registry::HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows Defender\Signature Updates'`},
		{antivirusCheck, "Test-Path", "constructed-win2012r2-antivirus-missing-probe.txt",
			module.Args{"path": `D:\nosuch`}, `D:\nosuch fail`, `$path = 'D:\nosuch'`},
		{iisCheck, "Get-Website", "constructed-win2012r2-iis-webadministration-probe.txt",
			module.Args{"sites": []any{"ReportServer"}, "app_pools": []any{"OAAppPool"}},
			"site ReportServer ok; app pool OAAppPool fail", "& $appcmd list apppool |"},
		{iisCheck, "W3SVC", "constructed-win2012r2-iis-missing-probe.txt",
			module.Args{"sites": []any{"Default Web Site"}}, "IIS fail", "Get-Service -Name W3SVC"},
	}
	for _, tt := range tests {
		t.Run(tt.check+" "+tt.file, func(t *testing.T) {
			env, conn := windowsEnv(t)
			conn.replies = []replay{{tt.marker, readTestdata(t, tt.file)}}
			res := runCheck(t, env, tt.check, tt.args)
			var got []string
			for _, f := range res.Findings {
				got = append(got, f.Item+" "+string(f.Status))
			}
			if strings.Join(got, "; ") != tt.want {
				t.Errorf("findings %q, want %q: %+v", strings.Join(got, "; "), tt.want, res.Findings)
			}
			if len(conn.scripts) != 1 || !strings.HasPrefix(conn.scripts[0], psPrelude) || !strings.Contains(conn.scripts[0], tt.script) {
				t.Errorf("scripts = %q, want one PowerShell script containing %q", conn.scripts, tt.script)
			}
		})
	}

	for _, check := range []string{antivirusCheck, iisCheck} {
		env, conn := windowsEnv(t)
		env.Host = &inventory.Host{Name: "web-1", OS: "centos7", Connection: "ssh"}
		res := runCheck(t, env, check, module.Args{"path": "/x"})
		if len(res.Findings) != 1 || res.Findings[0].Status != module.StatusError || len(conn.scripts) != 0 {
			t.Errorf("%s on Linux: %+v, scripts %q", check, res.Findings, conn.scripts)
		}
	}
}

func TestAntivirusArgs(t *testing.T) {
	for _, args := range []module.Args{
		{},
		{"path": `C:\x`, "registry_key": `HKLM\x`, "registry_value": "v"},
		{"registry_key": `HKLM\x`},
		{"registry_key": `SOFTWARE\x`, "registry_value": "v"},
		{"path": `C:\x`, "max_age": "7 days"},
	} {
		env, conn := windowsEnv(t)
		res := runCheck(t, env, antivirusCheck, args)
		if len(res.Findings) != 1 || res.Findings[0].Status != module.StatusError || len(conn.scripts) != 0 {
			t.Errorf("args %v: %+v, scripts %d", args, res.Findings, len(conn.scripts))
		}
	}
}
