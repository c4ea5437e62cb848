package report

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"

	"patrol/i18n"
	"patrol/inventory"
	"patrol/journal"
	"patrol/module"
	"patrol/patches"
	"patrol/transport"
)

// FromJournal builds the Inspection of a recorded run. hosts are the inventory
// hosts the run covered; a host that appears in the records but not in hosts is
// added by name. titles maps check module names (check.disk) to their titles.
//
// Kind is guessed from the playbook's file name ("monthly" or "daily" in it);
// callers that know the kind set it afterwards. Findings become items as they
// are. A failed task without findings becomes an item with status error. An
// unreachable result marks its host unreachable. Patch compliance records
// fill Patches and leave the hosts' state alone. Results of other tasks (ok,
// changed or skipped, without findings) are not inspection items and are left out.
func FromJournal(h journal.Header, records []journal.Record, end *journal.End, hosts []*inventory.Host, titles map[string]i18n.Text) Inspection {
	in := Inspection{
		Kind:          KindOf(h.Playbook.Path),
		RunID:         h.RunID,
		StartedAt:     h.StartedAt,
		Inspector:     h.User,
		PatrolMachine: h.Hostname,
	}
	if end != nil {
		in.EndedAt = end.EndedAt
		in.RunStatus = string(end.Status)
	} else {
		in.RunStatus = RunIncomplete
	}

	byName := map[string]int{}
	addHost := func(h Host) int {
		if i, ok := byName[h.Name]; ok {
			return i
		}
		in.Hosts = append(in.Hosts, h)
		byName[h.Name] = len(in.Hosts) - 1
		return len(in.Hosts) - 1
	}
	for _, ih := range hosts {
		addHost(Host{Name: ih.Name, Address: ih.Addr(), OS: ih.OS, System: ih.System, NotInspected: true})
	}

	if rows, found := patches.ComplianceFromJournal(records); found {
		in.Patches = &PatchCompliance{Rows: rows}
	}
	for _, rec := range records {
		if rec.Module == patches.ComplianceModule {
			continue
		}
		i := addHost(Host{Name: rec.Host, NotInspected: true})
		applyRecord(&in.Hosts[i], rec, titles)
	}
	return in
}

// applyRecord applies one result to its host.
func applyRecord(host *Host, rec journal.Record, titles map[string]i18n.Text) {
	if host.NotInspected {
		host.NotInspected = false
		host.Reachable = true
	}

	switch {
	case rec.Status == journal.StatusUnreachable:
		if host.Error == "" && host.Message.IsZero() {
			host.Error, host.Message = rec.Msg, rec.Message
		}
		host.Reachable = false

	case len(rec.Findings) > 0:
		for _, f := range rec.Findings {
			host.Items = append(host.Items, Item{Finding: f, Title: checkTitle(titles, f.Check, rec.Module), Task: rec.Task})
		}

	case rec.Status == journal.StatusFailed && !rec.Ignored:
		// A failure that ignore_errors let pass is left out, as the run
		// left it out of its outcome.
		host.Items = append(host.Items, failedTaskItem(rec, titles))
	}
}

// failedTaskItem shows a task that failed without findings, such as a command
// that exited non-zero, as an item that could not be checked. The message
// is the record's bilingual one. A record with an English message only (an
// older journal, an error without a bilingual message) gets the cause when
// its text names a known one, and its text as evidence.
func failedTaskItem(rec journal.Record, titles map[string]i18n.Text) Item {
	label := labels["host.failed_task"]
	msg := strings.TrimSpace(rec.Msg)
	text := rec.Message
	var evidence []string
	switch {
	case !text.IsZero():
		if msg != "" && msg != text.EN {
			evidence = []string{msg}
		}
	case msg != "":
		var known bool
		if text, known = transport.DescribeError(errors.New(msg)); !known {
			text = i18n.T(msg, labels["host.failed_task_evidence"].ZH)
		}
		evidence = []string{msg}
	}

	message := label
	if !text.IsZero() {
		message = i18n.Text{ZH: label.ZH + "：" + text.ZH, EN: label.EN + ": " + text.EN}
	}
	return Item{
		Finding: module.Finding{
			Check:    rec.Module,
			Item:     rec.Task,
			Status:   module.StatusError,
			Value:    i18n.T("rc="+strconv.Itoa(rec.RC), "rc="+strconv.Itoa(rec.RC)),
			Message:  message,
			Evidence: evidence,
		},
		Title: checkTitle(titles, rec.Module, rec.Module),
		Task:  rec.Task,
	}
}

// checkTitle looks up a check's title, then its task module's, then falls back
// to the module name itself.
func checkTitle(titles map[string]i18n.Text, check, moduleName string) i18n.Text {
	for _, name := range []string{check, moduleName} {
		if t, ok := titles[name]; ok && !t.IsZero() {
			return t
		}
	}
	name := check
	if name == "" {
		name = moduleName
	}
	return i18n.Text{ZH: name, EN: name}
}

// KindOf guesses the inspection kind from a playbook's file name: monthly or
// daily when the name contains that word, empty otherwise.
func KindOf(path string) Kind {
	base := strings.ToLower(filepath.Base(path))
	switch {
	case strings.Contains(base, "monthly"):
		return KindMonthly
	case strings.Contains(base, "daily"):
		return KindDaily
	}
	return ""
}
