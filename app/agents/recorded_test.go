package agents_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/agents"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
)

// The recordings in testdata/recorded are what the real Claude Code 2.1.328
// and Codex 0.169.0 sent in one session each (see its README): a prompt
// "RUNTOOL please", one shell tool call printing "hello-from-tool", and the
// answer "hi from the fake model". Every Claude request cost exactly $0.5;
// every OpenAI response reported 4000 input tokens (1000 cached) and 500
// output tokens.

const recorded = "testdata/recorded"

// digest is what a test asserts of a set of reports.
type digest struct {
	sessions map[string]bool
	agents   map[string]bool
	signals  []app.Signal
	prompts  []string
	entries  map[string]string // key → text
	credits  app.Credits       // added up over additive usage records
	totals   app.Credits       // of Total records, the last of each key
	tokens   app.Tokens
	models   map[string]bool
	headless bool
}

func digestOf(t *testing.T, reports []app.Report) digest {
	t.Helper()
	d := digest{sessions: map[string]bool{}, agents: map[string]bool{}, entries: map[string]string{}, models: map[string]bool{}}
	pricing := testPricing(t)
	totals := map[string]app.Credits{}
	for _, r := range reports {
		if r.Session != "" {
			d.sessions[r.Session] = true
		}
		d.agents[r.Agent] = true
		if r.Signal != app.SignalNone {
			d.signals = append(d.signals, r.Signal)
		}
		if r.Prompt != "" {
			d.prompts = append(d.prompts, r.Prompt)
		}
		if r.Entry != nil {
			d.entries[r.Entry.Key] = r.Entry.Text
		}
		if r.Model != "" {
			d.models[r.Model] = true
		}
		d.headless = d.headless || r.Headless
		if u := r.Usage; u != nil {
			c, ok := pricing.Credits(*u)
			if !ok && u.Model != "" {
				// Usage naming no model (codex exec --json) is priced by the
				// store with the session's model.
				t.Errorf("usage of model %q has no price", u.Model)
			}
			if u.Total {
				totals[u.Key] = c
				continue
			}
			d.credits += c
			d.tokens.Input += u.Tokens.Input
			d.tokens.CachedInput += u.Tokens.CachedInput
			d.tokens.Output += u.Tokens.Output
		}
	}
	for _, c := range totals {
		d.totals += c
	}
	return d
}

