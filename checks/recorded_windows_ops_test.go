package checks

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"patrol/module"
	"patrol/transport/winrmconn"
)

// Tests on w32tm and appcmd output that people recorded on real Windows hosts
// and published. testdata/README.md names the source of each public-* file.

type recordedInput struct {
	name string
	out  []byte
}

// recordedInputs returns the recording as stored (UTF-8) and, when it holds
// Chinese text, as a cmd.exe tool on a zh-CN host sends it: encoded in code
// page 936 (GBK) and decoded the way the WinRM transport decodes output.
func recordedInputs(t *testing.T, file string) []recordedInput {
	t.Helper()
	stored := readTestdata(t, file)
	inputs := []recordedInput{{"utf8", stored}}
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes(stored)
	if err != nil {
		t.Fatalf("%s: encode as GBK: %v", file, err)
	}
	if !bytes.Equal(gbk, stored) {
		inputs = append(inputs, recordedInput{"gbk", []byte(winrmconn.DecodeOutput(gbk, false))})
	}
	return inputs
}

func TestParseW32tmStatusPublicChinese(t *testing.T) {
	tests := []struct {
		file           string
		leap           int
		stratum        int
		dispersion     time.Duration
		source         string
		lastSyncRaw    string
		lastSyncKnown  bool
		lastSync       time.Time
		wantStatus     module.Status
		messageContain string
		chinese        bool
	}{
		{
			// zh-CN host synced from a LAN router, May 2024.
			file: "public-zh-w32tm-status-synced.txt", leap: 0, stratum: 3,
			dispersion: 7764753400 * time.Nanosecond, source: "10.53.21.1",
			lastSyncRaw: "2024/5/18 19:24:32", lastSyncKnown: true,
			lastSync:   time.Date(2024, time.May, 18, 19, 24, 32, 0, time.UTC),
			wantStatus: module.StatusOK, messageContain: "10.53.21.1", chinese: true,
		},
		{
			// Windows 11 zh-CN host whose W32Time never synced.
			file: "public-zh-w32tm-status-unsynced.txt", leap: 3, stratum: 0,
			dispersion: 0, source: "Local CMOS Clock",
			lastSyncRaw: "未指定", lastSyncKnown: false,
			wantStatus: module.StatusFail, messageContain: "Local CMOS Clock", chinese: true,
		},
	}
	for _, tt := range tests {
		inputs := recordedInputs(t, tt.file)
		if tt.chinese && len(inputs) != 2 {
			t.Fatalf("%s: no GBK variant, so the Chinese decoding path is not exercised", tt.file)
		}
		for _, input := range inputs {
			t.Run(tt.file+" "+input.name, func(t *testing.T) {
				s := ParseW32tmStatus(input.out, "yyyy/M/d")
				if !s.LeapKnown || s.Leap != tt.leap {
					t.Errorf("leap = %d (known %t), want %d", s.Leap, s.LeapKnown, tt.leap)
				}
				if !s.StratumKnown || s.Stratum != tt.stratum {
					t.Errorf("stratum = %d (known %t), want %d", s.Stratum, s.StratumKnown, tt.stratum)
				}
				if s.RootDispersion != tt.dispersion {
					t.Errorf("root dispersion = %v, want %v", s.RootDispersion, tt.dispersion)
				}
				if s.Source != tt.source {
					t.Errorf("source = %q, want %q", s.Source, tt.source)
				}
				if s.LastSyncRaw != tt.lastSyncRaw {
					t.Errorf("last sync raw = %q, want %q", s.LastSyncRaw, tt.lastSyncRaw)
				}
				if s.LastSyncKnown != tt.lastSyncKnown || !s.LastSync.Equal(tt.lastSync) {
					t.Errorf("last sync = %v (known %t), want %v (known %t)", s.LastSync, s.LastSyncKnown, tt.lastSync, tt.lastSyncKnown)
				}
				if s.ErrorCode != "" {
					t.Errorf("error code = %q, want none", s.ErrorCode)
				}

				// The same w32tm text behind the header patrol's time probe
				// prints, with the host clock 30 minutes after the sync.
				header := "Culture=zh-CN\r\nShortDatePattern=yyyy/M/d\r\nLongTimePattern=H:mm:ss\r\n" +
					"LocalTime=2024-05-18T19:54:32+08:00\r\nW32TimeService=Running\r\nExitCode=0\r\n#w32tm\r\n"
				p := ParseTimeProbe(append([]byte(header), input.out...))
				if len(p.Lines) != 9 {
					t.Errorf("evidence lines = %d, want the 9 lines w32tm printed", len(p.Lines))
				}
				f := JudgeW32tm(p, 8*24*time.Hour)
				if f.Status != tt.wantStatus {
					t.Errorf("status = %s, want %s: %s", f.Status, tt.wantStatus, f.Message.EN)
				}
				if !strings.Contains(f.Message.EN, tt.messageContain) || !strings.Contains(f.Message.ZH, tt.messageContain) {
					t.Errorf("message %q / %q does not name %q", f.Message.EN, f.Message.ZH, tt.messageContain)
				}
				if tt.lastSyncKnown {
					if age := f.Metrics["last_sync_age_seconds"]; age != 30*60 {
						t.Errorf("last sync age = %vs, want 1800s", age)
					}
				}
			})
		}
	}
}

