package app_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
)

// pageQueries records the SQL of every page of items the store reads.
type pageQueries struct {
	mu      sync.Mutex
	queries []string
}

func (p *pageQueries) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (p *pageQueries) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	if e.Model == nil {
		return
	}
	if _, ok := e.Model.Value().(*[]*app.Item); ok && strings.Contains(e.Query, ") AS item") {
		p.mu.Lock()
		p.queries = append(p.queries, e.Query)
		p.mu.Unlock()
	}
}

// taken returns the queries recorded since the last call.
func (p *pageQueries) taken() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	queries := p.queries
	p.queries = nil
	return queries
}

func queryRows(tb testing.TB, db *bun.DB, query string) *sql.Rows {
	tb.Helper()
	rows, err := db.QueryContext(context.Background(), query)
	if err != nil {
		tb.Fatal(err)
	}
	return rows
}

// pageModel is a model joined as a page's is, for bun to scan into items.
func pageModel(db *bun.DB, items *[]*app.Item) bun.Model {
	return db.NewSelect().Model(items).Relation("Creator").Relation("Team").GetModel()
}

// bunScan runs a page's SQL and reads it with bun's own scanning.
func bunScan(tb testing.TB, db *bun.DB, query string) []*app.Item {
	tb.Helper()
	var items []*app.Item
	rows := queryRows(tb, db, query)
	defer rows.Close()
	if _, err := pageModel(db, &items).ScanRows(context.Background(), rows); err != nil {
		tb.Fatal(err)
	}
	return items
}

// readItems runs a page's SQL and reads it as the store does.
func readItems(tb testing.TB, db *bun.DB, query string) []*app.Item {
	tb.Helper()
	rows := queryRows(tb, db, query)
	defer rows.Close()
	items, err := app.ReadItems(rows)
	if err != nil {
		tb.Fatal(err)
	}
	return items
}

func sameItems(t *testing.T, what string, got, want []*app.Item) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	if len(got) != len(want) || (got == nil) != (want == nil) {
		t.Errorf("%s: %d items (nil: %v), bun reads %d (nil: %v)", what, len(got), got == nil, len(want), want == nil)
		return
	}
	describe := func(it *app.Item) string {
		return fmt.Sprintf("%+v\n   creator %+v\n   team %+v", *it, it.Creator, it.Team)
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("%s, item %d:\n got  %s\n want %s", what, i, describe(got[i]), describe(want[i]))
		}
	}
}

// scanFixture is a person in a team, with one item that has every field set
// and one that has as few as an item can.
type scanFixture struct {
	viewer      app.Viewer
	full, plain *app.Item
}

