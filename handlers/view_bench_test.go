package handlers_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
)

// benchNow is the benchmark's pinned "now": the data set is generated around
// it, so a database seeded once serves every later run with the same days.
var benchNow = time.Date(2026, 11, 25, 15, 4, 5, 0, time.UTC)

// benchViewer is who signs in: a member of two teams, so All has three arms.
const benchViewer = "maya"

// The shape of the data set, as the issue asks: ~200 people in ~20 teams.
const (
	benchUsers = 200
	benchTeams = 20
	benchDays  = 30
)

// benchCase is one view the benchmark requests as an htmx fragment.
type benchCase struct {
	name    string
	path    string // the view's address
	trigger string // the id of the element that asked, as htmx sends it
}

// BenchmarkViewFragment is the speed benchmark of the management view on
// PostgreSQL (README, "Speed"):
//
//	BENCH_DATABASE_URL='postgres://postgres@127.0.0.1:5432/agentdeck_bench?sslmode=disable' \
//	  go test ./handlers/ -run '^$' -bench ViewFragment -benchtime 200x -timeout 30m
//
// BENCH_ITEMS sets the number of items (default 1,000,000). The data set lives
// in a schema of its own per size, is seeded on the first run and reused by
// every later one. For every view it checks the plans of the statements the
// fragment runs, then times the fragment against those statements run raw.
func BenchmarkViewFragment(b *testing.B) {
	base, n := benchSize(b)
	ctx := context.Background()
	store := benchStore(b, base, fmt.Sprintf("bench_v%d_%d", benchDataVersion, n),
		app.SeedOptions{Users: benchUsers, Teams: benchTeams, Items: n, Days: benchDays, Now: benchNow, Seed: 2026})
	rec := &apptest.StatementRecorder{}
	store.DB().AddQueryHook(rec)
	a := newTestApp(b, store, nil)
	client := a.signIn(b, benchViewer)
	// The slowest views (searches) take seconds at ten million items: they
	// are measured, not cut off.
	client.Timeout = 0

	me, err := store.UserByHandle(ctx, benchViewer)
	if err != nil {
		b.Fatal(err)
	}
	viewer, err := store.Viewer(ctx, me.ID)
	if err != nil {
		b.Fatal(err)
	}
	mates, err := store.Teammates(ctx, viewer)
	if err != nil {
		b.Fatal(err)
	}
	var others []string
	for _, u := range mates {
		if u.ID != me.ID {
			others = append(others, u.Handle)
		}
	}
	if len(others) < 2 {
		b.Fatalf("%s has %d teammates, want two at least", benchViewer, len(others))
	}
	mate, mate2 := others[0], others[1]
	memberships, err := store.TeamsOf(ctx, viewer)
	if err != nil || len(memberships) == 0 {
		b.Fatalf("%s's teams: %v", benchViewer, err)
	}
	team := memberships[0].Team.Slug

	allTab := benchCase{"all", "/?tab=all", ""}
	cases := []benchCase{
		{"personal", "/", ""},
		allTab,
		{"all,status=failed", "/?tab=all&status=failed", "filters"},
		{"all,source=slack", "/?tab=all&source=slack", "filters"},
		{"all,source=slack,status=failed", "/?tab=all&source=slack&status=failed", "filters"},
		{"all,creator=" + mate, "/?tab=all&creator=" + mate, "filters"},
		{"all,creator=" + mate + "+" + mate2, "/?tab=all&creator=" + mate + "&creator=" + mate2, "filters"},
		{"all,day=today", "/?tab=all&day=today", "filters"},
		{"all,day=7d,status=failed", "/?tab=all&status=failed&day=7d", "filters"},
		{"personal,source=slack,day=yesterday", "/?source=slack&day=yesterday", "filters"},
		// Search, as one types it (the search box asks), and the filters of
		// the second release, each also left out.
		{"all,q=fix", "/?tab=all&q=fix", "search"},
		{"all,q=billing+webhook", "/?tab=all&q=billing+webhook", "search"},
		{"all,q=fix,status=failed", "/?tab=all&q=fix&status=failed", "filters"},
		{"all,kind=interactive", "/?tab=all&kind=interactive", "filters"},
		{"all,agent=codex", "/?tab=all&agent=codex", "filters"},
		{"all,agent=gemini-cli", "/?tab=all&agent=gemini-cli", "filters"},
		{"all,model=claude-haiku-4-5", "/?tab=all&model=claude-haiku-4-5", "filters"},
		{"all,repo=acme/web", "/?tab=all&repo=acme/web", "filters"},
		{"all,branch=main", "/?tab=all&branch=main", "filters"},
		{"all,team=" + team, "/?tab=all&team=" + team, "filters"},
		{"all,source=-slack,status=-success", "/?tab=all&source=-slack&status=-success", "filters"},
		{"all,agent=codex,repo=acme/web,day=7d", "/?tab=all&agent=codex&repo=acme/web&day=7d", "filters"},
	}
	// "Load more" continues All from the cursor its first page hands out.
	resp, first := a.get(b, client, allTab.path, htmx(allTab.trigger))
	checkFragment(b, allTab, resp, first)
	more := loadMoreURL.FindStringSubmatch(first)
	if more == nil {
		b.Fatalf("the first page of All has no Load more link:\n%s", first)
	}
	cases = append(cases, benchCase{"all,load-more", html.UnescapeString(more[1]), ""})

	// Capture what the store runs for each fragment read from the database
	// and check its plans, before any timing; the hook is then removed so it
	// costs nothing.
	store.CacheViews(false)
	sqldb := store.DB().DB
	stmts := make([][]string, len(cases))
	rows := make([]int, len(cases))
	for i, c := range cases {
		rec.Start()
		rows[i] = requestFragment(b, a, client, c)
		stmts[i] = apptest.Reads(rec.Stop())
		b.Logf("%s: %s: %d rows, %d statements", c.name, c.path, rows[i], len(stmts[i]))
		for _, q := range stmts[i] {
			checkPlan(b, sqldb, c.name, q, maxArms(b, c, viewer)*largestLimit(q))
		}
	}
	store.DB().ResetQueryHooks()

	results := make([]benchResult, len(cases))
	for i, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			results[i] = timeCase(b, a, client, sqldb, c, stmts[i], n)
		})
	}

	var table strings.Builder
	fmt.Fprintf(&table, "%d items, medians over the interleaved runs\n", n)
	fmt.Fprintf(&table, "| view | rows | statements | rows SQL (ms) | summary SQL (ms) | raw SQL (ms) | fragment, server (ms) | fragment / SQL | round trip (ms) | kept in memory (ms) |\n"+
		"| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for i, c := range cases {
		r := results[i]
		fmt.Fprintf(&table, "| %s | %d | %d | %.2f | %.2f | %.2f | %.2f | %.2f× | %.2f | %.2f |\n", c.name, rows[i], len(stmts[i]),
			ms(r.rowsSQL), ms(r.summarySQL), ms(r.sql), ms(r.fragment), r.ratio(), ms(r.trip), ms(r.kept))
	}
	b.Log("\n" + table.String())
}

