package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"testing"

	"patrol/i18n"
	"patrol/internal/loopback"
)

// refusedDial dials a loopback port that nothing listens on any more.
func refusedDial(t *testing.T) error {
	t.Helper()
	err, setupErr := loopback.RefusedDial()
	if setupErr != nil {
		t.Skip(setupErr)
	}
	return err
}

func TestTaskErrorWithoutMessage(t *testing.T) {
	err := fmt.Errorf("wait for port 8080: %w", refusedDial(t))

	got := localizeTaskError(err, i18n.ZH)

	if !strings.HasPrefix(got, "连接被拒绝：") || !strings.Contains(got, "（wait for port 8080: dial tcp") {
		t.Errorf("console = %q, want the cause in Chinese and the system error in brackets", got)
	}
	if msg := errorMessage(err); !strings.HasPrefix(msg.ZH, "连接被拒绝：") || strings.Contains(msg.ZH, "dial tcp") {
		t.Errorf("journal message = %+v, want the cause without the system error", msg)
	}
}

// patrol's own commands fail on the machine running patrol, so their
// errors get no advice meant for a host.
func TestCommandErrorNoHostAdvice(t *testing.T) {
	err := fmt.Errorf("write report: %w", &fs.PathError{Op: "mkdir", Path: "/srv/reports", Err: syscall.EACCES})
	var stderr bytes.Buffer

	code := exitCode(err, &stderr, i18n.ZH)

	if code != exitFailed {
		t.Errorf("exit code = %d, want %d", code, exitFailed)
	}
	if strings.Contains(stderr.String(), "become") {
		t.Errorf("stderr = %q advises become for a local error", stderr.String())
	}
	if !strings.Contains(stderr.String(), "mkdir /srv/reports: permission denied") {
		t.Errorf("stderr = %q, want the system error", stderr.String())
	}
}
