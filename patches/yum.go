package patches

import (
	"fmt"
	"strings"

	"patrol/i18n"
	"patrol/transport"
)

// The yum parts of the RPM installer. The hosts run CentOS 7, whose yum is
// 3.4.3. The messages matched below are that version's English ones (the
// transport sets LC_ALL=C), as printed by cli.py and yummain.py of yum
// 3.4.3 and seen in the recordings of testdata/yum.

// yumInstallArgv returns the command that installs the copied files with
// yum on an offline host:
//
//   - -y answers yum's questions with yes.
//   - -d 2 is yum's default debug level, set because the lines that
//     classifyYum reads ("Complete!", "Nothing to do", "does not update
//     installed package.") print only at level 2 or more and a host's
//     yum.conf may set a lower one.
//   - --disablerepo=* keeps yum from contacting repositories the offline
//     hosts cannot reach.
//   - --setopt=exit_on_lock=1 makes yum exit at once with "Existing lock …"
//     when another yum or PackageKit holds its lock. By default yum waits
//     for the lock with no limit, and the install step would run into its
//     timeout.
//
// There is no --nogpgcheck. yum checks the signature of a local package
// only when yum.conf sets localpkg_gpgcheck=1 (the default is 0), and a
// host that sets it keeps its policy. classifyYum names the setting when
// yum rejects a package.
func yumInstallArgv(remote []string) []string {
	return append([]string{"yum", "-y", "-d", "2", "--disablerepo=*", "--setopt=exit_on_lock=1", "localinstall"}, remote...)
}

// yumUnchangedSuffix ends the line yum prints for a file whose package is
// installed in the same or a newer version.
const yumUnchangedSuffix = ": does not update installed package."

// classifyYum reads the result of the yumInstallArgv command. remote are
// the files it installed.
//
// Exit code 0 alone does not mean installed: yum localinstall also exits 0
// with "Nothing to do" when it skipped every file, for example one it could
// not open. So the patch counts as installed after "Complete!", and as
// already installed when yum found nothing to do and printed "does not
// update installed package." for every file. The same holds for exit code 1
// with "Error: Nothing to do", which `yum install FILE` prints instead. That
// line also appears when a newer version is installed, and the verify step
// that follows compares the exact versions.
// Every other result is an *InstallError with yum's first line about the
// cause and the next step to take. Exit code 100 is the status of yum
// check-update; yum localinstall never returns it, so it is an error too.
func classifyYum(p *Patch, t Target, remote []string, res transport.Result) (Outcome, error) {
	out := Outcome{ExitCode: res.ExitCode, Output: trimOutput(res.Stdout, res.Stderr)}
	// Classify on the whole output: trimOutput keeps only its end, which
	// may have lost the first lines of a patch with many files.
	lines := nonEmptyLines(string(res.Stdout) + "\n" + string(res.Stderr))

	verdict := yumNothingToDo(res.ExitCode, lines)
	switch {
	case res.ExitCode == 0 && hasLine(lines, "Complete!"):
		return out, nil
	case verdict != "" && len(remote) > 0 && yumUnchanged(lines) >= len(remote) && yumCause(lines).detail.EN == "":
		out.AlreadyInstalled = true
		return out, nil
	}
	return out, yumFailure(p, t, remote, res.ExitCode, out.Output, lines, verdict)
}

// yumNothingToDo returns the line with which yum reported that it changed
// nothing, or "" when it did not.
func yumNothingToDo(exitCode int, lines []string) string {
	switch {
	case exitCode == 0 && hasLine(lines, "Nothing to do"):
		return "Nothing to do"
	case exitCode == 1 && hasLine(lines, "Error: Nothing to do"):
		return "Error: Nothing to do"
	}
	return ""
}

// yumUnchanged counts the distinct files that yum reported as not updating
// an installed package. yum prints each file as it was given, so on a real
// run the lines name the remote paths. The recordings name other paths, and
// counting reads them the same way.
func yumUnchanged(lines []string) int {
	seen := map[string]bool{}
	for _, line := range lines {
		if file, ok := strings.CutSuffix(line, yumUnchangedSuffix); ok {
			seen[file] = true
		}
	}
	return len(seen)
}

// yumDiagnosis is the explanation of a failure in the error message: yum's
// line about the cause, an optional count of further problems, and the next
// step.
type yumDiagnosis struct {
	detail i18n.Text
	more   i18n.Text
	hint   i18n.Text
}

