// Package clitest drives the real Claude Code and Codex CLIs in tests. It
// serves fake Anthropic Messages and OpenAI Responses APIs on 127.0.0.1,
// finds the installed CLIs and builds the environment that makes them run
// offline against the fakes.
//
// The fakes answer every prompt the same way. A prompt whose latest user
// message contains "RUNTOOL" first gets one shell tool call running
// `echo hello-from-tool`; one containing "SLOWTOOL" gets one running
// `/bin/sleep 600`. Once the tool's result comes back, and for any other
// prompt, the answer is the text "hi from the fake model". The usage every
// answer reports is fixed (see ClaudeInputTokens and OpenAIInputTokens), so
// that tests can assert exact costs.
package clitest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Text is the answer the fakes give to a prompt that asks for no tool, and
// after a tool's result has come back.
const Text = "hi from the fake model"

// Prompt keywords and the commands they make the fakes ask for.
const (
	// RunTool in the latest user message makes the fake's first answer a
	// shell tool call running ToolCommand.
	RunTool = "RUNTOOL"
	// ToolCommand is the command RunTool makes the agent run.
	ToolCommand = "echo hello-from-tool"
	// ToolOutput is what ToolCommand prints.
	ToolOutput = "hello-from-tool"
	// SlowTool in the latest user message makes the fake's first answer a
	// shell tool call running SlowToolCommand, so that a test can stop the
	// agent in the middle of a tool call.
	SlowTool = "SLOWTOOL"
	// SlowToolCommand is the command SlowTool makes the agent run.
	SlowToolCommand = "/bin/sleep 600"
)

// Claude Code prices ClaudeModel at $4 per million input tokens and $20 per
// million output tokens and computes a request's cost as
// input/1e6*4 + output/1e6*20 in float64. The fake reports token counts
// that are multiples of 1e6/64, so that every term, every request's cost
// and every sum of them is a dyadic rational with few bits: exact in binary
// floating point whatever the order of summation.
const (
	// ClaudeModel is the model ClaudeEnv pins Claude Code to. It is
	// Claude Code 2.1.328's default model and has no long-prompt pricing.
	ClaudeModel = "claude-opus-5-5"
	// ClaudeInputTokens is the input_tokens every Anthropic answer reports
	// (3/64 of a million: $0.1875).
	ClaudeInputTokens = 46875
	// ClaudeOutputTokens is the output_tokens every Anthropic answer
	// reports (1/64 of a million: $0.3125).
	ClaudeOutputTokens = 15625
	// ClaudeCostPerAnswerUSD is the cost Claude Code computes for one
	// answer of the fake: its cost_usd in OTLP and its share of
	// total_cost_usd.
	ClaudeCostPerAnswerUSD = 0.5
	// ClaudeCostPerAnswerMicros is ClaudeCostPerAnswerUSD in millionths of
	// a dollar: cost_usd_micros in OTLP.
	ClaudeCostPerAnswerMicros = 500_000
	// ClaudeToolRunCostUSD is total_cost_usd of a RUNTOOL prompt: two
	// answers, the tool call and the text.
	ClaudeToolRunCostUSD = 2 * ClaudeCostPerAnswerUSD
	// ClaudeTextRunCostUSD is total_cost_usd of a prompt with no tool: one
	// answer.
	ClaudeTextRunCostUSD = ClaudeCostPerAnswerUSD
)

// The OpenAI fake reports the same usage in every response.
const (
	// OpenAIModel is the model CodexConfig configures Codex with: a real
	// OpenAI model id whose price agentdeck's embedded table lists, so that
	// a Codex session is priced from the table. (Codex 0.169.0 has no
	// metadata for it and says so in one "error" item of its output; it
	// works all the same.)
	OpenAIModel = "gpt-5"
	// OpenAIInputTokens is the input_tokens of every OpenAI response,
	// cached ones included.
	OpenAIInputTokens = 4000
	// OpenAICachedInputTokens is the input_tokens_details.cached_tokens of
	// every OpenAI response: the part of OpenAIInputTokens read from cache.
	OpenAICachedInputTokens = 1000
	// OpenAIOutputTokens is the output_tokens of every OpenAI response.
	OpenAIOutputTokens = 500
	// OpenAIReasoningTokens is the output_tokens_details.reasoning_tokens of
	// every OpenAI response.
	OpenAIReasoningTokens = 0
)

