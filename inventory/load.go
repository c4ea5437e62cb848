package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"patrol/i18n"
)

// Keys accepted at each level of an inventory file. The schema test checks that
// schema.json lists exactly these.
var (
	topKeys   = []string{"vars", "hosts", "groups"}
	groupKeys = []string{"hosts", "children", "vars"}
)

// hostKeys returns the keys a host definition accepts: every setting and vars.
func hostKeys() []string { return append(SettingKeys(), "vars") }

// namePattern limits host and group names to characters that host patterns do not
// use as operators (",:!&*?[]~"), so every name can be selected by --limit.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)

// varNamePattern is the identifier rule playbook templates use for variable names.
var varNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// position is where a value was written.
type position struct {
	file      string
	line, col int
}

func (p position) String() string { return fmt.Sprintf("%s:%d", p.file, p.line) }

// entry is one variable or setting value with where it was written.
type entry struct {
	value   any
	setting bool
	pos     position
}

type hostDef struct {
	name     string
	pos      position // first place the host was named
	explicit bool     // defined under hosts:, not only listed in a group
	keys     map[string]entry
	vars     map[string]entry
}

type ref struct {
	name string
	pos  position
}

type groupDef struct {
	name     string
	pos      position
	hosts    []ref // direct members in order of first listing, without repeats
	children []ref
	vars     map[string]entry
}

// model is the merge of every file loaded so far. Later files overwrite earlier
// ones key by key, and group membership is the union over all files.
type model struct {
	vars       map[string]entry
	hosts      map[string]*hostDef
	hostOrder  []string
	groups     map[string]*groupDef
	groupOrder []string
	probs      problems
	// hostSettings records, per host, where each of its settings was written,
	// for the checks that compare hosts with each other.
	hostSettings map[string]map[string]entry
}

func newModel() *model {
	return &model{
		vars:   map[string]entry{},
		hosts:  map[string]*hostDef{},
		groups: map[string]*groupDef{},

		hostSettings: map[string]map[string]entry{},
	}
}

// Load reads the inventory files in order and merges them: for the same host,
// group or variable a later file overrides an earlier one key by key, and a
// group's hosts and children are the union over all files. It returns a
// *ValidationError listing every problem in every file, and no inventory unless
// all files are valid.
func Load(paths ...string) (*Inventory, error) {
	if len(paths) == 0 {
		return nil, errors.New("load inventory: no file given; pass -i FILE or set PATROL_INVENTORY")
	}

	m := newModel()
	contents := make([][]byte, len(paths))
	for i, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			m.probs.add(path, 0, 0, msg("cannot read inventory file: %v; check the path given with -i or PATROL_INVENTORY",
				"无法读取清单文件：%v；请检查 -i 或 PATROL_INVENTORY 给出的路径", err))
			continue
		}
		contents[i] = data
		m.parseFile(path, data)
	}

	inv := m.build()
	if err := m.probs.err(paths); err != nil {
		return nil, err
	}
	inv.Files = append([]string(nil), paths...)
	inv.digest = digest(contents)
	return inv, nil
}

// fileParser parses one file into the shared model.
type fileParser struct {
	m    *model
	file string
	// merging holds the mappings whose merge keys are being expanded, to stop a
	// mapping that merges itself through an alias.
	merging map[*yaml.Node]bool
	// expanded caches pairs by mapping, so aliases that merge the same mapping
	// many times over cost linear, not exponential, time.
	expanded map[*yaml.Node][]pair
}

func (p *fileParser) pos(n *yaml.Node) position {
	return position{file: p.file, line: n.Line, col: n.Column}
}

func (p *fileParser) problem(n *yaml.Node, t i18n.Text) {
	p.m.probs.add(p.file, n.Line, n.Column, t)
}

// yamlLine finds the line number in a yaml.v3 syntax error ("yaml: line 3: …").
var yamlLine = regexp.MustCompile(`line (\d+)`)

