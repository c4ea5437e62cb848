package checks

import (
	"context"
	"fmt"
	"strings"

	"patrol/i18n"
	"patrol/module"
)

const rebootCheck = "check.reboot_pending"

// maxRenameEvidence bounds the pending file rename paths kept as evidence.
const maxRenameEvidence = 10

func rebootSpec() *module.Spec {
	return &module.Spec{
		Name:  rebootCheck,
		Title: i18n.T("Pending reboot", "待重启"),
		Doc:   i18n.T("Windows: whether the host waits for a reboot (servicing, Windows Update, computer rename or domain join, Configuration Manager client, pending file renames).", "Windows：主机是否在等待重启（组件服务、Windows 更新、计算机改名或加入域、Configuration Manager 客户端、待执行的文件重命名）。"),
		Check: true,
		Args: []module.Arg{
			{Name: "fail", Type: module.Bool, Default: false, Doc: i18n.T("a pending reboot fails instead of warning", "待重启时判为不合格，而不是警告")},
			{Name: "ignore_file_renames", Type: module.Bool, Default: false, Doc: i18n.T("do not warn for PendingFileRenameOperations alone, which installers and antivirus leave behind", "只有 PendingFileRenameOperations 时不警告，安装程序和杀毒软件常留下这一项")},
		},
		Run: runReboot,
	}
}

type rebootProbe func(ctx context.Context, env *module.Env) (RebootSignals, *module.Finding)

var rebootProbes = perOS[rebootProbe]{}

func runReboot(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
	probe := rebootProbes.pick(env)
	if probe == nil {
		return result([]module.Finding{unsupportedOS(rebootCheck)}), nil
	}
	signals, failed := probe(ctx, env)
	if failed != nil {
		return result([]module.Finding{*failed}), nil
	}
	return result([]module.Finding{EvaluateRebootSignals(signals, boolArg(args, "fail", false), boolArg(args, "ignore_file_renames", false))}), nil
}

// EvaluateRebootSignals judges the reboot signals. Servicing, Windows Update,
// a computer rename or domain join and the Configuration Manager client warn
// (or fail with failPending). Pending file renames alone always only warn,
// because installers and antivirus set them often, and with ignoreRenames
// they are only shown as evidence.
func EvaluateRebootSignals(s RebootSignals, failPending, ignoreRenames bool) module.Finding {
	f := module.Finding{
		Check:     rebootCheck,
		Item:      "reboot",
		Status:    module.StatusOK,
		Threshold: i18n.T("no reboot pending", "无待重启"),
		Evidence: []string{fmt.Sprintf("CBS RebootPending=%t, WindowsUpdate RebootRequired=%t, computer rename or domain join pending=%t, Configuration Manager reboot pending=%t, PendingFileRenameOperations=%t (%d paths)",
			s.CBS, s.WindowsUpdate, s.ComputerRename, s.ConfigManager, s.FileRenamesPending, len(s.FileRenames))},
	}
	for i, p := range s.FileRenames {
		if i == maxRenameEvidence {
			f.Evidence = append(f.Evidence, fmt.Sprintf("… %d more", len(s.FileRenames)-i))
			break
		}
		f.Evidence = append(f.Evidence, "PendingFileRenameOperations: "+p)
	}

	var reasons []i18n.Text
	if s.CBS {
		reasons = append(reasons, i18n.T("component servicing (CBS RebootPending)", "组件服务（CBS RebootPending）"))
	}
	if s.WindowsUpdate {
		reasons = append(reasons, i18n.T("Windows Update (RebootRequired)", "Windows 更新（RebootRequired）"))
	}
	if s.ComputerRename {
		reasons = append(reasons, i18n.T("computer rename or domain join", "计算机重命名或加入域"))
	}
	if s.ConfigManager {
		// Microsoft's Chinese documentation keeps the product name in
		// English: "Configuration Manager 客户端" (learn.microsoft.com/zh-cn/mem/configmgr).
		reasons = append(reasons, i18n.T("Configuration Manager client", "Configuration Manager 客户端"))
	}

	switch {
	case len(reasons) > 0:
		f.Status = module.StatusWarn
		if failPending {
			f.Status = module.StatusFail
		}
		why := joinText(reasons...)
		f.Value = i18n.T("reboot pending", "等待重启")
		f.Message = i18n.T(
			"the host waits for a reboot: "+why.EN+"; installed updates take effect only after it, so schedule a reboot",
			"主机等待重启："+why.ZH+"；已安装的更新在重启后才生效，请安排重启",
		)
	case s.FileRenamesPending && !ignoreRenames:
		f.Status = module.StatusWarn
		f.Value = i18n.T("pending file renames", "有待重启替换的文件")
		if n := len(s.FileRenames); n > 0 {
			f.Value = i18n.T(fmt.Sprintf("%d pending file %s", n, plural(float64(n), "rename", "renames")), fmt.Sprintf("%d 个待重启替换的文件", n))
		}
		f.Message = i18n.T(
			"files are waiting to be replaced at the next boot (PendingFileRenameOperations); installers and antivirus also leave these, so check the paths in the evidence",
			"有文件等待下次启动时替换（PendingFileRenameOperations）；安装程序和杀毒软件也会留下此类记录，请核对证据中的路径",
		)
	default:
		f.Value = i18n.T("no reboot pending", "无待重启")
		f.Message = i18n.T("the host does not wait for a reboot", "主机无需重启")
	}

	if len(s.Missing) > 0 && f.Status == module.StatusOK {
		f.Status = module.StatusError
		f.Value = unknownValue
		f.Message = i18n.T(
			"the reboot probe did not report "+strings.Join(s.Missing, ", ")+", so a pending reboot cannot be ruled out",
			"重启探测未报告 "+strings.Join(s.Missing, "、")+"，无法排除待重启",
		)
	}
	return f
}
