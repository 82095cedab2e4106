package handlers

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/handlers/live"
	"github.com/agentdeck/agentdeck/views"
	"github.com/labstack/echo/v4"
)

// handleEvents streams live updates of the view named by the query string
// (the same parameters as /) to one signed-in viewer (§3). The live package
// does the work; this reads the request.
func (s *Server) handleEvents(c echo.Context) error {
	q, err := viewQuery(c)
	if err != nil {
		return err
	}
	seen := q.Get(views.SeenParam)
	q.Del(views.SeenParam)
	f, _ := app.ParseFilter(q)
	v := viewerOf(c)
	return s.serveStream(c, s.liveViews, s.liveViews.Key(v, f), s.liveViews.Follow(v, f, seen))
}

// serveStream opens a live stream of a kind for the request's viewer and
// serves it until it ends.
func (s *Server) serveStream(c echo.Context, kind live.Kind, key any, sub live.Subscriber) error {
	ctx := c.Request().Context()
	st, err := s.live.Open(ctx, s.streamOwner(c), kind, key)
	switch {
	case errors.Is(err, live.ErrShuttingDown):
		return echo.NewHTTPError(http.StatusServiceUnavailable, "The server is restarting; live updates resume in a moment.")
	case errors.Is(err, live.ErrTooManyStreams):
		c.Response().Header().Set("Retry-After", "60")
		return echo.NewHTTPError(http.StatusServiceUnavailable, "Too many live pages are open on this server; live updates resume in a minute.")
	case err != nil:
		return err
	}
	return s.live.Serve(ctx, c.Response(), st, sub)
}

// streamOwner is whom the request's stream serves: the signed-in user,
// through their session, which the stream ends with.
func (s *Server) streamOwner(c echo.Context) live.Owner {
	sess := sessionOf(c)
	id := sess.ID
	ends, _ := sess.Values[sessionEndsKey{}].(time.Time)
	return live.Owner{
		UserID:  viewerOf(c).User.ID,
		Session: app.SessionKey(id),
		Ends:    ends,
		Renew: func(ctx context.Context) (time.Time, bool) {
			row, err := s.store.Session(ctx, id)
			if err != nil {
				return time.Time{}, false
			}
			return row.Ends(), true
		},
	}
}

// CloseStreams ends every live stream and refuses new ones. Streams never end
// on their own, so a graceful shutdown would wait for them in vain: Serve
// calls this as its shutdown begins, and whoever serves the handler on an
// http.Server of their own (as tests do) must call it before closing that.
func (s *Server) CloseStreams() { s.live.Shutdown() }
