package winrmlab

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

// The probe patrol's reboot module sends on Windows.
const rebootModuleProbe = `$os = Get-CimInstance -ClassName Win32_OperatingSystem
'boot_time=' + $os.LastBootUpTime.ToUniversalTime().ToString('o')`

func TestRebootSimChangesBootTime(t *testing.T) {
	s := &Server{reboot: newRebootSim(Config{SimulateReboot: true, RebootDownTime: time.Minute})}
	s.log = slog.New(slog.DiscardHandler)

	before := string(s.rebootEntry(rebootModuleProbe).Stdout)
	if !strings.HasPrefix(before, "boot_time=") || !strings.HasSuffix(before, "Z\r\n") {
		t.Fatalf("probe output = %q, want boot_time=<round-trip UTC time>", before)
	}
	if e := s.rebootEntry("Get-Service"); e != nil {
		t.Fatalf("an unrelated command got a simulated result: %+v", e)
	}

	start := time.Now()
	if e := s.rebootEntry("shutdown.exe /r /t 120 /c 'Reboot initiated by patrol'\nexit $LASTEXITCODE"); e == nil || e.ExitCode != 0 {
		t.Fatalf("shutdown /r result = %+v, want exit 0", e)
	}
	if e := s.rebootEntry("shutdown -r -t 5"); e == nil || e.ExitCode != errShutdownIsScheduled {
		t.Fatalf("second shutdown /r result = %+v, want exit %d", e, errShutdownIsScheduled)
	}

	for _, step := range []struct {
		at         time.Duration
		down, drop bool
	}{
		{at: 119 * time.Second},
		{at: 121 * time.Second, down: true, drop: true},
		{at: 150 * time.Second, down: true},
		{at: 181 * time.Second, drop: false},
	} {
		down, drop := s.reboot.advance(start.Add(step.at))
		if down != step.down || drop != step.drop {
			t.Errorf("at %s: down=%v drop=%v, want %v %v", step.at, down, drop, step.down, step.drop)
		}
	}

	after := string(s.rebootEntry(rebootModuleProbe).Stdout)
	if after == before {
		t.Errorf("boot time after the reboot is still %q", after)
	}
}
