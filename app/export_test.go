package app

import (
	"context"
	"errors"
	"sync"
)

// SummaryByScan is Summary read from the items themselves, never from the
// rollups: the recount the rollups are checked against.
func (s *Store) SummaryByScan(ctx context.Context, q Query) (Summary, error) {
	arms := visibleArms(q)
	if len(arms) == 0 {
		return Summary{}, nil
	}
	return s.scanSummary(ctx, q, arms, nil)
}

// CreateItemsAtOnce creates items in one statement, as the seed does.
func (s *Store) CreateItemsAtOnce(ctx context.Context, items []*Item) error {
	return createItems(ctx, s.db, s.Now(), items...)
}

// SearchProbe is how many items of the query's arms a search looks at
// first, newest first, to choose how to read each.
const SearchProbe = searchProbe

// SetSearchWalk sets the most rows a search checks one by one in an arm,
// until the test ends.
func SetSearchWalk(t interface{ Cleanup(func()) }, rows int64) {
	was := searchWalk
	searchWalk = rows
	t.Cleanup(func() { searchWalk = was })
}

// SetSummaryWalk sets the most rows, all arms together, a search's summary
// checks one by one, until the test ends or the returned function is called.
func SetSummaryWalk(t interface{ Cleanup(func()) }, rows int64) (restore func()) {
	was := summaryWalk
	summaryWalk = rows
	restore = sync.OnceFunc(func() { summaryWalk = was })
	t.Cleanup(restore)
	return restore
}

// SearchLook is the look a search takes at the newest items of the query's
// arms (see searchProbe), arm by arm as visibleArms orders them: how many
// rows it read of each and how many of those matched.
func (s *Store) SearchLook(ctx context.Context, q Query) (read, matched []int64, err error) {
	probes, err := s.searchProbe(ctx, q, visibleArms(q), searchProbe)
	for _, p := range probes {
		read, matched = append(read, p.Probed), append(matched, p.Found)
	}
	return read, matched, err
}

// InterruptSeeds stops every resumable seed, until the test ends or the
// returned function is called, once it has stored the given number of
// chunks, with ErrSeedInterrupted.
func InterruptSeeds(t interface{ Cleanup(func()) }, chunks int) (stop func()) {
	afterSeedChunk = func(chunk int) error {
		if chunk+1 >= chunks {
			return ErrSeedInterrupted
		}
		return nil
	}
	stop = func() { afterSeedChunk = nil }
	t.Cleanup(stop)
	return stop
}

// ErrSeedInterrupted is the error of a seed InterruptSeeds stopped.
var ErrSeedInterrupted = errors.New("seed interrupted")
