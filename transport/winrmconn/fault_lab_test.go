package winrmconn

import (
	"context"
	"errors"
	"strings"
	"testing"

	winrmlab "patrol/lab/winrm"
)

// TestDialShellQuotaFault checks that a QuotaLimit fault on shell Create,
// which the winrm library reads as success, fails Dial and names the setting.
func TestDialShellQuotaFault(t *testing.T) {
	entries, err := winrmlab.ParseReplay("replay.yml", labReplay(t))
	if err != nil {
		t.Fatalf("parse replay: %v", err)
	}
	_, port, caFile := serveLab(t, winrmlab.Config{Entries: entries, MaxShellsPerUser: 1})
	dialLab(t, port, caFile)

	conn, err := Dial(context.Background(), labConfig(port, caFile))
	if err == nil {
		_ = conn.Close()
		t.Fatal("second Dial succeeded, want the MaxShellsPerUser quota fault")
	}
	var fault *FaultError
	if !errors.As(err, &fault) {
		t.Fatalf("error is %T (%v), want *FaultError", err, err)
	}
	if fault.Kind != FaultShellQuota {
		t.Errorf("fault kind = %q, want %q", fault.Kind, FaultShellQuota)
	}
	if !strings.Contains(err.Error(), "MaxShellsPerUser") {
		t.Errorf("error does not name MaxShellsPerUser: %v", err)
	}
	if !strings.Contains(fault.Message().ZH, "MaxShellsPerUser") {
		t.Errorf("Chinese message does not name MaxShellsPerUser: %s", fault.Message().ZH)
	}
	if !strings.Contains(err.Error(), "maximum number of 1 concurrent shells") {
		t.Errorf("error lacks the host's fault text: %v", err)
	}
}