func (m *model) parseFile(file string, data []byte) {
	p := &fileParser{m: m, file: file, merging: map[*yaml.Node]bool{}, expanded: map[*yaml.Node][]pair{}}

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return // an empty file is an empty inventory
		}
		line := 0
		if sub := yamlLine.FindStringSubmatch(err.Error()); sub != nil {
			line, _ = strconv.Atoi(sub[1])
		}
		reason := strings.TrimPrefix(err.Error(), "yaml: ")
		reason = strings.TrimPrefix(reason, "line "+strconv.Itoa(line)+": ")
		t := msg("invalid YAML: %s; fix the syntax at this line", "YAML 语法错误：%s；请修正此行的语法", reason)
		if lineHasTab(data, line) {
			t = msg("invalid YAML: %s; this line is indented with a tab, indent with spaces instead",
				"YAML 语法错误：%s；此行用制表符缩进，请改用空格缩进", reason)
		}
		m.probs.add(file, line, 0, t)
		return
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		p.problem(&extra, msg("a second YAML document starts here; an inventory file holds one document, so split it into two files",
			"此处开始了第二个 YAML 文档；一个清单文件只能包含一个文档，请拆成两个文件"))
	}

	if len(doc.Content) == 0 {
		return
	}
	root := resolveAlias(doc.Content[0])
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return
	}
	if root.Kind != yaml.MappingNode {
		p.problem(root, msg("the inventory must be a mapping with the keys vars, hosts and groups, got %s",
			"清单必须是包含 vars、hosts、groups 键的映射，实际为 %s", describe(root)))
		return
	}

	for _, kv := range p.pairs(root) {
		switch kv.key.Value {
		case "vars":
			p.parseVars(kv.value, m.vars)
		case "hosts":
			p.parseHosts(kv.value, nil)
		case "groups":
			p.parseGroups(kv.value)
		default:
			p.unknownTopKey(kv.key)
		}
	}
}

func (p *fileParser) unknownTopKey(k *yaml.Node) {
	if k.Value == "all" {
		p.problem(k, msg("unknown top-level key \"all\": this looks like an Ansible YAML inventory; "+
			"patrol uses top-level vars, hosts and groups instead of all/children",
			"未知的顶层键 \"all\"：这像是 Ansible 的 YAML 清单；patrol 使用顶层 vars、hosts、groups，而不是 all/children"))
		return
	}
	hintEN, hintZH := didYouMean(k.Value, topKeys)
	p.problem(k, i18n.T(
		fmt.Sprintf("unknown top-level key %q%s; valid keys: vars, hosts, groups", k.Value, hintEN),
		fmt.Sprintf("未知的顶层键 %q%s；可用的键：vars、hosts、groups", k.Value, hintZH)))
}

type pair struct{ key, value *yaml.Node }

// pairs returns the key/value pairs of a mapping with aliases resolved and YAML
// merge keys ("<<: *defaults") expanded, explicit keys overriding merged ones. A
// key written twice is a problem, because YAML would silently keep only one.
func (p *fileParser) pairs(n *yaml.Node) []pair {
	if cached, ok := p.expanded[n]; ok {
		return cached
	}
	if p.merging[n] {
		p.problem(n, msg("this mapping merges itself through an alias (<<); remove the merge key",
			"此映射通过别名（<<）合并了自身；请删除该合并键"))
		return nil
	}
	p.merging[n] = true
	defer delete(p.merging, n)

	var merged, explicit []pair
	first := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolveAlias(n.Content[i+1])
		if k.Tag == "!!merge" {
			merged = append(merged, p.mergeSources(v)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			p.problem(k, msg("a key must be a plain name, got %s", "键必须是普通名称，实际为 %s", describe(k)))
			continue
		}
		if prev, dup := first[k.Value]; dup {
			p.problem(k, msg("duplicate key %q, first written at line %d; remove one of them",
				"键 %q 重复，第一次出现在第 %d 行；请删除其中一个", k.Value, prev.Line))
			continue
		}
		first[k.Value] = k
		explicit = append(explicit, pair{k, v})
	}

	var out []pair
	for _, kv := range merged {
		if first[kv.key.Value] == nil {
			first[kv.key.Value] = kv.key
			out = append(out, kv)
		}
	}
	out = append(out, explicit...)
	p.expanded[n] = out
	return out
}

