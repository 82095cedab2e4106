package app

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"
)

// PageSize is how many rows the view shows before "Load more".
const PageSize = 50

// Query is a Filter resolved for one viewer at one moment: creator handles
// and team slugs turned into ids, the day turned into a time range, the
// search into the database's own terms, the cursor decoded.
type Query struct {
	Viewer Viewer
	Tab    Tab
	// Filter holds the choices applied as they are (kinds, sources,
	// statuses, agents, models, repositories, branches).
	Filter        Filter
	CreatorIDs    []int64 // nil: any creator
	NotCreatorIDs []int64
	TeamIDs       []int64 // nil: any team (or none)
	NotTeamIDs    []int64
	// Search is the search in the dialect's own syntax; "" searches nothing.
	Search   string
	From, To time.Time
	After    *Cursor
}

// ResolveFilter prepares a filter for the store. Creator handles that are
// neither the viewer nor a teammate, and team slugs of teams the viewer is
// not in, are dropped and reported, so a shared URL never reveals who or
// what exists beyond one's teams. The filter returned is the one actually
// applied, for the canonical URL.
func (s *Store) ResolveFilter(ctx context.Context, v Viewer, f Filter) (Query, Filter, []*Error, error) {
	q := Query{Viewer: v, Tab: f.Tab}
	var problems []*Error
	if !f.Creators.Empty() {
		// The viewer and their teammates, as the creator menu offers them.
		found, err := s.Teammates(ctx, v)
		if err != nil {
			return Query{}, f, nil, fmt.Errorf("app: resolve creators: %w", err)
		}
		resolve := func(handles []string, ids *[]int64) []string {
			var kept []string
			for _, h := range handles {
				i := slices.IndexFunc(found, func(u *User) bool { return u.Handle == h })
				if i < 0 {
					problems = append(problems, Errorf(EInvalid, "creator", "%q is not you or a teammate and was ignored", h))
					continue
				}
				kept = append(kept, h)
				*ids = append(*ids, found[i].ID)
			}
			return kept
		}
		f.Creators.Is = resolve(f.Creators.Is, &q.CreatorIDs)
		f.Creators.Not = resolve(f.Creators.Not, &q.NotCreatorIDs)
	}
	if !f.Teams.Empty() {
		teams, err := s.TeamsOf(ctx, v)
		if err != nil {
			return Query{}, f, nil, err
		}
		resolve := func(slugs []string, ids *[]int64) []string {
			var kept []string
			for _, slug := range slugs {
				i := slices.IndexFunc(teams, func(m *Membership) bool { return m.Team.Slug == slug })
				if i < 0 {
					problems = append(problems, Errorf(EInvalid, "team", "%q is not one of your teams and was ignored", slug))
					continue
				}
				kept = append(kept, slug)
				*ids = append(*ids, teams[i].TeamID)
			}
			return kept
		}
		f.Teams.Is = resolve(f.Teams.Is, &q.TeamIDs)
		f.Teams.Not = resolve(f.Teams.Not, &q.NotTeamIDs)
	}
	q.Filter = f
	q.Search = s.searchTerms(f.Query)
	if from, to, ok := f.DayRange(s.Now()); ok {
		q.From, q.To = from, to
	}
	if f.Cursor != "" {
		c, err := DecodeCursor(f.Cursor)
		if err != nil {
			return Query{}, f, nil, Errorf(EInvalid, "cursor", "the page cursor is invalid")
		}
		q.After = &c
	}
	return q, f, problems, nil
}

