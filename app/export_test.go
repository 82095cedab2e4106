package app

import "context"

// SummaryByScan is Summary read from the items themselves, never from the
// rollups: the recount the rollups are checked against.
func (s *Store) SummaryByScan(ctx context.Context, q Query) (Summary, error) {
	arms := visibleArms(q)
	if len(arms) == 0 {
		return Summary{}, nil
	}
	return s.scanSummary(ctx, q, arms)
}
