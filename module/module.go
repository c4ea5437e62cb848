// Package module is the contract between the runner and the code behind each task:
// a module's declared arguments (used to validate playbooks before anything runs),
// the environment it runs in, the result it returns and the findings checks report.
// It also holds the registry modules are looked up in by name.
package module

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"time"

	"patrol/i18n"
	"patrol/inventory"
	"patrol/transport"
)

// ArgType is the type a module argument must have in a playbook.
type ArgType string

// Argument types. A Duration is written "30s", "5m" or a number of seconds.
const (
	String   ArgType = "string"
	Int      ArgType = "int"
	Float    ArgType = "float"
	Bool     ArgType = "bool"
	Duration ArgType = "duration"
	Strings  ArgType = "list"
	Map      ArgType = "map"
)

// Arg declares one module argument.
type Arg struct {
	Name     string
	Type     ArgType
	Required bool
	// Default is used when the task omits the argument; nil means no default.
	Default any
	// Enum, when set, lists the only accepted values of a string argument.
	Enum []string
	// Doc describes the argument in both user languages for `patrol modules`
	// and the playbook JSON Schema, which uses the English form.
	Doc i18n.Text
}

// Spec declares a module: its name, arguments and how to run it.
type Spec struct {
	// Name is the key playbooks use, such as "command" or "check.disk".
	Name string
	// Title names the module in reports.
	Title i18n.Text
	// Doc is a one-line description in both user languages for `patrol
	// modules`. The playbook JSON Schema uses the English form.
	Doc i18n.Text
	// FreeForm names the argument a plain scalar value fills, as in
	// `command: echo hello`; empty means the module takes only a mapping.
	FreeForm string
	Args     []Arg
	// Check marks a read-only inspection check that returns findings.
	Check bool
	// Changes marks a module that may change the host; in check mode it must
	// report what it would change and change nothing.
	Changes bool
	// Run does the work. Args are validated, typed and templated before the call.
	Run func(ctx context.Context, env *Env, args Args) (Result, error)
}

// Arg returns the declaration of the named argument.
func (s *Spec) Arg(name string) (Arg, bool) {
	for _, a := range s.Args {
		if a.Name == name {
			return a, true
		}
	}
	return Arg{}, false
}

// Env is the part of the run a module works with on one host.
type Env struct {
	Host *inventory.Host
	Conn transport.Connection
	// CheckMode makes modules that change hosts change nothing and report
	// what they would change.
	CheckMode bool
	// Become, when set, runs commands through sudo.
	Become *transport.Become
	// State keeps small values between runs for this host, such as the log offset
	// check.log read up to.
	State State
	Log   *slog.Logger
	// Now is the clock; checks use it for ages and time windows.
	Now func() time.Time
	// BaseDir is the folder relative local paths (copy and script src) are
	// resolved against: the playbook's folder. Empty means the working folder.
	BaseDir string
	// Reconnect closes the host's connection, dials the host again with the
	// run's dialer and makes the new connection the one Conn and every later
	// task of the run use. Modules that restart the host (reboot) call it. On
	// failure the host has no open connection until the next call succeeds.
	// Nil when the caller cannot dial again, as in tests that build an Env.
	Reconnect func(ctx context.Context) (transport.Connection, error)
}

// LocalPath resolves a path on the patrol machine against BaseDir.
func (e *Env) LocalPath(path string) string {
	if path == "" || filepath.IsAbs(path) || e.BaseDir == "" {
		return path
	}
	return filepath.Join(e.BaseDir, path)
}

// RunCommand runs cmd on the host with the task's privilege settings.
func (e *Env) RunCommand(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	if cmd.Become == nil {
		cmd.Become = e.Become
	}
	return e.Conn.Run(ctx, cmd)
}

// Shell runs a shell script on the host and returns its result.
func (e *Env) Shell(ctx context.Context, script string) (transport.Result, error) {
	return e.RunCommand(ctx, transport.Command{Script: script})
}

// State stores small strings per host between runs.
type State interface {
	Get(key string) (string, bool)
	Set(key, value string) error
}

// Result is the outcome of a module on one host.
type Result struct {
	// Changed reports that the module changed the host (or would, in check mode).
	Changed bool `json:"changed"`
	// Failed marks a task that ran but did not do its job, such as a command
	// that exited non-zero.
	Failed bool `json:"failed,omitempty"`
	// Skipped marks a task whose `when` was false.
	Skipped bool `json:"skipped,omitempty"`
	// Msg is a short English message for people and the journal.
	Msg string `json:"msg,omitempty"`
	// Message, when set, is Msg in both user languages; the terminal shows it
	// in the run's language, and Msg keeps the English form.
	Message i18n.Text `json:"message,omitzero"`
	RC      int       `json:"rc"`
	Stdout  string    `json:"stdout,omitempty"`
	Stderr  string    `json:"stderr,omitempty"`
	// Findings are the items a check measured.
	Findings []Finding `json:"findings,omitempty"`
	// Data holds extra values for `register`, such as a fetched file's checksum.
	Data map[string]any `json:"data,omitempty"`
}