// maxArms is the most LIMITed parts the list query of a case may have: the
// viewer's own items, and each team's shared items once per creator asked for.
func maxArms(b *testing.B, c benchCase, v app.Viewer) int {
	u, err := url.Parse(c.path)
	if err != nil {
		b.Fatal(err)
	}
	return 1 + len(v.TeamIDs)*max(1, len(u.Query()["creator"]))
}

// largestLimit is the largest LIMIT a statement puts on its arms (a page of
// rows and one, or the menus' window of recent items); a page's when it has
// none.
func largestLimit(q string) int {
	most := app.PageSize + 1
	for _, m := range limitClause.FindAllStringSubmatch(q, -1) {
		if n, err := strconv.Atoi(m[1]); err == nil {
			most = max(most, n)
		}
	}
	return most
}

var limitClause = regexp.MustCompile(`LIMIT (\d+)`)

// loadMoreURL finds the address of the "Load more" link in a fragment.
var loadMoreURL = regexp.MustCompile(`class="button" href="([^"]+)"`)

// benchResult holds the medians of one view: the fragment's server time
// when it reads the view from the database, the client's whole round trip,
// the raw SQL (all of it, and of it the rows' and the summary's statements),
// and the fragment's server time when the view is kept in memory.
type benchResult struct{ fragment, trip, sql, rowsSQL, summarySQL, kept time.Duration }

