package patches

import (
	"context"
	"errors"
	"fmt"
	"time"

	"patrol/builtin"
	"patrol/i18n"
	"patrol/module"
	"patrol/transport"
)

// reboot restarts the host with the reboot module's logic: read the boot
// identity, start a detached reboot, reconnect until the identity changed.
// The host variables reboot_timeout, reboot_command and boot_id_command set
// the module's timeout, reboot_command and boot_id_command. The apply lock
// ended with the old connection, so it is taken again afterwards.
func (pr *patchRun) reboot(ctx context.Context) (StepStatus, i18n.Text, string, error) {
	s := pr.s
	spec := rebootSpec()
	if spec == nil {
		return "", i18n.Text{}, "", errors.New("the reboot module is not built in")
	}
	args, err := rebootArgs(pr, spec)
	if err != nil {
		return "", i18n.Text{}, "", err
	}

	env := &module.Env{Host: s.host, Conn: s.currentConn(), Become: s.become, Log: s.r.log.With("host", s.host.Name, "patch", pr.p.ID), Now: s.r.opts.Now}
	env.Reconnect = func(ctx context.Context) (transport.Connection, error) {
		conn, err := s.reconnect(ctx)
		if err == nil {
			env.Conn = conn
		}
		return conn, err
	}
	res, err := spec.Run(ctx, env, args)
	if err != nil {
		return "", i18n.Text{}, "", fmt.Errorf("reboot %s: %w", s.host.Name, err)
	}
	if res.Failed {
		return "", i18n.Text{}, res.Stderr, &StepError{RC: res.RC, Output: res.Stderr, Text: i18n.T(res.Msg, res.Msg)}
	}

	if s.lock != nil {
		s.lock.release()
		s.lock = nil
		lock, err := s.ops.lock(ctx, s, s.patchDir(), s.r.opts.Owner)
		if err != nil {
			return "", i18n.Text{}, "", fmt.Errorf("take the apply lock again after the reboot: %w", err)
		}
		s.lock = lock
	}
	elapsed, _ := res.Data["elapsed_seconds"].(float64)
	took := time.Duration(elapsed * float64(time.Second)).Round(time.Second)
	return StatusChanged, msg("rebooted and reconnected after %s", "已重启并重新连接，用时 %s", took), "", nil
}

// rebootSpec finds the reboot module among the builtin modules.
func rebootSpec() *module.Spec {
	for _, spec := range builtin.Specs() {
		if spec.Name == "reboot" {
			return spec
		}
	}
	return nil
}

// rebootArgs fills the module's defaults and the host's overrides.
func rebootArgs(pr *patchRun, spec *module.Spec) (module.Args, error) {
	args := module.Args{}
	for _, a := range spec.Args {
		if a.Default != nil {
			args[a.Name] = a.Default
		}
	}
	args["msg"] = "patrol patch apply: reboot for patch " + pr.p.ID
	for _, v := range []struct{ host, arg string }{{"reboot_command", "reboot_command"}, {"boot_id_command", "boot_id_command"}} {
		value, err := hostVarString(pr.s.host, v.host)
		if err != nil {
			return nil, err
		}
		if value != "" {
			args[v.arg] = value
		}
	}
	timeout, err := hostVarDuration(pr.s.host, "reboot_timeout", args.Duration("timeout"))
	if err != nil {
		return nil, err
	}
	args["timeout"] = timeout
	return args, nil
}
