package checks

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"patrol/i18n"
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
	// Format prints a level for the Threshold text in both languages; nil
	// prints the number followed by Unit.
	Format func(float64) i18n.Text
	// Unit follows each level. A symbol such as "%" reads the same in both
	// languages; a word such as " days" needs its Chinese form, so it is a Text.
	Unit i18n.Text
	// UnitOne, when set, replaces the English Unit after a level of exactly
	// 1, so that a level reads "≥1 event" where Unit is " events".
	UnitOne string
	// Quantity names what the levels measure when the finding's value does
	// not show it, such as the age of a file: "fail: age ≥1d 2h" and
	// "不合格：距今 ≥1 天 2 小时". Zero prints the levels alone.
	Quantity i18n.Text
}

// Off marks a threshold level that is not applied.
var Off = math.NaN()

// HigherIsWorse returns a threshold for values such as used percent. The unit is
// a symbol that reads the same in both languages ("%", "s"); set Unit for a word.
func HigherIsWorse(warn, fail float64, unit string) Threshold {
	return Threshold{Warn: warn, Fail: fail, Unit: i18n.T(unit, unit)}
}

// LowerIsWorse returns a threshold for values such as days left or bytes free.
// The unit is a symbol, as for HigherIsWorse.
func LowerIsWorse(warn, fail float64, unit string) Threshold {
	return Threshold{Warn: warn, Fail: fail, LowerIsWorse: true, Unit: i18n.T(unit, unit)}
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

// String prints the levels in English: "warn ≥80%, fail ≥90%".
func (t Threshold) String() string { return t.Text().EN }

// Text prints the levels for a finding's Threshold field in both languages:
// "warn ≥80%, fail ≥90%" and "警告 ≥80%，不合格 ≥90%", or with a Quantity
// "warn: age ≥1d, fail: age ≥2d" and "警告：距今 ≥1 天，不合格：距今 ≥2 天".
// The Chinese words match the status names of the Chinese report.
func (t Threshold) Text() i18n.Text {
	var levels []i18n.Text
	if !math.IsNaN(t.Warn) {
		levels = append(levels, t.level(i18n.T("warn", "警告"), t.Warn))
	}
	if !math.IsNaN(t.Fail) {
		levels = append(levels, t.level(i18n.T("fail", "不合格"), t.Fail))
	}
	return joinText(levels...)
}

// level prints one level after the status word it leads to.
func (t Threshold) level(word i18n.Text, v float64) i18n.Text {
	op := "≥"
	if t.LowerIsWorse {
		op = "≤"
	}
	n := t.format(v)
	if t.Quantity.IsZero() {
		return i18n.T(word.EN+" "+op+n.EN, word.ZH+" "+op+n.ZH)
	}
	return i18n.T(word.EN+": "+t.Quantity.EN+" "+op+n.EN, word.ZH+"："+t.Quantity.ZH+" "+op+n.ZH)
}

func (t Threshold) format(v float64) i18n.Text {
	if t.Format != nil {
		return t.Format(v)
	}
	n := strconv.FormatFloat(v, 'f', -1, 64)
	unit := t.Unit.EN
	if v == 1 && t.UnitOne != "" {
		unit = t.UnitOne
	}
	return i18n.T(n+unit, n+t.Unit.ZH)
}

// ageThreshold judges an age in hours against warn and fail (zero turns a
// level off) and prints the levels as ages: "warn: age ≥7d" and
// "警告：距今 ≥7 天".
func ageThreshold(warn, fail time.Duration) Threshold {
	level := func(d time.Duration) float64 {
		if d <= 0 {
			return Off
		}
		return d.Hours()
	}
	t := HigherIsWorse(level(warn), level(fail), "h")
	t.Format = func(h float64) i18n.Text { return AgeText(time.Duration(h * float64(time.Hour))) }
	t.Quantity = i18n.T("age", "距今")
	return t
}

// Measure builds a finding for value v judged by t. Value is what people read
// ("83%"); the caller adds the message, evidence and metrics.
func (t Threshold) Measure(check, item string, v float64, value i18n.Text) module.Finding {
	return module.Finding{
		Check:     check,
		Item:      item,
		Status:    t.Judge(v),
		Value:     value,
		Threshold: t.Text(),
	}
}

// joinText joins the non-empty texts with the list separator of each
// language: ", " in English and "，" in Chinese.
func joinText(parts ...i18n.Text) i18n.Text {
	var out i18n.Text
	for _, p := range parts {
		if p.IsZero() {
			continue
		}
		if !out.IsZero() {
			out.EN += ", "
			out.ZH += "，"
		}
		out.EN += p.EN
		out.ZH += p.ZH
	}
	return out
}

// plural returns one when n is 1 and many otherwise, for English nouns after
// a count: plural(1, "file", "files").
func plural(n float64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// same is a Text whose two forms are equal, for values made only of numbers,
// units and names, such as "3.0 MiB".
func same(s string) i18n.Text { return i18n.T(s, s) }

// unknownValue is the Value of an item that could not be measured.
var unknownValue = i18n.T("unknown", "未知")

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
		return "reached the warn level", "达到警告阈值"
	case module.StatusFail:
		return "reached the fail level", "达到不合格阈值"
	}
	return "not measured", "无法测量"
}
