package live

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

const (
	// heartbeatInterval keeps proxies from closing a quiet stream.
	heartbeatInterval = 20 * time.Second
	// reconnectDelay is the pause the browser takes before reconnecting.
	reconnectDelay = 2 * time.Second
	// pausedDelay is the pause before a stream closed to make room for the
	// owner's newer ones reconnects: long enough not to push another out at
	// once.
	pausedDelay = time.Minute
	// streamBuffer is how many messages a stream may fall behind before it
	// is dropped; the browser then reconnects and catches up.
	streamBuffer = 16
)

// Messages that end a stream: the page reconnects later (the owner opened too
// many streams), or learns it was signed out and stops.
var (
	pausedMessage = []byte(fmt.Sprintf("retry: %d\n\n", pausedDelay.Milliseconds()) +
		string(Message("paused", "Too many live pages are open; this one resumes in a minute.")))
	signedOutMessage = Message("signedout", "")
)

// Stream is one open Server-Sent Events connection.
type Stream struct {
	owner Owner
	kind  Kind
	// Key is what the stream's kind groups it by: the view it shows, the
	// item it tails.
	Key any

	out  chan []byte   // messages the dispatcher made for it
	kick chan struct{} // holds at most one nudge: many collapse into one

	endOnce sync.Once
	ended   chan struct{}
	last    []byte // what to send as it ends, if anything
}

// Owner is whom the stream serves.
func (st *Stream) Owner() Owner { return st.owner }

// Send queues a message without waiting; a stream too far behind is ended,
// and its browser reconnects and catches up.
func (st *Stream) Send(msg []byte) {
	select {
	case st.out <- msg:
	default:
		st.end(nil)
	}
}

// Nudge asks the stream's subscriber to look again, without waiting.
func (st *Stream) Nudge() {
	select {
	case st.kick <- struct{}{}:
	default:
	}
}

// end ends the stream, sending msg (if any) as its last words.
func (st *Stream) end(msg []byte) {
	st.endOnce.Do(func() {
		st.last = msg
		close(st.ended)
	})
}

// Subscriber is a stream's own part: what it sends when it opens, and when
// it is nudged.
type Subscriber interface {
	// CatchUp is what the stream sends first: what changed since its page
	// was read, read once the stream is registered (so no later change is
	// missed) and before the response starts (so a browser that sees the
	// response has it all). more is false when that is all the stream will
	// ever send; an error is answered instead of the stream.
	CatchUp(ctx context.Context) (first []byte, more bool, err error)
	// Nudged sends what changed since; send writes at once and reports
	// false once the browser is gone. It returns false to end the stream.
	Nudged(ctx context.Context, send func([]byte) bool) bool
}

// Serve is the one lifecycle of every stream: the subscriber's catch-up, the
// response's head and the reconnection delay, then the dispatcher's
// messages, the subscriber's nudges and a heartbeat, until the browser
// goes, the stream is ended (too slow, pushed out by newer streams, its
// session ended) or the server stops. The session is looked at again when
// it would end by itself.
//
// The stream takes the connection over from the HTTP server and goes on in
// a goroutine of its own, so that Serve returns once it is under way: a
// stream then holds its connection, its state and a small goroutine, not
// the server's buffers, the request and the handler's deep stack, which
// with thousands of streams open is most of their memory. The catch-up's
// error is returned before anything was written.
func (e *Engine) Serve(ctx context.Context, w http.ResponseWriter, st *Stream, sub Subscriber) error {
	first, more, err := sub.CatchUp(ctx)
	if err != nil {
		e.close(st)
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	conn, err := takeOver(w)
	if err != nil {
		e.close(st)
		return err
	}
	c := &streamConn{conn: conn}
	if !c.send(append(fmt.Appendf(nil, "retry: %d\n\n", reconnectDelay.Milliseconds()), first...)) || !more {
		conn.Close()
		e.close(st)
		return nil
	}
	go e.run(c, st, sub)
	return nil
}

// takeOver takes the connection from the HTTP server and writes the
// response's head, with the headers set so far. The body then runs until
// the connection closes, which is how an event stream ends.
func takeOver(w http.ResponseWriter) (net.Conn, error) {
	// What the browser sends after the request is no concern of a
	// stream's: the server's buffers are left behind.
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, fmt.Errorf("live: take the connection over: %w", err)
	}
	var head bytes.Buffer
	head.WriteString("HTTP/1.1 200 OK\r\n")
	w.Header().Write(&head)
	head.WriteString("Connection: close\r\n\r\n")
	c := &streamConn{conn: conn}
	if !c.send(head.Bytes()) {
		conn.Close()
		return nil, errors.New("live: the browser went before the stream began")
	}
	return conn, nil
}

// writeTimeout bounds one write to a stream: a browser that takes no more
// for this long is gone.
const writeTimeout = 10 * time.Second

// streamConn is a stream's connection.
type streamConn struct{ conn net.Conn }

// send writes at once; false means the browser is gone.
func (c *streamConn) send(b []byte) bool {
	c.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := c.conn.Write(b)
	return err == nil
}

// run serves a stream once it is under way, until it ends.
func (e *Engine) run(c *streamConn, st *Stream, sub Subscriber) {
	defer e.close(st)
	defer c.conn.Close()
	// A browser that goes closes the connection: a read then returns, and
	// the stream ends at once rather than at its next write. The reader
	// is a goroutine with nothing on its stack.
	go func() {
		var b [1]byte
		for {
			if _, err := c.conn.Read(b[:]); err != nil {
				st.end(nil)
				return
			}
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	heartbeat := time.NewTicker(heartbeatInterval)
	defer heartbeat.Stop()
	sessionEnds := time.NewTimer(e.untilEnds(st.owner.Ends))
	defer sessionEnds.Stop()
	for {
		select {
		case <-e.shutdown:
			return
		case <-st.ended:
			if st.last != nil {
				c.send(st.last)
			}
			return
		case msg := <-st.out:
			if !c.send(msg) {
				return
			}
		case <-st.kick:
			if !sub.Nudged(ctx, c.send) {
				return
			}
		case <-heartbeat.C:
			if !c.send([]byte(": heartbeat\n\n")) {
				return
			}
		case <-sessionEnds.C:
			ends, ok := st.owner.Renew(ctx)
			if !ok {
				c.send(signedOutMessage)
				return
			}
			sessionEnds.Reset(max(e.untilEnds(ends), renewFloor))
		}
	}
}

// renewFloor is the least time between two looks at a session that the
// store says lives on, so that a session whose end is no later than now
// (on a skewed clock) is not asked about again at once.
const renewFloor = time.Second

// untilEnds is how long until a session ends, by the engine's clock; a day
// when its end is not known.
func (e *Engine) untilEnds(ends time.Time) time.Duration {
	if ends.IsZero() {
		return 24 * time.Hour
	}
	return max(ends.Sub(e.now()), 0)
}

// Message is one Server-Sent Events message. Every line of the data gets its
// own "data:" field; carriage returns count as line ends in SSE, so they are
// folded into newlines first.
func Message(name, data string) []byte {
	data = strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(strings.TrimSpace(data))
	var b strings.Builder
	b.WriteString("event: " + name + "\n")
	for _, line := range strings.Split(data, "\n") {
		b.WriteString("data: " + line + "\n")
	}
	b.WriteString("\n")
	return []byte(b.String())
}
