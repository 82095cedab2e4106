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
)

//go:embed layout.html pages/*.html partials/*.html
var files embed.FS

// Renderer holds every page parsed and checked at start-up.
type Renderer struct {
	pages map[string]*template.Template
}

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
	return r, nil
}

// Render writes a page ("view") or one of its fragments ("view#results").
// The output is buffered so that a template error never leaves half a page.
func (r *Renderer) Render(w io.Writer, name string, data any) error {
	page, block, _ := strings.Cut(name, "#")
	t, ok := r.pages[page]
	if !ok {
		return fmt.Errorf("views: no page %q", page)
	}
	if block == "" {
		block = "layout"
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, data); err != nil {
		return fmt.Errorf("views: render %s: %w", name, err)
	}
	_, err := buf.WriteTo(w)
	return err
}

// Has reports whether a page or fragment exists, for start-up checks.
func (r *Renderer) Has(name string) bool {
	page, block, _ := strings.Cut(name, "#")
	t, ok := r.pages[page]
	return ok && (block == "" || t.Lookup(block) != nil)
}
