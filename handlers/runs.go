package handlers

import (
	"net/http"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/views"
	"github.com/labstack/echo/v4"
)

// handleRunShow shows one item to whoever may see it; to anyone else it does
// not exist (404, never 403).
func (s *Server) handleRunShow(c echo.Context) error {
	it, err := s.store.Item(c.Request().Context(), viewerOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	loc := time.UTC
	if ck, err := c.Cookie(tzCookie); err == nil && app.ValidZone(ck.Value) {
		loc, _ = time.LoadLocation(ck.Value)
	}
	return s.render(c, http.StatusOK, "run", views.RunPage{
		Layout: s.layout(c, it.Title, "runs"), Item: it, Now: s.store.Now(), Loc: loc,
	})
}
