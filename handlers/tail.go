package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/views"
	"github.com/labstack/echo/v4"
)

// The live tail of a session page (§5). While an item works, its page holds
// a stream, BASE/events/stream (BASE being /runs/ID or /share/TOKEN), that
// appends the events stored after the last one the page shows and replaces
// the page's head when the item changes. A hint from the hub only nudges a
// tail: it then re-reads the item, as its viewer may see it, and the events
// after the last seq it sent. Once the item is final the tail sends what
// remains, the final head and "end", and closes.
//
// Events are numbered by their clients and shown in seq order: the tail
// appends those numbered after the last one sent. An event that arrives late
// with a lower seq than one already shown appears when the page is loaded
// again.

// afterParam names, in the tail's address, the last seq the page shows.
const afterParam = "after"

// itemLoader reads the item a tail follows as the viewer may see it, or
// returns ErrNotFound when they may not (or no longer).
type itemLoader func(ctx context.Context, v app.Viewer) (*app.Item, error)

// handleRunTail streams the session of an item the viewer may see.
func (s *Server) handleRunTail(c echo.Context) error {
	id := c.Param("id")
	return s.serveTail(c, func(ctx context.Context, v app.Viewer) (*app.Item, error) { return s.store.Item(ctx, v, id) })
}

// handleShareTail streams the session of an item read through its share
// link.
func (s *Server) handleShareTail(c echo.Context) error {
	token := c.Param("token")
	return s.serveTail(c, func(ctx context.Context, v app.Viewer) (*app.Item, error) {
		return s.store.SharedItem(ctx, v, token)
	})
}

// serveTail serves one tail stream. The item is read first, so that whoever
// may not see it gets 404 and nothing else.
func (s *Server) serveTail(c echo.Context, load itemLoader) error {
	after, err := tailStart(c.Request())
	if err != nil {
		return err
	}
	v := viewerOf(c)
	it, err := load(c.Request().Context(), v)
	if err != nil {
		return err
	}
	t, err := s.streams.openTail(c.Request().Context(), it.ID)
	if err != nil {
		return err
	}
	defer s.streams.closeTail(t)

	// The stream ends with the request, at shutdown, or when dropped;
	// cancelling ctx also stops a read in progress.
	ctx, cancel := context.WithCancel(c.Request().Context())
	defer cancel()
	go func() {
		select {
		case <-s.streams.shutdown:
		case <-t.dropped:
		case <-ctx.Done():
		}
		cancel()
	}()

	w := c.Response()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	f := &follower{srv: s, w: w, userID: v.User.ID, load: load, last: after, head: c.QueryParam(seenParam), loc: viewerZone(c)}
	if !f.write(fmt.Appendf(nil, "retry: %d\n\n", reconnectDelay.Milliseconds())) {
		return nil
	}
	// Catch up: the tail is registered, so whatever this pass misses comes
	// with a nudge.
	if !f.pass(ctx) {
		return nil
	}
	heartbeat := time.NewTicker(heartbeatInterval)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-heartbeat.C:
			if !f.write([]byte(": heartbeat\n\n")) {
				return nil
			}
		case <-t.kick:
			if !f.pass(ctx) {
				return nil
			}
		}
	}
}

// tailStart is the last seq the page shows: the larger of the address's
// "after" and the Last-Event-ID a reconnecting browser sends.
func tailStart(r *http.Request) (int64, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return 0, echo.NewHTTPError(http.StatusBadRequest, "The address of this live tail is malformed.")
	}
	var after int64
	for _, raw := range []string{q.Get(afterParam), r.Header.Get("Last-Event-ID")} {
		if raw == "" {
			continue
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 {
			return 0, echo.NewHTTPError(http.StatusBadRequest, "The log position of this live tail is malformed; it must be a whole number.")
		}
		after = max(after, n)
	}
	return after, nil
}

// follower is the state of one tail stream.
type follower struct {
	srv    *Server
	w      *echo.Response
	userID int64
	load   itemLoader
	last   int64  // the last seq sent (or shown by the page)
	head   string // the digest of the head the page shows
	loc    *time.Location
}

// write sends bytes at once; false means the client is gone.
func (f *follower) write(b []byte) bool {
	if _, err := f.w.Write(b); err != nil {
		return false
	}
	f.w.Flush()
	return true
}

