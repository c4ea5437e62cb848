package patches

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"patrol/i18n"
	"patrol/inventory"
	"patrol/transport"
)

// hostOps are the operating-system specific commands of an apply run around
// the installer: the patch folder, free space, file age, services and the
// host lock. centosOps and windowsOps implement them.
type hostOps interface {
	// defaultPatchDir is the folder patch files are copied to when the host
	// variable patch_dir is not set.
	defaultPatchDir() string
	// join joins path elements with the host's separator.
	join(elem ...string) string
	// makeDir creates a folder (and its parents) that only administrators
	// can read.
	makeDir(ctx context.Context, s *hostSession, dir string) error
	// freeBytes returns the space free for an unprivileged write in the file
	// system that holds dir, or would hold it once created.
	freeBytes(ctx context.Context, s *hostSession, dir string) (int64, error)
	// fileAge returns how long ago file was last modified, by the host's
	// clock.
	fileAge(ctx context.Context, s *hostSession, file string) (time.Duration, error)
	// serviceStates returns each service's state and whether it runs.
	serviceStates(ctx context.Context, s *hostSession, names []string) ([]serviceState, error)
	// stopService and startService change one service and wait for it.
	stopService(ctx context.Context, s *hostSession, name string) error
	startService(ctx context.Context, s *hostSession, name string) error
	// lock takes the apply lock in dir; see acquireLock.
	lock(ctx context.Context, s *hostSession, dir, owner string) (*hostLock, error)
	// removeDir deletes a folder and everything in it.
	removeDir(ctx context.Context, s *hostSession, dir string) error
	// httpStatus requests url on the host without following redirects and
	// returns the status code, or 0 and the reason when no response came.
	httpStatus(ctx context.Context, s *hostSession, url string) (int, string, error)
}

// serviceState is one service as the host reports it.
type serviceState struct {
	Name string
	// State is the host's word for it: systemd's ActiveState (active,
	// inactive, failed) or a Windows service status (Running, Stopped).
	State   string
	Running bool
}

// opsFor picks the host operations by the host's operating system.
func opsFor(h *inventory.Host) hostOps {
	if h.IsWindows() {
		return windowsOps{}
	}
	return centosOps{}
}

// runChecked runs cmd and turns a non-zero exit status into a *StepError that
// carries the output.
func runChecked(ctx context.Context, s *hostSession, what i18n.Text, cmd transport.Command) (transport.Result, error) {
	res, err := s.run(ctx, cmd)
	if err != nil {
		return res, fmt.Errorf("%s on %s: %w", what.EN, s.host.Name, err)
	}
	if res.ExitCode != 0 {
		line := firstLine(append(slices.Clone(res.Stderr), res.Stdout...))
		return res, &StepError{RC: res.ExitCode, Output: trimOutput(res.Stdout, res.Stderr), Text: i18n.T(
			fmt.Sprintf("%s on %s exited with %d: %s", what.EN, s.host.Name, res.ExitCode, line),
			fmt.Sprintf("%s在 %s 上以退出码 %d 结束：%s", what.ZH, s.host.Name, res.ExitCode, line))}
	}
	return res, nil
}

// statRepoFile returns the size of a repository file.
func statRepoFile(cat *Catalog, f File) (int64, error) {
	info, err := os.Stat(cat.FilePath(f))
	if err != nil {
		return 0, &StepError{Text: msg("patch file %s is missing from the repository (%v); import the patch again with patrol patch import",
			"仓库中缺少补丁文件 %s（%v）；请用 patrol patch import 重新导入", cat.FilePath(f), err)}
	}
	return info.Size(), nil
}