func TestParseAppcmdListPublic(t *testing.T) {
	tests := []struct {
		file    string
		tag     string
		count   int
		chinese bool
		// want lists objects that must appear, at their index in the result.
		want map[int]IISObject
	}{
		{
			// Site names in Chinese (Traditional), three sites stopped.
			file: "public-zhtw-iis-appcmd-list-sites.txt", tag: "SITE", count: 11, chinese: true,
			want: map[int]IISObject{
				0:  {Name: "Default Web Site", State: "Started"},
				1:  {Name: "轉學考新版2012_transs", State: "Stopped"},
				3:  {Name: "綜合業務組trans", State: "Stopped"},
				8:  {Name: "二技招生apply5", State: "Stopped"},
				9:  {Name: "研教組gsee", State: "Started"},
				10: {Name: "四技申請入學highschool8", State: "Started"},
			},
		},
		{
			// Every pool in state Unknown, some with an empty MgdVersion.
			file: "public-iis-appcmd-list-apppools-unknown.txt", tag: "APPPOOL", count: 11,
			want: map[int]IISObject{
				0:  {Name: "DefaultAppPool", State: "Unknown"},
				1:  {Name: "Classic .NET AppPool", State: "Unknown"},
				5:  {Name: ".NET v4.5", State: "Unknown"},
				10: {Name: "anon.WebServices.anon.ComplianceFormCalculation", State: "Unknown"},
			},
		},
	}
	for _, tt := range tests {
		inputs := recordedInputs(t, tt.file)
		if tt.chinese && len(inputs) != 2 {
			t.Fatalf("%s: no GBK variant, so the Chinese decoding path is not exercised", tt.file)
		}
		for _, input := range inputs {
			t.Run(tt.file+" "+input.name, func(t *testing.T) {
				objs, err := ParseAppcmdList(input.out, tt.tag)
				if err != nil {
					t.Fatal(err)
				}
				if len(objs) != tt.count {
					t.Fatalf("got %d objects, want %d: %+v", len(objs), tt.count, objs)
				}
				for i, want := range tt.want {
					if objs[i] != want {
						t.Errorf("object %d = %+v, want %+v", i, objs[i], want)
					}
				}
			})
		}
	}
}

// appcmdProbe wraps recorded appcmd listings in the output of patrol's IIS
// probe when it falls back to appcmd. The two listings come from different
// hosts, which the parser cannot tell.
func appcmdProbe(sites, pools []byte) []byte {
	var b bytes.Buffer
	b.WriteString("W3SVC=Running\r\nSource=appcmd\r\n--- sites\r\n")
	b.Write(sites)
	b.WriteString("--- apppools\r\n")
	b.Write(pools)
	return b.Bytes()
}

