package main

import (
	"strings"
	"testing"
)

// TestLabWinRMRejectsRebootDownTime checks that a down time the lab cannot
// simulate is rejected as invalid input before anything listens.
func TestLabWinRMRejectsRebootDownTime(t *testing.T) {
	for _, value := range []string{"0s", "-5s"} {
		t.Run(value, func(t *testing.T) {
			dir := t.TempDir()
			r := runPatrol(t, dir, dir, "lab", "winrm", "--replay", "replay.yml", "--user", "Administrator",
				"--simulate-reboot", "--reboot-down-time="+value)
			if r.code != exitInvalid {
				t.Fatalf("exit code = %d, want %d\nstderr: %s", r.code, exitInvalid, r.stderr)
			}
			if !strings.Contains(r.stderr, "--reboot-down-time") || !strings.Contains(r.stderr, "positive duration") {
				t.Errorf("stderr = %q, want it to name --reboot-down-time and ask for a positive duration", r.stderr)
			}
		})
	}
}
