package handlers

import (
	"net/http"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/views"
	"github.com/labstack/echo/v4"
)

// isFragmentRequest is the one place that decides between a full page and a
// fragment: htmx's own requests get the fragment, except history restores
// and boosted navigations, which need the whole page.
func isFragmentRequest(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" &&
		r.Header.Get("HX-History-Restore-Request") != "true" &&
		r.Header.Get("HX-Boosted") == ""
}

// render writes a page or a fragment ("page#block") as HTML. The renderer
// hands the page over whole, in one write, or not at all, so a template
// error becomes a clean 500.
func (s *Server) render(c echo.Context, status int, t views.Template, data any) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.views.Render(htmlResponse{c, status}, t, data)
}

// htmlResponse sends what is written to it as the HTML response, with its
// status: it takes one write, a whole page.
type htmlResponse struct {
	c      echo.Context
	status int
}

func (r htmlResponse) Write(page []byte) (int, error) {
	if err := r.c.HTMLBlob(r.status, page); err != nil {
		return 0, err
	}
	return len(page), nil
}

// layout fills the frame every page shares.
func (s *Server) layout(c echo.Context, title, nav string) views.Layout {
	l := views.Layout{Title: title, Demo: s.cfg.Demo, Nav: nav}
	if v, ok := c.Get(ctxViewer).(app.Viewer); ok {
		l.User = v.User
		l.CSRF = s.csrfToken(c)
		if !isFragmentRequest(c.Request()) {
			l.NeedsYou, l.AttentionStream = s.attentionNav(c, v)
		}
	}
	return l
}
