package checks

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"patrol/i18n"
	"patrol/module"
	"patrol/transport"
)

// englishWords returns the runs of two or more Latin letters in s that are
// not in allowed: the names a Chinese report keeps (services, commands).
func englishWords(s string, allowed ...string) []string {
	for _, a := range allowed {
		s = strings.ReplaceAll(s, a, "")
	}
	return regexp.MustCompile(`[A-Za-z]{2,}`).FindAllString(s, -1)
}

func TestHTTPConnectionRefusedInChinese(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/"
	ln.Close()

	res := runCheck(t, localEnv(t), httpCheck, module.Args{"url": url})

	f := res.Findings[0]
	if !strings.Contains(f.Message.ZH, "连接被拒绝") {
		t.Errorf("zh = %q, want the refused connection named", f.Message.ZH)
	}
	if words := englishWords(f.Message.ZH, url); len(words) > 0 {
		t.Errorf("zh = %q has English words %q", f.Message.ZH, words)
	}
	if len(f.Evidence) != 1 || !strings.Contains(f.Evidence[0], "connection refused") {
		t.Errorf("evidence = %q, want Go's error", f.Evidence)
	}
}

func TestProbeFailedTimeoutInChinese(t *testing.T) {
	err := fmt.Errorf("run %q: %w", "df -P", fmt.Errorf("host web1: %w (the command was stopped)", transport.ErrTimeout))

	f := probeFailed(diskCheck, "df", "df -P", probeOutput{}, err)

	if f.Message.ZH != "无法执行 df -P：命令超过时限，已被终止" {
		t.Errorf("zh = %q", f.Message.ZH)
	}
	if len(f.Evidence) != 1 || !strings.Contains(f.Evidence[0], "command timed out") {
		t.Errorf("evidence = %q, want the transport's error", f.Evidence)
	}

	out := probeOutput{Stderr: []byte("df: /mnt/nfs: Stale file handle\n"), ExitCode: 1}
	f = probeFailedText(diskCheck, "Win32_LogicalDisk", i18n.T("Win32_LogicalDisk query", "Win32_LogicalDisk 查询"), out, nil)
	if f.Message.ZH != "Win32_LogicalDisk 查询执行失败，退出码 1，错误输出见证据" {
		t.Errorf("zh = %q", f.Message.ZH)
	}
	f = probeFailed(diskCheck, "df", "df -P", out, nil)
	if f.Message.ZH != "df -P 执行失败，退出码 1，错误输出见证据" {
		t.Errorf("command: zh = %q", f.Message.ZH)
	}
}

func TestFileAgeThresholdText(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	listing := fileListing{Now: now, Files: []FileStat{{Name: "full.dmp", MTime: now.Add(-time.Hour), Size: 1 << 20}}}

	f := evaluateFileAge(listing, fileAgeOptions{Glob: "/backup/*.dmp", MaxAge: 26 * time.Hour})[0]

	if want := i18n.T("fail: age ≥1d 2h", "不合格：距今 ≥1 天 2 小时"); f.Threshold != want {
		t.Errorf("threshold = %+v, want %+v", f.Threshold, want)
	}
}

func TestAntivirusThresholdText(t *testing.T) {
	sig := Signature{Found: true, Date: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), Now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}

	f := EvaluateSignature(SignatureSource{Defender: true}, sig, 7*24*time.Hour, 14*24*time.Hour)

	if want := i18n.T("warn: age ≥7d, fail: age ≥14d", "警告：距今 ≥7 天，不合格：距今 ≥14 天"); f.Threshold != want {
		t.Errorf("threshold = %+v, want %+v", f.Threshold, want)
	}
}

func TestEventLogThresholdSingular(t *testing.T) {
	req, err := eventLogRequestFrom(module.Args{"warn": 1, "fail": 2})
	if err != nil {
		t.Fatal(err)
	}

	if want := i18n.T("warn ≥1 event, fail ≥2 events", "警告 ≥1 个事件，不合格 ≥2 个事件"); req.Threshold.Text() != want {
		t.Errorf("threshold = %+v, want %+v", req.Threshold.Text(), want)
	}
}

