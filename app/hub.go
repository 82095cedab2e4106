package app

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Hint says that something a view shows may have changed. It is only a hint:
// whoever receives one re-reads from the database what it means for them, so
// a hint carries no data and a lost or repeated one does no harm beyond
// staleness or a wasted read.
type Hint struct {
	// ItemID is the item that changed. Empty asks for everything to be
	// re-read, because hints may have been missed.
	ItemID string
	// Events marks a hint about events appended to the item (its session's
	// tail) rather than about the item's own fields.
	Events bool
}

// Resync reports whether the hint asks for everything to be re-read.
func (h Hint) Resync() bool { return h.ItemID == "" }

// Hub carries hints from the store's writes to everyone showing the data: in
// this process on SQLite, and across every replica sharing the database on
// PostgreSQL (LISTEN/NOTIFY). Store.Hub returns the store's hub.
type Hub interface {
	// Publish announces hints. They go out together after a short delay, each
	// distinct hint once, so a burst of writes to one item is one hint.
	Publish(hints ...Hint)
	// Subscribe returns a subscription that receives every hint published
	// from the moment Subscribe returns, in any replica. Its channel holds at
	// most buffer hints: a subscriber that falls further behind is dropped
	// (its channel is closed), never waited for.
	Subscribe(ctx context.Context, buffer int) (*Subscription, error)
	// Close sends what is pending, ends every subscription and stops the
	// hub's connections and goroutines.
	Close() error
}

// ErrHubClosed is returned by Subscribe once the hub is closed.
var ErrHubClosed = errors.New("app: the hub is closed")

// coalesceWindow is how long hints wait to be sent, so that a burst of
// changes to one item (status, credits, finished) goes out as one hint.
const coalesceWindow = 50 * time.Millisecond

// Subscription receives hints from a Hub.
type Subscription struct {
	// C delivers hints. It is closed when the subscription ends: Close was
	// called, the subscriber fell behind and was dropped, or the hub closed.
	C <-chan Hint

	c           chan Hint
	unsubscribe func(*Subscription)
	once        sync.Once
}

// Close ends the subscription; calling it again does nothing.
func (s *Subscription) Close() { s.once.Do(func() { s.unsubscribe(s) }) }

// fanout hands hints to the subscriptions of one process without ever
// blocking: a subscription whose buffer is full is dropped.
type fanout struct {
	mu     sync.Mutex
	subs   map[*Subscription]struct{}
	closed bool
}

// add registers a new subscription.
func (f *fanout) add(buffer int, unsubscribe func(*Subscription)) (*Subscription, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, ErrHubClosed
	}
	c := make(chan Hint, max(buffer, 1))
	s := &Subscription{C: c, c: c, unsubscribe: unsubscribe}
	if f.subs == nil {
		f.subs = map[*Subscription]struct{}{}
	}
	f.subs[s] = struct{}{}
	return s, nil
}

// remove ends s if it is still registered and returns how many remain. A
// channel is closed only here, under the lock, exactly once.
func (f *fanout) remove(s *Subscription) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.subs[s]; ok {
		delete(f.subs, s)
		close(s.c)
	}
	return len(f.subs)
}

// deliver offers every hint to every subscription, dropping the ones that
// cannot take it at once.
func (f *fanout) deliver(hints []Hint) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		for _, h := range hints {
			select {
			case s.c <- h:
				continue
			default:
			}
			delete(f.subs, s)
			close(s.c)
			break
		}
	}
}

// closeAll ends every subscription and refuses new ones.
func (f *fanout) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for s := range f.subs {
		delete(f.subs, s)
		close(s.c)
	}
}

// coalescer gathers published hints for a short window and sends each
// distinct one once. It runs no goroutine of its own: a timer sends.
type coalescer struct {
	window time.Duration
	send   func([]Hint)

	mu      sync.Mutex
	pending []Hint
	seen    map[Hint]bool
	timer   *time.Timer
	closed  bool
	sending sync.WaitGroup
}

func newCoalescer(window time.Duration, send func([]Hint)) *coalescer {
	return &coalescer{window: window, send: send, seen: map[Hint]bool{}}
}

// add queues hints and starts the window if none is open.
func (c *coalescer) add(hints ...Hint) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	for _, h := range hints {
		if !c.seen[h] {
			c.seen[h] = true
			c.pending = append(c.pending, h)
		}
	}
	if c.timer == nil && len(c.pending) > 0 {
		c.sending.Add(1)
		c.timer = time.AfterFunc(c.window, c.flush)
	}
}

// flush sends what is pending and closes the window.
func (c *coalescer) flush() {
	defer c.sending.Done()
	c.mu.Lock()
	hints := c.pending
	c.pending, c.seen, c.timer = nil, map[Hint]bool{}, nil
	c.mu.Unlock()
	if len(hints) > 0 {
		c.send(hints)
	}
}

// close sends what is pending now rather than at the end of the window, and
// waits for any send in progress.
func (c *coalescer) close() {
	c.mu.Lock()
	c.closed = true
	t := c.timer
	c.mu.Unlock()
	if t != nil && t.Stop() {
		c.flush()
	}
	c.sending.Wait()
}

// memoryHub is the hub of a single process: what is published is delivered
// to this process's subscribers.
type memoryHub struct {
	fan fanout
	co  *coalescer
}

func newMemoryHub() *memoryHub {
	h := &memoryHub{}
	h.co = newCoalescer(coalesceWindow, h.fan.deliver)
	return h
}

func (h *memoryHub) Publish(hints ...Hint) { h.co.add(hints...) }

func (h *memoryHub) Subscribe(ctx context.Context, buffer int) (*Subscription, error) {
	return h.fan.add(buffer, func(s *Subscription) { h.fan.remove(s) })
}

func (h *memoryHub) Close() error {
	h.co.close()
	h.fan.closeAll()
	return nil
}
