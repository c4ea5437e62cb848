package patches

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"patrol/i18n"
)

// Step names one step of an apply run. The steps of one patch on one host
// run in the order of PatchSteps.
type Step string

// Host-level steps.
const (
	// StepConnect dials the host.
	StepConnect Step = "connect"
	// StepRefused reports a missing patch the host may not get in this run.
	StepRefused Step = "refused"
	// StepPartner checks that the other hosts of the host's pair are up.
	StepPartner Step = "partner_check"
	// StepLock takes the host's apply lock.
	StepLock Step = "lock"
	// StepDone marks a host whose work ended normally, with or without
	// failures. A host without it in a journal was interrupted.
	StepDone Step = "done"
)

// Steps of one patch on one host, in order.
const (
	// StepLeft reports a patch not started: the maintenance window ended,
	// the run stopped, or the patch failed on the staging host.
	StepLeft          Step = "left"
	StepQuery         Step = "query"
	StepPreCheck      Step = "pre_check"
	StepCopy          Step = "copy"
	StepStopServices  Step = "stop_services"
	StepInstall       Step = "install"
	StepReboot        Step = "reboot"
	StepStartServices Step = "start_services"
	StepVerify        Step = "verify"
	StepPostCheck     Step = "post_check"
	// StepRollback undoes a patch whose install or checks failed.
	StepRollback Step = "rollback"
	// StepPatch is the outcome of one patch on one host.
	StepPatch Step = "patch"
)

// PatchSteps lists the steps of one patch in the order they run.
var PatchSteps = []Step{StepQuery, StepPreCheck, StepCopy, StepStopServices, StepInstall, StepReboot, StepStartServices, StepVerify, StepPostCheck, StepPatch}

// stepTitles are the names of the steps for people. English shows the
// identifier itself, which the journal and JSON output use as well.
var stepTitles = map[Step]string{
	StepConnect: "连接", StepRefused: "拒绝", StepPartner: "双机检查", StepLock: "加锁", StepDone: "结束",
	StepLeft: "未开始", StepQuery: "查询", StepPreCheck: "预检", StepCopy: "复制", StepStopServices: "停止服务",
	StepInstall: "安装", StepReboot: "重启", StepStartServices: "启动服务", StepVerify: "验证",
	StepPostCheck: "后检", StepRollback: "回退", StepPatch: "结果",
}

// Title names the step for display. The identifier stays in JSON output and
// the journal.
func (s Step) Title() i18n.Text {
	zh, ok := stepTitles[s]
	if !ok {
		zh = string(s)
	}
	return i18n.T(string(s), zh)
}

// nextStep returns the step that follows s for one patch, or "" after the
// last one.
func nextStep(s Step) Step {
	i := slices.Index(PatchSteps, s)
	if i < 0 || i+1 >= len(PatchSteps) {
		return ""
	}
	return PatchSteps[i+1]
}

// StepStatus is the outcome of one step.
type StepStatus string

// Step statuses. The first five are the journal's statuses.
const (
	StatusOK          StepStatus = "ok"
	StatusChanged     StepStatus = "changed"
	StatusFailed      StepStatus = "failed"
	StatusSkipped     StepStatus = "skipped"
	StatusUnreachable StepStatus = "unreachable"
	// StatusWould is a step that check mode describes instead of running.
	StatusWould StepStatus = "would"
)

// Phase is the part of the run a step belongs to.
type Phase struct {
	// Kind is "plan" for work decided before any host changes, "staging" or
	// "production".
	Kind string `json:"kind"`
	// Batch and Batches count the batches of the kind, from 1; zero for plan.
	Batch   int `json:"batch,omitempty"`
	Batches int `json:"batches,omitempty"`
}

// Phase kinds.
const (
	PhasePlan       = "plan"
	PhaseStaging    = "staging"
	PhaseProduction = "production"
)

// Title names the phase for people, such as "batch 2/3" or "staging 1/1".
func (p Phase) Title() i18n.Text {
	switch p.Kind {
	case PhaseStaging:
		return msg("staging %d/%d", "测试主机 %d/%d", p.Batch, p.Batches)
	case PhaseProduction:
		return msg("batch %d/%d", "批次 %d/%d", p.Batch, p.Batches)
	}
	return i18n.T("plan", "计划")
}

// StepEvent is the record of one step on one host.
type StepEvent struct {
	Time  time.Time `json:"time"`
	Phase Phase     `json:"phase"`
	Host  string    `json:"host"`
	// Patch is empty for host-level steps.
	Patch    string        `json:"patch,omitempty"`
	Step     Step          `json:"step"`
	Status   StepStatus    `json:"status"`
	Message  i18n.Text     `json:"message"`
	Output   string        `json:"output,omitempty"`
	RC       int           `json:"rc"`
	Duration time.Duration `json:"duration_ns"`
}

// StepError is a step that ran but failed: a check that did not pass or a
// command that exited non-zero.
type StepError struct {
	Text   i18n.Text
	Output string
	RC     int
}

func (e *StepError) Error() string { return e.Text.EN }

// Message returns the error in both languages.
func (e *StepError) Message() i18n.Text { return e.Text }

// errorText returns an error's message in both languages; errors without
// one show their English text in both.
func errorText(err error) i18n.Text {
	var m interface{ Message() i18n.Text }
	if errors.As(err, &m) {
		return m.Message()
	}
	return i18n.T(err.Error(), err.Error())
}

// errorOutput returns the command output and exit status an error carries.
func errorOutput(err error) (string, int) {
	var se *StepError
	if errors.As(err, &se) {
		return se.Output, se.RC
	}
	var ie *InstallError
	if errors.As(err, &ie) {
		return ie.Output, ie.ExitCode
	}
	return "", 0
}

// rateText returns " @ 1.2 MiB/s" for n bytes sent in d, or nothing when
// either is zero. A copy over a slow link then shows how slow it was.
func rateText(n int64, d time.Duration) string {
	if n == 0 || d <= 0 {
		return ""
	}
	return " @ " + sizeText(int64(float64(n)/d.Seconds())) + "/s"
}

// sizeText formats a byte count for messages, in binary units.
func sizeText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	value, exp := float64(n)/unit, 0
	for value >= unit && exp < 4 {
		value /= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", value, "KMGTP"[exp])
}
