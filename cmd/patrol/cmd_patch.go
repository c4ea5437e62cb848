package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"patrol/inventory"
	"patrol/patches"
	"patrol/transport"
	"patrol/workday"
)

// patchFlags are the flags every patch subcommand shares.
type patchFlags struct {
	catalog  string
	calendar string
}

func (a *app) patchCommand() *cobra.Command {
	var pf patchFlags
	cmd := &cobra.Command{
		Use:   "patch",
		Short: a.tr("Import, plan and apply patches by severity and deadline", "按严重程度和期限导入、规划和安装补丁"),
		Long: a.tr(
			"Patches arrive offline and go into a catalog (a YAML file) and its repository folder with `patch import`. "+
				"`patch plan` shows what each host is missing and when it is due, `patch status` whether deadlines were met, "+
				"and `patch apply` installs the missing patches: on each system's staging host first, then on production in serial batches "+
				"that never take both hosts of a pair down at once.",
			"补丁离线带入后，用 `patch import` 登记到补丁台账（一个 YAML 文件），文件放入其仓库文件夹。"+
				"`patch plan` 显示每台主机缺少的补丁和期限，`patch status` 显示是否按期完成，"+
				"`patch apply` 安装缺少的补丁：先装到各系统的测试主机，再按批次装到生产主机，双机组的两台主机不会同时停机。"),
	}
	f := cmd.PersistentFlags()
	f.StringVar(&pf.catalog, "catalog", "", a.tr("patch catalog file (default: $PATROL_CATALOG)", "补丁台账文件（默认取 $PATROL_CATALOG）"))
	f.StringVar(&pf.calendar, "calendar", "", a.tr(
		"YAML file with holidays and make-up working days announced after this build, for deadlines (default: $PATROL_CALENDAR)",
		"YAML 文件，写入本程序构建之后公布的节假日与调休上班日，用于计算期限（默认取 $PATROL_CALENDAR）"))
	cmd.AddCommand(a.patchImportCommand(&pf), a.patchPlanCommand(&pf), a.patchStatusCommand(&pf), a.patchApplyCommand(&pf))
	return cmd
}

// catalogPath returns --catalog or $PATROL_CATALOG.
func (pf *patchFlags) catalogPath(a *app) (string, error) {
	path := pf.catalog
	if path == "" {
		path = os.Getenv("PATROL_CATALOG")
	}
	if path == "" {
		return "", invalid(errors.New(a.tr("no patch catalog: give --catalog FILE or set PATROL_CATALOG",
			"未指定补丁台账：请用 --catalog 文件 指定，或设置 PATROL_CATALOG")))
	}
	return path, nil
}

// loadCatalog reads an existing catalog; problems are invalid input.
func (pf *patchFlags) loadCatalog(a *app) (*patches.Catalog, error) {
	path, err := pf.catalogPath(a)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); err != nil {
		return nil, invalid(fmt.Errorf("%s: %s", path, a.tr(
			"the catalog does not exist; create it with patrol patch import",
			"补丁台账不存在；请用 patrol patch import 创建")))
	}
	cat, err := patches.LoadCatalog(path)
	if err != nil {
		return nil, invalid(err)
	}
	return cat, nil
}

// patchHosts returns the hosts --limit selects, every host without it.
func (a *app) patchHosts(inv *inventory.Inventory) ([]*inventory.Host, error) {
	if a.limit == "" {
		return inv.Hosts(), nil
	}
	hosts, err := inv.Select(a.limit)
	if err != nil {
		return nil, invalidFlag("--limit", err)
	}
	return hosts, nil
}

// patchSetup loads what plan, status and apply share.
func (a *app) patchSetup(pf *patchFlags) (*inventory.Inventory, []*inventory.Host, *patches.Catalog, *workday.Calendar, error) {
	inv, _, err := a.loadInventory()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	hosts, err := a.patchHosts(inv)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	cat, err := pf.loadCatalog(a)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	cal, err := a.loadCalendar(calendarFlags{file: pf.calendar})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return inv, hosts, cat, cal, nil
}

