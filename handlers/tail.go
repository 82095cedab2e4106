package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/handlers/live"
	"github.com/agentdeck/agentdeck/views"
	"github.com/labstack/echo/v4"
)

// The live tail of a session page (§5): while an item works, its page holds
// a stream, BASE/events/stream (BASE being /runs/ID or /share/TOKEN), that
// the live package serves (live.Tails).

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
func (s *Server) serveTail(c echo.Context, load live.ItemLoader) error {
	after, err := tailStart(c.Request())
	if err != nil {
		return err
	}
	v := viewerOf(c)
	it, err := load(c.Request().Context(), v)
	if err != nil {
		return err
	}
	sub := s.liveTails.Follow(v.User.ID, load, after, c.QueryParam(views.SeenParam), viewerZone(c))
	return s.serveStream(c, s.liveTails, s.liveTails.Key(it.ID), sub)
}

// tailStart is the last seq the page shows: the larger of the address's
// "after" and the Last-Event-ID a reconnecting browser sends.
func tailStart(r *http.Request) (int64, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return 0, echo.NewHTTPError(http.StatusBadRequest, "The address of this live tail is malformed.")
	}
	var after int64
	for _, raw := range []string{q.Get(views.AfterParam), r.Header.Get("Last-Event-ID")} {
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
