package checks

import (
	"fmt"
	"math"
	"strconv"

	"patrol/module"
)

// Threshold holds the warn and fail levels of one measured value. A level set to
// NaN (see Off) is not applied, so a check can have only a fail level.
type Threshold struct {
	Warn float64
	Fail float64
	// LowerIsWorse flips the comparison: days of certificate validity left and
	// free bytes get worse as they fall, used percent as it rises.
	LowerIsWorse bool
	// Format prints a level for the Threshold string; nil prints the number
	// followed by Unit.
	Format func(float64) string
	Unit   string
}

// Off marks a threshold level that is not applied.
var Off = math.NaN()

// HigherIsWorse returns a threshold for values such as used percent.
func HigherIsWorse(warn, fail float64, unit string) Threshold {
	return Threshold{Warn: warn, Fail: fail, Unit: unit}
}

// LowerIsWorse returns a threshold for values such as days left or bytes free.
func LowerIsWorse(warn, fail float64, unit string) Threshold {
	return Threshold{Warn: warn, Fail: fail, LowerIsWorse: true, Unit: unit}
}

// Judge returns the status of value v. Reaching a level counts: with warn 80 a
// value of exactly 80 warns.
func (t Threshold) Judge(v float64) module.Status {
	switch {
	case t.reached(t.Fail, v):
		return module.StatusFail
	case t.reached(t.Warn, v):
		return module.StatusWarn
	}
	return module.StatusOK
}

func (t Threshold) reached(level, v float64) bool {
	if math.IsNaN(level) {
		return false
	}
	if t.LowerIsWorse {
		return v <= level
	}
	return v >= level
}

// String prints the levels for a finding's Threshold field: "warn ≥80%, fail ≥90%".
func (t Threshold) String() string {
	op := "≥"
	if t.LowerIsWorse {
		op = "≤"
	}
	var s string
	if !math.IsNaN(t.Warn) {
		s = "warn " + op + t.format(t.Warn)
	}
	if !math.IsNaN(t.Fail) {
		if s != "" {
			s += ", "
		}
		s += "fail " + op + t.format(t.Fail)
	}
	return s
}

func (t Threshold) format(v float64) string {
	if t.Format != nil {
		return t.Format(v)
	}
	return strconv.FormatFloat(v, 'f', -1, 64) + t.Unit
}

// Measure builds a finding for value v judged by t. Value is what people read
// ("83%"); the caller adds the message, evidence and metrics.
func (t Threshold) Measure(check, item string, v float64, value string) module.Finding {
	return module.Finding{
		Check:     check,
		Item:      item,
		Status:    t.Judge(v),
		Value:     value,
		Threshold: t.String(),
	}
}

// percent prints a percentage the way df does for whole numbers and with one
// decimal otherwise: "83%", "12.5%".
func percent(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f%%", v)
	}
	return fmt.Sprintf("%.1f%%", v)
}

// levelWords names how a status relates to the levels, in both languages.
func levelWords(s module.Status) (en, zh string) {
	switch s {
	case module.StatusOK:
		return "within limits", "正常"
	case module.StatusWarn:
		return "reached the warn level", "达到告警阈值"
	case module.StatusFail:
		return "reached the fail level", "达到故障阈值"
	}
	return "not measured", "无法测量"
}
