package handlers

import (
	"net/http"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/views"
	"github.com/labstack/echo/v4"
)

// handleInsights shows where the credits of the view the query string
// names went (GET /insights?<view query>). The view is resolved as the list
// resolves it, so it holds exactly the runs the list shows; parameters it
// cannot use are named in a notice.
func (s *Server) handleInsights(c echo.Context) error {
	ctx := c.Request().Context()
	q, err := viewQuery(c)
	if err != nil {
		return err
	}
	view, err := s.store.ViewOf(ctx, viewerOf(c), q, app.ViewOptions{Rows: -1})
	if err != nil {
		return err
	}
	in, err := s.store.Insights(ctx, view.Query)
	if err != nil {
		return err
	}
	data := views.InsightsPage{Layout: s.layout(c, "Insights", "insights"), Filter: view.Filter, Insights: in,
		Notices: noticesOf(view.Problems), Loc: view.Filter.Location()}
	return s.render(c, http.StatusOK, views.PageInsights, data)
}
