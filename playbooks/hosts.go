package playbooks

import (
	"errors"
	"fmt"

	"patrol/i18n"
	"patrol/inventory"
)

// CheckHosts evaluates the hosts pattern of every play against inv. It
// returns a *ValidationError with one problem, at the hosts value, for each
// pattern that has a syntax error or a term matching no host or group, and
// nil when every pattern is valid. Parse cannot check this, because the
// inventory is known only when the playbook runs.
func (b *Playbook) CheckHosts(inv *inventory.Inventory) error {
	ps := problems{file: b.File}
	for _, p := range b.Plays {
		_, err := inv.Select(p.Hosts)
		if err == nil {
			continue
		}
		text := i18n.T(err.Error(), err.Error())
		var perr *inventory.PatternError
		if errors.As(err, &perr) {
			text = perr.Text
		}
		pos := p.HostsPos
		if pos.Line == 0 {
			pos = p.Pos
		}
		ps.add(pos.Line, pos.Col,
			fmt.Sprintf("play %q: %s", p.Name.EN, text.EN),
			fmt.Sprintf("play %q：%s", p.Name.In(i18n.ZH), text.In(i18n.ZH)))
	}
	return ps.err()
}
