package checks

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"patrol/i18n"
	"patrol/module"
)

const portCheck = "check.port"

func portSpec() *module.Spec {
	return &module.Spec{
		Name:  portCheck,
		Title: i18n.T("Listening ports", "监听端口"),
		Doc:   i18n.T("Listed TCP/UDP ports must have a listening socket on the host.", "列出的 TCP/UDP 端口在主机上必须有监听套接字。"),
		Check: true,
		Args: []module.Arg{
			{Name: "ports", Type: module.Strings, Required: true, Doc: i18n.T(`ports that must be listening: 22 (TCP), "tcp/22" or "udp/123"`, "必须处于监听的端口：22（TCP）、\"tcp/22\" 或 \"udp/123\"")},
		},
		Run: runPort,
	}
}

// Listener is one listening socket.
type Listener struct {
	Proto string // tcp or udp; tcp6/udp6 from netstat read as tcp/udp
	// Address is the local address without brackets or interface: 0.0.0.0, ::,
	// 127.0.0.1, or * for every address.
	Address string
	Port    int
}

// portWant is one requested port.
type portWant struct {
	Proto string
	Port  int
}

func (w portWant) String() string { return w.Proto + "/" + strconv.Itoa(w.Port) }

type portProbe func(ctx context.Context, env *module.Env) ([]Listener, *module.Finding)

var portProbes = perOS[portProbe]{Linux: probePortLinux}

func runPort(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
	var wants []portWant
	for _, p := range stringList(args, "ports") {
		w, err := parsePortWant(p)
		if err != nil {
			return result([]module.Finding{argError(portCheck, err)}), nil
		}
		wants = append(wants, w)
	}

	probe := portProbes.pick(env)
	if probe == nil {
		return result([]module.Finding{unsupportedOS(portCheck)}), nil
	}
	listeners, failed := probe(ctx, env)
	if failed != nil {
		return result([]module.Finding{*failed}), nil
	}
	return result(evaluatePorts(wants, listeners)), nil
}

// parsePortWant reads "22", "tcp/22" or "udp/123".
func parsePortWant(s string) (portWant, error) {
	proto, num, ok := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "/")
	if !ok {
		proto, num = "tcp", proto
	}
	if proto != "tcp" && proto != "udp" {
		return portWant{}, fmt.Errorf("port %q: %w: protocol must be tcp or udp", s, errArg)
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > 65535 {
		return portWant{}, fmt.Errorf("port %q: %w: expected a number from 1 to 65535", s, errArg)
	}
	return portWant{Proto: proto, Port: n}, nil
}

// probePortLinux lists listening sockets with ss, or with netstat on hosts
// without iproute2. Old ss versions have no -H, so the header is dropped by the
// parser instead.
func probePortLinux(ctx context.Context, env *module.Env) ([]Listener, *module.Finding) {
	script := `if command -v ss >/dev/null 2>&1; then exec ss -ltnu; ` +
		`elif command -v netstat >/dev/null 2>&1; then exec netstat -ltnu; ` +
		`else echo "neither ss nor netstat is installed" >&2; exit 127; fi`
	out, err := runScript(ctx, env, script)
	if err != nil || out.ExitCode != 0 {
		f := probeFailed(portCheck, "sockets", "ss -ltnu", out, err)
		return nil, &f
	}
	return ParseListeners(out.Stdout), nil
}

// ParseListeners parses `ss -ltnu` (with or without -H) and `netstat -ltnu`
// output. The format is told per line: ss lines have the state in the second
// field (LISTEN, UNCONN), netstat lines a queue size. Header and other lines
// that do not start with a protocol are skipped.
func ParseListeners(out []byte) []Listener {
	var listeners []Listener
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 4 {
			continue
		}
		proto := strings.TrimSuffix(strings.ToLower(fields[0]), "6")
		if proto != "tcp" && proto != "udp" {
			continue
		}

		// ss: Netid State Recv-Q Send-Q Local Peer; netstat: Proto Recv-Q Send-Q Local Foreign [State].
		local := fields[3]
		if _, err := strconv.Atoi(fields[1]); err != nil {
			if len(fields) < 5 {
				continue
			}
			local = fields[4]
		}

		addr, port, ok := splitHostPort(local)
		if !ok {
			continue
		}
		listeners = append(listeners, Listener{Proto: proto, Address: addr, Port: port})
	}
	return listeners
}

// splitHostPort splits the local address forms ss and netstat print:
// 0.0.0.0:22, *:22, [::]:22, :::22, 127.0.0.53%lo:53, [::ffff:127.0.0.1]:80.
func splitHostPort(s string) (string, int, bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", 0, false
	}
	port, err := strconv.Atoi(s[i+1:])
	if err != nil {
		return "", 0, false
	}
	host := strings.TrimSuffix(strings.TrimPrefix(s[:i], "["), "]")
	if j := strings.IndexByte(host, '%'); j >= 0 {
		host = host[:j]
	}
	if host == "" {
		host = "*"
	}
	return host, port, true
}

func evaluatePorts(wants []portWant, listeners []Listener) []module.Finding {
	var findings []module.Finding
	for _, w := range wants {
		var addrs []string
		for _, l := range listeners {
			if l.Proto == w.Proto && l.Port == w.Port && !slices.Contains(addrs, l.Address) {
				addrs = append(addrs, l.Address)
			}
		}

		f := module.Finding{
			Check:     portCheck,
			Item:      w.String(),
			Threshold: i18n.T("listening", "监听中"),
			Metrics:   map[string]float64{"sockets": float64(len(addrs))},
		}
		if len(addrs) == 0 {
			f.Status = module.StatusFail
			f.Value = i18n.T("not listening", "无监听")
			f.Message = i18n.T(
				fmt.Sprintf("nothing listens on %s; start the service that owns the port", w),
				fmt.Sprintf("%s 端口无监听；请启动使用该端口的服务", w),
			)
		} else {
			f.Status = module.StatusOK
			f.Value = i18n.T("listening on "+strings.Join(addrs, ", "), "正在监听 "+strings.Join(addrs, "、"))
			f.Evidence = addrs
			f.Message = i18n.T(
				fmt.Sprintf("%s is listening on %s", w, strings.Join(addrs, ", ")),
				fmt.Sprintf("%s 正在监听：%s", w, strings.Join(addrs, ", ")),
			)
		}
		findings = append(findings, f)
	}
	return findings
}
