package winrmconn

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"patrol/transport"
	"patrol/transport/winrmconn/copyscript"
	"patrol/transport/winrmconn/taskscript"
)

// Poll intervals of RunAsSystem: the first wait, doubled after each poll up
// to the maximum. Each poll is one short command.
var (
	systemPollFirst = 250 * time.Millisecond
	systemPollMax   = 5 * time.Second
)

// RunAsSystem runs script as a one-shot scheduled task under SYSTEM and
// waits up to timeout for it to end. Windows rejects some work in a WinRM
// network logon (the Windows Update agent, wusa.exe), and a task may run for
// longer than one WinRM operation. Each call registers a task with a new
// name (\patrol\run-<random>), starts it, polls for its exit code and reads
// its output as UTF-8. The task and its files are deleted in all cases, and
// a task still running at the timeout is stopped first.
//
// Any exit code is returned as data, including wusa's 3010 (restart
// required) and 2359302 (already installed). Errors are the transport's:
// transport.ErrTimeout when timeout passes, *FaultError and
// *transport.UnreachableError as in Run, and a failed registration.
func (c *Conn) RunAsSystem(ctx context.Context, script string, timeout time.Duration) (transport.Result, error) {
	start := time.Now()
	id, err := randomTaskID()
	if err != nil {
		return transport.Result{}, err
	}
	name := taskscript.TaskPath + id

	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	defer func() {
		// Cleanup gets its own time, because ctx may already have ended.
		cleanupCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.OperationTimeout+c.cfg.ConnectTimeout)
		defer cancel()
		_, _ = c.runTaskScript(cleanupCtx, taskscript.Cleanup, id, nil)
	}()

	fail := func(step string, err error) (transport.Result, error) {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return transport.Result{}, fmt.Errorf("host %s: scheduled task %s did not end within %s, so it was stopped and deleted: %w", c.cfg.Host, name, timeout, transport.ErrTimeout)
		}
		return transport.Result{}, fmt.Errorf("host %s: %s scheduled task %s: %w", c.cfg.Host, step, name, err)
	}

	register := map[string]string{"script": QuotePowerShellArg(base64.StdEncoding.EncodeToString([]byte(script)))}
	if _, err := c.runTaskScript(ctx, taskscript.Register, id, register); err != nil {
		return fail("register", err)
	}
	if _, err := c.runTaskScript(ctx, taskscript.Start, id, nil); err != nil {
		return fail("start", err)
	}

	code, err := c.waitTask(ctx, id)
	if err != nil {
		return fail("wait for", err)
	}

	out, err := c.runTaskScript(ctx, taskscript.Read, id, nil)
	if err != nil {
		return fail("read output of", err)
	}
	stdout, stderr, err := ParseTaskOutput(out)
	if err != nil {
		return fail("read output of", err)
	}

	errText := DecodeOutput(stderr, true)
	if text, ok := ParseCLIXML(errText); ok {
		errText = text
	}
	return transport.Result{
		Stdout:   []byte(DecodeOutput(stdout, true)),
		Stderr:   []byte(errText),
		ExitCode: code,
		Duration: time.Since(start),
	}, nil
}

// waitTask polls until the task wrote its exit code or ctx ends.
func (c *Conn) waitTask(ctx context.Context, id string) (int, error) {
	interval := systemPollFirst
	for {
		out, err := c.runTaskScript(ctx, taskscript.Poll, id, nil)
		if err != nil {
			return 0, err
		}
		line := strings.TrimSpace(out)
		if rest, ok := strings.CutPrefix(line, taskscript.ReplyDone); ok {
			code, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("exit code file contains %q, expected a number", rest)
			}
			return int(code), nil
		}
		if line != taskscript.ReplyRunning {
			return 0, fmt.Errorf("unexpected poll output %q, expected %q or %q followed by a number", line, taskscript.ReplyRunning, taskscript.ReplyDone)
		}

		timer := time.NewTimer(interval)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return 0, ctx.Err()
		}
		interval = min(2*interval, systemPollMax)
	}
}

// runTaskScript fills template with the task id and values and runs it. A
// non-zero exit code is an error with the script's stderr.
func (c *Conn) runTaskScript(ctx context.Context, template, id string, values map[string]string) (string, error) {
	filled := map[string]string{"id": QuotePowerShellArg(id)}
	for k, v := range values {
		filled[k] = v
	}
	line, err := c.commandLine(ctx, copyscript.Fill(template, filled))
	if err != nil {
		return "", err
	}
	stdout, stderr, code, err := c.execute(ctx, line, nil)
	if err != nil {
		return "", err
	}
	if code != 0 {
		errText := DecodeOutput(stderr, true)
		if text, ok := ParseCLIXML(errText); ok {
			errText = text
		}
		return "", fmt.Errorf("exit code %d: %s", code, strings.TrimSpace(errText))
	}
	return DecodeOutput(stdout, true), nil
}

// ParseTaskOutput decodes the output of taskscript.Read: one line of base64
// per stream.
func ParseTaskOutput(out string) (stdout, stderr []byte, err error) {
	var seenOut, seenErr bool
	for _, line := range strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n") {
		if line == "" {
			continue
		}
		var target *[]byte
		var rest string
		var ok bool
		if rest, ok = strings.CutPrefix(line, taskscript.ReplyStdout); ok {
			target, seenOut = &stdout, true
		} else if rest, ok = strings.CutPrefix(line, taskscript.ReplyStderr); ok {
			target, seenErr = &stderr, true
		} else {
			return nil, nil, fmt.Errorf("unexpected line %q, expected %q or %q followed by base64", line, taskscript.ReplyStdout, taskscript.ReplyStderr)
		}
		if *target, err = base64.StdEncoding.DecodeString(strings.TrimSpace(rest)); err != nil {
			return nil, nil, fmt.Errorf("output is not base64: %w", err)
		}
	}
	if !seenOut || !seenErr {
		return nil, nil, errors.New("output is missing the stdout or stderr line")
	}
	return stdout, stderr, nil
}

// randomTaskID returns a task name with 64 random bits, so concurrent and
// earlier calls do not reuse a name.
func randomTaskID() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate random scheduled task name: %w", err)
	}
	return "run-" + hex.EncodeToString(b), nil
}
