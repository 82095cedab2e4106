package handlers_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
)

// attentionBenchCase is one page of Needs attention or of insights, with the
// server time it must stay within at a million items.
type attentionBenchCase struct {
	name   string
	path   string
	header http.Header
	bar    time.Duration
}

// BenchmarkAttentionAndInsights is the speed benchmark of Needs attention,
// the navigation's count and insights on PostgreSQL (README, "Speed"):
//
//	BENCH_DATABASE_URL='postgres://postgres@127.0.0.1:5432/agentdeck_bench?sslmode=disable' \
//	  go test ./handlers/ -run '^$' -bench AttentionAndInsights -benchtime 100x -timeout 30m
//
// It serves the same data set as BenchmarkViewFragment (BENCH_ITEMS, default
// 1,000,000, seeded on the first run) to the same viewer, a member of two
// teams. For every page it checks the plans of the statements it runs, then
// measures the server's time for it; at a million items Needs attention and
// the count must take under 10 ms, insights of All under 100 ms.
func BenchmarkAttentionAndInsights(b *testing.B) {
	base, n := benchSize(b)
	store := benchStore(b, base, fmt.Sprintf("bench_v%d_%d", benchDataVersion, n),
		app.SeedOptions{Users: benchUsers, Teams: benchTeams, Items: n, Days: benchDays, Now: benchNow, Seed: 2026})
	rec := &apptest.StatementRecorder{}
	store.DB().AddQueryHook(rec)
	a := newTestApp(b, store, nil)
	client := a.signIn(b, benchViewer)
	v, err := store.Viewer(b.Context(), mustUserID(b, store, benchViewer))
	if err != nil {
		b.Fatal(err)
	}
	if len(v.TeamIDs) != 2 {
		b.Fatalf("%s is in %d teams, want 2", benchViewer, len(v.TeamIDs))
	}
	cases := []attentionBenchCase{
		{"attention", "/attention", htmx(""), 10 * time.Millisecond},
		{"nav count", "/attention/count", htmx(""), 10 * time.Millisecond},
		{"insights tab=all", "/insights?tab=all", nil, 100 * time.Millisecond},
		{"insights tab=all&status=failed", "/insights?tab=all&status=failed", nil, 100 * time.Millisecond},
		{"insights tab=all&day=7d", "/insights?tab=all&day=7d", nil, 100 * time.Millisecond},
	}
	sqldb := store.DB().DB
	stmts := make([][]string, len(cases))
	for i, c := range cases {
		rec.Start()
		resp, body := a.get(b, client, c.path, c.header)
		stmts[i] = rec.Stop()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d\n%s", c.path, resp.StatusCode, body)
		}
		b.Logf("%s: %s: %d bytes, %d statements", c.name, c.path, len(body), len(stmts[i]))
		for _, q := range stmts[i] {
			if strings.HasPrefix(strings.TrimSpace(q), "SELECT") {
				// Grouping reads many rows by design; what must not happen is
				// a scan of all items.
				checkPlan(b, sqldb, c.name, q, n)
			}
		}
	}
	store.DB().ResetQueryHooks()

	var table strings.Builder
	fmt.Fprintf(&table, "%d items, %s in %d teams, medians\n", n, benchViewer, len(v.TeamIDs))
	fmt.Fprintf(&table, "| page | statements | raw SQL (ms) | server (ms) | bar (ms) |\n| --- | ---: | ---: | ---: | ---: |\n")
	for i, c := range cases {
		var server, raw []time.Duration
		b.Run(c.name, func(b *testing.B) {
			for j := 0; b.Loop(); j++ {
				page := func() {
					resp, body := a.get(b, client, c.path, c.header)
					if resp.StatusCode != http.StatusOK {
						b.Fatalf("GET %s: %d\n%s", c.path, resp.StatusCode, body)
					}
					server = append(server, time.Duration(a.lastServerTime.Load()))
				}
				direct := func() {
					start := time.Now()
					runStatements(b, sqldb, stmts[i])
					raw = append(raw, time.Since(start))
				}
				if j%2 == 0 {
					page()
					direct()
				} else {
					direct()
					page()
				}
			}
			b.ReportMetric(ms(median(server)), "server-ms")
			b.ReportMetric(ms(median(raw)), "sql-ms")
			if n >= barItems && median(server) > c.bar {
				b.Errorf("%s took %.2f ms of server time, over its bar of %v", c.name, ms(median(server)), c.bar)
			}
		})
		if len(server) == 0 { // left out by -bench
			continue
		}
		fmt.Fprintf(&table, "| %s | %d | %.2f | %.2f | %d |\n", c.name, len(stmts[i]), ms(median(raw)), ms(median(server)), c.bar.Milliseconds())
	}
	b.Log("\n" + table.String())
}

// mustUserID is a user's id by handle.
func mustUserID(b *testing.B, s *app.Store, handle string) int64 {
	u, err := s.UserByHandle(b.Context(), handle)
	if err != nil {
		b.Fatal(err)
	}
	return u.ID
}
