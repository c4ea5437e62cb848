package inventory

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"maps"
	"slices"
	"sort"
)

// Inventory is a validated set of hosts and groups. It is read-only after Load or
// Local and safe for concurrent use.
//
// Variable precedence, lowest first: top-level vars, group vars, the host's vars,
// then the host's own keys. Group vars apply in order of depth and then of name,
// so a child group beats its parent and, among unrelated groups at the same
// depth, the name later in sorted order wins. A group without parents has depth
// 1 and a child is one deeper than its deepest parent. Ansible orders groups the
// same way. A variable named after a connection setting (user, port, become, …)
// sets that setting. The returned hosts are shared, so callers must not modify
// them.
type Inventory struct {
	// Files are the inventory files in load order; empty for Local.
	Files []string

	hosts  []*Host
	byName map[string]*Host
	groups map[string]*Group
	vars   map[string]any
	digest string
}

// Group is a named set of hosts with variables for them.
type Group struct {
	Name string `json:"name"`
	// Hosts are the hosts listed in the group itself, in inventory order.
	Hosts []string `json:"hosts,omitempty"`
	// Children are the groups nested in this one, whose hosts belong to it too.
	Children []string `json:"children,omitempty"`
	// Parents are the groups that list this one as a child, sorted.
	Parents []string `json:"parents,omitempty"`
	// Depth is 1 for a group without parents and one more than the deepest parent
	// otherwise; deeper groups' variables win.
	Depth int `json:"depth"`
	// Vars are the group's own variables, connection settings included.
	Vars map[string]any `json:"vars,omitempty"`
	// Source is the "file:line" of the group's first definition.
	Source string `json:"source,omitempty"`
}

// Hosts returns every host in inventory order: the order in which the files first
// name each host, file by file, top to bottom.
func (inv *Inventory) Hosts() []*Host { return slices.Clone(inv.hosts) }

// Host returns the host called name, or nil.
func (inv *Inventory) Host(name string) *Host { return inv.byName[name] }

// Groups returns the defined groups sorted by name. The implicit group "all" is
// not among them: Vars returns its variables and the pattern "all" selects it.
func (inv *Inventory) Groups() []*Group {
	out := make([]*Group, 0, len(inv.groups))
	for _, name := range slices.Sorted(maps.Keys(inv.groups)) {
		out = append(out, inv.groups[name])
	}
	return out
}

// Group returns the group called name, or nil.
func (inv *Inventory) Group(name string) *Group { return inv.groups[name] }

// Vars returns the top-level variables, which apply to every host.
func (inv *Inventory) Vars() map[string]any { return maps.Clone(inv.vars) }

// SHA256 returns the hex SHA-256 digest of the loaded files' contents in load
// order, so a journal can record exactly which inventory a run used. Each file
// is hashed as its length (8 bytes, big-endian) followed by its bytes, so moving
// text from one file to the next changes the digest. It is empty for an
// inventory that came from no file (Local).
func (inv *Inventory) SHA256() string { return inv.digest }

func digest(contents [][]byte) string {
	h := sha256.New()
	var size [8]byte
	for _, c := range contents {
		binary.BigEndian.PutUint64(size[:], uint64(len(c)))
		h.Write(size[:])
		h.Write(c)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// groupMembers returns the names of the hosts in group name, directly or through
// its children.
func (inv *Inventory) groupMembers(name string) map[string]bool {
	members := map[string]bool{}
	for _, h := range inv.hosts {
		if slices.Contains(h.Groups, name) {
			members[h.Name] = true
		}
	}
	return members
}

// sortedKeys returns the keys of m sorted, or nil for an empty map.
func sortedKeys[V any](m map[string]V) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
