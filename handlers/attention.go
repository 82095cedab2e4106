package handlers

import (
	"net/http"
	"net/url"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/views"
	"github.com/labstack/echo/v4"
)

// attentionNav is what the navigation shows of Needs attention on every
// page: the count, and the live stream that keeps it true. A failure to
// count costs the page nothing but the number.
func (s *Server) attentionNav(c echo.Context, v app.Viewer) (views.NavCount, string) {
	n, err := s.store.AttentionCount(c.Request().Context(), v)
	if err != nil {
		s.log.Warn("count what needs attention", "user", v.User.ID, "err", err)
		return 0, ""
	}
	return views.NavCount(n), views.AttentionStreamURL(false, views.CountDigest(n))
}

// handleAttention shows Needs attention: the first page records the visit
// (what arrives from then on is new at the next), older pages follow the
// cursor. htmx gets the list alone.
func (s *Server) handleAttention(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewerOf(c)
	var after *app.Cursor
	if raw := c.QueryParam("cursor"); raw != "" {
		cur, err := app.DecodeCursor(raw)
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "The page's cursor is invalid: start again from Needs attention.")
		}
		after = &cur
	}
	fragment := isFragmentRequest(c.Request())
	if !fragment && after == nil {
		if _, err := s.store.VisitAttention(ctx, v); err != nil {
			return err
		}
	}
	data, err := s.attentionPage(c, v, after)
	if err != nil {
		return err
	}
	if fragment {
		return s.render(c, http.StatusOK, views.AttentionList, data)
	}
	return s.render(c, http.StatusOK, views.PageAttention, data)
}

// attentionPage reads a page of Needs attention after the cursor.
func (s *Server) attentionPage(c echo.Context, v app.Viewer, after *app.Cursor) (views.AttentionPage, error) {
	ctx := c.Request().Context()
	page, err := s.store.Attention(ctx, v, after, views.AttentionPageSize)
	if err != nil {
		return views.AttentionPage{}, err
	}
	layout := s.layout(c, "Needs attention", "attention")
	count := int(layout.NeedsYou)
	if layout.AttentionStream == "" { // a fragment's layout counts nothing
		if count, err = s.store.AttentionCount(ctx, v); err != nil {
			return views.AttentionPage{}, err
		}
	}
	zone := browserZone(c)
	data := views.NewAttentionPage(page, count, after == nil, s.store.Now(), viewerZone(c))
	stream := data.AttentionStream
	data.Layout = layout
	data.NeedsYou, data.AttentionStream = views.NavCount(count), stream
	if after == nil && zone != "" {
		data.AttentionStream += "&tz=" + url.QueryEscape(zone)
	}
	return data, nil
}

// handleAttentionCount answers the navigation's count alone.
func (s *Server) handleAttentionCount(c echo.Context) error {
	n, err := s.store.AttentionCount(c.Request().Context(), viewerOf(c))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.AttentionNav, views.NavCount(n))
}

// handleAttentionEvents streams the navigation's count, and with list=1 the
// first page of entries, as they change.
func (s *Server) handleAttentionEvents(c echo.Context) error {
	v := viewerOf(c)
	list := c.QueryParam("list") == "1"
	zone := c.QueryParam("tz")
	if !app.ValidZone(zone) {
		zone = ""
	}
	key := s.liveAttention.Key(v, list, zone)
	return s.serveStream(c, s.liveAttention, key, s.liveAttention.Follow(v, key, c.QueryParam(views.SeenParam)))
}

// handleAttentionAck acknowledges the entries the form names (ack=ID@MICROS,
// one or many), then shows Needs attention again: the list for htmx, else a
// redirect to the page, so that a reload posts nothing.
func (s *Server) handleAttentionAck(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	raw := form["ack"]
	if len(raw) == 0 {
		return echo.NewHTTPError(http.StatusBadRequest, "Choose what to acknowledge.")
	}
	if len(raw) > app.MaxAcks {
		return app.Errorf(app.ETooLarge, "ack", "at most %d acknowledgements at once", app.MaxAcks)
	}
	acks := make([]app.Ack, 0, len(raw))
	for _, r := range raw {
		a, err := app.ParseAck(r)
		if err != nil {
			return err
		}
		acks = append(acks, a)
	}
	v := viewerOf(c)
	if _, err := s.store.Acknowledge(c.Request().Context(), v, acks); err != nil {
		return err
	}
	if !isFragmentRequest(c.Request()) {
		return c.Redirect(http.StatusSeeOther, "/attention")
	}
	data, err := s.attentionPage(c, v, nil)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.AttentionAcked, data)
}
