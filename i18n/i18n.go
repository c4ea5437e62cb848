// Package i18n holds the two languages patrol speaks to users (Simplified Chinese
// and English) and picks one from a flag, the environment or the locale.
package i18n

import (
	"os"
	"strings"
)

// Lang is a user-facing language.
type Lang string

// The supported languages.
const (
	ZH Lang = "zh"
	EN Lang = "en"
)

// Text is one user-facing message in both languages.
type Text struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// T builds a Text from its English and Chinese forms.
func T(en, zh string) Text { return Text{ZH: zh, EN: en} }

// In returns the text in lang, falling back to English when that form is empty.
func (t Text) In(lang Lang) string {
	if lang == ZH && t.ZH != "" {
		return t.ZH
	}
	return t.EN
}

// IsZero reports whether both forms are empty.
func (t Text) IsZero() bool { return t.ZH == "" && t.EN == "" }

// Parse turns a flag value such as "zh", "zh-CN", "en_US" into a Lang.
// It reports false for anything else.
func Parse(s string) (Lang, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case s == "zh" || strings.HasPrefix(s, "zh-") || strings.HasPrefix(s, "zh_"):
		return ZH, true
	case s == "en" || strings.HasPrefix(s, "en-") || strings.HasPrefix(s, "en_"):
		return EN, true
	}
	return "", false
}

// Detect picks the language for CLI messages: the flag value, then PATROL_LANG,
// then the locale variables (LC_ALL, LC_MESSAGES, LANG), then English.
func Detect(flag string) Lang {
	for _, v := range []string{flag, os.Getenv("PATROL_LANG"), os.Getenv("LC_ALL"), os.Getenv("LC_MESSAGES"), os.Getenv("LANG")} {
		if l, ok := Parse(v); ok {
			return l
		}
	}
	return EN
}
