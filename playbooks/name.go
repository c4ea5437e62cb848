package playbooks

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"patrol/i18n"
)

// nameExample is the mapping form of a name, shown in messages.
const nameExample = "{en: CPU load, zh: CPU 负载}"

// name reads a play's or task's name. Plain text, as Ansible writes it, is
// stored in EN and shown in every language. A mapping gives the name per
// language, keyed like i18n.Lang and --lang. It must have en and may have zh,
// and output falls back to en where zh is missing. Either form may contain
// templates, which the runner renders per host.
func (v *validator) name(e entry) i18n.Text {
	switch e.value.Kind {
	case yaml.ScalarNode:
		return i18n.Text{EN: v.scalar(e)}
	case yaml.MappingNode:
		return v.nameMapping(e.value)
	}
	v.addAt(e.value, fmt.Sprintf("name must be text or a mapping of languages such as %s, got %s", nameExample, kindName(e.value)),
		fmt.Sprintf("name 应是文本，或按语言给出的映射，如 %s，实际为 %s", nameExample, kindNameZH(e.value)))
	return i18n.Text{}
}

// nameMapping reads the mapping form of a name, reporting unknown language
// keys, variants that are not text or are empty, and a missing en.
func (v *validator) nameMapping(n *yaml.Node) i18n.Text {
	var name i18n.Text
	hasEN := false
	for _, e := range v.entries(n) {
		switch i18n.Lang(e.key) {
		case i18n.EN:
			hasEN = true
			name.EN = v.nameVariant(e, "English", "英文")
		case i18n.ZH:
			name.ZH = v.nameVariant(e, "Chinese", "中文")
		default:
			v.unknownNameLang(e)
		}
	}

	if !hasEN && !misspelledEN(n) {
		v.addAt(n, fmt.Sprintf("name has no en; add en: with the English name, such as %s, or write the name as plain text", nameExample),
			fmt.Sprintf("name 缺少 en；请添加 en: 并写上英文名称，如 %s，或把名称直接写成文本", nameExample))
	}
	return name
}

// nameVariant returns one language's text of a name mapping. langEN and
// langZH name the language in messages.
func (v *validator) nameVariant(e entry, langEN, langZH string) string {
	if e.value.Kind != yaml.ScalarNode {
		v.addAt(e.value, fmt.Sprintf("name.%s must be text, the %s name, got %s", e.key, langEN, kindName(e.value)),
			fmt.Sprintf("name.%s 应是文本，即%s名称，实际为 %s", e.key, langZH, kindNameZH(e.value)))
		return ""
	}
	if e.value.ShortTag() != "!!null" && strings.TrimSpace(e.value.Value) != "" {
		return e.value.Value
	}

	if e.key == string(i18n.EN) {
		v.addAt(e.value, "name.en is empty; write the English name, which a name mapping must have",
			"name.en 为空；请填写英文名称，name 映射必须有英文名称")
		return ""
	}
	v.addAt(e.value, fmt.Sprintf("name.%s is empty; write the %s name or remove %s", e.key, langEN, e.key),
		fmt.Sprintf("name.%s 为空；请填写%s名称，或删除 %s", e.key, langZH, e.key))
	return ""
}

// unknownNameLang reports a key of a name mapping that is not en or zh. A
// locale such as zh-CN or en_US gets the key to write instead.
// misspelledEN reports whether a name mapping has a key that reads as en,
// such as EN, which unknownNameLang already reports.
func misspelledEN(n *yaml.Node) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if lang, ok := i18n.Parse(n.Content[i].Value); ok && lang == i18n.EN {
			return true
		}
	}
	return false
}

func (v *validator) unknownNameLang(e entry) {
	if lang, ok := i18n.Parse(e.key); ok {
		v.addAt(e.keyN, fmt.Sprintf("unknown language %s in name; write %s instead, because a name takes the keys en and zh", e.key, lang),
			fmt.Sprintf("name 中的语言 %s 未知；请改写为 %s，name 只接受 en 和 zh 两个键", e.key, lang))
		return
	}
	v.addAt(e.keyN, fmt.Sprintf("unknown language %s in name; a name takes en (English, required) and zh (Simplified Chinese)", e.key),
		fmt.Sprintf("name 中的语言 %s 未知；name 只接受 en（英文，必填）和 zh（简体中文）", e.key))
}
