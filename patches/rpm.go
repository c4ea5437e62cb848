package patches

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"patrol/i18n"
	"patrol/transport"
)

// RPM installs CentOS patches with rpm (method rpm) or yum from local files
// (method yum, with every repository disabled because the hosts are offline).
// CentOS repositories carry no severity metadata, so severity always comes from
// the catalog, never from yum.
type RPM struct{}

// rpmQueryFormat prints one installed package per line with tab-separated
// fields. %{EPOCH} is "(none)" for packages without an epoch.
const rpmQueryFormat = `%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{INSTALLTIME}\n`

// rpmArgs returns the rpm command with the host's rpm_root, which points rpm
// at another root folder (a chroot image) instead of /.
func rpmArgs(t Target, args ...string) []string {
	argv := []string{"rpm"}
	if root, ok := t.Host.Vars["rpm_root"].(string); ok && root != "" {
		argv = append(argv, "--root", root)
	}
	return append(argv, args...)
}

// Query lists the installed packages with rpm -qa.
func (RPM) Query(ctx context.Context, t Target) (*Installed, error) {
	res, err := t.Conn.Run(ctx, transport.Command{Argv: rpmArgs(t, "-qa", "--qf", rpmQueryFormat), Become: t.Become, Timeout: 5 * time.Minute})
	if err != nil {
		return nil, fmt.Errorf("query installed packages on %s: %w", t.Host.Name, err)
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("query installed packages on %s: rpm -qa exited with %d: %s", t.Host.Name, res.ExitCode, firstLine(res.Stderr))
	}
	pkgs, err := ParseRPMQuery(res.Stdout)
	if err != nil {
		return nil, fmt.Errorf("query installed packages on %s: %w", t.Host.Name, err)
	}
	return &Installed{Packages: pkgs, Queried: []string{"rpm"}}, nil
}

// ParseRPMQuery parses the output of rpm -qa --qf rpmQueryFormat.
func ParseRPMQuery(out []byte) (map[string][]Package, error) {
	pkgs := map[string][]Package{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 6 {
			return nil, fmt.Errorf("rpm output line %d has %d fields, want 6: %q", n, len(f), line)
		}
		secs, err := strconv.ParseInt(f[5], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("rpm output line %d: install time %q is not a number", n, f[5])
		}
		pkgs[f[0]] = append(pkgs[f[0]], Package{NEVRA: nevra(f[0], f[1], f[2], f[3], f[4]), InstalledAt: time.Unix(secs, 0)})
	}
	return pkgs, sc.Err()
}

func nevra(name, epoch, version, release, arch string) string {
	evr := version + "-" + release
	if epoch != "" && epoch != "(none)" && epoch != "0" {
		evr = epoch + ":" + evr
	}
	return name + "-" + evr + "." + arch
}

// nevraPattern splits name-[epoch:]version-release.arch. The name may contain
// dashes, so version and release are the last two dash-separated parts.
var nevraPattern = regexp.MustCompile(`^(.+)-(?:(\d+):)?([^-:]+)-([^-]+)\.([^.]+)$`)

// NormalizeNEVRA drops a zero epoch so that catalog and rpm spellings compare
// equal, and returns the package name.
func NormalizeNEVRA(s string) (name, normalized string, ok bool) {
	m := nevraPattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return "", "", false
	}
	return m[1], nevra(m[1], m[2], m[3], m[4], m[5]), true
}

// Install runs rpm -Uvh, or for method yum the command of yumInstallArgv, on
// the copied files.
func (RPM) Install(ctx context.Context, t Target, p *Patch, remote []string) (Outcome, error) {
	argv := rpmArgs(t, append([]string{"-Uvh"}, remote...)...)
	if p.Method == MethodYum {
		argv = yumInstallArgv(remote)
	}
	res, err := t.Conn.Run(ctx, transport.Command{Argv: argv, Become: t.Become, Timeout: 30 * time.Minute})
	if err != nil {
		return Outcome{}, fmt.Errorf("install %s on %s: %w", p.ID, t.Host.Name, err)
	}
	if p.Method == MethodYum {
		return classifyYum(p, t, remote, res)
	}
	return classifyRPM(p, t, Outcome{ExitCode: res.ExitCode, Output: trimOutput(res.Stdout, res.Stderr)})
}

