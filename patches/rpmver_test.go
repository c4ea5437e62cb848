package patches

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// versionPairs are version and release strings seen in CentOS 7 package
// names, and the edge cases of rpm's comparison: digit and letter runs,
// leading zeros, separators, tildes and different lengths.
var versionPairs = [][2]string{
	{"1.0.2k", "1.0.2k"},
	{"1.0.2k", "1.0.2l"},
	{"26.el7_9", "25.el7_9"},
	{"1160.el7", "1160.119.1.el7"},
	{"3.10.0", "3.10"},
	{"2.17", "2.17.1"},
	{"1.0", "1.0a"},
	{"1.0a", "1.0.1"},
	{"010", "10"},
	{"0010", "9"},
	{"1.0~rc1", "1.0"},
	{"1.0~rc1", "1.0~rc2"},
	{"1.0~~", "1.0~"},
	{"2024a", "2024b"},
	{"7.4.1708", "7.9.2009"},
	{"el7_9", "el7"},
	{"1_2", "1.2"},
	{"a", "1"},
	{"abc", "abd"},
	{"1.0+git20", "1.0+git3"},
	{"5.4.16-47", "5.4.16-48"},
}

func TestRPMVersionCompareMatchesRPM(t *testing.T) {
	if _, err := exec.LookPath("rpm"); err != nil {
		t.Fatalf("rpm not installed; run scripts/test-deps.sh: %v", err)
	}
	var script strings.Builder
	for _, p := range versionPairs {
		fmt.Fprintf(&script, "print(rpm.vercmp(%q, %q) .. \" \")\n", p[0], p[1])
	}
	out, err := exec.Command("rpm", "--eval", "%{lua:"+script.String()+"}").CombinedOutput()
	if err != nil {
		t.Fatalf("rpm --eval: %v: %s", err, out)
	}
	want := strings.Fields(string(out))
	if len(want) != len(versionPairs) {
		t.Fatalf("rpm printed %d results for %d pairs: %s", len(want), len(versionPairs), out)
	}

	for i, p := range versionPairs {
		got := fmt.Sprint(rpmVersionCompare(p[0], p[1]))
		if got != want[i] {
			t.Errorf("rpmVersionCompare(%q, %q) = %s, rpm says %s", p[0], p[1], got, want[i])
		}
		if back := fmt.Sprint(rpmVersionCompare(p[1], p[0])); back != fmt.Sprint(-atoi(want[i])) {
			t.Errorf("rpmVersionCompare(%q, %q) = %s, want %d", p[1], p[0], back, -atoi(want[i]))
		}
	}
}

func atoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

func TestInstalledStateNewerPackage(t *testing.T) {
	at := time.Date(2026, 11, 2, 10, 0, 0, 0, cst)
	patch := &Patch{ID: "openssl", Verify: Verify{Packages: []string{"openssl-1:1.0.2k-26.el7_9.x86_64"}}}
	for _, tc := range []struct {
		name      string
		installed string
		want      State
	}{
		{"same version", "openssl-1:1.0.2k-26.el7_9.x86_64", StateInstalled},
		{"newer release", "openssl-1:1.0.2k-27.el7_9.x86_64", StateInstalled},
		{"older release", "openssl-1:1.0.2k-25.el7_9.x86_64", StateMissing},
		{"newer release other arch", "openssl-1:1.0.2k-27.el7_9.i686", StateMissing},
		{"lower epoch", "openssl-1.0.2z-99.el7_9.x86_64", StateMissing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			installed := &Installed{Queried: []string{"rpm"}, Packages: map[string][]Package{
				"openssl": {{NEVRA: tc.installed, InstalledAt: at}},
			}}
			state, when := InstalledState(patch, installed)
			if state != tc.want {
				t.Errorf("state = %s, want %s", state, tc.want)
			}
			if state == StateInstalled && !when.Equal(at) {
				t.Errorf("installed at = %v, want %v", when, at)
			}
		})
	}
}