func (p *fileParser) mergeSources(v *yaml.Node) []pair {
	switch v.Kind {
	case yaml.MappingNode:
		return p.pairs(v)
	case yaml.SequenceNode:
		var out []pair
		for _, item := range v.Content {
			out = append(out, p.mergeSources(resolveAlias(item))...)
		}
		return out
	}
	p.problem(v, msg("a merge key (<<) must refer to a mapping, got %s", "合并键（<<）必须引用映射，实际为 %s", describe(v)))
	return nil
}

// lineHasTab reports whether the 1-based line of data starts with a tab in its
// indentation, which YAML forbids.
func lineHasTab(data []byte, line int) bool {
	lines := strings.Split(string(data), "\n")
	if line < 1 || line > len(lines) {
		return false
	}
	indent := lines[line-1][:len(lines[line-1])-len(strings.TrimLeft(lines[line-1], " \t"))]
	return strings.Contains(indent, "\t")
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// parseVars reads a vars mapping into into. A variable named after a connection
// setting is checked like the setting, at the place it is written.
func (p *fileParser) parseVars(n *yaml.Node, into map[string]entry) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.problem(n, msg("vars must be a mapping of variable names to values, got %s",
			"vars 必须是变量名到值的映射，实际为 %s", describe(n)))
		return
	}

	for _, kv := range p.pairs(n) {
		name := kv.key.Value
		if instead, secret := secretVarNames[name]; secret {
			p.problem(kv.key, msg("variable %q would store a secret in the inventory; "+
				"put it in an environment variable and set %s to that variable's name",
				"变量 %q 会把密码写进清单；请把它放进环境变量，并把 %s 设为该环境变量的名字", name, instead))
			continue
		}
		if !varNamePattern.MatchString(name) {
			p.problem(kv.key, msg("invalid variable name %q; use letters, digits and _, not starting with a digit",
				"变量名 %q 无效；请使用字母、数字和下划线，且不以数字开头", name))
			continue
		}

		if s := findSetting(name); s != nil {
			v, bad := s.parse(kv.value)
			if bad != nil {
				p.problem(kv.value, *bad)
				continue
			}
			into[name] = entry{value: v, setting: true, pos: p.pos(kv.value)}
			continue
		}

		var v any
		if err := kv.value.Decode(&v); err != nil {
			p.problem(kv.value, msg("cannot read the value of variable %q: %v", "无法读取变量 %q 的值：%v", name, err))
			continue
		}
		into[name] = entry{value: v, pos: p.pos(kv.value)}
	}
}

// parseHosts reads a mapping of host definitions, or in a group a list of host
// names; group is nil for the top-level hosts section.
func (p *fileParser) parseHosts(n *yaml.Node, group *groupDef) {
	switch {
	case isNull(n):
		return
	case n.Kind == yaml.MappingNode:
		for _, kv := range p.pairs(n) {
			if h := p.parseHost(kv.key, kv.value); h != nil && group != nil {
				group.addHost(h.name, p.pos(kv.key))
			}
		}
	case n.Kind == yaml.SequenceNode && group != nil:
		for _, item := range n.Content {
			item = resolveAlias(item)
			name, ok := scalar(item)
			if !ok || !p.checkName(item, "host") {
				if !ok {
					p.problem(item, msg("a host in a group's list must be a host name, got %s",
						"组的主机列表中每一项必须是主机名，实际为 %s", describe(item)))
				}
				continue
			}
			p.m.host(name, p.pos(item))
			group.addHost(name, p.pos(item))
		}
	case group != nil:
		p.problem(n, msg("a group's hosts must be a list of host names or a mapping of host definitions, got %s",
			"组的 hosts 必须是主机名列表或主机定义映射，实际为 %s", describe(n)))
	default:
		p.problem(n, msg("hosts must be a mapping from host name to its settings, got %s",
			"hosts 必须是主机名到其设置的映射，实际为 %s", describe(n)))
	}
}