// yumFailure builds the error for a result that is neither installed nor
// already installed.
func yumFailure(p *Patch, t Target, remote []string, exitCode int, output string, lines []string, verdict string) *InstallError {
	d := yumCause(lines)
	switch {
	case exitCode == 100:
		d = yumDiagnosis{
			detail: i18n.T("exit code 100 is what yum check-update returns when updates are available, and yum localinstall never returns it",
				"退出码 100 是 yum check-update 在有可用更新时返回的状态，yum localinstall 从不返回它"),
			hint: i18n.T("Check what runs as yum on the host (an alias or a wrapper script). The patch is not counted as installed.",
				"请检查主机上以 yum 名义运行的程序（别名或包装脚本）。该补丁未计为已安装。"),
		}
	case d.detail.EN != "":
		// yumCause found yum's line about the cause.
	case verdict != "":
		n := yumUnchanged(lines)
		d = yumDiagnosis{
			detail: msg("yum reported %q but named only %d of the %d files as already installed",
				"yum 输出了 %q，但 %[3]d 个文件中只有 %[2]d 个被报告为已安装", verdict, n, len(remote)),
			hint: yumReadOutput,
		}
	case exitCode == 0:
		d = yumDiagnosis{
			detail: i18n.T(`yum printed neither "Complete!" nor "Nothing to do"`, `yum 既未输出 "Complete!" 也未输出 "Nothing to do"`),
			hint:   yumReadOutput,
		}
	default:
		line := yumFirstError(lines)
		d = yumDiagnosis{detail: i18n.T(line, line), hint: yumReadOutput}
	}

	en := fmt.Sprintf("yum did not install %s on %s (exit code %d): %s%s", p.ID, t.Host.Name, exitCode, d.detail.EN, d.more.EN)
	zh := fmt.Sprintf("yum 未能在 %s 上安装 %s（退出码 %d）：%s%s", t.Host.Name, p.ID, exitCode, d.detail.ZH, d.more.ZH)
	return &InstallError{Host: t.Host.Name, Patch: p.ID, ExitCode: exitCode, Output: output,
		Text: i18n.T(endSentence(en, ". ")+d.hint.EN, endSentence(zh, "。")+d.hint.ZH)}
}

// yumReadOutput is the next step when yum's output names no known cause.
var yumReadOutput = i18n.T("Read yum's output in the journal and check the installed packages on the host.",
	"请查看日志中 yum 的输出，并检查主机上已安装的软件包。")

// yumCause finds yum's line about a known cause of failure: the yum lock,
// a signature check, disk space, a file conflict, a missing dependency or
// a skipped file. It returns a zero yumDiagnosis when there is none.
func yumCause(lines []string) yumDiagnosis {
	if line := firstMatch(lines, func(l string) bool { return strings.HasPrefix(l, "Existing lock ") }); line != "" {
		return yumDiagnosis{detail: i18n.T(line, line), hint: i18n.T(
			"Another yum or PackageKit process holds the yum lock; wait until it ends, or stop it, then install the patch again.",
			"另一个 yum 或 PackageKit 进程持有 yum 锁；请等它结束或将其停止，然后重新安装该补丁。")}
	}
	if line := firstMatch(lines, isYumSignatureError); line != "" {
		return yumDiagnosis{detail: i18n.T(line, line), hint: i18n.T(
			"The host's yum.conf sets localpkg_gpgcheck=1, so yum installs only signed packages whose key is imported: "+
				"import the supplier's key with rpm --import, or get signed packages. patrol does not pass --nogpgcheck.",
			"主机的 yum.conf 设置了 localpkg_gpgcheck=1，yum 只安装已签名且密钥已导入的软件包："+
				"请用 rpm --import 导入提供方的密钥，或取得已签名的软件包。patrol 不会使用 --nogpgcheck。")}
	}
	disk := firstMatch(lines, func(l string) bool {
		return strings.HasPrefix(l, "At least ") && strings.Contains(l, " more space needed on the ")
	})
	if disk == "" {
		disk = firstMatch(lines, func(l string) bool {
			return strings.HasPrefix(l, "installing package ") && strings.HasSuffix(l, " filesystem")
		})
	}
	if disk != "" {
		return yumDiagnosis{detail: i18n.T(disk, disk), hint: i18n.T(
			"Clear enough free space on that filesystem, then install the patch again.",
			"请在该文件系统上腾出足够的空间，然后重新安装该补丁。")}
	}
	if line := firstMatch(lines, func(l string) bool {
		return strings.Contains(l, " conflicts with file from package ") || strings.Contains(l, " conflicts between attempted installs of ")
	}); line != "" {
		return yumDiagnosis{detail: i18n.T(line, line), hint: i18n.T(
			"A file of the patch belongs to another package (a file conflict); check the patch files with their supplier.",
			"补丁中的文件属于其他软件包（文件冲突）；请与补丁提供方核对补丁文件。")}
	}
	if d, ok := yumDependency(lines); ok {
		return d
	}
	if line := firstMatch(lines, isYumSkippedFile); line != "" {
		return yumDiagnosis{detail: i18n.T(line, line), hint: i18n.T(
			"yum skipped a copied file; check that the file on the host is a complete RPM for the host's architecture.",
			"yum 跳过了已复制的文件；请检查主机上的该文件是否为适合该主机架构的完整的 RPM 包。")}
	}
	return yumDiagnosis{}
}

