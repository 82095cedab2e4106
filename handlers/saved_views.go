package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/views"
	"github.com/labstack/echo/v4"
)

// maxQuickTabs is how many saved views stand as tabs beside Personal and
// All; every one of them is on the views page.
const maxQuickTabs = 8

// viewTabs are the view's tabs: Personal, All, and the viewer's saved views
// with how many of their runs are working and have failed. The tab of the
// view shown is marked: a saved view's when the filter is exactly it.
func (s *Server) viewTabs(ctx context.Context, v app.Viewer, f app.Filter) ([]views.TabLink, error) {
	saved, err := s.store.SavedViews(ctx, v)
	if err != nil {
		return nil, err
	}
	current := app.SavedQuery(f)
	var quick []views.TabLink
	active := false
	for _, sv := range saved {
		on := sv.Query == current
		if len(quick) >= maxQuickTabs && !on {
			continue
		}
		q, _ := url.ParseQuery(sv.Query) // stored canonical, so it parses
		if f.TZ != "" {
			q.Set("tz", f.TZ)
		}
		view, err := s.store.ViewOf(ctx, v, q, app.ViewOptions{Rows: -1, Summary: true})
		if err != nil {
			return nil, err
		}
		tab := views.TabLink{Label: sv.Name, URL: views.SavedViewURL(sv), Active: on, Saved: true}
		if !view.Summary.More {
			tab.Working, tab.Failed = view.Summary.Working, view.Summary.Failed
		}
		if sv.Team != nil {
			tab.Team = sv.Team.Name
		}
		quick = append(quick, tab)
		active = active || on
	}
	// Personal and All keep the filters, but leave a saved view for the
	// plain tab.
	base := f
	if active {
		base = f.Cleared()
	}
	tabs := []views.TabLink{
		{Label: "Personal", URL: views.ViewURL(base.WithTab(app.TabPersonal)), Active: !active && f.Tab == app.TabPersonal},
		{Label: "All", URL: views.ViewURL(base.WithTab(app.TabAll)), Active: !active && f.Tab == app.TabAll},
	}
	return append(tabs, quick...), nil
}

// handleViewTabs answers the tabs alone, with fresh counts: the page asks
// for them as its runs change, and every minute.
func (s *Server) handleViewTabs(c echo.Context) error {
	q, err := viewQuery(c)
	if err != nil {
		return err
	}
	f, _ := app.ParseFilter(q)
	data := views.ViewPage{Filter: f, TabsURL: views.TabsURL(f)}
	if data.Tabs, err = s.viewTabs(c.Request().Context(), viewerOf(c), f); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.ViewTabs, data)
}

// handleSavedViews lists the views the viewer sees, to open, rename, delete
// and land on.
func (s *Server) handleSavedViews(c echo.Context) error {
	return s.renderSavedViews(c, http.StatusOK, "")
}

func (s *Server) renderSavedViews(c echo.Context, status int, problem string) error {
	saved, err := s.store.SavedViews(c.Request().Context(), viewerOf(c))
	if err != nil {
		return err
	}
	page := views.SavedViewsPage{Layout: s.layout(c, "Saved views", "runs"), Views: saved, Error: problem}
	return s.render(c, status, views.PageSavedViews, page)
}

// savedViewProblem shows what the person can fix on the views page; other
// errors take the usual way.
func (s *Server) savedViewProblem(c echo.Context, err error) error {
	switch code := app.ErrorCode(err); code {
	case app.EInvalid, app.EUnprocessable, app.EForbidden, app.ENotFound:
		_, msg := app.ErrorDetail(err)
		return s.renderSavedViews(c, statusOf[code], sentence(msg))
	}
	return err
}

// handleViewSave keeps the view the form names, then opens it.
func (s *Server) handleViewSave(c echo.Context) error {
	sv, err := s.store.SaveView(c.Request().Context(), viewerOf(c), app.NewSavedView{
		Name: c.FormValue("name"), Query: c.FormValue("query"), TeamSlug: c.FormValue("team"),
		Landing: c.FormValue("landing") == "on",
	})
	if err != nil {
		return s.savedViewProblem(c, err)
	}
	return c.Redirect(http.StatusSeeOther, views.SavedViewURL(sv))
}

// savedViewID is the view id in the path; one that cannot be an id is
// no view.
func savedViewID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, app.ErrNotFound
	}
	return id, nil
}

// handleViewRename renames a saved view.
func (s *Server) handleViewRename(c echo.Context) error {
	id, err := savedViewID(c)
	if err != nil {
		return s.savedViewProblem(c, err)
	}
	if err := s.store.RenameView(c.Request().Context(), viewerOf(c), id, c.FormValue("name")); err != nil {
		return s.savedViewProblem(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/views")
}

// handleViewDelete deletes a saved view.
func (s *Server) handleViewDelete(c echo.Context) error {
	id, err := savedViewID(c)
	if err != nil {
		return s.savedViewProblem(c, err)
	}
	if sv, err := s.store.SavedView(c.Request().Context(), viewerOf(c), id); err != nil || !sv.Manage {
		if err == nil {
			err = app.Errorf(app.EForbidden, "", "only its owner and the team's admins may change a team's view")
		}
		return s.savedViewProblem(c, err)
	}
	if ok, err := s.confirmed(c, "Delete this saved view? It goes for everyone it is shared with.", "Delete the view", "/views"); !ok {
		return err
	}
	if err := s.store.DeleteView(c.Request().Context(), viewerOf(c), id); err != nil {
		return s.savedViewProblem(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/views")
}

// handleViewLanding makes a saved view the one the viewer lands on at /,
// or (land=off) goes back to the plain Personal tab.
func (s *Server) handleViewLanding(c echo.Context) error {
	id, err := savedViewID(c)
	if err != nil {
		return s.savedViewProblem(c, err)
	}
	if c.FormValue("land") == "off" {
		id = 0
	}
	if err := s.store.SetLandingView(c.Request().Context(), viewerOf(c), id); err != nil {
		return s.savedViewProblem(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/views")
}
