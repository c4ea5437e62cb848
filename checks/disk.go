package checks

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"patrol/i18n"
	"patrol/module"
)

const diskCheck = "check.disk"

func diskSpec() *module.Spec {
	return &module.Spec{
		Name:  diskCheck,
		Title: i18n.T("Disk capacity", "磁盘容量"),
		Doc:   i18n.T("Used space (and inodes) per mounted filesystem against warn/fail percentages.", "按警告/不合格百分比检查每个已挂载文件系统的已用空间（及 inode）。"),
		Check: true,
		Args: []module.Arg{
			{Name: "warn", Type: module.Float, Default: 80.0, Doc: i18n.T("used percent at which a mount warns", "挂载点已用百分比达到该值时判为警告")},
			{Name: "fail", Type: module.Float, Default: 90.0, Doc: i18n.T("used percent at which a mount fails", "挂载点已用百分比达到该值时判为不合格")},
			{Name: "min_free", Type: module.String, Doc: i18n.T("free space below which a mount fails, in bytes or with a unit such as 10G (optional)", "可用空间低于该值时挂载点判为不合格，单位为字节或带单位，如 10G（可选）")},
			{Name: "inodes", Type: module.Bool, Default: true, Doc: i18n.T("also check inode use with the same percentages", "同时按相同百分比检查 inode 使用率")},
			{Name: "mounts", Type: module.Strings, Doc: i18n.T("mount points to check; empty means every mount not excluded by type. A listed mount that is absent fails", "要检查的挂载点；为空时检查所有未按类型排除的挂载点。列出的挂载点不存在时判为不合格")},
			{Name: "exclude_types", Type: module.Strings, Default: []string{"tmpfs", "devtmpfs", "overlay", "squashfs"}, Doc: i18n.T("filesystem types to skip when mounts is empty", "mounts 为空时跳过的文件系统类型")},
		},
		Run: runDisk,
	}
}

// diskUsage is the measurement of a disk probe, whatever the OS.
type diskUsage struct {
	Blocks []DFRow
	// Inodes is nil when the OS or probe has no inode data.
	Inodes []DFRow
	// Problems are lines the probe could not use (df errors, unparsed rows).
	Problems []string
	// ProblemItem and ProblemText name and explain the finding Problems give;
	// empty means df's wording.
	ProblemItem string
	ProblemText i18n.Text
}

type diskProbe func(ctx context.Context, env *module.Env, wantInodes bool) (diskUsage, *module.Finding)

var diskProbes = perOS[diskProbe]{Linux: probeDiskLinux}

func runDisk(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
	minFree, hasMinFree, err := sizeArg(args, "min_free")
	if err != nil {
		return result([]module.Finding{argError(diskCheck, err)}), nil
	}
	opts := diskOptions{
		Threshold:  HigherIsWorse(floatArg(args, "warn", 80), floatArg(args, "fail", 90), "%"),
		MinFree:    minFree,
		HasMinFree: hasMinFree,
		Inodes:     boolArg(args, "inodes", true),
		Mounts:     stringList(args, "mounts"),
		Exclude:    stringList(args, "exclude_types"),
	}
	if !args.Has("exclude_types") {
		opts.Exclude = []string{"tmpfs", "devtmpfs", "overlay", "squashfs"}
	}

	probe := diskProbes.pick(env)
	if probe == nil {
		return result([]module.Finding{unsupportedOS(diskCheck)}), nil
	}
	usage, failed := probe(ctx, env, opts.Inodes)
	if failed != nil {
		return result([]module.Finding{*failed}), nil
	}
	return result(evaluateDisk(usage, opts)), nil
}

