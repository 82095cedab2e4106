package app

import (
	"cmp"
	"context"
	"net/url"
)

// View is what one viewer sees of the view a query string names: the filter
// as applied (canonical: what could not be used is left out), the problems
// with what was asked, a page of rows and, when asked for, the summary.
type View struct {
	Filter   Filter
	Query    Query
	Problems []*Error
	Page     Page
	Summary  Summary
}

// ViewOptions says what to read of a view.
type ViewOptions struct {
	// Rows is how many rows to read: PageSize when 0, none when negative.
	Rows int
	// Summary reads the summary line too.
	Summary bool
}

// ViewOf is the one way from a view's query string to what a viewer sees of
// it, for the page, its fragments, the live stream and the API alike: parse
// the filter, resolve it for the viewer (who they may name, which day in
// which zone), and read the rows and the summary.
func (s *Store) ViewOf(ctx context.Context, v Viewer, q url.Values, o ViewOptions) (View, error) {
	f, problems := ParseFilter(q)
	return s.ResolveView(ctx, v, f, problems, o)
}

// ResolveView is ViewOf for a filter already parsed (with the problems its
// parsing found).
func (s *Store) ResolveView(ctx context.Context, v Viewer, f Filter, problems []*Error, o ViewOptions) (View, error) {
	query, f, more, err := s.ResolveFilter(ctx, v, f)
	if err != nil {
		return View{}, err
	}
	view := View{Filter: f, Query: query, Problems: append(problems, more...)}
	if o.Rows >= 0 {
		if view.Page, err = s.Items(ctx, query, cmp.Or(o.Rows, PageSize)); err != nil {
			return View{}, err
		}
	}
	if o.Summary {
		if view.Summary, err = s.Summary(ctx, query); err != nil {
			return View{}, err
		}
	}
	return view, nil
}
