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
	// SessionEnded names, instead of an item, a sign-in session that ended
	// (by its hash, SessionKey): whatever it keeps open, live streams above
	// all, must end with it, in every replica.
	SessionEnded string
	// SessionChanged, UserChanged and TeamChanged name, instead of an item,
	// a session whose user or data changed, a user whose profile, teams or
	// roles changed, or a team that was renamed: the copies that every
	// replica keeps of them (storeCache) are stale.
	SessionChanged string
	UserChanged    int64
	TeamChanged    int64
	// SavedViewsChanged says that a saved view was kept, renamed or
	// deleted, or someone's landing view changed.
	SavedViewsChanged bool
}

// Resync reports whether the hint asks for everything to be re-read.
func (h Hint) Resync() bool { return h == Hint{} }

// Hub carries hints from the store's writes to everyone showing the data: in
// this process on SQLite, and across every replica sharing the database on
// PostgreSQL (LISTEN/NOTIFY). Store.Hub returns the store's hub.
type Hub interface {
	// Publish announces hints. They are throttled (see coalesceWindow): a
	// burst of writes to one item is one or two hints, never one per write.
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

// Hints are throttled per hint: the first goes out after coalesceLead (which
// gathers writes that land together into one send), and repeats within the
// following coalesceWindow go out once, at its end. A burst of changes to one
// item (status, credits, finished, a stream of log lines) is thus at most two
// hints per window, and a lone change costs no more than coalesceLead.
const (
	coalesceLead   = 5 * time.Millisecond
	coalesceWindow = 50 * time.Millisecond
)

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
	// observe, when set, sees every hint before any subscriber does, so that
	// what the store keeps in memory is dropped before anyone re-reads it.
	observe func([]Hint)

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
	if f.observe != nil {
		f.observe(hints)
	}
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

// coalescer throttles published hints (see coalesceWindow). It runs no
// goroutine of its own: timers send, one send at a time.
type coalescer struct {
	lead, window time.Duration
	send         func([]Hint)
	sendMu       sync.Mutex // keeps sends in order, one at a time

	mu          sync.Mutex
	leading     hintSet // new hints, sent when leadTimer fires
	trailing    hintSet // repeats of recent hints, sent when the window ends
	recent      map[Hint]bool
	leadTimer   *time.Timer // nil when no leading hint waits
	windowTimer *time.Timer // nil when no window is open
	closed      bool
	sending     sync.WaitGroup // timers started and not yet done
}

// hintSet is an ordered set of hints.
type hintSet struct {
	list []Hint
	has  map[Hint]bool
}

func (s *hintSet) add(h Hint) {
	if s.has == nil {
		s.has = map[Hint]bool{}
	}
	if !s.has[h] {
		s.has[h] = true
		s.list = append(s.list, h)
	}
}

// take empties the set and returns what it held.
func (s *hintSet) take() []Hint {
	list := s.list
	*s = hintSet{}
	return list
}

func newCoalescer(lead, window time.Duration, send func([]Hint)) *coalescer {
	return &coalescer{lead: lead, window: window, send: send, recent: map[Hint]bool{}}
}

// add queues hints: new ones for the lead, recent ones for the window's end.
func (c *coalescer) add(hints ...Hint) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	for _, h := range hints {
		if c.recent[h] {
			c.trailing.add(h)
		} else {
			c.leading.add(h)
		}
	}
	if c.leadTimer == nil && len(c.leading.list) > 0 {
		c.sending.Add(1)
		c.leadTimer = time.AfterFunc(c.lead, c.flushLeading)
	}
}

// flushLeading sends the new hints and opens a window in which their repeats
// wait.
func (c *coalescer) flushLeading() {
	defer c.sending.Done()
	c.mu.Lock()
	hints := c.leading.take()
	c.leadTimer = nil
	for _, h := range hints {
		c.recent[h] = true
	}
	if c.windowTimer == nil && len(hints) > 0 && !c.closed {
		c.sending.Add(1)
		c.windowTimer = time.AfterFunc(c.window, c.flushTrailing)
	}
	c.sendInOrder(hints)
}

// flushTrailing ends a window: it sends the repeats that waited, which open
// the next window, or closes it when there were none.
func (c *coalescer) flushTrailing() {
	defer c.sending.Done()
	c.mu.Lock()
	hints := c.trailing.take()
	c.windowTimer = nil
	c.recent = map[Hint]bool{}
	for _, h := range hints {
		c.recent[h] = true
	}
	if len(hints) > 0 && !c.closed {
		c.sending.Add(1)
		c.windowTimer = time.AfterFunc(c.window, c.flushTrailing)
	}
	c.sendInOrder(hints)
}

// sendInOrder takes the send lock before releasing c.mu, so that sends leave
// in the order their hints were taken.
func (c *coalescer) sendInOrder(hints []Hint) {
	c.sendMu.Lock()
	c.mu.Unlock()
	defer c.sendMu.Unlock()
	if len(hints) > 0 {
		c.send(hints)
	}
}

// close sends everything that waits now rather than on its timer, and waits
// for any send in progress.
func (c *coalescer) close() {
	c.mu.Lock()
	c.closed = true
	var stopped int
	for _, t := range []*time.Timer{c.leadTimer, c.windowTimer} {
		if t != nil && t.Stop() {
			stopped++
		}
	}
	c.leadTimer, c.windowTimer = nil, nil
	hints := append(c.leading.take(), c.trailing.take()...)
	c.sendInOrder(hints)
	for range stopped {
		c.sending.Done()
	}
	c.sending.Wait()
}

// memoryHub is the hub of a single process: what is published is delivered
// to this process's subscribers.
type memoryHub struct {
	fan fanout
	co  *coalescer
}

// newMemoryHub hands every hint to observe (which may be nil) first.
func newMemoryHub(observe func([]Hint)) *memoryHub {
	h := &memoryHub{fan: fanout{observe: observe}}
	h.co = newCoalescer(coalesceLead, coalesceWindow, h.fan.deliver)
	return h
}

// hearsAll is true: every write of the database is this process's own.
func (h *memoryHub) hearsAll() bool { return true }

func (h *memoryHub) Publish(hints ...Hint) { h.co.add(hints...) }

func (h *memoryHub) Subscribe(ctx context.Context, buffer int) (*Subscription, error) {
	return h.fan.add(buffer, func(s *Subscription) { h.fan.remove(s) })
}

func (h *memoryHub) Close() error {
	h.co.close()
	h.fan.closeAll()
	return nil
}
