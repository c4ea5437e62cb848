package runner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"patrol/i18n"
	"patrol/module"
	"patrol/playbooks"
	"patrol/transport"
)

// runHost runs the play's tasks on one host in order. It returns false when the
// host failed or was unreachable. A failed task stops the host unless it has
// ignore_errors; a failed check does not, so one bad item never hides the others.
func (r *run) runHost(ctx context.Context, play *playbooks.Play, hs *hostState) bool {
	_, err := r.connect(ctx, hs)
	if err != nil && ctx.Err() != nil {
		// The run was interrupted while connecting: the host is not unreachable.
		return false
	}
	if err != nil {
		hs.stopped = true
		tr := TaskResult{Host: hs.host.Name, Status: StatusUnreachable, Err: err.Error(), Error: err, Start: r.opts.Now()}
		r.setNames(&tr, play.Name, connectTask)
		r.record(tr)
		return false
	}

	ok := true
	for _, task := range play.Tasks {
		if ctx.Err() != nil {
			return false
		}
		if !r.selectedByTags(play, task) {
			continue
		}
		status := r.runTask(ctx, play, task, hs)
		switch {
		case status == StatusUnreachable:
			hs.stopped = true
			return false
		case status == StatusFailed && task.Spec.Check:
			ok = false
		case status == StatusFailed && !task.IgnoreErrors:
			hs.stopped = true
			return false
		}
	}
	return ok
}

func (r *run) selectedByTags(play *playbooks.Play, task *playbooks.Task) bool {
	tags := append(slices.Clone(play.Tags), task.Tags...)
	for _, t := range r.opts.SkipTags {
		if slices.Contains(tags, t) {
			return false
		}
	}
	if len(r.opts.Tags) == 0 {
		return true
	}
	for _, t := range r.opts.Tags {
		if t == "all" || slices.Contains(tags, t) {
			return true
		}
	}
	return false
}

// runTask runs one task, once per loop item, registers its result and returns the
// worst status among its items.
func (r *run) runTask(ctx context.Context, play *playbooks.Play, task *playbooks.Task, hs *hostState) string {
	vars := r.vars(play, hs)
	base := TaskResult{Host: hs.host.Name, Module: task.Module, Check: task.Spec.Check}
	r.setNames(&base, play.Name, task.DisplayName())

	if task.Loop == nil {
		tr := r.runItem(ctx, play, task, hs, vars, base)
		r.register(task, hs, registeredValue(tr))
		return tr.Status
	}

	items, err := task.ExpandLoop(vars)
	if err != nil {
		tr := base
		tr.Status, tr.Err, tr.Start = StatusFailed, err.Error(), r.opts.Now()
		tr.Ignored = task.IgnoreErrors && !task.Spec.Check
		r.record(tr)
		return StatusFailed
	}
	if len(items) == 0 {
		// Record the task anyway, so the journal shows it was reached.
		tr := base
		tr.Status, tr.Start = StatusSkipped, r.opts.Now()
		tr.Result = module.Result{Skipped: true, Msg: "loop has no items"}
		r.record(tr)
		r.register(task, hs, map[string]any{"results": []any{}, "changed": false, "failed": false, "skipped": true})
		return StatusSkipped
	}
	worst := StatusSkipped
	results := make([]any, 0, len(items))
	for _, item := range items {
		if ctx.Err() != nil {
			break
		}
		itemVars := withVar(vars, "item", item)
		tr := r.runItem(ctx, play, task, hs, itemVars, base)
		reg := registeredValue(tr)
		reg["item"] = item
		results = append(results, reg)
		if statusRank(tr.Status) > statusRank(worst) {
			worst = tr.Status
		}
		if tr.Status == StatusUnreachable {
			break
		}
	}
	r.register(task, hs, map[string]any{
		"results": results,
		"changed": worst == StatusChanged,
		"failed":  worst == StatusFailed,
		"skipped": worst == StatusSkipped,
	})
	return worst
}

