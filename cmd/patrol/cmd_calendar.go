package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"patrol/i18n"
	"patrol/workday"
)

// calendarFlags are the flags of patrol calendar and its subcommands that
// shape the calendar itself.
type calendarFlags struct {
	file     string
	hours    string
	timezone string
}

func (a *app) calendarCommand() *cobra.Command {
	var cf calendarFlags
	var month string
	cmd := &cobra.Command{
		Use:   "calendar",
		Short: a.tr("Show the working days of a month in the Chinese official calendar", "显示某月的工作日（中国法定节假日与调休）"),
		Long: a.tr(
			"Show the working days of a month: weekends, statutory holidays and weekend days made working days (调休).\n"+
				"The holiday arrangement is built in for past years and the current and next year; a --calendar file adds newer announcements.",
			"显示某月的工作日：周末、法定节假日与调休上班日。\n"+
				"内置往年及当年、次年的放假安排；更新的通知可写入 --calendar 文件。"),
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			cal, err := a.loadCalendar(cf)
			if err != nil {
				return err
			}
			year, mon, err := a.parseMonth(month, cal)
			if err != nil {
				return err
			}
			return a.printMonth(cal, year, mon)
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&cf.file, "calendar", "", a.tr(
		"YAML file with holidays and make-up working days announced after this build (default: $PATROL_CALENDAR)",
		"YAML 文件，写入本程序构建之后公布的节假日与调休上班日（默认取 $PATROL_CALENDAR）"))
	pf.StringVar(&cf.hours, "business-hours", "", a.tr(
		"business hours as HH:MM-HH:MM; a deadline falls at the closing time (default: the calendar file's, else 08:30-18:00)",
		"工作时间，格式 HH:MM-HH:MM；期限落在下班时刻（默认取日历文件中的设置，否则为 08:30-18:00）"))
	pf.StringVar(&cf.timezone, "timezone", "", a.tr(
		"IANA time zone of the calendar (default: the calendar file's, else Asia/Shanghai)",
		"日历所用的 IANA 时区（默认取日历文件中的设置，否则为 Asia/Shanghai）"))
	cmd.Flags().StringVar(&month, "month", "", a.tr("month to show as YYYY-MM (default: the current month in the calendar's time zone)", "要显示的月份，格式 YYYY-MM（默认：日历时区的当前月份）"))
	cmd.AddCommand(a.calendarDeadlineCommand(&cf))
	return cmd
}

func (a *app) calendarDeadlineCommand(cf *calendarFlags) *cobra.Command {
	var severity, arrived, now string
	var workdays int
	cmd := &cobra.Command{
		Use:   "deadline",
		Short: a.tr("Print when a patch is due; the last line is the deadline in RFC 3339", "计算补丁的安装期限；最后一行是 RFC 3339 格式的期限"),
		Long: a.tr(
			"A patch that may wait N working days is due at the close of business on the N-th working day after the day it arrived, "+
				"whatever the hour it arrived and whether that day was a working day. Defaults: urgent 1, serious 1, normal 2 working days.",
			"可等待 N 个工作日的补丁，期限为到达当天之后第 N 个工作日的下班时刻，与到达的钟点以及当天是否工作日无关。"+
				"默认：紧急 1 个、严重 1 个、普通 2 个工作日。"),
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			cal, err := a.loadCalendar(*cf)
			if err != nil {
				return err
			}
			req, err := a.deadlineRequest(cal, severity, arrived, now, workdays, cmd.Flags().Changed("workdays"))
			if err != nil {
				return err
			}
			return a.printDeadline(cal, req)
		},
	}
	f := cmd.Flags()
	f.StringVar(&severity, "severity", "", a.tr("patch severity: urgent (紧急), serious (严重) or normal (普通)", "补丁级别：urgent（紧急）、serious（严重）或 normal（普通）"))
	f.StringVar(&arrived, "arrived", "", a.tr(
		"arrival time in RFC 3339 (2026-09-30T17:00:00+08:00), or YYYY-MM-DDTHH:MM in the calendar's time zone (default: now)",
		"到达时间，RFC 3339 格式（2026-09-30T17:00:00+08:00），或日历时区的 YYYY-MM-DDTHH:MM（默认：当前时间）"))
	f.IntVar(&workdays, "workdays", 0, a.tr("working days allowed, overriding the severity's default", "允许的工作日数，覆盖该级别的默认值"))
	f.StringVar(&now, "now", "", a.tr("moment to measure the time left from, in the same forms as --arrived (default: now)", "计算剩余时间的起点，格式同 --arrived（默认：当前时间）"))
	return cmd
}