// armQuery selects one arm of the view with the filters applied; columns and
// ordering are left to the caller.
func (s *Store) armQuery(q Query, a arm, columns ...string) *bun.SelectQuery {
	sel := s.db.NewSelect().TableExpr("items").Column(columns...)
	if a.ownerID != 0 {
		sel = sel.Where("creator_id = ?", a.ownerID)
		if q.TeamIDs != nil {
			sel = sel.Where("team_id IN (?)", bun.In(q.TeamIDs))
		}
		if len(q.NotTeamIDs) > 0 {
			sel = sel.Where("(team_id IS NULL OR team_id NOT IN (?))", bun.In(q.NotTeamIDs))
		}
	} else {
		sel = sel.Where("team_id = ?", a.teamID).
			Where("visibility = ?", VisibilityTeam).
			Where("creator_id <> ?", q.Viewer.User.ID)
		if q.CreatorIDs != nil {
			sel = sel.Where("creator_id IN (?)", bun.In(q.CreatorIDs))
		}
		if len(q.NotCreatorIDs) > 0 {
			sel = sel.Where("creator_id NOT IN (?)", bun.In(q.NotCreatorIDs))
		}
	}
	f := q.Filter
	sel = whereChoice(sel, "kind", f.Kinds)
	sel = whereChoice(sel, "source", f.Sources)
	sel = whereChoice(sel, "status", f.Statuses)
	sel = whereChoice(sel, "agent_name", f.Agents)
	sel = whereChoice(sel, "repo", f.Repos)
	sel = whereChoice(sel, "branch", f.Branches)
	if len(f.Models.Is) > 0 || len(f.Models.Not) > 0 {
		// models is a comma-separated list: a model is one of its members.
		member := func(m string) string {
			return "%," + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(m) + ",%"
		}
		if len(f.Models.Is) > 0 {
			sel = sel.WhereGroup(" AND ", func(g *bun.SelectQuery) *bun.SelectQuery {
				for _, m := range f.Models.Is {
					g = g.WhereOr("(',' || models || ',') LIKE ? ESCAPE '\\'", member(m))
				}
				return g
			})
		}
		for _, m := range f.Models.Not {
			sel = sel.Where("(',' || models || ',') NOT LIKE ? ESCAPE '\\'", member(m))
		}
	}
	if q.Search != "" {
		sel = s.whereArmSearch(sel, q, a)
	}
	if !q.From.IsZero() {
		sel = sel.Where("created_at >= ?", q.From).Where("created_at < ?", q.To)
	}
	return sel
}

// whereChoice applies a choice to a column: one of the values to keep, none
// of those to leave out.
func whereChoice[T ~string](sel *bun.SelectQuery, column string, c Choice[T]) *bun.SelectQuery {
	if len(c.Is) > 0 {
		sel = sel.Where("? IN (?)", bun.Ident(column), bun.In(c.Is))
	}
	if len(c.Not) > 0 {
		sel = sel.Where("? NOT IN (?)", bun.Ident(column), bun.In(c.Not))
	}
	return sel
}

// perCreator splits a team's arm filtered by several creators into one query
// per creator: an index yields one person's items in a team newest first, but
// not several people's interleaved, which would take a sort of all of them.
// The viewer is left out, as the own arm lists them.
func perCreator(q Query, a arm) []Query {
	if a.ownerID != 0 || len(q.CreatorIDs) < 2 {
		return []Query{q}
	}
	var out []Query
	for _, id := range q.CreatorIDs {
		if id == q.Viewer.User.ID {
			continue
		}
		one := q
		one.CreatorIDs = []int64{id}
		out = append(out, one)
	}
	return out
}

// itemColumnsOf names the columns of an Item, once for the store (see
// Store.itemColumns).
func itemColumnsOf(db *bun.DB) []string {
	fields := db.Table(reflect.TypeFor[Item]()).Fields
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	return names
}

// unionOfArms joins the arms' queries with UNION ALL. Each arm is wrapped as
// a derived table so that it may keep its own ORDER BY and LIMIT on SQLite.
func (s *Store) unionOfArms(arms []*bun.SelectQuery) schema.QueryAppender {
	if len(arms) == 1 {
		return arms[0]
	}
	expr := ""
	args := make([]any, 0, len(arms))
	for i, a := range arms {
		if i > 0 {
			expr += " UNION ALL "
		}
		expr += fmt.Sprintf("SELECT * FROM (?) AS arm%d", i)
		args = append(args, a)
	}
	return s.db.NewRaw(expr, args...)
}

// Page is one page of the view, newest first.
type Page struct {
	Items []*Item
	Next  *Cursor // nil on the last page
}

// Items returns up to limit items of the query, newest first, after its
// cursor. Each arm is an ordered index scan that stops after limit+1 rows;
// the merge sorts only those. (A search reads some arms otherwise: see
// searchItems.)
func (s *Store) Items(ctx context.Context, q Query, limit int) (Page, error) {
	return s.items(ctx, q, limit, true)
}

