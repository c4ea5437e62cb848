package checks

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"patrol/i18n"
	"patrol/module"
)

const fileAgeCheck = "check.file_age"

func fileAgeSpec() *module.Spec {
	return &module.Spec{
		Name:  fileAgeCheck,
		Title: i18n.T("File freshness", "文件时效（备份）"),
		Doc:   i18n.T("Age and size of the newest file matching a glob, and how many match: the basis of backup checks.", "匹配通配符的最新文件的时效和大小，以及匹配的文件数：备份检查的基础。"),
		Check: true,
		Args: []module.Arg{
			{Name: "path", Type: module.String, Required: true, Doc: i18n.T("absolute path glob such as /backup/*.dmp; * ? and [...] never cross a /", "绝对路径通配符，如 /backup/*.dmp；*、? 和 [...] 不跨越 /")},
			{Name: "max_age", Type: module.Duration, Default: 26 * time.Hour, Doc: i18n.T("age of the newest file above which the check fails", "最新文件的时效超过该值时判为不合格")},
			{Name: "min_size", Type: module.String, Doc: i18n.T("size the newest file must reach, in bytes or with a unit such as 1M (optional)", "最新文件必须达到的大小，单位为字节或带单位，如 1M（可选）")},
			{Name: "count", Type: module.Int, Default: 1, Doc: i18n.T("minimum number of matching files (at least min_size each), such as 2 for two backup copies", "匹配文件的最少个数（每个至少 min_size），如两份备份写 2")},
		},
		Run: runFileAge,
	}
}

// FileStat is one matching file.
type FileStat struct {
	Name  string
	MTime time.Time
	Size  int64
}

// fileListing is the result of a file probe.
type fileListing struct {
	// Now is the host's clock, so clock skew between patrol and the host does
	// not change ages.
	Now   time.Time
	Files []FileStat
	// Problems are error lines from the search (unreadable directories).
	Problems []string
}

type fileProbe func(ctx context.Context, env *module.Env, glob string) (fileListing, *module.Finding)

var fileProbes = perOS[fileProbe]{Linux: probeFilesLinux}

func runFileAge(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
	glob := args.String("path")
	if !strings.HasPrefix(glob, "/") {
		err := fmt.Errorf("path: %w: %q must be an absolute path", errArg, glob)
		return result([]module.Finding{argError(fileAgeCheck, err)}), nil
	}
	maxAge, ok, err := durationArg(args, "max_age")
	if err != nil {
		return result([]module.Finding{argError(fileAgeCheck, err)}), nil
	}
	if !ok {
		maxAge = 26 * time.Hour
	}
	minSize, hasMinSize, err := sizeArg(args, "min_size")
	if err != nil {
		return result([]module.Finding{argError(fileAgeCheck, err)}), nil
	}

	probe := fileProbes.pick(env)
	if probe == nil {
		return result([]module.Finding{unsupportedOS(fileAgeCheck)}), nil
	}
	listing, failed := probe(ctx, env, glob)
	if failed != nil {
		return result([]module.Finding{*failed}), nil
	}

	opts := fileAgeOptions{Glob: glob, MaxAge: maxAge, MinSize: minSize, HasMinSize: hasMinSize, Count: intArg(args, "count", 1)}
	return result(evaluateFileAge(listing, opts)), nil
}

// findScript lists files matching glob with their mtime and size. find starts at
// the directory before the first glob component and stays at the glob's depth,
// so * cannot match across a /, as in the shell.
func findScript(glob string) string {
	clean := path.Clean(glob)
	parts := strings.Split(clean, "/")
	first := -1
	for i, p := range parts {
		if strings.ContainsAny(p, "*?[") {
			first = i
			break
		}
	}

	stat := "stat -L -c '%Y %s %n'"
	if first < 0 {
		return fmt.Sprintf("date +%%s; if [ -e %[1]s ]; then %[2]s -- %[1]s; fi", shellQuote(clean), stat)
	}
	root := strings.Join(parts[:first], "/")
	if root == "" {
		root = "/"
	}
	depth := len(parts) - first
	return fmt.Sprintf("date +%%s; find %s -mindepth %d -maxdepth %d -path %s -type f -exec %s {} +",
		shellQuote(root), depth, depth, shellQuote(clean), stat)
}

