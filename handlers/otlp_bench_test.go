package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// BenchmarkOTLPLogsIngestion measures the OTLP receiver on PostgreSQL: W
// clients (AGENTDECK_BENCH_CLIENTS, default 4), each an agent on its own
// machine with its own token, export AGENTDECK_BENCH_RECORDS Claude Code log
// records (default 200,000) in protobuf batches of 512, as the OTel SDKs
// send them, to POST /v1/logs. Each batch is one session's records, of
// which a quarter are API requests (a usage record each), half prompts and
// tool results (a transcript entry each) and a quarter hook events (nothing
// stored). The same rows — usage records and transcript events — are then
// inserted straight into the database, a batch's rows in one transaction by
// as many connections, as the baseline. It runs only with
// AGENTDECK_BENCH_INGEST=1 and TEST_DATABASE_URL set; with
// AGENTDECK_BENCH_WITHOUT_ROLLUPS=1 the items' rollups are not kept.
func BenchmarkOTLPLogsIngestion(b *testing.B) {
	if os.Getenv("AGENTDECK_BENCH_INGEST") != "1" {
		b.Skip("set AGENTDECK_BENCH_INGEST=1 and TEST_DATABASE_URL to measure OTLP ingestion")
	}
	store := apptest.Postgres(b)
	if os.Getenv("AGENTDECK_BENCH_WITHOUT_ROLLUPS") == "1" {
		// What the rollups cost the writes: measured again without them.
		for _, trigger := range []string{"items_rollups_insert", "items_rollups_update", "items_rollups_delete"} {
			if _, err := store.DB().ExecContext(context.Background(), "DROP TRIGGER "+trigger+" ON items"); err != nil {
				b.Fatal(err)
			}
		}
	}
	clients := envInt(b, "AGENTDECK_BENCH_CLIENTS", 4)
	total := envInt(b, "AGENTDECK_BENCH_RECORDS", 200_000)
	const batch = 512
	perClient := total / clients / batch

	ctx := context.Background()
	a := newTestApp(b, store, nil)
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	tokens := benchTokens(b, store, clients)
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	bodies := make([][][]byte, clients)
	for c := range bodies {
		for k := range perClient {
			// A session per ten batches: long enough that its accounts and
			// transcript grow while it is reported.
			session := fmt.Sprintf("bench-%d-%d", c, k/10)
			ld := benchClaudeLogs(session, start, k*batch, batch)
			body, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
			if err != nil {
				b.Fatal(err)
			}
			bodies[c] = append(bodies[c], body)
		}
	}

	rawRate := func() float64 { return benchRawRows(b, store, clients, perClient, batch) }
	rawBefore := rawRate()

	b.ResetTimer()
	began := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for _, body := range bodies[c] {
				req, _ := http.NewRequest(http.MethodPost, a.URL+"/v1/logs", strings.NewReader(string(body)))
				req.Header.Set("Authorization", "Bearer "+tokens[c])
				req.Header.Set("Content-Type", "application/x-protobuf")
				resp, err := httpc.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("export: %d", resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(began)
	b.StopTimer()
	sent := clients * perClient * batch
	rate := float64(sent) / elapsed.Seconds()
	rawAfter := rawRate()
	raw := max(rawBefore, rawAfter)

	var usageRows, events int64
	ofSessions := "item_id IN (SELECT id FROM items WHERE agent_name <> '')"
	store.DB().QueryRowContext(ctx, "SELECT count(*) FROM usage_records WHERE "+ofSessions).Scan(&usageRows)
	store.DB().QueryRowContext(ctx, "SELECT count(*) FROM events WHERE "+ofSessions).Scan(&events)
	if usageRows != int64(sent/4) || events != int64(sent/2) {
		b.Errorf("%d usage records and %d events stored, want %d and %d: a quarter of the records are API requests, half prompts and tool results",
			usageRows, events, sent/4, sent/2)
	}
	b.ReportMetric(rate, "records/s")
	b.ReportMetric(raw, "raw_records/s")
	b.ReportMetric(rate/raw, "otlp/raw")
	b.Logf("%d records by %d clients in protobuf batches of %d (%d usage rows, %d events stored): OTLP %.0f records/s; "+
		"raw insert of the same rows %.0f records/s before, %.0f after; OTLP/raw %.2f",
		sent, clients, batch, usageRows, events, rate, rawBefore, rawAfter, rate/raw)
	if rate < 20_000 {
		b.Errorf("OTLP took %.0f records/s, below the bar of 20,000", rate)
	}
	if rate < raw/2 {
		b.Errorf("OTLP took %.0f records/s, below half the raw insert rate (%.0f)", rate, raw)
	}
}

// benchClaudeLogs is one batch of Claude Code's log records of a session:
// records first..first+n-1, a quarter each API requests, prompts, tool
// results and hook events.
func benchClaudeLogs(session string, start time.Time, first, n int) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "claude-code")
	rl.Resource().Attributes().PutStr("service.version", "2.1.328")
	recs := rl.ScopeLogs().AppendEmpty().LogRecords()
	recs.EnsureCapacity(n)
	for i := first; i < first+n; i++ {
		rec := recs.AppendEmpty()
		rec.SetTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(i) * time.Millisecond)))
		a := rec.Attributes()
		a.PutStr("session.id", session)
		a.PutStr("user.id", "5a27a562e212cd7dd8906bbdcad3658e")
		a.PutInt("event.sequence", int64(i))
		switch i % 4 {
		case 0:
			rec.Body().SetStr("claude_code.api_request")
			a.PutStr("event.name", "api_request")
			a.PutStr("model", "claude-sonnet-4-5")
			a.PutInt("input_tokens", 1200)
			a.PutInt("output_tokens", 340)
			a.PutInt("cache_read_tokens", 8000)
			a.PutDouble("cost_usd", 0.01074)
			a.PutInt("cost_usd_micros", 10740)
		case 1:
			rec.Body().SetStr("claude_code.user_prompt")
			a.PutStr("event.name", "user_prompt")
			a.PutStr("prompt.id", fmt.Sprintf("p-%d", i))
			a.PutStr("prompt", fmt.Sprintf("fix the flaky checkout test, attempt %d", i))
		case 2:
			rec.Body().SetStr("claude_code.tool_result")
			a.PutStr("event.name", "tool_result")
			a.PutStr("tool_name", "Bash")
			a.PutStr("tool_use_id", fmt.Sprintf("toolu_%d", i))
			a.PutStr("success", "true")
			a.PutStr("duration_ms", "126")
		default:
			rec.Body().SetStr("claude_code.hook_execution_complete")
			a.PutStr("event.name", "hook_execution_complete")
			a.PutStr("hook_event", "PostToolUse")
		}
	}
	return ld
}

