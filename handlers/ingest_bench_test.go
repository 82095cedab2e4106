package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
)

// BenchmarkIngestLogEvents measures the ingestion API on PostgreSQL: W
// clients (AGENTDECK_BENCH_CLIENTS, default 4), each reporting its own run
// with its own token, send AGENTDECK_BENCH_EVENTS log events (default
// 200,000) in batches of 100 through POST /api/v1/runs/{id}/events. The same
// rows are then inserted straight into the database, 100 per statement by
// as many connections, as the baseline. It runs only with
// AGENTDECK_BENCH_INGEST=1 and TEST_DATABASE_URL set.
func BenchmarkIngestLogEvents(b *testing.B) {
	if os.Getenv("AGENTDECK_BENCH_INGEST") != "1" {
		b.Skip("set AGENTDECK_BENCH_INGEST=1 and TEST_DATABASE_URL to measure ingestion")
	}
	store := apptest.Postgres(b)
	clients := envInt(b, "AGENTDECK_BENCH_CLIENTS", 4)
	total := envInt(b, "AGENTDECK_BENCH_EVENTS", 200_000)
	const batch = 100
	perClient := total / clients / batch

	ctx := context.Background()
	a := newTestApp(b, store, nil)
	type reporter struct {
		token string
		runID string
	}
	reporters := make([]reporter, clients)
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	for i, token := range benchTokens(b, store, clients) {
		id := app.NewItemID()
		body, _ := json.Marshal(map[string]any{"id": id, "kind": "ambient", "source": "cli", "title": "bench"})
		if status, _ := post(b, httpc, a.URL+"/api/v1/runs", token, body); status != http.StatusCreated {
			b.Fatalf("create run: %d", status)
		}
		reporters[i] = reporter{token, id}
	}
	line := func(seq int) string {
		return fmt.Sprintf("2026-11-25T12:00:00Z \x1b[32mINFO\x1b[0m worker %d processed job %d in 12.3ms", seq%7, seq)
	}
	bodies := make([][]byte, perClient)
	for k := range bodies {
		events := make([]map[string]any, batch)
		for j := range events {
			seq := k*batch + j + 1
			events[j] = map[string]any{"seq": seq, "type": "log", "text": line(seq)}
		}
		bodies[k], _ = json.Marshal(map[string]any{"events": events})
	}

	// The baseline: the same rows, 100 to a statement, straight into the
	// table by as many connections, with no HTTP, JSON, token or checks. It
	// runs before and after the API and the faster run counts, so that
	// neither side gains from the other's warm-up or the machine's noise.
	db := store.DB()
	var sql strings.Builder
	sql.WriteString("INSERT INTO events (item_id, seq, type, role, text, created_at) VALUES ")
	for j := range batch {
		if j > 0 {
			sql.WriteString(", ")
		}
		n := j * 4
		fmt.Fprintf(&sql, "($%d, $%d, 'log', '', $%d, $%d)", n+1, n+2, n+3, n+4)
	}
	sql.WriteString(" ON CONFLICT (item_id, seq) DO NOTHING")
	rawInsert := func() float64 {
		var wg sync.WaitGroup
		rawRuns := make([]string, clients)
		for i := range rawRuns {
			it := &app.Item{Kind: app.KindAmbient, Source: app.SourceCLI, Title: "raw", CreatorID: 1}
			if err := store.CreateItem(ctx, it); err != nil {
				b.Fatal(err)
			}
			rawRuns[i] = it.ID
		}
		now := store.Now()
		began := time.Now()
		for _, id := range rawRuns {
			wg.Go(func() {
				args := make([]any, 0, 4*batch)
				for k := range perClient {
					args = args[:0]
					for j := range batch {
						seq := k*batch + j + 1
						args = append(args, id, seq, line(seq), now)
					}
					if _, err := db.DB.ExecContext(ctx, sql.String(), args...); err != nil {
						b.Errorf("raw insert: %v", err)
						return
					}
				}
			})
		}
		wg.Wait()
		return float64(clients*perClient*batch) / time.Since(began).Seconds()
	}
	rawBefore := rawInsert()

	b.ResetTimer()
	var mu sync.Mutex
	var latencies []time.Duration
	began := time.Now()
	var wg sync.WaitGroup
	for _, r := range reporters {
		wg.Go(func() {
			mine := make([]time.Duration, 0, perClient)
			for _, body := range bodies {
				t0 := time.Now()
				status, resp := post(b, httpc, a.URL+"/api/v1/runs/"+r.runID+"/events", r.token, body)
				mine = append(mine, time.Since(t0))
				if status != http.StatusOK {
					b.Errorf("append: %d %s", status, resp)
					return
				}
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	apiElapsed := time.Since(began)
	b.StopTimer()
	sent := clients * perClient * batch
	apiRate := float64(sent) / apiElapsed.Seconds()
	rawAfter := rawInsert()
	rawRate := max(rawBefore, rawAfter)

	slices.Sort(latencies)
	p50 := latencies[len(latencies)/2]
	p99 := latencies[len(latencies)*99/100]
	b.ReportMetric(apiRate, "api_events/s")
	b.ReportMetric(rawRate, "raw_events/s")
	b.ReportMetric(apiRate/rawRate, "api/raw")
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99_ms")
	b.Logf("%d events by %d clients in batches of %d: API %.0f events/s (p50 %v, p99 %v per batch); raw insert %.0f events/s before, %.0f after; API/raw %.2f",
		sent, clients, batch, apiRate, p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond), rawBefore, rawAfter, apiRate/rawRate)
	if apiRate < 20_000 {
		b.Errorf("the API took %.0f events/s, below the bar of 20,000", apiRate)
	}
	if apiRate < rawRate/2 {
		b.Errorf("the API took %.0f events/s, below half the raw insert rate (%.0f)", apiRate, rawRate)
	}
}

// envInt reads a positive number from the environment, or def when unset.
func envInt(tb testing.TB, name string, def int) int {
	tb.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		tb.Fatalf("%s=%q is not a positive integer", name, v)
	}
	return n
}

func post(b *testing.B, c *http.Client, url, token string, body []byte) (int, []byte) {
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		b.Error(err)
		return 0, nil
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// benchTokens creates n users, agent0 to agentN-1, and returns an access
// token of each: the benchmarks' clients, each reporting as its own user.
func benchTokens(b *testing.B, store *app.Store, n int) []string {
	ctx := context.Background()
	tokens := make([]string, n)
	for i := range tokens {
		u := &app.User{Handle: fmt.Sprintf("agent%d", i)}
		if err := store.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
		_, token, err := store.CreateAccessToken(ctx, u.ID, "bench", time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		tokens[i] = token
	}
	return tokens
}