// items is Items, with the creator and team of each item loaded (relations)
// or left for the caller to fill in.
func (s *Store) items(ctx context.Context, q Query, limit int, relations bool) (Page, error) {
	arms := visibleArms(q)
	if len(arms) == 0 {
		return Page{}, nil
	}
	if q.Search != "" {
		return s.searchItems(ctx, q, arms, limit, relations, nil)
	}
	var parts []*bun.SelectQuery
	for _, a := range arms {
		parts = append(parts, s.armPages(q, a, limit)...)
	}
	items, err := s.pageOf(ctx, s.pool(), parts, limit, relations, nil)
	if err != nil {
		return Page{}, err
	}
	return pageFrom(items, limit), nil
}

// armPages are the queries of an arm's first limit+1 items after the
// cursor, newest first: one, or one per creator asked for.
func (s *Store) armPages(q Query, a arm, limit int) []*bun.SelectQuery {
	var parts []*bun.SelectQuery
	for _, one := range perCreator(q, a) {
		parts = append(parts, s.newestOfArm(one, a, s.itemColumns...).Limit(int64(limit)+1))
	}
	return parts
}

// newestOfArm is an arm's query newest first, after the query's cursor.
func (s *Store) newestOfArm(q Query, a arm, columns ...string) *bun.SelectQuery {
	sel := s.armQuery(q, a, columns...)
	if q.After != nil {
		sel = sel.Where("(created_at, id) < (?, ?)", q.After.CreatedAt, q.After.ID)
	}
	return sel.OrderExpr("created_at DESC, id DESC")
}