// benchRawRows inserts, straight into the database, the rows the OTLP
// benchmark's batches store — per batch, a quarter as many usage records
// and half as many transcript events as records — each batch's rows in one
// transaction of two multi-row statements, by as many connections. It
// returns the rate in records (not rows) per second, to compare with the
// receiver's.
func benchRawRows(b *testing.B, store *app.Store, clients, perClient, batch int) float64 {
	ctx := context.Background()
	db := store.DB()
	items := make([]string, clients)
	for i := range items {
		it := &app.Item{Kind: app.KindAmbient, Source: app.SourceCLI, Title: "raw", CreatorID: 1}
		if err := store.CreateItem(ctx, it); err != nil {
			b.Fatal(err)
		}
		items[i] = it.ID
	}
	usageSQL, eventSQL := multiRowInsert("usage_records (item_id, channel, key, model, credits, input_tokens, cached_input_tokens, output_tokens, created_at)", 9, batch/4),
		multiRowInsert("events (item_id, seq, type, role, text, key, created_at)", 7, batch/2)
	now := store.Now()
	began := time.Now()
	var wg sync.WaitGroup
	for c, id := range items {
		wg.Go(func() {
			for k := range perClient {
				tx, err := db.DB.BeginTx(ctx, nil)
				if err != nil {
					b.Error(err)
					return
				}
				var usage, events []any
				for j := range batch {
					i := k*batch + j
					switch i % 4 {
					case 0:
						usage = append(usage, id, "otlp", fmt.Sprintf("api_request:%d:%d", c, i), "claude-sonnet-4-5", 1074, 9200, 8000, 340, now)
					case 1:
						events = append(events, id, i, "message", "user", fmt.Sprintf("fix the flaky checkout test, attempt %d", i), fmt.Sprintf("prompt:p-%d", i), now)
					case 2:
						events = append(events, id, i, "message", "tool", "Bash finished", fmt.Sprintf("tool_result:toolu_%d", i), now)
					}
				}
				if _, err := tx.ExecContext(ctx, usageSQL, usage...); err != nil {
					b.Error(err)
				}
				if _, err := tx.ExecContext(ctx, eventSQL, events...); err != nil {
					b.Error(err)
				}
				if err := tx.Commit(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return float64(clients*perClient*batch) / time.Since(began).Seconds()
}

// multiRowInsert is an INSERT of rows rows of cols columns into target,
// with PostgreSQL's numbered parameters.
func multiRowInsert(target string, cols, rows int) string {
	var sql strings.Builder
	sql.WriteString("INSERT INTO " + target + " VALUES ")
	for r := range rows {
		if r > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString("(")
		for c := range cols {
			if c > 0 {
				sql.WriteString(", ")
			}
			fmt.Fprintf(&sql, "$%d", r*cols+c+1)
		}
		sql.WriteString(")")
	}
	return sql.String() + " ON CONFLICT DO NOTHING"
}
