package i18n

import "testing"

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Lang
		ok   bool
	}{
		{"zh", ZH, true},
		{"zh-CN", ZH, true},
		{"zh_CN.UTF-8", ZH, true},
		{" EN ", EN, true},
		{"en_US.UTF-8", EN, true},
		{"C.UTF-8", "", false},
		{"", "", false},
		{"fr", "", false},
	} {
		got, ok := Parse(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Parse(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestDetectOrder(t *testing.T) {
	t.Setenv("PATROL_LANG", "en")
	t.Setenv("LC_ALL", "zh_CN.UTF-8")
	if got := Detect("zh"); got != ZH {
		t.Errorf("flag zh: Detect = %q, want zh", got)
	}
	if got := Detect(""); got != EN {
		t.Errorf("PATROL_LANG=en beats the locale: Detect = %q, want en", got)
	}
	t.Setenv("PATROL_LANG", "")
	if got := Detect(""); got != ZH {
		t.Errorf("LC_ALL=zh_CN: Detect = %q, want zh", got)
	}
	t.Setenv("LC_ALL", "C")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", "")
	if got := Detect(""); got != EN {
		t.Errorf("no language anywhere: Detect = %q, want en", got)
	}
}

func TestTextIn(t *testing.T) {
	both := T("disk", "磁盘")
	if both.In(ZH) != "磁盘" || both.In(EN) != "disk" {
		t.Errorf("In = %q / %q", both.In(ZH), both.In(EN))
	}
	if got := T("only English", "").In(ZH); got != "only English" {
		t.Errorf("missing Chinese falls back to English: got %q", got)
	}
	if !(Text{}).IsZero() || both.IsZero() {
		t.Error("IsZero is wrong")
	}
}
