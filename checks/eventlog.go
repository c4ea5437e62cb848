package checks

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"patrol/i18n"
	"patrol/module"
)

// check.eventlog is a check of its own rather than the Windows side of
// check.log: check.log reads a text file by byte offset and matches lines
// against regular expressions, while a Windows event log is a set of records
// with a record number, level, provider and event ID. Resuming goes by
// EventRecordID, and findings count events per provider and event ID.
const eventLogCheck = "check.eventlog"

func eventLogSpec() *module.Spec {
	return &module.Spec{
		Name:  eventLogCheck,
		Title: i18n.T("Windows event log errors", "Windows 事件日志错误"),
		Doc:   i18n.T("Windows: counts critical and error events (level 1–2) per log since the last run or within a window, grouped by provider and event ID, with the latest messages as evidence.", "Windows：统计每个日志自上次运行以来或时间窗口内的严重和错误事件（级别 1–2），按来源和事件 ID 分组，并以最新的消息作为证据。"),
		Check: true,
		Args: []module.Arg{
			{Name: "logs", Type: module.Strings, Default: []string{"System", "Application"}, Doc: i18n.T("event logs to read", "要读取的事件日志")},
			{Name: "since", Type: module.String, Default: sinceLastRun, Doc: i18n.T("last_run (resume after the EventRecordID saved by the previous run) or a window such as 24h", "last_run（从上次运行保存的 EventRecordID 之后继续）或时间窗口，如 24h")},
			{Name: "first_window", Type: module.String, Default: "24h", Doc: i18n.T("window read on the first run, and after a log was cleared", "首次运行及日志被清除后读取的时间窗口")},
			{Name: "max_level", Type: module.Int, Default: 2, Doc: i18n.T("highest level counted: 1 critical, 2 error, 3 warning", "统计的最高级别：1 严重，2 错误，3 警告")},
			{Name: "ignore", Type: module.Strings, Doc: i18n.T("events left out: an event ID (7036), a provider name, or provider/ID (Service Control Manager/7000)", "不统计的事件：事件 ID（7036）、来源名称，或 来源/ID（Service Control Manager/7000）")},
			{Name: "warn", Type: module.Int, Default: 1, Doc: i18n.T("events in one log at which the check warns; 0 disables", "单个日志中的事件数达到该值时判为警告；0 表示不启用")},
			{Name: "fail", Type: module.Int, Default: 0, Doc: i18n.T("events in one log at which the check fails; 0 disables", "单个日志中的事件数达到该值时判为不合格；0 表示不启用")},
			{Name: "max_excerpts", Type: module.Int, Default: 5, Doc: i18n.T("latest events kept as evidence per log", "每个日志保留作为证据的最新事件数")},
			{Name: "max_events", Type: module.Int, Default: 500, Doc: i18n.T("most events read per log and run (the newest ones)", "每个日志每次运行最多读取的事件数（取最新的）")},
		},
		Run: runEventLog,
	}
}

// eventLogRequest is the validated arguments of one check.eventlog task.
type eventLogRequest struct {
	Logs []string
	// Window is zero when resuming from the last run.
	Window      time.Duration
	FirstWindow time.Duration
	MaxLevel    int
	Ignore      []string
	Threshold   Threshold
	MaxExcerpts int
	MaxEvents   int
}

// WinEvent is one event record.
type WinEvent struct {
	Log      string
	RecordID int64
	Time     time.Time // UTC
	Level    int       // 1 critical, 2 error, 3 warning
	Provider string
	ID       int
	// Message is the rendered message in the host's display language, with
	// runs of white space joined into one space.
	Message string
}

// EventLogRead is the probe's reading of one event log.
type EventLogRead struct {
	Log string
	// Newest and Oldest are the EventRecordIDs at both ends of the log; zero
	// for an empty log.
	Newest, Oldest int64
	// Mode is "record" when the read resumed after the saved record, or
	// "window" when it used the time window.
	Mode string
	// Error is the message of a log that could not be read.
	Error  string
	Events []WinEvent
}

type eventLogProbe func(ctx context.Context, env *module.Env, req eventLogRequest, prev map[string]int64) ([]EventLogRead, *module.Finding)

var eventLogProbes = perOS[eventLogProbe]{}

