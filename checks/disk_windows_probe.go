package checks

import (
	"context"

	"patrol/i18n"
	"patrol/module"
)

func init() {
	diskProbes.Windows = probeDiskWindows
}

// winDiskScript lists the local fixed disks (DriveType 3) as Format-List
// records, the form `Get-WmiObject Win32_LogicalDisk` prints on a console.
// Size and FreeSpace are UInt64 byte counts, which Format-List prints without
// digit grouping.
var winDiskScript = psPrelude + psWMIQuery("Win32_LogicalDisk", "DriveType=3") +
	" | Format-List DeviceID, DriveType, FileSystem, Size, FreeSpace, VolumeName | Out-String -Width 4096\n"

// probeDiskWindows measures the fixed disks. NTFS has no inode limit, so
// Inodes stays nil and the inodes argument has no effect on Windows.
func probeDiskWindows(ctx context.Context, env *module.Env, _ bool) (diskUsage, *module.Finding) {
	out, err := runScript(ctx, env, winDiskScript)
	if err != nil || out.ExitCode != 0 {
		f := probeFailedText(diskCheck, "Win32_LogicalDisk", i18n.T("Win32_LogicalDisk query", "Win32_LogicalDisk 查询"), out, err)
		return diskUsage{}, &f
	}

	rows, skipped, perr := ParseWinLogicalDisks(out.Stdout)
	if perr != nil || len(rows) == 0 {
		f := errorFinding(diskCheck, "Win32_LogicalDisk", i18n.T(
			"the Win32_LogicalDisk query listed no fixed disk that could be read; run the probe by hand to see its output",
			"Win32_LogicalDisk 查询未列出可读取的本地磁盘；请手动执行探测命令查看输出",
		), append(outputEvidence(out), skipped...))
		return diskUsage{}, &f
	}
	return diskUsage{
		Blocks:      rows,
		Problems:    skipped,
		ProblemItem: "Win32_LogicalDisk",
		ProblemText: i18n.T(
			"some local disks report no size (no file system, or not ready) and are not checked",
			"部分本地磁盘没有容量信息（未格式化或未就绪），未检查",
		),
	}, nil
}
