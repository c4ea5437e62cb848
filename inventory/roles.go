package inventory

import (
	"fmt"
	"slices"
	"strings"

	"patrol/i18n"
)

// checkPatchRoles checks the settings that relate hosts to each other for patch
// apply: a staging host needs a system and is the only one of its system, and a
// pair has at least two members, because a pair of one is almost always a
// misspelt pair name.
func (m *model) checkPatchRoles(hosts []*Host) {
	at := func(h *Host, key string) position {
		if e, ok := m.hostSettings[h.Name][key]; ok {
			return e.pos
		}
		return m.hosts[h.Name].pos
	}

	stagingBySystem := map[string]*Host{}
	for _, h := range hosts {
		if !h.Staging {
			continue
		}
		if h.System == "" {
			m.problemAt(at(h, "staging"), msg("host %q is a staging host but has no system; set system (%s) so patrol knows which production hosts it stands for",
				"主机 %q 是测试（staging）主机，但未设置 system；请设置 system（%s），说明它代表哪个系统的生产主机", h.Name, strings.Join(Systems, ", ")))
			continue
		}
		if first, ok := stagingBySystem[h.System]; ok {
			m.problemAt(at(h, "staging"), msg("system %q has two staging hosts, %q and %q; keep staging: true on one of them",
				"系统 %q 有两台测试（staging）主机 %q 和 %q；只在其中一台上保留 staging: true", h.System, first.Name, h.Name))
			continue
		}
		stagingBySystem[h.System] = h
	}

	members := map[string][]*Host{}
	for _, h := range hosts {
		if h.Pair != "" {
			members[h.Pair] = append(members[h.Pair], h)
		}
	}
	pairs := sortedKeys(members)
	for _, name := range pairs {
		if len(members[name]) > 1 {
			continue
		}
		h := members[name][0]
		others := slices.DeleteFunc(slices.Clone(pairs), func(p string) bool { return p == name })
		hintEN, hintZH := didYouMean(name, others)
		m.problemAt(at(h, "pair"), i18n.T(
			fmt.Sprintf("host %q is the only member of pair %q%s; give its standby partner the same pair name, or remove pair", h.Name, name, hintEN),
			fmt.Sprintf("主机 %q 是双机组 %q 的唯一成员%s；请给它的备机设置相同的 pair 名称，或删除 pair", h.Name, name, hintZH)))
	}
}