// queryPlans reads what the hosts have installed, prints the hosts that
// could not be read, and returns the plans with the exit code those hosts
// call for.
func (a *app) queryPlans(ctx context.Context, inv *inventory.Inventory, hosts []*inventory.Host, cat *patches.Catalog, cal *workday.Calendar, windowEnd time.Time) ([]patches.HostPlan, int, error) {
	if err := a.checkConnections(inv, hosts); err != nil {
		return nil, 0, invalid(err)
	}
	q := patches.QueryHosts(ctx, hosts, patches.QueryOptions{Dial: a.dialer(inv), Forks: a.forks, Log: a.logger("")})
	code := exitOK
	for _, h := range hosts {
		if err := q.Errors[h.Name]; err != nil {
			if transport.IsUnreachable(err) {
				code = exitUnreachable
			} else if code == exitOK {
				code = exitFailed
			}
			fmt.Fprintf(a.stderr, "%s: %s: %s\n", msgError.In(a.lang), h.Name, localizeTaskError(err, a.lang))
		}
		if err := q.Warnings[h.Name]; err != nil {
			fmt.Fprintf(a.stderr, "%s: %s: %s\n", a.tr("warning", "警告"), h.Name, localizeTaskError(err, a.lang))
		}
	}
	if ctx.Err() != nil {
		return nil, exitInterrupted, nil
	}
	plans := patches.Plan(patches.PlanInput{
		Catalog: cat, Hosts: hosts, Installed: q.Installed, QueryErrors: q.Errors,
		Calendar: cal, Now: time.Now(), WindowEnd: windowEnd,
	})
	return plans, code, nil
}

// compliance is the patch compliance of some hosts at one moment.
type compliance struct {
	plans []patches.HostPlan
	rows  []patches.ComplianceRow
	at    time.Time
}

// queryCompliance reads what the hosts have installed and computes the
// compliance rows, for patrol patch status and for inspections given
// --catalog. A host that could not be read has unknown rows. The exit code
// is the one queryPlans returns.
func (a *app) queryCompliance(ctx context.Context, inv *inventory.Inventory, hosts []*inventory.Host, cat *patches.Catalog, cal *workday.Calendar) (compliance, int, error) {
	plans, code, err := a.queryPlans(ctx, inv, hosts, cat, cal, time.Time{})
	if err != nil || code == exitInterrupted {
		return compliance{}, code, err
	}
	c := compliance{plans: plans, at: time.Now()}
	c.rows = patches.Status(plans, c.at)
	return c, code, nil
}

func (a *app) patchPlanCommand(pf *patchFlags) *cobra.Command {
	var window string
	cmd := &cobra.Command{
		Use:   "plan",
		Short: a.tr("Show each host's missing patches with deadline and time left", "显示每台主机缺少的补丁及其期限和剩余时间"),
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			inv, hosts, cat, cal, err := a.patchSetup(pf)
			if err != nil {
				return err
			}
			windowEnd, err := patches.ParseWindowEnd(window, time.Now(), cal.Location())
			if err != nil {
				return invalidFlag("--window", err)
			}
			plans, code, err := a.queryPlans(cmd.Context(), inv, hosts, cat, cal, windowEnd)
			if err != nil {
				return err
			}
			if a.output == "json" {
				enc := json.NewEncoder(a.stdout)
				for _, hp := range plans {
					enc.Encode(hp)
				}
			} else {
				a.printPlan(plans, windowEnd)
			}
			return &exitError{code: code}
		},
	}
	cmd.Flags().StringVar(&window, "window", "", a.tr(
		"end of the next maintenance window, as HH:MM (next occurrence), a duration such as 2h, or RFC 3339; marks patches due before it",
		"下一个维护窗口的结束时间：HH:MM（下一次出现的该时刻）、时长（如 2h）或 RFC 3339；标出在此之前到期的补丁"))
	return cmd
}

func (a *app) patchStatusCommand(pf *patchFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: a.tr("Show per patch and host whether the deadline was met", "按补丁和主机显示是否按期完成"),
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			inv, hosts, cat, cal, err := a.patchSetup(pf)
			if err != nil {
				return err
			}
			c, code, err := a.queryCompliance(cmd.Context(), inv, hosts, cat, cal)
			if err != nil {
				return err
			}
			rows := c.rows
			if a.output == "json" {
				enc := json.NewEncoder(a.stdout)
				for _, r := range rows {
					enc.Encode(r)
				}
			} else {
				a.printStatus(rows)
			}
			return &exitError{code: code}
		},
	}
}