// yumDependency reads depsolving errors. yum prints each as an "Error:
// Package: NEVRA (repository)" line followed by the "Requires:" line that
// cannot be met.
func yumDependency(lines []string) (yumDiagnosis, bool) {
	var first string
	count := 0
	for i, line := range lines {
		if !strings.HasPrefix(line, "Error: Package: ") {
			continue
		}
		count++
		if first == "" {
			first = line
			if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "Requires: ") {
				first += " " + lines[i+1]
			}
		}
	}
	if count == 0 {
		return yumDiagnosis{}, false
	}
	d := yumDiagnosis{detail: i18n.T(first, first), hint: i18n.T(
		"The host's repositories are disabled, so add the packages that meet this requirement to the patch's files in the catalog "+
			"(for an update, also the updates of the packages that require the old version), or install them first.",
		"主机上的软件源已禁用，请把满足该依赖的软件包加入补丁台账中该补丁的 files（升级时还需加入依赖旧版本的软件包的更新），或先安装这些依赖。")}
	if count > 1 {
		plural := ""
		if count > 2 {
			plural = "s"
		}
		d.more = i18n.T(fmt.Sprintf(" (and %d more dependency problem%s)", count-1, plural), fmt.Sprintf("（另有 %d 处依赖问题）", count-1))
	}
	return d, true
}

// isYumSignatureError matches the messages of yum's signature check of a
// package (YumBase.sigCheckPkg).
func isYumSignatureError(line string) bool {
	return strings.HasPrefix(line, "Package ") && strings.HasSuffix(line, " is not signed") ||
		strings.HasPrefix(line, "Public key for ") && (strings.HasSuffix(line, " is not installed") || strings.HasSuffix(line, " is not trusted"))
}

// isYumSkippedFile matches the messages with which yum localinstall leaves
// out a file and goes on with the others.
func isYumSkippedFile(line string) bool {
	for _, prefix := range []string{"Cannot open: ", "Cannot add package ", "Cannot install package ", "Cannot localinstall deltarpm: ", "Skipping: "} {
		if strings.HasPrefix(line, prefix) {
			return true
		}
	}
	return false
}

// yumFirstError returns the first "Error:" line, else the last line.
func yumFirstError(lines []string) string {
	if line := firstMatch(lines, func(l string) bool { return strings.HasPrefix(l, "Error:") }); line != "" {
		return line
	}
	if len(lines) == 0 {
		return "no output"
	}
	return lines[len(lines)-1]
}

// nonEmptyLines splits text into trimmed lines and drops the empty ones.
func nonEmptyLines(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

func hasLine(lines []string, want string) bool {
	return firstMatch(lines, func(l string) bool { return l == want }) != ""
}

func firstMatch(lines []string, match func(string) bool) string {
	for _, line := range lines {
		if match(line) {
			return line
		}
	}
	return ""
}

// endSentence appends sep to s unless s already ends with a full stop.
func endSentence(s, sep string) string {
	if strings.HasSuffix(s, ".") || strings.HasSuffix(s, "。") {
		return s + " "
	}
	return s + sep
}