func (r benchResult) ratio() float64 { return float64(r.fragment) / float64(r.sql) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// barItems is the size at which the issue sets its bar: the fragment within
// 3× the time of its SQL. Smaller data sets are measured but not judged.
const barItems = 1_000_000

// timeCase measures the fragment's server time (a real request to the real
// server) and the raw time of the very same statements over database/sql,
// alternating which goes first, so that the machine's noise hits both alike.
func timeCase(b *testing.B, a *testApp, client *http.Client, sqldb *sql.DB, c benchCase, stmts []string, items int) benchResult {
	var frag, trip, raw, rowsRaw, summaryRaw, kept []time.Duration
	fragment := func() {
		a.Store.CacheViews(false)
		start := time.Now()
		resp, body := a.get(b, client, c.path, htmx(c.trigger))
		trip = append(trip, time.Since(start))
		// The bar is on the server's time: from the request's arrival to the
		// last byte of the fragment written, compression included; the
		// client's own work (building the request, inflating the body) is not
		// the server's.
		frag = append(frag, time.Duration(a.lastServerTime.Load()))
		checkFragment(b, c, resp, body)
	}
	direct := func() {
		var all, rows, summary time.Duration
		for _, q := range stmts {
			start := time.Now()
			runStatements(b, sqldb, []string{q})
			took := time.Since(start)
			all += took
			switch {
			case strings.Contains(q, "AS working"):
				summary += took
			case strings.Contains(q, `"item"."id"`):
				rows += took
			}
		}
		raw, rowsRaw, summaryRaw = append(raw, all), append(rowsRaw, rows), append(summaryRaw, summary)
	}
	fromMemory := func() {
		a.Store.CacheViews(true)
		resp, body := a.get(b, client, c.path, htmx(c.trigger))
		kept = append(kept, time.Duration(a.lastServerTime.Load()))
		checkFragment(b, c, resp, body)
	}
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			fragment()
			direct()
			fromMemory()
		} else {
			fromMemory()
			direct()
			fragment()
		}
	}
	r := benchResult{fragment: median(frag), trip: median(trip), sql: median(raw), rowsSQL: median(rowsRaw),
		summarySQL: median(summaryRaw), kept: median(kept)}
	b.ReportMetric(ms(r.fragment), "fragment-ms")
	b.ReportMetric(ms(r.trip), "round-trip-ms")
	b.ReportMetric(ms(r.sql), "sql-ms")
	b.ReportMetric(r.ratio(), "fragment/sql")
	b.ReportMetric(ms(r.kept), "kept-ms")
	if items >= barItems && r.ratio() > 3 {
		b.Errorf("the fragment took %.2f ms, %.2f× the %.2f ms of its SQL: over the bar of 3×", ms(r.fragment), r.ratio(), ms(r.sql))
	}
	return r
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// requestFragment asks for the case's fragment as htmx would and returns how
// many rows it holds.
func requestFragment(b *testing.B, a *testApp, client *http.Client, c benchCase) int {
	resp, body := a.get(b, client, c.path, htmx(c.trigger))
	return checkFragment(b, c, resp, body)
}

// checkFragment fails the benchmark on anything but a clean answer, and
// returns how many rows the fragment holds.
func checkFragment(b *testing.B, c benchCase, resp *http.Response, body string) int {
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: status %d, want 200:\n%s", c.path, resp.StatusCode, body)
	}
	if strings.Contains(body, `class="notice"`) {
		b.Fatalf("GET %s: the view ignored part of the filter:\n%s", c.path, body)
	}
	return strings.Count(body, `<tr id="item-`)
}

