package loopback

import (
	"bytes"
	"net"
	"sync"
)

// RecordingListener keeps a copy of every byte its connections read, which is
// what an observer on the network would see of the requests. Tests use it to
// check that no secret or plain command text crosses the wire.
type RecordingListener struct {
	net.Listener

	mu   sync.Mutex
	read bytes.Buffer
}

// Accept wraps the accepted connection so that its reads are recorded.
func (l *RecordingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &recordingConn{Conn: c, l: l}, nil
}

// Traffic returns a copy of everything read so far.
func (l *RecordingListener) Traffic() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.read.Bytes())
}

type recordingConn struct {
	net.Conn
	l *RecordingListener
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.l.mu.Lock()
	c.l.read.Write(p[:n])
	c.l.mu.Unlock()
	return n, err
}
