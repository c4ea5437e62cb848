package report

import (
	"fmt"
	"strings"

	"patrol/i18n"
	"patrol/patches"
)

// RenderMarkdown returns the report as GitHub-flavoured Markdown in lang, with
// the same sections as the HTML report. Every value from the inspection is
// escaped, so log lines in evidence cannot break a table or inject HTML.
func RenderMarkdown(in Inspection, lang i18n.Lang) ([]byte, error) {
	in = normalize(in, lang)
	p, err := buildPage(in, lang)
	if err != nil {
		return nil, err
	}
	l := func(key string) string { return mustLabel(lang, key) }
	colon := l("colon")

	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", mdEscape(p.Title))

	fmt.Fprintf(&b, "## %s\n\n", l("section.info"))
	mdRow(&b, l("col.field"), l("col.content"))
	mdRule(&b, 2)
	mdRow(&b, l("info.kind"), mdEscape(p.Kind))
	if p.Systems != "" {
		mdRow(&b, l("info.systems"), mdEscape(p.Systems))
	}
	mdRow(&b, l("info.time"), mdEscape(p.Time))
	mdRow(&b, l("info.inspector"), mdEscape(p.Inspector))
	mdRow(&b, l("info.machine"), mdEscape(p.Machine))
	mdRow(&b, l("info.run"), mdEscape(p.RunID))
	b.WriteString("\n")
	if p.Note != "" {
		fmt.Fprintf(&b, "**%s%s%s**\n\n", l("info.note"), colon, mdEscape(p.Note))
	}

	fmt.Fprintf(&b, "## %s\n\n", l("section.summary"))
	mdRow(&b, l("summary.hosts"), l("summary.unreachable"), l("summary.not_inspected"), l("summary.items"),
		l("status.ok"), l("status.warn"), l("status.fail"), l("status.error"))
	mdRule(&b, 8)
	s := p.Summary
	mdRow(&b, itoa(s.Hosts), itoa(s.Unreachable), itoa(s.NotInspected), itoa(s.Items),
		itoa(s.OK), itoa(s.Warn), itoa(s.Fail), itoa(s.Error))
	if p.Patches != nil {
		b.WriteString("\n")
		ps := p.Patches.Summary
		mdRow(&b, l("patches.rows"), patchVerdictLabel(lang, patches.VerdictMet), patchVerdictLabel(lang, patches.VerdictMissed),
			patchVerdictLabel(lang, patches.VerdictPending), patchVerdictLabel(lang, patches.VerdictUnknown))
		mdRule(&b, 5)
		mdRow(&b, itoa(ps.Rows), itoa(ps.Met), itoa(ps.Missed), itoa(ps.Pending), itoa(ps.Unknown))
	}
	fmt.Fprintf(&b, "\n**%s%s%s**\n\n", l("summary.conclusion"), colon, mdEscape(p.Conclusion))

	fmt.Fprintf(&b, "## %s\n\n", l("section.hosts"))
	for _, g := range p.Groups {
		fmt.Fprintf(&b, "### %s\n\n", mdEscape(g.Name))
		mdRow(&b, l("col.no"), l("col.host"), l("col.address"), l("col.os"), l("col.state"), l("col.items"))
		mdRule(&b, 6)
		for i, h := range g.Hosts {
			mdRow(&b, itoa(i+1), mdEscape(h.Name), mdEscape(h.Address), mdEscape(h.OS), h.State, h.Counts)
		}
		b.WriteString("\n")
	}

	fmt.Fprintf(&b, "## %s\n\n", l("section.anomalies"))
	if len(p.Anomalies) == 0 {
		fmt.Fprintf(&b, "%s\n\n", l("anomalies.none"))
	} else {
		mdRow(&b, l("col.no"), l("col.host"), l("col.check"), l("col.item"), l("col.status"),
			l("col.value"), l("col.threshold"), l("col.message"), l("col.evidence"), l("col.handling"))
		mdRule(&b, 10)
		for _, a := range p.Anomalies {
			mdRow(&b, itoa(a.No), mdEscape(a.Host), mdEscape(a.Title), mdEscape(a.Item), "**"+mdEscape(a.Label)+"**",
				mdEscape(a.Value), mdEscape(a.Threshold), mdEscape(a.Message), mdEvidence(a.Evidence), "")
		}
		b.WriteString("\n")
	}

	if p.Patches != nil {
		writeMarkdownPatches(&b, p.Patches, lang)
	}

	fmt.Fprintf(&b, "## %s\n\n", l("section.details"))
	for _, g := range p.Groups {
		fmt.Fprintf(&b, "### %s\n\n", mdEscape(g.Name))
		for _, h := range g.Hosts {
			writeMarkdownHost(&b, h, lang)
		}
	}

	fmt.Fprintf(&b, "## %s\n\n", l("section.sign"))
	fmt.Fprintf(&b, "%s%s\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_ %s%s\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\n\n", l("sign.inspector"), colon, l("sign.date"), colon)
	fmt.Fprintf(&b, "%s%s\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_ %s%s\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\n\n", l("sign.reviewer"), colon, l("sign.date"), colon)
	fmt.Fprintf(&b, "%s\n\n%s · %s %s\n", l("footer.handling"), l("footer.generated"), l("info.run"), mdEscape(p.RunID))
	return []byte(b.String()), nil
}

