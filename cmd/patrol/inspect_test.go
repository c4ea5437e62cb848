package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"patrol/journal"
)

func TestInspectMonthlyLocal(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	out := filepath.Join(dir, "report")

	// No language is set: the report must be in Chinese by default.
	res := runPatrolEnv(t, []string{"PATROL_HOME=" + home, "PATROL_INVENTORY=", "PATROL_LANG=", "LANG=C.UTF-8", "LC_ALL="},
		dir, "inspect", "monthly", "--out", out, "--inspector", "张三")

	if res.code != exitOK && res.code != exitFailed {
		t.Fatalf("exit code = %d, want 0 or 1\nstderr:\n%s", res.code, res.stderr)
	}
	if got := strings.TrimSpace(res.stdout[strings.LastIndex(strings.TrimSpace(res.stdout), "\n")+1:]); got != out {
		t.Errorf("last stdout line = %q, want the report folder %q", got, out)
	}
	for _, name := range []string{"report.html", "report.md", "report.json"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("missing %s: %v", name, err)
		}
	}

	var rep struct {
		Inspector string `json:"inspector"`
		Hosts     []struct {
			Items []struct {
				Check  string `json:"check"`
				Status string `json:"status"`
			} `json:"items"`
		} `json:"hosts"`
	}
	data, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Inspector != "张三" {
		t.Errorf("inspector = %q, want 张三", rep.Inspector)
	}
	if len(rep.Hosts) != 1 {
		t.Fatalf("report covers %d hosts, want this machine only", len(rep.Hosts))
	}
	if n := len(rep.Hosts[0].Items); n < 8 {
		t.Errorf("report has %d findings, want at least 8", n)
	}

	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	for _, want := range []string{"巡检时间", "巡检人", "张三"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}

// TestInterruptMarksJournal sends SIGINT while a task runs and expects exit
// code 130, the child process gone and a journal that ends as interrupted.
func TestInterruptMarksJournal(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	pidFile := filepath.Join(dir, "sleep.pid")
	book := writeFile(t, filepath.Join(dir, "slow.yml"), `- name: slow
  hosts: all
  tasks:
    - name: first
      command: echo started
    - name: long
      shell: echo $$ > `+pidFile+`; exec sleep 60
    - name: never
      command: touch `+filepath.Join(dir, "never")+`
`)
	cmd := exec.Command(patrolBin, "run", book, "-o", "json")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATROL_HOME="+home, "PATROL_INVENTORY=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || !strings.Contains(lines.Text(), `"task":"first"`) {
		t.Fatalf("first result line = %q", lines.Text())
	}
	pid := waitForPID(t, pidFile)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() {
	}
	err = cmd.Wait()

	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Fatalf("exit code = %d (%v), want %d", code, err, exitInterrupted)
	}
	if syscall.Kill(pid, 0) == nil {
		t.Errorf("the task's process %d still runs after the interrupt", pid)
	}
	if _, err := os.Stat(filepath.Join(dir, "never")); err == nil {
		t.Error("a task after the interrupt ran")
	}
	path, err := journal.Latest(filepath.Join(home, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := journal.Verify(path)
	if err != nil {
		t.Fatalf("journal chain: %v", err)
	}
	if !sum.Ended || sum.EndStatus != journal.RunInterrupted {
		t.Errorf("journal end = %v %q, want interrupted", sum.Ended, sum.EndStatus)
	}
	header, _, _, err := journal.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"run", book, "-o", "json"}; strings.Join(header.Args, " ") != strings.Join(want, " ") {
		t.Errorf("journal header args = %q, want %q", header.Args, want)
	}
}