func (a *app) patchImportCommand(pf *patchFlags) *cobra.Command {
	var (
		severity, arrived, method           string
		sums, rollbackSums                  []string
		rollbackFiles, pkgs                 []string
		osNames, systems, stopServices      []string
		kb, opatch, oracleVersion, verifyCm string
		noRollback, reboot, noChecksum      bool
		title, id                           string
	)
	cmd := &cobra.Command{
		Use:   "import FILE...",
		Short: a.tr("Copy patch files into the catalog's repository and add them to the catalog", "把补丁文件复制到补丁台账的仓库中，并登记到补丁台账"),
		Long: a.tr(
			"Checks each file's SHA-256 against the checksum delivered with it before anything is written: one --sha256 per FILE "+
				"and one --rollback-sha256 per --rollback-file, in order. A file without one is refused unless --no-delivered-checksum is given. "+
				"Then copies the files into the repository (temporary name, sync, check, rename) and appends an entry to the catalog, keeping its comments. "+
				"For rpm and yum, verify.packages is read from the packages' headers with the local rpm tool. "+
				"Importing the same files under the same id again changes nothing.",
			"写入前先核对每个文件的 SHA-256 与随文件提供的校验和：按顺序每个 FILE 一个 --sha256，每个 --rollback-file 一个 --rollback-sha256。"+
				"缺少校验和的文件会被拒绝，除非给出 --no-delivered-checksum。"+
				"然后把文件复制到仓库（临时文件名、同步、核对、改名），并在补丁台账末尾追加条目，保留原有注释。"+
				"rpm 和 yum 补丁的 verify.packages 由本机 rpm 从软件包头读取。以同一编号再次导入相同文件不会做任何改动。"),
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{errors.New(a.tr("requires at least one patch file", "至少需要一个补丁文件"))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := pf.catalogPath(a)
			if err != nil {
				return err
			}
			sev, err := patches.ParseSeverity(severity)
			if err != nil {
				return invalidFlag("--severity", errors.New(a.tr(
					fmt.Sprintf("invalid severity %q; use urgent (紧急), serious (严重) or normal (普通)", severity),
					fmt.Sprintf("严重程度 %q 无效；请使用 urgent（紧急）、serious（严重）或 normal（普通）", severity))))
			}

			cal, err := a.loadCalendar(calendarFlags{file: pf.calendar})
			if err != nil {
				return err
			}
			// Without --arrived the patch arrives now, written in the
			// calendar's zone like every other time patrol shows.
			at := time.Now().In(cal.Location()).Truncate(time.Second)
			if arrived != "" {
				if at, err = time.Parse(time.RFC3339, arrived); err != nil {
					return invalid(fmt.Errorf("--arrived %q: %s", arrived, a.tr(
						"write an RFC 3339 time with its zone, such as 2026-09-30T17:00:00+08:00",
						"请写带时区的 RFC 3339 时间，例如 2026-09-30T17:00:00+08:00")))
				}
			}
			if err := a.checkNames("--os", osNames, inventory.OSNames); err != nil {
				return invalid(err)
			}
			if err := a.checkNames("--system", systems, inventory.Systems); err != nil {
				return invalid(err)
			}

			req := patches.ImportRequest{
				CatalogPath: path, Files: args, ID: id, Title: title, Severity: sev, Arrived: at,
				Method: patches.Method(method), OS: osNames, Systems: systems, Reboot: reboot,
				SHA256: sums, RollbackFiles: rollbackFiles, RollbackSHA256: rollbackSums, NoDeliveredChecksum: noChecksum,
				RollbackNone: noRollback, StopServices: stopServices,
				VerifyCommand: verifyCm, Packages: pkgs, KB: kb, OPatch: opatch, Version: oracleVersion,
			}
			res, err := patches.Import(cmd.Context(), req)
			var ie *patches.ImportError
			var ve *patches.ValidationError
			if errors.As(err, &ie) || errors.As(err, &ve) {
				return invalid(err)
			}
			if err != nil {
				return err
			}
			a.printImport(path, res)
			return nil
		},
	}

	f := cmd.Flags()
	f.StringVar(&id, "id", "", a.tr("patch id: a KB number, an RPM advisory or NEVRA, or an Oracle patch number (required)", "补丁编号：KB 编号、RPM 公告或 NEVRA、Oracle 补丁号（必填）"))
	f.StringVar(&title, "title", "", a.tr("title shown in plans and reports", "在计划和报告中显示的标题"))
	f.StringVar(&severity, "severity", "", a.tr("severity: urgent (紧急), serious (严重) or normal (普通) (required)", "严重程度：urgent（紧急）、serious（严重）或 normal（普通）（必填）"))
	f.StringVar(&arrived, "arrived", "", a.tr("arrival time in RFC 3339; the deadline counts from its day (default: now, in the calendar's time zone)", "到达时间（RFC 3339）；期限从该日起算（默认：现在，按日历时区）"))
	f.StringVar(&method, "method", "", a.tr("install method: rpm, yum, wusa, dism or opatch (required)", "安装方式：rpm、yum、wusa、dism 或 opatch（必填）"))
	f.StringSliceVar(&osNames, "os", nil, a.tr("operating systems the patch is for, such as centos7; the first also names the repository folder", "补丁适用的操作系统，例如 centos7；第一个也作为仓库子文件夹名"))
	f.StringSliceVar(&systems, "system", nil, a.tr("business systems the patch is for: hotel, entertainment, seal (default: all)", "补丁适用的业务系统：hotel、entertainment、seal（默认：全部）"))
	f.BoolVar(&reboot, "reboot", false, a.tr("the host must restart after the install", "安装后主机必须重启"))
	f.StringArrayVar(&sums, "sha256", nil, a.tr(
		"SHA-256 delivered with a FILE, one per FILE in the order of the files (required); a mismatch imports nothing and exits 2",
		"随 FILE 提供的 SHA-256，按文件顺序每个 FILE 一个（必填）；不符时不导入任何内容并以退出码 2 结束"))
	f.StringArrayVar(&rollbackFiles, "rollback-file", nil, a.tr("older RPM that a rollback puts back (rpm and yum); repeatable", "回退时恢复的旧版 RPM（rpm 和 yum）；可重复"))
	f.StringArrayVar(&rollbackSums, "rollback-sha256", nil, a.tr(
		"SHA-256 delivered with a --rollback-file, one per rollback file in their order (required)",
		"随 --rollback-file 提供的 SHA-256，按回退文件的顺序每个一个（必填）"))
	f.BoolVar(&noChecksum, "no-delivered-checksum", false, a.tr(
		"import files that came without a delivered checksum; prints a warning naming them",
		"导入没有随附校验和的文件；会打印警告并列出这些文件"))
	f.BoolVar(&noRollback, "no-rollback", false, a.tr("the patch cannot be rolled back: a failure leaves the host for a person to look at", "补丁不能回退：失败时主机保持现状，由人工处理"))
	f.StringSliceVar(&stopServices, "stop-service", nil, a.tr("service stopped before the install and started after it; repeatable", "安装前停止、安装后启动的服务；可重复"))
	f.StringVar(&verifyCm, "verify-command", "", a.tr("command that must exit 0 on the host after the install", "安装后在主机上必须以 0 退出的命令"))
	f.StringArrayVar(&pkgs, "package", nil, a.tr("NEVRA for verify.packages instead of reading the RPM headers; repeatable", "verify.packages 的 NEVRA，代替从 RPM 头读取；可重复"))
	f.StringVar(&kb, "kb", "", a.tr("KB number of a Windows update (default: read from the file name)", "Windows 更新的 KB 编号（默认从文件名读取）"))
	f.StringVar(&opatch, "opatch", "", a.tr("Oracle patch number (default: read from the file name p<number>_…)", "Oracle 补丁号（默认从文件名 p<编号>_… 读取）"))
	f.StringVar(&oracleVersion, "oracle-version", "", a.tr("Oracle database version the patch is for, such as 11.2.0.4", "补丁适用的 Oracle 数据库版本，例如 11.2.0.4"))
	return cmd
}

