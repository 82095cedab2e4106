package app

import "context"

// EachPage reads every item of a query, newest first, size items at a time,
// handing each page to fn before it reads the next. It pages as the view
// does, by the keyset of the last row, so it yields what paging through
// the view would, row for row, with memory bounded by the page size.
func (s *Store) EachPage(ctx context.Context, q Query, size int, fn func([]*Item) error) error {
	for {
		page, err := s.Items(ctx, q, size)
		if err != nil {
			return err
		}
		if len(page.Items) > 0 {
			if err := fn(page.Items); err != nil {
				return err
			}
		}
		if page.Next == nil {
			return nil
		}
		q.After = page.Next
	}
}
