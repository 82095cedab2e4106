package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/views"
	"github.com/labstack/echo/v4"
)

// Live updates of the view (§3) over Server-Sent Events. The store's hub says
// which item changed; one dispatcher per process re-reads it once, checks who
// may see it, and for each open view that may renders the row and the summary
// once and hands the bytes to that view's streams.
const (
	// heartbeatInterval keeps proxies from closing a quiet stream.
	heartbeatInterval = 20 * time.Second
	// reconnectDelay is the pause the browser takes before reconnecting.
	reconnectDelay = 2 * time.Second
	// streamBuffer is how many messages a stream may fall behind before it
	// is dropped; the browser then reconnects and catches up.
	streamBuffer = 32
	// hubBuffer is how many hints the dispatcher may fall behind before the
	// hub drops it; it then subscribes again and re-renders every view.
	hubBuffer = 4096
	// seenParam carries, in the /events address, the digest of the results
	// the page shows, so a (re)connection sends them only when they changed.
	seenParam = "seen"
)

// errShuttingDown refuses new streams once the server is stopping.
var errShuttingDown = echo.NewHTTPError(http.StatusServiceUnavailable, "The server is restarting; live updates resume in a moment.")

// handleEvents streams live updates of the view named by the query string
// (the same parameters as /) to one signed-in viewer.
func (s *Server) handleEvents(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewerOf(c)
	q, err := viewQuery(c)
	if err != nil {
		return err
	}
	seen := q.Get(seenParam)
	q.Del(seenParam)
	f, _ := app.ParseFilter(q)
	query, f, _, err := s.store.ResolveFilter(ctx, v, f)
	if err != nil {
		return err
	}
	st, err := s.streams.open(ctx, v, f)
	if err != nil {
		return err
	}
	defer s.streams.close(st)

	// Catch up: whatever changed before the stream was registered comes as
	// no hint, so send the results unless the page shows them already. This
	// is read before the response starts, so a client that sees the response
	// has all it needs.
	var catchUp []byte
	data, err := s.viewResults(ctx, query, f)
	if err != nil {
		return err
	}
	if data.Digest != seen {
		data.ResultsOOB = true
		if catchUp, err = s.event("results", "view#results", data); err != nil {
			return err
		}
	}

	w := c.Response()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: %d\n\n", reconnectDelay.Milliseconds())
	w.Write(catchUp)
	w.Flush()

	heartbeat := time.NewTicker(heartbeatInterval)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.streams.shutdown:
			return nil
		case <-st.dropped:
			return nil
		case msg := <-st.out:
			if _, err := w.Write(msg); err != nil {
				return nil
			}
			w.Flush()
		case <-heartbeat.C:
			if _, err := w.Write([]byte(": heartbeat\n\n")); err != nil {
				return nil
			}
			w.Flush()
		}
	}
}

// viewResults reads a page of a view (the first, unless the filter has a
// cursor) and its summary, as the page shows them, with their digest.
func (s *Server) viewResults(ctx context.Context, q app.Query, f app.Filter) (views.ViewPage, error) {
	page, err := s.store.Items(ctx, q, app.PageSize)
	if err != nil {
		return views.ViewPage{}, err
	}
	sum, err := s.store.Summary(ctx, q)
	if err != nil {
		return views.ViewPage{}, err
	}
	data := views.ViewPage{Filter: f, Items: page.Items, Summary: sum, Now: s.store.Now(), Loc: f.Location()}
	if page.Next != nil {
		data.MoreURL = f.WithCursor(*page.Next).URL()
	}
	data.Digest = resultsDigest(sum, page.Items)
	data.LiveURL = liveURL(f, data.Digest)
	return data, nil
}

