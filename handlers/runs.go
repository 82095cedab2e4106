package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/views"
	"github.com/labstack/echo/v4"
)

// logPageSize is how many log lines the session page shows at once: the
// tail of the log, with earlier lines a click away, so that a run with a
// hundred thousand lines opens as fast as a short one.
const logPageSize = 1000

// handleRunShow renders an item's shared session (§5) to whoever may see
// it; everyone else gets 404. With ?before=SEQ an htmx request gets the log
// lines before SEQ, and a direct load the page with the log ending there.
func (s *Server) handleRunShow(c echo.Context) error {
	it, err := s.store.Item(c.Request().Context(), viewerOf(c), c.Param("id"))
	if errors.Is(err, app.ErrNotFound) {
		// The same words whether the run is not there or not to be seen, so
		// that they tell nothing about runs one may not see.
		return echo.NewHTTPError(http.StatusNotFound, "There is no run here that you may see: it may have been deleted, "+
			"be private to the person who started it, or belong to a team you are not in. If a teammate sent you this "+
			"address, ask them to share the run with the team, or for a share link.")
	}
	if err != nil {
		return err
	}
	page := views.RunPage{Base: "/runs/" + it.ID}
	return s.renderRun(c, it, page)
}

// handleShareShow renders an item through its share link: read-only, to the
// signed-in members of the item's team.
func (s *Server) handleShareShow(c echo.Context) error {
	token := c.Param("token")
	it, err := s.store.SharedItem(c.Request().Context(), viewerOf(c), token)
	if errors.Is(err, app.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "This share link does not open for you: it was revoked, "+
			"or it is for the members of a team you are not in. If you have another account that is, sign in with it; "+
			"otherwise ask whoever sent the link to check it, or to add you to their team.")
	}
	if err != nil {
		return err
	}
	return s.renderRun(c, it, views.RunPage{Base: "/share/" + token, ViaShare: true})
}

// renderRun loads what the session page shows and renders it, or only the
// earlier log lines for the "earlier lines" button.
func (s *Server) renderRun(c echo.Context, it *app.Item, page views.RunPage) error {
	ctx := c.Request().Context()
	v := viewerOf(c)
	logs := app.EventQuery{Types: []app.EventType{app.EventLog}, Limit: logPageSize, Last: true}
	if raw := c.QueryParam("before"); raw != "" {
		before, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || before < 1 {
			return echo.NewHTTPError(http.StatusBadRequest, "The log position in this address is malformed.")
		}
		logs.Before = before
	}
	logPage, err := s.store.Events(ctx, it.ID, logs)
	if err != nil {
		return err
	}
	page.Item, page.Logs, page.Now, page.Loc = it, logPage.Events, s.store.Now(), viewerZone(c)
	if logPage.More && len(logPage.Events) > 0 {
		page.EarlierLogs = logPage.Events[0].Seq
	}
	page.LogsFrom = logs.Before
	c.Response().Header().Add("Vary", "HX-Request")
	if isFragmentRequest(c.Request()) && logs.Before > 0 {
		return s.render(c, http.StatusOK, views.RunLogLines, page)
	}

	msgs, err := s.store.Events(ctx, it.ID, app.EventQuery{Types: []app.EventType{app.EventMessage}, Limit: app.MaxEventBatch})
	if err != nil {
		return err
	}
	page.Messages, page.MoreMessages = msgs.Events, msgs.More
	outs, err := s.store.Events(ctx, it.ID, app.EventQuery{Types: []app.EventType{app.EventOutput}, Limit: app.MaxEventBatch})
	if err != nil {
		return err
	}
	page.Outputs = outs.Events
	if !it.Status.Final() && logs.Before == 0 {
		page.TailURL = views.TailURL(page.Base, lastSeq(page.Messages, page.Logs, page.Outputs), views.HeadDigest(it))
	}
	page.Layout = s.layout(c, it.Title, "runs")
	page.IsOwner = it.CreatorID == v.User.ID && !page.ViaShare
	if page.IsOwner {
		page.NewShareURL = s.takeNewShareURL(c, it.ID)
		link, err := s.store.ShareLinkOf(ctx, v, it.ID)
		switch {
		case err == nil:
			page.Share = link
		case !errors.Is(err, app.ErrNotFound):
			return err
		}
	}
	return s.render(c, http.StatusOK, views.PageRun, page)
}

// handleShareCreate makes a new share link for one of the viewer's items and
// shows it once on the item's page.
func (s *Server) handleShareCreate(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewerOf(c)
	token, err := s.store.CreateShareLink(ctx, v, c.Param("id"))
	if err != nil {
		return err
	}
	it, err := s.store.Item(ctx, v, c.Param("id"))
	if err != nil {
		return err
	}
	// The link is shown once, on the item's page after a redirect, so that
	// reloading that page does not post the form again.
	sess := sessionOf(c)
	sess.Values[sessNewShare] = it.ID + " " + s.cfg.PublicURL() + "/share/" + token
	s.saveSessionLater(c, sess)
	return c.Redirect(http.StatusSeeOther, "/runs/"+it.ID)
}

// takeNewShareURL is the share link just made for the item, once: it is
// forgotten as it is read.
func (s *Server) takeNewShareURL(c echo.Context, itemID string) string {
	sess := sessionOf(c)
	held, _ := sess.Values[sessNewShare].(string)
	id, link, ok := strings.Cut(held, " ")
	if !ok || id != itemID {
		return ""
	}
	delete(sess.Values, sessNewShare)
	s.saveSessionLater(c, sess)
	return link
}

// handleShareRevoke ends an item's share link at once.
func (s *Server) handleShareRevoke(c echo.Context) error {
	id := c.Param("id")
	if _, err := s.store.ShareLinkOf(c.Request().Context(), viewerOf(c), id); err != nil {
		return err
	}
	question := "Revoke the share link? Whoever has it can no longer open this item through it."
	if ok, err := s.confirmed(c, question, "Revoke the share link", "/runs/"+id); !ok {
		return err
	}
	if err := s.store.RevokeShareLink(c.Request().Context(), viewerOf(c), id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/runs/"+id)
}