// loadCalendar builds the calendar from the built-in data, the calendar file
// and the flags, which override the file.
func (a *app) loadCalendar(cf calendarFlags) (*workday.Calendar, error) {
	var cfg workday.Config
	file := cf.file
	if file == "" {
		file = os.Getenv("PATROL_CALENDAR")
	}
	if file != "" {
		ov, err := workday.LoadOverrides(file)
		if err != nil {
			return nil, invalid(err)
		}
		cfg.Overrides = ov
	}
	if cf.timezone != "" {
		loc, err := time.LoadLocation(cf.timezone)
		if err != nil {
			return nil, invalid(fmt.Errorf("--timezone %q: %s", cf.timezone,
				a.tr("unknown time zone; use an IANA name such as Asia/Shanghai", "未知的时区；请使用 IANA 时区名，例如 Asia/Shanghai")))
		}
		cfg.Location = loc
	}
	if cf.hours != "" {
		h, err := workday.ParseBusinessHours(cf.hours)
		if err != nil {
			return nil, invalid(fmt.Errorf("--business-hours %q: %s", cf.hours,
				a.tr("use HH:MM-HH:MM with the opening time first, for example 08:30-18:00", "请写成 HH:MM-HH:MM，开始时间在前，例如 08:30-18:00")))
		}
		cfg.Hours = h
	}
	cal, err := workday.New(cfg)
	if err != nil {
		return nil, invalid(err)
	}
	return cal, nil
}

// parseMonth reads --month as YYYY-MM; empty means the current month in the
// calendar's zone.
func (a *app) parseMonth(s string, cal *workday.Calendar) (int, time.Month, error) {
	if s == "" {
		today := cal.DateOf(time.Now())
		return today.Year, today.Month, nil
	}
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return 0, 0, invalid(fmt.Errorf("--month %q: %s", s,
			a.tr("invalid month; write it as YYYY-MM, for example 2026-10", "月份无效；请写成 YYYY-MM，例如 2026-10")))
	}
	return t.Year(), t.Month(), nil
}

// monthJSON is the object --output json prints for a month.
type monthJSON struct {
	Month         string    `json:"month"`
	TimeZone      string    `json:"timezone"`
	BusinessHours string    `json:"business_hours"`
	Covered       bool      `json:"covered"`
	Workdays      int       `json:"workdays"`
	Days          []dayJSON `json:"days"`
}

type dayJSON struct {
	Date    workday.Date `json:"date"`
	Weekday string       `json:"weekday"`
	Kind    workday.Kind `json:"kind"`
	Working bool         `json:"working"`
	Name    *i18n.Text   `json:"name,omitempty"`
	Source  string       `json:"source,omitempty"`
}

func (a *app) printMonth(cal *workday.Calendar, year int, month time.Month) error {
	days := cal.Month(year, month)
	working := 0
	for _, d := range days {
		if d.Kind.IsWorking() {
			working++
		}
	}

	if a.output == "json" {
		out := monthJSON{
			Month:         fmt.Sprintf("%04d-%02d", year, int(month)),
			TimeZone:      cal.Location().String(),
			BusinessHours: cal.Hours().String(),
			Covered:       cal.Covers(year),
			Workdays:      working,
		}
		for _, d := range days {
			out.Days = append(out.Days, toDayJSON(d))
		}
		return json.NewEncoder(a.stdout).Encode(out)
	}

	fmt.Fprintf(a.stdout, a.tr("%04d-%02d  time zone %s, business hours %s\n", "%04d-%02d  时区 %s，工作时间 %s\n"),
		year, int(month), cal.Location(), cal.Hours())
	a.printGrid(days)
	fmt.Fprintf(a.stdout, "%s\n\n", a.tr("H holiday   M make-up workday (weekend day worked)", "休 节假日   班 调休上班（周末上班）"))

	var arranged []workday.Day // days a notice or the calendar file sets
	for _, d := range days {
		if d.Source != "" {
			arranged = append(arranged, d)
		}
	}
	for _, run := range groupDays(arranged) {
		fmt.Fprintln(a.stdout, a.describeRun(run))
	}
	fmt.Fprintf(a.stdout, a.tr("working days: %d, days off: %d\n", "工作日 %d 天，休息日 %d 天\n"), working, len(days)-working)
	if !cal.Covers(year) {
		a.warnUncovered([]int{year})
	}
	return nil
}

