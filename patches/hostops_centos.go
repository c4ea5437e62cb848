package patches

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"patrol/checks"
	"patrol/i18n"
	"patrol/transport"
)

// centosOps are the host operations of CentOS (and other systemd Linux)
// hosts, run through sudo when the host sets become.
type centosOps struct{}

func (centosOps) defaultPatchDir() string { return "/var/tmp/patrol-patches" }

func (centosOps) join(elem ...string) string { return path.Join(elem...) }

func (centosOps) makeDir(ctx context.Context, s *hostSession, dir string) error {
	_, err := runChecked(ctx, s, i18n.T("creating the patch folder", "创建补丁目录"),
		transport.Command{Argv: []string{"mkdir", "-p", "-m", "700", "--", dir}, Timeout: time.Minute})
	return err
}

// freeSpaceScript prints df's line for the nearest existing folder of $1,
// because the patch folder may not exist yet.
const freeSpaceScript = `d=$1
while [ ! -e "$d" ]; do d=$(dirname "$d"); done
df -Pk -- "$d"`

func (centosOps) freeBytes(ctx context.Context, s *hostSession, dir string) (int64, error) {
	res, err := runChecked(ctx, s, i18n.T("df", "df"),
		transport.Command{Argv: []string{"/bin/sh", "-c", freeSpaceScript, "sh", dir}, Timeout: time.Minute, Probe: true})
	if err != nil {
		return 0, err
	}
	return parseDFAvailable(res.Stdout)
}

// parseDFAvailable reads the Available column (1024-byte blocks) of the last
// line of `df -Pk` output. -P keeps each file system on one line; the column
// is counted from the end because a file system name may contain spaces.
func parseDFAvailable(out []byte) (int64, error) {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	fields := strings.Fields(lines[len(lines)-1])
	if len(lines) < 2 || len(fields) < 6 {
		return 0, fmt.Errorf("unexpected df output: %q", strings.TrimSpace(string(out)))
	}
	kb, err := strconv.ParseInt(fields[len(fields)-3], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("unexpected df output: available %q is not a number", fields[len(fields)-3])
	}
	return kb * 1024, nil
}

func (centosOps) fileAge(ctx context.Context, s *hostSession, file string) (time.Duration, error) {
	res, err := runChecked(ctx, s, i18n.T("reading the backup marker's time", "读取备份标记文件时间"),
		transport.Command{Argv: []string{"/bin/sh", "-c", `stat -c %Y -- "$1" && date +%s`, "sh", file}, Timeout: time.Minute, Probe: true})
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(res.Stdout))
	if len(f) != 2 {
		return 0, fmt.Errorf("unexpected stat output: %q", strings.TrimSpace(string(res.Stdout)))
	}
	mtime, err1 := strconv.ParseInt(f[0], 10, 64)
	now, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("unexpected stat output: %q", strings.TrimSpace(string(res.Stdout)))
	}
	return time.Duration(now-mtime) * time.Second, nil
}

func (centosOps) serviceStates(ctx context.Context, s *hostSession, names []string) ([]serviceState, error) {
	argv := append([]string{"systemctl", "show", "-p", "Id,LoadState,ActiveState", "--"}, names...)
	res, err := runChecked(ctx, s, i18n.T("systemctl show", "systemctl show"), transport.Command{Argv: argv, Timeout: time.Minute, Probe: true})
	if err != nil {
		return nil, err
	}
	units := checks.ParseSystemctlShow(res.Stdout)
	if len(units) != len(names) {
		return nil, fmt.Errorf("systemctl show on %s printed %d units for %d names", s.host.Name, len(units), len(names))
	}
	// systemctl prints the blocks in the order of the names, and an alias
	// (sshd) under its real Id, so names are matched by position.
	states := make([]serviceState, len(names))
	for i, u := range units {
		state := u.ActiveState
		if u.LoadState == "not-found" {
			state = "not-found"
		}
		states[i] = serviceState{Name: names[i], State: state, Running: u.ActiveState == "active"}
	}
	return states, nil
}

func (centosOps) stopService(ctx context.Context, s *hostSession, name string) error {
	_, err := runChecked(ctx, s, i18n.T("systemctl stop "+name, "systemctl stop "+name),
		transport.Command{Argv: []string{"systemctl", "stop", "--", name}, Timeout: 10 * time.Minute})
	return err
}

func (centosOps) startService(ctx context.Context, s *hostSession, name string) error {
	_, err := runChecked(ctx, s, i18n.T("systemctl start "+name, "systemctl start "+name),
		transport.Command{Argv: []string{"systemctl", "start", "--", name}, Timeout: 10 * time.Minute})
	return err
}

func (centosOps) lock(ctx context.Context, s *hostSession, dir, owner string) (*hostLock, error) {
	return acquireLock(ctx, s.conn, s.become, s.host.Name, dir, owner)
}

func (centosOps) removeDir(ctx context.Context, s *hostSession, dir string) error {
	_, err := runChecked(ctx, s, i18n.T("removing the patch files", "删除补丁文件"),
		transport.Command{Argv: []string{"rm", "-rf", "--", dir}, Timeout: 10 * time.Minute})
	return err
}

// httpStatus runs curl, which CentOS 7 installs by default. -w prints the
// status even when curl fails, as 000 when no response came.
func (centosOps) httpStatus(ctx context.Context, s *hostSession, url string) (int, string, error) {
	res, err := s.run(ctx, transport.Command{
		Argv:    []string{"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "30", "--", url},
		Timeout: time.Minute, Probe: true,
	})
	if err != nil {
		return 0, "", fmt.Errorf("request %s on %s: %w", url, s.host.Name, err)
	}
	if res.ExitCode == 127 {
		return 0, "", &StepError{Text: msg("curl is not installed on %s, so health_url cannot be checked; install curl",
			"%s 上未安装 curl，无法检查 health_url；请安装 curl", s.host.Name)}
	}
	code, _ := strconv.Atoi(strings.TrimSpace(string(res.Stdout)))
	return code, firstLine(res.Stderr), nil
}
