package winrmlab

import (
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// Reboot simulation (Config.SimulateReboot). The server plays a host that
// restarts when it receives shutdown.exe /r. It keeps serving requests for
// the /t delay, then drops every connection and shell for
// Config.RebootDownTime, and afterwards reports a new LastBootUpTime. Only the boot time probe and
// the shutdown command are answered by the simulation; every other command
// still comes from the replay entries.

// DefaultRebootDownTime is how long a simulated reboot keeps the host
// unreachable when Config.RebootDownTime is zero.
const DefaultRebootDownTime = 3 * time.Second

// Windows facts the simulation reproduces.
const (
	// shutdownDefaultDelay is the delay of shutdown.exe /r without /t.
	shutdownDefaultDelay = 30 * time.Second
	// errShutdownIsScheduled is ERROR_SHUTDOWN_IS_SCHEDULED (1190), the exit
	// status of shutdown.exe /r while another shutdown is pending.
	errShutdownIsScheduled = 1190
)

var (
	// bootTimeProbe recognises a script that prints the boot time from
	// Win32_OperatingSystem as 'boot_time=' + LastBootUpTime in round-trip
	// form, as patrol's reboot module does.
	bootTimeProbe = regexp.MustCompile(`'boot_time='\s*\+\s*\$\w+\.LastBootUpTime\.ToUniversalTime\(\)\.ToString\('o'\)`)
	// shutdownRestart recognises shutdown.exe /r (or -r) in a command.
	shutdownRestart = regexp.MustCompile(`(?i)\bshutdown(?:\.exe)?\s(?:[^\n]*\s)?[/-]r\b`)
	// shutdownDelay reads the /t seconds of a shutdown command.
	shutdownDelay = regexp.MustCompile(`(?i)\s[/-]t\s+(\d+)`)
)

// rebootSim is the boot state of the simulated host. Times are wall clock.
type rebootSim struct {
	downTime time.Duration

	mu       sync.Mutex
	bootTime time.Time
	// downFrom and upAt bound the pending or running reboot. Both are zero
	// when no reboot is pending.
	downFrom time.Time
	upAt     time.Time
	// dropped is set once the shells of the running reboot were dropped.
	dropped bool
	// reboots counts the reboots the host has come back from.
	reboots int
}

func newRebootSim(cfg Config) *rebootSim {
	if !cfg.SimulateReboot {
		return nil
	}
	down := cfg.RebootDownTime
	if down <= 0 {
		down = DefaultRebootDownTime
	}
	// The host has been up for a few days when the lab starts.
	return &rebootSim{downTime: down, bootTime: time.Now().UTC().Add(-72 * time.Hour).Truncate(time.Second)}
}

// advance moves the state to now and reports whether the host is down, and
// whether its shells must be dropped because it went down since the last call.
func (r *rebootSim) advance(now time.Time) (down, dropShells bool) {
	r.mu.Lock()
	defer r.mu.Unlock()

	if r.downFrom.IsZero() || now.Before(r.downFrom) {
		return false, false
	}
	dropShells = !r.dropped
	r.dropped = true
	if now.Before(r.upAt) {
		return true, dropShells
	}

	r.bootTime = r.upAt.UTC()
	r.downFrom, r.upAt, r.dropped = time.Time{}, time.Time{}, false
	r.reboots++
	return false, dropShells
}

// schedule starts a reboot after delay, or reports false when one is pending.
func (r *rebootSim) schedule(now time.Time, delay time.Duration) bool {
	r.mu.Lock()
	defer r.mu.Unlock()

	if !r.downFrom.IsZero() {
		return false
	}
	r.downFrom = now.Add(delay)
	r.upAt = r.downFrom.Add(r.downTime)
	return true
}

func (r *rebootSim) completedReboots() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reboots
}

// mayReply reports whether entry may reply now: the command named by its
// AfterCommand has started, and its AfterReboots is reached.
func (s *Server) mayReply(entry *Entry) bool {
	if entry.AfterCommand != nil && !s.commandSeen(entry) {
		return false
	}
	if entry.AfterReboots == 0 {
		return true
	}
	return s.reboot != nil && s.reboot.completedReboots() >= entry.AfterReboots
}

func (r *rebootSim) currentBootTime() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bootTime
}

// rebootEntry returns the simulated result of the boot time probe and of
// shutdown.exe /r when the simulation is on, and nil for every other command.
func (s *Server) rebootEntry(text string) *Entry {
	if s.reboot == nil {
		return nil
	}
	switch {
	case bootTimeProbe.MatchString(text):
		// The 'o' format of a UTC DateTime: seven fractional digits and Z.
		stamp := s.reboot.currentBootTime().Format("2006-01-02T15:04:05.0000000Z")
		return &Entry{Stdout: []byte("boot_time=" + stamp + "\r\n")}
	case shutdownRestart.MatchString(text):
		delay := shutdownDefaultDelay
		if match := shutdownDelay.FindStringSubmatch(text); match != nil {
			seconds, _ := strconv.Atoi(match[1])
			delay = time.Duration(seconds) * time.Second
		}
		if !s.reboot.schedule(time.Now(), delay) {
			return &Entry{
				Stderr:   []byte("A system shutdown has already been scheduled.(1190)\r\n"),
				ExitCode: errShutdownIsScheduled,
			}
		}
		s.log.Info("simulated reboot scheduled", "delay", delay, "down", s.reboot.downTime)
		return &Entry{}
	}
	return nil
}

// whileUp wraps the server's handler. While the simulated host is down it
// closes every connection without a response, like a host that vanished.
// When the host goes down it removes all shells, as a reboot does.
func (s *Server) whileUp(next http.Handler) http.Handler {
	if s.reboot == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		down, dropShells := s.reboot.advance(time.Now())
		if dropShells {
			s.dropShells()
		}
		if !down {
			next.ServeHTTP(w, r)
			return
		}

		hijacker, ok := w.(http.Hijacker)
		if !ok {
			s.log.Warn("simulated reboot: connection cannot be closed, sending 503", "remote", r.RemoteAddr)
			http.Error(w, "host is rebooting", http.StatusServiceUnavailable)
			return
		}
		conn, _, err := hijacker.Hijack()
		if err != nil {
			s.log.Warn("simulated reboot: take over connection failed, sending 503", "remote", r.RemoteAddr, "err", err)
			http.Error(w, "host is rebooting", http.StatusServiceUnavailable)
			return
		}
		_ = conn.Close()
	})
}

// dropShells removes every shell and stops its commands.
func (s *Server) dropShells() {
	s.mu.Lock()
	shells := s.shells
	s.shells = map[string]*shell{}
	s.mu.Unlock()

	for _, sh := range shells {
		for _, cmd := range sh.commands {
			cmd.stopOnce.Do(func() { close(cmd.stopped) })
		}
	}
	s.log.Info("simulated reboot: host down, shells dropped", "shells", len(shells))
}
