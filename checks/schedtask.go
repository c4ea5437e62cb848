package checks

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"patrol/i18n"
	"patrol/module"
)

const schedTaskCheck = "check.schedtask"

func schedTaskSpec() *module.Spec {
	return &module.Spec{
		Name:  schedTaskCheck,
		Title: i18n.T("Scheduled task results", "计划任务执行结果"),
		Doc:   i18n.T("Windows: each listed scheduled task (such as a backup job) must exist, be enabled, have ended with result 0 and, with max_age, have run recently.", "Windows：列出的每个计划任务（如备份作业）必须存在、已启用、上次结果为 0；设置 max_age 时还须在近期运行过。"),
		Check: true,
		Args: []module.Arg{
			{Name: "tasks", Type: module.Strings, Required: true, Doc: i18n.T(`task paths such as \Backup\OracleFull, or bare task names found in any folder`, `任务路径，如 \Backup\OracleFull，或在任意文件夹中查找的任务名`)},
			{Name: "max_age", Type: module.String, Doc: i18n.T("age of the last run at which the check fails, such as 26h for a daily job (optional)", "上次运行距今达到该值时判为不合格，每日作业如 26h（可选）")},
		},
		Run: runSchedTask,
	}
}

// SchedTask is one scheduled task as the probe reports it.
type SchedTask struct {
	// Requested is the name or path given in the task's arguments.
	Requested string
	Found     bool
	Path      string // \Backup\OracleFull
	// State is Unknown, Disabled, Queued, Ready or Running.
	State   string
	Enabled bool
	// LastRun and NextRun are UTC, or the host's wall clock when read from
	// published output. They are zero when the task never ran or has no
	// next run, for which the Task Scheduler reports 1899-12-30 or 1999-11-30.
	LastRun time.Time
	NextRun time.Time
	// LastResult is LastTaskResult as an unsigned 32-bit HRESULT or exit code.
	LastResult uint32
	MissedRuns int
}

type schedTaskProbe func(ctx context.Context, env *module.Env, names []string) ([]SchedTask, *module.Finding)

var schedTaskProbes = perOS[schedTaskProbe]{}

func runSchedTask(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
	maxAge, _, err := durationArg(args, "max_age")
	if err != nil {
		return result([]module.Finding{argError(schedTaskCheck, err)}), nil
	}
	names := stringList(args, "tasks")
	if len(names) == 0 {
		return result([]module.Finding{argError(schedTaskCheck, fmt.Errorf("tasks: %w: list at least one task path or name", errArg))}), nil
	}
	probe := schedTaskProbes.pick(env)
	if probe == nil {
		return result([]module.Finding{unsupportedOS(schedTaskCheck)}), nil
	}
	tasks, failed := probe(ctx, env, names)
	if failed != nil {
		return result([]module.Finding{*failed}), nil
	}
	var findings []module.Finding
	for _, t := range tasks {
		findings = append(findings, EvaluateSchedTask(t, maxAge, now(env)))
	}
	return result(findings), nil
}

