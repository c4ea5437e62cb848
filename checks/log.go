package checks

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"patrol/i18n"
	"patrol/module"
)

const logCheck = "check.log"

// sinceLastRun is the since value that resumes where the previous run stopped.
const sinceLastRun = "last_run"

func logSpec() *module.Spec {
	return &module.Spec{
		Name:  logCheck,
		Title: i18n.T("Log anomalies", "日志异常"),
		Doc:   i18n.T("Counts lines of a log file matching regular expressions, since the last run or within a time window.", "统计日志文件中自上次运行以来或时间窗口内匹配正则表达式的行数。"),
		Check: true,
		Args: []module.Arg{
			{Name: "path", Type: module.String, Required: true, Doc: i18n.T("log file on the host", "主机上的日志文件")},
			{Name: "patterns", Type: module.Strings, Doc: i18n.T("regular expressions (Go RE2 syntax); each is its own finding, named by the expression", "正则表达式（Go RE2 语法）；每个表达式是一项结果，以表达式命名")},
			{Name: "named_patterns", Type: module.Map, Doc: i18n.T("name → regular expression, for findings with readable names", "名称 → 正则表达式，使结果有易读的名称")},
			{Name: "since", Type: module.String, Default: sinceLastRun, Doc: i18n.T("last_run (resume at the byte offset saved by the previous run) or a window such as 24h or 7d (needs ISO 8601 or syslog timestamps at line starts)", "last_run（从上次运行保存的字节偏移处继续）或时间窗口，如 24h 或 7d（要求行首有 ISO 8601 或 syslog 时间戳）")},
			{Name: "warn", Type: module.Int, Default: 1, Doc: i18n.T("matches of one pattern at which the check warns; 0 disables", "单个模式的匹配数达到该值时判为警告；0 表示不启用")},
			{Name: "fail", Type: module.Int, Default: 0, Doc: i18n.T("matches of one pattern at which the check fails; 0 disables", "单个模式的匹配数达到该值时判为不合格；0 表示不启用")},
			{Name: "max_excerpts", Type: module.Int, Default: 5, Doc: i18n.T("matching lines kept as evidence per pattern (the latest ones)", "每个模式保留作为证据的匹配行数（取最新的）")},
			{Name: "max_bytes", Type: module.String, Default: "16M", Doc: i18n.T("most bytes read per run; older new bytes beyond it are skipped and reported", "每次运行最多读取的字节数；新增内容超出该值时，较早的部分被跳过并报告")},
		},
		Run: runLog,
	}
}

// logRequest is the validated arguments of one check.log task.
type logRequest struct {
	Path        string
	Patterns    []LogPattern
	Window      time.Duration // zero means since last run
	Threshold   Threshold
	MaxExcerpts int
	MaxBytes    int64
}

// logChunk is the part of a log file a probe read.
type logChunk struct {
	Data  []byte
	Inode string
	Size  int64
	// Loc is the host's zone, for timestamps without one.
	Loc  *time.Location
	Plan readPlan
	// End is the offset to resume from next time.
	End int64
}

type logProbe func(ctx context.Context, env *module.Env, req logRequest, prev logOffset, havePrev bool) (logChunk, *module.Finding)

var logProbes = perOS[logProbe]{Linux: probeLogLinux}

func runLog(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
	req, err := logRequestFrom(args)
	if err != nil {
		return result([]module.Finding{argError(logCheck, err)}), nil
	}

	probe := logProbes.pick(env)
	if probe == nil {
		return result([]module.Finding{unsupportedOS(logCheck)}), nil
	}

	stateKey := "check.log:" + req.Path
	var prev logOffset
	havePrev := false
	if req.Window == 0 && env.State != nil {
		if s, ok := env.State.Get(stateKey); ok {
			prev, havePrev = parseLogOffset(s)
		}
	}

	chunk, failed := probe(ctx, env, req, prev, havePrev)
	if failed != nil {
		return result([]module.Finding{*failed}), nil
	}

	at := now(env)
	var since time.Time
	if req.Window > 0 {
		since = at.Add(-req.Window)
	}
	scan := ScanLog(chunk.Data, req.Patterns, since, chunk.Loc, at, req.MaxExcerpts)
	findings := evaluateLog(req, chunk, scan, havePrev)

	if req.Window == 0 && env.State != nil {
		next := logOffset{Inode: chunk.Inode, Offset: chunk.End}
		if err := env.State.Set(stateKey, next.String()); err != nil && env.Log != nil {
			env.Log.Warn("save log offset", "module", logCheck, "path", req.Path, "err", err)
		}
	}
	return result(findings), nil
}

