package inventory

import (
	"cmp"
	"slices"
	"strings"
	"unicode"

	"patrol/i18n"
	"patrol/internal/typo"
)

// build checks the references between hosts and groups and resolves every host's
// settings and variables. Problems go to m.probs; the returned inventory is only
// used when there are none.
func (m *model) build() *Inventory {
	m.checkChildren()
	m.checkMembers()
	cyclic := m.checkCycles()

	parents := m.parents()
	depths := m.depths(parents)

	inv := &Inventory{
		byName: map[string]*Host{},
		groups: map[string]*Group{},
		vars:   plainVars(m.vars),
	}
	for _, name := range m.groupOrder {
		g := m.groups[name]
		group := &Group{
			Name:    name,
			Parents: parents[name],
			Depth:   depths[name],
			Vars:    plainVars(g.vars),
			Source:  g.pos.String(),
		}
		for _, r := range g.hosts {
			group.Hosts = append(group.Hosts, r.name)
		}
		for _, r := range g.children {
			group.Children = append(group.Children, r.name)
		}
		inv.groups[name] = group
	}
	if cyclic {
		return inv // membership through children is undefined until the cycle is fixed
	}

	direct := map[string][]string{}
	for _, gname := range m.groupOrder {
		for _, r := range m.groups[gname].hosts {
			direct[r.name] = append(direct[r.name], gname)
		}
	}
	for _, name := range m.hostOrder {
		if m.groups[name] != nil && !m.hosts[name].explicit {
			continue // a group listed under hosts:, already reported
		}
		groups := ancestors(direct[name], parents)
		h := m.resolveHost(m.hosts[name], groups, depths)
		inv.hosts = append(inv.hosts, h)
		inv.byName[name] = h
	}
	m.checkPatchRoles(inv.hosts)
	return inv
}

// plainVars returns the variables of one level as written, connection settings
// included. Host.Vars, by contrast, leaves settings out because they live in
// Host's fields.
func plainVars(entries map[string]entry) map[string]any {
	out := map[string]any{}
	for k, e := range entries {
		out[k] = e.value
	}
	return out
}

func (m *model) problemAt(pos position, t i18n.Text) {
	m.probs.add(pos.file, pos.line, pos.col, t)
}

// checkChildren reports child groups that are not defined anywhere.
func (m *model) checkChildren() {
	names := sortedKeys(m.groups)
	for _, gname := range m.groupOrder {
		for _, c := range m.groups[gname].children {
			if m.groups[c.name] != nil {
				continue
			}
			hintEN, hintZH := didYouMean(c.name, names)
			m.problemAt(c.pos, i18n.T(
				"group \""+gname+"\": child group \""+c.name+"\" is not defined"+hintEN+"; define it under groups:",
				"组 \""+gname+"\"：子组 \""+c.name+"\" 未定义"+hintZH+"；请在 groups: 下定义它"))
		}
	}
}

// checkMembers reports hosts listed in groups that are really groups, names used
// for both a host and a group, and names that only a group lists but that look
// like a misspelling of a defined host. A name only listed in a group is otherwise
// a valid host with default settings.
func (m *model) checkMembers() {
	var explicit []string
	for _, name := range m.hostOrder {
		if m.hosts[name].explicit {
			explicit = append(explicit, name)
		}
	}

	for _, gname := range m.groupOrder {
		for _, r := range m.groups[gname].hosts {
			h := m.hosts[r.name]
			if h.explicit {
				continue
			}
			if m.groups[r.name] != nil {
				m.problemAt(r.pos, msg("group %q lists %q under hosts:, but %q is a group; list it under children:",
					"组 %q 在 hosts: 中列出了 %q，但 %q 是一个组；请把它列在 children: 下", gname, r.name, r.name))
				continue
			}
			if near := misspelledHost(r.name, explicit); near != "" {
				m.problemAt(r.pos, msg("group %q lists host %q, which is not defined under hosts: (did you mean %q?); "+
					"fix the name, or define the host under hosts: if it is a new one",
					"组 %q 列出了主机 %q，但它没有在 hosts: 下定义（是否想写 %q？）；请改正名字，如果是新主机请在 hosts: 下定义", gname, r.name, near))
			}
		}
	}

	for _, name := range m.hostOrder {
		h, g := m.hosts[name], m.groups[name]
		if g != nil && h.explicit {
			m.problemAt(g.pos, msg("group %q has the same name as the host defined at %s; rename one so host patterns are unambiguous",
				"组 %q 与 %s 处定义的主机同名；请重命名其中一个，避免主机模式产生歧义", name, h.pos.String()))
		}
	}
}

