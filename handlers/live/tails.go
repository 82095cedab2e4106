package live

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/views"
)

// Tails is the kind of stream that tails a session page (§5) while its item
// works: it appends the events stored after the last one the page shows and
// replaces the page's head when the item changes. A hint only nudges a tail:
// it then re-reads the item, as its viewer may see it, and the events after
// the last seq it sent. Once the item is final the tail sends what remains,
// the final head and "end", and closes.
//
// Events are shown in seq order: the tail appends those numbered after the
// last one sent. An event that arrives late with a lower seq than one
// already shown appears when the page is loaded again.
type Tails struct {
	store    *app.Store
	renderer *views.Renderer
	log      *slog.Logger
}

// NewTails makes the session tails' kind.
func NewTails(store *app.Store, renderer *views.Renderer, log *slog.Logger) *Tails {
	return &Tails{store: store, renderer: renderer, log: log}
}

// ItemLoader reads the item a tail follows as the viewer may see it, or
// returns app.ErrNotFound when they may not (or no longer).
type ItemLoader func(ctx context.Context, v app.Viewer) (*app.Item, error)

// tailKey groups the tails of one item.
type tailKey string

// Key is what the tails of an item are grouped by.
func (k *Tails) Key(itemID string) any { return tailKey(itemID) }

// Follow is the subscriber of one tail: of the item load reads for the user,
// from after the seq the page shows and the digest of its head, in loc.
func (k *Tails) Follow(userID int64, load ItemLoader, after int64, head string, loc *time.Location) Subscriber {
	return &tailStream{kind: k, userID: userID, load: load, last: after, head: head, loc: loc}
}

// Dispatch nudges the tails of the items the hints name (events appended,
// or the item changed), and every tail when hints were lost.
func (k *Tails) Dispatch(_ context.Context, hints []app.Hint, streams []*Stream) {
	named := map[tailKey]bool{}
	for _, h := range hints {
		if h.Resync() {
			for _, st := range streams {
				st.Nudge()
			}
			return
		}
		if h.ItemID != "" {
			named[tailKey(h.ItemID)] = true
		}
	}
	for _, st := range streams {
		if named[st.Key.(tailKey)] {
			st.Nudge()
		}
	}
}

// tailStream is one tail's state.
type tailStream struct {
	kind   *Tails
	userID int64
	load   ItemLoader
	last   int64  // the last seq sent (or shown by the page)
	head   string // the digest of the head the page shows
	loc    *time.Location
}

// CatchUp is what changed since the page was read.
func (ts *tailStream) CatchUp(ctx context.Context) ([]byte, bool, error) {
	var first bytes.Buffer
	more := ts.pass(ctx, func(b []byte) bool { first.Write(b); return true })
	return first.Bytes(), more, nil
}

// Nudged sends what changed since the last pass.
func (ts *tailStream) Nudged(ctx context.Context, send func([]byte) bool) bool {
	return ts.pass(ctx, send)
}

// pass sends the events after the last one sent, in seq order, then the
// head if the item changed. It reports whether the tail goes on: not once
// the item is final, nor when the viewer may no longer see it (then nothing
// more is told), nor after an error.
func (ts *tailStream) pass(ctx context.Context, send func([]byte) bool) bool {
	k := ts.kind
	// The viewer is read afresh, teams included: visibility is decided
	// again on every pass.
	v, err := k.store.Viewer(ctx, ts.userID)
	var it *app.Item
	if err == nil {
		it, err = ts.load(ctx, v)
	}
	if errors.Is(err, app.ErrNotFound) {
		send(Message("end", ""))
		return false
	}
	if err != nil {
		if ctx.Err() == nil {
			k.log.Error("live tail: read item", "err", err)
		}
		return false
	}
	for {
		page, err := k.store.Events(ctx, it.ID, app.EventQuery{After: ts.last, Limit: app.MaxEventBatch})
		if err != nil {
			if ctx.Err() == nil {
				k.log.Error("live tail: read events", "item", it.ID, "err", err)
			}
			return false
		}
		if len(page.Events) == 0 {
			break
		}
		msg, err := k.eventsMessage(page.Events)
		if err != nil {
			k.log.Error("live tail: render events", "item", it.ID, "err", err)
			return false
		}
		if !send(msg) {
			return false
		}
		ts.last = page.Events[len(page.Events)-1].Seq
		if !page.More {
			break
		}
	}
	if digest := views.HeadDigest(it); digest != ts.head {
		msg, err := render(k.renderer, "head", views.RunHead, views.RunPage{Item: it, Now: k.store.Now(), Loc: ts.loc})
		if err != nil {
			k.log.Error("live tail: render head", "item", it.ID, "err", err)
			return false
		}
		if !send(msg) {
			return false
		}
		ts.head = digest
	}
	if it.Status.Final() {
		send(Message("end", ""))
		return false
	}
	return true
}

// eventsMessage renders a page of events (in seq order) as one message per
// kind, each with the block its section uses. The last message carries the
// page's last seq as its id, which a reconnecting browser sends back: only
// then has everything up to it been sent.
func (k *Tails) eventsMessage(events []*app.Event) ([]byte, error) {
	kinds := []struct {
		typ   app.EventType
		event string
		block views.Template
	}{
		{app.EventMessage, "messages", views.RunMessages},
		{app.EventLog, "logs", views.RunLogs},
		{app.EventOutput, "outputs", views.RunOutputs},
	}
	byType := map[app.EventType][]*app.Event{}
	for _, e := range events {
		byType[e.Type] = append(byType[e.Type], e)
	}
	var msgs [][]byte
	for _, kind := range kinds {
		if len(byType[kind.typ]) == 0 {
			continue
		}
		msg, err := render(k.renderer, kind.event, kind.block, byType[kind.typ])
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, msg)
	}
	last := len(msgs) - 1
	msgs[last] = append(fmt.Appendf(nil, "id: %d\n", events[len(events)-1].Seq), msgs[last]...)
	return bytes.Join(msgs, nil), nil
}