// resultsDigest fingerprints what a page of results shows, so that a stream
// can tell whether the page it serves is still true.
func resultsDigest(sum app.Summary, items []*app.Item) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d %d %d\n", sum.Items, sum.Working, sum.Credits)
	for _, it := range items {
		fmt.Fprintf(h, "%s %s %d %d %d %d %q\n", it.ID, it.Status, it.UpdatedAt.UnixMicro(),
			it.FinishedAt.UnixMicro(), it.Inference, it.Compute, it.Title)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// liveURL is the /events address of a view whose page shows results with the
// given digest.
func liveURL(f app.Filter, digest string) string {
	u := "/events?"
	if q := f.Encode(); q != "" {
		u += q + "&"
	}
	return u + seenParam + "=" + digest
}

// event renders a template as one SSE message. Every line of the data gets
// its own "data:" field; carriage returns count as line ends in SSE, so they
// are folded into newlines first.
func (s *Server) event(name, template string, data any) ([]byte, error) {
	var buf bytes.Buffer
	if err := s.views.Render(&buf, template, data); err != nil {
		return nil, err
	}
	return sseMessage(name, buf.String()), nil
}

func sseMessage(name, data string) []byte {
	data = strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(strings.TrimSpace(data))
	var b strings.Builder
	b.WriteString("event: " + name + "\n")
	for _, line := range strings.Split(data, "\n") {
		b.WriteString("data: " + line + "\n")
	}
	b.WriteString("\n")
	return []byte(b.String())
}

// viewKey identifies the streams that show the same thing: one viewer, one
// canonical filter.
type viewKey struct {
	userID int64
	filter string
}

// stream is one open /events connection.
type stream struct {
	key      viewKey
	filter   app.Filter
	out      chan []byte
	dropped  chan struct{}
	dropOnce sync.Once
}

// send queues a message without waiting; a stream too far behind is dropped.
func (st *stream) send(msg []byte) {
	select {
	case st.out <- msg:
	default:
		st.drop()
	}
}

func (st *stream) drop() { st.dropOnce.Do(func() { close(st.dropped) }) }

// streams holds the open streams (views by view, session tails by item) and
// runs the dispatcher while any is open, so that an idle server holds no
// goroutine and no subscription.
type streams struct {
	srv *Server

	mu       sync.Mutex
	views    map[viewKey]map[*stream]struct{}
	tails    map[string]map[*tail]struct{} // by item id
	count    int                           // open streams of both kinds
	stop     chan struct{}                 // stops the running dispatcher; nil when none runs
	done     chan struct{}                 // closed when that dispatcher has returned
	shutdown chan struct{}                 // closed when the server stops: every stream ends
	closed   bool
}

func newStreams(srv *Server) *streams {
	return &streams{srv: srv, views: map[viewKey]map[*stream]struct{}{}, tails: map[string]map[*tail]struct{}{},
		shutdown: make(chan struct{})}
}

// open registers a stream, starting the dispatcher for the first one. It
// returns once hints about later writes are sure to reach the stream.
func (ss *streams) open(ctx context.Context, v app.Viewer, f app.Filter) (*stream, error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if err := ss.startLocked(ctx); err != nil {
		return nil, err
	}
	st := &stream{key: viewKey{v.User.ID, f.Encode()}, filter: f, out: make(chan []byte, streamBuffer), dropped: make(chan struct{})}
	addToSet(ss.views, st.key, st)
	return st, nil
}

// close unregisters a stream; the last one out stops the dispatcher and
// waits for it.
func (ss *streams) close(st *stream) {
	ss.mu.Lock()
	removeFromSet(ss.views, st.key, st)
	stop, done := ss.releaseLocked()
	ss.mu.Unlock()
	stopDispatcher(stop, done)
}

// startLocked counts a new stream in, starting the dispatcher for the first
// one; ss.mu is held. It returns once hints about later writes are sure to
// reach the dispatcher.
func (ss *streams) startLocked(ctx context.Context) error {
	if ss.closed {
		return errShuttingDown
	}
	if ss.stop == nil {
		sub, err := ss.srv.store.Hub().Subscribe(ctx, hubBuffer)
		if err != nil {
			return fmt.Errorf("handlers: live updates: %w", err)
		}
		ss.stop, ss.done = make(chan struct{}), make(chan struct{})
		go ss.dispatch(sub, ss.stop, ss.done)
	}
	ss.count++
	return nil
}

// releaseLocked counts a stream out; ss.mu is held. For the last one out it
// returns the running dispatcher's channels, to stop it once the lock is
// released.
func (ss *streams) releaseLocked() (stop, done chan struct{}) {
	ss.count--
	if ss.count == 0 && ss.stop != nil {
		stop, done = ss.stop, ss.done
		ss.stop, ss.done = nil, nil
	}
	return stop, done
}

// stopDispatcher stops a dispatcher and waits for it; nil channels mean
// there is none to stop.
func stopDispatcher(stop, done chan struct{}) {
	if stop != nil {
		close(stop)
		<-done
	}
}

// CloseStreams ends every live stream and refuses new ones. Streams never end
// on their own, so a graceful shutdown would wait for them in vain: Serve
// calls this as its shutdown begins, and whoever serves the handler on an
// http.Server of their own (as tests do) must call it before closing that.
func (s *Server) CloseStreams() { s.streams.closeAll() }

func (ss *streams) closeAll() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if !ss.closed {
		ss.closed = true
		close(ss.shutdown)
	}
}

