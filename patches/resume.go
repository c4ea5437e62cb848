package patches

import (
	"cmp"
	"fmt"
	"slices"

	"patrol/i18n"
	"patrol/journal"
)

// JournalModule is the module name of the journal records an apply run
// writes; their Play is the patch id and their Task the step.
const JournalModule = "patch.apply"

// Stop names the host, patch and step at which an earlier apply run stopped.
type Stop struct {
	RunID string
	Host  string
	// Patch is the patch the host was on; empty before the first patch.
	Patch string
	// Step is the step that did not finish.
	Step Step
	// Running means the run is still going, so it has not stopped but is
	// at Step now.
	Running bool
}

// Text describes the stop for people, with the step's display name in
// Chinese.
func (s Stop) Text() i18n.Text {
	step := s.Step.Title()
	var en, zh string
	switch {
	case s.Running && s.Patch == "":
		en = fmt.Sprintf("run %s is still running, on host %s at step %s", s.RunID, s.Host, step.EN)
		zh = fmt.Sprintf("运行 %s 仍在进行，位于主机 %s 的步骤“%s”", s.RunID, s.Host, step.ZH)
	case s.Running:
		en = fmt.Sprintf("run %s is still running, on host %s at step %s of patch %s", s.RunID, s.Host, step.EN, s.Patch)
		zh = fmt.Sprintf("运行 %s 仍在进行，位于主机 %s 上补丁 %s 的步骤“%s”", s.RunID, s.Host, s.Patch, step.ZH)
	case s.Patch == "":
		en = fmt.Sprintf("previous run %s stopped on host %s at step %s", s.RunID, s.Host, step.EN)
		zh = fmt.Sprintf("上次运行 %s 停在主机 %s 的步骤“%s”", s.RunID, s.Host, step.ZH)
	default:
		en = fmt.Sprintf("previous run %s stopped on host %s at step %s of patch %s", s.RunID, s.Host, step.EN, s.Patch)
		zh = fmt.Sprintf("上次运行 %s 停在主机 %s 上补丁 %s 的步骤“%s”", s.RunID, s.Host, s.Patch, step.ZH)
	}
	return i18n.T(en, zh)
}

// IsApplyRun reports whether a journal header belongs to a `patrol patch
// apply` run that changed hosts (not --check).
func IsApplyRun(h journal.Header) bool {
	if h.CheckMode {
		return false
	}
	for i := 0; i+1 < len(h.Args); i++ {
		if h.Args[i] == "patch" && h.Args[i+1] == "apply" {
			return true
		}
	}
	return false
}

// Stops reads the records of an earlier apply run and returns the hosts it
// did not finish, with the step each stopped at. A run that wrote an end
// record other than interrupted finished every host it started. A host
// finished when its last record is StepDone. Otherwise it stopped at the step
// after its last record, or at that step when the record is a failure.
func Stops(h journal.Header, records []journal.Record, end *journal.End) []Stop {
	if end != nil && end.Status != journal.RunInterrupted {
		return nil
	}
	last := map[string]journal.Record{}
	var order []string
	for _, rec := range records {
		if rec.Module != JournalModule || rec.Task == string(StepRefused) {
			continue
		}
		if _, seen := last[rec.Host]; !seen {
			order = append(order, rec.Host)
		}
		last[rec.Host] = rec
	}

	var stops []Stop
	for _, host := range order {
		rec := last[host]
		step, patch := Step(rec.Task), rec.Play
		switch {
		case step == StepDone:
			continue
		case rec.Status == journal.StatusFailed || rec.Status == journal.StatusUnreachable:
			// It stopped at the step that failed.
		case step == StepConnect || (step == StepQuery && patch == ""):
			// The host had no work, or the run never started on it.
			continue
		case step == StepLock || step == StepPartner || step == StepPatch || step == StepLeft:
			// Between patches: the next patch's first step.
			step, patch = StepQuery, ""
		default:
			if next := nextStep(step); next != "" {
				step = next
			}
		}
		stops = append(stops, Stop{RunID: h.RunID, Host: host, Patch: patch, Step: step})
	}
	slices.SortStableFunc(stops, func(a, b Stop) int { return cmp.Compare(a.Host, b.Host) })
	return stops
}

// LastUnfinishedRun returns the journal in dir of the newest apply run that
// did not finish, other than the journal skip, or "" when the newest apply
// run that worked on a host (held a host lock) finished. Finished runs that
// worked on no host, such as one refused by a lock, do not count, because
// they did not take over the unfinished run's work.
func LastUnfinishedRun(dir, skip string) (string, journal.Header, []journal.Record, *journal.End, error) {
	paths, err := journal.List(dir)
	if err != nil {
		return "", journal.Header{}, nil, nil, err
	}
	for i := len(paths) - 1; i >= 0; i-- {
		if paths[i] == skip {
			continue
		}
		h, records, end, err := journal.Read(paths[i])
		if err != nil || !IsApplyRun(h) {
			// A journal that cannot be read is no apply run to resume.
			continue
		}
		if end == nil || end.Status == journal.RunInterrupted {
			return paths[i], h, records, end, nil
		}
		if slices.ContainsFunc(records, func(r journal.Record) bool {
			return r.Module == JournalModule && r.Task == string(StepLock) && r.Status == journal.StatusOK
		}) {
			return "", journal.Header{}, nil, nil, nil
		}
	}
	return "", journal.Header{}, nil, nil, nil
}

// String is the English text of the stop, for logs.
func (s Stop) String() string { return s.Text().EN }
