package handlers_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
)

// claudeHookPayloads are the payloads Claude Code 2.1 writes on its hooks'
// stdin in one session with one tool call (recorded).
var claudeHookPayloads = map[string]string{
	"SessionStart":     `{"session_id":"sess-h","transcript_path":"/h/.claude/projects/p/sess-h.jsonl","cwd":"/src/web","hook_event_name":"SessionStart","source":"startup"}`,
	"UserPromptSubmit": `{"session_id":"sess-h","cwd":"/src/web","prompt_id":"p-1","permission_mode":"default","hook_event_name":"UserPromptSubmit","prompt":"RUNTOOL please"}`,
	"Notification":     `{"session_id":"sess-h","cwd":"/src/web","hook_event_name":"Notification","message":"Claude needs your permission to use Bash","notification_type":"permission_prompt"}`,
	"PreToolUse":       `{"session_id":"sess-h","cwd":"/src/web","prompt_id":"p-1","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"echo hello-from-tool","description":"echo"},"tool_use_id":"toolu_1"}`,
	"PostToolUse":      `{"session_id":"sess-h","cwd":"/src/web","prompt_id":"p-1","hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"echo hello-from-tool"},"tool_response":{"stdout":"hello-from-tool","stderr":"","interrupted":false},"tool_use_id":"toolu_1","duration_ms":126}`,
	"Stop":             `{"session_id":"sess-h","cwd":"/src/web","prompt_id":"p-1","hook_event_name":"Stop","stop_hook_active":false,"last_assistant_message":"hi from the fake model"}`,
	"SessionEnd":       `{"session_id":"sess-h","cwd":"/src/web","prompt_id":"p-1","hook_event_name":"SessionEnd","reason":"other"}`,
}

func TestHooksTellASessionsStatusAndTranscript(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		steps := []struct {
			event, want string
		}{
			{"SessionStart", "working"}, {"UserPromptSubmit", "working"}, {"Notification", "blocked"},
			{"PreToolUse", "working"}, {"PostToolUse", "working"}, {"Stop", "blocked"}, {"SessionEnd", "success"},
		}
		header := http.Header{"Agentdeck-Repo": {"acme/web"}, "Agentdeck-Branch": {"fix/webhook"}}
		for i, step := range steps {
			header.Set("Agentdeck-Sent-At", w.now.Add(time.Duration(i)*time.Second).Format("2006-01-02T15:04:05.999999999Z07:00"))
			r := w.call(t, w.tokens["maya"], "POST", "/api/v1/hooks/claude-code", claudeHookPayloads[step.event], header)
			wantStatus(t, step.event, r, http.StatusOK)
			items := w.sessionItems(t, "maya")
			if len(items) != 1 {
				t.Fatalf("after %s: %d items", step.event, len(items))
			}
			if items[0]["status"] != step.want {
				t.Errorf("after %s: %s, want %s", step.event, items[0]["status"], step.want)
			}
			if step.event == "Notification" && !strings.Contains(items[0]["reason"].(string), "permission") {
				t.Errorf("blocked without saying on what: %v", items[0]["reason"])
			}
		}
		it := w.sessionItems(t, "maya")[0]
		where := it["where"].(map[string]any)
		if it["title"] != "RUNTOOL please" || where["cwd"] != "/src/web" || where["repo"] != "acme/web" || where["branch"] != "fix/webhook" {
			t.Errorf("item %v", it)
		}
		r := w.as(t, "maya", "GET", "/api/v1/runs/"+it["id"].(string)+"/events", nil)
		var texts []string
		for _, e := range r.JSON(t)["events"].([]any) {
			texts = append(texts, e.(map[string]any)["role"].(string)+": "+e.(map[string]any)["text"].(string))
		}
		want := []string{"user: RUNTOOL please", "tool: Bash: echo hello-from-tool", "tool: hello-from-tool", "agent: hi from the fake model"}
		if strings.Join(texts, "|") != strings.Join(want, "|") {
			t.Errorf("transcript %q, want %q", texts, want)
		}
	})
}

func TestHooksRefuseWhatTheyCannotRead(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		wantStatus(t, "unknown agent", w.call(t, w.tokens["maya"], "POST", "/api/v1/hooks/cursor", `{}`, nil), http.StatusNotFound)
		wantStatus(t, "not an object", w.call(t, w.tokens["maya"], "POST", "/api/v1/hooks/codex", `[1]`, nil), http.StatusBadRequest)
		wantStatus(t, "no token", w.call(t, "", "POST", "/api/v1/hooks/codex", `{}`, nil), http.StatusUnauthorized)
		wantStatus(t, "bad time", w.call(t, w.tokens["maya"], "POST", "/api/v1/hooks/codex", claudeHookPayloads["SessionStart"],
			http.Header{"Agentdeck-Sent-At": {"yesterday"}}), http.StatusBadRequest)
		r := w.call(t, w.tokens["maya"], "POST", "/api/v1/hooks/codex", `{"hook_event_name":"Stop"}`, nil)
		wantStatus(t, "no session", r, http.StatusOK)
		if r.JSON(t)["rejected"] != 1.0 {
			t.Errorf("a payload naming no session: %s, want it rejected", r.Body)
		}
		if n := len(w.sessionItems(t, "maya")); n != 0 {
			t.Errorf("refused payloads made %d items", n)
		}
	})
}

