package builtin

import "testing"

func TestParseMode(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint32
		ok   bool
	}{
		{"", 0, true},
		{"0644", 0o644, true},
		{"640", 0o640, true},
		{"0755", 0o755, true},
		{"4755", 0, false},
		{"1777", 0, false},
		{"0888", 0, false},
		{"rw-r--r--", 0, false},
		{"17777", 0, false},
	} {
		got, err := parseMode(tc.in)
		if tc.ok != (err == nil) {
			t.Errorf("parseMode(%q) error = %v, want ok %v", tc.in, err, tc.ok)
			continue
		}
		if uint32(got) != tc.want {
			t.Errorf("parseMode(%q) = %o, want %o", tc.in, got, tc.want)
		}
	}
}
