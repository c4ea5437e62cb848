package loopback

import (
	"fmt"
	"net"
)

// RefusedDial dials a 127.0.0.1 port whose listener was just closed and
// returns the dial error, a real "connect: connection refused" for tests of
// error texts. It returns an error of its own when the port accepted the
// connection after all.
func RefusedDial() (dialErr error, setupErr error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	conn, err := net.Dial("tcp", addr)
	if err == nil {
		conn.Close()
		return nil, fmt.Errorf("%s accepted a connection after its listener closed", addr)
	}
	return err, nil
}