// APIKey is the key ClaudeEnv and CodexEnv give the CLIs; the fakes accept
// any key.
const APIKey = "sk-test"

// CodexHookTrustFlag is the `codex exec` flag without which Codex 0.169.0
// skips the hooks in $CODEX_HOME/hooks.json as untrusted.
const CodexHookTrustFlag = "--dangerously-bypass-hook-trust"

// ToolCall is a shell tool call a fake handed out.
type ToolCall struct {
	// ID is the call's id: toolu_fake_N for Anthropic, call_fake_N for
	// OpenAI, N counting from 1 per server.
	ID string
	// Tool is the name of the tool called: Bash, exec_command, ….
	Tool string
	// Command is the shell command to run.
	Command string
}

// FakeAPI is a fake model API served on 127.0.0.1 until the test ends.
type FakeAPI struct {
	// URL is the server's base URL, such as http://127.0.0.1:41234, with no
	// /v1 and no trailing slash.
	URL string

	srv *httptest.Server
	// answer answers a request and reports whether that was a model's
	// answer.
	answer func(f *FakeAPI, w http.ResponseWriter, r *http.Request, body []byte) bool

	mu        sync.Mutex
	requests  int
	answers   int
	ids       int
	toolIDs   int
	paths     []string
	toolCalls []ToolCall
	changed   chan struct{} // closed and replaced when toolCalls grows
}

func newFake(t testing.TB, answer func(*FakeAPI, http.ResponseWriter, *http.Request, []byte) bool) *FakeAPI {
	f := &FakeAPI{changed: make(chan struct{}), answer: answer}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	f.URL = f.srv.URL
	t.Cleanup(f.srv.Close)
	return f
}

func (f *FakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests++
	f.paths = append(f.paths, r.Method+" "+r.URL.Path)
	f.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if f.answer(f, w, r, body) {
		f.mu.Lock()
		f.answers++
		f.mu.Unlock()
	}
}

// Requests returns how many HTTP requests the server has received, on any
// path. Besides the model's answers, they include Codex's
// POST /v1/analytics/codex/turn-costs (sent when [otel] is configured;
// answered 404).
func (f *FakeAPI) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// Answers returns how many model answers (Anthropic messages, OpenAI
// responses) the server has given. Each reports the usage constants of its
// API.
func (f *FakeAPI) Answers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.answers
}

// Paths returns the method and path of every request received so far, in
// order, such as "POST /v1/messages".
func (f *FakeAPI) Paths() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.paths...)
}

// ToolCalls returns the tool calls handed out so far, in order.
func (f *FakeAPI) ToolCalls() []ToolCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ToolCall(nil), f.toolCalls...)
}

// WaitToolCall waits until the server has handed out its n-th tool call
// (counting from 1), that is written the whole answer holding it, and
// returns it, or returns ctx's error.
func (f *FakeAPI) WaitToolCall(ctx context.Context, n int) (ToolCall, error) {
	if n < 1 {
		return ToolCall{}, fmt.Errorf("no tool call number %d: they count from 1", n)
	}
	for {
		f.mu.Lock()
		if len(f.toolCalls) >= n {
			tc := f.toolCalls[n-1]
			f.mu.Unlock()
			return tc, nil
		}
		changed := f.changed
		f.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return ToolCall{}, fmt.Errorf("waiting for tool call %d: %w", n, ctx.Err())
		}
	}
}

// ExpectedClaudeCostUSD returns the cost Claude Code computes for all the
// answers this server gave, if it is an Anthropic fake: exact in float64.
func (f *FakeAPI) ExpectedClaudeCostUSD() float64 {
	return float64(f.Answers()) * ClaudeCostPerAnswerUSD
}

// newToolCall returns a tool call with the next id. handedOut records it
// once the answer holding it has been written.
func (f *FakeAPI) newToolCall(prefix, tool, command string) ToolCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.toolIDs++
	return ToolCall{ID: fmt.Sprintf("%s%d", prefix, f.toolIDs), Tool: tool, Command: command}
}

