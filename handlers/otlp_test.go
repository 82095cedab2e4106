package handlers_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
	"github.com/agentdeck/agentdeck/config"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
)

// claudeRecord is one of Claude Code's OTLP log events.
type claudeRecord struct {
	name  string
	at    time.Time
	attrs map[string]any
}

// claudeLogs is an export of Claude Code's log events of one session, as
// Claude Code 2.1 sends them: the event's name in the body and in
// event.name, the session in session.id.
func claudeLogs(session string, records ...claudeRecord) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "claude-code")
	rl.Resource().Attributes().PutStr("service.version", "2.1.328")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("com.anthropic.claude_code.events")
	for i, r := range records {
		rec := sl.LogRecords().AppendEmpty()
		rec.SetTimestamp(pcommon.NewTimestampFromTime(r.at))
		rec.Body().SetStr("claude_code." + r.name)
		a := rec.Attributes()
		a.PutStr("session.id", session)
		a.PutStr("event.name", r.name)
		a.PutInt("event.sequence", int64(i))
		if err := a.FromRaw(mergeAttrs(a.AsRaw(), r.attrs)); err != nil {
			panic(err)
		}
	}
	return ld
}

func mergeAttrs(a, b map[string]any) map[string]any {
	for k, v := range b {
		a[k] = v
	}
	return a
}

// aClaudeTurn is a turn of Claude Code: a prompt, two API requests costing
// 260 and 184 micro-dollars, and a tool call.
func aClaudeTurn(session string, start time.Time) plog.Logs {
	return claudeLogs(session,
		claudeRecord{"user_prompt", start, map[string]any{"prompt": "RUNTOOL please", "prompt.id": "p-1", "prompt_length": "14"}},
		claudeRecord{"api_request", start.Add(time.Second), map[string]any{"model": "claude-opus-5-5", "input_tokens": 20, "output_tokens": 9,
			"cache_read_tokens": 0, "cost_usd": 0.00026000000000000003, "cost_usd_micros": 260}},
		claudeRecord{"tool_result", start.Add(2 * time.Second), map[string]any{"tool_name": "Bash", "tool_use_id": "toolu_1", "success": "true", "duration_ms": "126"}},
		claudeRecord{"api_request", start.Add(3 * time.Second), map[string]any{"model": "claude-opus-5-5", "input_tokens": 11, "output_tokens": 7,
			"cost_usd": 0.00018399999999999997, "cost_usd_micros": 184}},
		claudeRecord{"hook_execution_start", start.Add(4 * time.Second), map[string]any{"hook_event": "Stop"}},
	)
}

// otlpBody encodes an export as an exporter would: protobuf or JSON,
// gzipped or not.
func otlpBody(t testing.TB, req interface {
	MarshalProto() ([]byte, error)
	MarshalJSON() ([]byte, error)
}, asJSON, gzipped bool) (body []byte, header http.Header) {
	t.Helper()
	var err error
	header = http.Header{}
	if asJSON {
		body, err = req.MarshalJSON()
		header.Set("Content-Type", "application/json")
	} else {
		body, err = req.MarshalProto()
		header.Set("Content-Type", "application/x-protobuf")
	}
	if err != nil {
		t.Fatal(err)
	}
	if gzipped {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(body)
		zw.Close()
		body = buf.Bytes()
		header.Set("Content-Encoding", "gzip")
	}
	return body, header
}

// export posts an OTLP body to path with token ("" for none).
func (w *apiWorld) export(t testing.TB, token, path string, body []byte, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, w.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, raw
}

// sessionItems are the user's items reported by an agent, through the API.
func (w *apiWorld) sessionItems(t testing.TB, handle string) []map[string]any {
	t.Helper()
	r := w.as(t, handle, "GET", "/api/v1/runs?limit=500", nil)
	wantStatus(t, "list", r, http.StatusOK)
	var out []map[string]any
	for _, raw := range r.JSON(t)["runs"].([]any) {
		it := raw.(map[string]any)
		if it["agent"] != nil {
			out = append(out, it)
		}
	}
	return out
}