func probeFilesLinux(ctx context.Context, env *module.Env, glob string) (fileListing, *module.Finding) {
	out, err := runScript(ctx, env, findScript(glob))
	if err != nil {
		f := probeFailed(fileAgeCheck, glob, "find", out, err)
		return fileListing{}, &f
	}
	listing, perr := ParseStatListing(out.Stdout)
	if perr != nil {
		f := probeFailed(fileAgeCheck, glob, "find", out, nil)
		return fileListing{}, &f
	}

	// find exits 1 when part of the tree was unreadable or the start directory
	// is missing. A missing directory means no matching files, which the
	// evaluation reports as a failure; anything else is kept as a problem.
	if out.ExitCode != 0 {
		for _, l := range strings.Split(strings.TrimSpace(string(out.Stderr)), "\n") {
			if l != "" {
				listing.Problems = append(listing.Problems, l)
			}
		}
		if len(listing.Files) == 0 && !strings.Contains(string(out.Stderr), "No such file or directory") {
			f := probeFailed(fileAgeCheck, glob, "find", out, nil)
			return fileListing{}, &f
		}
	}
	return listing, nil
}

// ParseStatListing parses the probe output: the host's `date +%s`, then one
// `stat -c '%Y %s %n'` line per file (mtime seconds, size bytes, name; the name
// may contain spaces).
func ParseStatListing(out []byte) (fileListing, error) {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) == 0 || strings.TrimSpace(lines[0]) == "" {
		return fileListing{}, fmt.Errorf("empty output, expected the host's date first")
	}
	secs, err := strconv.ParseInt(strings.TrimSpace(lines[0]), 10, 64)
	if err != nil {
		return fileListing{}, fmt.Errorf("host date %q: %w", lines[0], err)
	}

	listing := fileListing{Now: time.Unix(secs, 0)}
	for _, l := range lines[1:] {
		parts := strings.SplitN(l, " ", 3)
		if len(parts) != 3 {
			continue
		}
		mtime, err1 := strconv.ParseInt(parts[0], 10, 64)
		size, err2 := strconv.ParseInt(parts[1], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		listing.Files = append(listing.Files, FileStat{Name: parts[2], MTime: time.Unix(mtime, 0), Size: size})
	}
	return listing, nil
}

type fileAgeOptions struct {
	Glob       string
	MaxAge     time.Duration
	MinSize    int64
	HasMinSize bool
	Count      int
}

// evaluateFileAge reports the newest file's age, its size when min_size is set,
// and the number of copies when count is more than one.
func evaluateFileAge(l fileListing, opts fileAgeOptions) []module.Finding {
	ageLimit := ageThreshold(0, opts.MaxAge)

	if len(l.Files) == 0 {
		return []module.Finding{{
			Check:     fileAgeCheck,
			Item:      opts.Glob,
			Status:    module.StatusFail,
			Value:     i18n.T("no files", "无文件"),
			Threshold: ageLimit.Text(),
			Message: i18n.T(
				fmt.Sprintf("no file matches %s; check that the job writing these files ran", opts.Glob),
				fmt.Sprintf("没有与 %s 匹配的文件；请检查生成这些文件的任务是否执行", opts.Glob),
			),
			Evidence: l.Problems,
			Metrics:  map[string]float64{"files": 0},
		}}
	}

	newest := l.Files[0]
	for _, f := range l.Files[1:] {
		if f.MTime.After(newest.MTime) {
			newest = f
		}
	}
	age := l.Now.Sub(newest.MTime)

	f := ageLimit.Measure(fileAgeCheck, opts.Glob, age.Hours(), i18n.T(
		fmt.Sprintf("newest %s old (%s)", FormatAge(age), FormatBytes(newest.Size)),
		fmt.Sprintf("最新文件生成于 %s前（%s）", FormatAgeZH(age), FormatBytes(newest.Size)),
	))
	f.Evidence = append([]string{fmt.Sprintf("%s modified %s, %d bytes", newest.Name, formatTime(newest.MTime), newest.Size)}, l.Problems...)
	f.Metrics = map[string]float64{"age_seconds": age.Seconds(), "size_bytes": float64(newest.Size), "files": float64(len(l.Files))}
	if f.Status == module.StatusFail {
		f.Message = i18n.T(
			fmt.Sprintf("the newest file %s is %s old, older than %s", newest.Name, FormatAge(age), FormatAge(opts.MaxAge)),
			fmt.Sprintf("最新文件 %s 生成于 %s前，超过 %s", newest.Name, FormatAgeZH(age), FormatAgeZH(opts.MaxAge)),
		)
	} else {
		f.Message = i18n.T(
			fmt.Sprintf("the newest file %s is %s old", newest.Name, FormatAge(age)),
			fmt.Sprintf("最新文件 %s 生成于 %s前", newest.Name, FormatAgeZH(age)),
		)
	}
	findings := []module.Finding{f}

	if opts.HasMinSize {
		findings = append(findings, sizeFinding(newest, opts))
	}
	if opts.Count > 1 {
		findings = append(findings, copiesFinding(l.Files, opts))
	}
	return findings
}

