package winrmlab

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// maxFaultInput bounds the standard input quoted in a fault.
const maxFaultInput = 1024

// replayCandidates returns the entries that may reply to text, in file
// order: every entry whose match matches and that may reply now, up to and
// including the first one without stdin_match, which replies whatever the
// input is.
func (s *Server) replayCandidates(text string) []*Entry {
	var candidates []*Entry
	for i := range s.cfg.Entries {
		e := &s.cfg.Entries[i]
		if !e.Match.MatchString(text) || !s.mayReply(e) {
			continue
		}
		candidates = append(candidates, e)
		if e.StdinMatch == nil {
			break
		}
	}
	return candidates
}

// takeInput adds the data of one Send stream, base64 as WS-Management
// carries it, to the input of a replayed command.
func (c *command) takeInput(data string, end bool) *fault {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(data))
	if err != nil {
		return &fault{status: http.StatusBadRequest, subcode: "w:SchemaValidationError", message: "the stdin stream is not base64: " + err.Error()}
	}

	c.mu.Lock()
	if c.entry == nil && c.pending != nil {
		c.input = append(c.input, raw...)
	}
	c.mu.Unlock()

	if end {
		c.endOnce.Do(func() { close(c.inputEnded) })
	}
	return nil
}

// awaitEntry chooses the entry of a command whose choice depends on its
// standard input, once the input has ended. Until then it waits up to the
// request's OperationTimeout and returns the TimedOut fault, after which the
// client polls again. A command that no candidate's stdin_match accepts gets
// a fault that quotes its input.
func (s *Server) awaitEntry(r *http.Request, req *request, cmd *command) *fault {
	if cmd.chosenEntry() != nil {
		return nil
	}

	timer := time.NewTimer(req.operationTimeout(defaultOperationTimeout))
	defer timer.Stop()
	select {
	case <-cmd.inputEnded:
	case <-cmd.stopped:
		// nextChunk reports the terminated exit code.
		return nil
	case <-s.closed:
	case <-r.Context().Done():
	case <-timer.C:
	}
	select {
	case <-cmd.inputEnded:
	default:
		return &fault{
			status:  http.StatusInternalServerError,
			subcode: "w:TimedOut",
			code:    codeOperationTimeout,
			message: "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.",
		}
	}

	entry, input := cmd.chooseByInput()
	if entry == nil {
		s.log.Warn("no replay entry matches the standard input", "command_id", cmd.id, "command", truncate(cmd.text, 200), "stdin", truncate(input, 200))
		return &fault{
			status:  http.StatusInternalServerError,
			subcode: "w:InternalError",
			message: fmt.Sprintf("no replay entry matches the standard input (replay lines %v check stdin_match) of: %s; standard input: %s",
				entryLines(cmd.pending), truncate(cmd.text, maxFaultCommandText), truncate(input, maxFaultInput)),
		}
	}
	s.log.Info("replay entry chosen by standard input", "command_id", cmd.id, "replay_line", entry.Line)
	return nil
}

// chosenEntry returns the command's entry, or nil while it is not chosen.
func (c *command) chosenEntry() *Entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entry
}

// chooseByInput sets the command's entry to the first pending entry whose
// stdin_match, if any, matches the input, and returns it with the input. It
// returns a nil entry when none matches.
func (c *command) chooseByInput() (*Entry, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	input := string(c.input)
	if c.entry != nil {
		return c.entry, input
	}
	for _, e := range c.pending {
		if e.StdinMatch == nil || e.StdinMatch.MatchString(input) {
			c.entry = e
			c.readyAt = c.started.Add(e.Delay)
			return e, input
		}
	}
	return nil, input
}

// readyTime returns when the command's output may be sent.
func (c *command) readyTime() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readyAt
}

// entryLines returns the replay file lines of entries, for messages.
func entryLines(entries []*Entry) []int {
	lines := make([]int, len(entries))
	for i, e := range entries {
		lines[i] = e.Line
	}
	return lines
}
