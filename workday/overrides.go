package workday

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"patrol/i18n"
	"patrol/internal/typo"
)

// Overrides is an override file: holiday arrangements announced after the
// binary was built, and optionally the calendar's time zone and business
// hours. The file looks like this:
//
//	timezone: Asia/Shanghai        # optional
//	business_hours: 08:30-18:00    # optional
//	years: [2028]                  # optional: years this file describes completely
//	holidays:
//	  - date: 2028-01-01
//	    name: 元旦
//	  - from: 2028-01-25
//	    to: 2028-02-01
//	    name: 春节
//	workdays:                      # days worked in exchange for a holiday (调休)
//	  - date: 2028-01-23
//	    name: 春节
type Overrides struct {
	// File is the path the overrides were read from.
	File string
	// Years are the years the file describes completely: the built-in entries
	// dated in them are dropped and the years count as covered.
	Years []int
	// Days are the holidays and working days the file sets, in file order,
	// each with Source "file:line".
	Days []Day
	// Location is the timezone the file sets, or nil.
	Location *time.Location
	// Hours are the business hours the file sets, or nil.
	Hours *BusinessHours
}

// maxPeriodDays is the maximum length of a holiday period written with from
// and to. The longest period in the built-in data is ten days (Spring Festival
// 2020, extended), so a longer one is most likely a wrong year or month.
const maxPeriodDays = 31

var (
	topKeys     = []string{"timezone", "business_hours", "years", "holidays", "workdays"}
	holidayKeys = []string{"date", "from", "to", "name", "name_en"}
	workdayKeys = []string{"date", "from", "to", "name", "name_en"}
)

// LoadOverrides reads an override file. Every problem in it is reported at
// once in a *ValidationError, each with file:line:column.
func LoadOverrides(path string) (*Overrides, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &ValidationError{Problems: []Problem{{File: path, Text: msg(
			"cannot read the calendar file: %v; check the path given with --calendar or PATROL_CALENDAR",
			"无法读取日历文件：%v；请检查 --calendar 或 PATROL_CALENDAR 给出的路径", err)}}}
	}
	return ParseOverrides(path, data)
}

// ParseOverrides reads override file content; file names it in messages.
func ParseOverrides(file string, data []byte) (*Overrides, error) {
	p := &overrideParser{file: file, ov: &Overrides{File: file}, seen: map[Date]Day{}}
	p.parse(data)
	if len(p.problems) > 0 {
		slices.SortStableFunc(p.problems, func(a, b Problem) int {
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return a.Column - b.Column
		})
		return nil, &ValidationError{Problems: p.problems}
	}
	return p.ov, nil
}

type overrideParser struct {
	file     string
	ov       *Overrides
	problems []Problem
	// seen holds each date already set, to find a date listed twice.
	seen map[Date]Day
}

// yamlErrorLine finds the line number in a yaml.v3 syntax error ("yaml: line 3: …").
var yamlErrorLine = regexp.MustCompile(`line (\d+)`)

func (p *overrideParser) parse(data []byte) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return // an empty file overrides nothing
		}
		line := 0
		if m := yamlErrorLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		reason := strings.TrimPrefix(err.Error(), "yaml: ")
		reason = strings.TrimPrefix(reason, "line "+strconv.Itoa(line)+": ")
		// NOTE: yaml.v3 names the line where its parser noticed the error,
		// which can be a line or two before the mistake (a tab on line 3 is
		// reported at line 2).
		p.problems = append(p.problems, Problem{File: p.file, Line: line, Text: msg(
			"invalid YAML: %s; fix the syntax at or just after this line", "YAML 语法错误：%s；请修正此行或其后几行的语法", reason)})
		return
	}
	if len(doc.Content) == 0 {
		return
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return
	}
	if root.Kind != yaml.MappingNode {
		got := describe(root)
		p.problem(root, i18n.T(
			fmt.Sprintf("the calendar file must be a mapping with the keys %s, got %s", strings.Join(topKeys, ", "), got.EN),
			fmt.Sprintf("日历文件必须是包含 %s 键的映射，实际为%s", strings.Join(topKeys, "、"), got.ZH)))
		return
	}

	for _, kv := range p.pairs(root, topKeys, "") {
		switch kv.key.Value {
		case "timezone":
			p.parseTimezone(kv.value)
		case "business_hours":
			p.parseHours(kv.value)
		case "years":
			p.parseYears(kv.value)
		case "holidays":
			p.parseEntries(kv.value, Holiday)
		case "workdays":
			p.parseEntries(kv.value, Workday)
		}
	}
}