// misspelledHost returns the defined host that name most likely misspells, or "".
// Only names one edit apart count, and names that differ only in digits (web1,
// web2) are different hosts, not typos.
func misspelledHost(name string, defined []string) string {
	fold := func(s string) string {
		return strings.NewReplacer("-", "", "_", "", ".", "").Replace(strings.ToLower(s))
	}
	for _, d := range defined {
		if fold(d) == fold(name) {
			return d
		}
	}
	for _, d := range defined {
		if typo.Distance(d, name) == 1 && stripDigits(d) != stripDigits(name) {
			return d
		}
	}
	return ""
}

func stripDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) {
			return -1
		}
		return r
	}, s)
}

// checkCycles reports each cycle of child groups once, at the child entry that
// closes it, and returns whether there was any.
func (m *model) checkCycles() bool {
	const (
		unvisited = iota
		active
		done
	)
	state := map[string]int{}
	found := false
	var path []string

	var visit func(name string)
	visit = func(name string) {
		state[name] = active
		path = append(path, name)
		for _, c := range m.groups[name].children {
			if m.groups[c.name] == nil {
				continue
			}
			switch state[c.name] {
			case active:
				start := slices.Index(path, c.name)
				cycle := strings.Join(append(slices.Clone(path[start:]), c.name), " → ")
				m.problemAt(c.pos, msg("group cycle %s; a group cannot contain itself, so remove one of these children entries",
					"组循环 %s；组不能包含自身，请删除其中一个 children 条目", cycle))
				found = true
			case unvisited:
				visit(c.name)
			}
		}
		path = path[:len(path)-1]
		state[name] = done
	}
	for _, name := range m.groupOrder {
		if state[name] == unvisited {
			visit(name)
		}
	}
	return found
}

// parents maps each group to the sorted groups that list it as a child.
func (m *model) parents() map[string][]string {
	out := map[string][]string{}
	for _, gname := range m.groupOrder {
		for _, c := range m.groups[gname].children {
			if !slices.Contains(out[c.name], gname) {
				out[c.name] = append(out[c.name], gname)
			}
		}
	}
	for _, list := range out {
		slices.Sort(list)
	}
	return out
}

// depths gives every group its depth; a group on a cycle stops the recursion
// instead of looping.
func (m *model) depths(parents map[string][]string) map[string]int {
	depth := map[string]int{}
	var walk func(name string, seen map[string]bool) int
	walk = func(name string, seen map[string]bool) int {
		if d, ok := depth[name]; ok {
			return d
		}
		if seen[name] {
			return 0
		}
		seen[name] = true
		d := 1
		for _, p := range parents[name] {
			d = max(d, walk(p, seen)+1)
		}
		delete(seen, name)
		depth[name] = d
		return d
	}
	for _, name := range m.groupOrder {
		walk(name, map[string]bool{})
	}
	return depth
}

// ancestors returns the given groups and every group above them, sorted by name.
func ancestors(groups []string, parents map[string][]string) []string {
	seen := map[string]bool{}
	queue := slices.Clone(groups)
	for len(queue) > 0 {
		g := queue[0]
		queue = queue[1:]
		if seen[g] {
			continue
		}
		seen[g] = true
		queue = append(queue, parents[g]...)
	}
	return sortedKeys(seen)
}