func writeMarkdownHost(b *strings.Builder, h hostView, lang i18n.Lang) {
	l := func(key string) string { return mustLabel(lang, key) }

	meta := []string{}
	if h.Address != "" {
		meta = append(meta, mdEscape(h.Address))
	}
	if h.OS != "" {
		meta = append(meta, mdEscape(h.OS))
	}
	meta = append(meta, h.State)
	fmt.Fprintf(b, "#### %s (%s)\n\n", mdEscape(h.Name), strings.Join(meta, " · "))

	if h.Error != "" && h.StateCode != "reachable" {
		fmt.Fprintf(b, "%s\n\n", mdEscape(h.Error))
	}
	if len(h.Items) == 0 {
		if h.StateCode == "reachable" {
			fmt.Fprintf(b, "%s\n\n", l("host.no_items"))
		}
		return
	}

	mdRow(b, l("col.no"), l("col.check"), l("col.item"), l("col.status"), l("col.value"),
		l("col.threshold"), l("col.message"), l("col.handling"))
	mdRule(b, 8)
	for _, it := range h.Items {
		label := mdEscape(it.Label)
		if it.Status != "ok" {
			label = "**" + label + "**"
		}
		mdRow(b, itoa(it.No), mdEscape(it.Title), mdEscape(it.Item), label, mdEscape(it.Value),
			mdEscape(it.Threshold), mdEscape(it.Message), "")
	}
	b.WriteString("\n")
}

func writeMarkdownPatches(b *strings.Builder, sec *patchSection, lang i18n.Lang) {
	l := func(key string) string { return mustLabel(lang, key) }

	fmt.Fprintf(b, "## %s\n\n%s\n\n", l("section.patches"), l("patches.intro"))
	if len(sec.Rows) == 0 {
		fmt.Fprintf(b, "%s\n\n", sec.NoneText)
		writeMarkdownEarlier(b, sec)
		return
	}
	mdRow(b, l("col.no"), l("col.patch"), l("col.title"), l("col.severity"), l("col.host"),
		l("col.arrived"), l("col.deadline"), l("col.installed"), l("col.verdict"), l("col.handling"))
	mdRule(b, 10)
	for _, r := range sec.Rows {
		label := mdEscape(r.Label)
		if r.Verdict == patches.VerdictMissed || r.Verdict == patches.VerdictUnknown {
			label = "**" + label + "**"
		}
		mdRow(b, itoa(r.No), mdEscape(r.Patch), mdEscape(r.Title), mdEscape(r.Severity), mdEscape(r.Host),
			r.Arrived, r.Deadline, mdEscape(r.InstalledAt), label, "")
	}
	b.WriteString("\n")
	writeMarkdownEarlier(b, sec)
}

func writeMarkdownEarlier(b *strings.Builder, sec *patchSection) {
	if sec.Earlier != "" {
		fmt.Fprintf(b, "%s\n\n", mdEscape(sec.Earlier))
	}
}

// mdRow writes one table row of cells that are already escaped.
func mdRow(b *strings.Builder, cells ...string) {
	b.WriteString("|")
	for _, c := range cells {
		b.WriteString(" ")
		b.WriteString(c)
		b.WriteString(" |")
	}
	b.WriteString("\n")
}

func mdRule(b *strings.Builder, n int) {
	b.WriteString("|")
	for i := 0; i < n; i++ {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
}

// mdEvidence shows evidence lines as code inside a table cell, one per line.
func mdEvidence(lines []string) string {
	parts := make([]string, len(lines))
	for i, l := range lines {
		parts[i] = "<code>" + mdEscape(l) + "</code>"
	}
	return strings.Join(parts, "<br>")
}

func itoa(n int) string { return fmt.Sprint(n) }