func TestOTLPReceivesClaudeCodeLogsInEveryEncoding(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		for i, enc := range []struct {
			json, gzip bool
		}{{false, false}, {true, false}, {false, true}, {true, true}} {
			session := fmt.Sprintf("session-%d", i)
			req := plogotlp.NewExportRequestFromLogs(aClaudeTurn(session, w.now))
			body, header := otlpBody(t, req, enc.json, enc.gzip)
			// Exporters send no Origin and no cookie; the token is all.
			resp, raw := w.export(t, w.tokens["maya"], "/v1/logs", body, header)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("json=%v gzip=%v: %d %s", enc.json, enc.gzip, resp.StatusCode, raw)
			}
			wantType := map[bool]string{true: "application/json", false: "application/x-protobuf"}[enc.json]
			if ct := resp.Header.Get("Content-Type"); ct != wantType {
				t.Errorf("answered %s to %s", ct, wantType)
			}
			answer := plogotlp.NewExportResponse()
			var err error
			if enc.json {
				err = answer.UnmarshalJSON(raw)
			} else {
				err = answer.UnmarshalProto(raw)
			}
			if err != nil || answer.PartialSuccess().RejectedLogRecords() != 0 {
				t.Errorf("the answer %q is not a full success: %v", raw, err)
			}
		}
		items := w.sessionItems(t, "maya")
		if len(items) != 4 {
			t.Fatalf("%d items from four sessions", len(items))
		}
		for _, it := range items {
			credits := it["credits"].(map[string]any)
			agent := it["agent"].(map[string]any)
			if it["title"] != "RUNTOOL please" || it["kind"] != "interactive" || it["status"] != "working" ||
				credits["total"] != "0.0444" || agent["name"] != "claude-code" || it["creator"] != "maya" {
				t.Errorf("item %v", it)
			}
			if tok := it["tokens"].(map[string]any); tok["input"] != 31.0 || tok["output"] != 16.0 {
				t.Errorf("tokens %v, want 31 in and 16 out", tok)
			}
		}
	})
}

func TestOTLPExportSentTwiceCountsOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		body, header := otlpBody(t, plogotlp.NewExportRequestFromLogs(aClaudeTurn("twice", w.now)), false, false)
		for range 2 {
			if resp, raw := w.export(t, w.tokens["maya"], "/v1/logs", body, header); resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %s", resp.StatusCode, raw)
			}
		}
		items := w.sessionItems(t, "maya")
		if len(items) != 1 || items[0]["credits"].(map[string]any)["total"] != "0.0444" {
			t.Fatalf("after the same export twice: %v, want one item of 0.0444 credits", items)
		}
		r := w.as(t, "maya", "GET", "/api/v1/runs/"+items[0]["id"].(string)+"/events", nil)
		if n := len(r.JSON(t)["events"].([]any)); n != 2 {
			t.Errorf("%d transcript entries (prompt and tool result), want 2", n)
		}
	})
}

func TestOTLPRefusesWhatItCannotReadAndStoresNothing(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		ctx := context.Background()
		good, protoHeader := otlpBody(t, plogotlp.NewExportRequestFromLogs(aClaudeTurn("refused", w.now)), false, false)
		jsonHeader := http.Header{"Content-Type": {"application/json"}}
		revokedTok, revoked, err := s.CreateAccessToken(ctx, w.users["maya"].ID, "old", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeAccessToken(ctx, w.users["maya"].ID, revokedTok.ID); err != nil {
			t.Fatal(err)
		}
		huge := bytes.Repeat([]byte{0x0a}, 20<<20)
		var zipped bytes.Buffer
		zw := gzip.NewWriter(&zipped)
		zw.Write(huge)
		zw.Close()
		gzipHeader := http.Header{"Content-Type": {"application/x-protobuf"}, "Content-Encoding": {"gzip"}}
		cases := []struct {
			name   string
			token  string
			body   []byte
			header http.Header
			status int
		}{
			{"no token", "", good, protoHeader, http.StatusUnauthorized},
			{"a revoked token", revoked, good, protoHeader, http.StatusUnauthorized},
			{"a token of no one here", unknownToken(t, s), good, protoHeader, http.StatusUnauthorized},
			{"a wrong content type", w.tokens["maya"], good, http.Header{"Content-Type": {"text/plain"}}, http.StatusUnsupportedMediaType},
			{"no content type", w.tokens["maya"], good, http.Header{}, http.StatusUnsupportedMediaType},
			{"an unknown encoding", w.tokens["maya"], good, http.Header{"Content-Type": {"application/x-protobuf"}, "Content-Encoding": {"br"}}, http.StatusUnsupportedMediaType},
			{"truncated protobuf", w.tokens["maya"], good[:len(good)/2], protoHeader, http.StatusBadRequest},
			{"not JSON", w.tokens["maya"], []byte(`{"resourceLogs": [`), jsonHeader, http.StatusBadRequest},
			{"JSON of the wrong shape", w.tokens["maya"], []byte(`{"resourceLogs": {"a": 1}}`), jsonHeader, http.StatusBadRequest},
			{"a body that is not gzip", w.tokens["maya"], good, gzipHeader, http.StatusBadRequest},
			{"20 MiB", w.tokens["maya"], huge, protoHeader, http.StatusRequestEntityTooLarge},
			{"20 MiB inside gzip", w.tokens["maya"], zipped.Bytes(), gzipHeader, http.StatusRequestEntityTooLarge},
		}
		for _, c := range cases {
			resp, raw := w.export(t, c.token, "/v1/logs", c.body, c.header)
			if resp.StatusCode != c.status {
				t.Errorf("%s: %d %q, want %d", c.name, resp.StatusCode, raw, c.status)
				continue
			}
			var st status.Status
			if err := proto.Unmarshal(raw, &st); err != nil && c.header.Get("Content-Type") != "application/json" {
				t.Errorf("%s: the body is not a google.rpc.Status: %v", c.name, err)
			}
			if st.GetMessage() == "" && c.header.Get("Content-Type") != "application/json" {
				t.Errorf("%s: the status says nothing", c.name)
			}
			if resp.Header.Get("Retry-After") != "" {
				t.Errorf("%s: Retry-After on a refusal that retrying cannot change", c.name)
			}
		}
		if items := w.sessionItems(t, "maya"); len(items) != 0 {
			t.Errorf("refused exports stored %d items", len(items))
		}
		// A signed-in browser session is no credential for OTLP.
		browser := w.signIn(t, "maya")
		req, _ := http.NewRequest(http.MethodPost, w.URL+"/v1/logs", bytes.NewReader(good))
		req.Header = protoHeader.Clone()
		resp, _ := do(t, browser, req)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("a session cookie on /v1/logs: %d, want 401", resp.StatusCode)
		}
	})
}