func (p *overrideParser) parseTimezone(n *yaml.Node) {
	if !p.isScalar(n, "timezone", "an IANA time zone name such as Asia/Shanghai", "IANA 时区名，例如 Asia/Shanghai") {
		return
	}
	loc, err := time.LoadLocation(n.Value)
	if err != nil || n.Value == "" || n.Value == "Local" {
		p.problem(n, msg("unknown timezone %q: write an IANA time zone name such as Asia/Shanghai",
			"未知的时区 %q：请填写 IANA 时区名，例如 Asia/Shanghai", n.Value))
		return
	}
	p.ov.Location = loc
}

func (p *overrideParser) parseHours(n *yaml.Node) {
	if !p.isScalar(n, "business_hours", "HH:MM-HH:MM such as 08:30-18:00", "HH:MM-HH:MM，例如 08:30-18:00") {
		return
	}
	h, err := ParseBusinessHours(n.Value)
	if err != nil {
		p.problem(n, msg("invalid business_hours %q: write them as HH:MM-HH:MM with the opening time first, for example 08:30-18:00",
			"business_hours 的值 %q 无效：请写成 HH:MM-HH:MM，开始时间在前，例如 08:30-18:00", n.Value))
		return
	}
	p.ov.Hours = &h
}

func (p *overrideParser) parseYears(n *yaml.Node) {
	if n.Kind != yaml.SequenceNode {
		got := describe(n)
		p.problem(n, i18n.T(
			fmt.Sprintf("years must be a list of years such as [2028], got %s", got.EN),
			fmt.Sprintf("years 必须是年份列表，例如 [2028]，实际为%s", got.ZH)))
		return
	}
	for _, item := range n.Content {
		year, err := strconv.Atoi(item.Value)
		if item.Kind != yaml.ScalarNode || err != nil || year < 1949 || year > 2200 {
			p.problem(item, msg("invalid year %q in years: write a four-digit year such as 2028",
				"years 中的年份 %q 无效：请填写四位数年份，例如 2028", item.Value))
			continue
		}
		if !slices.Contains(p.ov.Years, year) {
			p.ov.Years = append(p.ov.Years, year)
		}
	}
}

// parseEntries reads the holidays list (kind Holiday) or the workdays list
// (kind Workday; weekend dates become MakeupWorkday).
func (p *overrideParser) parseEntries(n *yaml.Node, kind Kind) {
	list, keys := "holidays", holidayKeys
	if kind == Workday {
		list, keys = "workdays", workdayKeys
	}
	if n.Kind != yaml.SequenceNode {
		got := describe(n)
		p.problem(n, i18n.T(
			fmt.Sprintf("%s must be a list of entries with date (or from and to) and name, got %s", list, got.EN),
			fmt.Sprintf("%s 必须是条目列表，每条包含 date（或 from 和 to）与 name，实际为%s", list, got.ZH)))
		return
	}
	for _, item := range n.Content {
		if item.Kind != yaml.MappingNode {
			got := describe(item)
			p.problem(item, i18n.T(
				fmt.Sprintf("an entry of %s must be a mapping with date (or from and to) and name, got %s", list, got.EN),
				fmt.Sprintf("%s 的条目必须是包含 date（或 from 和 to）与 name 的映射，实际为%s", list, got.ZH)))
			continue
		}
		p.parseEntry(item, list, keys, kind)
	}
}

