package builtin

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"patrol/i18n"
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
			elapsed := time.Since(start).Round(time.Millisecond)
			state := portState(open)
			return withMessage(module.Result{
				Data: map[string]any{"elapsed_seconds": time.Since(start).Seconds()},
			}, i18n.T(
				fmt.Sprintf("%s is %s after %s", addr, state.EN, elapsed),
				fmt.Sprintf("端口 %s 在 %s 后已%s", addr, elapsed, state.ZH))), nil
		}
		if time.Now().Add(sleep).After(deadline) {
			state, want := portState(open), portState(wantOpen)
			return withMessage(module.Result{Failed: true}, i18n.T(
				fmt.Sprintf("%s still %s after %s; expected %s", addr, state.EN, timeout, want.EN),
				fmt.Sprintf("端口 %s 在 %s 后仍处于%s状态，应为%s", addr, timeout, state.ZH, want.ZH))), nil
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

func portState(open bool) i18n.Text {
	if open {
		return i18n.T("open", "开放")
	}
	return i18n.T("closed", "关闭")
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