func sizeFinding(newest FileStat, opts fileAgeOptions) module.Finding {
	f := module.Finding{
		Check:     fileAgeCheck,
		Item:      opts.Glob + " size",
		ItemTitle: itemTitle(opts.Glob, "size", "大小"),
		Status:    module.StatusOK,
		Value:     same(FormatBytes(newest.Size)),
		Threshold: i18n.T("fail <"+FormatBytes(opts.MinSize), "不合格 <"+FormatBytes(opts.MinSize)),
		Metrics:   map[string]float64{"size_bytes": float64(newest.Size)},
	}
	if newest.Size < opts.MinSize {
		f.Status = module.StatusFail
	}
	if f.Status == module.StatusFail {
		f.Message = i18n.T(
			fmt.Sprintf("the newest file %s has %s, less than %s; it may be incomplete", newest.Name, FormatBytes(newest.Size), FormatBytes(opts.MinSize)),
			fmt.Sprintf("最新文件 %s 大小为 %s，小于 %s，可能不完整", newest.Name, FormatBytes(newest.Size), FormatBytes(opts.MinSize)),
		)
	} else {
		f.Message = i18n.T(
			fmt.Sprintf("the newest file %s has %s", newest.Name, FormatBytes(newest.Size)),
			fmt.Sprintf("最新文件 %s 大小为 %s", newest.Name, FormatBytes(newest.Size)),
		)
	}
	return f
}

// copiesFinding counts the matching files that reach min_size, because an empty
// or cut-off dump is not a usable copy.
func copiesFinding(files []FileStat, opts fileAgeOptions) module.Finding {
	n := 0
	for _, f := range files {
		if !opts.HasMinSize || f.Size >= opts.MinSize {
			n++
		}
	}
	f := module.Finding{
		Check:     fileAgeCheck,
		Item:      opts.Glob + " copies",
		ItemTitle: itemTitle(opts.Glob, "copies", "份数"),
		Status:    module.StatusOK,
		Value:     i18n.T(fmt.Sprintf("%d %s", n, plural(float64(n), "file", "files")), fmt.Sprintf("%d 个文件", n)),
		Threshold: i18n.T(fmt.Sprintf("fail <%d %s", opts.Count, plural(float64(opts.Count), "file", "files")), fmt.Sprintf("不合格 <%d 个文件", opts.Count)),
	}
	if n < opts.Count {
		f.Status = module.StatusFail
	}
	f.Metrics = map[string]float64{"copies": float64(n)}
	f.Message = i18n.T(
		fmt.Sprintf("%d %s %s, at least %d required", n, plural(float64(n), "file matches", "files match"), opts.Glob, opts.Count),
		fmt.Sprintf("与 %s 匹配的文件有 %d 个，至少需要 %d 个", opts.Glob, n, opts.Count),
	)
	return f
}
