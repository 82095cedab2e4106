package agents

import (
	"strings"

	"github.com/agentdeck/agentdeck/app"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Codex's OTLP: logs are events named codex.<name> in event.name, each with
// conversation.id and model. Its metrics and traces name no conversation, so
// they are recognised and otherwise left alone.
var codexOTLP = otlpAdapter{
	name: app.AgentCodex,
	claims: func(r resource) bool {
		return r.service == "codex_exec" || r.service == "codex_cli_rs" || strings.HasPrefix(r.service, "codex_")
	},
	log:   codexLog,
	point: func(resource, pmetric.Metric, pcommon.Map) ([]app.Report, bool) { return nil, true },
	span:  func(resource, ptrace.Span) ([]app.Report, bool) { return nil, true },
}

// codexLog reads one of Codex's log events.
func codexLog(r resource, rec plog.LogRecord) ([]app.Report, bool) {
	attrs := rec.Attributes()
	session := str(attrs, "conversation.id")
	if session == "" {
		// Codex's own diagnostics ("flushing OTEL metrics") name no session.
		return nil, true
	}
	rep := r.report(app.AgentCodex, session, recordTime(rec.Timestamp(), rec.ObservedTimestamp(), attrs))
	rep.Model = str(attrs, "model")
	if r.service == "codex_exec" || str(attrs, "originator") == "codex_exec" {
		rep.Headless = true
	}
	switch str(attrs, "event.name") {
	case "codex.conversation_starts":
		rep.Signal = app.SignalWorking
	case "codex.user_prompt":
		rep.Signal = app.SignalWorking
		if p := str(attrs, "prompt"); !redacted(p) {
			rep.Prompt = p
			rep.Entry = &app.Entry{Key: recordKey("prompt", rec.Timestamp(), attrs), Role: app.RoleUser, Text: p}
		}
	case "codex.tool_decision":
		rep.Signal = app.SignalWorking
	case "codex.tool_result":
		rep.Signal = app.SignalWorking
		id, tool := str(attrs, "call_id"), str(attrs, "tool_name")
		call := rep
		call.Entry = toolCallEntry(id, tool, decodeObject([]byte(str(attrs, "arguments"))))
		ok, _ := flag(attrs, "success")
		rep.Entry = toolResultEntry(id, tool, str(attrs, "output"), !ok)
		return []app.Report{call, rep}, true
	case "codex.sse_event":
		if str(attrs, "event.kind") == "response.completed" {
			if _, has := attrs.Get("input_token_count"); has {
				rep.Usage = &app.Usage{Key: recordKey("response", rec.Timestamp(), attrs), Model: rep.Model, Tokens: app.Tokens{
					Input:       count(attrs, "input_token_count"),
					CachedInput: count(attrs, "cached_token_count"),
					Output:      count(attrs, "output_token_count"),
				}}
			}
		}
	case "codex.api_request":
		if status := count(attrs, "http.response.status_code"); status >= 400 {
			rep.Entry = &app.Entry{Key: recordKey("api_error", rec.Timestamp(), attrs), Role: app.RoleAgent,
				Text: "API error: " + firstNonEmpty(str(attrs, "error.message"), "HTTP "+str(attrs, "http.response.status_code")),
				Data: map[string]any{"kind": "api_error"}}
		}
	}
	return []app.Report{rep}, true
}

// codexHook reads one of Codex's hook payloads, or its notify payload.
func codexHook(p jsonObject, base app.Report) []app.Report {
	if p.str("type") == "agent-turn-complete" {
		return codexNotify(p, base)
	}
	return commonHook(p, base, p.str("turn_id"))
}

// codexNotify reads the payload Codex passes its notify program when a turn
// completes. A turn of `codex exec` ("client": "codex_exec") ends its
// session.
func codexNotify(p jsonObject, base app.Report) []app.Report {
	rep := base
	rep.Session = p.str("thread-id")
	rep.Where.Cwd = firstNonEmpty(rep.Where.Cwd, p.str("cwd"))
	turn := p.str("turn-id")
	var out []app.Report
	if inputs, _ := p["input-messages"].([]any); len(inputs) > 0 {
		if prompt, _ := inputs[0].(string); prompt != "" {
			r := rep
			r.Prompt = prompt
			r.Entry = &app.Entry{Key: "prompt:" + firstNonEmpty(turn, digest(prompt)), Role: app.RoleUser, Text: prompt}
			out = append(out, r)
		}
	}
	end := rep
	end.Signal = app.SignalTurnEnded
	end.Headless = p.str("client") == "codex_exec"
	end.Reason = "waiting for your next prompt"
	if reply := p.str("last-assistant-message"); reply != "" {
		end.Entry = &app.Entry{Key: "reply:" + firstNonEmpty(turn, digest(reply)), Role: app.RoleAgent, Text: reply}
	}
	return append(out, end)
}

// codexOutput reads one line of `codex exec --json`. Only its first line
// names the session (thread.started); the run it is printed in ties the
// rest to it.
func codexOutput(l jsonObject, base app.Report) []app.Report {
	rep := base
	rep.Agent = app.AgentCodex
	rep.Headless = true
	switch l.str("type") {
	case "thread.started":
		rep.Session = l.str("thread_id")
		rep.Signal = app.SignalWorking
	case "turn.started":
		rep.Signal = app.SignalWorking
	case "turn.completed":
		usage := l.object("usage")
		rep.Usage = &app.Usage{Key: "turn:" + app.NewItemID(), Tokens: app.Tokens{
			Input:       usage.count("input_tokens"),
			CachedInput: usage.count("cached_input_tokens"),
			Output:      usage.count("output_tokens"),
		}}
		rep.Signal = app.SignalTurnEnded
	case "turn.failed":
		rep.Signal = app.SignalFailed
		rep.Reason = firstNonEmpty(l.object("error").str("message"), "the turn failed")
	case "item.started", "item.completed":
		item := l.object("item")
		id := item.str("id")
		switch item.str("type") {
		case "agent_message":
			rep.Entry = &app.Entry{Key: "item:" + id, Role: app.RoleAgent, Text: item.str("text")}
		case "command_execution":
			if l.str("type") == "item.started" {
				rep.Signal = app.SignalWorking
				rep.Entry = toolCallEntry("item:"+id, "shell", map[string]any{"command": item.str("command")})
			} else {
				exit, _ := item["exit_code"].(float64)
				rep.Entry = toolResultEntry("item:"+id, "shell", item.str("aggregated_output"), exit != 0)
			}
		case "file_change", "mcp_tool_call", "web_search":
			if l.str("type") == "item.completed" {
				rep.Entry = toolCallEntry("item:"+id, item.str("type"), map[string]any(item))
			}
		}
	}
	return []app.Report{rep}
}
