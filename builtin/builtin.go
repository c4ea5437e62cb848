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
	Doc: i18n.T("exit codes that count as success, such as [0, 100]", "视为成功的退出码，如 [0, 100]")}

var commonCommandArgs = []module.Arg{
	{Name: "chdir", Type: module.String, Doc: i18n.T("folder to run in", "执行命令的工作目录")},
	{Name: "stdin", Type: module.String, Doc: i18n.T("text fed to the command's standard input", "写入命令标准输入的文本")},
	okCodesArg,
}

func commandSpec() *module.Spec {
	return &module.Spec{
		Name:     "command",
		Title:    i18n.T("Command", "命令"),
		Doc:      i18n.T("run a program with arguments and no shell: pipes, globs and $VARS are not interpreted", "不经 shell 执行程序及其参数：不解释管道、通配符和 $变量"),
		FreeForm: "cmd",
		Args: append([]module.Arg{
			{Name: "cmd", Type: module.String, Doc: i18n.T("the command line, split into words like a shell would but never expanded", "命令行，按 shell 的规则拆分为单词，但从不展开")},
			{Name: "argv", Type: module.Strings, Doc: i18n.T("the program and its arguments as a list, instead of cmd", "以列表给出程序及其参数，代替 cmd")},
		}, commonCommandArgs...),
		Changes: true,
		Run:     runCommand,
	}
}

func shellSpec() *module.Spec {
	return &module.Spec{
		Name:     "shell",
		Title:    i18n.T("Shell", "Shell 命令"),
		Doc:      i18n.T("run shell text with /bin/sh on the host", "在主机上用 /bin/sh 执行 shell 文本"),
		FreeForm: "cmd",
		Args: append([]module.Arg{
			{Name: "cmd", Type: module.String, Required: true, Doc: i18n.T("shell text", "shell 文本")},
		}, commonCommandArgs...),
		Changes: true,
		Run:     runShell,
	}
}

func scriptSpec() *module.Spec {
	return &module.Spec{
		Name:     "script",
		Title:    i18n.T("Script", "脚本"),
		Doc:      i18n.T("upload a local script to the host, run it, and remove it", "把本机脚本上传到主机，执行后删除"),
		FreeForm: "src",
		Args: append([]module.Arg{
			{Name: "src", Type: module.String, Required: true, Doc: i18n.T("local path of the script", "脚本在本机的路径")},
			{Name: "args", Type: module.Strings, Doc: i18n.T("arguments passed to the script", "传给脚本的参数")},
			{Name: "interpreter", Type: module.String, Doc: i18n.T("program that runs the script, such as /bin/bash; default: run it directly", "执行脚本的程序，如 /bin/bash；默认直接执行脚本")},
		}, commonCommandArgs...),
		Changes: true,
		Run:     runScript,
	}
}

func copySpec() *module.Spec {
	return &module.Spec{
		Name:  "copy",
		Title: i18n.T("Copy file", "复制文件"),
		Doc:   i18n.T("copy a local file (or inline content) to the host, verified by SHA-256; skipped when already identical", "把本机文件（或内联内容）复制到主机，并用 SHA-256 校验；内容已相同时跳过"),
		Args: []module.Arg{
			{Name: "src", Type: module.String, Doc: i18n.T("local file to copy", "要复制的本机文件")},
			{Name: "content", Type: module.String, Doc: i18n.T("text to write instead of src", "代替 src 写入的文本")},
			{Name: "dest", Type: module.String, Required: true, Doc: i18n.T("destination path on the host", "主机上的目标路径")},
			{Name: "mode", Type: module.String, Doc: i18n.T("file mode in octal, such as \"0640\"", "八进制文件权限，如 \"0640\"")},
			{Name: "owner", Type: module.String, Doc: i18n.T("owner user name", "属主用户名")},
			{Name: "group", Type: module.String, Doc: i18n.T("owner group name", "属组名")},
		},
		Changes: true,
		Run:     runCopy,
	}
}

func fetchSpec() *module.Spec {
	return &module.Spec{
		Name:  "fetch",
		Title: i18n.T("Fetch file", "取回文件"),
		Doc:   i18n.T("copy a file from the host to dest/<host>/<name> on this machine, verified by SHA-256", "把主机上的文件复制到本机的 dest/<主机>/<文件名>，并用 SHA-256 校验"),
		Args: []module.Arg{
			{Name: "src", Type: module.String, Required: true, Doc: i18n.T("path on the host", "主机上的路径")},
			{Name: "dest", Type: module.String, Required: true, Doc: i18n.T("local folder", "本机目录")},
			{Name: "flat", Type: module.Bool, Default: false, Doc: i18n.T("write to dest itself instead of dest/<host>/<name>", "直接写到 dest，而不是 dest/<主机>/<文件名>")},
		},
		Run: runFetch,
	}
}

func waitForSpec() *module.Spec {
	return &module.Spec{
		Name:  "wait_for",
		Title: i18n.T("Wait for port", "等待端口"),
		Doc:   i18n.T("wait until a TCP port is open (started) or closed (stopped), probing from this machine", "从本机探测，等待 TCP 端口打开（started）或关闭（stopped）"),
		Args: []module.Arg{
			{Name: "port", Type: module.Int, Required: true, Doc: i18n.T("TCP port", "TCP 端口")},
			{Name: "host", Type: module.String, Doc: i18n.T("address to probe; default the host's address", "要探测的地址；默认为主机地址")},
			{Name: "state", Type: module.String, Default: "started", Enum: []string{"started", "stopped"}, Doc: i18n.T("started waits for the port to open, stopped for it to close", "started 等待端口打开，stopped 等待端口关闭")},
			{Name: "timeout", Type: module.Duration, Default: defaultWaitTimeout, Doc: i18n.T("how long to wait", "最长等待时间")},
			{Name: "delay", Type: module.Duration, Doc: i18n.T("wait this long before the first probe", "第一次探测前等待的时间")},
			{Name: "sleep", Type: module.Duration, Default: defaultWaitSleep, Doc: i18n.T("pause between probes", "两次探测之间的间隔")},
		},
		Run: runWaitFor,
	}
}
