package patches

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"patrol/i18n"
	"patrol/transport"
)

// windowsOps are the host operations of Windows Server hosts, run as
// PowerShell scripts. Paths and names reach the scripts as single-quoted
// literals.
//
// NOTE: these scripts have not run on a real Windows Server 2012 R2 host yet.
type windowsOps struct{}

func (windowsOps) defaultPatchDir() string { return `C:\Windows\Temp\patrol-patches` }

func (windowsOps) join(elem ...string) string {
	parts := make([]string, 0, len(elem))
	for i, e := range elem {
		if i > 0 {
			e = strings.TrimLeft(e, `\/`)
		}
		if i < len(elem)-1 {
			e = strings.TrimRight(e, `\/`)
		}
		if e != "" {
			parts = append(parts, strings.ReplaceAll(e, "/", `\`))
		}
	}
	return strings.Join(parts, `\`)
}

func psScript(lines ...string) transport.Command {
	return transport.Command{Script: "$ErrorActionPreference = 'Stop'\r\n$ProgressPreference = 'SilentlyContinue'\r\n" + strings.Join(lines, "\r\n"), Timeout: 10 * time.Minute}
}

func (windowsOps) makeDir(ctx context.Context, s *hostSession, dir string) error {
	_, err := runChecked(ctx, s, i18n.T("creating the patch folder", "创建补丁目录"),
		psScript("New-Item -ItemType Directory -Force -Path "+psQuote(dir)+" | Out-Null"))
	return err
}

func (windowsOps) freeBytes(ctx context.Context, s *hostSession, dir string) (int64, error) {
	res, err := runChecked(ctx, s, i18n.T("reading free disk space", "读取磁盘剩余空间"), psScript(
		"$root = [System.IO.Path]::GetPathRoot("+psQuote(dir)+")",
		"(New-Object System.IO.DriveInfo($root)).AvailableFreeSpace"))
	if err != nil {
		return 0, err
	}
	n, perr := strconv.ParseInt(strings.TrimSpace(string(res.Stdout)), 10, 64)
	if perr != nil {
		return 0, fmt.Errorf("unexpected free space output on %s: %q", s.host.Name, strings.TrimSpace(string(res.Stdout)))
	}
	return n, nil
}

func (windowsOps) fileAge(ctx context.Context, s *hostSession, file string) (time.Duration, error) {
	res, err := runChecked(ctx, s, i18n.T("reading the backup marker's time", "读取备份标记文件时间"), psScript(
		"$i = Get-Item -LiteralPath "+psQuote(file),
		"[int64]([DateTime]::UtcNow - $i.LastWriteTimeUtc).TotalSeconds"))
	if err != nil {
		return 0, err
	}
	secs, perr := strconv.ParseInt(strings.TrimSpace(string(res.Stdout)), 10, 64)
	if perr != nil {
		return 0, fmt.Errorf("unexpected file age output on %s: %q", s.host.Name, strings.TrimSpace(string(res.Stdout)))
	}
	return time.Duration(secs) * time.Second, nil
}

func (windowsOps) serviceStates(ctx context.Context, s *hostSession, names []string) ([]serviceState, error) {
	lines := make([]string, 0, len(names))
	for _, n := range names {
		lines = append(lines, "$s = Get-Service -Name "+psQuote(n)+" -ErrorAction SilentlyContinue",
			"if ($s) { [string]$s.Status } else { 'NotFound' }")
	}
	res, err := runChecked(ctx, s, i18n.T("Get-Service", "Get-Service"), psScript(lines...))
	if err != nil {
		return nil, err
	}
	out := strings.Fields(string(res.Stdout))
	if len(out) != len(names) {
		return nil, fmt.Errorf("Get-Service on %s printed %d states for %d services", s.host.Name, len(out), len(names))
	}
	states := make([]serviceState, len(names))
	for i, n := range names {
		states[i] = serviceState{Name: n, State: out[i], Running: out[i] == "Running"}
	}
	return states, nil
}

func (windowsOps) stopService(ctx context.Context, s *hostSession, name string) error {
	_, err := runChecked(ctx, s, i18n.T("Stop-Service "+name, "Stop-Service "+name), psScript("Stop-Service -Name "+psQuote(name)+" -Force"))
	return err
}

func (windowsOps) startService(ctx context.Context, s *hostSession, name string) error {
	_, err := runChecked(ctx, s, i18n.T("Start-Service "+name, "Start-Service "+name), psScript("Start-Service -Name "+psQuote(name)))
	return err
}

// lock takes the lease lock of lock_win.go, renewed in the background
// until release.
func (windowsOps) lock(ctx context.Context, s *hostSession, dir, owner string) (*hostLock, error) {
	lease, err := acquireLeaseLock(ctx, s.currentConn, s.r.log, s.host.Name, dir, owner, windowsLockLease)
	if err != nil {
		return nil, err
	}
	return &hostLock{lease: lease}, nil
}

func (windowsOps) removeDir(ctx context.Context, s *hostSession, dir string) error {
	_, err := runChecked(ctx, s, i18n.T("removing the patch files", "删除补丁文件"),
		psScript("Remove-Item -LiteralPath "+psQuote(dir)+" -Recurse -Force"))
	return err
}

// httpStatus uses Invoke-WebRequest of PowerShell 4, which Windows Server
// 2012 R2 ships. A 3xx or error status arrives as an exception that carries
// the response.
func (windowsOps) httpStatus(ctx context.Context, s *hostSession, url string) (int, string, error) {
	res, err := s.run(ctx, psScript(
		"try { $r = Invoke-WebRequest -UseBasicParsing -Uri "+psQuote(url)+" -MaximumRedirection 0 -TimeoutSec 30; [int]$r.StatusCode }",
		"catch { if ($_.Exception.Response) { [int]$_.Exception.Response.StatusCode } else { 'error: ' + $_.Exception.Message } }"))
	if err != nil {
		return 0, "", fmt.Errorf("request %s on %s: %w", url, s.host.Name, err)
	}
	out := strings.TrimSpace(string(res.Stdout))
	if code, err := strconv.Atoi(out); err == nil {
		return code, "", nil
	}
	return 0, strings.TrimPrefix(out, "error: "), nil
}