// Status is the outcome of one inspected item.
type Status string

// Finding statuses, from best to worst. StatusError means the item could not be
// measured, which is different from measuring a bad value.
const (
	StatusOK    Status = "ok"
	StatusWarn  Status = "warn"
	StatusFail  Status = "fail"
	StatusError Status = "error"
)

// Rank orders statuses so that the worst can be picked: ok < warn < error < fail.
func (s Status) Rank() int {
	switch s {
	case StatusOK:
		return 0
	case StatusWarn:
		return 1
	case StatusError:
		return 2
	case StatusFail:
		return 3
	}
	return -1
}

// Finding is one inspected item of a check on one host.
type Finding struct {
	// Check is the module name, such as check.disk.
	Check string `json:"check"`
	// Item names what was inspected: a mount point, a unit, a URL. It
	// identifies the finding and is never translated.
	Item string `json:"item"`
	// ItemTitle is the item's name for people when Item is a fixed English
	// word, such as "memory" shown as "内存" in a Chinese report. Item stays
	// as it is because journals, registered results and tests identify the
	// finding by it. Empty means show Item, as for a mount point, a unit, a URL.
	ItemTitle i18n.Text `json:"item_title,omitzero"`
	Status    Status    `json:"status"`
	// Value is the measured value as shown to people, in both languages, such
	// as "83% used" and "已用 83%". Numbers and units read the same in both.
	Value i18n.Text `json:"value"`
	// Threshold is the limit that was applied, in both languages, such as
	// "warn ≥80%, fail ≥90%" and "警告 ≥80%，不合格 ≥90%". Zero when none applies.
	Threshold i18n.Text `json:"threshold,omitzero"`
	// Message explains the status in both languages.
	Message i18n.Text `json:"message"`
	// Evidence holds raw lines that back the finding (log excerpts, output).
	Evidence []string `json:"evidence,omitempty"`
	// Metrics carries machine-readable numbers, such as used_percent.
	Metrics map[string]float64 `json:"metrics,omitempty"`
}

// UnmarshalJSON reads a finding, also in the form journals written before
// Value and Threshold became bilingual kept them: one English string. Such a
// string fills the English form only, so a Chinese report falls back to it
// instead of the old journal becoming unreadable.
func (f *Finding) UnmarshalJSON(data []byte) error {
	type plain Finding
	var raw struct {
		plain
		Value     json.RawMessage `json:"value"`
		Threshold json.RawMessage `json:"threshold"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*f = Finding(raw.plain)

	var err error
	if f.Value, err = textOrString(raw.Value); err != nil {
		return fmt.Errorf("finding %s %q: value: %w", f.Check, f.Item, err)
	}
	if f.Threshold, err = textOrString(raw.Threshold); err != nil {
		return fmt.Errorf("finding %s %q: threshold: %w", f.Check, f.Item, err)
	}
	return nil
}

// textOrString decodes {"zh":…,"en":…}, or a plain string as its English form.
func textOrString(data json.RawMessage) (i18n.Text, error) {
	var t i18n.Text
	if len(data) == 0 || string(data) == "null" {
		return t, nil
	}
	if data[0] == '"' {
		err := json.Unmarshal(data, &t.EN)
		return t, err
	}
	err := json.Unmarshal(data, &t)
	return t, err
}

// Worst returns the worst status among findings, or StatusOK when there are none.
func Worst(findings []Finding) Status {
	worst := StatusOK
	for _, f := range findings {
		if f.Status.Rank() > worst.Rank() {
			worst = f.Status
		}
	}
	return worst
}

// Registry maps module names to their specs.
type Registry struct {
	specs map[string]*Spec
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{specs: map[string]*Spec{}} }

// Register adds specs. It panics on a duplicate name, which is a programming error.
func (r *Registry) Register(specs ...*Spec) {
	for _, s := range specs {
		if _, dup := r.specs[s.Name]; dup {
			panic(fmt.Sprintf("module %q registered twice", s.Name))
		}
		r.specs[s.Name] = s
	}
}

// Lookup returns the spec of the named module.
func (r *Registry) Lookup(name string) (*Spec, bool) {
	s, ok := r.specs[name]
	return s, ok
}

// Names returns every registered module name, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.specs))
	for n := range r.specs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