// runStatements executes statements one after the other as the store ran
// them and reads every row, as the store does but without mapping rows to
// models.
func runStatements(b *testing.B, db *sql.DB, stmts []string) {
	ctx := context.Background()
	for _, q := range stmts {
		err := apptest.QueryAsRecorded(ctx, db, "", q, func(rows *sql.Rows) error {
			cols, err := rows.Columns()
			if err != nil {
				return err
			}
			dest := make([]any, len(cols))
			for i := range dest {
				dest[i] = new(sql.RawBytes)
			}
			for rows.Next() {
				if err := rows.Scan(dest...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatalf("%v\n%s", err, q)
		}
	}
}

// benchSize is the database the benchmarks seed and read
// (BENCH_DATABASE_URL; without it they are skipped) and how many items
// their data set holds (BENCH_ITEMS, default 1,000,000).
func benchSize(b *testing.B) (base string, items int) {
	b.Helper()
	base = os.Getenv("BENCH_DATABASE_URL")
	if base == "" {
		b.Skip("BENCH_DATABASE_URL is not set")
	}
	items = 1_000_000
	if s := os.Getenv("BENCH_ITEMS"); s != "" {
		var err error
		if items, err = strconv.Atoi(s); err != nil || items < 1 {
			b.Fatalf("BENCH_ITEMS=%q: want a positive number of items", s)
		}
	}
	return base, items
}

// planNode is the part of PostgreSQL's JSON plan the checks read.
type planNode struct {
	NodeType     string     `json:"Node Type"`
	Relation     string     `json:"Relation Name"`
	Index        string     `json:"Index Name"`
	SortMethod   string     `json:"Sort Method"`
	ActualRows   float64    `json:"Actual Rows"`
	ActualLoops  float64    `json:"Actual Loops"`
	RowsFiltered float64    `json:"Rows Removed by Filter"`
	HeapFetches  *float64   `json:"Heap Fetches"`
	Plans        []planNode `json:"Plans"`
}

// usesIndex reports whether a plan node reads, below it, the named index.
func usesIndex(n planNode, index string) bool {
	if n.Index == index {
		return true
	}
	for _, c := range n.Plans {
		if usesIndex(c, index) {
			return true
		}
	}
	return false
}

// smallTableRows is the most a sequential scan may read outside items: users,
// teams and memberships grow with people, not with items, and a few pages of
// them are cheaper to read whole than through an index, as PostgreSQL knows.
const smallTableRows = 1000

// checkPlan explains and runs q and fails the benchmark when its plan reads
// items sequentially, reads more than smallTableRows rows of another table
// sequentially, or sorts more than the arms' LIMITed rows (maxSort).
func checkPlan(b *testing.B, db *sql.DB, name, q string, maxSort int) {
	if unmarked, _ := apptest.ReadInIndexOrder(q); !strings.HasPrefix(strings.TrimSpace(unmarked), "SELECT") {
		b.Fatalf("%s: the fragment ran a statement that is not a SELECT:\n%s", name, q)
	}
	out, err := apptest.ExplainAsRecorded(context.Background(), db, "ANALYZE, FORMAT JSON", q)
	if err != nil {
		b.Fatalf("%s: explain: %v\n%s", name, err, q)
	}
	var plans []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(out), &plans); err != nil || len(plans) != 1 {
		b.Fatalf("%s: read the plan: %v\n%s", name, err, out)
	}
	var tree strings.Builder
	var problems, tolerated []string
	var walk func(n planNode, depth int)
	walk = func(n planNode, depth int) {
		fmt.Fprintf(&tree, "%s%s", strings.Repeat("  ", depth), n.NodeType)
		if n.Index != "" {
			fmt.Fprintf(&tree, " using %s", n.Index)
		}
		if n.Relation != "" {
			fmt.Fprintf(&tree, " on %s", n.Relation)
		}
		if n.SortMethod != "" {
			fmt.Fprintf(&tree, " (%s)", n.SortMethod)
		}
		fmt.Fprintf(&tree, " rows=%.0f loops=%.0f", n.ActualRows, n.ActualLoops)
		if n.HeapFetches != nil {
			fmt.Fprintf(&tree, " heap-fetches=%.0f", *n.HeapFetches)
		}
		if n.RowsFiltered > 0 {
			fmt.Fprintf(&tree, " filtered=%.0f", n.RowsFiltered)
		}
		tree.WriteString("\n")
		switch n.NodeType {
		case "Seq Scan":
			read := (n.ActualRows + n.RowsFiltered) * n.ActualLoops
			if n.Relation == "items" || read > smallTableRows {
				problems = append(problems, fmt.Sprintf("a sequential scan of %s (%.0f rows read)", n.Relation, read))
			} else {
				tolerated = append(tolerated, fmt.Sprintf("a sequential scan of the small table %s (%.0f rows), cheaper than its index", n.Relation, read))
			}
		case "Sort", "Incremental Sort":
			in := 0.0
			for _, c := range n.Plans {
				in += c.ActualRows * c.ActualLoops
			}
			switch {
			case in <= float64(maxSort):
			case usesIndex(n, "items_search_arm_keys"):
				// A search index hands over its matches unordered: an arm
				// that takes a rare word's matches from it sorts them,
				// however few or many the word has.
				tolerated = append(tolerated, fmt.Sprintf("a sort of %.0f search matches", in))
			default:
				problems = append(problems, fmt.Sprintf("a sort of %.0f rows (at most %d may be sorted: the arms' LIMITed rows)", in, maxSort))
			}
		}
		for _, c := range n.Plans {
			walk(c, depth+1)
		}
	}
	walk(plans[0].Plan, 1)
	b.Logf("%s plan of\n    %s\n%s", name, q, tree.String())
	if len(tolerated) > 0 {
		b.Logf("%s: tolerated: %s", name, strings.Join(tolerated, ", "))
	}
	for _, p := range problems {
		b.Errorf("%s: the plan has %s:\n    %s\n%s", name, p, q, tree.String())
	}
}

// benchDataVersion names the seed's shape in the schema's name, so that a
// data set seeded before the seed changed is not reused: version 2 has
// agents, models, repositories, branches and first prompts; version 3 draws
// each chunk of items from a random source of its own (resumable seeds);
// version 4 stores the items oldest first, as an instance does.
const benchDataVersion = 4

// benchRollupTrigger is the trigger that keeps the rollups as items are
// inserted, which the seed leaves off.
const benchRollupTrigger = "items_rollups_insert"

// benchStore opens a data set seeded with opts in BENCH_DATABASE_URL's
// database, in the named schema. An empty schema is migrated, seeded,
// indexed, given its rollups and vacuumed (so that index-only scans need not
// visit the table);
// one whose seed was interrupted is seeded on from where it stopped; a
// seeded one is reused as it is.
func benchStore(b *testing.B, base, schema string, opts app.SeedOptions) *app.Store {
	ctx := context.Background()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		b.Fatalf("open %s: %v", base, err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema); err != nil {
		b.Fatalf("create schema %s: %v", schema, err)
	}
	u, err := url.Parse(base)
	if err != nil {
		b.Fatalf("BENCH_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	store, err := app.OpenStore(ctx, u.String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	store.SetClock(func() time.Time { return benchNow })
	if err := store.Migrate(ctx); err != nil {
		b.Fatal(err)
	}

	db := store.DB()
	users, err := db.NewSelect().TableExpr("users").Count(ctx)
	if err != nil {
		b.Fatal(err)
	}
	items, err := db.NewSelect().TableExpr("items").Count(ctx)
	if err != nil {
		b.Fatal(err)
	}
	pending, err := db.NewSelect().TableExpr("pg_tables").Where("schemaname = current_schema() AND tablename = 'bench_item_indexes'").Exists(ctx)
	if err != nil {
		b.Fatal(err)
	}
	switch {
	case users == int64(opts.Users) && items == int64(opts.Items) && !pending:
		b.Logf("reusing schema %s: %d users, %d items", schema, users, items)
		return store
	case users != 0 && users != int64(opts.Users) || items > int64(opts.Items):
		b.Fatalf("schema %s holds %d users and %d items, not %d and %d; drop it (DROP SCHEMA %s CASCADE) and run again",
			schema, users, items, opts.Users, opts.Items, schema)
	case items > 0 || pending:
		b.Logf("going on seeding schema %s from item %d", schema, items)
	}
	start := time.Now()
	conn, err := db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	// The items go in without their secondary indexes, which are built
	// once at the end: kept up to date row by row, they make a large seed
	// wait on the disk. Their definitions are kept in the schema, so that a
	// seed run again after an interruption knows what to build, with the
	// statistics targets the migrations set on their expressions (one
	// line each), which a definition does not hold.
	for _, stmt := range []string{
		"CREATE TABLE IF NOT EXISTS bench_item_indexes (name text PRIMARY KEY, def text NOT NULL, stats text NOT NULL)",
		"INSERT INTO bench_item_indexes (name, def, stats) SELECT indexname, indexdef, " +
			"COALESCE((SELECT string_agg(format('ALTER INDEX %I ALTER COLUMN %s SET STATISTICS %s', indexname, a.attnum, a.attstattarget), E'\\n') " +
			"FROM pg_attribute AS a WHERE a.attrelid = format('%I', indexname)::regclass AND a.attstattarget >= 0), '') " +
			"FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'items' AND indexname <> 'items_pkey' ON CONFLICT DO NOTHING",
	} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			b.Fatalf("%s: %v", stmt, err)
		}
	}
	var indexes []struct{ Name, Def, Stats string }
	if err := conn.NewSelect().TableExpr("bench_item_indexes").Column("name", "def", "stats").Order("name").Scan(ctx, &indexes); err != nil {
		b.Fatal(err)
	}
	for _, ix := range indexes {
		if _, err := conn.ExecContext(ctx, "DROP INDEX IF EXISTS "+ix.Name); err != nil {
			b.Fatalf("drop index %s: %v", ix.Name, err)
		}
	}
	// Nor do they update the rollups as they go: summed per COPY of a
	// thousand items, they made the copy several times slower. The rollups
	// are rebuilt from the items once at the end.
	if _, err := conn.ExecContext(ctx, "ALTER TABLE items DISABLE TRIGGER "+benchRollupTrigger); err != nil {
		b.Fatal(err)
	}
	opts.Resumable = true
	if err := store.Seed(ctx, opts); err != nil {
		b.Fatal(err)
	}
	seeded := time.Since(start)
	if _, err := conn.ExecContext(ctx, "SET maintenance_work_mem = '1GB'"); err != nil {
		b.Fatal(err)
	}
	for _, ix := range indexes {
		if _, err := conn.ExecContext(ctx, ix.Def); err != nil {
			b.Fatalf("build index %s: %v", ix.Name, err)
		}
		for stmt := range strings.Lines(ix.Stats) {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				b.Fatalf("%s: %v", stmt, err)
			}
		}
	}
	if _, err := conn.ExecContext(ctx, "ALTER TABLE items ENABLE TRIGGER "+benchRollupTrigger); err != nil {
		b.Fatal(err)
	}
	if err := store.RebuildRollups(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "DROP TABLE bench_item_indexes"); err != nil {
		b.Fatal(err)
	}
	indexed := time.Since(start) - seeded
	for _, t := range []string{"users", "teams", "memberships", "items", "rollup_creators", "rollup_teams", "rollup_creator_totals", "rollup_team_totals", "rollup_creator_attributes", "rollup_team_attributes", "rollup_creator_attribute_days", "rollup_team_attribute_days"} {
		if _, err := conn.ExecContext(ctx, "VACUUM (ANALYZE) "+t); err != nil {
			b.Fatalf("vacuum %s: %v", t, err)
		}
	}
	b.Logf("seeded schema %s with %d items in %v, indexed them and rebuilt the rollups in %v, vacuumed and analysed in %v", schema, opts.Items,
		seeded.Round(time.Second), indexed.Round(time.Second), (time.Since(start) - seeded - indexed).Round(time.Second))
	return store
}
