package winrmlab

import "encoding/binary"

// withoutSealing removes signing and sealing from a CHALLENGE message and its
// state when Config.RefuseSealing is set. The server then acts like a host
// that does not agree to NTLM message encryption: logins still work, and an
// encrypted request on such a connection gets 400.
func (s *Server) withoutSealing(challenge []byte, state *challengeState) []byte {
	if !s.cfg.RefuseSealing {
		return challenge
	}
	state.flags &^= flagSign | flagSeal | flagAlwaysSign | flagKeyExchange
	binary.LittleEndian.PutUint32(challenge[20:24], state.flags) // NegotiateFlags of CHALLENGE_MESSAGE
	return challenge
}
