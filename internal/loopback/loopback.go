// Package loopback finds free TCP ports on 127.0.0.1 and waits for an sshd to
// answer on one; the test harness and the benchmark both start sshd servers
// this way.
package loopback

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// FreePorts returns n distinct free TCP ports on 127.0.0.1. A port can be taken
// by someone else before the caller binds it; the server then fails to start
// and the caller must report it.
func FreePorts(n int) ([]int, error) {
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port on 127.0.0.1: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// WaitForSSH polls 127.0.0.1:port until it sends an SSH identification string,
// the deadline passes, ctx ends or exited is closed (the server died).
func WaitForSSH(ctx context.Context, port int, deadline time.Time, exited <-chan struct{}) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for {
		select {
		case <-exited:
			return errors.New("sshd exited")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.SetDeadline(time.Now().Add(2 * time.Second))
			banner, _ := bufio.NewReader(conn).ReadString('\n')
			conn.Close()
			if strings.HasPrefix(banner, "SSH-") {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no SSH banner on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