func logRequestFrom(args module.Args) (logRequest, error) {
	req := logRequest{
		Path:        args.String("path"),
		MaxExcerpts: intArg(args, "max_excerpts", 5),
	}
	if req.Path == "" {
		return req, fmt.Errorf("path: %w: a log file path is required", errArg)
	}

	maxBytes, ok, err := sizeArg(args, "max_bytes")
	if err != nil {
		return req, err
	}
	req.MaxBytes = 16 << 20
	if ok {
		req.MaxBytes = maxBytes
	}

	since := strings.TrimSpace(args.String("since"))
	if since != "" && since != sinceLastRun {
		w, err := ParseDuration(since)
		if err != nil || w <= 0 {
			return req, fmt.Errorf("since: %w: %q is neither last_run nor a window such as 24h", errArg, since)
		}
		req.Window = w
	}

	warn, fail := float64(intArg(args, "warn", 1)), float64(intArg(args, "fail", 0))
	if warn <= 0 {
		warn = Off
	}
	if fail <= 0 {
		fail = Off
	}
	req.Threshold = HigherIsWorse(warn, fail, "")
	req.Threshold.Unit = i18n.T(" matches", " 处匹配")
	req.Threshold.UnitOne = " match"

	req.Patterns, err = logPatterns(args)
	if err != nil {
		return req, err
	}
	if len(req.Patterns) == 0 {
		return req, fmt.Errorf("patterns: %w: give at least one regular expression in patterns or named_patterns", errArg)
	}
	return req, nil
}

// logPatterns compiles the list patterns (named by their text) and the named
// ones (sorted by name so findings keep a stable order). A map given as
// patterns is accepted as named_patterns.
func logPatterns(args module.Args) ([]LogPattern, error) {
	var out []LogPattern
	for _, expr := range stringList(args, "patterns") {
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("patterns: %w: %q: %v", errArg, expr, err)
		}
		out = append(out, LogPattern{Name: expr, Re: re})
	}

	named := args.Map("named_patterns")
	if m, ok := args["patterns"].(map[string]any); ok {
		named = m
	}
	names := make([]string, 0, len(named))
	for n := range named {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		expr := fmt.Sprint(named[n])
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("named_patterns: %w: %s: %q: %v", errArg, n, expr, err)
		}
		out = append(out, LogPattern{Name: n, Re: re})
	}
	return out, nil
}

