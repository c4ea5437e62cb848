package module

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"patrol/i18n"
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

func TestFindingJSON(t *testing.T) {
	f := Finding{
		Check: "check.disk", Item: "/", Status: StatusWarn,
		Value:     i18n.T("83% used, 4.1 GiB free", "已用 83%，剩余 4.1 GiB"),
		Threshold: i18n.T("warn ≥80%, fail ≥90%", "警告 ≥80%，不合格 ≥90%"),
		Message:   i18n.T("/ is 83% used", "/ 已用 83%"),
		Metrics:   map[string]float64{"used_percent": 83},
	}
	data, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"value":{"zh":"已用 83%，剩余 4.1 GiB","en":"83% used, 4.1 GiB free"}`; !strings.Contains(string(data), want) {
		t.Errorf("JSON %s does not contain %s", data, want)
	}
	var back Finding
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, f) {
		t.Errorf("round trip = %+v, want %+v", back, f)
	}

	noLimit, _ := json.Marshal(Finding{Check: "check.memory", Item: "swap", Value: i18n.T("no swap", "无交换空间")})
	if strings.Contains(string(noLimit), "threshold") {
		t.Errorf("JSON %s has a threshold, want it left out when empty", noLimit)
	}

	// A journal written before Value and Threshold became bilingual.
	old := `{"check":"check.disk","item":"/","status":"ok","value":"41%","threshold":"warn 80%, fail 90%","message":{"zh":"正常","en":"normal"}}`
	if err := json.Unmarshal([]byte(old), &back); err != nil {
		t.Fatalf("old journal finding: %v", err)
	}
	if back.Value != i18n.T("41%", "") || back.Threshold.In(i18n.ZH) != "warn 80%, fail 90%" || back.Message.ZH != "正常" || back.Status != StatusOK {
		t.Errorf("old finding = %+v", back)
	}

	if err := json.Unmarshal([]byte(`{"check":"check.disk","value":41}`), &back); err == nil {
		t.Error("a number as value was accepted")
	}
}