// handedOut records tc as handed out and wakes WaitToolCall.
func (f *FakeAPI) handedOut(tc ToolCall) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.toolCalls = append(f.toolCalls, tc)
	close(f.changed)
	f.changed = make(chan struct{})
}

// nextID returns the next id for a message or response of this server.
func (f *FakeAPI) nextID(prefix string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ids++
	return fmt.Sprintf("%s%d", prefix, f.ids)
}

// sse is one server-sent event.
type sse struct {
	name string
	data any
}

func writeSSE(w http.ResponseWriter, events []sse) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	for _, e := range events {
		data, err := json.Marshal(e.data)
		if err != nil {
			panic(err)
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.name, data); err != nil {
			return
		}
		_ = rc.Flush()
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// decision is what a fake answers: a text or a shell command to run.
type decision struct {
	command string // "" for the text answer
}

func decide(latestUserText string, afterToolResult bool) decision {
	switch {
	case afterToolResult:
		return decision{}
	case strings.Contains(latestUserText, SlowTool):
		return decision{command: SlowToolCommand}
	case strings.Contains(latestUserText, RunTool):
		return decision{command: ToolCommand}
	}
	return decision{}
}

// Anthropic starts a fake Anthropic API for Claude Code: POST /v1/messages,
// streaming or not, POST /v1/messages/count_tokens and GET /v1/models. It
// is closed when the test ends.
func Anthropic(t testing.TB) *FakeAPI {
	return newFake(t, (*FakeAPI).anthropic)
}

type anthropicRequest struct {
	Model    string `json:"model"`
	Stream   bool   `json:"stream"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
}

type anthropicBlock struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// latestUser returns the text of the latest user message and whether it
// carries a tool result.
func (req *anthropicRequest) latestUser() (text string, toolResult bool) {
	for i := len(req.Messages) - 1; i >= 0; i-- {
		m := req.Messages[i]
		if m.Role != "user" {
			continue
		}
		var s string
		if json.Unmarshal(m.Content, &s) == nil {
			return s, false
		}
		var blocks []anthropicBlock
		_ = json.Unmarshal(m.Content, &blocks)
		var b strings.Builder
		for _, bl := range blocks {
			switch bl.Type {
			case "tool_result":
				toolResult = true
			case "text":
				b.WriteString(bl.Text)
				b.WriteByte('\n')
			}
		}
		return b.String(), toolResult
	}
	return "", false
}

func anthropicError(w http.ResponseWriter, code int, kind, msg string) {
	writeJSON(w, code, map[string]any{"type": "error", "error": map[string]any{"type": kind, "message": msg}})
}

func (f *FakeAPI) anthropic(w http.ResponseWriter, r *http.Request, body []byte) bool {
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case r.Method == http.MethodGet && path == "/v1/models":
		writeJSON(w, http.StatusOK, map[string]any{
			"data": []any{map[string]any{
				"type": "model", "id": ClaudeModel, "display_name": ClaudeModel,
				"created_at": "2026-01-01T00:00:00Z",
			}},
			"has_more": false, "first_id": ClaudeModel, "last_id": ClaudeModel,
		})
		return false
	case r.Method == http.MethodPost && path == "/v1/messages/count_tokens":
		writeJSON(w, http.StatusOK, map[string]any{"input_tokens": ClaudeInputTokens})
		return false
	case r.Method != http.MethodPost || path != "/v1/messages":
		anthropicError(w, http.StatusNotFound, "not_found_error", "no such endpoint in the fake: "+r.Method+" "+r.URL.Path)
		return false
	}
	var req anthropicRequest
	if err := json.Unmarshal(body, &req); err != nil {
		anthropicError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
		return false
	}
	model := req.Model
	if model == "" {
		model = ClaudeModel
	}
	d := decide(req.latestUser())
	id := f.nextID("msg_fake_")
	usage := map[string]any{
		"input_tokens": ClaudeInputTokens, "output_tokens": ClaudeOutputTokens,
		"cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
	}
	var block map[string]any
	var delta []map[string]any
	var tc ToolCall
	stopReason := "end_turn"
	if d.command != "" {
		input := map[string]any{"command": d.command, "description": "echo"}
		if d.command == SlowToolCommand {
			// Claude Code's longest Bash timeout, rather than its
			// 2-minute default.
			input = map[string]any{"command": d.command, "description": "sleep", "timeout": 600000}
		}
		tc = f.newToolCall("toolu_fake_", "Bash", d.command)
		defer f.handedOut(tc)
		block = map[string]any{"type": "tool_use", "id": tc.ID, "name": "Bash", "input": input}
		in, _ := json.Marshal(input)
		delta = []map[string]any{{"type": "input_json_delta", "partial_json": string(in)}}
		stopReason = "tool_use"
	} else {
		block = map[string]any{"type": "text", "text": Text}
		delta = []map[string]any{
			{"type": "text_delta", "text": Text[:8]},
			{"type": "text_delta", "text": Text[8:]},
		}
	}
	if !req.Stream {
		writeJSON(w, http.StatusOK, map[string]any{
			"id": id, "type": "message", "role": "assistant", "model": model,
			"content": []any{block}, "stop_reason": stopReason, "stop_sequence": nil,
			"usage": usage,
		})
		return true
	}
	start := map[string]any{}
	for k, v := range block {
		start[k] = v
	}
	if d.command != "" {
		start["input"] = map[string]any{}
	} else {
		start["text"] = ""
	}
	events := []sse{
		{"message_start", map[string]any{"type": "message_start", "message": map[string]any{
			"id": id, "type": "message", "role": "assistant", "model": model, "content": []any{},
			"stop_reason": nil, "stop_sequence": nil,
			"usage": map[string]any{
				"input_tokens": ClaudeInputTokens, "output_tokens": 1,
				"cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
			},
		}}},
		{"content_block_start", map[string]any{"type": "content_block_start", "index": 0, "content_block": start}},
		{"ping", map[string]any{"type": "ping"}},
	}
	for _, dl := range delta {
		events = append(events, sse{"content_block_delta", map[string]any{"type": "content_block_delta", "index": 0, "delta": dl}})
	}
	events = append(events,
		sse{"content_block_stop", map[string]any{"type": "content_block_stop", "index": 0}},
		sse{"message_delta", map[string]any{
			"type":  "message_delta",
			"delta": map[string]any{"stop_reason": stopReason, "stop_sequence": nil},
			"usage": map[string]any{"output_tokens": ClaudeOutputTokens},
		}},
		sse{"message_stop", map[string]any{"type": "message_stop"}},
	)
	writeSSE(w, events)
	return true
}

// OpenAI starts a fake OpenAI API for Codex: POST /v1/responses, streaming,
// and GET /v1/models. A tool call goes to the shell tool the request offers
// (exec_command, shell_command or shell). When exec_command reports that a
// command still runs, as it does for SlowToolCommand after 30 seconds, the
// next answer polls it with write_stdin for up to 5 minutes (a call with id
// call_fake_poll_N, not listed in ToolCalls) instead of ending the turn. It
// is closed when the test ends.
func OpenAI(t testing.TB) *FakeAPI {
	return newFake(t, (*FakeAPI).openai)
}

type openaiItem struct {
	Type    string          `json:"type"`
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
	Output  json.RawMessage `json:"output"`
}

type openaiRequest struct {
	Model string            `json:"model"`
	Input json.RawMessage   `json:"input"`
	Tools []json.RawMessage `json:"tools"`
}

// runningSession matches what Codex's exec_command and write_stdin return
// while the command still runs.
var runningSession = regexp.MustCompile(`Process running with session ID (\d+)`)

// latestUser returns the text of the latest user message and whether a
// tool's output came after it. If the latest item is the output of a
// command that still runs, session is the id of its exec session.
func (req *openaiRequest) latestUser() (text string, toolResult bool, session string) {
	var s string
	if json.Unmarshal(req.Input, &s) == nil {
		return s, false, ""
	}
	var items []openaiItem
	_ = json.Unmarshal(req.Input, &items)
	for i := len(items) - 1; i >= 0; i-- {
		it := items[i]
		if strings.HasSuffix(it.Type, "_output") {
			if i == len(items)-1 {
				if m := runningSession.FindSubmatch(it.Output); m != nil {
					session = string(m[1])
				}
			}
			return "", true, session
		}
		if it.Role != "user" {
			continue
		}
		if json.Unmarshal(it.Content, &s) == nil {
			return s, false, ""
		}
		var parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		_ = json.Unmarshal(it.Content, &parts)
		var b strings.Builder
		for _, p := range parts {
			b.WriteString(p.Text)
			b.WriteByte('\n')
		}
		return b.String(), false, ""
	}
	return "", false, ""
}

// offers reports whether the request offers a tool named name.
func (req *openaiRequest) offers(name string) bool {
	for _, raw := range req.Tools {
		var tool struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(raw, &tool) == nil && tool.Name == name {
			return true
		}
	}
	return false
}

// shellCall returns the name and JSON arguments of a call running command
// with the first shell tool the request offers.
func (req *openaiRequest) shellCall(command string) (name, args string, err error) {
	offered := map[string]bool{}
	var names []string
	for _, raw := range req.Tools {
		var tool struct {
			Type string `json:"type"`
			Name string `json:"name"`
		}
		_ = json.Unmarshal(raw, &tool)
		offered[tool.Name] = true
		names = append(names, tool.Name)
	}
	var a any
	switch {
	case offered["exec_command"]:
		name, a = "exec_command", map[string]any{"cmd": command}
		if command == SlowToolCommand {
			// Let the command run for as long as Codex allows before it
			// reports the command as still running.
			a = map[string]any{"cmd": command, "yield_time_ms": 30000}
		}
	case offered["shell_command"]:
		name, a = "shell_command", map[string]any{"command": command}
	case offered["shell"]:
		name, a = "shell", map[string]any{"command": []string{"bash", "-lc", command}}
	default:
		return "", "", fmt.Errorf("the request offers no shell tool the fake knows; it offers %q", names)
	}
	b, err := json.Marshal(a)
	return name, string(b), err
}

func openaiError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]any{"error": map[string]any{"message": msg, "type": "invalid_request_error"}})
}

func (f *FakeAPI) openai(w http.ResponseWriter, r *http.Request, body []byte) bool {
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case r.Method == http.MethodGet && path == "/v1/models":
		writeJSON(w, http.StatusOK, map[string]any{
			"object": "list",
			"data":   []any{map[string]any{"id": OpenAIModel, "object": "model", "created": 0, "owned_by": "openai"}},
		})
		return false
	case r.Method != http.MethodPost || path != "/v1/responses":
		openaiError(w, http.StatusNotFound, "no such endpoint in the fake: "+r.Method+" "+r.URL.Path)
		return false
	}
	var req openaiRequest
	if err := json.Unmarshal(body, &req); err != nil {
		openaiError(w, http.StatusBadRequest, err.Error())
		return false
	}
	model := req.Model
	if model == "" {
		model = OpenAIModel
	}
	text, toolResult, session := req.latestUser()
	d := decide(text, toolResult)
	var tool, args, callID string
	switch {
	case session != "" && req.offers("write_stdin"):
		// A command still runs (SlowTool): keep waiting for it, as a
		// model would, rather than end the turn.
		tool, args = "write_stdin", fmt.Sprintf(`{"session_id":%s,"chars":"","yield_time_ms":300000}`, session)
	case d.command != "":
		var err error
		if tool, args, err = req.shellCall(d.command); err != nil {
			openaiError(w, http.StatusBadRequest, err.Error())
			return false
		}
	}
	rid := f.nextID("resp_fake_")
	n := strings.TrimPrefix(rid, "resp_fake_")
	if tool == "write_stdin" {
		callID = "call_fake_poll_" + n
	} else if tool != "" {
		tc := f.newToolCall("call_fake_", tool, d.command)
		callID = tc.ID
		defer f.handedOut(tc)
	}
	usage := map[string]any{
		"input_tokens":          OpenAIInputTokens,
		"input_tokens_details":  map[string]any{"cached_tokens": OpenAICachedInputTokens},
		"output_tokens":         OpenAIOutputTokens,
		"output_tokens_details": map[string]any{"reasoning_tokens": OpenAIReasoningTokens},
		"total_tokens":          OpenAIInputTokens + OpenAIOutputTokens,
	}
	response := func(status string, output []any, withUsage bool) map[string]any {
		m := map[string]any{
			"id": rid, "object": "response", "created_at": time.Now().Unix(), "model": model,
			"status": status, "output": output,
		}
		if withUsage {
			m["usage"] = usage
		}
		return m
	}
	seq := 0
	ev := func(name string, data map[string]any) sse {
		data["type"] = name
		data["sequence_number"] = seq
		seq++
		return sse{name, data}
	}
	var events []sse
	events = append(events, ev("response.created", map[string]any{"response": response("in_progress", []any{}, false)}))
	if tool != "" {
		item := func(status, arguments string) map[string]any {
			return map[string]any{
				"type": "function_call", "id": "fc_fake_" + n, "call_id": callID, "name": tool,
				"arguments": arguments, "status": status,
			}
		}
		done := item("completed", args)
		events = append(events,
			ev("response.output_item.added", map[string]any{"output_index": 0, "item": item("in_progress", "")}),
			ev("response.function_call_arguments.delta", map[string]any{"item_id": "fc_fake_" + n, "output_index": 0, "delta": args}),
			ev("response.function_call_arguments.done", map[string]any{"item_id": "fc_fake_" + n, "output_index": 0, "arguments": args}),
			ev("response.output_item.done", map[string]any{"output_index": 0, "item": done}),
			ev("response.completed", map[string]any{"response": response("completed", []any{done}, true)}),
		)
	} else {
		mid := "msg_fake_" + n
		part := func(text string) map[string]any {
			return map[string]any{"type": "output_text", "text": text, "annotations": []any{}}
		}
		item := func(status string, content []any) map[string]any {
			return map[string]any{"type": "message", "id": mid, "status": status, "role": "assistant", "content": content}
		}
		done := item("completed", []any{part(Text)})
		at := func(m map[string]any) map[string]any {
			m["item_id"], m["output_index"], m["content_index"] = mid, 0, 0
			return m
		}
		events = append(events,
			ev("response.output_item.added", map[string]any{"output_index": 0, "item": item("in_progress", []any{})}),
			ev("response.content_part.added", at(map[string]any{"part": part("")})),
			ev("response.output_text.delta", at(map[string]any{"delta": Text[:8]})),
			ev("response.output_text.delta", at(map[string]any{"delta": Text[8:]})),
			ev("response.output_text.done", at(map[string]any{"text": Text})),
			ev("response.content_part.done", at(map[string]any{"part": part(Text)})),
			ev("response.output_item.done", map[string]any{"output_index": 0, "item": done}),
			ev("response.completed", map[string]any{"response": response("completed", []any{done}, true)}),
		)
	}
	writeSSE(w, events)
	return true
}

// AgentCLIs returns the paths of the claude and codex executables under
// $AGENTDECK_AGENT_CLIS/node_modules/.bin. When they are missing it skips
// the test, or fails it if REQUIRE_AGENT_CLIS=1.
//
// claude is a native binary. codex is a node script (node must be on PATH)
// that starts a native binary and forwards SIGTERM, SIGINT and SIGHUP to
// it; killing only the script leaves the native process running, so kill
// the process group. `codex exec` reads its standard input when that is not
// a terminal: give it an empty one (a nil exec.Cmd.Stdin). Claude Code runs
// a Bash tool's command in a session of its own: SIGTERM, SIGINT or SIGHUP
// make it stop the command, SIGKILL leaves the command running.
func AgentCLIs(t testing.TB) (claude, codex string) {
	t.Helper()
	dir := os.Getenv("AGENTDECK_AGENT_CLIS")
	problem := ""
	if dir == "" {
		problem = "AGENTDECK_AGENT_CLIS is not set (it names a directory whose node_modules/.bin holds claude and codex, as made by `npm install --prefix DIR @anthropic-ai/claude-code @openai/codex`)"
	} else {
		bin := filepath.Join(dir, "node_modules", ".bin")
		claude, codex = filepath.Join(bin, "claude"), filepath.Join(bin, "codex")
		for _, p := range []string{claude, codex} {
			if st, err := os.Stat(p); err != nil {
				problem = fmt.Sprintf("AGENTDECK_AGENT_CLIS=%s: %v", dir, err)
				break
			} else if st.Mode()&0o111 == 0 {
				problem = fmt.Sprintf("AGENTDECK_AGENT_CLIS=%s: %s is not executable", dir, p)
				break
			}
		}
	}
	if problem == "" {
		return claude, codex
	}
	if os.Getenv("REQUIRE_AGENT_CLIS") == "1" {
		t.Fatalf("the agent CLIs are required (REQUIRE_AGENT_CLIS=1) but missing: %s", problem)
	}
	t.Skipf("skipping: no agent CLIs: %s", problem)
	return "", ""
}

// baseEnv returns the variables of the current process every CLI needs:
// PATH (codex is a node script) and, when set, TMPDIR, LANG and SHELL.
func baseEnv(home string) []string {
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
	for _, k := range []string{"TMPDIR", "LANG", "SHELL"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// ClaudeEnv returns the whole environment for running Claude Code with
// HOME=home against the fake Anthropic API at anthropicURL: offline,
// non-interactive, pinned to ClaudeModel, with no update checks, telemetry
// to Anthropic or error reports. Callers append their own variables, such as
// the CLAUDE_CODE_ENABLE_TELEMETRY and OTEL_* ones that send OTLP elsewhere.
func ClaudeEnv(home, anthropicURL string) []string {
	return append(baseEnv(home),
		"ANTHROPIC_BASE_URL="+anthropicURL,
		"ANTHROPIC_API_KEY="+APIKey,
		"ANTHROPIC_MODEL="+ClaudeModel,
		"ANTHROPIC_SMALL_FAST_MODEL="+ClaudeModel,
		"ANTHROPIC_DEFAULT_HAIKU_MODEL="+ClaudeModel,
		"ANTHROPIC_DEFAULT_SONNET_MODEL="+ClaudeModel,
		"ANTHROPIC_DEFAULT_OPUS_MODEL="+ClaudeModel,
		"DISABLE_AUTOUPDATER=1",
		"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
		"DISABLE_TELEMETRY=1",
		"DISABLE_ERROR_REPORTING=1",
		"DISABLE_BUG_COMMAND=1",
		"DISABLE_INSTALLATION_CHECKS=1",
		"CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY=1",
		"CLAUDE_CODE_DISABLE_TERMINAL_TITLE=1",
		"CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL=1",
	)
}

// CodexEnv returns the whole environment for running Codex with HOME=home
// and CODEX_HOME=home/.codex, where WriteCodexConfig puts the config that
// points it at the fake OpenAI API. Codex runs hooks only in `codex exec`
// and only with CodexHookTrustFlag.
func CodexEnv(home string) []string {
	return append(baseEnv(home),
		"CODEX_HOME="+CodexHome(home),
		"FAKE_OPENAI_KEY="+APIKey,
		"NO_COLOR=1",
	)
}

// CodexHome returns the CODEX_HOME CodexEnv sets for home.
func CodexHome(home string) string { return filepath.Join(home, ".codex") }

// CodexConfig returns a minimal Codex config.toml that makes Codex use
// OpenAIModel from the fake OpenAI API at openaiURL, never ask for approval,
// run commands without a sandbox (which not every container supports), and
// neither check for updates nor send analytics. It has no [table] headers,
// so a caller may append both top-level keys (notify = […]) and tables
// ([otel], [features] hooks = true).
func CodexConfig(openaiURL string) string {
	return fmt.Sprintf(`model = %q
model_provider = "fake"
approval_policy = "never"
sandbox_mode = "danger-full-access"
check_for_update_on_startup = false
analytics = { enabled = false }
model_providers.fake = { name = "Fake", base_url = %q, wire_api = "responses", env_key = "FAKE_OPENAI_KEY", request_max_retries = 0, stream_max_retries = 0 }
`, OpenAIModel, openaiURL+"/v1")
}

// WriteCodexConfig writes CodexConfig(openaiURL) followed by extra to
// codexHome/config.toml, creating codexHome, and returns the file's path.
func WriteCodexConfig(t testing.TB, codexHome, openaiURL, extra string) string {
	t.Helper()
	if err := os.MkdirAll(codexHome, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(codexHome, "config.toml")
	if err := os.WriteFile(p, []byte(CodexConfig(openaiURL)+extra), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