// dispatch turns hints into messages for the views, and into nudges for the
// session tails (tail.go), until stopped. Hints that queued up while it
// worked are taken together, so a burst costs one pass.
func (ss *streams) dispatch(sub *app.Subscription, stop, done chan struct{}) {
	defer close(done)
	defer func() { sub.Close() }()
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
			// and re-render every view, since hints were lost.
			sub.Close()
			var err error
			if sub, err = ss.resubscribe(stop); err != nil {
				ss.srv.log.Error("live updates stopped", "err", err)
				ss.dropAll()
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
		ss.kickTails(hints)
		ss.apply(hints)
	}
}

// resubscribe subscribes again, giving up when stopped or after a while.
func (ss *streams) resubscribe(stop <-chan struct{}) (*app.Subscription, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ss.srv.store.Hub().Subscribe(ctx, hubBuffer)
}

// dropAll ends every open stream, views and tails; browsers reconnect and
// catch up.
func (ss *streams) dropAll() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for _, group := range ss.views {
		for st := range group {
			st.drop()
		}
	}
	for _, group := range ss.tails {
		for t := range group {
			t.drop()
		}
	}
}

// snapshot copies the open streams by view, so that the dispatcher reads
// and renders without holding the lock.
func (ss *streams) snapshot() map[viewKey][]*stream {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	out := make(map[viewKey][]*stream, len(ss.views))
	for k, group := range ss.views {
		for st := range group {
			out[k] = append(out[k], st)
		}
	}
	return out
}

