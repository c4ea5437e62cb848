package playbooks

import (
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"
)

// entry is one key and value of a YAML mapping.
type entry struct {
	key   string
	keyN  *yaml.Node
	value *yaml.Node
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// entries lists a mapping's keys and values in file order, reporting keys that
// are not plain scalars and keys given twice.
func (v *validator) entries(n *yaml.Node) []entry {
	var out []entry
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			v.addAt(k, "a key must be a plain name, not a list or mapping; check the indentation",
				"键必须是普通名称，不能是列表或映射；请检查缩进")
			continue
		}
		if first, dup := seen[k.Value]; dup {
			v.addAt(k, fmt.Sprintf("duplicate key %s (first at line %d); remove one of them", k.Value, first.Line),
				fmt.Sprintf("键 %s 重复（第一次出现在第 %d 行）；请删除其中一个", k.Value, first.Line))
			continue
		}
		seen[k.Value] = k
		out = append(out, entry{key: k.Value, keyN: k, value: val})
	}
	return out
}

// literal returns a scalar's Go value: nil, bool, int, float64 or string.
func literal(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			return b
		}
	case "!!int":
		var i int
		if n.Decode(&i) == nil {
			return i
		}
	case "!!float":
		var f float64
		if n.Decode(&f) == nil {
			return f
		}
	}
	return n.Value
}

// nodeValue converts a node to plain Go values: map[string]any, []any and the
// scalars literal returns.
func nodeValue(n *yaml.Node) any {
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[resolve(n.Content[i]).Value] = nodeValue(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, c := range n.Content {
			l[i] = nodeValue(c)
		}
		return l
	case yaml.ScalarNode:
		return literal(n)
	}
	return nil
}

// kindName names a node's kind for messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	if n.ShortTag() == "!!null" {
		return "nothing"
	}
	return strconv.Quote(n.Value)
}

// kindNameZH names a node's kind for Chinese messages.
func kindNameZH(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "映射"
	case yaml.SequenceNode:
		return "列表"
	}
	if n.ShortTag() == "!!null" {
		return "空值"
	}
	return strconv.Quote(n.Value)
}