// gridCell is the display width of a cell of the month grid: a day of up
// to three columns and a mark of up to two.
const gridCell = 5

// printGrid prints the month as weeks from Monday to Sunday, each cell
// gridCell display columns wide, so that a Chinese mark, two columns wide,
// keeps the days under their weekdays.
func (a *app) printGrid(days []workday.Day) {
	var header strings.Builder
	for _, wd := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday} {
		if a.lang == i18n.ZH {
			header.WriteString(padRight("  "+weekdayZH[wd], gridCell))
		} else {
			header.WriteString(padRight(" "+a.weekdayName(wd), gridCell))
		}
	}
	fmt.Fprintln(a.stdout, strings.TrimRight(header.String(), " "))

	var line strings.Builder
	offset := (int(days[0].Date.Weekday()) + 6) % 7 // Monday is column 0
	line.WriteString(strings.Repeat(" ", offset*gridCell))
	for _, d := range days {
		line.WriteString(padRight(fmt.Sprintf("%3d%s", d.Date.Day, a.dayMark(d.Kind)), gridCell))
		if d.Date.Weekday() == time.Sunday {
			fmt.Fprintln(a.stdout, strings.TrimRight(line.String(), " "))
			line.Reset()
		}
	}
	if line.Len() > 0 {
		fmt.Fprintln(a.stdout, strings.TrimRight(line.String(), " "))
	}
}

// dayMark is the mark after a day in the grid, empty for an ordinary
// working day or weekend day.
func (a *app) dayMark(k workday.Kind) string {
	switch k {
	case workday.Holiday:
		return a.tr("H", "休")
	case workday.MakeupWorkday:
		return a.tr("M", "班")
	}
	return ""
}

// weekdayName is the weekday as dates are listed: Mon, 周一.
func (a *app) weekdayName(wd time.Weekday) string {
	return a.tr(wd.String()[:3], "周"+weekdayZH[wd])
}

// weekdayZH are the one-character Chinese weekday names of the grid header.
var weekdayZH = [...]string{"日", "一", "二", "三", "四", "五", "六"}

// deadlineRequest is a checked deadline question.
type deadlineRequest struct {
	severity workday.Severity // empty when only --workdays was given
	workdays int
	arrived  time.Time
	now      time.Time
}

func (a *app) deadlineRequest(cal *workday.Calendar, severity, arrived, now string, workdays int, workdaysSet bool) (deadlineRequest, error) {
	var req deadlineRequest
	if severity == "" && !workdaysSet {
		return req, invalid(errors.New(a.tr(
			"give --severity urgent, serious or normal, or --workdays N",
			"请指定 --severity urgent、serious 或 normal，或指定 --workdays N")))
	}
	if severity != "" {
		sev, err := workday.ParseSeverity(severity)
		if err != nil {
			return req, invalid(fmt.Errorf("--severity %q: %s", severity,
				a.tr("invalid severity; use urgent (紧急), serious (严重) or normal (普通)", "补丁级别无效；请使用 urgent（紧急）、serious（严重）或 normal（普通）")))
		}
		req.severity = sev
		req.workdays, _ = workday.DefaultPolicy().Workdays(sev)
	}
	if workdaysSet {
		if workdays < 1 {
			return req, invalid(fmt.Errorf("--workdays %d: %s", workdays,
				a.tr("must be a whole number of at least 1", "必须是不小于 1 的整数")))
		}
		req.workdays = workdays
	}

	var err error
	if req.arrived, err = a.parseMoment("--arrived", arrived, cal); err != nil {
		return req, err
	}
	if req.now, err = a.parseMoment("--now", now, cal); err != nil {
		return req, err
	}
	return req, nil
}

