// Package live serves agentdeck's live updates over Server-Sent Events: the
// view's rows and summary (Views) and a session page's tail (Tails). One
// Engine holds every open stream and runs, while any is open, one dispatcher
// that turns the store's hints into work for each kind of stream; every
// stream, whatever its kind, goes through one lifecycle (Engine.Serve). The
// engine bounds how many streams are open — per session, per user and in
// all — and ends a session's streams when the session ends, in every
// replica. It knows nothing of the server around it: its kinds get what they
// need (the store, the templates) when they are made.
package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/agentdeck/agentdeck/app"
)

// hubBuffer is how many hints the dispatcher may fall behind before the hub
// drops it; it then subscribes again and asks every stream to catch up.
const hubBuffer = 4096

// Limits bound the open streams. A person who opens more than PerSession
// streams in one browser session, or PerUser in all, has their oldest closed
// first (the page is told to reconnect later); beyond Total, which stays
// below the process's file-descriptor limit so that the health checks and
// the API keep answering, new streams are refused.
type Limits struct {
	PerSession int
	PerUser    int
	Total      int
}

// DefaultLimits allows a person a dozen pages open in a browser and a few
// dozen across browsers, and the process as many streams as leave room,
// below its file-descriptor limit, for the database and everything else.
func DefaultLimits() Limits {
	const reserve = 1024 // descriptors kept for everything but streams
	total := 10_000
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur > 0 && lim.Cur < uint64(total+reserve) {
		total = max(int(lim.Cur)-reserve, 64)
	}
	return Limits{PerSession: 12, PerUser: 40, Total: total}
}

// ErrTooManyStreams refuses a stream beyond Limits.Total.
var ErrTooManyStreams = errors.New("live: too many live streams are open")

// ErrShuttingDown refuses streams once the engine is shut down.
var ErrShuttingDown = errors.New("live: the server is stopping")

// Owner is whom a stream serves: a user, through one sign-in session.
type Owner struct {
	UserID int64
	// Session is the session's key (app.SessionKey): its streams end when
	// it does.
	Session string
	// Ends is when the session ends unless used again; Renew says, then,
	// whether it still lives and until when.
	Ends  time.Time
	Renew func(ctx context.Context) (ends time.Time, ok bool)
}

// Kind is one kind of stream: what the dispatcher does, with a batch of
// hints, for the open streams of that kind.
type Kind interface {
	Dispatch(ctx context.Context, hints []app.Hint, streams []*Stream)
}

// Engine holds the open streams and runs their dispatcher.
type Engine struct {
	hub    app.Hub
	now    func() time.Time
	log    *slog.Logger
	limits Limits

	mu        sync.Mutex
	byKind    map[Kind]map[*Stream]struct{}
	bySession map[string][]*Stream // oldest first
	byUser    map[int64][]*Stream  // oldest first
	count     int
	stop      chan struct{} // stops the running dispatcher; nil when none runs
	done      chan struct{} // closed when that dispatcher has returned
	shutdown  chan struct{} // closed when the server stops: every stream ends
	closed    bool
}

// New makes an engine that listens to hub while streams are open; now is
// the clock sessions' ends are read by (the store's).
func New(hub app.Hub, now func() time.Time, log *slog.Logger, limits Limits) *Engine {
	return &Engine{hub: hub, now: now, log: log, limits: limits, byKind: map[Kind]map[*Stream]struct{}{},
		bySession: map[string][]*Stream{}, byUser: map[int64][]*Stream{}, shutdown: make(chan struct{})}
}

