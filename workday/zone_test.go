package workday

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// zoneProbeEnv makes the test binary, re-executed by
// TestDefaultZoneWithoutZoneinfo, print the deadline of a fixed arrival and
// exit instead of running the tests.
const zoneProbeEnv = "WORKDAY_ZONE_PROBE"

func TestMain(m *testing.M) {
	if os.Getenv(zoneProbeEnv) != "" {
		arrived := time.Date(2026, time.September, 30, 9, 0, 0, 0, time.UTC)
		fmt.Println(Default().Deadline(arrived, 1).Format(time.RFC3339))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestDefaultZoneWithoutZoneinfo re-executes this test binary where
// /usr/share/zoneinfo is empty and GOROOT names no Go tree, as on a bare
// server, so Asia/Shanghai can only come from the time/tzdata this package
// links in.
func TestDefaultZoneWithoutZoneinfo(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("hiding /usr/share/zoneinfo needs root; CI runs as root")
		}
		t.Skip("hiding /usr/share/zoneinfo needs root")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	script := `mount --bind "$1" /usr/share/zoneinfo && test -z "$(ls /usr/share/zoneinfo)" && exec "$2"`
	cmd := exec.Command("unshare", "--mount", "sh", "-c", script, "sh", t.TempDir(), self)
	cmd.Env = append(os.Environ(), zoneProbeEnv+"=1", "GOROOT=/nonexistent", "ZONEINFO=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("probe without zoneinfo: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "2026-10-08T18:00:00+08:00" {
		t.Errorf("probe printed %q, want 2026-10-08T18:00:00+08:00", got)
	}
}
