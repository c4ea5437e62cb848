package patches

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// recordingOps is centosOps with service changes recorded instead of run,
// and a stop that fails for the services in failStop.
type recordingOps struct {
	centosOps
	calls    []string
	failStop map[string]bool
}

func (o *recordingOps) stopService(_ context.Context, _ *hostSession, name string) error {
	o.calls = append(o.calls, "stop "+name)
	if o.failStop[name] {
		return errors.New("systemctl stop " + name + " failed")
	}
	return nil
}

func (o *recordingOps) startService(_ context.Context, _ *hostSession, name string) error {
	o.calls = append(o.calls, "start "+name)
	return nil
}

func servicesRun(ops *recordingOps, services ...string) *patchRun {
	return &patchRun{s: &hostSession{ops: ops}, p: &Patch{ID: "P1", StopServices: services}}
}

func TestStopServicesTriesEveryService(t *testing.T) {
	ops := &recordingOps{failStop: map[string]bool{"b": true}}
	pr := servicesRun(ops, "a", "b", "c")

	_, _, _, err := pr.stopServices(context.Background())

	if err == nil || !strings.Contains(err.Error(), "systemctl stop b failed") {
		t.Errorf("error = %v, want the failed stop of b", err)
	}
	if want := []string{"stop a", "stop b", "stop c"}; !slices.Equal(ops.calls, want) {
		t.Errorf("calls = %v, want %v: a failed stop must not leave later services running", ops.calls, want)
	}
	if want := []string{"a", "c"}; !slices.Equal(pr.stopped, want) {
		t.Errorf("stopped = %v, want %v", pr.stopped, want)
	}
}

func TestServicesRestartInCatalogOrder(t *testing.T) {
	ops := &recordingOps{}
	pr := servicesRun(ops, "a", "b", "c")
	// b did not start after the install; a and c did, and run again.
	pr.stopped = []string{"b"}
	if !pr.startedSince() {
		t.Fatal("startedSince = false with a and c running again")
	}

	if _, _, _, err := pr.stopServices(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := pr.startServices(context.Background()); err != nil {
		t.Fatal(err)
	}

	want := []string{"stop a", "stop c", "start a", "start b", "start c"}
	if !slices.Equal(ops.calls, want) {
		t.Errorf("calls = %v, want %v", ops.calls, want)
	}
	if len(pr.stopped) != 0 {
		t.Errorf("stopped = %v after the start, want none", pr.stopped)
	}
}

func TestStopServicesOnceForRepeatedNames(t *testing.T) {
	ops := &recordingOps{}
	pr := servicesRun(ops, "a", "a")

	status, _, _, err := pr.stopServices(context.Background())

	if err != nil || status != StatusChanged {
		t.Fatalf("stopServices = %s, %v", status, err)
	}
	if want := []string{"stop a"}; !slices.Equal(ops.calls, want) {
		t.Errorf("calls = %v, want %v", ops.calls, want)
	}
	if pr.startedSince() {
		t.Error("startedSince = true although the only service is stopped")
	}
	if status, text, _, _ := pr.stopServices(context.Background()); status != StatusSkipped || !strings.Contains(text.EN, "already stopped: a") {
		t.Errorf("second stop = %s %q, want skipped as already stopped", status, text.EN)
	}
}
