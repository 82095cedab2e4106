package app

import "context"

// EachPage reads every item of a query, newest first, size items at a time,
// handing each page to fn in order. It pages as the view does, by the keyset
// of the last row, so it yields what paging through the view would, row for
// row. The next page is read while fn handles the one before, so that the
// database and the caller work at once; memory holds three pages at most.
func (s *Store) EachPage(ctx context.Context, q Query, size int, fn func([]*Item) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		items []*Item
		err   error
	}
	pages := make(chan result, 1)
	go func() {
		defer close(pages)
		for {
			page, err := s.Items(ctx, q, size)
			select {
			case pages <- result{page.Items, err}:
			case <-ctx.Done():
				return
			}
			if err != nil || page.Next == nil {
				return
			}
			q.After = page.Next
		}
	}()
	for p := range pages {
		if p.err != nil {
			return p.err
		}
		if len(p.items) > 0 {
			if err := fn(p.items); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}