func TestCodexNotifyEndsAHeadlessSession(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		notify := `{"type":"agent-turn-complete","thread-id":"thread-7","turn-id":"turn-1","cwd":"/src/api","client":"codex_exec",` +
			`"input-messages":["say hi"],"last-assistant-message":"hi from the fake model"}`
		wantStatus(t, "notify", w.call(t, w.tokens["maya"], "POST", "/api/v1/hooks/codex", notify, nil), http.StatusOK)
		items := w.sessionItems(t, "maya")
		if len(items) != 1 || items[0]["status"] != "success" || items[0]["title"] != "say hi" {
			t.Fatalf("items %v, want one done session titled by its prompt", items)
		}
		// In the terminal, a finished turn waits for its person.
		tui := strings.ReplaceAll(strings.ReplaceAll(notify, "codex_exec", "codex-tui"), "thread-7", "thread-8")
		wantStatus(t, "notify", w.call(t, w.tokens["maya"], "POST", "/api/v1/hooks/codex", tui, nil), http.StatusOK)
		for _, it := range w.sessionItems(t, "maya") {
			if it["agent"].(map[string]any)["session_id"] == "thread-8" && it["status"] != "blocked" {
				t.Errorf("an interactive Codex turn's end: %s, want blocked", it["status"])
			}
		}
	})
}

func TestEventsWithoutSeqAreNumberedByTheServer(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		id := app.NewItemID()
		wantStatus(t, "create", w.as(t, "maya", "POST", "/api/v1/runs", ambientRun(id, "claude -p")), http.StatusCreated)
		batch := func(texts ...string) map[string]any {
			var events []map[string]any
			for _, text := range texts {
				events = append(events, map[string]any{"type": "log", "text": text})
			}
			return map[string]any{"events": events}
		}
		path := "/api/v1/runs/" + id + "/events"
		r := w.as(t, "maya", "POST", path, batch("no key"))
		if wantStatus(t, "no key", r, http.StatusBadRequest); r.errorField(t) != "Idempotency-Key" {
			t.Errorf("a batch without seq and key: field %q", r.errorField(t))
		}
		mixed := map[string]any{"events": []map[string]any{{"type": "log"}, {"seq": 2, "type": "log"}}}
		if r := w.as(t, "maya", "POST", path, mixed); r.Status != http.StatusBadRequest || r.errorField(t) != "events[1].seq" {
			t.Errorf("a batch mixing seq and none: %d field %q", r.Status, r.errorField(t))
		}
		// A run of `claude -p --output-format stream-json`: its lines give
		// the run its agent, transcript, credits and status.
		lines := []string{
			"starting",
			`{"type":"system","subtype":"init","cwd":"/src/web","session_id":"sess-run","model":"claude-opus-5-5"}`,
			`{"type":"assistant","message":{"model":"claude-opus-5-5","content":[{"type":"tool_use","id":"toolu_9","name":"Bash","input":{"command":"echo hi"}}]},"session_id":"sess-run","uuid":"u-1"}`,
			`{"type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_9","type":"tool_result","content":"hi","is_error":false}]},"session_id":"sess-run","uuid":"u-2"}`,
			`{"type":"assistant","message":{"model":"claude-opus-5-5","content":[{"type":"text","text":"done"}]},"session_id":"sess-run","uuid":"u-3"}`,
			`{"type":"result","subtype":"success","is_error":false,"session_id":"sess-run","total_cost_usd":0.5,"usage":{"input_tokens":1000,"output_tokens":10,"cache_read_input_tokens":0}}`,
		}
		key := http.Header{"Idempotency-Key": {"batch-1"}}
		for range 2 {
			r := w.call(t, w.tokens["maya"], "POST", path, batch(lines...), key)
			wantStatus(t, "batch", r, http.StatusOK)
		}
		it := w.as(t, "maya", "GET", "/api/v1/runs/"+id, nil).JSON(t)
		if it["status"] != "success" || it["credits"].(map[string]any)["total"] != "50.00" || it["agent"].(map[string]any)["session_id"] != "sess-run" {
			t.Errorf("the run after its agent's output: %v", it)
		}
		events := w.as(t, "maya", "GET", path, nil).JSON(t)["events"].([]any)
		byType := map[string]int{}
		for i, raw := range events {
			e := raw.(map[string]any)
			if e["seq"] != float64(i+1) {
				t.Errorf("event %d has seq %v", i, e["seq"])
			}
			byType[e["type"].(string)]++
		}
		if byType["log"] != len(lines) || byType["message"] != 3 {
			t.Errorf("%d log lines and %d transcript entries, want %d and 3 (a batch resent counts once)", byType["log"], byType["message"], len(lines))
		}
	})
}