// ParseSchedTasks parses Format-List records of scheduled tasks with the
// property names of Get-ScheduledTaskInfo (LastRunTime, LastTaskResult,
// NextRunTime, NumberOfMissedRuns, TaskName, TaskPath), which the probe
// extends with Requested, Found, State and Enabled. The probe prints times in
// UTC ISO 8601; published output shows them in the host culture, read with
// shortDatePattern as the host's wall clock. A record without Found is a
// task that exists, and one without Enabled is enabled unless its State is
// Disabled, as Get-ScheduledTaskInfo lists only tasks that exist.
func ParseSchedTasks(out []byte, shortDatePattern string) ([]SchedTask, error) {
	var tasks []SchedTask
	for _, rec := range ParsePSList(out) {
		if !rec.Has("LastTaskResult") && !rec.Has("Requested") {
			continue
		}
		t := SchedTask{
			Requested: psListValue(rec, "Requested"),
			Found:     !strings.EqualFold(psListValue(rec, "Found"), "false"),
			State:     psListValue(rec, "State"),
			LastRun:   taskTime(rec.Get("LastRunTime"), shortDatePattern),
			NextRun:   taskTime(rec.Get("NextRunTime"), shortDatePattern),
		}
		t.Enabled = !strings.EqualFold(psListValue(rec, "Enabled"), "false") && t.State != "Disabled"
		if name := psListValue(rec, "TaskName"); name != "" {
			t.Path = strings.TrimSuffix(psListValue(rec, "TaskPath"), `\`) + `\` + name
		}
		if t.Requested == "" {
			t.Requested = t.Path
		}
		t.MissedRuns, _ = strconv.Atoi(psListValue(rec, "NumberOfMissedRuns"))
		// The COM API and Get-ScheduledTaskInfo give LastTaskResult as a
		// signed 32-bit number, so 0x8004131F arrives as -2147216609.
		if n, err := strconv.ParseInt(psListValue(rec, "LastTaskResult"), 10, 64); err == nil {
			t.LastResult = uint32(n)
		}
		tasks = append(tasks, t)
	}
	if len(tasks) == 0 {
		return nil, fmt.Errorf("no scheduled task record with LastTaskResult or Requested in the output")
	}
	return tasks, nil
}

// taskTime reads a task time; the Task Scheduler's placeholders for "never"
// (1899-12-30 and 1999-11-30, years before 2000) read as zero.
func taskTime(raw, shortDatePattern string) time.Time {
	t, _, ok := parsePSDateTime(raw, shortDatePattern)
	if !ok || t.Year() < 2000 {
		return time.Time{}
	}
	return t
}

// Task Scheduler result codes with a meaning of their own (SCHED_S_* and
// SCHED_E_* in winerror.h, and common Win32 errors as HRESULTs).
const (
	taskReady        = 0x41300
	taskRunning      = 0x41301
	taskDisabled     = 0x41302
	taskHasNotRun    = 0x41303
	taskNoMoreRuns   = 0x41304
	taskTerminated   = 0x41306
	taskAlreadyRuns  = 0x8004131F
	taskNoCredential = 0x8004130F
	taskRefused      = 0x800710E0
	taskFileNotFound = 0x80070002
	taskAccessDenied = 0x80070005
	taskNotLoggedOn  = 0x800704DD
	taskCtrlC        = 0xC000013A
)

// DecodeTaskResult names a LastTaskResult in both languages.
func DecodeTaskResult(code uint32) i18n.Text {
	switch code {
	case 0:
		return i18n.T("succeeded (0)", "成功（0）")
	case taskReady:
		return i18n.T("ready (0x41300)", "就绪（0x41300）")
	case taskRunning:
		return i18n.T("running now (0x41301)", "正在运行（0x41301）")
	case taskDisabled:
		return i18n.T("disabled (0x41302)", "已禁用（0x41302）")
	case taskHasNotRun:
		return i18n.T("has never run (0x41303)", "从未运行（0x41303）")
	case taskNoMoreRuns:
		return i18n.T("no more runs scheduled (0x41304)", "无后续计划运行（0x41304）")
	case taskTerminated:
		return i18n.T("terminated by a user (0x41306)", "被用户终止（0x41306）")
	case taskAlreadyRuns:
		return i18n.T("not started because an instance was already running (0x8004131F)", "已有实例在运行，未启动（0x8004131F）")
	case taskNoCredential:
		return i18n.T("the run-as account's credentials are not set (0x8004130F)", "未设置运行账户凭据（0x8004130F）")
	case taskRefused:
		return i18n.T("the operator or administrator refused the request (0x800710E0)", "操作员或管理员拒绝了该请求（0x800710E0）")
	case taskFileNotFound:
		return i18n.T("the program or file was not found (0x80070002)", "找不到程序或文件（0x80070002）")
	case taskAccessDenied:
		return i18n.T("access denied (0x80070005)", "拒绝访问（0x80070005）")
	case taskNotLoggedOn:
		return i18n.T("the run-as user is not logged on (0x800704DD)", "运行账户未登录（0x800704DD）")
	case taskCtrlC:
		return i18n.T("the program was ended with Ctrl+C or closed (0xC000013A)", "程序被 Ctrl+C 终止或被关闭（0xC000013A）")
	}
	if code < 0x10000 {
		return i18n.T(fmt.Sprintf("the program exited with code %d", code), fmt.Sprintf("程序退出码 %d", code))
	}
	return i18n.T(fmt.Sprintf("failed with 0x%08X", code), fmt.Sprintf("失败，错误码 0x%08X", code))
}

// EvaluateSchedTask fails a task that is missing, disabled, ended with a
// result other than 0 (or still running), or whose last run is maxAge old
// or older. A task that has never run or has no next run warns.
func EvaluateSchedTask(t SchedTask, maxAge time.Duration, at time.Time) module.Finding {
	f := module.Finding{
		Check:     schedTaskCheck,
		Item:      t.Requested,
		Status:    module.StatusOK,
		Threshold: i18n.T("enabled, last result 0", "已启用，上次结果为 0"),
	}
	if maxAge > 0 {
		f.Threshold = i18n.T("enabled, last result 0, last run <"+FormatAge(maxAge)+" ago", "已启用，上次结果为 0，上次运行距今 <"+FormatAgeZH(maxAge))
	}
	if !t.Found {
		f.Status, f.Value = module.StatusFail, i18n.T("not found", "不存在")
		f.Message = i18n.T(
			"no scheduled task "+t.Requested+" exists; check the name with Get-ScheduledTask or schtasks /query",
			"计划任务 "+t.Requested+" 不存在；请用 Get-ScheduledTask 或 schtasks /query 核对名称",
		)
		return f
	}

	last, next := "never", "none"
	lastZH, nextZH := "从未运行", "无"
	if !t.LastRun.IsZero() {
		last = formatTime(t.LastRun)
		lastZH = last
	}
	if !t.NextRun.IsZero() {
		next = formatTime(t.NextRun)
		nextZH = next
	}
	f.Evidence = []string{fmt.Sprintf("%s state=%s enabled=%t last_run=%s last_result=0x%X next_run=%s missed_runs=%d",
		t.Path, t.State, t.Enabled, last, t.LastResult, next, t.MissedRuns)}
	f.Metrics = map[string]float64{"last_result": float64(t.LastResult), "missed_runs": float64(t.MissedRuns)}
	res := DecodeTaskResult(t.LastResult)
	f.Value = i18n.T(res.EN+", last run "+last, res.ZH+"，上次运行 "+lastZH)
	where := i18n.T(fmt.Sprintf("%s (last run %s, next run %s)", t.Path, last, next), fmt.Sprintf("%s（上次运行 %s，下次运行 %s）", t.Path, lastZH, nextZH))

	var age time.Duration
	if !t.LastRun.IsZero() {
		age = at.Sub(t.LastRun)
		f.Metrics["last_run_age_seconds"] = age.Seconds()
	}
	switch {
	case !t.Enabled || t.State == "Disabled":
		f.Status, f.Value = module.StatusFail, i18n.T("disabled", "已禁用")
		f.Message = i18n.T("the task "+where.EN+" is disabled, so it does not run; enable it", "任务 "+where.ZH+" 已禁用，不会运行；请启用")
	case t.LastResult == taskHasNotRun || t.LastRun.IsZero():
		f.Status = module.StatusWarn
		f.Message = i18n.T("the task "+where.EN+" has never run", "任务 "+where.ZH+" 从未运行")
	case t.LastResult == taskRunning || t.State == "Running":
		f.Message = i18n.T("the task "+where.EN+" is running now", "任务 "+where.ZH+" 正在运行")
	case t.LastResult != 0 && t.LastResult != taskReady:
		f.Status = module.StatusFail
		f.Message = i18n.T("the last run of "+where.EN+" failed: "+res.EN+"; see the task's history and the job's own log", "任务 "+where.ZH+" 上次运行失败："+res.ZH+"；请查看任务历史和作业自身日志")
	default:
		f.Message = i18n.T("the last run of "+where.EN+" succeeded", "任务 "+where.ZH+" 上次运行成功")
	}
	if f.Status == module.StatusFail {
		return f
	}

	switch {
	case maxAge > 0 && !t.LastRun.IsZero() && age >= maxAge:
		f.Status = module.StatusFail
		f.Message = joinText(f.Message, i18n.T("but it last ran "+FormatAge(age)+" ago; check its trigger and whether the host was off", "但上次运行已是 "+FormatAgeZH(age)+"前；请检查触发器以及主机是否曾关机"))
	case t.NextRun.IsZero():
		f.Status = module.StatusWarn
		f.Message = joinText(f.Message, i18n.T("and no next run is scheduled", "且没有下次运行计划"))
	case t.MissedRuns > 0 && f.Status == module.StatusOK:
		f.Status = module.StatusWarn
		f.Message = joinText(f.Message, i18n.T(fmt.Sprintf("but %d scheduled runs were missed", t.MissedRuns), fmt.Sprintf("但错过了 %d 次计划运行", t.MissedRuns)))
	}
	return f
}
