package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// storeCache keeps in memory what nearly every request reads and what
// changes far less often than it is read: sessions, viewers (a user and
// their teams), what a viewer's pages show beside the rows (saved views,
// teammates, the menus' choices), and the first page and summary of views.
// An entry is dropped as soon as what it copies is announced to have
// changed: at once
// in the process that made the change, and in every other replica when the
// hub's hint arrives. It is used only while the hub hears every replica
// (on PostgreSQL, while its listener listens), and no entry outlives
// cacheMaxAge, which bounds how long an edit made behind agentdeck's back,
// in the database itself, goes unseen.
type storeCache struct {
	hearsAll func() bool
	// viewsOff makes every view read from the database (CacheViews).
	viewsOff atomic.Bool

	mu sync.Mutex
	// gen counts invalidations: a copy read from the database under an
	// older one may predate the change and is not kept.
	gen      uint64
	sessions map[string]entry[Session]
	viewers  map[int64]entry[Viewer]
	views    map[string]entry[pageAndSummary]
	// What a viewer's pages show beside the rows, each made for the teams
	// the viewer was in: the saved views they see, their teammates (the
	// creator menu) and, by tab, the filter menus' choices.
	savedViews map[int64]entry[[]*SavedView]
	teammates  map[int64]entry[[]*User]
	facets     map[viewerTab]entry[Facets]

	flights singleflight.Group // one read of a view at a time, shared
}

// cacheMaxAge bounds the life of every entry; see storeCache.
const cacheMaxAge = time.Minute

// How many entries each part keeps at most; past it, an arbitrary entry
// makes room. A view's entry holds a page of rows, hence its lower bound.
const (
	maxCachedSessions = 100_000
	maxCachedViewers  = 100_000
	maxCachedViews    = 1_000
)

// entry is one copy: what was read, when, and for what is read for a
// viewer, the teams they were in.
type entry[T any] struct {
	value   T
	teamIDs []int64
	at      time.Time
}

type viewerTab struct {
	userID int64
	tab    Tab
}

// pageAndSummary is what a view's entry holds.
type pageAndSummary struct {
	page    Page
	summary Summary
}

func newStoreCache() *storeCache {
	return &storeCache{sessions: map[string]entry[Session]{}, viewers: map[int64]entry[Viewer]{}, views: map[string]entry[pageAndSummary]{},
		savedViews: map[int64]entry[[]*SavedView]{}, teammates: map[int64]entry[[]*User]{},
		facets: map[viewerTab]entry[Facets]{}}
}

// begin starts a read that may be kept: it returns the generation to hand
// to the put that follows, and false when nothing may be cached now.
func (c *storeCache) begin() (uint64, bool) {
	if !c.hearsAll() {
		return 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen, true
}

// fresh reports whether an entry made at may still be used.
func (c *storeCache) fresh(at time.Time) bool {
	return time.Since(at) < cacheMaxAge && c.hearsAll()
}

// keeps reports, with c.mu held, whether a read begun at gen may be kept.
func (c *storeCache) keeps(gen uint64) bool { return gen == c.gen && c.hearsAll() }

// lookup returns the fresh entry that part holds under key.
func lookup[K comparable, T any](c *storeCache, part map[K]entry[T], key K) (entry[T], bool) {
	c.mu.Lock()
	e, ok := part[key]
	c.mu.Unlock()
	return e, ok && c.fresh(e.at)
}

// keep puts value under key in part, unless a change came since the read
// began at gen; a full part first drops an arbitrary entry.
func keep[K comparable, T any](c *storeCache, gen uint64, part map[K]entry[T], key K, value T, teamIDs []int64, limit int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.keeps(gen) {
		return
	}
	if _, ok := part[key]; !ok && len(part) >= limit {
		for k := range part {
			delete(part, k)
			break
		}
	}
	part[key] = entry[T]{value, teamIDs, time.Now()}
}

// forViewer returns a copy of what part holds under key for v, unless v's
// teams have changed since.
func forViewer[K comparable, T any](c *storeCache, part map[K]entry[T], key K, v Viewer, clone func(T) T) (T, bool) {
	e, ok := lookup(c, part, key)
	if !ok || !slices.Equal(e.teamIDs, v.TeamIDs) {
		var none T
		return none, false
	}
	return clone(e.value), true
}

// keepForViewer keeps a copy of value under key for v, in v's teams.
func keepForViewer[K comparable, T any](c *storeCache, gen uint64, part map[K]entry[T], key K, v Viewer, value T, clone func(T) T) {
	keep(c, gen, part, key, clone(value), slices.Clone(v.TeamIDs), maxCachedViewers)
}

// clonePointers copies what each element points to, so that no caller
// shares another's.
func clonePointers[T any](list []*T) []*T {
	out := make([]*T, len(list))
	for i, p := range list {
		copied := *p
		out[i] = &copied
	}
	return out
}

// cloneFacets copies a tab's menus.
func cloneFacets(f Facets) Facets {
	return Facets{Agents: slices.Clone(f.Agents), Models: slices.Clone(f.Models), Repos: slices.Clone(f.Repos),
		Branches: slices.Clone(f.Branches), Teams: clonePointers(f.Teams)}
}

// observe drops what hints say changed; the hub calls it with every hint,
// this process's own and other replicas', before any subscriber sees it.
func (c *storeCache) observe(hints []Hint) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, h := range hints {
		switch {
		case h.Resync():
			c.dropAll()
		case h.SessionEnded != "":
			delete(c.sessions, h.SessionEnded)
		case h.SessionChanged != "":
			delete(c.sessions, h.SessionChanged)
		case h.UserChanged != 0:
			// Rows, saved views and menus show people's names, a team's
			// members are others' teammates, and a team's saved views are
			// managed by its admins.
			delete(c.viewers, h.UserChanged)
			c.dropViewersParts()
		case h.TeamChanged != 0:
			// Rows, saved views and menus show their team's name.
			c.dropViewersParts()
		case h.SavedViewsChanged:
			clear(c.savedViews)
		case h.ItemID != "" && !h.Events:
			// The menus offer the agents, models, repositories and
			// branches of the newest items.
			clear(c.views)
			clear(c.facets)
		default:
			continue
		}
		c.gen++
	}
}