func eventLogStateKey(log string) string { return eventLogCheck + ":" + log }

func runEventLog(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
	req, err := eventLogRequestFrom(args)
	if err != nil {
		return result([]module.Finding{argError(eventLogCheck, err)}), nil
	}
	probe := eventLogProbes.pick(env)
	if probe == nil {
		return result([]module.Finding{unsupportedOS(eventLogCheck)}), nil
	}

	prev := map[string]int64{}
	if req.Window == 0 && env.State != nil {
		for _, log := range req.Logs {
			if s, ok := env.State.Get(eventLogStateKey(log)); ok {
				if n, err := strconv.ParseInt(s, 10, 64); err == nil {
					prev[log] = n
				}
			}
		}
	}

	reads, failed := probe(ctx, env, req, prev)
	if failed != nil {
		return result([]module.Finding{*failed}), nil
	}

	var findings []module.Finding
	for _, r := range reads {
		prevID, resumed := prev[r.Log]
		findings = append(findings, EvaluateEventLog(req, r, prevID, resumed))
		if req.Window == 0 && env.State != nil && r.Error == "" {
			if err := env.State.Set(eventLogStateKey(r.Log), strconv.FormatInt(r.Newest, 10)); err != nil && env.Log != nil {
				env.Log.Warn("save event log position", "module", eventLogCheck, "log", r.Log, "err", err)
			}
		}
	}
	return result(findings), nil
}

func eventLogRequestFrom(args module.Args) (eventLogRequest, error) {
	req := eventLogRequest{
		Logs:        stringList(args, "logs"),
		MaxLevel:    intArg(args, "max_level", 2),
		Ignore:      stringList(args, "ignore"),
		MaxExcerpts: intArg(args, "max_excerpts", 5),
		MaxEvents:   intArg(args, "max_events", 500),
	}
	if len(req.Logs) == 0 {
		req.Logs = []string{"System", "Application"}
	}
	if req.MaxLevel < 1 || req.MaxLevel > 5 {
		return req, fmt.Errorf("max_level: %w: %d is not a level from 1 (critical) to 5 (verbose)", errArg, req.MaxLevel)
	}
	if req.MaxEvents < 1 {
		return req, fmt.Errorf("max_events: %w: %d must be at least 1", errArg, req.MaxEvents)
	}

	since := strings.TrimSpace(args.String("since"))
	if since != "" && since != sinceLastRun {
		w, err := ParseDuration(since)
		if err != nil || w <= 0 {
			return req, fmt.Errorf("since: %w: %q is neither last_run nor a window such as 24h", errArg, since)
		}
		req.Window = w
	}
	first, ok, err := durationArg(args, "first_window")
	if err != nil {
		return req, err
	}
	req.FirstWindow = 24 * time.Hour
	if ok && first > 0 {
		req.FirstWindow = first
	}

	warn, fail := float64(intArg(args, "warn", 1)), float64(intArg(args, "fail", 0))
	if warn <= 0 {
		warn = Off
	}
	if fail <= 0 {
		fail = Off
	}
	req.Threshold = HigherIsWorse(warn, fail, "")
	req.Threshold.Unit = i18n.T(" events", " 个事件")
	req.Threshold.UnitOne = " event"
	return req, nil
}

