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

func TestAfterRebootsEntryRepliesOnceRebooted(t *testing.T) {
	entries, err := ParseReplay("kb.yml", []byte(`- match: Win32_QuickFixEngineering
  stdout: "HotFixID=KB4525250"
  after_reboots: 1
- match: Win32_QuickFixEngineering
  stdout: ""
`))
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{reboot: newRebootSim(Config{SimulateReboot: true, RebootDownTime: time.Minute})}
	if s.mayReply(&entries[0]) || !s.mayReply(&entries[1]) {
		t.Fatalf("before a reboot: mayReply = %v, %v; want false, true", s.mayReply(&entries[0]), s.mayReply(&entries[1]))
	}

	start := time.Now()
	s.reboot.schedule(start, 0)
	s.reboot.advance(start.Add(time.Second))
	if s.mayReply(&entries[0]) {
		t.Error("the after_reboots entry replies while the host is down")
	}
	s.reboot.advance(start.Add(2 * time.Minute))
	if !s.mayReply(&entries[0]) {
		t.Error("the after_reboots entry does not reply after the reboot")
	}
}

func TestAfterRebootsNeedsRebootSimulation(t *testing.T) {
	entries, err := ParseReplay("kb.yml", []byte("- match: x\n  after_reboots: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(Config{Entries: entries, User: "Administrator"})
	if err == nil || !strings.Contains(err.Error(), "line 1 sets after_reboots") {
		t.Errorf("New = %v, want an error naming after_reboots and its line", err)
	}
	if _, err := ParseReplay("kb.yml", []byte("- match: x\n  after_reboots: -1\n")); err == nil || !strings.Contains(err.Error(), "kb.yml:2:18: after_reboots") {
		t.Errorf("ParseReplay of after_reboots -1 = %v, want an error at kb.yml:2:18", err)
	}
}
