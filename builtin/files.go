package builtin

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"patrol/i18n"
	"patrol/module"
	"patrol/transport"
)

func runCopy(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
	src, content := env.LocalPath(args.String("src")), args.String("content")
	if (src == "") == !args.Has("content") {
		return module.Result{}, module.Failure(i18n.T("copy: give exactly one of src and content", "copy：src 和 content 须且只能给出一个"), nil)
	}
	mode, err := parseMode(args.String("mode"))
	if err != nil {
		return module.Result{}, err
	}

	if src == "" {
		staged, err := stageContent(content)
		if err != nil {
			return module.Result{}, err
		}
		defer os.Remove(staged)
		src = staged
	} else if err := checkReadable(src); err != nil {
		return module.Result{}, module.LocalFailure(i18n.T("copy: cannot read "+src, "copy：无法读取 "+src), src, err)
	}

	dest := args.String("dest")
	res, err := env.Conn.Put(ctx, src, dest, transport.PutOptions{
		Mode:      mode,
		Owner:     args.String("owner"),
		Group:     args.String("group"),
		CheckMode: env.CheckMode,
		Become:    env.Become,
	})
	if err != nil {
		return module.Result{}, module.Failure(i18n.T("copy to "+dest+" failed", "复制到 "+dest+" 失败"), err)
	}
	msg := i18n.T("unchanged: "+dest+" already has sha256 "+res.SHA256, "未变更："+dest+" 的 sha256 已是 "+res.SHA256)
	if res.Changed && env.CheckMode {
		msg = i18n.T("check mode: would copy "+src+" to "+dest, "检查模式：将把 "+src+" 复制到 "+dest)
	} else if res.Changed {
		msg = i18n.T(
			fmt.Sprintf("copied %d bytes to %s, sha256 %s", res.Bytes, dest, res.SHA256),
			fmt.Sprintf("已复制 %d 字节到 %s，sha256 %s", res.Bytes, dest, res.SHA256))
	}
	return withMessage(module.Result{
		Changed: res.Changed,
		Data:    map[string]any{"dest": dest, "sha256": res.SHA256, "bytes": res.Bytes},
	}, msg), nil
}

func runFetch(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
	src, dest := args.String("src"), args.String("dest")
	name := filepath.FromSlash(path.Base(strings.ReplaceAll(src, `\`, "/")))
	switch {
	case !args.Bool("flat"):
		dest = filepath.Join(dest, env.Host.Name, name)
	case strings.HasSuffix(dest, string(filepath.Separator)) || isDir(dest):
		// A flat fetch into a folder keeps the file's name, as Ansible's does.
		dest = filepath.Join(dest, name)
	}
	dir := filepath.Dir(dest)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return module.Result{}, module.LocalFailure(i18n.T("fetch: creating folder "+dir+" failed", "fetch：创建文件夹 "+dir+" 失败"), dir, err)
	}

	res, err := env.Conn.Get(ctx, src, dest)
	if err != nil {
		return module.Result{}, module.Failure(i18n.T("fetch "+src+" failed", "取回 "+src+" 失败"), err)
	}
	return module.Result{
		Changed: res.Changed,
		Msg:     fmt.Sprintf("%s → %s, sha256 %s", src, dest, res.SHA256),
		Data:    map[string]any{"dest": dest, "sha256": res.SHA256, "bytes": res.Bytes},
	}, nil
}

// stageContent writes content to a temporary file on the machine running
// patrol, for Put to send, and returns its name.
func stageContent(content string) (string, error) {
	dir := os.TempDir()
	failed := i18n.T("copy: staging content in the temporary folder "+dir+" failed", "copy：在临时文件夹 "+dir+" 中暂存 content 失败")
	tmp, err := os.CreateTemp(dir, "patrol-content-*")
	if err != nil {
		return "", module.LocalFailure(failed, dir, err)
	}

	_, err = tmp.WriteString(content)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", module.LocalFailure(failed, dir, err)
	}
	return tmp.Name(), nil
}

// checkReadable opens the file at path on the machine running patrol, so that
// a missing or unreadable source fails before anything reaches the host.
func checkReadable(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	return f.Close()
}

func isDir(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}

func parseMode(s string) (os.FileMode, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || n > 0o7777 {
		return 0, module.Failure(i18n.T(
			fmt.Sprintf("mode %q is not an octal file mode; write it quoted, such as \"0644\"", s),
			fmt.Sprintf("mode %q 不是八进制文件权限；请加引号书写，例如 \"0644\"", s)), nil)
	}
	// The transports apply only the permission bits (os.FileMode.Perm), so a
	// setuid, setgid or sticky bit would be dropped without a word.
	if n > 0o777 {
		return 0, module.Failure(i18n.T(
			fmt.Sprintf("mode %q sets the setuid, setgid or sticky bit, which copy cannot apply; give permission bits only, such as \"0755\", and set the rest with a command task", s),
			fmt.Sprintf("mode %q 设置了 setuid、setgid 或 sticky 位，copy 无法应用；请只给出权限位（例如 \"0755\"），其余用 command 任务设置", s)), nil)
	}
	return os.FileMode(n), nil
}

// remoteTempPath returns a name for a temporary file on a Linux host.
func remoteTempPath(ctx context.Context, env *module.Env) (string, error) {
	res, err := env.RunCommand(ctx, transport.Command{Argv: []string{"mktemp", "/tmp/.patrol-script-XXXXXXXX"}})
	if err != nil {
		return "", err
	}
	if res.ExitCode != 0 {
		return "", fmt.Errorf("mktemp exited %d: %s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	return strings.TrimSpace(string(res.Stdout)), nil
}

func runScript(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
	src := env.LocalPath(args.String("src"))
	if err := checkReadable(src); err != nil {
		return module.Result{}, module.LocalFailure(i18n.T("script: cannot read "+src, "script：无法读取 "+src), src, err)
	}
	shown := strings.TrimSpace(src + " " + strings.Join(args.Strings("args"), " "))
	if env.CheckMode {
		return withMessage(module.Result{Changed: true}, i18n.T("check mode: would upload and run "+shown, "检查模式：将上传并执行 "+shown)), nil
	}

	remote, err := remoteTempPath(ctx, env)
	if err != nil {
		return module.Result{}, module.Failure(i18n.T("script: create a temporary file on the host", "script：在主机上创建临时文件失败"), err)
	}
	defer func() {
		_, _ = env.Conn.Run(context.WithoutCancel(ctx), transport.Command{Argv: []string{"rm", "-f", remote}})
	}()
	if _, err := env.Conn.Put(ctx, src, remote, transport.PutOptions{Mode: 0o700}); err != nil {
		return module.Result{}, module.Failure(i18n.T("script: upload "+src, "script：上传 "+src+" 失败"), err)
	}

	argv := []string{remote}
	if interp := args.String("interpreter"); interp != "" {
		words, err := splitWords(interp)
		if err != nil {
			return module.Result{}, err
		}
		argv = append(words, remote)
	}
	argv = append(argv, args.Strings("args")...)
	cmd := transport.Command{Argv: argv}
	if dir := args.String("chdir"); dir != "" {
		cmd = transport.Command{Script: "cd " + shellQuote(dir) + " && exec " + joinQuoted(argv)}
	}
	return runAndJudge(ctx, env, args, cmd, shown)
}
