// Package views renders agentdeck's pages and the fragments htmx swaps in.
// Every page is the layout plus one page file plus the shared partials; a
// fragment is a named block of a page, so an htmx response is always the very
// template the full page includes.
package views

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync"
)

//go:embed layout.html pages/*.html partials/*.html
var files embed.FS

// Renderer holds every page parsed and checked at start-up.
type Renderer struct {
	pages map[string]*template.Template
}

// Template names a page ("view") or one of its fragments ("view#results").
// Only the templates declared below exist for callers, and New checks every
// one of them, so that a misspelt or removed block fails the boot rather
// than a request.
type Template struct{ name string }

// String is the template's name.
func (t Template) String() string { return t.name }

// declared lists every Template, for New to check.
var declared []Template

func declare(name string) Template {
	t := Template{name}
	declared = append(declared, t)
	return t
}

// The pages and the fragments that handlers and live streams render.
var (
	PageView       = declare("view")
	ViewFragment   = declare("view#fragment") // a filter change's answer
	ViewMore       = declare("view#more")     // "Load more"
	ViewResults    = declare("view#results")
	ViewSummary    = declare("view#summary")
	ViewRow        = declare("view#row")
	ViewTabs       = declare("view#tabs")
	PageSavedViews = declare("views")
	PageRun        = declare("run")
	RunHead        = declare("run#head")
	RunMessages    = declare("run#messages")
	RunLogs        = declare("run#logs")
	RunOutputs     = declare("run#outputs")
	RunLogLines    = declare("run#log-lines")
	PageInvite     = declare("invite")
	PageTeams      = declare("teams")
	PageTeam       = declare("team")
	TeamInvites    = declare("team#invites")
	PageTokens     = declare("tokens")
	PageSignIn     = declare("signin")
	PageError      = declare("error")
	PageConfirm    = declare("confirm")
	// Needs attention, its list, the navigation's count, what its live
	// stream sends and what an acknowledgement by htmx answers.
	PageAttention   = declare("attention")
	AttentionList   = declare("attention#list")
	AttentionNav    = declare("attention#attention-nav")
	AttentionLive   = declare("attention#live")
	AttentionAcked  = declare("attention#acked")
	PageInsights    = declare("insights")
	PageAlerts      = declare("alerts")
	PageAlert       = declare("alert")
	AlertDeliveries = declare("alert#deliveries")
)

// New parses every page; a template error fails here, at boot, rather than
// on the first request.
func New() (*Renderer, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(files, "layout.html", "partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("views: parse layout and partials: %w", err)
	}
	pageFiles, err := fs.Glob(files, "pages/*.html")
	if err != nil {
		return nil, err
	}
	r := &Renderer{pages: map[string]*template.Template{}}
	for _, f := range pageFiles {
		t, err := template.Must(base.Clone()).ParseFS(files, f)
		if err != nil {
			return nil, fmt.Errorf("views: parse %s: %w", f, err)
		}
		name := strings.TrimSuffix(path.Base(f), ".html")
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("views: %s defines no content block", f)
		}
		r.pages[name] = t
	}
	for _, t := range declared {
		if !r.Has(t) {
			return nil, fmt.Errorf("views: the template %s is declared but not defined", t)
		}
	}
	return r, nil
}

// Render writes a page ("view") or one of its fragments ("view#results").
// The output is buffered so that a template error never leaves half a page:
// w gets all of it in one Write, or nothing.
func (r *Renderer) Render(w io.Writer, t Template, data any) error {
	page, block, _ := strings.Cut(t.name, "#")
	tmpl, ok := r.pages[page]
	if !ok {
		return fmt.Errorf("views: no page %q", page)
	}
	if block == "" {
		block = "layout"
	}
	buf := renderBuffers.Get().(*bytes.Buffer)
	defer putRenderBuffer(buf)
	if err := tmpl.ExecuteTemplate(buf, block, data); err != nil {
		return fmt.Errorf("views: render %s: %w", t.name, err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// renderBuffers keep what Render writes until it is whole: a fragment of
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

// Has reports whether a page or fragment exists, for start-up checks.
func (r *Renderer) Has(t Template) bool {
	page, block, _ := strings.Cut(t.name, "#")
	tmpl, ok := r.pages[page]
	return ok && (block == "" || tmpl.Lookup(block) != nil)
}
