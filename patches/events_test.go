package patches

import (
	"testing"
	"time"
)

func TestSizeAndRateText(t *testing.T) {
	cases := []struct {
		bytes   int64
		sending time.Duration
		size    string
		rate    string
	}{
		{0, 0, "0 B", ""},
		{512, 0, "512 B", ""},
		{30 << 20, 0, "30.0 MiB", ""},
		// 17 MiB over a 10 Mbit/s link in 15 s.
		{17 << 20, 15 * time.Second, "17.0 MiB", " @ 1.1 MiB/s"},
		{3 << 30, time.Minute, "3.0 GiB", " @ 51.2 MiB/s"},
		{1 << 20, 2 * time.Second, "1.0 MiB", " @ 512.0 KiB/s"},
	}
	for _, c := range cases {
		if got := sizeText(c.bytes); got != c.size {
			t.Errorf("sizeText(%d) = %q, want %q", c.bytes, got, c.size)
		}
		if got := rateText(c.bytes, c.sending); got != c.rate {
			t.Errorf("rateText(%d, %s) = %q, want %q", c.bytes, c.sending, got, c.rate)
		}
	}
}