func TestOTLPAnswersRetryablyWhenItCannotTakeAnExport(t *testing.T) {
	t.Run("rate limited", func(t *testing.T) {
		w := newAPIWorld(t, apptest.SQLite(t), func(c *config.Config) { c.APIRateLimit = 1 })
		body, header := otlpBody(t, plogotlp.NewExportRequestFromLogs(aClaudeTurn("busy", w.now)), false, false)
		var last *http.Response
		for range 5 {
			if last, _ = w.export(t, w.tokens["maya"], "/v1/logs", body, header); last.StatusCode == http.StatusTooManyRequests {
				break
			}
		}
		if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
			t.Errorf("five quick exports at 1/s: %d, Retry-After %q; want 429 with Retry-After", last.StatusCode, last.Header.Get("Retry-After"))
		}
	})
	t.Run("database down", func(t *testing.T) {
		s := apptest.SQLite(t)
		w := newAPIWorld(t, s, nil)
		body, header := otlpBody(t, plogotlp.NewExportRequestFromLogs(aClaudeTurn("down", w.now)), false, false)
		s.DB().Close()
		resp, _ := w.export(t, w.tokens["maya"], "/v1/logs", body, header)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("with the database gone: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	})
}

func TestOTLPCountsRecordsItDoesNotUnderstandWithoutFailing(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		ld := plog.NewLogs()
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", "some-web-shop")
		for range 3 {
			rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr("GET /cart 200")
		}
		// A Claude Code record naming no session is refused, in part.
		orphan := rl2(ld)
		orphan.Attributes().PutStr("event.name", "user_prompt")
		body, header := otlpBody(t, plogotlp.NewExportRequestFromLogs(ld), true, false)
		resp, raw := w.export(t, w.tokens["maya"], "/v1/logs", body, header)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", resp.StatusCode, raw)
		}
		answer := plogotlp.NewExportResponse()
		if err := answer.UnmarshalJSON(raw); err != nil {
			t.Fatal(err)
		}
		if answer.PartialSuccess().RejectedLogRecords() != 1 || !strings.Contains(answer.PartialSuccess().ErrorMessage(), "session") {
			t.Errorf("partial success %d %q, want 1 rejected for naming no session", answer.PartialSuccess().RejectedLogRecords(), answer.PartialSuccess().ErrorMessage())
		}
		tokens, err := s.AccessTokens(context.Background(), w.users["maya"].ID)
		if err != nil {
			t.Fatal(err)
		}
		if tokens[0].OTLPRecords != 4 || tokens[0].UnrecognisedRecords != 3 {
			t.Errorf("token counts %d records, %d unrecognised; want 4 and 3", tokens[0].OTLPRecords, tokens[0].UnrecognisedRecords)
		}
		browser := w.signIn(t, "maya")
		if _, page := w.get(t, browser, "/settings/tokens", nil); !strings.Contains(page, "3 unrecognised") {
			t.Error("the tokens page does not show the unrecognised records")
		}
	})
}

