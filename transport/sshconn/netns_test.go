package sshconn

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"patrol/internal/sshtest"
	"patrol/inventory"
)

// lossyLink is a network namespace joined to this one by a veth pair, with a
// real sshd listening inside it. Traffic between the two ends is shaped by tc
// and dropped at random by iptables, as set by the test.
type lossyLink struct {
	t *testing.T
	// ns is the namespace's name, and hostIf and nsIf are the veth ends in
	// this namespace and in ns.
	ns, hostIf, nsIf string
	// hostAddr and nsAddr are the two ends' IPv4 addresses, in a /30 that
	// only this link uses.
	hostAddr, nsAddr string
	// lossProbability is the drop probability of shape's iptables rules,
	// empty before shape.
	lossProbability string

	// Addr is nsAddr:22, where the namespace's sshd listens.
	Addr string
	// Dir contains the sshd's configuration, keys and log.
	Dir string
	// ClientKeyPath is a private key authorized for root, and HostKey is
	// the sshd's public host key.
	ClientKeyPath string
	HostKey       ssh.PublicKey
	sshd          *exec.Cmd
	sshdDone      chan struct{}
}

// linkRateBits is the rate tc's token bucket filter gives the link, in bits
// per second ("10mbit" in tc means 10^7 bit/s).
const linkRateBits = 10_000_000

// requireNetns skips the test, or fails it under CI, when it cannot create
// network namespaces: not root, or `ip netns add` not permitted (as in an
// unprivileged container). Missing tools fail the test, because
// scripts/test-deps.sh installs them.
func requireNetns(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"ip", "tc", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: run scripts/test-deps.sh (make test does) to install iproute2 and iptables", tool)
		}
	}
	problem := ""
	if os.Geteuid() != 0 {
		problem = "creating a network namespace needs root"
	} else {
		probe := fmt.Sprintf("patrol-probe-%d", os.Getpid())
		if out, err := exec.Command("ip", "netns", "add", probe).CombinedOutput(); err != nil {
			problem = fmt.Sprintf("ip netns add is not permitted here: %v: %s", err, strings.TrimSpace(string(out)))
		} else {
			exec.Command("ip", "netns", "del", probe).Run()
		}
	}
	if problem == "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal(problem)
	}
	t.Skip(problem)
}

// newLossyLink creates the namespace, the veth pair and the sshd, and
// removes them all when the test ends, whatever its outcome. The link has
// no shaping or loss until shape is called.
func newLossyLink(t *testing.T) *lossyLink {
	t.Helper()
	requireNetns(t)
	id := os.Getpid() % 100000
	l := &lossyLink{
		t:      t,
		ns:     fmt.Sprintf("patrol-test-%d", id),
		hostIf: fmt.Sprintf("ptv%dh", id),
		nsIf:   fmt.Sprintf("ptv%dn", id),
	}
	subnet := l.freeSubnet()
	l.hostAddr, l.nsAddr = subnet+".1", subnet+".2"
	l.Addr = net.JoinHostPort(l.nsAddr, "22")

	// Deleting the namespace also deletes its veth end, which takes the
	// other end and the iptables rules inside it along.
	t.Cleanup(l.remove)
	l.ip("netns", "add", l.ns)
	// One segment per packet, as on a wire. Otherwise TCP hands the veth
	// pair GSO packets of up to 64 KB, which tbf passes on in pieces of up
	// to its 16 KB burst. The iptables rule that drops 1% of packets then
	// drops several segments at once, and more of them under CPU load.
	l.ip("link", "add", l.hostIf, "gso_max_segs", "1", "type", "veth", "peer", "name", l.nsIf, "netns", l.ns, "gso_max_segs", "1")
	l.ip("addr", "add", l.hostAddr+"/30", "dev", l.hostIf)
	l.ip("link", "set", l.hostIf, "up")
	l.ip("-n", l.ns, "link", "set", "lo", "up")
	l.ip("-n", l.ns, "addr", "add", l.nsAddr+"/30", "dev", l.nsIf)
	l.ip("-n", l.ns, "link", "set", l.nsIf, "up")

	l.startSSHD()
	return l
}

