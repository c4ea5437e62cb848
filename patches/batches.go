package patches

import (
	"cmp"
	"slices"

	"patrol/inventory"
)

// Batches splits hosts into serial batches of at most size hosts such that no
// batch holds two hosts of one pair, so that the hosts of a hot-standby pair
// are never down at the same time. Hosts keep their order of urgency: each
// goes into the first batch that has room and no member of its pair, which
// may be a batch before that of a host listed earlier. A size below 1 means 1.
func Batches(hosts []*inventory.Host, size int) [][]*inventory.Host {
	size = max(size, 1)
	var batches [][]*inventory.Host
	for _, h := range hosts {
		placed := false
		for i, b := range batches {
			if len(b) < size && !hasPairMember(b, h.Pair) {
				batches[i] = append(b, h)
				placed = true
				break
			}
		}
		if !placed {
			batches = append(batches, []*inventory.Host{h})
		}
	}
	return batches
}

func hasPairMember(batch []*inventory.Host, pair string) bool {
	if pair == "" {
		return false
	}
	return slices.ContainsFunc(batch, func(h *inventory.Host) bool { return h.Pair == pair })
}

// orderWork sorts host work by its most urgent patch (earliest deadline, then
// worst severity), then by host name.
func orderWork(work []*HostWork) {
	slices.SortStableFunc(work, func(a, b *HostWork) int {
		return cmp.Or(compareItems(a.Items[0].Plan, b.Items[0].Plan), cmp.Compare(a.Host.Name, b.Host.Name))
	})
}

// batchWork splits ordered host work into batches with Batches.
func batchWork(work []*HostWork, size int) [][]*HostWork {
	byName := map[string]*HostWork{}
	hosts := make([]*inventory.Host, len(work))
	for i, w := range work {
		hosts[i] = w.Host
		byName[w.Host.Name] = w
	}
	var out [][]*HostWork
	for _, b := range Batches(hosts, size) {
		batch := make([]*HostWork, len(b))
		for i, h := range b {
			batch[i] = byName[h.Name]
		}
		out = append(out, batch)
	}
	return out
}