func waitForPID(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		data, err := os.ReadFile(path)
		if err == nil && strings.HasSuffix(string(data), "\n") {
			var pid int
			if _, err := fmt.Sscan(strings.TrimSpace(string(data)), &pid); err == nil {
				return pid
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no PID in %s", path)
	return 0
}

func TestReportAgainUsesJournalInventory(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(dir, "inventory.yml"), "hosts:\n  here: {connection: local, os: debian, system: seal}\n")
	if res := runPatrol(t, home, dir, "inspect", "daily", "-i", "inventory.yml", "--out", filepath.Join(dir, "first")); res.code > exitFailed {
		t.Fatalf("inspect: exit %d\n%s", res.code, res.stderr)
	}

	// The inventory was given relative to dir; the report is made elsewhere.
	again := filepath.Join(dir, "again")
	res := runPatrol(t, home, t.TempDir(), "report", "--out", again)

	if res.code != exitOK {
		t.Fatalf("report: exit %d\n%s", res.code, res.stderr)
	}
	data, err := os.ReadFile(filepath.Join(again, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Kind  string `json:"kind"`
		Hosts []struct {
			Name   string `json:"name"`
			System string `json:"system"`
		} `json:"hosts"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Kind != "daily" {
		t.Errorf("kind = %q, want daily", rep.Kind)
	}
	if len(rep.Hosts) != 1 || rep.Hosts[0].System != "seal" {
		t.Errorf("hosts = %+v, want here in system seal from the run's inventory", rep.Hosts)
	}
}

func TestReportOfPlainRunExitsTwo(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	book := writeFile(t, filepath.Join(dir, "echo.yml"), "- hosts: all\n  tasks:\n    - command: echo hi\n")
	if res := runPatrol(t, home, dir, "run", book); res.code != exitOK {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}

	res := runPatrol(t, home, dir, "report")

	if res.code != exitInvalid {
		t.Fatalf("report of a plain run: exit %d, want %d\n%s", res.code, exitInvalid, res.stderr)
	}
	if !strings.Contains(res.stderr, "--kind") {
		t.Errorf("message does not say to give --kind:\n%s", res.stderr)
	}
}

func TestReportRejectsUnknownKind(t *testing.T) {
	res := runPatrol(t, t.TempDir(), "", "report", "--kind", "weekly")
	if res.code != exitInvalid {
		t.Errorf("exit %d, want %d; stderr %s", res.code, exitInvalid, res.stderr)
	}
	if !strings.Contains(res.stderr, `--kind "weekly": use daily or monthly`) {
		t.Errorf("stderr %q does not name the --kind value", res.stderr)
	}
}

// TestSecondInspectionSameDayKeepsFirstReport inspects twice on one day
// without --out: the second report goes to a folder of its own, and
// rendering the second run again replaces only its own report.
func TestSecondInspectionSameDayKeepsFirstReport(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	env := []string{"PATROL_HOME=" + home, "PATROL_INVENTORY=", "PATROL_LANG=en"}
	lastLine := func(out string) string {
		out = strings.TrimSpace(out)
		return out[strings.LastIndex(out, "\n")+1:]
	}

	first := runPatrolEnv(t, env, dir, "inspect", "daily")
	second := runPatrolEnv(t, env, dir, "inspect", "daily")
	again := runPatrolEnv(t, env, dir, "report")

	for _, res := range []result{first, second} {
		if res.code != exitOK && res.code != exitFailed {
			t.Fatalf("inspect daily: exit %d\n%s", res.code, res.stderr)
		}
	}
	if again.code != exitOK {
		t.Fatalf("report: exit %d\n%s", again.code, again.stderr)
	}
	firstDir, secondDir := lastLine(first.stdout), lastLine(second.stdout)
	if firstDir == secondDir || secondDir != firstDir+"-2" {
		t.Errorf("report folders %q and %q, want the second to be the first with -2", firstDir, secondDir)
	}
	if got := lastLine(again.stdout); got != secondDir {
		t.Errorf("patrol report of the second run wrote %q, want its own folder %q", got, secondDir)
	}
	runIDs := map[string]string{}
	for _, d := range []string{firstDir, secondDir} {
		var rep struct {
			RunID string `json:"run_id"`
		}
		if err := json.Unmarshal([]byte(readFile(t, filepath.Join(d, "report.json"))), &rep); err != nil {
			t.Fatal(err)
		}
		runIDs[d] = rep.RunID
	}
	if runIDs[firstDir] == runIDs[secondDir] {
		t.Errorf("both folders hold the report of run %s", runIDs[firstDir])
	}
}
