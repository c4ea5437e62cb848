package winrmlab

import (
	"fmt"
	"net/http"
)

// shellQuotaFault returns the fault Windows sends on shell Create when the
// user has Config.MaxShellsPerUser shells open already, or nil when one more
// shell is allowed. The message is the one Windows Server sends; it names the
// number of shells but not the setting MaxShellsPerUser. The subcode is the
// wsman:QuotaLimit of MS-WSMV 3.1.4.5.2.1.
func (s *Server) shellQuotaFault() *fault {
	if s.cfg.MaxShellsPerUser <= 0 {
		return nil
	}

	s.mu.Lock()
	open := len(s.shells)
	s.mu.Unlock()
	if open < s.cfg.MaxShellsPerUser {
		return nil
	}
	return &fault{
		status:  http.StatusInternalServerError,
		subcode: "w:QuotaLimit",
		message: fmt.Sprintf("The WS-Management service cannot process the request. This user is allowed a maximum number of %d concurrent shells, which has been exceeded. Close existing shells or raise the quota for this user.", s.cfg.MaxShellsPerUser),
	}
}
