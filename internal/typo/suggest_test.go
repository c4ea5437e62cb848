package typo

import "testing"

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"seal", "seal", 0},
		{"sael", "seal", 1},
		{"comand", "command", 1},
		{"retrys", "retries", 2},
		{"", "abc", 3},
		{"巡检", "巡查", 1},
	} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