// Open registers a stream of a kind for its owner, under the kind's key for
// it, starting the dispatcher for the first stream. Within the owner's
// limits, it closes the owner's oldest streams to make room. It returns once
// hints about later writes are sure to reach the stream.
func (e *Engine) Open(ctx context.Context, owner Owner, kind Kind, key any) (*Stream, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrShuttingDown
	}
	if e.count >= e.limits.Total {
		return nil, ErrTooManyStreams
	}
	if e.stop == nil {
		sub, err := e.hub.Subscribe(ctx, hubBuffer)
		if err != nil {
			return nil, fmt.Errorf("live: listen for changes: %w", err)
		}
		e.stop, e.done = make(chan struct{}), make(chan struct{})
		go e.dispatch(sub, e.stop, e.done)
	}
	for _, over := range []struct {
		open  []*Stream
		limit int
	}{{e.bySession[owner.Session], e.limits.PerSession}, {e.byUser[owner.UserID], e.limits.PerUser}} {
		for i := 0; i <= len(over.open)-over.limit; i++ {
			over.open[i].end(pausedMessage)
		}
	}
	st := &Stream{owner: owner, kind: kind, Key: key, out: make(chan []byte, streamBuffer),
		kick: make(chan struct{}, 1), ended: make(chan struct{})}
	if e.byKind[kind] == nil {
		e.byKind[kind] = map[*Stream]struct{}{}
	}
	e.byKind[kind][st] = struct{}{}
	e.bySession[owner.Session] = append(e.bySession[owner.Session], st)
	e.byUser[owner.UserID] = append(e.byUser[owner.UserID], st)
	e.count++
	return st, nil
}

// close unregisters a stream; the last one out stops the dispatcher and
// waits for it.
func (e *Engine) close(st *Stream) {
	e.mu.Lock()
	delete(e.byKind[st.kind], st)
	if len(e.byKind[st.kind]) == 0 {
		delete(e.byKind, st.kind)
	}
	e.bySession[st.owner.Session] = without(e.bySession[st.owner.Session], st)
	if len(e.bySession[st.owner.Session]) == 0 {
		delete(e.bySession, st.owner.Session)
	}
	e.byUser[st.owner.UserID] = without(e.byUser[st.owner.UserID], st)
	if len(e.byUser[st.owner.UserID]) == 0 {
		delete(e.byUser, st.owner.UserID)
	}
	e.count--
	var stop, done chan struct{}
	if e.count == 0 && e.stop != nil {
		stop, done = e.stop, e.done
		e.stop, e.done = nil, nil
	}
	e.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

func without(list []*Stream, st *Stream) []*Stream {
	return slices.DeleteFunc(list, func(x *Stream) bool { return x == st })
}

// Count is how many streams are open.
func (e *Engine) Count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.count
}

// Shutdown ends every stream and refuses new ones. Streams never end on
// their own, so a graceful shutdown would wait for them in vain.
func (e *Engine) Shutdown() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.closed {
		e.closed = true
		close(e.shutdown)
	}
}

// dispatch turns hints into work for the streams until stopped. Hints that
// queued up while it worked are taken together, so a burst costs one pass.
func (e *Engine) dispatch(sub *app.Subscription, stop, done chan struct{}) {
	defer close(done)
	defer func() {
		if sub != nil {
			sub.Close()
		}
	}()
	for {
		var hints []app.Hint
		select {
		case <-stop:
			return
		case h, ok := <-sub.C:
			if ok {
				hints = append(hints, h)
				break
			}
			// Dropped for falling behind, or the hub closed: subscribe again
			// and ask every stream to catch up, since hints were lost.
			sub.Close()
			var err error
			if sub, err = e.resubscribe(stop); err != nil {
				e.log.Error("live updates stopped", "err", err)
				e.endAll(nil)
				<-stop
				return
			}
			hints = append(hints, app.Hint{})
		}
	drain:
		for {
			select {
			case h, ok := <-sub.C:
				if !ok {
					break drain
				}
				hints = append(hints, h)
			default:
				break drain
			}
		}
		e.apply(hints)
	}
}

// apply ends the streams of sessions that ended, then hands the hints to
// each kind with its streams.
func (e *Engine) apply(hints []app.Hint) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e.mu.Lock()
	for _, h := range hints {
		for _, st := range e.bySession[h.SessionEnded] {
			st.end(signedOutMessage)
		}
	}
	open := make(map[Kind][]*Stream, len(e.byKind))
	for kind, set := range e.byKind {
		for st := range set {
			open[kind] = append(open[kind], st)
		}
	}
	e.mu.Unlock()
	for kind, streams := range open {
		kind.Dispatch(ctx, hints, streams)
	}
}

// resubscribe subscribes again, giving up when stopped or after a while.
func (e *Engine) resubscribe(stop <-chan struct{}) (*app.Subscription, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	return e.hub.Subscribe(ctx, hubBuffer)
}

// endAll ends every open stream with msg; browsers reconnect and catch up.
func (e *Engine) endAll(msg []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, set := range e.byKind {
		for st := range set {
			st.end(msg)
		}
	}
}