// rl2 adds a Claude Code resource with one record to an export.
func rl2(ld plog.Logs) plog.LogRecord {
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "claude-code")
	return rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
}

func TestOTLPTracesOfAGenAIAgentMakeASession(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", "gemini-helper")
		rs.Resource().Attributes().PutStr("agentdeck.kind", "ambient")
		spans := rs.ScopeSpans().AppendEmpty().Spans()
		trace := pcommon.TraceID([16]byte{1, 2, 3})
		span := func(name, op string, id byte, from, to time.Duration) ptrace.Span {
			sp := spans.AppendEmpty()
			sp.SetName(name)
			sp.SetTraceID(trace)
			sp.SetSpanID(pcommon.SpanID([8]byte{id}))
			sp.SetStartTimestamp(pcommon.NewTimestampFromTime(w.now.Add(from)))
			sp.SetEndTimestamp(pcommon.NewTimestampFromTime(w.now.Add(to)))
			sp.Attributes().PutStr("gen_ai.operation.name", op)
			sp.Attributes().PutStr("gen_ai.conversation.id", "conv-9")
			return sp
		}
		chat := span("chat gpt-5", "chat", 1, 0, time.Second)
		chat.Attributes().PutStr("gen_ai.request.model", "gpt-5")
		chat.Attributes().PutInt("gen_ai.usage.input_tokens", 1_000_000)
		chat.Attributes().PutInt("gen_ai.usage.output_tokens", 100_000)
		tool := span("execute_tool grep", "execute_tool", 2, time.Second, 2*time.Second)
		tool.Attributes().PutStr("gen_ai.tool.name", "grep")
		tool.Attributes().PutStr("gen_ai.tool.call.arguments", `{"pattern":"webhook"}`)
		tool.Attributes().PutStr("gen_ai.tool.call.result", "billing.go:12")
		span("invoke_agent helper", "invoke_agent", 3, 0, 3*time.Second)
		body, header := otlpBody(t, ptraceotlp.NewExportRequestFromTraces(td), false, false)
		if resp, raw := w.export(t, w.tokens["maya"], "/v1/traces", body, header); resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", resp.StatusCode, raw)
		}
		items := w.sessionItems(t, "maya")
		if len(items) != 1 {
			t.Fatalf("%d items", len(items))
		}
		it := items[0]
		// gpt-5: $1.25 + $1.00 from the price table.
		if it["kind"] != "ambient" || it["status"] != "success" || it["credits"].(map[string]any)["total"] != "225.00" ||
			it["agent"].(map[string]any)["session_id"] != "conv-9" {
			t.Errorf("item %v: want an ambient run, done, 225.00 credits, session conv-9", it)
		}
	})
}

func TestOTLPWithAnotherUsersRunIDReportsOnlyForItsOwnToken(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		mayas := app.NewItemID()
		wantStatus(t, "maya's run", w.as(t, "maya", "POST", "/api/v1/runs", ambientRun(mayas, "maya's nightly")), http.StatusCreated)
		ld := aClaudeTurn("borrowed", w.now)
		ld.ResourceLogs().At(0).Resource().Attributes().PutStr("agentdeck.run_id", mayas)
		body, header := otlpBody(t, plogotlp.NewExportRequestFromLogs(ld), false, false)
		if resp, raw := w.export(t, w.tokens["jonas"], "/v1/logs", body, header); resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", resp.StatusCode, raw)
		}
		run := w.as(t, "maya", "GET", "/api/v1/runs/"+mayas, nil).JSON(t)
		if run["agent"] != nil || run["title"] != "maya's nightly" || run["credits"].(map[string]any)["total"] != "0.00" {
			t.Errorf("jonas's export changed maya's run: %v", run)
		}
		if n := len(w.sessionItems(t, "maya")); n != 0 {
			t.Errorf("maya has %d sessions from jonas's export", n)
		}
		if items := w.sessionItems(t, "jonas"); len(items) != 1 || items[0]["creator"] != "jonas" {
			t.Errorf("jonas's sessions: %v, want his own one", items)
		}
	})
}
