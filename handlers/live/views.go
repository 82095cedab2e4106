package live

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/url"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/views"
)

// Views is the kind of stream that keeps an open view true (§3): a write
// that touches an item is read once, and for every view whose viewer may
// see it, the row and the summary are rendered once and sent to all the
// streams that show that view.
type Views struct {
	store    *app.Store
	renderer *views.Renderer
	log      *slog.Logger
}

// NewViews makes the view streams' kind.
func NewViews(store *app.Store, renderer *views.Renderer, log *slog.Logger) *Views {
	return &Views{store: store, renderer: renderer, log: log}
}

// viewKey identifies the streams that show the same thing: one viewer, one
// canonical filter.
type viewKey struct {
	userID int64
	filter string
}

// Key is what streams of a viewer's view are grouped by.
func (k *Views) Key(v app.Viewer, f app.Filter) any { return viewKey{v.User.ID, f.Encode()} }

// Follow is the subscriber of one view stream. seen is the digest of the
// results the page shows: the stream sends them again only when they
// changed.
func (k *Views) Follow(v app.Viewer, f app.Filter, seen string) Subscriber {
	return &viewStream{kind: k, viewer: v, filter: f, seen: seen}
}

// viewStream is one view stream's own part: its catch-up.
type viewStream struct {
	kind   *Views
	viewer app.Viewer
	filter app.Filter
	seen   string
}

// CatchUp is the view's results unless the page shows them already:
// whatever changed before the stream was registered came as no hint.
func (vs *viewStream) CatchUp(ctx context.Context) ([]byte, bool, error) {
	msg, err := vs.kind.resultsMessage(ctx, vs.viewer, vs.filter, vs.seen)
	return msg, true, err
}

// Nudged is never asked of a view stream: the dispatcher sends it messages.
func (vs *viewStream) Nudged(context.Context, func([]byte) bool) bool { return true }

// resultsMessage renders a view's results for its viewer, or nil when they
// are what the page with digest seen shows.
func (k *Views) resultsMessage(ctx context.Context, v app.Viewer, f app.Filter, seen string) ([]byte, error) {
	view, err := k.store.ResolveView(ctx, v, f, nil, app.ViewOptions{Summary: true})
	if err != nil {
		return nil, err
	}
	data := views.ResultsPage(view, k.store.Now())
	if data.Digest == seen {
		return nil, nil
	}
	data.ResultsOOB = true
	return render(k.renderer, "results", views.ViewResults, data)
}

// Dispatch sends what the hints mean to the open view streams. Visibility is
// decided afresh for every hint and every viewer: the viewers (and their
// teams) are re-read, a removed user's streams end, and an item a viewer may
// not see sends that viewer nothing at all.
func (k *Views) Dispatch(ctx context.Context, hints []app.Hint, streams []*Stream) {
	open := map[viewKey][]*Stream{}
	for _, st := range streams {
		key := st.Key.(viewKey)
		open[key] = append(open[key], st)
	}
	ids, resync := changedItems(hints)
	if len(ids) == 0 && !resync {
		return
	}
	keysOf := map[int64][]viewKey{}
	var userIDs []int64
	for key := range open {
		if keysOf[key.userID] == nil {
			userIDs = append(userIDs, key.userID)
		}
		keysOf[key.userID] = append(keysOf[key.userID], key)
	}
	byID, viewers, err := viewersOf(ctx, k.store, userIDs, keysOf, open)
	if err != nil {
		k.log.Error("live view: load viewers", "err", err)
		return
	}
	if resync {
		k.resync(ctx, open, byID)
		return
	}
	k.sendItems(ctx, ids, viewers, keysOf, open)
}

