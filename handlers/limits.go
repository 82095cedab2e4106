package handlers

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// What one client may hold of the server, unless the configuration says
// otherwise (config.Config.ConnsPerAddress and BodyTimeout). A slow client
// that sends a body a byte at a time, from many connections at once, would
// otherwise hold every connection the server can take.
const (
	// defaultConnsPerAddress is generous: a browser opens six connections
	// to a site and keeps one per open view for its live stream, and an
	// office behind one address holds a few of each per person.
	defaultConnsPerAddress = 256
	// defaultBodyTimeout is how long a request may take to send its body,
	// once its headers are in: a megabyte in 30 seconds is 35 KB/s.
	defaultBodyTimeout = 30 * time.Second
)

// limitClients applies the limits on what one client may hold to the
// listener and the handler the server serves with: connections per client
// address, and the time a request's body may take. Headers have their own
// timeout (http.Server.ReadHeaderTimeout). There is no overall read or
// write timeout: the live streams stay open for hours.
func (s *Server) limitClients(ln net.Listener, h http.Handler) (net.Listener, http.Handler) {
	conns := s.cfg.ConnsPerAddress
	if conns <= 0 {
		conns = defaultConnsPerAddress
	}
	timeout := s.cfg.BodyTimeout
	if timeout <= 0 {
		timeout = defaultBodyTimeout
	}
	return newConnLimiter(ln, conns, s.cfg.TrustedProxies), bodyDeadline(timeout, h)
}

// bodyDeadline gives a request that has a body timeout to send all of it:
// a read then fails, the handler sees an unreadable body, and the
// connection is closed. Once the body is read the deadline is lifted, so
// that a handler that takes its time afterwards keeps its connection.
func bodyDeadline(timeout time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			rc := http.NewResponseController(w)
			if rc.SetReadDeadline(time.Now().Add(timeout)) == nil {
				r.Body = &deadlineBody{ReadCloser: r.Body, lift: func() { rc.SetReadDeadline(time.Time{}) }}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// deadlineBody lifts its connection's read deadline when it has been read
// to the end.
type deadlineBody struct {
	io.ReadCloser
	lift   func()
	lifted bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) && !b.lifted {
		b.lifted = true
		b.lift()
	}
	return n, err
}

// connLimiter is a listener that lets each client address hold at most max
// connections at once; a connection beyond that is closed as soon as it is
// accepted. An IPv6 client is counted by its /64, which one host commonly
// has to itself. Connections from trusted proxies are not counted: a proxy
// speaks for many clients and limits them itself.
type connLimiter struct {
	net.Listener
	max     int
	trusted []*net.IPNet

	mu   sync.Mutex
	open map[netip.Prefix]int
}

func newConnLimiter(ln net.Listener, max int, trusted []*net.IPNet) *connLimiter {
	return &connLimiter{Listener: ln, max: max, trusted: trusted, open: map[netip.Prefix]int{}}
}

// Accept returns the next connection whose client may open one more.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		client, counted := l.clientOf(c)
		if !counted {
			return c, nil
		}
		l.mu.Lock()
		full := l.open[client] >= l.max
		if !full {
			l.open[client]++
		}
		l.mu.Unlock()
		if full {
			c.Close()
			continue
		}
		return &countedConn{Conn: c, release: func() { l.release(client) }}, nil
	}
}

// clientOf is the address a connection counts against, and whether it
// counts at all.
func (l *connLimiter) clientOf(c net.Conn) (netip.Prefix, bool) {
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return netip.Prefix{}, false
	}
	addr := ap.Addr().Unmap()
	for _, n := range l.trusted {
		if n.Contains(addr.AsSlice()) {
			return netip.Prefix{}, false
		}
	}
	bits := 32
	if addr.Is6() {
		bits = 64
	}
	p, _ := addr.Prefix(bits)
	return p, true
}

func (l *connLimiter) release(client netip.Prefix) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[client]--; l.open[client] <= 0 {
		delete(l.open, client)
	}
}

// countedConn gives its client's place back when it is closed, once.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// CloseWrite half-closes the connection, as the HTTP server does before it
// hangs up on a client whose request it will not read further, so that the
// client still gets the answer.
func (c *countedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