// dropViewersParts empties the views and what is kept for each viewer
// beside them, with c.mu held.
func (c *storeCache) dropViewersParts() {
	clear(c.views)
	clear(c.savedViews)
	clear(c.teammates)
	clear(c.facets)
}

// dropAll empties the cache, with c.mu held.
func (c *storeCache) dropAll() {
	clear(c.sessions)
	clear(c.viewers)
	c.dropViewersParts()
}

// CacheViews turns keeping views' pages and summaries in memory on (the
// default) or off, so that the benchmarks can measure the reads it saves.
func (s *Store) CacheViews(on bool) { s.cache.viewsOff.Store(!on) }

// changed drops, at once, what this process's own write changed, and
// announces it to every replica, this one included, through the hub.
func (s *Store) changed(hints ...Hint) {
	s.cache.observe(hints)
	s.hub.Publish(hints...)
}

// listenForCache holds a subscription to the hub for as long as the store
// is open, so that on PostgreSQL the hub's listener runs and every
// replica's hints reach storeCache.observe: the first at once, so that the
// first requests may use the cache, then another whenever one ends, until
// the hub closes.
func (s *Store) listenForCache(ctx context.Context) {
	sub, err := s.hub.Subscribe(ctx, 64)
	go func() {
		for !errors.Is(err, ErrHubClosed) {
			if err == nil {
				// The hints themselves went to observe already.
				for range sub.C {
				}
			} else {
				select {
				case <-s.closing.Done():
					return
				case <-time.After(listenBackoffMax):
				}
			}
			sub, err = s.hub.Subscribe(s.closing, 64)
		}
	}()
}

// clone copies a viewer, so that no caller shares another's.
func (v Viewer) clone() Viewer {
	if v.User != nil {
		u := *v.User
		v.User = &u
	}
	v.TeamIDs = slices.Clone(v.TeamIDs)
	return v
}

// viewCacheKey names what a view's first page and summary depend on: the
// viewer (who they are and which teams they are in) and the query as
// resolved, its day's bounds included.
func viewCacheKey(q Query, f Filter, rows int, summary bool) string {
	return fmt.Sprintf("%d|%v|%s|%v|%v|%v|%v|%q|%d.%d|%d.%d|%d|%t", q.Viewer.User.ID, q.Viewer.TeamIDs, f.Encode(),
		q.CreatorIDs, q.NotCreatorIDs, q.TeamIDs, q.NotTeamIDs, q.Search,
		q.From.Unix(), q.From.Nanosecond(), q.To.Unix(), q.To.Nanosecond(), rows, summary)
}