// checkName reports a host or group name that host patterns could not select.
func (p *fileParser) checkName(n *yaml.Node, kind string) bool {
	if namePattern.MatchString(n.Value) {
		return true
	}
	kindZH := "主机"
	if kind == "group" {
		kindZH = "组"
	}
	p.problem(n, i18n.T(
		fmt.Sprintf("invalid %s name %q; use letters, digits, '.', '-' and '_' so host patterns can select it "+
			"(an IPv6 address goes in address:)", kind, n.Value),
		fmt.Sprintf("%s名 %q 无效；请只使用字母、数字、'.'、'-'、'_'，以便主机模式能选中它（IPv6 地址请写在 address: 中）",
			kindZH, n.Value)))
	return false
}

func (p *fileParser) parseHost(k, body *yaml.Node) *hostDef {
	if !p.checkName(k, "host") {
		return nil
	}
	h := p.m.host(k.Value, p.pos(k))
	h.explicit = true
	if isNull(body) {
		return h
	}
	if body.Kind != yaml.MappingNode {
		p.problem(body, msg("host %q must be a mapping of settings (address, port, user, …) or empty, got %s",
			"主机 %q 必须是设置的映射（address、port、user 等）或留空，实际为 %s", k.Value, describe(body)))
		return h
	}

	for _, kv := range p.pairs(body) {
		key := kv.key.Value
		if key == "vars" {
			p.parseVars(kv.value, h.vars)
			continue
		}
		s := findSetting(key)
		if s == nil {
			p.unknownHostKey(k.Value, kv.key)
			continue
		}
		v, bad := s.parse(kv.value)
		if bad != nil {
			p.problem(kv.value, *bad)
			continue
		}
		h.keys[key] = entry{value: v, setting: true, pos: p.pos(kv.value)}
	}
	return h
}

func (p *fileParser) unknownHostKey(host string, k *yaml.Node) {
	key := k.Value
	switch {
	case secretVarNames[key] != "":
		p.problem(k, msg("host %q: key %q would store a secret in the inventory; "+
			"put it in an environment variable and set %s to that variable's name",
			"主机 %q：键 %q 会把密码写进清单；请把它放进环境变量，并把 %s 设为该环境变量的名字",
			host, key, secretVarNames[key]))
	case ansibleKeys[key] != "":
		p.problem(k, msg("host %q: unknown key %q; patrol calls this setting %q",
			"主机 %q：未知的键 %q；patrol 中此设置名为 %q", host, key, ansibleKeys[key]))
	default:
		hintEN, hintZH := didYouMean(key, hostKeys())
		p.problem(k, i18n.T(
			fmt.Sprintf("host %q: unknown key %q%s; put custom variables under vars:, valid keys: %s",
				host, key, hintEN, strings.Join(hostKeys(), ", ")),
			fmt.Sprintf("主机 %q：未知的键 %q%s；自定义变量请写在 vars: 下，可用的键：%s",
				host, key, hintZH, strings.Join(hostKeys(), ", "))))
	}
}

func (p *fileParser) parseGroups(n *yaml.Node) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.problem(n, msg("groups must be a mapping from group name to its hosts, children and vars, got %s",
			"groups 必须是组名到其 hosts、children、vars 的映射，实际为 %s", describe(n)))
		return
	}
	for _, kv := range p.pairs(n) {
		p.parseGroup(kv.key, kv.value)
	}
}