// rpmAlreadyInstalled matches rpm's message for a package already in place.
var rpmAlreadyInstalled = regexp.MustCompile(`(?m)^\s*package (\S+) is already installed\s*$`)

// classifyRPM reads rpm -U's result. rpm exits with the number of packages
// that failed, or with 2 or more when the transaction did not start. When it
// reports "is already installed" for every package, there was nothing to do.
func classifyRPM(p *Patch, t Target, out Outcome) (Outcome, error) {
	if out.ExitCode == 0 {
		return out, nil
	}
	already := rpmAlreadyInstalled.FindAllStringSubmatch(out.Output, -1)
	if len(already) > 0 && len(already) >= len(p.Files) && !strings.Contains(out.Output, "error:") {
		out.AlreadyInstalled = true
		return out, nil
	}
	detail := rpmErrorLine(out.Output)
	return out, &InstallError{Host: t.Host.Name, Patch: p.ID, ExitCode: out.ExitCode, Output: out.Output,
		Text: i18n.T(
			fmt.Sprintf("rpm failed to install %s on %s (exit code %d): %s", p.ID, t.Host.Name, out.ExitCode, detail),
			fmt.Sprintf("rpm 在 %s 上安装 %s 失败（退出码 %d）：%s", t.Host.Name, p.ID, out.ExitCode, detail))}
}

// rpmErrorLine returns the first "error:" line of rpm's output, which names
// the cause (a failed scriptlet, a conflict, a missing dependency), else the
// first line.
func rpmErrorLine(output string) string {
	for _, line := range strings.Split(output, "\n") {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, "error:") {
			return line
		}
	}
	return firstLine([]byte(output))
}

// Rollback erases the packages the patch added and puts back, from the copied
// rollback files, the versions it upgraded.
func (r RPM) Rollback(ctx context.Context, t Target, p *Patch, before *Installed, rollbackFiles []string) (Outcome, error) {
	var erase []string
	var restore []string
	for _, want := range p.Verify.Packages {
		name, _, ok := NormalizeNEVRA(want)
		if !ok {
			continue
		}
		old := before.Packages[name]
		if len(old) == 0 {
			erase = append(erase, name)
			continue
		}
		for _, o := range old {
			restore = append(restore, o.NEVRA)
		}
	}

	files, err := r.rollbackFilesFor(ctx, t, restore, rollbackFiles)
	if err != nil {
		return Outcome{}, err
	}

	var outs []string
	if len(files) > 0 {
		argv := rpmArgs(t, append([]string{"-Uvh", "--oldpackage", "--replacepkgs"}, files...)...)
		res, err := t.Conn.Run(ctx, transport.Command{Argv: argv, Become: t.Become, Timeout: 30 * time.Minute})
		if err != nil {
			return Outcome{}, fmt.Errorf("roll back %s on %s: %w", p.ID, t.Host.Name, err)
		}
		outs = append(outs, trimOutput(res.Stdout, res.Stderr))
		if res.ExitCode != 0 {
			return Outcome{ExitCode: res.ExitCode, Output: strings.Join(outs, "\n")}, fmt.Errorf("roll back %s on %s: rpm -U --oldpackage exited with %d: %s", p.ID, t.Host.Name, res.ExitCode, firstLine(res.Stderr))
		}
	}
	// An install that failed part way may not have added every package, and
	// rpm -e fails on a package that is not installed.
	erase, err = installedNames(ctx, t, erase)
	if err != nil {
		return Outcome{Output: strings.Join(outs, "\n")}, fmt.Errorf("roll back %s on %s: %w", p.ID, t.Host.Name, err)
	}
	if len(erase) > 0 {
		res, err := t.Conn.Run(ctx, transport.Command{Argv: rpmArgs(t, append([]string{"-e"}, erase...)...), Become: t.Become, Timeout: 30 * time.Minute})
		if err != nil {
			return Outcome{}, fmt.Errorf("roll back %s on %s: %w", p.ID, t.Host.Name, err)
		}
		outs = append(outs, trimOutput(res.Stdout, res.Stderr))
		if res.ExitCode != 0 {
			return Outcome{ExitCode: res.ExitCode, Output: strings.Join(outs, "\n")}, fmt.Errorf("roll back %s on %s: rpm -e exited with %d: %s", p.ID, t.Host.Name, res.ExitCode, firstLine(res.Stderr))
		}
	}
	return Outcome{Output: strings.Join(outs, "\n")}, nil
}

