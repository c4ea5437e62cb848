package playbooks

import (
	"time"

	"patrol/i18n"
	"patrol/module"
)

// testRegistry declares a few modules the way real ones do, without Run
// functions, because these tests only parse and render.
func testRegistry() *module.Registry {
	reg := module.NewRegistry()
	reg.Register(
		&module.Spec{
			Name:     "command",
			Doc:      i18n.T("Run a command without a shell.", ""),
			FreeForm: "cmd",
			Args: []module.Arg{
				{Name: "cmd", Type: module.String, Required: true, Doc: i18n.T("The command line.", "")},
				{Name: "chdir", Type: module.String},
				{Name: "creates", Type: module.String},
			},
		},
		&module.Spec{
			Name:  "check.disk",
			Doc:   i18n.T("Check the use of every mounted file system.", ""),
			Check: true,
			Args: []module.Arg{
				{Name: "warn", Type: module.Int, Default: 80},
				{Name: "fail", Type: module.Int, Default: 90},
				{Name: "mounts", Type: module.Strings},
				{Name: "ratio", Type: module.Float},
			},
		},
		&module.Spec{
			Name:    "copy",
			Doc:     i18n.T("Copy a file to the host.", ""),
			Changes: true,
			Args: []module.Arg{
				{Name: "src", Type: module.String, Required: true},
				{Name: "dest", Type: module.String, Required: true},
				{Name: "mode", Type: module.String},
				{Name: "backup", Type: module.Bool, Default: false},
			},
		},
		&module.Spec{
			Name:    "service",
			Doc:     i18n.T("Start, stop or restart a service.", ""),
			Changes: true,
			Args: []module.Arg{
				{Name: "name", Type: module.String, Required: true},
				{Name: "state", Type: module.String, Enum: []string{"started", "stopped", "restarted"}, Default: "started"},
			},
		},
		&module.Spec{
			Name: "wait",
			Doc:  i18n.T("Wait for a host to come back.", ""),
			Args: []module.Arg{
				{Name: "timeout", Type: module.Duration, Default: 5 * time.Minute},
				{Name: "delay", Type: module.Duration},
			},
		},
		&module.Spec{
			Name: "uri",
			Doc:  i18n.T("Request a URL.", ""),
			Args: []module.Arg{
				{Name: "url", Type: module.String, Required: true},
				{Name: "headers", Type: module.Map},
				{Name: "status", Type: module.Strings},
			},
		},
		&module.Spec{Name: "ping", Doc: i18n.T("Check the connection.", "")},
		&module.Spec{Name: "check.memory", Doc: i18n.T("Check memory use.", ""), Check: true,
			Args: []module.Arg{{Name: "warn", Type: module.Int}, {Name: "fail", Type: module.Int}}},
	)
	return reg
}