// freeSubnet picks a 10.x.y.0/30 whose /24 no address or route of this
// namespace touches.
func (l *lossyLink) freeSubnet() string {
	out, err := exec.Command("ip", "-4", "-o", "route", "show", "table", "all").CombinedOutput()
	if err != nil {
		l.t.Fatalf("ip route: %v: %s", err, out)
	}
	addrs, err := exec.Command("ip", "-4", "-o", "addr").CombinedOutput()
	if err != nil {
		l.t.Fatalf("ip addr: %v: %s", err, addrs)
	}
	used := string(out) + string(addrs)
	for third := 200 + os.Getpid()%50; third < 256; third++ {
		prefix := fmt.Sprintf("10.213.%d", third)
		if !strings.Contains(used, prefix+".") {
			return prefix
		}
	}
	l.t.Fatal("no free 10.213.x.0/24 for the test link")
	return ""
}

// shape limits both directions of the link to linkRateBits with tc's token
// bucket filter and drops lossPercent of the packets to and from the sshd
// with iptables, inside the namespace.
//
// The filter queues up to 200 ms of traffic (250 KB at 10 Mbit/s), a buffer
// like those of the modems and routers on such links. With 50 ms, BBR (the
// default congestion control of some kernels) overran the queue on this
// veth link, which has no propagation delay, and lost up to 8% of the rate
// to tail drops; with 200 ms it retransmits only the 1% iptables drops.
func (l *lossyLink) shape(lossPercent float64) {
	l.t.Helper()
	tbf := []string{"root", "tbf", "rate", strconv.Itoa(linkRateBits/1_000_000) + "mbit", "burst", "16kb", "latency", "200ms"}
	l.run("tc", append([]string{"qdisc", "add", "dev", l.hostIf}, tbf...)...)
	l.run("tc", append([]string{"-n", l.ns, "qdisc", "add", "dev", l.nsIf}, tbf...)...)
	l.lossProbability = strconv.FormatFloat(lossPercent/100, 'f', -1, 64)
	for _, rule := range l.lossRules(l.lossProbability) {
		l.run("ip", append([]string{"netns", "exec", l.ns, "iptables", "-A"}, rule...)...)
	}
}

func (l *lossyLink) lossRules(probability string) [][]string {
	return [][]string{
		{"INPUT", "-p", "tcp", "--dport", "22", "-m", "statistic", "--mode", "random", "--probability", probability, "-j", "DROP"},
		{"OUTPUT", "-p", "tcp", "--sport", "22", "-m", "statistic", "--mode", "random", "--probability", probability, "-j", "DROP"},
	}
}

// setUp brings the host end of the veth pair up or down. Down cuts the link
// without telling either TCP end.
func (l *lossyLink) setUp(up bool) {
	l.t.Helper()
	state := "down"
	if up {
		state = "up"
	}
	l.ip("link", "set", l.hostIf, state)
}

// host returns an inventory host that logs in to the namespace's sshd as
// root with the link's client key.
func (l *lossyLink) host(name string) *inventory.Host {
	noAgent := false
	return &inventory.Host{
		Name:       name,
		Address:    l.nsAddr,
		Port:       22,
		Connection: inventory.ConnSSH,
		User:       "root",
		KeyFile:    l.ClientKeyPath,
		Agent:      &noAgent,
	}
}

// KnownHostsLine returns the known_hosts line of the namespace's sshd.
func (l *lossyLink) KnownHostsLine() string {
	return knownhosts.Line([]string{knownhosts.Normalize(l.Addr)}, l.HostKey)
}

