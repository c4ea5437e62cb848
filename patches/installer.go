package patches

import (
	"context"
	"time"

	"patrol/i18n"
	"patrol/inventory"
	"patrol/transport"
)

// Target is one host an installer works on.
type Target struct {
	Host *inventory.Host
	Conn transport.Connection
	// Become runs Linux commands through sudo; nil for Windows hosts.
	Become *transport.Become
	// Log receives one line per step, for the journal and the terminal.
	Log func(step string, detail i18n.Text)
}

// Installed is the installed software of a host, as far as the queries for
// its kind of host could read it.
type Installed struct {
	// Packages maps an RPM name to its installed versions.
	Packages map[string][]Package
	// KBs maps a Windows update's KB number to its install date; the zero time
	// means Windows recorded none.
	KBs map[string]time.Time
	// OPatches maps an Oracle patch number to the time opatch applied it.
	OPatches map[string]time.Time
	// Queried names the sources that were read: "rpm", "hotfix", "opatch".
	// A patch whose source was not queried is unknown, not missing.
	Queried []string
}

// Package is one installed RPM.
type Package struct {
	// NEVRA is name-[epoch:]version-release.arch, with the epoch only when set.
	NEVRA       string
	InstalledAt time.Time
}

// Outcome is the result of an install or rollback on a host.
type Outcome struct {
	// AlreadyInstalled means the installer found the patch in place and
	// changed nothing (wusa 2359302, rpm "already installed", opatch
	// "already applied").
	AlreadyInstalled bool
	// RebootRequired means the host must restart to finish (wusa 3010,
	// DISM 3010).
	RebootRequired bool
	ExitCode       int
	// Output is the installer's output, trimmed, for the journal.
	Output string
}

// Installer installs and rolls back patches of one family of methods.
type Installer interface {
	// Query reads what the host has installed from this installer's source.
	Query(ctx context.Context, t Target) (*Installed, error)
	// Install installs p from files already copied to the host; remote lists
	// their paths on the host in the order of p.Files. An error means the
	// install failed; the caller then rolls back when p allows it.
	Install(ctx context.Context, t Target, p *Patch, remote []string) (Outcome, error)
	// Rollback undoes p. before is what Query returned before the install;
	// rollbackFiles are p.Rollback.Files already copied to the host.
	Rollback(ctx context.Context, t Target, p *Patch, before *Installed, rollbackFiles []string) (Outcome, error)
}

// Merge adds what other found to in, for hosts queried by several installers
// (a Windows host with an Oracle home).
func (in *Installed) Merge(other *Installed) {
	if other == nil {
		return
	}
	if in.Packages == nil {
		in.Packages = map[string][]Package{}
	}
	for k, v := range other.Packages {
		in.Packages[k] = append(in.Packages[k], v...)
	}
	if in.KBs == nil {
		in.KBs = map[string]time.Time{}
	}
	for k, v := range other.KBs {
		in.KBs[k] = v
	}
	if in.OPatches == nil {
		in.OPatches = map[string]time.Time{}
	}
	for k, v := range other.OPatches {
		in.OPatches[k] = v
	}
	in.Queried = append(in.Queried, other.Queried...)
}