// probeLogLinux stats the file, then reads only the planned byte range with
// tail -c, so a large log is never copied whole over a slow link.
func probeLogLinux(ctx context.Context, env *module.Env, req logRequest, prev logOffset, havePrev bool) (logChunk, *module.Finding) {
	path := shellQuote(req.Path)
	out, err := runScript(ctx, env, fmt.Sprintf("stat -L -c '%%i %%s' -- %s && date +%%z", path))
	if err != nil || out.ExitCode != 0 {
		f := probeFailed(logCheck, req.Path, "stat "+req.Path, out, err)
		if err == nil && strings.Contains(string(out.Stderr), "No such file") {
			// Hosts that log only to the systemd journal (Debian 12 by
			// default) have no syslog file to read.
			f.Message = i18n.T(
				fmt.Sprintf("log file %s does not exist; set the path of the host's log in the playbook or inventory variable that gives it (os_log in the shipped inspections), or install rsyslog if the host logs only to the systemd journal", req.Path),
				fmt.Sprintf("日志文件 %s 不存在；请在剧本或清单变量中设置该主机的日志路径（内置巡检剧本用 os_log），如果主机只写 systemd 日志，请安装 rsyslog", req.Path))
		}
		return logChunk{}, &f
	}
	inode, size, loc, ok := ParseLogStat(out.Stdout)
	if !ok {
		f := errorFinding(logCheck, req.Path, i18n.T(
			fmt.Sprintf("could not read the inode and size of %s from stat", req.Path),
			fmt.Sprintf("无法从 stat 读取 %s 的 inode 和大小", req.Path),
		), outputEvidence(out))
		return logChunk{}, &f
	}

	plan := planLogRead(prev, havePrev, inode, size, req.MaxBytes)
	chunk := logChunk{Inode: inode, Size: size, Loc: loc, Plan: plan, End: plan.Start}
	if size == plan.Start {
		return chunk, nil
	}

	// tail -c +N starts at byte N counting from 1; head stops at the size stat
	// saw, so lines appended meanwhile are left for the next run.
	read := fmt.Sprintf("tail -c +%d -- %s | head -c %d", plan.Start+1, path, size-plan.Start)
	out, err = runScript(ctx, env, read)
	if err != nil || out.ExitCode != 0 {
		f := probeFailed(logCheck, req.Path, "tail -c "+req.Path, out, err)
		return logChunk{}, &f
	}
	complete := completeLines(out.Stdout)
	chunk.Data = out.Stdout[:complete]
	chunk.End = plan.Start + int64(complete)

	// After skipping bytes the read starts inside a line; that fragment is dropped.
	if plan.Skipped > 0 {
		if i := strings.IndexByte(string(chunk.Data), '\n'); i >= 0 {
			chunk.Data = chunk.Data[i+1:]
		}
	}
	return chunk, nil
}

func evaluateLog(req logRequest, chunk logChunk, scan LogScan, resumed bool) []module.Finding {
	scope := i18n.T("since the last run", "自上次巡检以来")
	switch {
	case req.Window > 0:
		scope = i18n.T("in the last "+FormatAge(req.Window), "最近 "+FormatAgeZH(req.Window)+"内")
	case !resumed:
		scope = i18n.T("in the whole file (first run)", "全文件（首次巡检）")
	}

	var notes i18n.Text
	if chunk.Plan.Restarted {
		notes.EN += "; the file was rotated or truncated since the last run, so it was read from the start"
		notes.ZH += "；自上次巡检后文件已轮转或被截断，已从头读取"
	}
	if chunk.Plan.Skipped > 0 {
		notes.EN += fmt.Sprintf("; %s were skipped because of max_bytes", FormatBytes(chunk.Plan.Skipped))
		notes.ZH += fmt.Sprintf("；受 max_bytes 限制，跳过了 %s", FormatBytes(chunk.Plan.Skipped))
	}
	if scan.NoTimestamps {
		notes.EN += "; no line had a timestamp, so every line read was counted"
		notes.ZH += "；没有带时间戳的行，读取的所有行均已计数"
	}

	var findings []module.Finding
	for _, m := range scan.Matches {
		f := req.Threshold.Measure(logCheck, req.Path+": "+m.Name, float64(m.Count), i18n.T(
			fmt.Sprintf("%d %s %s", m.Count, plural(float64(m.Count), "match", "matches"), scope.EN),
			fmt.Sprintf("%s %d 处匹配", scope.ZH, m.Count),
		))
		f.Evidence = m.Excerpts
		f.Metrics = map[string]float64{
			"matches":    float64(m.Count),
			"lines":      float64(scan.Lines),
			"bytes_read": float64(len(chunk.Data)),
		}
		f.Message = i18n.T(
			fmt.Sprintf("%d %s of %s matched %s %s", m.Count, plural(float64(m.Count), "line", "lines"), req.Path, m.Name, scope.EN)+notes.EN,
			fmt.Sprintf("%s%s有 %d 行匹配 %s", req.Path, scope.ZH, m.Count, m.Name)+notes.ZH,
		)
		findings = append(findings, f)
	}
	return findings
}