// checkNames rejects values outside valid, naming the flag.
func (a *app) checkNames(flag string, values, valid []string) error {
	for _, v := range values {
		if !slices.Contains(valid, v) {
			return fmt.Errorf("%s %q: %s%s", flag, v, a.tr("valid values: ", "可用的值："), strings.Join(valid, ", "))
		}
	}
	return nil
}

func (a *app) printImport(path string, res *patches.ImportResult) {
	if len(res.Unchecked) > 0 {
		fmt.Fprintf(a.stderr, a.tr(
			"warning: imported without a delivered checksum (--no-delivered-checksum): %s; compare the SHA-256 below with the delivery\n",
			"警告：以下文件没有随附的校验和，已按 --no-delivered-checksum 导入：%s；请把下面的 SHA-256 与交付方核对\n"),
			strings.Join(res.Unchecked, ", "))
	}
	if a.output == "json" {
		json.NewEncoder(a.stdout).Encode(map[string]any{"catalog": path, "patch": res.Patch.ID, "unchanged": res.Unchanged, "copied": res.Copied,
			"unchecked": res.Unchecked})
		return
	}
	if res.Unchanged {
		fmt.Fprintf(a.stdout, a.tr("patch %s is already in %s with the same files; nothing changed\n", "补丁 %s 已在 %s 中且文件相同；未做改动\n"), res.Patch.ID, path)
		if len(res.Copied) > 0 {
			fmt.Fprintf(a.stdout, a.tr("repository files written again: %s\n", "已重新写入仓库文件：%s\n"), strings.Join(res.Copied, ", "))
		}
		return
	}
	fmt.Fprintf(a.stdout, a.tr("added patch %s to %s\n", "已把补丁 %s 登记到 %s\n"), res.Patch.ID, path)
	for _, f := range slices.Concat(res.Patch.Files, res.Patch.Rollback.Files) {
		fmt.Fprintf(a.stdout, "  %s  %s\n", f.SHA256, f.Path)
	}
	if len(res.Patch.Verify.Packages) > 0 {
		fmt.Fprintf(a.stdout, "  verify.packages: %s\n", strings.Join(res.Patch.Verify.Packages, ", "))
	}
}