// resolveHost merges the levels in precedence order (see Inventory) and applies
// defaults and the checks that need the merged settings.
func (m *model) resolveHost(def *hostDef, groups []string, depths map[string]int) *Host {
	ordered := slices.Clone(groups)
	slices.SortFunc(ordered, func(a, b string) int {
		return cmp.Or(cmp.Compare(depths[a], depths[b]), cmp.Compare(a, b))
	})

	vars := map[string]any{}
	set := map[string]entry{}
	layer := func(entries map[string]entry) {
		for k, e := range entries {
			if e.setting {
				set[k] = e
			} else {
				vars[k] = e.value
			}
		}
	}
	layer(m.vars)
	for _, g := range ordered {
		layer(m.groups[g].vars)
	}
	layer(def.vars)
	layer(def.keys)

	h := &Host{Name: def.name, Groups: groups, Vars: vars, Source: def.pos.String()}
	for _, s := range settings {
		if e, ok := set[s.key]; ok {
			s.apply(h, e.value)
		}
	}
	applyDefaults(h)
	m.checkHost(h, def, set)
	m.hostSettings[h.Name] = set
	return h
}

// applyDefaults fills what the inventory left out: connection ssh, the
// connection's standard port and ssh-agent use.
func applyDefaults(h *Host) {
	if h.Connection == "" {
		h.Connection = ConnSSH
	}
	if h.Port == 0 {
		switch {
		case h.Connection == ConnSSH:
			h.Port = 22
		case h.Connection == ConnWinRM && h.TLS:
			h.Port = 5986
		case h.Connection == ConnWinRM:
			h.Port = 5985
		}
	}
	if h.Agent == nil {
		agent := true
		h.Agent = &agent
	}
}

// checkHost reports contradictions between settings that may come from different
// levels; the problem points at the setting that makes the combination invalid.
func (m *model) checkHost(h *Host, def *hostDef, set map[string]entry) {
	at := func(key string) position {
		if e, ok := set[key]; ok {
			return e.pos
		}
		return def.pos
	}

	if h.TLS && h.InsecureHTTP {
		m.problemAt(at("insecure_http"), msg("host %q sets both tls and insecure_http; keep tls: true for HTTPS or insecure_http: true for HTTP, not both",
			"主机 %q 同时设置了 tls 和 insecure_http；HTTPS 用 tls: true，HTTP 用 insecure_http: true，只能选一个", h.Name))
	}
	if h.Connection == ConnWinRM && h.Auth == "basic" && !h.TLS && !h.InsecureHTTP {
		m.problemAt(at("auth"), msg("host %q uses WinRM basic authentication over HTTP, which sends the password in clear text; "+
			"set tls: true, or insecure_http: true to accept that",
			"主机 %q 通过 HTTP 使用 WinRM basic 认证，密码会以明文传输；请设置 tls: true，或设置 insecure_http: true 表示接受", h.Name))
	}
	if h.Connection == ConnWinRM && h.Auth == "cert" && !h.TLS {
		m.problemAt(at("auth"), msg("host %q uses WinRM certificate authentication, which needs HTTPS; set tls: true",
			"主机 %q 使用 WinRM 证书认证，必须走 HTTPS；请设置 tls: true", h.Name))
	}
	if h.Connection == ConnWinRM && h.Auth == "cert" {
		for _, key := range []string{"cert_file", "cert_key_file"} {
			if _, ok := set[key]; ok {
				continue
			}
			m.problemAt(at("auth"), msg("host %q uses WinRM certificate authentication but %s is not set; give the PEM client certificate in cert_file and its key in cert_key_file",
				"主机 %q 使用 WinRM 证书认证，但未设置 %s；请在 cert_file 中填写 PEM 客户端证书，在 cert_key_file 中填写其私钥", h.Name, key))
		}
	}
	if slices.Contains(h.Jump, h.Name) {
		m.problemAt(at("jump"), msg("host %q lists itself as a jump host; remove it from jump",
			"主机 %q 把自己列为跳板机；请从 jump 中删除它", h.Name))
	}
}
