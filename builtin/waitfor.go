package builtin

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"patrol/module"
)

const (
	defaultWaitTimeout = 300 * time.Second
	defaultWaitSleep   = time.Second
)

func runWaitFor(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
	host := args.String("host")
	if host == "" {
		host = env.Host.Addr()
	}
	addr := net.JoinHostPort(host, strconv.Itoa(args.Int("port")))
	wantOpen := args.String("state") != "stopped"
	timeout, sleep := args.Duration("timeout"), args.Duration("sleep")
	if sleep <= 0 {
		sleep = defaultWaitSleep
	}

	// The delay counts toward the timeout, as in Ansible.
	start := time.Now()
	deadline := start.Add(timeout)
	if d := args.Duration("delay"); d > 0 {
		if err := pause(ctx, d); err != nil {
			return module.Result{}, err
		}
	}
	for {
		open := probe(ctx, addr)
		if open == wantOpen {
			return module.Result{
				Msg:  fmt.Sprintf("%s is %s after %s", addr, portState(open), time.Since(start).Round(time.Millisecond)),
				Data: map[string]any{"elapsed_seconds": time.Since(start).Seconds()},
			}, nil
		}
		if time.Now().Add(sleep).After(deadline) {
			return module.Result{Failed: true, Msg: fmt.Sprintf("%s still %s after %s; expected %s", addr, portState(open), timeout, portState(wantOpen))}, nil
		}
		if err := pause(ctx, sleep); err != nil {
			return module.Result{}, err
		}
	}
}

func probe(ctx context.Context, addr string) bool {
	d := net.Dialer{Timeout: 2 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

func portState(open bool) string {
	if open {
		return "open"
	}
	return "closed"
}

func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