// pageOf merges the arms' queries into the newest limit+1 items, from
// since on when it is set.
func (s *Store) pageOf(ctx context.Context, r reader, parts []*bun.SelectQuery, limit int, relations bool, since *time.Time) ([]*Item, error) {
	var items []*Item
	sel := r.on(s.db.NewSelect()).Model(&items).ModelTableExpr("(?) AS item", s.unionOfArms(parts))
	if relations {
		sel = sel.Relation("Creator").Relation("Team")
	}
	if since != nil {
		sel = sel.Where("item.created_at >= ?", *since)
	}
	items, err := scanItems(ctx, sel.
		OrderExpr("item.created_at DESC, item.id DESC").
		Limit(int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("app: list items: %w", err)
	}
	return items, nil
}

// pageFrom cuts up to limit+1 items, newest first, into a page and the
// cursor of the next.
func pageFrom(items []*Item, limit int) Page {
	page := Page{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		last := page.Items[limit-1]
		page.Next = &Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	return page
}

// searchItems is items for a search. A search index hands over every match
// of its words, to be sorted for the newest: cheap for a rare word, but for
// words neither rare nor common the matches grow with the data. A look at
// each arm's newest searchProbe items (after the cursor) tells how densely
// its words match there. An arm whose look found a page of matches is read
// along its own index, checking only those rows; one whose look found fewer
// is read so too over as many of its newest rows as should hold a page at
// that density (up to searchWalk), which counts only when they do. The other
// arms then ask the search index for their matches no older than the newest
// page found so far: all of them only when the others found less than a page.
// probes is that look when already taken, else nil.
func (s *Store) searchItems(ctx context.Context, q Query, arms []arm, limit int, relations bool, probes []armProbe) (Page, error) {
	if probes == nil {
		var err error
		if probes, err = s.searchProbe(ctx, q, arms, searchProbe); err != nil {
			return Page{}, err
		}
	}
	var walked, indexed []*bun.SelectQuery
	var found []*Item
	for i, a := range arms {
		p := probes[i]
		// The arm's part of the page lies among the rows the look read when
		// they hold a page of matches, when the look read the arm to its
		// end, or when the look stopped before the end of the arm's window:
		// it stops past more matches than a page, older than the page.
		if p.Found > int64(limit) || p.Probed < searchProbe {
			if p.Probed > 0 {
				walked = append(walked, s.searchWindow(q, a, limit, p.Probed))
			}
			continue
		}
		// At the density the look found, twice as many rows as should hold
		// a page.
		window := searchProbe * ((2*int64(limit+1) + p.Found - 1) / max(p.Found, 1))
		if p.Found > 0 && window <= searchWalk {
			items, err := s.walkPage(ctx, []*bun.SelectQuery{s.searchWindow(q, a, limit, window)}, limit, relations)
			if err != nil {
				return Page{}, err
			}
			if len(items) > limit {
				found = append(found, items...)
				continue
			}
		}
		indexed = append(indexed, s.armPages(q, a, limit)...)
	}
	if len(walked) > 0 {
		items, err := s.walkPage(ctx, walked, limit, relations)
		if err != nil {
			return Page{}, err
		}
		found = append(found, items...)
	}
	newestFirst(found)
	if len(indexed) > 0 {
		var since *time.Time
		if len(found) > limit {
			since = &found[limit].CreatedAt
		}
		more, err := s.pageOf(ctx, s.pool(), indexed, limit, relations, since)
		if err != nil {
			return Page{}, err
		}
		found = append(found, more...)
		newestFirst(found)
	}
	return pageFrom(found[:min(len(found), limit+1)], limit), nil
}

// walkPage is pageOf for arms' search windows, read in their index's order.
func (s *Store) walkPage(ctx context.Context, windows []*bun.SelectQuery, limit int, relations bool) (items []*Item, err error) {
	err = s.inIndexOrder(ctx, func(ctx context.Context, r reader) error {
		items, err = s.pageOf(ctx, r, windows, limit, relations, nil)
		return err
	})
	return items, err
}

// reader is where a statement runs, and the comment it carries.
type reader struct {
	conn    bun.IConn
	comment string
}

func (r reader) on(sel *bun.SelectQuery) *bun.SelectQuery { return sel.Conn(r.conn).Comment(r.comment) }

// pool reads on any of the store's connections.
func (s *Store) pool() reader { return reader{conn: s.db} }

// IndexOrderComment marks the statements inIndexOrder runs, and
// IndexOrderSetting is what they run with on PostgreSQL: a recorded one is
// replayed so (apptest.QueryAsRecorded).
const (
	IndexOrderComment = "read in index order"
	IndexOrderSetting = "SET LOCAL enable_sort = off"
)

// inIndexOrder runs read where the planner reads rows in an index's order
// rather than sorting them wherever it can: on PostgreSQL, in a read-only
// transaction in which a sort is the last resort. A search's walk and look
// read an arm's newest rows in order and stop at a page of matches, or past
// the cap; the planner does not see the stop and costs them by their whole
// window, so when its sample of the words makes matches look rare it reads
// the window whole and sorts it (at a million items, 180 ms on disk against
// 75 ms in order).
func (s *Store) inIndexOrder(ctx context.Context, read func(ctx context.Context, r reader) error) error {
	if s.dialect != "postgres" {
		return read(ctx, reader{conn: s.db, comment: IndexOrderComment})
	}
	return s.db.RunInTx(ctx, &sql.TxOptions{ReadOnly: true}, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, IndexOrderSetting); err != nil {
			return fmt.Errorf("app: read in index order: %w", err)
		}
		return read(ctx, reader{conn: tx, comment: IndexOrderComment})
	})
}

// searchWalk is the most of an arm's newest rows a search checks one by one
// for a page of matches (a variable for the tests).
var searchWalk int64 = 50_000

