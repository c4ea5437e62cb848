package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	winrmlab "patrol/lab/winrm"
)

// labCommand groups the servers that stand in for hosts no test machine can run.
func (a *app) labCommand() *cobra.Command {
	lab := &cobra.Command{
		Use:   "lab",
		Short: a.tr("Run stand-in servers that replay recorded host output", "运行重放真实主机输出的模拟服务器"),
	}
	lab.AddCommand(a.labWinRMCommand())
	return lab
}

func (a *app) labWinRMCommand() *cobra.Command {
	var (
		listen      string
		replayPath  string
		user        string
		password    string
		passwordEnv string
		useTLS      bool
		maxEnvelope int
		auth        []string
		reboot      bool
		rebootDown  time.Duration
		clientCA    string
	)
	cmd := &cobra.Command{
		Use:   "winrm",
		Short: a.tr("Serve WinRM with command output replayed from a YAML file", "提供 WinRM 服务，命令输出取自 YAML 重放文件"),
		Long: a.tr(
			"Serves WS-Management (shell create, command, receive, signal, delete) with Basic, NTLM or client-certificate authentication.\n"+
				"Each command is answered from the first replay entry whose match (a regular expression on the\n"+
				"command text, with powershell -EncodedCommand decoded) matches; other commands get a SOAP fault.\n"+
				"The match may hit anywhere in the text: patrol puts a PowerShell prelude before every probe, so do\n"+
				"not anchor it with ^. lab/winrm/examples/seal-db-1.yml answers every probe of the inspection playbooks.\n"+
				"Nothing is executed. Stop it with Ctrl-C.",
			"提供 WS-Management 服务（创建 shell、执行命令、接收输出、发送信号、删除 shell），使用 Basic、NTLM 或客户端证书认证。\n"+
				"每条命令取重放文件中第一个 match（对命令文本的正则表达式，powershell -EncodedCommand 会先解码）\n"+
				"匹配的条目作答；没有匹配条目的命令返回 SOAP 错误。match 可匹配文本的任意位置：patrol 在每个探测脚本前\n"+
				"都加了 PowerShell 前导语句，所以不要用 ^ 锚定。lab/winrm/examples/seal-db-1.yml 可应答巡检剧本的全部探测。\n"+
				"不会真正执行任何命令。按 Ctrl-C 停止。",
		),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if replayPath == "" {
				return invalid(errors.New(a.tr("--replay is required: name the YAML file of recorded outputs", "缺少 --replay：请指定记录输出的 YAML 文件")))
			}
			if user == "" {
				return invalid(errors.New(a.tr(
					"--user is required: name the account clients log in as, such as --user Administrator",
					"缺少 --user：请指定客户端登录所用的账户，例如 --user Administrator")))
			}
			if maxEnvelope <= 0 {
				return invalid(fmt.Errorf("--max-envelope-size %d: %s", maxEnvelope, a.tr("use a positive number of KB such as 500", "请使用正数（单位 KB），例如 500")))
			}
			if rebootDown <= 0 {
				return invalid(fmt.Errorf("--reboot-down-time %s: %s", rebootDown, a.tr("use a positive duration such as 3s", "请使用正的时长，例如 3s")))
			}

			var methods []winrmlab.AuthMethod
			for _, name := range auth {
				switch m := winrmlab.AuthMethod(strings.ToLower(strings.TrimSpace(name))); m {
				case winrmlab.AuthBasic, winrmlab.AuthNTLM, winrmlab.AuthCert:
					methods = append(methods, m)
				default:
					return invalid(fmt.Errorf("--auth %q: %s", name, a.tr("use basic, ntlm, cert or a list such as basic,ntlm", "请使用 basic、ntlm、cert 或列表，例如 basic,ntlm")))
				}
			}

			if passwordEnv != "" {
				password = os.Getenv(passwordEnv)
				if password == "" {
					return invalid(fmt.Errorf(a.tr("environment variable %s is empty or not set: export the password in it", "环境变量 %s 为空或未设置：请把密码导出到该变量"), passwordEnv))
				}
			}
			if password == "" && needsPassword(methods) {
				return invalid(errors.New(a.tr(
					"--password-env is required: name the environment variable that holds the password clients log in with, the same variable as password_env in the inventory, such as --password-env SEAL_DB_PASSWORD",
					"缺少 --password-env：请指定存放客户端登录密码的环境变量，与清单中 password_env 指定的变量相同，例如 --password-env SEAL_DB_PASSWORD")))
			}

			if _, err := os.Stat(replayPath); err != nil {
				return invalid(fmt.Errorf("--replay %s: %s", replayPath, a.tr(
					"cannot read the replay file; give the path of a replay YAML file, such as lab/winrm/examples/seal-db-1.yml",
					"无法读取回放文件；请给出回放 YAML 文件的路径，例如 lab/winrm/examples/seal-db-1.yml")))
			}
			entries, err := winrmlab.LoadReplay(replayPath)
			if err != nil {
				return invalid(err)
			}
			clientCAPEM, err := a.readLabClientCA(clientCA)
			if err != nil {
				return err
			}
			srv, err := winrmlab.New(winrmlab.Config{
				Entries:         entries,
				User:            user,
				Password:        password,
				Auth:            methods,
				TLS:             useTLS,
				MaxEnvelopeSize: maxEnvelope * 1024,
				SimulateReboot:  reboot,
				RebootDownTime:  rebootDown,
				ClientCAPEM:     clientCAPEM,
				Logger:          slog.New(slog.NewTextHandler(a.stderr, nil)),
			})
			if err != nil {
				return invalid(err)
			}

			l, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("%s %s: %w; %s", a.tr("listen on", "监听"), listen, err,
					a.tr("if another lab or program uses the port, choose another with --listen 127.0.0.1:PORT",
						"如果该端口已被其他 lab 或程序占用，请用 --listen 127.0.0.1:端口 另选一个"))
			}
			scheme := "http"
			if useTLS {
				scheme = "https"
				caPath, err := srv.WriteCACert(replayPath)
				if err != nil {
					_ = l.Close()
					return err
				}
				fmt.Fprintln(a.stdout, a.labelled(a.tr("CA certificate", "CA 证书"), caPath))
				if err := a.writeLabClientCert(srv, replayPath); err != nil {
					_ = l.Close()
					return err
				}
			}
			fmt.Fprintf(a.stdout, "%s %s://%s/wsman (%d %s)\n", a.tr("serving WinRM at", "WinRM 服务地址"), scheme, l.Addr(), len(entries), a.tr("replay entries", "条重放记录"))

			served := make(chan error, 1)
			go func() { served <- srv.Serve(l) }()
			select {
			case err := <-served:
				return err
			case <-cmd.Context().Done():
				_ = srv.Close()
				<-served
				return &exitError{code: exitInterrupted}
			}
		},
	}

	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:15985", a.tr("address and port to listen on", "监听的地址和端口"))
	f.StringVar(&replayPath, "replay", "", a.tr("YAML file of recorded command outputs", "记录命令输出的 YAML 文件"))
	f.StringVar(&user, "user", "", a.tr("user name clients must log in with", "客户端登录所用的用户名"))
	f.StringVar(&password, "password", "", a.tr("password clients must log in with (visible to other local users; prefer --password-env)", "客户端登录所用的密码（本机其他用户可见；建议用 --password-env）"))
	f.StringVar(&passwordEnv, "password-env", "", a.tr("environment variable that contains the password; required unless --password is given or --auth is cert alone", "存放密码的环境变量名；除非指定了 --password 或 --auth 仅为 cert，否则必须指定"))
	f.BoolVar(&useTLS, "tls", false, a.tr("serve HTTPS with a generated CA, written next to the replay file as NAME-ca.pem", "使用生成的 CA 提供 HTTPS，CA 证书写到重放文件旁，名为 NAME-ca.pem"))
	f.StringSliceVar(&auth, "auth", []string{string(winrmlab.AuthBasic)}, a.tr("accepted authentication: basic, ntlm, cert (client certificate, needs --tls), or a list such as basic,ntlm (NTLM over HTTP also accepts message encryption)", "接受的认证方式：basic、ntlm、cert（客户端证书，需要 --tls），或列表，例如 basic,ntlm（HTTP 上的 NTLM 同时支持消息加密）"))
	f.StringVar(&clientCA, "client-ca", "", a.tr("PEM file of the CAs that client certificates must chain to under --auth cert; without it the lab generates a client CA and writes a client certificate and key next to the replay file", "--auth cert 时客户端证书必须链到的 CA 的 PEM 文件；不指定时模拟服务器自动生成客户端 CA，并把客户端证书和私钥写到重放文件旁"))
	f.IntVar(&maxEnvelope, "max-envelope-size", winrmlab.DefaultMaxEnvelopeSize/1024, a.tr("largest request accepted, in KB, like MaxEnvelopeSizekb on Windows", "接受的最大请求，单位 KB，对应 Windows 的 MaxEnvelopeSizekb"))
	f.BoolVar(&reboot, "simulate-reboot", false, a.tr("play a host that restarts on shutdown.exe /r: it drops every connection for --reboot-down-time, then reports a new boot time", "模拟收到 shutdown.exe /r 后重启的主机：在 --reboot-down-time 期间断开所有连接，之后报告新的启动时间"))
	f.DurationVar(&rebootDown, "reboot-down-time", winrmlab.DefaultRebootDownTime, a.tr("how long a simulated reboot keeps the host unreachable", "模拟重启期间主机不可达的时长"))
	return cmd
}

// needsPassword reports whether any accepted authentication checks a
// password: Basic and NTLM do, and so does an empty list, which means Basic.
// Client-certificate authentication alone needs none.
func needsPassword(methods []winrmlab.AuthMethod) bool {
	if len(methods) == 0 {
		return true
	}
	for _, m := range methods {
		if m != winrmlab.AuthCert {
			return true
		}
	}
	return false
}
