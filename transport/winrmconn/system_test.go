package winrmconn

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	winrmlab "patrol/lab/winrm"
	"patrol/transport"
)

// taskReplay holds the scripts the lab's emulated scheduled tasks run: wusa
// exit codes that mean "restart required" and "already installed", Chinese
// output and a task that outlives the caller's timeout.
const taskReplay = `
- match: "kb5034439\\.msu"
  exit_code: 3010
- match: "kb5034440\\.msu"
  exit_code: 2359302
- match: "Get-HotFix"
  stdout: "已安装 KB5034439，需要重新启动\r\n"
  stderr: "警告：补丁列表可能不完整\r\n"
  exit_code: 0
- match: "Start-Sleep"
  stdout: "late\r\n"
  delay: 30s
`

// startTaskLab runs a lab server that emulates patrol's scheduled tasks and
// returns a connection to it and the server, whose Tasks the tests check.
func startTaskLab(t *testing.T) (*Conn, *winrmlab.Server) {
	t.Helper()
	entries, err := winrmlab.ParseReplay("tasks.yml", []byte(taskReplay))
	if err != nil {
		t.Fatalf("parse replay: %v", err)
	}
	srv, port, caFile := serveLab(t, winrmlab.Config{Entries: entries})
	return dialLab(t, port, caFile), srv
}

func TestRunAsSystemReturnsWusaExitCodesAsData(t *testing.T) {
	conn, srv := startTaskLab(t)
	for _, tc := range []struct {
		msu  string
		want int
	}{
		{`C:\patches\kb5034439.msu`, 3010},
		{`C:\patches\kb5034440.msu`, 2359302},
	} {
		script := "& wusa.exe " + QuotePowerShellArg(tc.msu) + " /quiet /norestart\r\nexit $LASTEXITCODE"
		res, err := conn.RunAsSystem(context.Background(), script, time.Minute)
		if err != nil {
			t.Fatalf("RunAsSystem(%s): %v", tc.msu, err)
		}
		if res.ExitCode != tc.want {
			t.Errorf("RunAsSystem(%s) exit code = %d, want %d", tc.msu, res.ExitCode, tc.want)
		}
	}

	for _, task := range srv.Tasks() {
		if !task.Started || !task.Finished || !task.Deleted || task.Stopped {
			t.Errorf("task %s: %+v, want started, finished and deleted without a stop", task.Name, task)
		}
	}
}

func TestRunAsSystemKeepsChineseOutput(t *testing.T) {
	conn, _ := startTaskLab(t)
	res, err := conn.RunAsSystem(context.Background(), "Get-HotFix | Format-Table -AutoSize", time.Minute)
	if err != nil {
		t.Fatalf("RunAsSystem: %v", err)
	}
	if got, want := string(res.Stdout), "已安装 KB5034439，需要重新启动\r\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	if got, want := string(res.Stderr), "警告：补丁列表可能不完整\r\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
	if res.ExitCode != 0 {
		t.Errorf("exit code = %d, want 0", res.ExitCode)
	}
}

func TestRunAsSystemTimeoutStopsAndDeletesTask(t *testing.T) {
	conn, srv := startTaskLab(t)
	_, err := conn.RunAsSystem(context.Background(), "Start-Sleep -Seconds 600", 2*time.Second)
	if !errors.Is(err, transport.ErrTimeout) {
		t.Fatalf("RunAsSystem error = %v, want transport.ErrTimeout", err)
	}

	tasks := srv.Tasks()
	if len(tasks) != 1 {
		t.Fatalf("lab saw %d tasks, want 1", len(tasks))
	}
	if task := tasks[0]; !task.Started || task.Finished || !task.Stopped || !task.Deleted {
		t.Errorf("task %s: %+v, want started, stopped and deleted before it finished", task.Name, task)
	}
}

func TestRunAsSystemUsesNewTaskNameEachCall(t *testing.T) {
	conn, srv := startTaskLab(t)
	for range 3 {
		if _, err := conn.RunAsSystem(context.Background(), "Get-HotFix", time.Minute); err != nil {
			t.Fatalf("RunAsSystem: %v", err)
		}
	}

	name := regexp.MustCompile(`^\\patrol\\run-[0-9a-f]{16}$`)
	seen := map[string]bool{}
	for _, task := range srv.Tasks() {
		if !name.MatchString(task.Name) {
			t.Errorf("task name %q does not match %s", task.Name, name)
		}
		if seen[task.Name] {
			t.Errorf("task name %q used twice", task.Name)
		}
		seen[task.Name] = true
		if !task.Deleted {
			t.Errorf("task %s was not deleted", task.Name)
		}
	}
	if len(seen) != 3 {
		t.Errorf("lab saw %d distinct tasks, want 3", len(seen))
	}
}

func TestRunAsSystemReportsUnregisteredScript(t *testing.T) {
	conn, srv := startTaskLab(t)
	_, err := conn.RunAsSystem(context.Background(), "Get-Nothing", time.Minute)
	if err == nil {
		t.Fatal("RunAsSystem of a script without a replay entry succeeded, want a register error")
	}
	if !regexp.MustCompile(`register scheduled task \\patrol\\run-[0-9a-f]{16}: .*no replay entry matches`).MatchString(err.Error()) {
		t.Errorf("error = %v, want the register step and the lab's message", err)
	}
	if n := len(srv.Tasks()); n != 0 {
		t.Errorf("lab saw %d tasks, want 0", n)
	}
}

func TestParseTaskOutput(t *testing.T) {
	stdout, stderr, err := ParseTaskOutput("stdout 5bey5a6J6KOF\r\nstderr \r\n")
	if err != nil || string(stdout) != "已安装" || len(stderr) != 0 {
		t.Errorf("ParseTaskOutput = %q, %q, %v", stdout, stderr, err)
	}
	for _, bad := range []string{"", "stdout aGk=\r\n", "stdout !!\r\nstderr \r\n", "running\r\n"} {
		if _, _, err := ParseTaskOutput(bad); err == nil {
			t.Errorf("ParseTaskOutput(%q) succeeded, want an error", bad)
		}
	}
}
