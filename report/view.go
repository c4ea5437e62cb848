package report

import (
	"fmt"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // report times are shown in Asia/Shanghai even where the OS has no zone files (Windows)

	"patrol/i18n"
	"patrol/module"
	"patrol/patches"
	"patrol/transport"
)

// Evidence shown per item in HTML and Markdown; report.json keeps all of it.
const (
	maxEvidenceLines = 20
	maxEvidenceChars = 300
)

// page is the content the HTML template and the Markdown writer render, in one language.
type page struct {
	Lang  i18n.Lang
	Title string
	Kind  string
	// Systems names the business systems of the inspected hosts.
	Systems    string
	Time       string
	Inspector  string
	Machine    string
	RunID      string
	Note       string
	Summary    Summary
	Conclusion string
	Groups     []group
	Anomalies  []anomaly
	// Patches is nil when the inspection has no patch compliance section.
	Patches *patchSection
}

// group is one business system with its hosts.
type group struct {
	System string
	Name   string
	Hosts  []hostView
}

type hostView struct {
	Name    string
	Address string
	OS      string
	State   string
	// StateCode is reachable, unreachable or not-inspected, for CSS.
	StateCode string
	// Error is the reason the host has no results, in the page's language.
	// Evidence is the transport's error behind it.
	Error    string
	Evidence []string
	Counts   string
	Items    []itemView
}

type itemView struct {
	No        int
	Title     string
	Item      string
	Status    module.Status
	Label     string
	Value     string
	Threshold string
	Message   string
	Evidence  []string
}

type anomaly struct {
	itemView
	Host   string
	System string
	// rank orders anomalies: worst status first, then system and host order.
	rank  int
	group int
	host  int
	index int
}

// buildPage turns an inspection into what the renderers show.
func buildPage(in Inspection, lang i18n.Lang) (*page, error) {
	loc, err := time.LoadLocation(in.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("report time zone %q: %w (use an IANA name such as Asia/Shanghai)", in.TimeZone, err)
	}

	p := &page{
		Lang:      lang,
		Title:     mustLabel(lang, "title."+kindKey(in.Kind)),
		Kind:      mustLabel(lang, "kind."+kindKey(in.Kind)),
		Time:      timeRange(lang, in.StartedAt, in.EndedAt, loc),
		Inspector: in.Inspector,
		Machine:   in.PatrolMachine,
		RunID:     in.RunID,
		Summary:   in.Summary,
	}
	switch in.RunStatus {
	case RunInterrupted:
		p.Note = mustLabel(lang, "run.interrupted")
	case RunIncomplete:
		p.Note = mustLabel(lang, "run.incomplete")
	}
	if n := in.Summary.Anomalies(); n > 0 {
		p.Conclusion = fmt.Sprintf(mustLabel(lang, "summary.has_anomalies"), n)
	} else {
		p.Conclusion = mustLabel(lang, "summary.all_ok")
	}

	p.Groups = groupHosts(in.Hosts, lang)
	p.Systems, p.Title = systemsLine(p.Groups, p.Title, lang)
	p.Patches = buildPatches(in, lang, loc)
	var rows []patches.ComplianceRow
	if in.Patches != nil {
		rows = in.Patches.Rows
	}
	p.Anomalies = collectAnomalies(p.Groups, patchAnomalies(p.Patches, rows, p.Groups, lang), lang)
	return p, nil
}

// systemsLine returns the names of the groups' business systems, joined
// (empty when no host has a system),
// and the title: a report of one business system carries its name, such
// as 印章治安管理信息系统月度全面巡检报告, because that is how the client
// files it.
func systemsLine(groups []group, title string, lang i18n.Lang) (string, string) {
	var names []string
	for _, g := range groups {
		if g.System != "" {
			names = append(names, g.Name)
		}
	}
	sep := ", "
	if lang == i18n.ZH {
		sep = "、"
	}
	systems := strings.Join(names, sep)
	if len(groups) != 1 || groups[0].System == "" {
		return systems, title
	}
	if lang == i18n.ZH {
		return systems, groups[0].Name + title
	}
	return systems, groups[0].Name + ": " + title
}

func kindKey(k Kind) string {
	switch k {
	case KindDaily, KindMonthly:
		return string(k)
	}
	return "other"
}

// groupHosts sorts hosts into systems. The known systems come first in their
// fixed order, then other systems by key, then hosts without a system. Within a
// system, hosts are sorted by name.
func groupHosts(hosts []Host, lang i18n.Lang) []group {
	bySystem := map[string][]Host{}
	for _, h := range hosts {
		bySystem[h.System] = append(bySystem[h.System], h)
	}

	var keys []string
	for _, s := range systemNames {
		if _, ok := bySystem[s.Key]; ok {
			keys = append(keys, s.Key)
		}
	}
	var others []string
	for k := range bySystem {
		if k != "" && !isKnownSystem(k) {
			others = append(others, k)
		}
	}
	sort.Strings(others)
	keys = append(keys, others...)
	if _, ok := bySystem[""]; ok {
		keys = append(keys, "")
	}

	groups := make([]group, 0, len(keys))
	for _, k := range keys {
		hs := bySystem[k]
		sort.SliceStable(hs, func(i, j int) bool { return hs[i].Name < hs[j].Name })
		g := group{System: k, Name: systemName(lang, k)}
		for _, h := range hs {
			g.Hosts = append(g.Hosts, buildHost(h, lang))
		}
		groups = append(groups, g)
	}
	return groups
}

func isKnownSystem(key string) bool {
	for _, s := range systemNames {
		if s.Key == key {
			return true
		}
	}
	return false
}