// probeDiskLinux runs df in POSIX format with 1 KiB blocks. It requests the type
// column with -T and falls back to plain -P on a df without it. The first output
// line tells the parser which form df printed.
func probeDiskLinux(ctx context.Context, env *module.Env, wantInodes bool) (diskUsage, *module.Finding) {
	var usage diskUsage

	blocks, problems, failed := runDF(ctx, env, "-k", DFFormat{Unit: 1024})
	if failed != nil {
		return usage, failed
	}
	usage.Blocks = blocks
	usage.Problems = problems

	if wantInodes {
		inodes, problems, failed := runDF(ctx, env, "-i", DFFormat{Unit: 1})
		if failed != nil {
			usage.Problems = append(usage.Problems, failed.Message.EN)
		}
		usage.Inodes = inodes
		usage.Problems = append(usage.Problems, problems...)
	}
	return usage, nil
}

// dfTypeMarker is the first probe line when df accepted -T.
const dfTypeMarker = "patrol-df-type"

func runDF(ctx context.Context, env *module.Env, flag string, format DFFormat) ([]DFRow, []string, *module.Finding) {
	script := fmt.Sprintf(
		"if df -P %[1]s -T / >/dev/null 2>&1; then echo %[2]s; exec df -P %[1]s -T; else echo plain; exec df -P %[1]s; fi",
		flag, dfTypeMarker)
	out, err := runScript(ctx, env, script)
	what := "df -P " + flag

	// df exits 1 when one mount cannot be read but still prints the others, so
	// rows are data whatever the exit status.
	marker, body, _ := bytes.Cut(out.Stdout, []byte("\n"))
	format.WithType = string(marker) == dfTypeMarker
	rows, skipped := ParseDF(body, format)
	if err != nil || len(rows) == 0 {
		f := probeFailed(diskCheck, "df", what, out, err)
		return nil, nil, &f
	}

	problems := skipped
	if out.ExitCode != 0 {
		for _, l := range strings.Split(strings.TrimSpace(string(out.Stderr)), "\n") {
			if l != "" {
				problems = append(problems, l)
			}
		}
	}
	return rows, problems, nil
}

type diskOptions struct {
	Threshold  Threshold
	MinFree    int64
	HasMinFree bool
	Inodes     bool
	Mounts     []string
	Exclude    []string
}

// evaluateDisk turns measured usage into one finding per mount (and one per
// mount for inodes), plus one error finding when df reported problems.
func evaluateDisk(usage diskUsage, opts diskOptions) []module.Finding {
	blocks := selectMounts(usage.Blocks, opts)
	inodes := map[string]DFRow{}
	for _, r := range usage.Inodes {
		inodes[r.Mount] = r
	}

	var findings []module.Finding
	for _, m := range opts.Mounts {
		if !slices.ContainsFunc(blocks, func(r DFRow) bool { return r.Mount == m }) {
			findings = append(findings, module.Finding{
				Check:  diskCheck,
				Item:   m,
				Status: module.StatusFail,
				Value:  i18n.T("not mounted", "未挂载"),
				Message: i18n.T(
					fmt.Sprintf("%s is not a mounted filesystem; mount it or remove it from mounts", m),
					fmt.Sprintf("%s 未挂载；请挂载该文件系统，或从 mounts 中删除", m),
				),
			})
		}
	}

	for _, r := range blocks {
		findings = append(findings, diskFinding(r, opts))
		if ir, ok := inodes[r.Mount]; ok && opts.Inodes && ir.UsePercent >= 0 && ir.Total > 0 {
			findings = append(findings, inodeFinding(ir, opts.Threshold))
		}
	}

	if len(usage.Problems) > 0 {
		item, text := usage.ProblemItem, usage.ProblemText
		if item == "" {
			item, text = "df", i18n.T(
				"df could not read every filesystem; the mounts it skipped are not checked",
				"df 未能读取全部文件系统；被跳过的挂载点未检查",
			)
		}
		findings = append(findings, errorFinding(diskCheck, item, text, usage.Problems))
	}
	return findings
}

