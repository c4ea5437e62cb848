package textwidth

import "testing"

func TestString(t *testing.T) {
	cases := []struct {
		text string
		want int
	}{
		{"", 0},
		{"FAILED", 6},
		{"失败", 4},
		{"无法检测", 8},
		{"磁盘：/", 7},
		{"warn ≥80%…", 10},
		{"ＡＢ", 4},
	}
	for _, c := range cases {
		if got := String(c.text); got != c.want {
			t.Errorf("String(%q) = %d, want %d", c.text, got, c.want)
		}
	}
}