func (p *overrideParser) parseEntry(item *yaml.Node, list string, keys []string, kind Kind) {
	fields := map[string]*yaml.Node{}
	for _, kv := range p.pairs(item, keys, list) {
		fields[kv.key.Value] = kv.value
	}

	dates, ok := p.entryDates(item, fields)
	if !ok {
		return
	}

	var name i18n.Text
	if n := fields["name"]; n != nil && p.isScalar(n, "name", "the holiday's name such as 春节", "节日名称，例如 春节") {
		name = holidayName(strings.TrimSpace(n.Value))
	}
	if n := fields["name_en"]; n != nil && p.isScalar(n, "name_en", "the holiday's English name", "节日的英文名称") {
		name.EN = strings.TrimSpace(n.Value)
	}
	if kind == Holiday && name.ZH == "" && name.EN == "" {
		p.problem(item, msg("a holiday needs a name, for example name: 春节; add it to the entry of %s",
			"节假日必须有名称，例如 name: 春节；请在 %s 的条目中补上", dates[0]))
		return
	}

	source := fmt.Sprintf("%s:%d", p.file, item.Line)
	for _, d := range dates {
		day := Day{Date: d, Kind: kind, Name: name, Source: source}
		if kind == Workday && d.IsWeekend() {
			day.Kind = MakeupWorkday
		}
		p.add(item, day)
	}
}

// entryDates returns the dates an entry names with date, or with from and to.
func (p *overrideParser) entryDates(item *yaml.Node, fields map[string]*yaml.Node) ([]Date, bool) {
	dateNode, fromNode, toNode := fields["date"], fields["from"], fields["to"]
	switch {
	case dateNode != nil && (fromNode != nil || toNode != nil):
		p.problem(item, msg("an entry has date and also from/to; write either date for one day or from and to for a period",
			"条目同时写了 date 和 from/to；单日请只写 date，时间段请只写 from 和 to"))
		return nil, false
	case dateNode != nil:
		d, ok := p.date(dateNode, "date")
		return []Date{d}, ok
	case fromNode == nil && toNode == nil:
		p.problem(item, msg("an entry has no date; add date: YYYY-MM-DD, or from and to for a period",
			"条目缺少日期；请添加 date: YYYY-MM-DD，或用 from 和 to 表示时间段"))
		return nil, false
	case fromNode == nil || toNode == nil:
		p.problem(item, msg("a period needs both from and to (the first and the last day, YYYY-MM-DD)",
			"时间段必须同时写 from 和 to（第一天和最后一天，YYYY-MM-DD）"))
		return nil, false
	}

	from, okFrom := p.date(fromNode, "from")
	to, okTo := p.date(toNode, "to")
	if !okFrom || !okTo {
		return nil, false
	}
	days := daysBetween(from, to)
	if days < 0 {
		p.problem(toNode, msg("to %s is earlier than from %s; swap them", "to %s 早于 from %s；请交换两者", to, from))
		return nil, false
	}
	if days >= maxPeriodDays {
		p.problem(toNode, msg("the period %s to %s is %d days long, more than %d; check the year and the month, or split it",
			"时间段 %s 至 %s 共 %d 天，超过 %d 天；请检查年份和月份，或拆成几段", from, to, days+1, maxPeriodDays))
		return nil, false
	}
	var dates []Date
	for d := from; !d.After(to); d = d.AddDays(1) {
		dates = append(dates, d)
	}
	return dates, true
}

// add records day unless the file already gave its date another kind or
// name.
func (p *overrideParser) add(at *yaml.Node, day Day) {
	if prev, dup := p.seen[day.Date]; dup {
		if prev.Kind.IsWorking() != day.Kind.IsWorking() {
			p.problem(at, i18n.T(
				fmt.Sprintf("%s is listed as a %s here and as a %s at %s; keep only the one the announcement gives",
					day.Date, day.Kind.Text().EN, prev.Kind.Text().EN, prev.Source),
				fmt.Sprintf("%s 在此处列为%s，在 %s 又列为%s；请只保留公告给出的那一项",
					day.Date, day.Kind.Text().ZH, prev.Source, prev.Kind.Text().ZH)))
			return
		}
		if prev.Name != day.Name {
			p.problem(at, i18n.T(
				fmt.Sprintf("%s is listed twice with different names, %q here and %q at %s; keep one",
					day.Date, day.Name.ZH, prev.Name.ZH, prev.Source),
				fmt.Sprintf("%s 被列了两次且名称不同：此处为 %q，%s 处为 %q；请只保留一个",
					day.Date, day.Name.ZH, prev.Source, prev.Name.ZH)))
		}
		return
	}
	p.seen[day.Date] = day
	p.ov.Days = append(p.ov.Days, day)
}