// selectMounts keeps the rows to check: the listed mounts when mounts is set,
// otherwise every mount whose type is not excluded. A mount listed twice (a
// filesystem mounted over another) keeps the last row, the one that is visible.
func selectMounts(rows []DFRow, opts diskOptions) []DFRow {
	byMount := map[string]int{}
	var out []DFRow
	for _, r := range rows {
		if len(opts.Mounts) > 0 && !slices.Contains(opts.Mounts, r.Mount) {
			continue
		}
		if len(opts.Mounts) == 0 && excludedType(r, opts.Exclude) {
			continue
		}
		if i, ok := byMount[r.Mount]; ok {
			out[i] = r
			continue
		}
		byMount[r.Mount] = len(out)
		out = append(out, r)
	}
	return out
}

// excludedType matches the type column, or the filesystem name when df ran
// without -T (tmpfs and devtmpfs are also the device names of those mounts).
func excludedType(r DFRow, exclude []string) bool {
	t := r.Type
	if t == "" {
		t = r.Filesystem
	}
	return slices.Contains(exclude, t)
}

func diskFinding(r DFRow, opts diskOptions) module.Finding {
	f := opts.Threshold.Measure(diskCheck, r.Mount, r.UsePercent, i18n.T(
		fmt.Sprintf("%s used, %s free", percent(r.UsePercent), FormatBytes(r.Avail)),
		fmt.Sprintf("已用 %s，剩余 %s", percent(r.UsePercent), FormatBytes(r.Avail)),
	))
	f.Metrics = map[string]float64{
		"used_percent": r.UsePercent,
		"size_bytes":   float64(r.Total),
		"used_bytes":   float64(r.Used),
		"avail_bytes":  float64(r.Avail),
	}
	f.Evidence = []string{fmt.Sprintf("%s %s size=%s used=%s avail=%s use=%s mounted on %s",
		r.Filesystem, r.Type, FormatBytes(r.Total), FormatBytes(r.Used), FormatBytes(r.Avail), percent(r.UsePercent), r.Mount)}

	en, zh := levelWords(f.Status)
	f.Message = i18n.T(
		fmt.Sprintf("%s is %s used (%s)", r.Mount, percent(r.UsePercent), en),
		fmt.Sprintf("%s 已用 %s（%s）", r.Mount, percent(r.UsePercent), zh),
	)

	if opts.HasMinFree {
		free := LowerIsWorse(Off, float64(opts.MinFree), "")
		f.Threshold = joinText(f.Threshold, i18n.T(
			"fail ≤"+FormatBytes(opts.MinFree)+" free",
			"剩余 ≤"+FormatBytes(opts.MinFree)+" 不合格",
		))
		if free.Judge(float64(r.Avail)) == module.StatusFail {
			f.Status = module.StatusFail
			f.Message = i18n.T(
				fmt.Sprintf("%s has only %s free, below the minimum %s", r.Mount, FormatBytes(r.Avail), FormatBytes(opts.MinFree)),
				fmt.Sprintf("%s 仅剩 %s 可用，低于最小值 %s", r.Mount, FormatBytes(r.Avail), FormatBytes(opts.MinFree)),
			)
		}
	}
	return f
}

func inodeFinding(r DFRow, t Threshold) module.Finding {
	f := t.Measure(diskCheck, r.Mount+" inodes", r.UsePercent, i18n.T(
		fmt.Sprintf("%s of inodes used (%d free)", percent(r.UsePercent), r.Avail),
		fmt.Sprintf("inode 已用 %s（剩余 %d 个）", percent(r.UsePercent), r.Avail),
	))
	f.ItemTitle = itemTitle(r.Mount, "inodes", "inode")
	f.Metrics = map[string]float64{
		"inode_used_percent": r.UsePercent,
		"inodes_total":       float64(r.Total),
		"inodes_used":        float64(r.Used),
		"inodes_free":        float64(r.Avail),
	}
	en, zh := levelWords(f.Status)
	f.Message = i18n.T(
		fmt.Sprintf("%s has %s of its inodes used (%s)", r.Mount, percent(r.UsePercent), en),
		fmt.Sprintf("%s 的 inode 已用 %s（%s）", r.Mount, percent(r.UsePercent), zh),
	)
	return f
}