func TestIISProbeAppcmdPublic(t *testing.T) {
	sites := readTestdata(t, "public-zhtw-iis-appcmd-list-sites.txt")
	pools := readTestdata(t, "public-iis-appcmd-list-apppools-unknown.txt")
	inv, err := ParseIISProbe(appcmdProbe(sites, pools))
	if err != nil {
		t.Fatal(err)
	}
	if inv.Source != "appcmd" || len(inv.Sites) != 11 || len(inv.AppPools) != 11 {
		t.Fatalf("inventory = %+v", inv)
	}

	findings := EvaluateIIS(inv, []string{"Default Web Site", "進修部SHUKY_CEE", "轉學考新版2012_transs"}, []string{"DefaultAppPool"})
	want := []struct {
		item   string
		status module.Status
	}{
		{"site Default Web Site", module.StatusOK},
		// IIS names are compared without regard to case.
		{"site 進修部SHUKY_CEE", module.StatusOK},
		{"site 轉學考新版2012_transs", module.StatusFail},
		{"app pool DefaultAppPool", module.StatusFail},
	}
	if len(findings) != len(want) {
		t.Fatalf("got %d findings, want %d: %+v", len(findings), len(want), findings)
	}
	for i, w := range want {
		if findings[i].Item != w.item || findings[i].Status != w.status {
			t.Errorf("finding %d = %s %s, want %s %s", i, findings[i].Item, findings[i].Status, w.item, w.status)
		}
	}
	if got := findings[3].Value.EN; got != "Unknown" {
		t.Errorf("pool value = %q, want Unknown", got)
	}

	// With nothing listed every site and pool is judged: 3 stopped sites and
	// 11 pools in state Unknown fail.
	failed := 0
	for _, f := range EvaluateIIS(inv, nil, nil) {
		if f.Status == module.StatusFail {
			failed++
		}
	}
	if failed != 14 {
		t.Errorf("failed findings = %d, want 14", failed)
	}

	// The same output replayed as the host's answer to the probe script.
	env, conn := windowsEnv(t)
	conn.replies = []replay{{"appcmd list apppool", appcmdProbe(sites, pools)}}
	res := runCheck(t, env, iisCheck, module.Args{"sites": []any{"綜合業務組trans"}, "app_pools": []any{".NET v4.5"}})
	var got []string
	for _, f := range res.Findings {
		got = append(got, f.Item+" "+string(f.Status))
	}
	if want := "site 綜合業務組trans fail; app pool .NET v4.5 fail"; strings.Join(got, "; ") != want {
		t.Errorf("findings %q, want %q", strings.Join(got, "; "), want)
	}
}

// appcmd prints an ERROR block instead of a listing when it cannot build
// one. That must not read as a host with no sites.
func TestIISProbeAppcmdErrorPublic(t *testing.T) {
	errorOut := readTestdata(t, "public-iis-appcmd-list-site-error.txt")
	pools := readTestdata(t, "public-iis-appcmd-list-apppools-unknown.txt")
	inv, err := ParseIISProbe(appcmdProbe(errorOut, pools))
	if err == nil {
		t.Fatalf("appcmd ERROR output parsed without error: %+v", inv)
	}
	for _, part := range []string{"sites", "line 1", "hresult:8007007a"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %q", err, part)
		}
	}

	if _, err := ParseAppcmdList(errorOut, "SITE"); err == nil {
		t.Error("ParseAppcmdList read the ERROR block as a listing")
	}

	// Through the whole check, the host is reported as an error, not as
	// one that passes with no sites.
	env, conn := windowsEnv(t)
	conn.replies = []replay{{"W3SVC", appcmdProbe(errorOut, pools)}}
	res := runCheck(t, env, iisCheck, module.Args{})
	if len(res.Findings) != 1 || res.Findings[0].Status != module.StatusError {
		t.Errorf("findings = %+v, want one error", res.Findings)
	}
}