// startSSHD writes keys and a configuration like internal/sshtest's and runs
// sshd inside the namespace, listening on the namespace's address only.
func (l *lossyLink) startSSHD() {
	t := l.t
	t.Helper()
	if _, err := os.Stat(sshtest.SSHDPath); err != nil {
		t.Fatalf("%s not found: run scripts/test-deps.sh", sshtest.SSHDPath)
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	l.Dir = t.TempDir()

	hostKeyPath := filepath.Join(l.Dir, "ssh_host_key")
	hostSigner := writeTestKey(t, hostKeyPath)
	l.HostKey = hostSigner.PublicKey()
	l.ClientKeyPath = filepath.Join(l.Dir, "client_key")
	clientSigner := writeTestKey(t, l.ClientKeyPath)
	authorizedKeys := filepath.Join(l.Dir, "authorized_keys")
	if err := os.WriteFile(authorizedKeys, ssh.MarshalAuthorizedKey(clientSigner.PublicKey()), 0o644); err != nil {
		t.Fatal(err)
	}

	config := strings.Join([]string{
		"ListenAddress " + l.Addr,
		"HostKey " + hostKeyPath,
		"PidFile " + filepath.Join(l.Dir, "sshd.pid"),
		"AuthorizedKeysFile " + authorizedKeys,
		"PermitRootLogin yes",
		"StrictModes no",
		"UsePAM no",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PubkeyAuthentication yes",
		"UseDNS no",
		"LogLevel VERBOSE",
		"Subsystem sftp internal-sftp",
		"SetEnv HOME=" + l.Dir,
	}, "\n") + "\n"
	configPath := filepath.Join(l.Dir, "sshd_config")
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}

	// ip netns exec enters the namespace and then execs sshd, so the PID
	// is sshd's.
	logPath := filepath.Join(l.Dir, "sshd.log")
	cmd := exec.Command("ip", "netns", "exec", l.ns, sshtest.SSHDPath, "-D", "-e", "-f", configPath, "-E", logPath)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sshd in %s: %v", l.ns, err)
	}
	l.sshd = cmd
	l.sshdDone = make(chan struct{})
	go func() {
		cmd.Wait()
		close(l.sshdDone)
	}()

	deadline := time.Now().Add(10 * time.Second)
	for {
		if banner, err := readBanner(l.Addr); err == nil && strings.HasPrefix(banner, "SSH-") {
			return
		}
		select {
		case <-l.sshdDone:
			log, _ := os.ReadFile(logPath)
			t.Fatalf("sshd in %s exited; log:\n%s", l.ns, log)
		default:
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("sshd in %s did not answer on %s; log:\n%s", l.ns, l.Addr, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// remove stops the sshd and its session processes by PID, then deletes the
// iptables rules, the veth pair and the namespace. Each step runs even when
// an earlier one failed.
func (l *lossyLink) remove() {
	if l.sshd != nil {
		pids := append(descendants(l.sshd.Process.Pid), l.sshd.Process.Pid)
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGTERM)
		}
		select {
		case <-l.sshdDone:
		case <-time.After(5 * time.Second):
			l.sshd.Process.Kill()
			<-l.sshdDone
		}
	}
	if l.lossProbability != "" {
		for _, rule := range l.lossRules(l.lossProbability) {
			exec.Command("ip", append([]string{"netns", "exec", l.ns, "iptables", "-D"}, rule...)...).Run()
		}
	}
	exec.Command("ip", "link", "del", l.hostIf).Run()
	exec.Command("ip", "netns", "del", l.ns).Run()
	if out, err := exec.Command("ip", "netns", "list").CombinedOutput(); err == nil && strings.Contains(string(out), l.ns) {
		l.t.Errorf("network namespace %s still exists after cleanup", l.ns)
	}
}

func (l *lossyLink) ip(args ...string) {
	l.t.Helper()
	l.run("ip", args...)
}

// stats returns the counters of the filter that shapes the data direction
// (host to namespace) and of the iptables rules that drop packets, for the
// log of a rate that fell short.
func (l *lossyLink) stats() string {
	tc, _ := exec.Command("tc", "-s", "qdisc", "show", "dev", l.hostIf).CombinedOutput()
	drops, _ := exec.Command("ip", "netns", "exec", l.ns, "iptables", "-L", "-v", "-n", "-x").CombinedOutput()
	return string(tc) + string(drops)
}

func (l *lossyLink) run(name string, args ...string) {
	l.t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		l.t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

// descendants returns the PIDs of pid's children and their children.
func descendants(pid int) []int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return nil
	}
	var out []int
	for _, field := range strings.Fields(string(data)) {
		child, err := strconv.Atoi(field)
		if err != nil {
			continue
		}
		out = append(out, descendants(child)...)
		out = append(out, child)
	}
	return out
}

func readBanner(addr string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	return bufio.NewReader(conn).ReadString('\n')
}

// writeTestKey writes a new unencrypted ed25519 private key to path.
func writeTestKey(t *testing.T, path string) ssh.Signer {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(key, "patrol test key")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return signer
}