func (p *fileParser) parseGroup(k, body *yaml.Node) *groupDef {
	if k.Value == "all" || k.Value == "ungrouped" {
		p.problem(k, msg("group name %q is reserved: every host is in all; put variables for all hosts under the top-level vars:",
			"组名 %q 是保留名：所有主机都属于 all；所有主机共用的变量请写在顶层 vars: 下", k.Value))
		return nil
	}
	if !p.checkName(k, "group") {
		return nil
	}
	g := p.m.group(k.Value, p.pos(k))
	if isNull(body) {
		return g
	}
	if body.Kind != yaml.MappingNode {
		p.problem(body, msg("group %q must be a mapping with hosts, children and vars, got %s",
			"组 %q 必须是包含 hosts、children、vars 的映射，实际为 %s", k.Value, describe(body)))
		return g
	}

	for _, kv := range p.pairs(body) {
		switch kv.key.Value {
		case "hosts":
			p.parseHosts(kv.value, g)
		case "children":
			p.parseChildren(g, kv.value)
		case "vars":
			p.parseVars(kv.value, g.vars)
		default:
			p.unknownGroupKey(g.name, kv.key)
		}
	}
	return g
}

func (p *fileParser) unknownGroupKey(group string, k *yaml.Node) {
	if findSetting(k.Value) != nil {
		p.problem(k, msg("group %q: %q is a connection setting; a group sets it for its hosts under vars:",
			"组 %q：%q 是连接设置；组要为其主机设置它，请写在 vars: 下", group, k.Value))
		return
	}
	hintEN, hintZH := didYouMean(k.Value, groupKeys)
	p.problem(k, i18n.T(
		fmt.Sprintf("group %q: unknown key %q%s; valid keys: hosts, children, vars", group, k.Value, hintEN),
		fmt.Sprintf("组 %q：未知的键 %q%s；可用的键：hosts、children、vars", group, k.Value, hintZH)))
}

// parseChildren reads a list of child group names, or a mapping of child group
// definitions.
func (p *fileParser) parseChildren(g *groupDef, n *yaml.Node) {
	switch {
	case isNull(n):
	case n.Kind == yaml.SequenceNode:
		for _, item := range n.Content {
			item = resolveAlias(item)
			if _, ok := scalar(item); !ok {
				p.problem(item, msg("a child group must be a group name, got %s", "子组必须是组名，实际为 %s", describe(item)))
				continue
			}
			if p.checkName(item, "group") {
				g.addChild(item.Value, p.pos(item))
			}
		}
	case n.Kind == yaml.MappingNode:
		for _, kv := range p.pairs(n) {
			if child := p.parseGroup(kv.key, kv.value); child != nil {
				g.addChild(child.name, p.pos(kv.key))
			}
		}
	default:
		p.problem(n, msg("group %q: children must be a list of group names or a mapping of group definitions, got %s",
			"组 %q：children 必须是组名列表或组定义映射，实际为 %s", g.name, describe(n)))
	}
}

func (m *model) host(name string, pos position) *hostDef {
	if h, ok := m.hosts[name]; ok {
		return h
	}
	h := &hostDef{name: name, pos: pos, keys: map[string]entry{}, vars: map[string]entry{}}
	m.hosts[name] = h
	m.hostOrder = append(m.hostOrder, name)
	return h
}

func (m *model) group(name string, pos position) *groupDef {
	if g, ok := m.groups[name]; ok {
		return g
	}
	g := &groupDef{name: name, pos: pos, vars: map[string]entry{}}
	m.groups[name] = g
	m.groupOrder = append(m.groupOrder, name)
	return g
}

func (g *groupDef) addHost(name string, pos position) {
	for _, r := range g.hosts {
		if r.name == name {
			return
		}
	}
	g.hosts = append(g.hosts, ref{name, pos})
}

func (g *groupDef) addChild(name string, pos position) {
	for _, r := range g.children {
		if r.name == name {
			return
		}
	}
	g.children = append(g.children, ref{name, pos})
}
