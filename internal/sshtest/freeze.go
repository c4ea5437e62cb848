package sshtest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// FreezeSessions stops (SIGSTOP) every process the server forked for its open
// connections, so that clients see a link that carries nothing, and returns
// a function that resumes them. It is also called when the test ends.
func FreezeSessions(t testing.TB, s *Server) (resume func()) {
	t.Helper()
	pids := descendants(s.PID())
	if len(pids) == 0 {
		t.Fatalf("sshtest: server on port %d has no open connections to freeze", s.Port)
	}
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGSTOP)
	}
	resumed := false
	resume = func() {
		if resumed {
			return
		}
		resumed = true
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGCONT)
		}
	}
	t.Cleanup(resume)
	return resume
}

// descendants lists the PIDs below root, read from /proc.
func descendants(root int) []int {
	children := map[int][]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		text := string(data)
		paren := strings.LastIndexByte(text, ')')
		fields := strings.Fields(text[paren+1:])
		if paren < 0 || len(fields) < 2 {
			continue
		}
		pid, _ := strconv.Atoi(strings.Fields(text)[0])
		ppid, _ := strconv.Atoi(fields[1])
		children[ppid] = append(children[ppid], pid)
	}

	var out []int
	queue := []int{root}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		for _, child := range children[pid] {
			out = append(out, child)
			queue = append(queue, child)
		}
	}
	return out
}