// pass sends what changed since the last pass: the events after the last
// one sent, in seq order, then the head if the item changed. It reports
// whether the tail goes on: not once the item is final, nor when the viewer
// may no longer see it (then nothing more is told), nor after an error.
func (f *follower) pass(ctx context.Context) bool {
	s := f.srv
	// The viewer is read afresh, teams included: visibility is decided
	// again on every pass.
	v, err := s.store.Viewer(ctx, f.userID)
	var it *app.Item
	if err == nil {
		it, err = f.load(ctx, v)
	}
	if errors.Is(err, app.ErrNotFound) {
		f.write(sseMessage("end", ""))
		return false
	}
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("live tail: read item", "err", err)
		}
		return false
	}
	for {
		page, err := s.store.Events(ctx, it.ID, app.EventQuery{After: f.last, Limit: app.MaxEventBatch})
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("live tail: read events", "item", it.ID, "err", err)
			}
			return false
		}
		if len(page.Events) == 0 {
			break
		}
		msg, err := s.eventsMessage(page.Events)
		if err != nil {
			s.log.Error("live tail: render events", "item", it.ID, "err", err)
			return false
		}
		if !f.write(msg) {
			return false
		}
		f.last = page.Events[len(page.Events)-1].Seq
		if !page.More {
			break
		}
	}
	if digest := headDigest(it); digest != f.head {
		msg, err := s.event("head", "run#head", views.RunPage{Item: it, Now: s.store.Now(), Loc: f.loc})
		if err != nil {
			s.log.Error("live tail: render head", "item", it.ID, "err", err)
			return false
		}
		if !f.write(msg) {
			return false
		}
		f.head = digest
	}
	if it.Status.Final() {
		f.write(sseMessage("end", ""))
		return false
	}
	return true
}

// eventsMessage renders a page of events (in seq order) as one SSE message
// per kind, each with the block its section uses. The last message carries
// the page's last seq as its id, which a reconnecting browser sends back:
// only then has everything up to it been sent.
func (s *Server) eventsMessage(events []*app.Event) ([]byte, error) {
	kinds := []struct {
		typ   app.EventType
		name  string
		block string
	}{
		{app.EventMessage, "messages", "run#messages"},
		{app.EventLog, "logs", "run#logs"},
		{app.EventOutput, "outputs", "run#outputs"},
	}
	byType := map[app.EventType][]*app.Event{}
	for _, e := range events {
		byType[e.Type] = append(byType[e.Type], e)
	}
	var msgs [][]byte
	for _, k := range kinds {
		if len(byType[k.typ]) == 0 {
			continue
		}
		msg, err := s.event(k.name, k.block, byType[k.typ])
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, msg)
	}
	last := len(msgs) - 1
	msgs[last] = append(fmt.Appendf(nil, "id: %d\n", events[len(events)-1].Seq), msgs[last]...)
	return bytes.Join(msgs, nil), nil
}

// headDigest fingerprints what the head shows of an item that can change,
// so that a tail sends the head only when it did.
func headDigest(it *app.Item) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s %q %d %d %d %d", it.Status, it.Title, it.StartedAt.UnixMicro(), it.FinishedAt.UnixMicro(), it.Inference, it.Compute)
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// tailURL is the address of a page's live tail: base is the page's own
// address, after the last seq it shows and digest its head's.
func tailURL(base string, after int64, digest string) string {
	return base + "/events/stream?" + afterParam + "=" + strconv.FormatInt(after, 10) + "&" + seenParam + "=" + digest
}

// lastSeq is the greatest seq among the events shown.
func lastSeq(lists ...[]*app.Event) int64 {
	var last int64
	for _, events := range lists {
		for _, e := range events {
			last = max(last, e.Seq)
		}
	}
	return last
}

// tail is one open tail stream, nudged when its item may have changed.
type tail struct {
	itemID   string
	kick     chan struct{} // holds at most one nudge: many collapse into one pass
	dropped  chan struct{}
	dropOnce sync.Once
}

// nudge asks the tail for a pass without waiting.
func (t *tail) nudge() {
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

func (t *tail) drop() { t.dropOnce.Do(func() { close(t.dropped) }) }

// openTail registers a tail of an item, starting the dispatcher for the
// first stream. It returns once hints about later writes are sure to reach
// the tail.
func (ss *streams) openTail(ctx context.Context, itemID string) (*tail, error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if err := ss.startLocked(ctx); err != nil {
		return nil, err
	}
	t := &tail{itemID: itemID, kick: make(chan struct{}, 1), dropped: make(chan struct{})}
	addToSet(ss.tails, itemID, t)
	return t, nil
}

// closeTail unregisters a tail; the last stream out stops the dispatcher.
func (ss *streams) closeTail(t *tail) {
	ss.mu.Lock()
	removeFromSet(ss.tails, t.itemID, t)
	stop, done := ss.releaseLocked()
	ss.mu.Unlock()
	stopDispatcher(stop, done)
}

// kickTails nudges the tails of the items the hints name (events appended,
// or the item changed), and every tail when hints were lost.
func (ss *streams) kickTails(hints []app.Hint) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for _, h := range hints {
		if h.Resync() {
			for _, group := range ss.tails {
				for t := range group {
					t.nudge()
				}
			}
			return
		}
		for t := range ss.tails[h.ItemID] {
			t.nudge()
		}
	}
}
