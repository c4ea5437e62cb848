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
	// Installing means the run had started to install Patch, so the host
	// may have it without the checks that follow the install.
	Installing bool
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
	// undoing holds, per host, the patch whose install or checks failed and
	// that the run was rolling back when its records end.
	undoing := map[string]string{}
	// installing holds, per host, the patch whose install step the run
	// recorded.
	installing := map[string]string{}
	var order []string
	for _, rec := range records {
		if rec.Module != JournalModule || rec.Task == string(StepRefused) {
			continue
		}
		if _, seen := last[rec.Host]; !seen {
			order = append(order, rec.Host)
		}
		if prev, ok := last[rec.Host]; ok && prev.Play == rec.Play && prev.Status == journal.StatusFailed && Step(prev.Task) != StepPatch {
			undoing[rec.Host] = rec.Play
		} else if undoing[rec.Host] != rec.Play {
			delete(undoing, rec.Host)
		}
		if Step(rec.Task) == StepInstall {
			installing[rec.Host] = rec.Play
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
		case undoing[host] == patch && patch != "":
			// The steps after a failure are those of undo: stop the
			// services again, roll back, start them, record the result.
			step = undoStep(step)
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
		installed := patch != "" && (installing[host] == patch || step == StepInstall)
		stops = append(stops, Stop{RunID: h.RunID, Host: host, Patch: patch, Step: step, Installing: installed})
	}
	slices.SortStableFunc(stops, func(a, b Stop) int { return cmp.Compare(a.Host, b.Host) })
	return stops
}

// FailedPatches returns, for each host and patch whose newest result in the
// apply journals in dir is a failure, a Stop at StepPatch with Installing
// set. Apply then checks such a patch again where the host has it, instead
// of taking it as installed and tested. A patch that failed its checks and
// was not rolled back (rollback: none, a failed rollback) stays on the
// host, and production must not get it from a staging host where it failed.
func FailedPatches(dir string) ([]Stop, error) {
	paths, err := journal.List(dir)
	if err != nil {
		return nil, err
	}
	type hostPatch struct{ host, patch string }
	newest := map[hostPatch]Stop{}
	failed := map[hostPatch]bool{}
	var order []hostPatch
	for _, path := range paths {
		h, records, _, err := journal.Read(path)
		if err != nil || !IsApplyRun(h) {
			continue
		}
		for _, rec := range records {
			if rec.Module != JournalModule || Step(rec.Task) != StepPatch || rec.Play == "" {
				continue
			}
			key := hostPatch{rec.Host, rec.Play}
			if _, seen := newest[key]; !seen {
				order = append(order, key)
			}
			newest[key] = Stop{RunID: h.RunID, Host: rec.Host, Patch: rec.Play, Step: StepPatch, Installing: true}
			failed[key] = rec.Status == journal.StatusFailed
		}
	}

	var stops []Stop
	for _, key := range order {
		if failed[key] {
			stops = append(stops, newest[key])
		}
	}
	return stops, nil
}

// undoStep returns the step that follows step while a failed patch is
// undone.
func undoStep(step Step) Step {
	switch step {
	case StepStopServices:
		return StepRollback
	case StepRollback:
		return StepStartServices
	}
	return StepPatch
}

// PreviousStops returns where the newest unfinished apply run in dir stopped,
// leaving out the hosts that a later finished run settled, and the journal of
// that run ("" when there is none). A finished run settles a host it finished
// (its last record is StepDone) or found nothing to do on. A run rejected by a
// held lock or cut off from the host settles nothing there, because it did not
// take over the unfinished work.
func PreviousStops(dir string) (string, []Stop, error) {
	paths, err := journal.List(dir)
	if err != nil {
		return "", nil, err
	}
	settled := map[string]bool{}
	for i := len(paths) - 1; i >= 0; i-- {
		h, records, end, err := journal.Read(paths[i])
		if err != nil || !IsApplyRun(h) {
			// A journal that cannot be read is no apply run to resume.
			continue
		}
		if end != nil && end.Status != journal.RunInterrupted {
			for host := range settledHosts(records) {
				settled[host] = true
			}
			continue
		}
		stops := slices.DeleteFunc(Stops(h, records, end), func(s Stop) bool { return settled[s.Host] })
		if len(stops) == 0 {
			continue
		}
		return paths[i], stops, nil
	}
	return "", nil, nil
}

// settledHosts returns the hosts of a finished run whose records show the
// run finished them or had no work there, and never lost them to a held lock
// or a broken link.
func settledHosts(records []journal.Record) map[string]bool {
	last := map[string]journal.Record{}
	shut := map[string]bool{}
	for _, rec := range records {
		if rec.Module != JournalModule || rec.Task == string(StepRefused) {
			continue
		}
		last[rec.Host] = rec
		lockFailed := Step(rec.Task) == StepLock && rec.Status == journal.StatusFailed
		if lockFailed || rec.Status == journal.StatusUnreachable {
			// The run never worked on the host, even if it ended it with
			// StepDone.
			shut[rec.Host] = true
		}
	}
	settled := map[string]bool{}
	for host, rec := range last {
		ok := !shut[host] && rec.Status != journal.StatusFailed
		noWork := Step(rec.Task) == StepQuery && rec.Play == ""
		if ok && (Step(rec.Task) == StepDone || noWork) {
			settled[host] = true
		}
	}
	return settled
}

// String is the English text of the stop, for logs.
func (s Stop) String() string { return s.Text().EN }
