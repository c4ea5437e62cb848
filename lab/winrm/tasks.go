package winrmlab

import (
	"encoding/base64"
	"fmt"
	"sync"
	"time"

	"patrol/transport/winrmconn/taskscript"
)

// TaskRecord is the history of one scheduled task that patrol's task scripts
// (package taskscript) registered on the lab.
type TaskRecord struct {
	// Name is the full task name, such as \patrol\run-0123456789abcdef.
	Name string
	// Script is the text the task runs.
	Script string
	// Started is set by the start script.
	Started bool
	// Finished is set when a poll found the task's exit code.
	Finished bool
	// Stopped is set when the cleanup script ran before the task ended, as
	// Stop-ScheduledTask then stops it.
	Stopped bool
	// Deleted is set by the cleanup script.
	Deleted bool
}

// taskTable holds the emulated scheduled tasks by id. The zero value is
// ready to use.
type taskTable struct {
	mu    sync.Mutex
	tasks map[string]*labTask
	order []string
}

// labTask is one emulated task: the replay entry its script matched and the
// time its output is ready, which is the start plus the entry's delay.
type labTask struct {
	record  TaskRecord
	entry   *Entry
	readyAt time.Time
}

// Tasks returns the scheduled tasks patrol registered on this server, in the
// order of registration, so tests can check that each was deleted.
func (s *Server) Tasks() []TaskRecord {
	s.tasks.mu.Lock()
	defer s.tasks.mu.Unlock()
	records := make([]TaskRecord, 0, len(s.tasks.order))
	for _, id := range s.tasks.order {
		records = append(records, s.tasks.tasks[id].record)
	}
	return records
}

// startTaskCommand returns the emulated command for text, or nil when text
// is not one of patrol's task scripts. The task "runs" by replaying the
// first entry whose Match matches its script. The poll and read scripts then
// serve that entry's exit code and output, as the wrapper's files would.
func (s *Server) startTaskCommand(text string) *fileCommand {
	parsed, ok := taskscript.Parse(text)
	if !ok {
		return nil
	}

	fc := &fileCommand{changed: make(chan struct{})}
	out, err := s.tasks.run(parsed, s.cfg.Entries, s.mayReply)
	if err != nil {
		fc.fail(err)
		return fc
	}
	fc.finish(out, 0)
	return fc
}

// run carries out one task script on the table and returns its stdout.
// mayReply filters the entries a registered script can match.
func (t *taskTable) run(cmd taskscript.Command, entries []Entry, mayReply func(*Entry) bool) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tasks == nil {
		t.tasks = map[string]*labTask{}
	}

	task := t.tasks[cmd.ID]
	if cmd.Kind == taskscript.KindRegister {
		var entry *Entry
		for i := range entries {
			// A scheduled task reads no standard input, so entries with
			// stdin_match never reply to it.
			if entries[i].StdinMatch == nil && entries[i].Match.MatchString(cmd.Script) && mayReply(&entries[i]) {
				entry = &entries[i]
				break
			}
		}
		if entry == nil {
			return "", fmt.Errorf("no replay entry matches the script of scheduled task %s: %s", cmd.ID, truncate(cmd.Script, maxFaultCommandText))
		}
		if task == nil {
			t.order = append(t.order, cmd.ID)
		}
		t.tasks[cmd.ID] = &labTask{record: TaskRecord{Name: taskscript.TaskPath + cmd.ID, Script: cmd.Script}, entry: entry}
		return "", nil
	}

	// Poll, read and cleanup of a task that was never registered behave as
	// the scripts do on Windows: no exit file, empty output, nothing to
	// delete. Start fails like Start-ScheduledTask does.
	switch cmd.Kind {
	case taskscript.KindStart:
		if task == nil || task.record.Deleted {
			return "", fmt.Errorf("the system cannot find the file specified: scheduled task %s%s", taskscript.TaskPath, cmd.ID)
		}
		task.record.Started = true
		task.readyAt = time.Now().Add(task.entry.Delay)
	case taskscript.KindPoll:
		if task == nil || !task.ended() {
			return taskscript.ReplyRunning + "\r\n", nil
		}
		task.record.Finished = true
		return fmt.Sprintf("%s%d\r\n", taskscript.ReplyDone, int32(task.entry.ExitCode)), nil
	case taskscript.KindRead:
		var stdout, stderr []byte
		if task != nil && task.ended() {
			stdout, stderr = task.entry.Stdout, task.entry.Stderr
		}
		return taskscript.ReplyStdout + base64.StdEncoding.EncodeToString(stdout) + "\r\n" +
			taskscript.ReplyStderr + base64.StdEncoding.EncodeToString(stderr) + "\r\n", nil
	case taskscript.KindCleanup:
		if task != nil && !task.record.Deleted {
			task.record.Stopped = task.record.Started && !task.ended()
			task.record.Deleted = true
		}
	}
	return "", nil
}

// ended reports whether the task's script has ended by now.
func (task *labTask) ended() bool {
	return task.record.Started && !task.record.Deleted && !time.Now().Before(task.readyAt)
}