// newestFirst sorts items as the view lists them.
func newestFirst(items []*Item) {
	slices.SortFunc(items, func(a, b *Item) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
}

// searchWindow is an arm's newest limit+1 matches after the cursor among its
// newest window items. Those are read in turn along the arm's index, their
// words checked as they come (never through the search index), until a
// page of matches is found.
func (s *Store) searchWindow(q Query, a arm, limit int, window int64) *bun.SelectQuery {
	unsearched := q
	unsearched.Search = ""
	columns := s.itemColumns
	newest := s.newestOfArm(unsearched, a, slices.Concat(columns, []string{s.searchColumn()})...).Limit(window)
	sel := s.db.NewSelect().TableExpr("(?) AS newest", newest)
	for _, c := range columns {
		sel = sel.ColumnExpr("newest.?", bun.Ident(c))
	}
	return s.whereSearch(sel, q.Search, "newest.").OrderExpr("newest.created_at DESC, newest.id DESC").Limit(int64(limit) + 1)
}

// Summary is the line above the table: how many items the tab and filters
// select, how many are working now (and have failed, for a saved view's
// tab), and their credits in total.
type Summary struct {
	Items   int64   `bun:"items"`
	Working int64   `bun:"working"`
	Failed  int64   `bun:"failed"`
	Credits Credits `bun:"-"`
	// More says a search matched more than SearchSummaryCap items: they
	// were not all counted, and Items is that cap.
	More bool `bun:"-"`
}

// SearchSummaryCap is the most matches of a search the summary promises to
// count. A common word matches a good part of all items, and counting each
// match reads it, on every keystroke of a search typed as one goes; when a
// look at each arm's newest items already finds more matches than this, the
// summary says "more than" instead.
const SearchSummaryCap = 1000

// moreThanTheCap is a search's summary when it matches more than the cap.
var moreThanTheCap = Summary{Items: SearchSummaryCap, More: true}

// searchProbe is how many of each arm's newest items that look reads: along
// the arm's own index, as a common word's matches lie close together there
// while a search index would hand over every one of them.
const searchProbe = 2000

// Summary counts everything the query selects, ignoring its cursor.
//
// Its credits cannot overflow, on either database, however many items there
// are. Each item holds at most MaxCredits of each kind (below 10⁹ credits),
// so SQL sums whole credits and millionths apart: an item adds less than
// 2×10⁹ to the one and less than 2×10⁶ to the other, and a 64-bit integer
// holds either sum for 4.6 billion items, more than any instance keeps. The
// total of the two, exact up to 9.2 trillion credits, is held at the largest
// Credits beyond that rather than wrapping.
func (s *Store) Summary(ctx context.Context, q Query) (Summary, error) {
	arms := visibleArms(q)
	if len(arms) == 0 {
		return Summary{}, nil
	}
	if sum, ok, err := s.rollupSummary(ctx, q, arms); ok || err != nil {
		return sum, err
	}
	return s.scanSummary(ctx, q, arms, nil)
}

// scanSummary sums the query's items themselves, read from the arms'
// indexes. For a search, probes is the look at the arms' newest items
// (without a cursor) when already taken, else nil.
func (s *Store) scanSummary(ctx context.Context, q Query, arms []arm, probes []armProbe) (Summary, error) {
	if q.Search != "" {
		if sum, ok, err := s.searchSummary(ctx, q, arms, probes); ok || err != nil {
			return sum, err
		}
	}
	columns := []string{"status", "inference_credits", "compute_credits"}
	parts := make([]*bun.SelectQuery, len(arms))
	for i, a := range arms {
		parts[i] = s.armQuery(q, a, columns...)
	}
	matching := s.unionOfArms(parts)
	if q.Search != "" {
		// No more than the cap and one are read: the matches of two words
		// neither rare nor common may be too many to count, though the look
		// at the newest did not find more than the cap.
		matching = s.db.NewSelect().TableExpr("(?) AS matching", matching).ColumnExpr("*").Limit(SearchSummaryCap + 1)
	}
	var row struct {
		Summary
		Whole int64 `bun:"whole_credits"`
		Micro int64 `bun:"micro_credits"`
	}
	if err := withSums(s.db.NewSelect().TableExpr("(?) AS u", matching), "1").Scan(ctx, &row); err != nil {
		return Summary{}, fmt.Errorf("app: summarise items: %w", err)
	}
	if q.Search != "" && row.Items > SearchSummaryCap {
		return moreThanTheCap, nil
	}
	sum := row.Summary
	sum.Credits = addCredits(row.Whole, row.Micro)
	return sum, nil
}

// withSums adds a summary's sums to sel, over the rows for which counted (an
// expression of 1 or 0) is 1: how many, how many working and failed, and
// their whole credits and millionths apart (see Summary).
func withSums(sel *bun.SelectQuery, counted string) *bun.SelectQuery {
	c := bun.Safe(counted)
	return sel.ColumnExpr("COALESCE(SUM(?), 0) AS items", c).
		ColumnExpr("COALESCE(SUM(CASE WHEN status = ? THEN ? ELSE 0 END), 0) AS working", StatusWorking, c).
		ColumnExpr("COALESCE(SUM(CASE WHEN status = ? THEN ? ELSE 0 END), 0) AS failed", StatusFailed, c).
		ColumnExpr("CAST(COALESCE(SUM(? * (inference_credits / ? + compute_credits / ?)), 0) AS BIGINT) AS whole_credits", c, creditUnit, creditUnit).
		ColumnExpr("CAST(COALESCE(SUM(? * (inference_credits % ? + compute_credits % ?)), 0) AS BIGINT) AS micro_credits", c, creditUnit, creditUnit)
}

// searchSummary counts a search's matches, when it can, without asking the
// search index for every match of its words:
//   - from the look at each arm's newest rows, when it read every row of
//     the arms or found more than the cap;
//   - else by asking the search index, with the arms' keys, for more than
//     the cap of the words' whole-word matches (searchOverCap);
//   - else by checking the words on more of the arms' newest rows, newest
//     first, as the look does: a walk sized from the density of matches the
//     look found to hold about half as many again as the cap, which either
//     finds more than the cap or reads every row.
//
// ok is false when none of these can tell, or the words are too rare for a
// walk of summaryWalk rows: the search index sums the matches then.
func (s *Store) searchSummary(ctx context.Context, q Query, arms []arm, probes []armProbe) (sum Summary, ok bool, err error) {
	unpaged := q
	unpaged.After = nil
	if probes == nil {
		if probes, err = s.searchProbe(ctx, unpaged, arms, searchProbe); err != nil {
			return Summary{}, false, err
		}
	}
	if sum, ok := probeSummary(probes, searchProbe); ok {
		return sum, true, nil
	}
	found, _ := probeTotals(probes)
	if found == 0 {
		return Summary{}, false, nil
	}
	over, err := s.searchOverCap(ctx, unpaged, arms)
	if err != nil {
		return Summary{}, false, err
	}
	if over {
		return moreThanTheCap, true, nil
	}
	window := searchProbe * ceilDiv(summaryWalkMatches, found)
	if window*int64(len(arms)) > summaryWalk {
		return Summary{}, false, nil
	}
	walks, err := s.searchProbe(ctx, unpaged, arms, window)
	if err != nil {
		return Summary{}, false, err
	}
	sum, ok = probeSummary(walks, window)
	return sum, ok, nil
}

// searchOverCap reports whether a search matches more than the cap by its
// words matched whole alone, which match some of what it matches. The
// search index intersects them with the arms' keys (see whereArmSearch);
// the last word as the start of a word would hand over every item with a
// word that starts so, too many for the index to keep apart row by row.
// Counting stops at the cap and one.
func (s *Store) searchOverCap(ctx context.Context, q Query, arms []arm) (bool, error) {
	whole := q
	whole.Search = wholeWordTerms(q.Search)
	parts := make([]*bun.SelectQuery, len(arms))
	for i, a := range arms {
		parts[i] = s.armQuery(whole, a, "id")
	}
	capped := s.db.NewSelect().TableExpr("(?) AS matching", s.unionOfArms(parts)).ColumnExpr("1").Limit(SearchSummaryCap + 1)
	var n int64
	if err := s.db.NewSelect().TableExpr("(?) AS capped", capped).ColumnExpr("COUNT(*)").Scan(ctx, &n); err != nil {
		return false, fmt.Errorf("app: count whole-word search matches: %w", err)
	}
	return n > SearchSummaryCap, nil
}

// summaryWalkMatches is how many matches a search's summary walk is sized to
// find at the density the look found: half as many again as the cap, so
// that it finds more than the cap when the matches go on as they began.
const summaryWalkMatches = SearchSummaryCap * 3 / 2

// summaryWalk is the most rows, all arms together, that a search's summary
// checks one by one before it asks the search index (a variable for the
// tests): about what a match in twenty among three arms takes. Each row
// checked may be a page read of its own, which at ten million items is no
// longer in the database's memory.
var summaryWalk int64 = 30_000

// probeSummary is the summary a look at the arms' newest window rows
// tells: more than the cap when it found more, else the sums of its matches
// when it read every row of every arm. ok is false when it tells neither.
func probeSummary(probes []armProbe, window int64) (sum Summary, ok bool) {
	var whole, micro int64
	exhausted := true
	for _, p := range probes {
		sum.Items += p.Found
		sum.Working += p.Working
		sum.Failed += p.Failed
		whole += p.Whole
		micro += p.Micro
		exhausted = exhausted && p.Probed < window
	}
	if sum.Items > SearchSummaryCap {
		return moreThanTheCap, true
	}
	if !exhausted {
		return Summary{}, false
	}
	sum.Credits = addCredits(whole, micro)
	return sum, true
}

// armProbe is what a look at an arm's newest items found: how many it read
// (fewer than the window when the arm has no more, or when the look
// stopped before: see searchProbe) and how many matched, with their sums.
type armProbe struct {
	Arm     int   `bun:"arm"`
	Probed  int64 `bun:"probed"`
	Found   int64 `bun:"items"`
	Working int64 `bun:"working"`
	Failed  int64 `bun:"failed"`
	Whole   int64 `bun:"whole_credits"`
	Micro   int64 `bun:"micro_credits"`
}

// searchProbe looks at the newest window items of each arm after the
// query's cursor, filtered as asked but for the search, and counts them and
// the matches among them, with the matches' sums. The newest are picked
// from the arm's index alone, and only they are read. The arms are read
// together, newest first, and the look stops at the cap's first match over
// it: that many tell the summary all it says (more than the cap), so a
// common word is checked on as few rows as hold them, not on the whole
// window of every arm. PostgreSQL stops there (the count of matches is a
// run condition of the window function); SQLite reads every window.
func (s *Store) searchProbe(ctx context.Context, q Query, arms []arm, window int64) ([]armProbe, error) {
	unsearched := q
	unsearched.Search = ""
	parts := make([]*bun.SelectQuery, len(arms))
	read := []string{"created_at", "id", s.searchColumn(), "status", "inference_credits", "compute_credits"}
	for i, a := range arms {
		match := s.whereSearch(s.db.NewSelect().ColumnExpr("1"), q.Search, "probed.")
		newest := func(columns ...string) *bun.SelectQuery {
			return s.newestOfArm(unsearched, a, columns...).Limit(window)
		}
		var sel *bun.SelectQuery
		order := "probed.created_at DESC, probed.id DESC"
		if !q.Filter.picksRows() {
			// The arm's newest rows are the newest items: read them in turn.
			sel = s.db.NewSelect().TableExpr("(?) AS probed", newest(read...)).
				ColumnExpr("probed.created_at, probed.id")
		} else {
			// Filters pick some of the arm's rows: pick them from the index
			// and read only those, in the index's order.
			sel = s.db.NewSelect().TableExpr("(?) AS newest", newest("created_at", "id")).
				Join("JOIN items AS probed ON probed.id = newest.id").
				ColumnExpr("newest.created_at, newest.id")
			order = "newest.created_at DESC, newest.id DESC"
		}
		// The LIMIT, which the rows already keep, stops PostgreSQL from
		// pulling the arm up into the sums below, which would check the
		// words once for every sum.
		parts[i] = sel.ColumnExpr("? AS arm", i).
			ColumnExpr("CASE WHEN EXISTS (?) THEN 1 ELSE 0 END AS found", match).
			ColumnExpr("probed.status, probed.inference_credits, probed.compute_credits").
			OrderExpr(order).
			Limit(window)
	}
	// The matches before each row, by COUNT(*) FILTER rather than
	// COUNT(expression): PostgreSQL knows the former only grows along the
	// window, and so stops where it passes the cap.
	counted := s.db.NewSelect().TableExpr("(?) AS newest", s.unionOfArms(parts)).
		ColumnExpr("arm, found, status, inference_credits, compute_credits").
		ColumnExpr("COUNT(*) FILTER (WHERE found = 1) OVER (ORDER BY created_at DESC, id DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS matches_before")
	probes := make([]armProbe, len(arms))
	var rows []armProbe
	probe := s.db.NewSelect().TableExpr("(?) AS probe", counted).ColumnExpr("arm").ColumnExpr("COUNT(*) AS probed").
		Where("matches_before <= ?", SearchSummaryCap)
	err := s.inIndexOrder(ctx, func(ctx context.Context, r reader) error {
		return withSums(r.on(probe), "found").GroupExpr("arm").Scan(ctx, &rows)
	})
	if err != nil {
		return nil, fmt.Errorf("app: probe search matches: %w", err)
	}
	for i := range probes {
		probes[i].Arm = i
	}
	for _, r := range rows {
		probes[r.Arm] = r
	}
	return probes, nil
}

// probeTotals adds up the arms' probes.
func probeTotals(probes []armProbe) (found, probed int64) {
	for _, p := range probes {
		found += p.Found
		probed += p.Probed
	}
	return found, probed
}

// addCredits is whole credits plus micro millionths, held at the largest
// Credits when the sum would not fit.
func addCredits(whole, micro int64) Credits {
	whole += micro / creditUnit
	micro %= creditUnit
	if whole > (math.MaxInt64-micro)/creditUnit {
		return Credits(math.MaxInt64)
	}
	return Credits(whole*creditUnit + micro)
}

// Item returns one item with its creator and team, or ErrNotFound when it is
// absent or the viewer may not see it.
func (s *Store) Item(ctx context.Context, v Viewer, id string) (*Item, error) {
	if !validItemID(id) {
		return nil, ErrNotFound
	}
	it, err := s.itemByID(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	if !v.CanSee(it) {
		return nil, fmt.Errorf("app: item %s: %w", id, ErrNotFound)
	}
	return it, nil
}

// ItemSeenBy returns one item, read once for many viewers, with those of the
// viewers who may see it (Viewer.CanSee). It returns ErrNotFound when the
// item is absent or none of them may see it.
func (s *Store) ItemSeenBy(ctx context.Context, id string, viewers []Viewer) (*Item, []Viewer, error) {
	if !validItemID(id) {
		return nil, nil, ErrNotFound
	}
	it, err := s.itemByID(ctx, s.db, id)
	if err != nil {
		return nil, nil, err
	}
	var seers []Viewer
	for _, v := range viewers {
		if v.CanSee(it) {
			seers = append(seers, v)
		}
	}
	if len(seers) == 0 {
		return nil, nil, fmt.Errorf("app: item %s: %w", id, ErrNotFound)
	}
	return it, seers, nil
}

// InView reports whether the item is one of those the query lists, on any
// page: the view's own query, narrowed to one id, so that "matches the view"
// has a single definition.
func (s *Store) InView(ctx context.Context, q Query, id string) (bool, error) {
	arms := visibleArms(q)
	if len(arms) == 0 || !validItemID(id) {
		return false, nil
	}
	parts := make([]*bun.SelectQuery, len(arms))
	for i, a := range arms {
		parts[i] = s.armQuery(q, a, "id").Where("id = ?", id)
	}
	n, err := s.db.NewSelect().TableExpr("(?) AS u", s.unionOfArms(parts)).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("app: item %s in view: %w", id, err)
	}
	return n > 0, nil
}

// CreateItem validates and stores a new item. Missing id, times and
// visibility get their defaults.
func (s *Store) CreateItem(ctx context.Context, it *Item) error {
	if err := createItems(ctx, s.db, s.Now(), it); err != nil {
		return err
	}
	s.itemChanged(it.ID)
	return nil
}

// createItems inserts items in one statement after checking each.
func createItems(ctx context.Context, db bun.IDB, now time.Time, items ...*Item) error {
	if err := prepareItems(now, items); err != nil {
		return err
	}
	if _, err := db.NewInsert().Model(&items).Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return Errorf(EConflict, "id", "an item with this id exists")
		}
		return fmt.Errorf("app: create %d items: %w", len(items), err)
	}
	return nil
}

// prepareItems gives new items their defaults (id, times, visibility,
// status) and checks each against the rules.
func prepareItems(now time.Time, items []*Item) error {
	for _, it := range items {
		if err := prepareItem(it, now); err != nil {
			return err
		}
	}
	return nil
}

// prepareItem fills a new item's defaults and checks it.
func prepareItem(it *Item, now time.Time) error {
	if it.ID == "" {
		it.ID = NewItemID()
	} else if !validItemID(it.ID) {
		return Errorf(EInvalid, "id", "the id must be a lower-case UUID")
	}
	if it.Visibility == "" {
		it.Visibility = DefaultVisibility(it.Source)
	}
	if it.Status == "" {
		it.Status = StatusWorking
	}
	if it.CreatedAt.IsZero() {
		it.CreatedAt = now
	}
	if it.UpdatedAt.IsZero() {
		it.UpdatedAt = it.CreatedAt
	}
	return it.Validate()
}
