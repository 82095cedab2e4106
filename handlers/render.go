package handlers

import (
	"bytes"
	"net/http"
	"sync"

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

// render writes a page or a fragment ("page#block") as HTML. The page is
// rendered into a buffer first, so a template error becomes a clean 500.
func (s *Server) render(c echo.Context, status int, t views.Template, data any) error {
	buf := renderBuffers.Get().(*bytes.Buffer)
	defer putRenderBuffer(buf)
	if err := s.views.Render(buf, t, data); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

// renderBuffers keeps the buffers pages are rendered into: a fragment of
// fifty rows is some 80 KB, and growing a new buffer to that size on every
// request took about a seventh of the rendering's CPU.
var renderBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledRenderBuffer bounds what the pool keeps, so that one huge page
// does not stay in memory for good.
const maxPooledRenderBuffer = 1 << 20

func putRenderBuffer(buf *bytes.Buffer) {
	if buf.Cap() > maxPooledRenderBuffer {
		return
	}
	buf.Reset()
	renderBuffers.Put(buf)
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
