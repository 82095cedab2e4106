package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

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
	c.Response().Header().Add("Vary", "HX-Request")
	fragment := isFragmentRequest(c.Request())
	if !fragment && c.Request().URL.RawQuery == "" {
		// "/" alone opens the person's landing view, when they chose one.
		landing, err := s.store.LandingView(ctx, v)
		if err != nil {
			return err
		}
		if landing != nil {
			return c.Redirect(http.StatusSeeOther, views.SavedViewURL(landing))
		}
	}
	if fragment && q.Get("cursor") != "" {
		// "Load more": the next rows, without the summary.
		view, err := s.store.ViewOf(ctx, v, q, app.ViewOptions{})
		if err != nil {
			return err
		}
		if view.Filter.Cursor != "" {
			return s.render(c, http.StatusOK, views.ViewMore, views.MorePage(view, s.store.Now()))
		}
	}
	view, err := s.store.ViewOf(ctx, v, q, app.ViewOptions{Summary: true})
	if err != nil {
		return err
	}
	f := view.Filter
	if !fragment && len(view.Problems) == 0 && loosePlainQuery(c) {
		// A plain form's submission (without JavaScript) or a day read in
		// the browser's zone: the address becomes the one the page pushes.
		return c.Redirect(http.StatusSeeOther, views.ViewURL(f))
	}
	data := views.ResultsPage(view, s.store.Now())
	data.Layout = s.layout(c, "Runs", "runs")
	data.Notices = noticesOf(view.Problems)
	if data.Tabs, err = s.viewTabs(ctx, v, f); err != nil {
		return err
	}
	data.TabsURL, data.SaveQuery = views.TabsURL(f), app.SavedQuery(f)
	data.CreatorNote = creatorNote(f, v)
	data.Fragment = fragment
	// The form (or its search box) asked for these results itself, so it
	// already shows them; a chip, a tab or Clear needs the form brought in
	// line.
	trigger := c.Request().Header.Get("HX-Trigger")
	data.FiltersOOB = fragment && trigger != "filters" && trigger != "search"
	if !fragment || data.FiltersOOB {
		if data.Teammates, err = s.store.Teammates(ctx, v); err != nil {
			return err
		}
		facets, err := s.store.Facets(ctx, v, f.Tab)
		if err != nil {
			return err
		}
		data.Menus = views.Menus(f, facets)
		data.Teams = facets.Teams
	}
	if fragment {
		c.Response().Header().Set("HX-Push-Url", views.ViewURL(f.FirstPage()))
		return s.render(c, http.StatusOK, views.ViewFragment, data)
	}
	return s.render(c, http.StatusOK, views.PageView, data)
}

// loosePlainQuery reports whether a view's address says less, or more
// loosely, than its canonical form: empty parameters and the date field of a
// form submitted without JavaScript, or a day with no zone while the browser
// has told its own, so that a link copied from it would show a teammate in
// another zone other rows.
func loosePlainQuery(c echo.Context) bool {
	q, err := url.ParseQuery(c.Request().URL.RawQuery)
	if err != nil {
		return false
	}
	for key, values := range q {
		if key == "date" || len(values) == 0 || values[0] == "" {
			return true
		}
	}
	return q.Get("day") != "" && q.Get("tz") == "" && browserZone(c) != ""
}

// creatorNote explains a creator filter on Personal that names someone
// else, as one carried over from All does; nil otherwise.
func creatorNote(f app.Filter, v app.Viewer) *views.CreatorNote {
	if f.Tab != app.TabPersonal {
		return nil
	}
	var others []string
	for _, h := range f.Creators.Is {
		if h != v.User.Handle {
			others = append(others, h)
		}
	}
	if len(others) == 0 {
		return nil
	}
	cleared := f
	cleared.Creators = app.Choice[string]{}
	return &views.CreatorNote{
		Names:    strings.Join(others, ", "),
		AllURL:   views.ViewURL(f.WithTab(app.TabAll)),
		ClearURL: views.ViewURL(cleared.FirstPage()),
	}
}

// maxNotices bounds the notice of parameters that could not be used: a link
// with thousands of them gets a short page, not a long list.
const maxNotices = 10

// noticesOf says, in words, what of the view's address could not be used,
// at most maxNotices times.
func noticesOf(problems []*app.Error) []string {
	var out []string
	for i, p := range problems {
		if i == maxNotices {
			out = append(out, fmt.Sprintf("… and %d more", len(problems)-maxNotices))
			break
		}
		_, msg := app.ErrorDetail(p)
		out = append(out, msg)
	}
	return out
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
		if tz := browserZone(c); tz != "" {
			q.Set("tz", tz)
		}
	}
	return q, nil
}

// browserZone is the time zone the viewer's browser reported (the tz
// cookie), "" when it reported none or one not known here. It is the one
// place that reads the cookie, for the view and every page that shows a time.
func browserZone(c echo.Context) string {
	ck, err := c.Cookie(tzCookie)
	if err != nil {
		return ""
	}
	// document.cookie values are URL-encoded: "Europe%2FBerlin".
	tz, err := url.QueryUnescape(ck.Value)
	if err != nil || !app.ValidZone(tz) {
		return ""
	}
	return tz
}

// viewerZone is the zone a page shows times in: the browser's, else UTC.
func viewerZone(c echo.Context) *time.Location {
	return app.Filter{TZ: browserZone(c)}.Location()
}