// apply sends what the hints mean to every open stream. Visibility is decided
// afresh for every hint and every viewer: the viewers (and their teams) are
// re-read, and an item a viewer may not see sends that viewer nothing at all.
func (ss *streams) apply(hints []app.Hint) {
	s := ss.srv
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	open := ss.snapshot()
	if len(open) == 0 {
		return
	}
	var ids []string
	seenID := map[string]bool{}
	for _, h := range hints {
		if h.Resync() {
			ss.resync(ctx, open)
			return
		}
		if !h.Events && !seenID[h.ItemID] {
			seenID[h.ItemID] = true
			ids = append(ids, h.ItemID)
		}
	}
	if len(ids) == 0 {
		return
	}

	keysOf := map[int64][]viewKey{}
	var userIDs []int64
	for k := range open {
		if keysOf[k.userID] == nil {
			userIDs = append(userIDs, k.userID)
		}
		keysOf[k.userID] = append(keysOf[k.userID], k)
	}
	byID, err := s.store.Viewers(ctx, userIDs)
	if err != nil {
		s.log.Error("live updates: load viewers", "err", err)
		return
	}
	viewers := make([]app.Viewer, 0, len(byID))
	for _, id := range userIDs {
		v, ok := byID[id]
		if !ok { // the user was removed: their streams end
			for _, k := range keysOf[id] {
				for _, st := range open[k] {
					st.drop()
				}
			}
			continue
		}
		viewers = append(viewers, v)
	}

	queries := map[viewKey]app.Query{}
	queryOf := func(k viewKey, v app.Viewer) (app.Query, error) {
		if q, ok := queries[k]; ok {
			return q, nil
		}
		q, _, _, err := s.store.ResolveFilter(ctx, v, open[k][0].filter)
		queries[k] = q
		return q, err
	}
	var touched []viewKey
	isTouched := map[viewKey]bool{}
	for _, id := range ids {
		it, seers, err := s.store.ItemSeenBy(ctx, id, viewers)
		if errors.Is(err, app.ErrNotFound) {
			continue
		}
		if err != nil {
			s.log.Error("live updates: read item", "item", id, "err", err)
			continue
		}
		for _, v := range seers {
			for _, k := range keysOf[v.User.ID] {
				q, err := queryOf(k, v)
				if err != nil {
					s.log.Error("live updates: resolve view", "err", err)
					continue
				}
				msg, err := ss.itemMessage(ctx, q, it, open[k][0].filter)
				if err != nil {
					s.log.Error("live updates: render item", "item", id, "err", err)
					continue
				}
				for _, st := range open[k] {
					st.send(msg)
				}
				if !isTouched[k] {
					isTouched[k] = true
					touched = append(touched, k)
				}
			}
		}
	}
	for _, k := range touched {
		sum, err := s.store.Summary(ctx, queries[k])
		if err != nil {
			s.log.Error("live updates: summary", "err", err)
			continue
		}
		msg, err := s.event("summary", "view#summary", views.ViewPage{Summary: sum, SummaryOOB: true})
		if err != nil {
			s.log.Error("live updates: render summary", "err", err)
			continue
		}
		for _, st := range open[k] {
			st.send(msg)
		}
	}
}

// itemMessage is the row of an item that matches the view, to replace or
// insert, or the item's id to take out of a view it no longer matches.
func (ss *streams) itemMessage(ctx context.Context, q app.Query, it *app.Item, f app.Filter) ([]byte, error) {
	in, err := ss.srv.store.InView(ctx, q, it.ID)
	if err != nil {
		return nil, err
	}
	if !in {
		return sseMessage("gone", it.ID), nil
	}
	return ss.srv.event("item", "view#row", views.RowData{Item: it, Now: ss.srv.store.Now(), Loc: f.Location()})
}

// resync re-renders the results of every open view, after hints were lost.
func (ss *streams) resync(ctx context.Context, open map[viewKey][]*stream) {
	s := ss.srv
	userIDs := make([]int64, 0, len(open))
	for k := range open {
		userIDs = append(userIDs, k.userID)
	}
	byID, err := s.store.Viewers(ctx, userIDs)
	if err != nil {
		s.log.Error("live updates: load viewers", "err", err)
		return
	}
	for k, group := range open {
		v, ok := byID[k.userID]
		if !ok {
			for _, st := range group {
				st.drop()
			}
			continue
		}
		msg, err := ss.resultsMessage(ctx, v, group[0].filter)
		if err != nil {
			s.log.Error("live updates: re-render view", "err", err)
			continue
		}
		for _, st := range group {
			st.send(msg)
		}
	}
}

func (ss *streams) resultsMessage(ctx context.Context, v app.Viewer, f app.Filter) ([]byte, error) {
	q, f, _, err := ss.srv.store.ResolveFilter(ctx, v, f)
	if err != nil {
		return nil, err
	}
	data, err := ss.srv.viewResults(ctx, q, f)
	if err != nil {
		return nil, err
	}
	data.ResultsOOB = true
	return ss.srv.event("results", "view#results", data)
}

// addToSet puts v in the set m keeps under k, making the set when needed.
func addToSet[K comparable, V comparable](m map[K]map[V]struct{}, k K, v V) {
	if m[k] == nil {
		m[k] = map[V]struct{}{}
	}
	m[k][v] = struct{}{}
}

// removeFromSet takes v out of the set under k, and drops the set once empty.
func removeFromSet[K comparable, V comparable](m map[K]map[V]struct{}, k K, v V) {
	delete(m[k], v)
	if len(m[k]) == 0 {
		delete(m, k)
	}
}
