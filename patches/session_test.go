package patches

import (
	"bytes"
	"context"
	"testing"
)

// TestProductionHostWithStagingFailureIsNotLocked gives a production host
// only a patch that failed on its staging host. The host must not be
// locked, because taking the Windows lock creates the patch folder and
// writes apply.lock on a host the run is not going to change.
func TestProductionHostWithStagingFailureIsNotLocked(t *testing.T) {
	// The lab has no entry for the lock script, so a lock attempt fails the host.
	conn, srv := startWindowsLab(t, replay{match: `^no command of this test$`})
	var events []StepEvent
	var logs bytes.Buffer
	s := windowsLockSession(t, conn, &events, &logs)
	s.r.markStaging("seal-db-test", "KB4012213", false)

	w := &HostWork{Host: s.host, StagingHost: "seal-db-test", Items: []WorkItem{
		{Patch: windowsPatch("KB4012213", MethodWUSA), AfterStaging: true},
	}}
	if !s.work(context.Background(), Phase{Kind: PhaseProduction, Batch: 1, Batches: 1}, w, nil) {
		t.Errorf("work reported a failure for a host whose only patch was left: %+v", events)
	}

	var left, done bool
	for _, e := range events {
		switch e.Step {
		case StepLeft:
			left = e.Patch == "KB4012213"
		case StepDone:
			done = true
		default:
			t.Errorf("unexpected step %s (%s): %s", e.Step, e.Status, e.Message.EN)
		}
	}
	if !left || !done {
		t.Errorf("left = %v, done = %v; want the patch left and the host done: %+v", left, done, events)
	}
	if got := s.r.result("seal-db-1").Error; got != "" {
		t.Errorf("host error = %q, want none", got)
	}
	if len(srv.Tasks()) != 0 {
		t.Errorf("lab ran scheduled tasks: %+v", srv.Tasks())
	}
}