// testPricing prices the recordings' OpenAI model, gpt-5.5, as the
// embedded table prices gpt-5, so the figures below are easy to check.
func testPricing(t *testing.T) app.Pricing {
	t.Helper()
	table, err := app.ParsePrices([]byte(`{"date": "test", "models": {"gpt-5.5": {"input": "1.25", "cached_input": "0.125", "output": "10"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	p := app.DefaultPricing()
	p.Prices = table
	return p
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(recorded, path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// unmarshalRecorded decodes a recorded OTLP body by its file's encoding.
func unmarshalRecorded(t *testing.T, path string, fromJSON, fromProto func([]byte) error) {
	t.Helper()
	decode := fromProto
	if strings.HasSuffix(path, ".json") {
		decode = fromJSON
	}
	if err := decode(readFile(t, path)); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// logsOf reads a recorded OTLP logs export of either encoding.
func logsOf(t *testing.T, path string) agents.Batch {
	t.Helper()
	req := plogotlp.NewExportRequest()
	unmarshalRecorded(t, path, req.UnmarshalJSON, req.UnmarshalProto)
	return agents.FromLogs(req.Logs())
}

func metricsOf(t *testing.T, path string) agents.Batch {
	t.Helper()
	req := pmetricotlp.NewExportRequest()
	unmarshalRecorded(t, path, req.UnmarshalJSON, req.UnmarshalProto)
	return agents.FromMetrics(req.Metrics())
}

// hooksOf replays a recorded hooks.jsonl through the hook adapter.
func hooksOf(t *testing.T, agent, path string) []app.Report {
	t.Helper()
	var out []app.Report
	sc := bufio.NewScanner(strings.NewReader(string(readFile(t, path))))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		reports, err := agents.FromHook(agent, line.Payload, agents.HookContext{})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, reports...)
	}
	return out
}

// outputOf replays recorded output lines.
func outputOf(t *testing.T, path string) []app.Report {
	t.Helper()
	var out []app.Report
	for _, line := range strings.Split(string(readFile(t, path)), "\n") {
		out = append(out, agents.FromOutputLine(line)...)
	}
	return out
}

func TestRecordedClaudeCodeOTLPLogs(t *testing.T) {
	for _, c := range []struct {
		dir   string
		files []string
	}{
		{"claude_json", []string{"otlp_0002_v1_logs.json"}},
		{"claude_protobuf", []string{"otlp_0002_v1_logs.pb", "otlp_0003_v1_logs.pb"}},
	} {
		t.Run(c.dir, func(t *testing.T) {
			var reports []app.Report
			records, unrecognised := 0, 0
			for _, f := range c.files {
				b := logsOf(t, filepath.Join(c.dir, f))
				reports = append(reports, b.Reports...)
				records, unrecognised = records+b.Records, unrecognised+b.Unrecognised
			}
			d := digestOf(t, reports)
			if unrecognised != 0 || records == 0 {
				t.Errorf("%d records, %d unrecognised; Claude Code's every record is ours to read", records, unrecognised)
			}
			if len(d.sessions) != 1 || !d.agents[app.AgentClaudeCode] || len(d.agents) != 1 {
				t.Errorf("sessions %v, agents %v: want one Claude Code session", d.sessions, d.agents)
			}
			// Two requests at exactly $0.5: 100 credits.
			if d.credits.String() != "100.00" {
				t.Errorf("the requests add up to %s credits, want 100.00", d.credits)
			}
			if d.tokens.Input != 2*46875 || d.tokens.Output != 2*15625 {
				t.Errorf("tokens %+v", d.tokens)
			}
			if !slices.Equal(d.prompts, []string{"RUNTOOL please"}) {
				t.Errorf("prompts %q", d.prompts)
			}
			if !strings.Contains(d.entries["tool_result:toolu_fake_1"], "Bash") {
				t.Errorf("the tool result entry is missing: %v", d.entries)
			}
			if !d.models["claude-opus-5-5"] {
				t.Errorf("models %v", d.models)
			}
		})
	}
}

func TestRecordedClaudeCodeMetricsOnlySayASessionIsAlive(t *testing.T) {
	b := metricsOf(t, "claude_protobuf/otlp_0001_v1_metrics.pb")
	d := digestOf(t, b.Reports)
	if b.Unrecognised != 0 || len(d.sessions) != 1 || d.credits != 0 || len(d.signals) != 0 {
		t.Errorf("metrics: %d unrecognised, sessions %v, credits %s, signals %v; want the session heard of, nothing counted",
			b.Unrecognised, d.sessions, d.credits, d.signals)
	}
}

func TestRecordedClaudeCodeHooks(t *testing.T) {
	d := digestOf(t, hooksOf(t, app.AgentClaudeCode, "claude_json/hooks.jsonl"))
	want := []app.Signal{app.SignalWorking, app.SignalWorking, app.SignalWorking, app.SignalWorking, app.SignalTurnEnded, app.SignalEnded}
	if !slices.Equal(d.signals, want) {
		t.Errorf("signals %v, want %v", d.signals, want)
	}
	if d.entries["tool_use:toolu_fake_1"] != "Bash: echo hello-from-tool" || d.entries["tool_result:toolu_fake_1"] != "hello-from-tool" {
		t.Errorf("tool call entries %v", d.entries)
	}
	if len(d.sessions) != 1 || !slices.Equal(d.prompts, []string{"RUNTOOL please"}) {
		t.Errorf("sessions %v prompts %q", d.sessions, d.prompts)
	}
	failed := digestOf(t, hooksOf(t, app.AgentClaudeCode, "claude_stopfailure/hooks.jsonl"))
	if !slices.Contains(failed.signals, app.SignalFailed) {
		t.Errorf("StopFailure: signals %v, want a failure", failed.signals)
	}
}

func TestRecordedClaudeCodeStreamJSON(t *testing.T) {
	d := digestOf(t, outputOf(t, "claude_json/stream.jsonl"))
	if len(d.sessions) != 1 || d.totals.String() != "100.00" || d.credits != 0 {
		t.Errorf("sessions %v, total %s, additive %s: want one session whose result says 100.00 credits", d.sessions, d.totals, d.credits)
	}
	if d.signals[len(d.signals)-1] != app.SignalSucceeded {
		t.Errorf("last signal %v, want success", d.signals[len(d.signals)-1])
	}
	if d.entries["tool_use:toolu_fake_1"] == "" || d.entries["tool_result:toolu_fake_1"] != "hello-from-tool" {
		t.Errorf("entries %v", d.entries)
	}
	failed := digestOf(t, outputOf(t, "claude_stopfailure/stream.jsonl"))
	if failed.signals[len(failed.signals)-1] != app.SignalFailed || failed.models["<synthetic>"] {
		t.Errorf("an API error's result: signals %v models %v; want a failure and no made-up model", failed.signals, failed.models)
	}
}

func TestRecordedCodex(t *testing.T) {
	var otlp []app.Report
	for _, f := range []string{"codex/otlp_0001_v1_logs.json", "codex/otlp_0003_v1_logs.json"} {
		b := logsOf(t, f)
		if b.Unrecognised != 0 {
			t.Errorf("%s: %d unrecognised records", f, b.Unrecognised)
		}
		otlp = append(otlp, b.Reports...)
	}
	d := digestOf(t, otlp)
	// Two responses of 4000 in (1000 cached) and 500 out at $1.25, $0.125
	// and $10 per million:
	// 6000 × 1.25 + 2000 × 0.125 + 1000 × 10 per million = $0.01775.
	if len(d.sessions) != 1 || d.tokens != (app.Tokens{Input: 8000, CachedInput: 2000, Output: 1000}) || d.credits.String() != "1.775" {
		t.Errorf("OTLP: sessions %v tokens %+v credits %s", d.sessions, d.tokens, d.credits)
	}
	if !slices.Equal(d.prompts, []string{"RUNTOOL please"}) || !d.headless {
		t.Errorf("prompts %q headless %v", d.prompts, d.headless)
	}
	var session string
	for s := range d.sessions {
		session = s
	}
	hooks := digestOf(t, hooksOf(t, app.AgentCodex, "codex/hooks.jsonl"))
	if !hooks.sessions[session] || hooks.entries["tool_result:call_fake_1"] == "" {
		t.Errorf("hooks: sessions %v entries %v; want the OTLP session %s and the tool result", hooks.sessions, hooks.entries, session)
	}
	notify, err := agents.FromHook(app.AgentCodex, []byte(strings.TrimSpace(string(readFile(t, "codex/notify.jsonl")))), agents.HookContext{})
	if err != nil {
		t.Fatal(err)
	}
	nd := digestOf(t, notify)
	if !nd.sessions[session] || !nd.headless || nd.signals[len(nd.signals)-1] != app.SignalTurnEnded {
		t.Errorf("notify: %+v", nd)
	}
	exec := digestOf(t, outputOf(t, "codex/exec.jsonl"))
	if !exec.sessions[session] || exec.tokens != (app.Tokens{Input: 8000, CachedInput: 2000, Output: 1000}) {
		t.Errorf("exec --json: sessions %v tokens %+v", exec.sessions, exec.tokens)
	}
}

func TestOrdinaryLogLinesAreNotAgentOutput(t *testing.T) {
	for _, line := range []string{"", "PASS", `{"level":"info","msg":"ready"}`, `{"type":"result"}`, `{"type": "mystery"}`, "{not json}"} {
		if r := agents.FromOutputLine(line); r != nil {
			t.Errorf("%q was read as agent output: %v", line, r)
		}
	}
}

func TestARefusedToolCallIsInTheTranscript(t *testing.T) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "claude-code")
	rec := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	rec.Body().SetStr("claude_code.tool_decision")
	for k, v := range map[string]string{"session.id": "s", "event.name": "tool_decision", "decision": "reject", "source": "user_reject", "tool_name": "Bash", "tool_use_id": "toolu_9"} {
		rec.Attributes().PutStr(k, v)
	}
	d := digestOf(t, agents.FromLogs(ld).Reports)
	if got := d.entries["tool_decision:toolu_9"]; got != "Bash reject (user_reject)" {
		t.Errorf("the refusal reads %q", got)
	}
}
