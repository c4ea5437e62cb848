package playbooks

import (
	"fmt"
	"time"

	"patrol/i18n"
	"patrol/module"
)

// Pos is a place in a YAML file, for error messages.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// Playbook is a parsed, validated playbook.
type Playbook struct {
	// File is the path it was read from ("playbooks/x.yml" for shipped ones).
	File string
	// SHA256 is the hex digest of the file's bytes, recorded in the journal.
	SHA256 string
	Plays  []*Play
}

// Play runs tasks on the hosts a pattern selects.
type Play struct {
	// Name is the play's name in English and Chinese. A name written as plain
	// text is in EN only, and i18n.Text.In shows it in every language.
	Name i18n.Text
	// Hosts is a host pattern, as accepted by --limit.
	Hosts string
	// HostsPos locates the hosts value, for CheckHosts.
	HostsPos Pos
	Vars     map[string]any
	// Defaults are variables that the host's inventory variables override, for
	// values a site may set, such as a URL to check. Play Vars override both.
	Defaults map[string]any
	// Serial is the batch size: a count, or a percentage of the play's hosts when
	// SerialPercent is true. Zero means all hosts in one batch.
	Serial        int
	SerialPercent bool
	// MaxFailPercent stops the play when more than this share of a batch fails;
	// nil means any failure is tolerated until the batch ends.
	MaxFailPercent *float64
	// Become overrides the host's become setting when not nil.
	Become *bool
	Tags   []string
	Tasks  []*Task
	Pos    Pos
}

// Task is one module call.
type Task struct {
	// Name is the task's name in English and Chinese, like Play.Name. It may
	// contain templates, which RenderName renders.
	Name i18n.Text
	// Module is the module name and Spec its registered declaration.
	Module string
	Spec   *module.Spec
	// Args are the raw arguments: scalars, lists and maps whose strings may hold
	// templates. ResolveArgs renders and types them for one host.
	Args map[string]any
	// When is a condition template; empty means always.
	When     string
	Register string
	// Loop is either a list of items or a template string rendering to a list.
	Loop         any
	Tags         []string
	Timeout      time.Duration
	Retries      int
	Delay        time.Duration
	IgnoreErrors bool
	Become       *bool
	Pos          Pos

	// argPos, whenPos and loopPos locate the values in the file, for errors that
	// only show at run time.
	argPos  map[string]Pos
	whenPos Pos
	loopPos Pos
}

// DisplayName returns the task's name, or its module name when it has none.
func (t *Task) DisplayName() i18n.Text {
	if !t.Name.IsZero() {
		return t.Name
	}
	return i18n.Text{EN: t.Module}
}