// runItem evaluates when, renders the arguments and runs the module with the
// task's retries and timeout; the result is recorded before it returns. The
// result is named with the task's name rendered, such as "install {{ .item }}"
// as "install nginx".
func (r *run) runItem(ctx context.Context, play *playbooks.Play, task *playbooks.Task, hs *hostState, vars map[string]any, tr TaskResult) TaskResult {
	r.setNames(&tr, tr.PlayName, task.RenderName(vars))
	tr.Start = r.opts.Now()
	defer func() {
		tr.Duration = r.opts.Now().Sub(tr.Start)
		tr.Ignored = tr.Status == StatusFailed && task.IgnoreErrors && !task.Spec.Check
		r.record(tr)
	}()

	run, err := task.EvalWhen(vars)
	if err != nil {
		tr.Status, tr.Err = StatusFailed, err.Error()
		return tr
	}
	if !run {
		tr.Status = StatusSkipped
		tr.Result = module.Result{Skipped: true}
		return tr
	}
	args, err := task.ResolveArgs(vars)
	if err != nil {
		tr.Status, tr.Err = StatusFailed, err.Error()
		return tr
	}

	// A reboot task before this one may have replaced the connection, and a
	// failed reconnect may have left none: connect dials again then.
	conn, err := r.connect(ctx, hs)
	if err != nil {
		tr.Status, tr.Err, tr.Error = StatusUnreachable, err.Error(), err
		return tr
	}
	env := &module.Env{
		Host:      hs.host,
		Conn:      conn,
		CheckMode: r.opts.CheckMode,
		Become:    r.become(play, task, hs),
		State:     hs.state,
		Log:       r.opts.Log.With("host", hs.host.Name, "task", tr.TaskName.EN, "module", task.Module),
		Now:       r.opts.Now,
		BaseDir:   r.opts.BaseDir,
	}
	env.Reconnect = func(ctx context.Context) (transport.Connection, error) {
		conn, err := r.reconnect(ctx, hs)
		if err == nil {
			env.Conn = conn
		}
		return conn, err
	}
	for attempt := 0; ; attempt++ {
		res, err := callModule(ctx, task, env, args)
		tr.Result, tr.Status, tr.Err, tr.Error = res, statusOf(task, res, err), "", err
		if err != nil {
			tr.Err = err.Error()
		}
		if tr.Status != StatusFailed || attempt >= task.Retries || ctx.Err() != nil {
			return tr
		}
		env.Log.Info("retrying failed task", "attempt", attempt+1, "of", task.Retries, "err", tr.Err)
		if task.Delay > 0 {
			select {
			case <-time.After(task.Delay):
			case <-ctx.Done():
				return tr
			}
		}
	}
}

// connectTask names the result of a host that could not be connected to.
var connectTask = i18n.T("connect", "连接")

// setNames puts the play and task names into tr in both languages and in the
// run's language.
func (r *run) setNames(tr *TaskResult, play, task i18n.Text) {
	tr.PlayName, tr.TaskName = play, task
	tr.Play, tr.Task = play.In(r.opts.Lang), task.In(r.opts.Lang)
}

// callModule runs the module under the task's timeout. When that timeout ends
// the module, the returned *module.Error names the task timeout in both
// languages and wraps whatever error the module or its transport returned.
func callModule(ctx context.Context, task *playbooks.Task, env *module.Env, args module.Args) (module.Result, error) {
	if task.Timeout <= 0 {
		return task.Spec.Run(ctx, env, args)
	}

	taskCtx, cancel := context.WithTimeoutCause(ctx, task.Timeout, errTaskTimeout)
	defer cancel()
	res, err := task.Spec.Run(taskCtx, env, args)
	if !errors.Is(context.Cause(taskCtx), errTaskTimeout) {
		return res, err
	}
	if err == nil {
		err = transport.ErrTimeout
	}
	return res, module.ExplainedFailure(i18n.T(
		fmt.Sprintf("task timed out after %s; raise the task's timeout if the work needs longer", task.Timeout),
		fmt.Sprintf("任务超过时限 %s，已终止；如确需更长时间，请调大该任务的 timeout", task.Timeout)), err)
}

// errTaskTimeout is the cause of a context ended by a task's timeout, so that
// callModule can distinguish it from an interrupted run.
var errTaskTimeout = errors.New("task timeout")

func statusOf(task *playbooks.Task, res module.Result, err error) string {
	switch {
	case err != nil && transport.IsUnreachable(err):
		return StatusUnreachable
	case err != nil || res.Failed:
		return StatusFailed
	case res.Skipped:
		return StatusSkipped
	case task.Spec.Check:
		if w := module.Worst(res.Findings); w == module.StatusFail || w == module.StatusError {
			return StatusFailed
		}
		return StatusOK
	case res.Changed:
		return StatusChanged
	}
	return StatusOK
}

func statusRank(s string) int {
	return slices.Index([]string{StatusSkipped, StatusOK, StatusChanged, StatusFailed, StatusUnreachable}, s)
}

func (r *run) become(play *playbooks.Play, task *playbooks.Task, hs *hostState) *transport.Become {
	on := hs.host.Become
	if play.Become != nil {
		on = *play.Become
	}
	if task.Become != nil {
		on = *task.Become
	}
	if !on {
		return nil
	}
	return &transport.Become{User: hs.host.BecomeUser, Password: secretFromEnv(hs.host.BecomePasswordEnv)}
}

// vars merges the play's variables for the host (see playbooks.MergeVars) and
// puts the extra variables on top.
func (r *run) vars(play *playbooks.Play, hs *hostState) map[string]any {
	vars := playbooks.MergeVars(hs.host, play, hs.registered)
	for k, v := range r.opts.ExtraVars {
		vars[k] = v
	}
	return vars
}

func withVar(vars map[string]any, key string, value any) map[string]any {
	out := make(map[string]any, len(vars)+1)
	for k, v := range vars {
		out[k] = v
	}
	out[key] = value
	return out
}

func (r *run) register(task *playbooks.Task, hs *hostState, value map[string]any) {
	if task.Register != "" {
		hs.registered[task.Register] = value
	}
}

// registeredValue returns the map `register` stores for one result, with the
// error of a task that could not run.
func registeredValue(tr TaskResult) map[string]any {
	reg := playbooks.ResultVars(tr.Result)
	reg["failed"] = tr.Status == StatusFailed
	reg["skipped"] = tr.Status == StatusSkipped
	reg["error"] = tr.Err
	return reg
}