// ParseEventLogProbe parses Format-List records of event logs and events.
// A record with Newest, Oldest, Mode or Error describes a log. A record with
// an Id is an event, with the properties Get-WinEvent gives it (LogName,
// RecordId, TimeCreated, Id, Level, ProviderName, Message). The probe prints
// TimeCreated in UTC ISO 8601 and Level as a number, so nothing depends on
// the display language except the message text. Published output shows
// TimeCreated in the host culture, read with shortDatePattern as the host's
// wall clock, and may give only LevelDisplayName, whose English and Chinese
// names are read. Events without a LogName are grouped under "".
func ParseEventLogProbe(out []byte, shortDatePattern string) ([]EventLogRead, error) {
	var reads []EventLogRead
	index := map[string]int{}
	readOf := func(log string) *EventLogRead {
		i, ok := index[log]
		if !ok {
			i = len(reads)
			index[log] = i
			reads = append(reads, EventLogRead{Log: log})
		}
		return &reads[i]
	}

	for _, rec := range ParsePSList(out) {
		log := psListValue(rec, "LogName")
		switch {
		case rec.Has("Id"):
			r := readOf(log)
			e := WinEvent{
				Log:      log,
				Provider: psListValue(rec, "ProviderName"),
				Message:  psListValue(rec, "Message"),
				Level:    eventLevel(rec),
			}
			e.RecordID, _ = strconv.ParseInt(psListValue(rec, "RecordId"), 10, 64)
			e.ID, _ = strconv.Atoi(psListValue(rec, "Id"))
			e.Time, _, _ = parsePSDateTime(rec.Get("TimeCreated"), shortDatePattern)
			r.Events = append(r.Events, e)
		case rec.Has("Mode") || rec.Has("Newest") || rec.Has("Error"):
			r := readOf(log)
			r.Newest, _ = strconv.ParseInt(psListValue(rec, "Newest"), 10, 64)
			r.Oldest, _ = strconv.ParseInt(psListValue(rec, "Oldest"), 10, 64)
			r.Mode = psListValue(rec, "Mode")
			r.Error = psListValue(rec, "Error")
		}
	}
	if len(reads) == 0 {
		return nil, fmt.Errorf("no event log or event record in the output")
	}
	return reads, nil
}

// eventLevelNames are LevelDisplayName values in English and Chinese. A
// published zh-CN note names levels 1 to 4 关键, 错误, 警告 and 信息; 严重
// (critical) and 详细 (verbose) are read as well.
var eventLevelNames = map[string]int{
	"critical": 1, "关键": 1, "严重": 1,
	"error": 2, "错误": 2,
	"warning": 3, "警告": 3,
	"information": 4, "信息": 4,
	"verbose": 5, "详细": 5,
}

// eventLevel reads Level, or LevelDisplayName when Level is missing; 0 when
// neither is known.
func eventLevel(rec PSListRecord) int {
	if n, err := strconv.Atoi(psListValue(rec, "Level")); err == nil {
		return n
	}
	return eventLevelNames[strings.ToLower(psListValue(rec, "LevelDisplayName"))]
}

// eventIgnored reports whether an ignore entry matches e: an event ID, a
// provider name, or provider/ID, compared without regard to case.
func eventIgnored(e WinEvent, ignore []string) bool {
	id := strconv.Itoa(e.ID)
	for _, rule := range ignore {
		rule = strings.TrimSpace(rule)
		provider, ruleID, hasID := cutLast(rule, "/")
		switch {
		case rule == id:
			return true
		case strings.EqualFold(rule, e.Provider):
			return true
		case hasID && ruleID == id && strings.EqualFold(provider, e.Provider):
			return true
		}
	}
	return false
}

func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// eventLevelName names a level for evidence lines, in both languages because
// evidence is one string.
func eventLevelName(level int) string {
	switch level {
	case 1:
		return "critical/严重"
	case 2:
		return "error/错误"
	case 3:
		return "warning/警告"
	}
	return "level " + strconv.Itoa(level)
}