// parseMoment reads a time given as RFC 3339, or without an offset in the
// calendar's zone; empty means the current time.
func (a *app) parseMoment(flag, s string, cal *workday.Calendar) (time.Time, error) {
	if s == "" {
		return time.Now(), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, cal.Location()); err == nil {
			return t, nil
		}
	}
	return time.Time{}, invalid(fmt.Errorf("%s %q: %s", flag, s, a.tr(
		"invalid time; use RFC 3339 such as 2026-09-30T17:00:00+08:00, or YYYY-MM-DDTHH:MM in the calendar's time zone",
		"时间无效；请使用 RFC 3339 格式，例如 2026-09-30T17:00:00+08:00，或日历时区的 YYYY-MM-DDTHH:MM")))
}

// deadlineJSON is the object --output json prints for a deadline.
type deadlineJSON struct {
	Severity       string         `json:"severity,omitempty"`
	Workdays       int            `json:"workdays"`
	Arrived        string         `json:"arrived"`
	ArrivalDay     workday.Date   `json:"arrival_day"`
	Deadline       string         `json:"deadline"`
	TimeZone       string         `json:"timezone"`
	BusinessHours  string         `json:"business_hours"`
	Counted        []workday.Date `json:"counted"`
	Skipped        []dayJSON      `json:"skipped"`
	UncoveredYears []int          `json:"uncovered_years"`
	Now            string         `json:"now"`
	Remaining      remainingJSON  `json:"remaining"`
}

type remainingJSON struct {
	Overdue         bool  `json:"overdue"`
	CalendarSeconds int64 `json:"calendar_seconds"`
	WorkingSeconds  int64 `json:"working_seconds"`
	Workdays        int   `json:"workdays"`
}

func (a *app) printDeadline(cal *workday.Calendar, req deadlineRequest) error {
	due := cal.Due(req.arrived, req.workdays)
	left := cal.Remaining(req.now, due.Deadline)

	if a.output == "json" {
		out := deadlineJSON{
			Severity:       string(req.severity),
			Workdays:       due.Workdays,
			Arrived:        due.Arrived.Format(time.RFC3339),
			ArrivalDay:     due.ArrivalDay,
			Deadline:       due.Deadline.Format(time.RFC3339),
			TimeZone:       cal.Location().String(),
			BusinessHours:  cal.Hours().String(),
			Counted:        due.Counted,
			Skipped:        []dayJSON{},
			UncoveredYears: append([]int{}, due.Uncovered...),
			Now:            req.now.In(cal.Location()).Format(time.RFC3339),
			Remaining: remainingJSON{
				Overdue:         left.Overdue,
				CalendarSeconds: int64(left.Calendar / time.Second),
				WorkingSeconds:  int64(left.Working / time.Second),
				Workdays:        left.Workdays,
			},
		}
		for _, d := range due.Skipped {
			out.Skipped = append(out.Skipped, toDayJSON(d))
		}
		return json.NewEncoder(a.stdout).Encode(out)
	}

	rule := a.tr("1 working day after the arrival day", "到达当天之后 1 个工作日")
	if due.Workdays > 1 {
		rule = fmt.Sprintf(a.tr("%d working days after the arrival day", "到达当天之后 %d 个工作日"), due.Workdays)
	}
	if req.severity != "" {
		rule = req.severity.Text().In(a.lang) + a.tr(": ", "：") + rule
	}
	fmt.Fprintf(a.stdout, a.tr("rule: %s\n", "规则：%s\n"), rule)
	fmt.Fprintf(a.stdout, a.tr("arrived: %s %s\n", "到达：%s %s\n"), due.Arrived.Format(time.RFC3339), a.weekdayName(due.Arrived.Weekday()))
	for _, run := range groupDays(due.Skipped) {
		fmt.Fprintf(a.stdout, a.tr("skipped: %s\n", "跳过：%s\n"), a.describeRun(run))
	}
	for _, d := range due.Counted {
		fmt.Fprintf(a.stdout, a.tr("counted: %s %s %s\n", "计入：%s %s %s\n"), d, a.weekdayName(d.Weekday()), cal.Kind(d).Text().In(a.lang))
	}
	fmt.Fprintf(a.stdout, a.tr("due at the close of business: %s, time zone %s\n", "期限为下班时刻：%s，时区 %s\n"), cal.Hours().Close, cal.Location())
	if left.Overdue {
		fmt.Fprintf(a.stdout, a.tr("overdue by %s\n", "已超期 %s\n"), formatDuration(-left.Calendar, a))
	} else {
		day := a.tr("due today", "今天到期")
		switch n := left.Workdays; {
		case n == 1:
			day = a.tr("due on the next working day", "下一个工作日到期")
		case n > 1:
			day = a.tr(fmt.Sprintf("due %d working days after today", n), fmt.Sprintf("今天之后第 %d 个工作日到期", n))
		}
		fmt.Fprintf(a.stdout, a.tr("time left: %s (%s of business hours; %s)\n", "剩余时间：%s（其中工作时间 %s；%s）\n"),
			formatDuration(left.Calendar, a), formatHours(left.Working, a), day)
	}
	if len(due.Uncovered) > 0 {
		a.warnUncovered(due.Uncovered)
	}
	fmt.Fprintln(a.stdout, due.Deadline.Format(time.RFC3339))
	return nil
}

