package winrmlab

import "sync"

// commandsSeen records the entries with after_command whose command the
// server has started, so that a replay can show a host that changed, such
// as an Oracle home that lists a patch only once opatch apply ran.
type commandsSeen struct {
	mu   sync.Mutex
	seen map[*Entry]bool
}

// noteCommand marks every entry whose after_command matches text. It runs
// after the entry of text itself was chosen, so a command never enables its
// own entry.
func (s *Server) noteCommand(text string) {
	for i := range s.cfg.Entries {
		e := &s.cfg.Entries[i]
		if e.AfterCommand == nil || !e.AfterCommand.MatchString(text) {
			continue
		}
		s.afterCommands.mu.Lock()
		if s.afterCommands.seen == nil {
			s.afterCommands.seen = map[*Entry]bool{}
		}
		if !s.afterCommands.seen[e] {
			s.log.Info("after_command seen", "replay_line", e.Line)
		}
		s.afterCommands.seen[e] = true
		s.afterCommands.mu.Unlock()
	}
}

// commandSeen reports whether the after_command of e has been started.
func (s *Server) commandSeen(e *Entry) bool {
	s.afterCommands.mu.Lock()
	defer s.afterCommands.mu.Unlock()
	return s.afterCommands.seen[e]
}