// Times from probes that print UTC are shown in the client's zone, UTC+8,
// the zone the report header names.
func TestFindingTimesInClientZone(t *testing.T) {
	lastRun := time.Date(2020, 5, 31, 18, 0, 0, 0, time.UTC)
	task := SchedTask{Requested: "OracleFull", Found: true, Path: `\Backup\OracleFull`, State: "Ready", Enabled: true,
		LastRun: lastRun, NextRun: lastRun.Add(24 * time.Hour)}
	f := EvaluateSchedTask(task, 0, lastRun.Add(time.Hour))
	if !strings.Contains(f.Value.ZH, "上次运行 2020-06-01 02:00:00") || strings.Contains(f.Message.ZH, "Z") {
		t.Errorf("scheduled task: value %q, message %q", f.Value.ZH, f.Message.ZH)
	}

	up := Uptime{Boot: time.Date(2020, 6, 1, 0, 59, 20, 0, time.UTC), Uptime: time.Hour}
	if f := EvaluateUptime(up, 24*time.Hour, 0); !strings.Contains(f.Message.ZH, "启动于 2020-06-01 08:59:20") {
		t.Errorf("uptime: message %q", f.Message.ZH)
	}

	sig := Signature{Found: true, Date: time.Date(2020, 5, 31, 18, 0, 0, 0, time.UTC), Now: time.Date(2020, 6, 2, 0, 0, 0, 0, time.UTC)}
	if f := EvaluateSignature(SignatureSource{Defender: true}, sig, 7*24*time.Hour, 0); !strings.HasPrefix(f.Value.ZH, "2020-06-01 02:00:00（") {
		t.Errorf("antivirus: value %q", f.Value.ZH)
	}

	read := EventLogRead{Log: "System", Events: []WinEvent{{Log: "System", Time: lastRun, Level: 2, Provider: "Disk", ID: 7, Message: "bad block"}}}
	req := eventLogRequest{Window: 24 * time.Hour, FirstWindow: 24 * time.Hour, MaxLevel: 2, MaxExcerpts: 5, MaxEvents: 500, Threshold: HigherIsWorse(1, Off, "")}
	ev := EvaluateEventLog(req, read, 0, false)
	if last := ev.Evidence[len(ev.Evidence)-1]; !strings.HasPrefix(last, "2020-06-01 02:00:00 ") {
		t.Errorf("event evidence %q", last)
	}

	cert := certFinding("https://127.0.0.1/", tlsLeaf{Subject: "CN=x", NotAfter: time.Date(2026, 12, 31, 20, 0, 0, 0, time.UTC)},
		daysLeftThreshold(30, 7), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if !strings.Contains(cert.Message.ZH, "于 2027-01-01 到期") {
		t.Errorf("certificate: message %q", cert.Message.ZH)
	}
}

func TestWindowsStatesInChinese(t *testing.T) {
	stopped := WinService{Name: "OracleServiceORCL", State: "Stopped", StartMode: "Auto"}

	f := winServiceFinding(stopped, true)
	if f.Value.ZH != "已停止（Stopped），启动类型 自动（Auto）" {
		t.Errorf("value = %q", f.Value.ZH)
	}
	if f.Threshold.ZH != "正在运行，启动类型为自动" {
		t.Errorf("threshold = %q", f.Threshold.ZH)
	}
	if words := englishWords(f.Message.ZH, stopped.Name, "Start-Service"); len(words) > 0 {
		t.Errorf("message %q has English words %q", f.Message.ZH, words)
	}

	auto := EvaluateStoppedAutoServices([]WinService{{Name: "W32Time", State: "Start Pending", StartMode: "Auto"}}, nil)
	if auto[0].Value.ZH != "正在启动（Start Pending），启动类型 自动（Auto）" || !strings.Contains(auto[0].Message.ZH, "状态为正在启动") {
		t.Errorf("start pending = %q, %q", auto[0].Value.ZH, auto[0].Message.ZH)
	}

	sites := evaluateIISObjects([]IISObject{{"OA", "Stopped"}}, nil, iisSiteKind)
	if sites[0].Threshold.ZH != "已启动" || sites[0].Value.ZH != "已停止（Stopped）" || !strings.Contains(sites[0].Message.ZH, "状态为已停止") {
		t.Errorf("IIS site = %q, %q, %q", sites[0].Threshold.ZH, sites[0].Value.ZH, sites[0].Message.ZH)
	}

	profiles := EvaluateFirewallProfiles([]FirewallProfile{{"Domain", "True"}, {"Private", "True"}, {"Public", "False"}})
	public := profiles[2]
	if !strings.Contains(public.Message.ZH, "Windows 防火墙公用配置文件未启用") || strings.Contains(public.Message.ZH, "Public 配置文件") {
		t.Errorf("public profile = %q", public.Message.ZH)
	}
	if profiles[0].Message.ZH != "Windows 防火墙域配置文件已启用" {
		t.Errorf("domain profile = %q", profiles[0].Message.ZH)
	}
}
