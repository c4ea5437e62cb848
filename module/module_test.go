package module

import (
	"testing"
	"time"
)

func TestWorstStatus(t *testing.T) {
	for _, tc := range []struct {
		statuses []Status
		want     Status
	}{
		{nil, StatusOK},
		{[]Status{StatusOK, StatusWarn}, StatusWarn},
		{[]Status{StatusWarn, StatusError}, StatusError},
		{[]Status{StatusError, StatusFail, StatusOK}, StatusFail},
	} {
		var findings []Finding
		for _, s := range tc.statuses {
			findings = append(findings, Finding{Status: s})
		}
		if got := Worst(findings); got != tc.want {
			t.Errorf("Worst(%v) = %q, want %q", tc.statuses, got, tc.want)
		}
	}
}

func TestRegistryRejectsDuplicate(t *testing.T) {
	r := NewRegistry()
	r.Register(&Spec{Name: "b"}, &Spec{Name: "a"})
	if got := r.Names(); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("Names = %v, want [a b]", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("a second module named a was accepted")
		}
	}()
	r.Register(&Spec{Name: "a"})
}

func TestArgsAccessors(t *testing.T) {
	a := Args{"s": "x", "i": 3, "f": 1.5, "b": true, "d": time.Second, "l": []string{"p"}, "m": map[string]any{"k": 1}}
	if a.String("s") != "x" || a.Int("i") != 3 || a.Float("f") != 1.5 || a.Float("i") != 3 || !a.Bool("b") ||
		a.Duration("d") != time.Second || len(a.Strings("l")) != 1 || a.Map("m")["k"] != 1 {
		t.Errorf("accessors read %v wrong", a)
	}
	if a.String("missing") != "" || a.Has("missing") || !a.Has("s") {
		t.Error("absent arguments are not empty")
	}
}

func TestLocalPath(t *testing.T) {
	e := &Env{BaseDir: "/play"}
	for in, want := range map[string]string{"files/a": "/play/files/a", "/etc/x": "/etc/x", "": ""} {
		if got := e.LocalPath(in); got != want {
			t.Errorf("LocalPath(%q) = %q, want %q", in, got, want)
		}
	}
}