func buildHost(h Host, lang i18n.Lang) hostView {
	v := hostView{Name: h.Name, Address: h.Address, OS: h.OS}
	switch {
	case h.NotInspected:
		v.StateCode, v.State = "not-inspected", mustLabel(lang, "host.not_inspected")
		v.Error = mustLabel(lang, "host.not_run")
	case !h.Reachable:
		v.StateCode, v.State = "unreachable", mustLabel(lang, "host.unreachable")
		v.Error = unreachableMessage(h).In(lang)
		if h.Error != "" {
			v.Evidence = shortenEvidence([]string{h.Error}, lang)
		}
	default:
		v.StateCode, v.State = "reachable", mustLabel(lang, "host.reachable")
	}

	var counts [4]int
	for i, it := range h.Items {
		status := knownStatus(it.Status)
		counts[status.Rank()]++
		v.Items = append(v.Items, itemView{
			No:        i + 1,
			Title:     titleOf(it, lang),
			Item:      itemName(it.Finding, lang),
			Status:    status,
			Label:     statusLabel(lang, status),
			Value:     it.Value.In(lang),
			Threshold: it.Threshold.In(lang),
			Message:   it.Message.In(lang),
			Evidence:  shortenEvidence(it.Evidence, lang),
		})
	}
	// Rank orders ok, warn, error, fail, but the column reads ok/warn/fail/error.
	v.Counts = fmt.Sprintf("%d / %d / %d / %d", counts[0], counts[1], counts[3], counts[2])
	if len(h.Items) == 0 && v.StateCode != "reachable" {
		v.Counts = "—"
	}
	return v
}

// collectAnomalies lists items that are not ok, hosts that could not be
// inspected and the extra anomalies given, worst first.
func collectAnomalies(groups []group, extra []anomaly, lang i18n.Lang) []anomaly {
	list := extra
	for gi, g := range groups {
		for hi, h := range g.Hosts {
			if h.StateCode != "reachable" {
				list = append(list, anomaly{
					itemView: itemView{
						Title:    mustLabel(lang, "host.connection"),
						Item:     h.Address,
						Status:   module.StatusError,
						Label:    h.State,
						Message:  h.Error,
						Evidence: h.Evidence,
					},
					Host: h.Name, System: g.Name,
					rank: module.StatusError.Rank(), group: gi, host: hi, index: -1,
				})
			}
			for ii, it := range h.Items {
				if it.Status == module.StatusOK {
					continue
				}
				list = append(list, anomaly{itemView: it, Host: h.Name, System: g.Name,
					rank: it.Status.Rank(), group: gi, host: hi, index: ii})
			}
		}
	}

	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.rank != b.rank {
			return a.rank > b.rank
		}
		if a.group != b.group {
			return a.group < b.group
		}
		if a.host != b.host {
			return a.host < b.host
		}
		return a.index < b.index
	})
	for i := range list {
		list[i].No = i + 1
	}
	return list
}

// unreachableMessage returns why h could not be reached. A host read from
// a journal written before the message was recorded has only the
// transport's error text, which is classified again.
func unreachableMessage(h Host) i18n.Text {
	if !h.Message.IsZero() || h.Error == "" {
		return h.Message
	}
	return transport.UnreachableFromText(h.Error).Message()
}

// knownStatus maps a status this package does not know to error, the status
// for an item that could not be judged.
func knownStatus(s module.Status) module.Status {
	if s.Rank() < 0 {
		return module.StatusError
	}
	return s
}

// itemName returns the text of the item column: the item's title in lang when
// the check gave one (a fixed English word such as "memory"), else the item as
// the host named it (a mount point, a unit, a URL).
func itemName(f module.Finding, lang i18n.Lang) string {
	if !f.ItemTitle.IsZero() {
		return f.ItemTitle.In(lang)
	}
	return f.Item
}

func titleOf(it Item, lang i18n.Lang) string {
	if t := it.Title.In(lang); t != "" {
		return t
	}
	return it.Check
}

// shortenEvidence keeps the first lines of evidence, each cut to a readable
// length, and adds a line with the number of lines left out.
func shortenEvidence(lines []string, lang i18n.Lang) []string {
	var out []string
	for i, l := range lines {
		if i == maxEvidenceLines {
			out = append(out, fmt.Sprintf(mustLabel(lang, "evidence.more"), len(lines)-maxEvidenceLines))
			break
		}
		l = strings.TrimRight(l, "\r\n")
		if r := []rune(l); len(r) > maxEvidenceChars {
			l = string(r[:maxEvidenceChars]) + "…"
		}
		out = append(out, l)
	}
	return out
}

// timeRange formats the inspection's start and end in loc, such as
// "2026-12-04 21:07:45 至 21:30:02 (UTC+08:00)". The date is repeated when
// the end falls on another day.
func timeRange(lang i18n.Lang, start, end time.Time, loc *time.Location) string {
	if start.IsZero() {
		return ""
	}
	start = start.In(loc)
	zone := "UTC" + start.Format("-07:00")
	from := start.Format("2006-01-02 15:04:05")

	if end.IsZero() {
		return fmt.Sprintf("%s%s(%s) (%s)", from, mustLabel(lang, "time.to"), mustLabel(lang, "time.unended"), zone)
	}
	end = end.In(loc)
	to := end.Format("2006-01-02 15:04:05")
	if end.Format("2006-01-02") == start.Format("2006-01-02") {
		to = end.Format("15:04:05")
	}
	if end.Format("-07:00") != start.Format("-07:00") {
		to += " (UTC" + end.Format("-07:00") + ")"
	}
	return fmt.Sprintf("%s%s%s (%s)", from, mustLabel(lang, "time.to"), to, zone)
}
