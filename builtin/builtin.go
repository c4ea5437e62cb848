// Package builtin holds the general-purpose modules: command, shell, script, copy,
// fetch, wait_for and reboot. Inspection checks live in package checks.
package builtin

import (
	"patrol/i18n"
	"patrol/module"
)

// Specs returns the declarations of every builtin module.
func Specs() []*module.Spec {
	return []*module.Spec{
		commandSpec(), shellSpec(), scriptSpec(), copySpec(), fetchSpec(), waitForSpec(), rebootSpec(),
	}
}

// Register adds every builtin module to r.
func Register(r *module.Registry) { r.Register(Specs()...) }

// okCodesArg declares the exit codes a command may end with and still succeed,
// for tools that use their exit status as data (yum check-update exits 100 when
// updates exist).
var okCodesArg = module.Arg{Name: "ok_codes", Type: module.Strings, Default: []string{"0"},
	Doc: "exit codes that count as success, such as [0, 100]"}

var commonCommandArgs = []module.Arg{
	{Name: "chdir", Type: module.String, Doc: "folder to run in"},
	{Name: "stdin", Type: module.String, Doc: "text fed to the command's standard input"},
	okCodesArg,
}

func commandSpec() *module.Spec {
	return &module.Spec{
		Name:     "command",
		Title:    i18n.T("Command", "命令"),
		Doc:      "run a program with arguments and no shell: pipes, globs and $VARS are not interpreted",
		FreeForm: "cmd",
		Args: append([]module.Arg{
			{Name: "cmd", Type: module.String, Doc: "the command line, split into words like a shell would but never expanded"},
			{Name: "argv", Type: module.Strings, Doc: "the program and its arguments as a list, instead of cmd"},
		}, commonCommandArgs...),
		Changes: true,
		Run:     runCommand,
	}
}

func shellSpec() *module.Spec {
	return &module.Spec{
		Name:     "shell",
		Title:    i18n.T("Shell", "Shell 命令"),
		Doc:      "run shell text with /bin/sh on the host",
		FreeForm: "cmd",
		Args: append([]module.Arg{
			{Name: "cmd", Type: module.String, Required: true, Doc: "shell text"},
		}, commonCommandArgs...),
		Changes: true,
		Run:     runShell,
	}
}

func scriptSpec() *module.Spec {
	return &module.Spec{
		Name:     "script",
		Title:    i18n.T("Script", "脚本"),
		Doc:      "upload a local script to the host, run it, and remove it",
		FreeForm: "src",
		Args: append([]module.Arg{
			{Name: "src", Type: module.String, Required: true, Doc: "local path of the script"},
			{Name: "args", Type: module.Strings, Doc: "arguments passed to the script"},
			{Name: "interpreter", Type: module.String, Doc: "program that runs the script, such as /bin/bash; default: run it directly"},
		}, commonCommandArgs...),
		Changes: true,
		Run:     runScript,
	}
}

func copySpec() *module.Spec {
	return &module.Spec{
		Name:  "copy",
		Title: i18n.T("Copy file", "复制文件"),
		Doc:   "copy a local file (or inline content) to the host, verified by SHA-256; skipped when already identical",
		Args: []module.Arg{
			{Name: "src", Type: module.String, Doc: "local file to copy"},
			{Name: "content", Type: module.String, Doc: "text to write instead of src"},
			{Name: "dest", Type: module.String, Required: true, Doc: "destination path on the host"},
			{Name: "mode", Type: module.String, Doc: "file mode in octal, such as \"0640\""},
			{Name: "owner", Type: module.String, Doc: "owner user name"},
			{Name: "group", Type: module.String, Doc: "owner group name"},
		},
		Changes: true,
		Run:     runCopy,
	}
}

func fetchSpec() *module.Spec {
	return &module.Spec{
		Name:  "fetch",
		Title: i18n.T("Fetch file", "取回文件"),
		Doc:   "copy a file from the host to dest/<host>/<name> on this machine, verified by SHA-256",
		Args: []module.Arg{
			{Name: "src", Type: module.String, Required: true, Doc: "path on the host"},
			{Name: "dest", Type: module.String, Required: true, Doc: "local folder"},
			{Name: "flat", Type: module.Bool, Default: false, Doc: "write to dest itself instead of dest/<host>/<name>"},
		},
		Run: runFetch,
	}
}

func waitForSpec() *module.Spec {
	return &module.Spec{
		Name:  "wait_for",
		Title: i18n.T("Wait for port", "等待端口"),
		Doc:   "wait until a TCP port is open (started) or closed (stopped), probing from this machine",
		Args: []module.Arg{
			{Name: "port", Type: module.Int, Required: true, Doc: "TCP port"},
			{Name: "host", Type: module.String, Doc: "address to probe; default the host's address"},
			{Name: "state", Type: module.String, Default: "started", Enum: []string{"started", "stopped"}, Doc: "started waits for the port to open, stopped for it to close"},
			{Name: "timeout", Type: module.Duration, Default: defaultWaitTimeout, Doc: "how long to wait"},
			{Name: "delay", Type: module.Duration, Doc: "wait this long before the first probe"},
			{Name: "sleep", Type: module.Duration, Default: defaultWaitSleep, Doc: "pause between probes"},
		},
		Run: runWaitFor,
	}
}