// installedNames returns the names among names that the host has
// installed. rpm -q prints a name per installed package and "package NAME is
// not installed" for the others, and exits non-zero when any is missing.
func installedNames(ctx context.Context, t Target, names []string) ([]string, error) {
	if len(names) == 0 {
		return nil, nil
	}
	res, err := t.Conn.Run(ctx, transport.Command{Argv: rpmArgs(t, append([]string{"-q", "--qf", `%{NAME}\n`}, names...)...), Become: t.Become, Timeout: 5 * time.Minute, Probe: true})
	if err != nil {
		return nil, fmt.Errorf("query packages to erase: %w", err)
	}
	var out []string
	for _, line := range strings.Split(string(res.Stdout), "\n") {
		if name := strings.TrimSpace(line); slices.Contains(names, name) && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out, nil
}

// rollbackFilesFor picks, among the copied rollback files, the one for each
// NEVRA to restore, reading the files' headers on the host.
func (RPM) rollbackFilesFor(ctx context.Context, t Target, restore, files []string) ([]string, error) {
	if len(restore) == 0 {
		return nil, nil
	}
	have := map[string]string{}
	if len(files) > 0 {
		argv := rpmArgs(t, append([]string{"-qp", "--qf", `%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\n`}, files...)...)
		res, err := t.Conn.Run(ctx, transport.Command{Argv: argv, Become: t.Become, Timeout: 5 * time.Minute})
		if err != nil {
			return nil, fmt.Errorf("read rollback packages on %s: %w", t.Host.Name, err)
		}
		lines := strings.Split(strings.TrimSpace(string(res.Stdout)), "\n")
		for i, line := range lines {
			f := strings.Split(strings.TrimSpace(line), "\t")
			if len(f) == 5 && i < len(files) {
				have[nevra(f[0], f[1], f[2], f[3], f[4])] = files[i]
			}
		}
	}
	var out []string
	var missing []string
	for _, n := range restore {
		if f, ok := have[n]; ok {
			out = append(out, f)
		} else {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, &InstallError{Host: t.Host.Name, Text: i18n.T(
			fmt.Sprintf("cannot roll back on %s: no rollback file for %s; add the older packages to the patch's rollback.files in the catalog", t.Host.Name, strings.Join(missing, ", ")),
			fmt.Sprintf("无法在 %s 上回退：缺少 %s 的回退文件；请在补丁台账中该补丁的 rollback.files 里加入旧版本软件包", t.Host.Name, strings.Join(missing, ", ")))}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// InstallError is a failed install or rollback, with the installer's output.
type InstallError struct {
	Host     string
	Patch    string
	ExitCode int
	Output   string
	Text     i18n.Text
}

func (e *InstallError) Error() string { return e.Text.EN }

// Message returns the error in both languages.
func (e *InstallError) Message() i18n.Text { return e.Text }

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimSpace(s)
}

// trimOutput joins stdout and stderr and keeps at most the last 8 KiB, which is
// where installers print their verdict.
func trimOutput(stdout, stderr []byte) string {
	s := strings.TrimSpace(string(stdout))
	if e := strings.TrimSpace(string(stderr)); e != "" {
		s = strings.TrimSpace(s + "\n" + e)
	}
	const limit = 8 << 10
	if len(s) > limit {
		s = "…" + s[len(s)-limit:]
	}
	return s
}