// EvaluateEventLog judges one log's events: the count after ignore, judged
// by the threshold, with the counts per provider and event ID and the latest
// messages as evidence. prevID is the record saved by the previous run.
func EvaluateEventLog(req eventLogRequest, r EventLogRead, prevID int64, resumed bool) module.Finding {
	item := r.Log
	if r.Error != "" {
		return errorFinding(eventLogCheck, item, i18n.T(
			fmt.Sprintf("the %s event log could not be read: %s", r.Log, r.Error),
			fmt.Sprintf("无法读取 %s 事件日志，错误信息见证据", r.Log),
		), []string{r.Error})
	}

	var events []WinEvent
	ignored := 0
	for _, e := range r.Events {
		if eventIgnored(e, req.Ignore) {
			ignored++
			continue
		}
		events = append(events, e)
	}

	scope := i18n.T("since the last run", "自上次巡检以来")
	var notes i18n.Text
	switch {
	case req.Window > 0:
		scope = i18n.T("in the last "+FormatAge(req.Window), "最近 "+FormatAgeZH(req.Window)+"内")
	case !resumed:
		scope = i18n.T("in the last "+FormatAge(req.FirstWindow)+" (first run)", "最近 "+FormatAgeZH(req.FirstWindow)+"内（首次巡检）")
	case r.Mode == "window":
		scope = i18n.T("in the last "+FormatAge(req.FirstWindow), "最近 "+FormatAgeZH(req.FirstWindow)+"内")
		notes = joinText(notes, i18n.T(
			fmt.Sprintf("the log was cleared since the last run (newest record %d, saved %d)", r.Newest, prevID),
			fmt.Sprintf("自上次巡检后日志已被清除（最新记录 %d，上次保存 %d）", r.Newest, prevID),
		))
	case r.Oldest > prevID+1:
		notes = joinText(notes, i18n.T(
			fmt.Sprintf("records %d to %d were overwritten before this run read them; enlarge the log or inspect more often", prevID+1, r.Oldest-1),
			fmt.Sprintf("记录 %d 至 %d 在本次读取前已被覆盖；请增大日志容量或提高巡检频率", prevID+1, r.Oldest-1),
		))
	}
	if len(r.Events) >= req.MaxEvents {
		notes = joinText(notes, i18n.T(
			fmt.Sprintf("only the newest %d events were read (max_events)", req.MaxEvents),
			fmt.Sprintf("仅读取了最新的 %d 个事件（max_events）", req.MaxEvents),
		))
	}
	if ignored > 0 {
		notes = joinText(notes, i18n.T(fmt.Sprintf("%d ignored", ignored), fmt.Sprintf("已忽略 %d 个", ignored)))
	}

	count := len(events)
	noun := "events"
	if count == 1 {
		noun = "event"
	}
	f := req.Threshold.Measure(eventLogCheck, item, float64(count), i18n.T(
		fmt.Sprintf("%d %s %s", count, noun, scope.EN),
		fmt.Sprintf("%s %d 个事件", scope.ZH, count),
	))
	f.Metrics = map[string]float64{"events": float64(count), "ignored": float64(ignored), "newest_record": float64(r.Newest)}
	f.Message = i18n.T(
		fmt.Sprintf("%d critical or error %s in the %s log %s", count, noun, r.Log, scope.EN),
		fmt.Sprintf("%s 事件日志%s有 %d 个严重或错误事件", r.Log, scope.ZH, count),
	)
	if !notes.IsZero() {
		f.Message = i18n.T(f.Message.EN+"; "+notes.EN, f.Message.ZH+"；"+notes.ZH)
	}
	f.Evidence = eventEvidence(events, req.MaxExcerpts)
	return f
}

// maxEventGroups bounds the provider/ID count lines kept as evidence.
const maxEventGroups = 10

// eventEvidence lists counts per provider and event ID, most frequent first,
// then the latest events with their messages as the host wrote them.
func eventEvidence(events []WinEvent, maxExcerpts int) []string {
	type group struct {
		key   string
		count int
	}
	counts := map[string]int{}
	for _, e := range events {
		counts[fmt.Sprintf("%s/%d", e.Provider, e.ID)]++
	}
	groups := make([]group, 0, len(counts))
	for k, n := range counts {
		groups = append(groups, group{k, n})
	}
	slices.SortFunc(groups, func(a, b group) int {
		if a.count != b.count {
			return b.count - a.count
		}
		return strings.Compare(a.key, b.key)
	})

	var lines []string
	for i, g := range groups {
		if i == maxEventGroups {
			lines = append(lines, fmt.Sprintf("… %d more provider/ID groups", len(groups)-i))
			break
		}
		lines = append(lines, fmt.Sprintf("%s ×%d", g.key, g.count))
	}

	latest := slices.Clone(events)
	slices.SortStableFunc(latest, func(a, b WinEvent) int { return -cmpInt64(a.RecordID, b.RecordID) })
	for i, e := range latest {
		if i == maxExcerpts {
			break
		}
		msg := e.Message
		if msg == "" {
			msg = "(no message text; the provider's message file is missing on the host)"
		}
		if r := []rune(msg); len(r) > 300 {
			msg = string(r[:300]) + "…"
		}
		lines = append(lines, fmt.Sprintf("%s #%d [%s] %s/%d: %s", formatTime(e.Time), e.RecordID, eventLevelName(e.Level), e.Provider, e.ID, msg))
	}
	return lines
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