// warnUncovered prints a warning on stderr for years without a built-in or
// file arrangement.
func (a *app) warnUncovered(years []int) {
	list := make([]string, len(years))
	for i, y := range years {
		list[i] = strconv.Itoa(y)
	}
	fmt.Fprintf(a.stderr, "%s: %s %s\n", a.tr("warning", "警告"), strings.Join(list, ", "), a.tr(
		"has no holiday arrangement in this build, so only weekends count as days off; add the State Council notice to a --calendar file",
		"没有内置的放假安排，只有周末算作休息日；请把国务院的放假通知写入 --calendar 文件"))
}

// groupDays splits consecutive days of the same kind and name into runs.
func groupDays(days []workday.Day) [][]workday.Day {
	var runs [][]workday.Day
	for _, d := range days {
		if n := len(runs); n > 0 {
			last := runs[n-1][len(runs[n-1])-1]
			if last.Kind == d.Kind && last.Name == d.Name && last.Date.AddDays(1) == d.Date {
				runs[n-1] = append(runs[n-1], d)
				continue
			}
		}
		runs = append(runs, []workday.Day{d})
	}
	return runs
}

func (a *app) describeRun(run []workday.Day) string {
	first, last := run[0], run[len(run)-1]
	span := first.Date.String()
	if len(run) > 1 {
		span += " … " + last.Date.String()
	}
	s := fmt.Sprintf("%s %s %s", span, a.weekdayName(first.Date.Weekday()), first.Kind.Text().In(a.lang))
	if len(run) > 1 {
		s = fmt.Sprintf("%s %s", span, first.Kind.Text().In(a.lang))
	}
	if !first.Name.IsZero() {
		s += " " + first.Name.In(a.lang)
	}
	return s
}

// formatDuration writes d as days, hours and minutes.
// formatHours formats business time in hours and minutes only: a day of
// business time is 9.5 hours by default, so days of 24 hours would mislead.
func formatHours(d time.Duration, a *app) string {
	d = d.Round(time.Minute)
	return fmt.Sprintf(a.tr("%dh %dm", "%d 小时 %d 分"), int(d/time.Hour), int(d%time.Hour/time.Minute))
}

func formatDuration(d time.Duration, a *app) string {
	d = d.Round(time.Minute)
	days := int(d / (24 * time.Hour))
	hours := int(d % (24 * time.Hour) / time.Hour)
	minutes := int(d % time.Hour / time.Minute)
	if days > 0 {
		return fmt.Sprintf(a.tr("%dd %dh %dm", "%d 天 %d 小时 %d 分"), days, hours, minutes)
	}
	return fmt.Sprintf(a.tr("%dh %dm", "%d 小时 %d 分"), hours, minutes)
}

func toDayJSON(d workday.Day) dayJSON {
	out := dayJSON{Date: d.Date, Weekday: d.Date.Weekday().String(), Kind: d.Kind, Working: d.Kind.IsWorking(), Source: d.Source}
	if !d.Name.IsZero() {
		name := d.Name
		out.Name = &name
	}
	return out
}
