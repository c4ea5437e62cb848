package patches

import (
	"context"
	"log/slog"

	"patrol/inventory"
	"patrol/transport"
)

// QueryOptions are the inputs of QueryHosts.
type QueryOptions struct {
	Dial func(ctx context.Context, h *inventory.Host) (transport.Connection, error)
	// Installers returns a host's installers; nil means DefaultInstallers.
	Installers func(h *inventory.Host) map[Method]Installer
	// Forks bounds the hosts queried at once.
	Forks int
	Log   *slog.Logger
}

// QueryResult holds the installed lists QueryHosts read.
type QueryResult struct {
	// Installed holds the hosts whose installed list could be read, maybe
	// in part: Warnings then names the source that failed.
	Installed map[string]*Installed
	// Errors holds the hosts that could not be read at all.
	Errors   map[string]error
	Warnings map[string]error
}

// QueryHosts connects to each host and reads what it has installed, for
// patrol patch plan and status. It changes nothing on the hosts.
func QueryHosts(ctx context.Context, hosts []*inventory.Host, opts QueryOptions) QueryResult {
	r := newApplyRun(ApplyOptions{All: hosts, Hosts: hosts, Dial: opts.Dial, Installers: opts.Installers, Forks: opts.Forks, Log: opts.Log})
	defer r.closeSessions()
	r.connectAll(ctx, hosts)

	out := QueryResult{Installed: map[string]*Installed{}, Errors: map[string]error{}, Warnings: map[string]error{}}
	for _, h := range hosts {
		s := r.sessions[h.Name]
		switch {
		case s == nil:
			out.Errors[h.Name] = ctx.Err()
		case s.installed == nil:
			out.Errors[h.Name] = s.queryErr
		default:
			out.Installed[h.Name] = s.installed
			if s.queryWarn != nil {
				out.Warnings[h.Name] = s.queryWarn
			}
		}
	}
	return out
}
