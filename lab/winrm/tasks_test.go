package winrmlab

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"patrol/transport/winrmconn/taskscript"
)

func TestTaskTableRunsTaskFromReplay(t *testing.T) {
	entries := []Entry{
		{Match: regexp.MustCompile(`wusa`), Stdout: []byte("已安装\r\n"), ExitCode: 3010},
		{Match: regexp.MustCompile(`.`), ExitCode: 1},
	}
	srv := &Server{}
	table := &srv.tasks
	run := func(kind taskscript.Kind, script string) string {
		t.Helper()
		out, err := table.run(taskscript.Command{Kind: kind, ID: "run-1", Script: script}, entries, func(*Entry) bool { return true })
		if err != nil {
			t.Fatalf("kind %d: %v", kind, err)
		}
		return out
	}

	if out := run(taskscript.KindPoll, ""); out != "running\r\n" {
		t.Errorf("poll before register = %q, want running", out)
	}
	run(taskscript.KindRegister, "wusa.exe x.msu")
	if out := run(taskscript.KindPoll, ""); out != "running\r\n" {
		t.Errorf("poll before start = %q, want running", out)
	}
	run(taskscript.KindStart, "")
	if out := run(taskscript.KindPoll, ""); out != "done 3010\r\n" {
		t.Errorf("poll after start = %q, want done 3010", out)
	}
	if out := run(taskscript.KindRead, ""); out != "stdout 5bey5a6J6KOFDQo=\r\nstderr \r\n" {
		t.Errorf("read = %q", out)
	}
	run(taskscript.KindCleanup, "")

	want := TaskRecord{Name: `\patrol\run-1`, Script: "wusa.exe x.msu", Started: true, Finished: true, Deleted: true}
	if got := srv.Tasks(); len(got) != 1 || got[0] != want {
		t.Errorf("Tasks = %+v, want [%+v]", got, want)
	}
	if _, err := table.run(taskscript.Command{Kind: taskscript.KindStart, ID: "run-1"}, entries, func(*Entry) bool { return true }); err == nil {
		t.Error("start of a deleted task succeeded, want an error")
	}
}

func TestTaskTableStopsDelayedTask(t *testing.T) {
	entries := []Entry{{Match: regexp.MustCompile(`Start-Sleep`), Delay: time.Hour}}
	var table taskTable
	for _, kind := range []taskscript.Kind{taskscript.KindRegister, taskscript.KindStart, taskscript.KindPoll, taskscript.KindCleanup} {
		out, err := table.run(taskscript.Command{Kind: kind, ID: "run-2", Script: "Start-Sleep 600"}, entries, func(*Entry) bool { return true })
		if err != nil {
			t.Fatalf("kind %d: %v", kind, err)
		}
		if kind == taskscript.KindPoll && out != "running\r\n" {
			t.Errorf("poll = %q, want running", out)
		}
	}
	if got := table.tasks["run-2"].record; !got.Stopped || !got.Deleted || got.Finished {
		t.Errorf("record = %+v, want stopped and deleted before it finished", got)
	}
}

func TestTaskTableRejectsScriptWithoutEntry(t *testing.T) {
	entries := []Entry{{Match: regexp.MustCompile(`wusa`)}}
	var table taskTable
	_, err := table.run(taskscript.Command{Kind: taskscript.KindRegister, ID: "run-3", Script: "Get-Nothing"}, entries, func(*Entry) bool { return true })
	if err == nil || !strings.Contains(err.Error(), "no replay entry matches") {
		t.Errorf("register error = %v, want no replay entry matches", err)
	}
}
