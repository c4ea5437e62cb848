package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SessionCost is the cost of running commands one way on every host.
type SessionCost struct {
	// Way names how the commands ran.
	Way       string
	Wall      time.Duration
	ServerCPU time.Duration
}

// sessionWays are the command lines SessionCosts compares for running
// `true`, each in a new SSH session. patrolWrapper copies the shape of the
// command line transport/sshconn builds (buildCommand); it must be updated
// when that changes.
var sessionWays = []struct {
	name    string
	command string
}{
	{"session per command, patrol's wrapper (login shell reports, then exec sh)",
		`read -r s </proc/$$/stat 2>/dev/null; echo "m:$$ $s" >&2; LC_ALL=C; export LC_ALL; exec /bin/sh -c true`},
	{"session per command, one sh (report, export, eval)",
		`exec /bin/sh -c 'read -r s </proc/$$/stat 2>/dev/null; echo "m:$$ $s" >&2; LC_ALL=C; export LC_ALL; eval "$1"' sh true`},
	{"session per command, bare command", "true"},
}

// Two more ways have no command line of their own: connecting only, the base
// the others are compared with, and one /bin/sh session per host that runs
// each command in a subshell, read from its stdin.
const (
	connectWay    = "connect only, no command"
	persistentWay = "one shell session per host, subshell per command"
)

// SessionCosts connects once to every server of c with x/crypto/ssh (as
// patrol does) and runs `true` perCommands times per host in each way, forks
// hosts at a time. It shows what the server side spends per command apart
// from connecting, which each way pays alike.
func SessionCosts(ctx context.Context, c *Cluster, forks, perHost int) ([]SessionCost, error) {
	keyPEM, err := os.ReadFile(c.ClientKeyPath)
	if err != nil {
		return nil, err
	}
	signer, err := ssh.ParsePrivateKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", c.ClientKeyPath, err)
	}
	hostKeys, err := knownhosts.New(c.KnownHostsPath)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", c.KnownHostsPath, err)
	}
	config := &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: hostKeys}

	var costs []SessionCost
	ways := []struct{ name, command string }{{connectWay, ""}}
	ways = append(ways, sessionWays...)
	ways = append(ways, struct{ name, command string }{persistentWay, ""})
	for _, way := range ways {
		pids := c.PIDs()
		before := serverCPU(pids)
		start := time.Now()
		err := forEachHost(c, forks, func(port int) error {
			client, err := ssh.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), config)
			if err != nil {
				return err
			}
			defer client.Close()
			switch way.name {
			case connectWay:
				return nil
			case persistentWay:
				return runInOneShell(client, perHost)
			}
			for range perHost {
				session, err := client.NewSession()
				if err != nil {
					return err
				}
				_, err = session.CombinedOutput(way.command)
				session.Close()
				if err != nil {
					return fmt.Errorf("%s: %w", way.command, err)
				}
			}
			return nil
		})
		wall := time.Since(start)
		if err != nil {
			return costs, fmt.Errorf("%s: %w", way.name, err)
		}
		waitServersIdle(ctx, pids, 10*time.Second)
		costs = append(costs, SessionCost{Way: way.name, Wall: wall, ServerCPU: serverCPU(pids) - before})
	}
	return costs, ctx.Err()
}

// runInOneShell starts /bin/sh in one session and feeds it n commands, each
// run in a subshell and followed by a line with its exit status, waiting for
// that line before sending the next.
func runInOneShell(client *ssh.Client, n int) error {
	session, err := client.NewSession()
	if err != nil {
		return err
	}
	defer session.Close()
	stdin, err := session.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := session.StdoutPipe()
	if err != nil {
		return err
	}
	if err := session.Start("exec /bin/sh"); err != nil {
		return err
	}

	buf := make([]byte, 4096)
	for range n {
		fmt.Fprintln(stdin, `( true ) </dev/null; echo "@@rc $?"`)
		var got []byte
		for !bytes.Contains(got, []byte("@@rc ")) {
			k, err := stdout.Read(buf)
			if err != nil {
				return fmt.Errorf("read shell output: %w", err)
			}
			got = append(got, buf[:k]...)
		}
	}
	stdin.Close()
	io.Copy(io.Discard, stdout)
	return session.Wait()
}

// forEachHost calls fn for every server's port, forks at a time, and
// returns the first error.
func forEachHost(c *Cluster, forks int, fn func(port int) error) error {
	slots := make(chan struct{}, forks)
	errs := make(chan error, len(c.Servers))
	var wg sync.WaitGroup
	for _, s := range c.Servers {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			if err := fn(s.Port); err != nil {
				errs <- fmt.Errorf("%s: %w", s.Name, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// WriteSessionCosts prints the costs as a Markdown table. The server CPU per
// command is each way's server CPU less that of connecting only, divided by
// the number of commands.
func WriteSessionCosts(w io.Writer, hosts, perHost int, costs []SessionCost) {
	fmt.Fprintf(w, "### Server cost of %d commands (`true`) per host on %d hosts\n\n", perHost, hosts)
	fmt.Fprintln(w, "| how each command runs | wall | sshd + remote CPU | server CPU per command beyond connecting |")
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	var connect time.Duration
	for _, c := range costs {
		if c.Way == connectWay {
			connect = c.ServerCPU
			fmt.Fprintf(w, "| %s | %.2f s | %.2f s | |\n", c.Way, c.Wall.Seconds(), c.ServerCPU.Seconds())
			continue
		}
		perCommand := float64(c.ServerCPU-connect) / float64(time.Millisecond) / float64(hosts*perHost)
		fmt.Fprintf(w, "| %s | %.2f s | %.2f s | %.2f ms |\n", c.Way, c.Wall.Seconds(), c.ServerCPU.Seconds(), perCommand)
	}
	fmt.Fprintln(w)
}
