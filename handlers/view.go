package handlers

import (
	"net/http"
	"net/url"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/views"
	"github.com/labstack/echo/v4"
)

// tzCookie carries the browser's zone, for views whose URL names none.
const tzCookie = "tz"

// handleView renders the management view (§3, §4): the whole page on a
// direct load, the results fragment for htmx, the next rows for "Load more".
// Parameters it cannot use are ignored and named in a notice.
func (s *Server) handleView(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewerOf(c)
	q, err := viewQuery(c)
	if err != nil {
		return err
	}
	f, problems := app.ParseFilter(q)
	query, f, more, err := s.store.ResolveFilter(ctx, v, f)
	if err != nil {
		return err
	}
	problems = append(problems, more...)
	c.Response().Header().Add("Vary", "HX-Request")
	fragment := isFragmentRequest(c.Request())
	if fragment && f.Cursor != "" {
		page, err := s.store.Items(ctx, query, app.PageSize)
		if err != nil {
			return err
		}
		data := views.ViewPage{Filter: f, Items: page.Items, Now: s.store.Now(), Loc: f.Location()}
		if page.Next != nil {
			data.MoreURL = f.WithCursor(*page.Next).URL()
		}
		return s.render(c, http.StatusOK, "view#more", data)
	}

	data, err := s.viewResults(ctx, query, f)
	if err != nil {
		return err
	}
	data.Layout = s.layout(c, "Runs", "runs")
	for _, p := range problems {
		_, msg := app.ErrorDetail(p)
		data.Notices = append(data.Notices, msg)
	}
	data.Tabs = []views.TabLink{
		{Label: "Personal", URL: f.WithTab(app.TabPersonal).URL(), Active: f.Tab == app.TabPersonal},
		{Label: "All", URL: f.WithTab(app.TabAll).URL(), Active: f.Tab == app.TabAll},
	}
	data.Fragment = fragment
	// The form asked for these results itself, so it already shows them;
	// a chip, a tab or Clear needs the form brought in line.
	data.FiltersOOB = fragment && c.Request().Header.Get("HX-Trigger") != "filters"
	if !fragment || data.FiltersOOB {
		if data.Teammates, err = s.store.Teammates(ctx, v); err != nil {
			return err
		}
	}
	if fragment {
		c.Response().Header().Set("HX-Push-Url", f.FirstPage().URL())
		return s.render(c, http.StatusOK, "view#fragment", data)
	}
	return s.render(c, http.StatusOK, "view", data)
}

// viewQuery is the view's query string, with the browser's zone from its
// cookie when the address names none. A query string that cannot be parsed
// at all is a 400.
func viewQuery(c echo.Context) (url.Values, error) {
	q, err := url.ParseQuery(c.Request().URL.RawQuery)
	if err != nil {
		return nil, echo.NewHTTPError(http.StatusBadRequest, "The address's query string is malformed. Check the link, or start again from the runs page.")
	}
	if q.Get("tz") == "" {
		// document.cookie values are URL-encoded: "Europe%2FBerlin".
		if ck, err := c.Cookie(tzCookie); err == nil {
			if tz, err := url.QueryUnescape(ck.Value); err == nil && app.ValidZone(tz) {
				q.Set("tz", tz)
			}
		}
	}
	return q, nil
}