func (p *overrideParser) date(n *yaml.Node, key string) (Date, bool) {
	if n.Kind == yaml.ScalarNode {
		if d, err := ParseDate(strings.TrimSpace(n.Value)); err == nil {
			return d, true
		}
	}
	value := describe(n)
	p.problem(n, i18n.T(
		fmt.Sprintf("invalid date %s in %s: write a day that exists as YYYY-MM-DD, for example 2028-01-01", value.EN, key),
		fmt.Sprintf("%s 中的日期%s 无效：请写一个存在的日期，格式为 YYYY-MM-DD，例如 2028-01-01", key, value.ZH)))
	return Date{}, false
}

func (p *overrideParser) isScalar(n *yaml.Node, key, wantEN, wantZH string) bool {
	if n.Kind == yaml.ScalarNode {
		return true
	}
	got := describe(n)
	p.problem(n, i18n.T(
		fmt.Sprintf("%s must be %s, got %s", key, wantEN, got.EN),
		fmt.Sprintf("%s 必须是%s，实际为%s", key, wantZH, got.ZH)))
	return false
}

type pair struct{ key, value *yaml.Node }

// pairs returns the key/value pairs of a mapping and reports keys that are
// unknown or written twice. list names the list whose entry n is, or is ""
// for the top level.
func (p *overrideParser) pairs(n *yaml.Node, valid []string, list string) []pair {
	var out []pair
	first := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !slices.Contains(valid, k.Value) {
			hint := suggest(k.Value, valid)
			hintEN, hintZH := "", ""
			if hint != "" {
				hintEN, hintZH = fmt.Sprintf(" (did you mean %q?)", hint), fmt.Sprintf("（是否想写 %q？）", hint)
			}
			whereEN, whereZH := fmt.Sprintf("unknown top-level key %q", k.Value), fmt.Sprintf("未知的顶层键 %q", k.Value)
			if list != "" {
				whereEN, whereZH = fmt.Sprintf("unknown key %q in a %s entry", k.Value, list), fmt.Sprintf("%s 条目中有未知的键 %q", list, k.Value)
			}
			p.problem(k, i18n.T(
				fmt.Sprintf("%s%s; valid keys: %s", whereEN, hintEN, strings.Join(valid, ", ")),
				fmt.Sprintf("%s%s；可用的键：%s", whereZH, hintZH, strings.Join(valid, "、"))))
			continue
		}
		if prev, dup := first[k.Value]; dup {
			p.problem(k, msg("duplicate key %q, first written at line %d; remove one of them",
				"键 %q 重复，第一次出现在第 %d 行；请删除其中一个", k.Value, prev.Line))
			continue
		}
		first[k.Value] = k
		out = append(out, pair{k, v})
	}
	return out
}

func (p *overrideParser) problem(n *yaml.Node, text i18n.Text) {
	p.problems = append(p.problems, Problem{File: p.file, Line: n.Line, Column: n.Column, Text: text})
}

// suggest returns the candidate within a third of word's length in edits, or
// "" when none is that close.
func suggest(word string, candidates []string) string {
	best, bestDistance := "", max(1, len([]rune(word))/3)+1
	for _, c := range candidates {
		if d := typo.Distance(strings.ToLower(word), c); d < bestDistance {
			best, bestDistance = c, d
		}
	}
	return best
}

// describe names a YAML node for messages: its kind, or a scalar's quoted
// value.
func describe(n *yaml.Node) i18n.Text {
	switch n.Kind {
	case yaml.MappingNode:
		return i18n.T("a mapping", "映射")
	case yaml.SequenceNode:
		return i18n.T("a list", "列表")
	case yaml.AliasNode:
		return i18n.T("an alias", "别名")
	}
	v := fmt.Sprintf("%q", n.Value)
	return i18n.T(v, " "+v)
}
