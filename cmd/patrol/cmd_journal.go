package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"patrol/journal"
)

func (a *app) journalCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "journal",
		Short: a.tr("List and verify run journals", "列出并校验运行日志"),
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "verify [JOURNAL]",
		Short: a.tr("Check a journal's hash chain (default: the latest run)", "校验运行日志的哈希链（默认：最近一次运行）"),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := a.journalPath(args)
			if err != nil {
				return err
			}
			if _, err := os.Stat(path); err != nil {
				return invalid(err)
			}
			sum, err := journal.Verify(path)
			if err != nil {
				fmt.Fprintln(a.stdout, a.labelled(path, localize(err, a.lang)))
				return &exitError{code: exitFailed}
			}
			status := a.tr("intact", "完整")
			if !sum.Ended {
				status = a.tr("intact, but the run recorded no end (still running or died)", "完整，但没有结束记录（仍在运行或已中断）")
			}
			counts := fmt.Sprintf(a.tr("lines %d, results %d, last line SHA-256 %s", "行数 %d，结果数 %d，末行 SHA-256 %s"),
				sum.Lines, sum.Results, sum.LastHash)
			fmt.Fprintln(a.stdout, a.labelled(path, status+a.tr("; ", "；")+counts))
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: a.tr("List run journals, newest last", "列出运行日志，最新的在最后"),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := journalDir()
			if err != nil {
				return err
			}
			paths, err := journal.List(dir)
			if err != nil {
				return err
			}
			if a.output == "json" {
				if paths == nil {
					paths = []string{}
				}
				return json.NewEncoder(a.stdout).Encode(paths)
			}
			for _, p := range paths {
				fmt.Fprintln(a.stdout, p)
			}
			return nil
		},
	})
	return cmd
}

func journalDir() (string, error) {
	home, err := patrolHome()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, "journal"), nil
}

// journalPath returns the journal named in args, or the latest one.
func (a *app) journalPath(args []string) (string, error) {
	if len(args) > 0 {
		return args[0], nil
	}
	dir, err := journalDir()
	if err != nil {
		return "", err
	}
	path, err := journal.Latest(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", invalid(errors.New(a.tr("no journal in "+dir+"; run a playbook first or name a journal file",
			dir+" 中没有运行日志；请先执行剧本，或指定运行日志文件")))
	}
	if err != nil {
		return "", err
	}
	return path, nil
}