// sendItems renders, for each changed item and each view whose viewer may
// see it, its row (or its departure) once, then each touched view's summary
// once.
func (k *Views) sendItems(ctx context.Context, ids []string, viewers []app.Viewer, keysOf map[int64][]viewKey, open map[viewKey][]*Stream) {
	queries := map[viewKey]app.Query{}
	queryOf := func(key viewKey, v app.Viewer) (app.Query, error) {
		if q, ok := queries[key]; ok {
			return q, nil
		}
		q, _, _, err := k.store.ResolveFilter(ctx, v, filterOf(key))
		queries[key] = q
		return q, err
	}
	var touched []viewKey
	isTouched := map[viewKey]bool{}
	for _, id := range ids {
		it, seers, err := k.store.ItemSeenBy(ctx, id, viewers)
		if errors.Is(err, app.ErrNotFound) {
			continue
		}
		if err != nil {
			k.log.Error("live view: read item", "item", id, "err", err)
			continue
		}
		for _, v := range seers {
			for _, key := range keysOf[v.User.ID] {
				q, err := queryOf(key, v)
				if err != nil {
					k.log.Error("live view: resolve view", "err", err)
					continue
				}
				msg, err := k.itemMessage(ctx, q, it, filterOf(key))
				if err != nil {
					k.log.Error("live view: render item", "item", id, "err", err)
					continue
				}
				sendAll(open[key], msg)
				if !isTouched[key] {
					isTouched[key] = true
					touched = append(touched, key)
				}
			}
		}
	}
	for _, key := range touched {
		sum, err := k.store.Summary(ctx, queries[key])
		if err != nil {
			k.log.Error("live view: summary", "err", err)
			continue
		}
		msg, err := render(k.renderer, "summary", views.ViewSummary, views.ViewPage{Summary: sum, SummaryOOB: true})
		if err != nil {
			k.log.Error("live view: render summary", "err", err)
			continue
		}
		sendAll(open[key], msg)
	}
}

// itemMessage is the row of an item that matches the view, to replace or
// insert, or the item's id to take out of a view it no longer matches.
func (k *Views) itemMessage(ctx context.Context, q app.Query, it *app.Item, f app.Filter) ([]byte, error) {
	in, err := k.store.InView(ctx, q, it.ID)
	if err != nil {
		return nil, err
	}
	if !in {
		return Message("gone", it.ID), nil
	}
	return render(k.renderer, "item", views.ViewRow, views.RowData{Item: it, Now: k.store.Now(), Loc: f.Location(), Highlight: app.SearchWords(f.Query)})
}

// resync re-renders the results of every open view, after hints were lost.
func (k *Views) resync(ctx context.Context, open map[viewKey][]*Stream, viewers map[int64]app.Viewer) {
	for key, group := range open {
		v, ok := viewers[key.userID]
		if !ok {
			continue
		}
		msg, err := k.resultsMessage(ctx, v, filterOf(key), "")
		if err != nil {
			k.log.Error("live view: re-render view", "err", err)
			continue
		}
		sendAll(group, msg)
	}
}

// filterOf reads a view key's filter back: the filter prints and parses as
// one type, so the canonical query string is the filter.
func filterOf(key viewKey) app.Filter {
	q, _ := url.ParseQuery(key.filter)
	f, _ := app.ParseFilter(q)
	return f
}

func sendAll(streams []*Stream, msg []byte) {
	for _, st := range streams {
		st.Send(msg)
	}
}

// changedItems reads hints for the items whose own fields changed, each
// once, and whether everything must be read again (hints were lost).
func changedItems(hints []app.Hint) (ids []string, resync bool) {
	seen := map[string]bool{}
	for _, h := range hints {
		switch {
		case h.Resync():
			resync = true
		case h.ItemID != "" && !h.Events && !seen[h.ItemID]:
			seen[h.ItemID] = true
			ids = append(ids, h.ItemID)
		}
	}
	return ids, resync
}

// viewersOf loads the users whose streams are open, in the order of
// userIDs; the streams of a user who no longer exists end as signed out.
func viewersOf[K comparable](ctx context.Context, store *app.Store, userIDs []int64, keysOf map[int64][]K, open map[K][]*Stream) (map[int64]app.Viewer, []app.Viewer, error) {
	byID, err := store.Viewers(ctx, userIDs)
	if err != nil {
		return nil, nil, err
	}
	viewers := make([]app.Viewer, 0, len(byID))
	for _, id := range userIDs {
		v, ok := byID[id]
		if !ok { // the user was removed: their streams end
			for _, key := range keysOf[id] {
				endAll(open[key], signedOutMessage)
			}
			continue
		}
		viewers = append(viewers, v)
	}
	return byID, viewers, nil
}

func endAll(streams []*Stream, msg []byte) {
	for _, st := range streams {
		st.end(msg)
	}
}

// render makes a template one message of the named event.
func render(r *views.Renderer, event string, t views.Template, data any) ([]byte, error) {
	var buf bytes.Buffer
	if err := r.Render(&buf, t, data); err != nil {
		return nil, err
	}
	return Message(event, buf.String()), nil
}
