package app

import (
	"cmp"
	"context"
	"net/url"
	"strconv"

	"golang.org/x/sync/errgroup"
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
// parsing found). A view's first page and summary are read once however
// many ask for them at the same time, and kept until an item, or a name the
// rows show, changes (see storeCache).
func (s *Store) ResolveView(ctx context.Context, v Viewer, f Filter, problems []*Error, o ViewOptions) (View, error) {
	query, f, more, err := s.ResolveFilter(ctx, v, f)
	if err != nil {
		return View{}, err
	}
	view := View{Filter: f, Query: query, Problems: append(problems, more...)}
	rows := cmp.Or(o.Rows, PageSize)
	if query.After != nil || s.cache.viewsOff.Load() {
		// Load more reads on from a cursor: each is asked for once.
		view.Page, view.Summary, err = s.readView(ctx, query, rows, o.Summary)
		return view, err
	}
	key := viewCacheKey(query, f, rows, o.Summary)
	if e, ok := lookup(s.cache, s.cache.views, key); ok {
		view.Page, view.Summary = e.value.page, e.value.summary
		return view, nil
	}
	gen, caching := s.cache.begin()
	if !caching {
		view.Page, view.Summary, err = s.readView(ctx, query, rows, o.Summary)
		return view, err
	}
	// A read begun before a change is not shared with those who come after
	// it: the flight is named by the generation too.
	flight := strconv.FormatUint(gen, 10) + "|" + key
	read, err, _ := s.cache.flights.Do(flight, func() (any, error) {
		page, sum, err := s.readView(context.WithoutCancel(ctx), query, rows, o.Summary)
		read := pageAndSummary{page, sum}
		if err == nil {
			keep(s.cache, gen, s.cache.views, key, read, nil, maxCachedViews)
		}
		return read, err
	})
	if err != nil {
		return View{}, err
	}
	view.Page, view.Summary = read.(pageAndSummary).page, read.(pageAndSummary).summary
	return view, nil
}

// readView reads a view's page of rows (none when rows is negative) and,
// when asked, its summary. The two are independent statements, so they run
// at the same time on two connections: the fragment waits for the slower,
// not for both one after the other.
func (s *Store) readView(ctx context.Context, q Query, rows int, summary bool) (page Page, sum Summary, err error) {
	// Either alone (Load more, the API's pages, a saved view's count) is
	// read on the request's own goroutine.
	switch {
	case rows < 0 && !summary:
		return Page{}, Summary{}, nil
	case rows < 0:
		sum, err = s.Summary(ctx, q)
		return Page{}, sum, err
	case !summary:
		page, err = s.Items(ctx, q, rows)
		return page, Summary{}, err
	}
	g, gctx := errgroup.WithContext(ctx)
	if arms := visibleArms(q); q.Search != "" && q.After == nil && len(arms) > 0 {
		// The page and the summary of a search start from the same look
		// at the arms' newest items.
		probes, err := s.searchProbe(ctx, q, arms, searchProbe)
		if err != nil {
			return Page{}, Summary{}, err
		}
		g.Go(func() (err error) { page, err = s.searchItems(gctx, q, arms, rows, true, probes); return err })
		g.Go(func() (err error) { sum, err = s.scanSummary(gctx, q, arms, probes); return err })
	} else {
		g.Go(func() (err error) { page, err = s.Items(gctx, q, rows); return err })
		g.Go(func() (err error) { sum, err = s.Summary(gctx, q); return err })
	}
	if err := g.Wait(); err != nil {
		return Page{}, Summary{}, err
	}
	return page, sum, nil
}
