package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// storeCache keeps in memory what nearly every request reads and what
// changes far less often than it is read: sessions, viewers (a user and
// their teams), what a viewer's pages show beside the rows (saved views,
// teammates, the menus' choices), and the first page and summary of views. An entry is
// dropped as soon as what it copies is announced to have changed: at once
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
	sessions map[string]cachedSession
	viewers  map[int64]cachedViewer
	views    map[string]cachedView
	// What a viewer's pages show beside the rows, each made for the teams
	// the viewer was in: the saved views they see, their teammates (the
	// creator menu) and, by tab, the filter menus' choices.
	savedViews map[int64]viewerEntry[[]*SavedView]
	teammates  map[int64]viewerEntry[[]*User]
	facets     map[viewerTab]viewerEntry[Facets]

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

type cachedSession struct {
	session Session
	at      time.Time
}

type cachedViewer struct {
	viewer Viewer
	at     time.Time
}

// viewerEntry is what was read for a viewer in the teams they were in.
type viewerEntry[T any] struct {
	value   T
	teamIDs []int64
	at      time.Time
}

type viewerTab struct {
	userID int64
	tab    Tab
}

type cachedView struct {
	page    Page
	summary Summary
	at      time.Time
}

func newStoreCache() *storeCache {
	return &storeCache{sessions: map[string]cachedSession{}, viewers: map[int64]cachedViewer{}, views: map[string]cachedView{},
		savedViews: map[int64]viewerEntry[[]*SavedView]{}, teammates: map[int64]viewerEntry[[]*User]{},
		facets: map[viewerTab]viewerEntry[Facets]{}}
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

// makeRoom drops an arbitrary entry of a full map, with c.mu held.
func makeRoom[K comparable, V any](m map[K]V, limit int) {
	if len(m) < limit {
		return
	}
	for k := range m {
		delete(m, k)
		return
	}
}

func (c *storeCache) session(hash string) (Session, bool) {
	c.mu.Lock()
	e, ok := c.sessions[hash]
	c.mu.Unlock()
	return e.session, ok && c.fresh(e.at)
}

func (c *storeCache) putSession(gen uint64, hash string, s Session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keeps(gen) {
		makeRoom(c.sessions, maxCachedSessions)
		c.sessions[hash] = cachedSession{s, time.Now()}
	}
}

func (c *storeCache) viewer(userID int64) (Viewer, bool) {
	c.mu.Lock()
	e, ok := c.viewers[userID]
	c.mu.Unlock()
	return e.viewer.clone(), ok && c.fresh(e.at)
}

func (c *storeCache) putViewer(gen uint64, v Viewer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keeps(gen) {
		makeRoom(c.viewers, maxCachedViewers)
		c.viewers[v.User.ID] = cachedViewer{v.clone(), time.Now()}
	}
}

func (c *storeCache) view(key string) (cachedView, bool) {
	c.mu.Lock()
	e, ok := c.views[key]
	c.mu.Unlock()
	return e, ok && c.fresh(e.at)
}

func (c *storeCache) putView(gen uint64, key string, page Page, sum Summary) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keeps(gen) {
		makeRoom(c.views, maxCachedViews)
		c.views[key] = cachedView{page, sum, time.Now()}
	}
}

// forViewer returns what part holds under key for v, unless v's teams have
// changed since; clone copies it for the caller.
func forViewer[K comparable, T any](c *storeCache, part map[K]viewerEntry[T], key K, v Viewer, clone func(T) T) (T, bool) {
	c.mu.Lock()
	e, ok := part[key]
	c.mu.Unlock()
	if !ok || !c.fresh(e.at) || !slices.Equal(e.teamIDs, v.TeamIDs) {
		var none T
		return none, false
	}
	return clone(e.value), true
}

// keepForViewer keeps a copy of value under key for v, unless a change came
// since the read began at gen.
func keepForViewer[K comparable, T any](c *storeCache, gen uint64, part map[K]viewerEntry[T], key K, v Viewer, value T, clone func(T) T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keeps(gen) {
		makeRoom(part, maxCachedViewers)
		part[key] = viewerEntry[T]{clone(value), slices.Clone(v.TeamIDs), time.Now()}
	}
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
	var b strings.Builder
	fmt.Fprintf(&b, "%d|%v|%s|%v|%v|%v|%v|%q|%d|%d|%d|%t", q.Viewer.User.ID, q.Viewer.TeamIDs, f.Encode(),
		q.CreatorIDs, q.NotCreatorIDs, q.TeamIDs, q.NotTeamIDs, q.Search, q.From.UnixNano(), q.To.UnixNano(), rows, summary)
	return b.String()
}