func newScanFixture(t testing.TB, s *app.Store) scanFixture {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 12, 0, 0, 123456000, time.UTC)
	s.SetClock(func() time.Time { return now })
	u := &app.User{Handle: "dana", Name: "Dana Scully", Email: "dana@example.com", AvatarURL: "https://example.com/dana.png"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	team := &app.Team{Slug: "xfiles", Name: "X-Files"}
	if err := s.CreateTeam(ctx, team, u.ID); err != nil {
		t.Fatal(err)
	}
	full := &app.Item{
		Kind: app.KindAmbient, Source: app.SourceGitHubActions, Status: app.StatusFailed,
		Title: "Nightly build", CreatorID: u.ID, TeamID: team.ID, Visibility: app.VisibilityTeam,
		CreatedAt: now.Add(-3 * time.Hour), StartedAt: now.Add(-170 * time.Minute),
		FinishedAt: now.Add(-2 * time.Hour), UpdatedAt: now.Add(-time.Hour),
		Inference: 1_250_000, Compute: 3_000_001,
		OpenURL: "https://example.com/open", ExternalURL: "https://example.com/run/7",
		CreateKey: "key-7", CreateHash: "hash-7",
		AgentName: "claude", AgentSession: "session-7", Models: "opus,haiku",
		Tokens:         app.Tokens{Input: 1200, CachedInput: 300, Output: 45},
		UnpricedModels: "haiku",
		Where:          app.Where{Cwd: "/src/app", Repo: "github.com/x/app", Branch: "main"},
		Reason:         "tests failed", FirstPrompt: "Build it",
		HeardAt: now.Add(-90 * time.Minute), StatusAt: now.Add(-100 * time.Minute),
		LastSeq: 17, TranscriptRank: 2,
	}
	plain := &app.Item{
		Kind: app.KindInteractive, Source: app.SourceInteractive, Title: "Quick question",
		CreatorID: u.ID,
	}
	for _, it := range []*app.Item{full, plain} {
		if err := s.CreateItem(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	v, err := s.Viewer(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return scanFixture{viewer: v, full: full, plain: plain}
}

func queryFor(t testing.TB, s *app.Store, v app.Viewer, rawQuery string) app.Query {
	t.Helper()
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		t.Fatal(err)
	}
	f, problems := app.ParseFilter(values)
	if len(problems) > 0 {
		t.Fatalf("filter %q: %v", rawQuery, problems)
	}
	q, _, problems, err := s.ResolveFilter(context.Background(), v, f)
	if err != nil || len(problems) > 0 {
		t.Fatalf("resolve %q: %v %v", rawQuery, problems, err)
	}
	return q
}

// fieldsLeftZero names the fields bun knows of v's type that v leaves
// empty.
func fieldsLeftZero(db *bun.DB, v any) []string {
	strct := reflect.ValueOf(v).Elem()
	var zero []string
	for _, f := range db.Table(strct.Type()).Fields {
		if f.Value(strct).IsZero() {
			zero = append(zero, f.Name)
		}
	}
	return zero
}

func TestItemPagesReadAsBunReadsThem(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		ctx := context.Background()
		fx := newScanFixture(t, s)
		pages := &pageQueries{}
		s.DB().AddQueryHook(pages)

		page, err := s.Items(ctx, queryFor(t, s, fx.viewer, ""), app.PageSize)
		if err != nil {
			t.Fatal(err)
		}
		queries := pages.taken()
		if len(queries) != 1 {
			t.Fatalf("a page read %d pages of items, want 1", len(queries))
		}
		want := bunScan(t, s.DB(), queries[0])
		sameItems(t, "the page", page.Items, want)

		// Every field of the full item must differ from its zero value, so
		// that a setter which forgets it fails the comparison.
		if len(want) != 2 || want[0].ID != fx.plain.ID || want[1].ID != fx.full.ID {
			t.Fatalf("bun read %d items, want the plain item, then the full one", len(want))
		}
		full := want[1]
		for what, v := range map[string]any{"item": full, "creator": full.Creator, "team": full.Team} {
			if reflect.ValueOf(v).IsNil() {
				t.Errorf("the full item has no %s", what)
			} else if zero := fieldsLeftZero(s.DB(), v); len(zero) > 0 {
				t.Errorf("the full item's %s leaves %v empty: give them values", what, zero)
			}
		}
		if got := page.Items[0]; got.Team != nil || !got.StartedAt.IsZero() || got.CreateKey != "" || got.Creator == nil {
			t.Errorf("the plain item reads as team %v, started %v, create key %q, creator %v",
				got.Team, got.StartedAt, got.CreateKey, got.Creator)
		}

		// A page that finds nothing.
		page, err = s.Items(ctx, queryFor(t, s, fx.viewer, "status=blocked"), app.PageSize)
		if err != nil {
			t.Fatal(err)
		}
		queries = pages.taken()
		if len(queries) != 1 {
			t.Fatalf("an empty page read %d pages of items, want 1", len(queries))
		}
		sameItems(t, "the empty page", page.Items, bunScan(t, s.DB(), queries[0]))

		// A search reads pages its own way; an export reads them without
		// the creator and team.
		if _, err := s.Items(ctx, queryFor(t, s, fx.viewer, "q=nightly"), app.PageSize); err != nil {
			t.Fatal(err)
		}
		err = s.EachPage(ctx, queryFor(t, s, fx.viewer, ""), 1, func([]*app.Item) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		queries = pages.taken()
		if len(queries) < 3 {
			t.Fatalf("a search and an export read %d pages of items, want at least 3", len(queries))
		}
		for i, query := range queries {
			sameItems(t, fmt.Sprintf("query %d", i), readItems(t, s.DB(), query), bunScan(t, s.DB(), query))
		}
	})
}

// replayDriver hands over rows recorded from a database, so that a benchmark
// measures the reading of rows apart from the database's own time.
type replayDriver struct {
	columns []string
	rows    [][]driver.Value
}

func (d *replayDriver) Connect(context.Context) (driver.Conn, error) { return d, nil }
func (d *replayDriver) Driver() driver.Driver                        { return d }
func (d *replayDriver) Open(string) (driver.Conn, error)             { return d, nil }
func (d *replayDriver) Prepare(string) (driver.Stmt, error)          { return nil, driver.ErrSkip }
func (d *replayDriver) Begin() (driver.Tx, error)                    { return nil, driver.ErrSkip }
func (d *replayDriver) Close() error                                 { return nil }

func (d *replayDriver) QueryContext(context.Context, string, []driver.NamedValue) (driver.Rows, error) {
	return &replayRows{replayDriver: d}, nil
}

type replayRows struct {
	*replayDriver
	next int
}

func (r *replayRows) Columns() []string { return r.columns }

func (r *replayRows) Next(dest []driver.Value) error {
	if r.next == len(r.rows) {
		return io.EOF
	}
	copy(dest, r.rows[r.next])
	r.next++
	return nil
}

// record reads the values a query's rows hand over.
func record(tb testing.TB, db *bun.DB, query string) *replayDriver {
	tb.Helper()
	rows := queryRows(tb, db, query)
	defer rows.Close()
	columns, err := rows.Columns()
	if err != nil {
		tb.Fatal(err)
	}
	d := &replayDriver{columns: columns}
	for rows.Next() {
		values := make([]any, len(columns))
		dest := make([]any, len(columns))
		for i := range values {
			dest[i] = &values[i]
		}
		if err := rows.Scan(dest...); err != nil {
			tb.Fatal(err)
		}
		row := make([]driver.Value, len(values))
		for i, v := range values {
			row[i] = v
		}
		d.rows = append(d.rows, row)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return d
}

// BenchmarkItemPageScan reads a full page (51 rows, with creator and team)
// with bun's scanning and with ReadItems: from the database, and replayed
// from the values the database handed over, which leaves the reading alone.
func BenchmarkItemPageScan(b *testing.B) {
	for _, n := range apptest.Stores(b) {
		s := n.Store
		fx := newScanFixture(b, s)
		ctx := context.Background()
		for i := range app.PageSize {
			it := *fx.full
			it.ID, it.CreateKey, it.AgentSession = "", fmt.Sprintf("page-key-%d", i), fmt.Sprintf("page-session-%d", i)
			it.CreatedAt = it.CreatedAt.Add(-time.Duration(i+1) * time.Minute)
			if err := s.CreateItem(ctx, &it); err != nil {
				b.Fatal(err)
			}
		}
		pages := &pageQueries{}
		s.DB().AddQueryHook(pages)
		if _, err := s.Items(ctx, queryFor(b, s, fx.viewer, ""), app.PageSize); err != nil {
			b.Fatal(err)
		}
		query := pages.taken()[0]
		replay := bun.NewDB(sql.OpenDB(record(b, s.DB(), query)), s.DB().Dialect())
		b.Cleanup(func() { replay.Close() })
		for _, source := range []struct {
			name string
			db   *bun.DB
		}{{"query", s.DB()}, {"replay", replay}} {
			if rows := len(readItems(b, source.db, query)); rows != app.PageSize+1 {
				b.Fatalf("the page has %d rows, want %d", rows, app.PageSize+1)
			}
			b.Run(n.Name+"/"+source.name+"/bun", func(b *testing.B) {
				b.ReportAllocs()
				var items []*app.Item
				model := pageModel(source.db, &items)
				for b.Loop() {
					items = nil
					rows := queryRows(b, source.db, query)
					if _, err := model.ScanRows(ctx, rows); err != nil {
						b.Fatal(err)
					}
					rows.Close()
				}
			})
			b.Run(n.Name+"/"+source.name+"/ReadItems", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					readItems(b, source.db, query)
				}
			})
		}
	}
}
