package agents

import (
	"encoding/json"
	"strings"

	"github.com/agentdeck/agentdeck/app"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Claude Code's OTLP: logs are events named claude_code.<name> (in the body,
// and as event.name), each carrying session.id; metrics carry it too.
var claudeCodeOTLP = otlpAdapter{
	name:   app.AgentClaudeCode,
	claims: func(r resource) bool { return r.service == "claude-code" },
	log:    claudeCodeLog,
	point: func(r resource, _ pmetric.Metric, attrs pcommon.Map) ([]app.Report, bool) {
		session := str(attrs, "session.id")
		if session == "" {
			return nil, true
		}
		// A metric only says the session is alive.
		return []app.Report{r.report(app.AgentClaudeCode, session, zeroTime)}, true
	},
	span: func(resource, ptrace.Span) ([]app.Report, bool) { return nil, true },
}

// claudeCodeLog reads one of Claude Code's log events.
func claudeCodeLog(r resource, rec plog.LogRecord) ([]app.Report, bool) {
	attrs := rec.Attributes()
	name := str(attrs, "event.name")
	if name == "" {
		name = strings.TrimPrefix(rec.Body().AsString(), "claude_code.")
	}
	session := str(attrs, "session.id")
	at := recordTime(rec.Timestamp(), rec.ObservedTimestamp(), attrs)
	rep := r.report(app.AgentClaudeCode, session, at)
	switch name {
	case "user_prompt":
		rep.Signal = app.SignalWorking
		if p := str(attrs, "prompt"); !redacted(p) {
			rep.Prompt = p
			rep.Entry = &app.Entry{Key: "prompt:" + str(attrs, "prompt.id"), Role: app.RoleUser, Text: p}
		}
	case "api_request":
		rep.Signal = app.SignalWorking
		rep.Model = str(attrs, "model")
		u := &app.Usage{
			Key:   recordKey("api_request", rec.Timestamp(), attrs),
			Model: rep.Model,
			Tokens: app.Tokens{
				Input:       count(attrs, "input_tokens") + count(attrs, "cache_read_tokens") + count(attrs, "cache_creation_tokens"),
				CachedInput: count(attrs, "cache_read_tokens"),
				Output:      count(attrs, "output_tokens"),
			},
		}
		if micros, ok := number(attrs, "cost_usd_micros"); ok {
			u.CostUSD, _ = app.USDFromMicros(int64(micros))
		} else if usd, ok := number(attrs, "cost_usd"); ok {
			u.CostUSD, _ = app.USDFromFloat(usd)
		}
		rep.Usage = u
	case "api_error":
		rep.Model = str(attrs, "model")
		text := "API error: " + str(attrs, "error")
		if code := str(attrs, "status_code"); code != "" && code != "undefined" {
			text += " (" + code + ")"
		}
		rep.Entry = &app.Entry{Key: recordKey("api_error", rec.Timestamp(), attrs), Role: app.RoleAgent, Text: text,
			Data: map[string]any{"kind": "api_error", "attempt": str(attrs, "attempt")}}
	case "tool_decision":
		rep.Signal = app.SignalWorking
		if decision := str(attrs, "decision"); decision != "" && decision != "accept" {
			// A refused tool call is part of what happened; an accepted one
			// shows as its result.
			rep.Entry = &app.Entry{Key: "tool_decision:" + str(attrs, "tool_use_id"), Role: app.RoleTool,
				Text: str(attrs, "tool_name") + " " + decision + " (" + firstNonEmpty(str(attrs, "source"), "by the person") + ")",
				Data: map[string]any{"tool": str(attrs, "tool_name"), "tool_use_id": str(attrs, "tool_use_id"), "decision": decision}}
		}
	case "tool_result":
		rep.Signal = app.SignalWorking
		tool := str(attrs, "tool_name")
		ok, _ := flag(attrs, "success")
		text := tool + " finished"
		if !ok {
			text = tool + " failed"
			if e := str(attrs, "error"); e != "" {
				text += ": " + e
			}
		}
		data := map[string]any{"tool": tool, "tool_use_id": str(attrs, "tool_use_id"), "success": ok, "duration_ms": count(attrs, "duration_ms")}
		if params := str(attrs, "tool_parameters"); params != "" {
			var v any
			if json.Unmarshal([]byte(params), &v) == nil {
				data["input"] = v
			}
		}
		rep.Entry = &app.Entry{Key: "tool_result:" + str(attrs, "tool_use_id"), Role: app.RoleTool, Text: text, Data: data}
	case "assistant_response":
		if text := str(attrs, "response"); !redacted(text) {
			rep.Entry = &app.Entry{Key: "reply:" + str(attrs, "message.uuid"), Role: app.RoleAgent, Text: text}
		}
		rep.Model = str(attrs, "model")
	}
	// Every other event (settings, plugins, hooks running) says only that
	// the session is alive.
	return []app.Report{rep}, true
}

// claudeCodeOutput reads one line of `claude -p --output-format stream-json`.
func claudeCodeOutput(l jsonObject, base app.Report) []app.Report {
	rep := base
	rep.Agent, rep.Session = app.AgentClaudeCode, l.str("session_id")
	switch l.str("type") {
	case "system":
		if l.str("subtype") != "init" {
			return []app.Report{rep}
		}
		rep.Signal = app.SignalWorking
		rep.Model = l.str("model")
		rep.Where.Cwd = l.str("cwd")
		return []app.Report{rep}
	case "assistant":
		msg := l.object("message")
		if model := msg.str("model"); !strings.HasPrefix(model, "<") {
			// "<synthetic>" marks a message Claude Code made up itself
			// (an API error's), not a model.
			rep.Model = model
		}
		var out []app.Report
		for i, block := range msg.objects("content") {
			r := rep
			switch block.str("type") {
			case "text":
				key := "reply:" + l.str("uuid")
				if i > 0 {
					key += ":" + itoa(i)
				}
				r.Entry = &app.Entry{Key: key, Role: app.RoleAgent, Text: block.str("text")}
			case "tool_use":
				r.Entry = toolCallEntry(block.str("id"), block.str("name"), block["input"])
			default:
				continue
			}
			out = append(out, r)
		}
		if len(out) == 0 {
			out = append(out, rep)
		}
		return out
	case "user":
		var out []app.Report
		for _, block := range l.object("message").objects("content") {
			if block.str("type") != "tool_result" {
				continue
			}
			r := rep
			isError, _ := block["is_error"].(bool)
			r.Entry = toolResultEntry(block.str("tool_use_id"), "", block["content"], isError)
			out = append(out, r)
		}
		if len(out) == 0 {
			out = append(out, rep)
		}
		return out
	case "result":
		var out []app.Report
		// The session's cost so far, per model where the line breaks it down.
		for model, raw := range l.object("modelUsage") {
			mu := jsonObject(asObject(raw))
			if u := claudeTotal("result:"+model, mu.num("costUSD"), mu, "inputTokens", "cacheReadInputTokens", "cacheCreationInputTokens", "outputTokens"); u != nil {
				r := rep
				r.Model, u.Model, r.Usage = model, model, u
				out = append(out, r)
			}
		}
		if len(out) == 0 {
			if u := claudeTotal("result", l.num("total_cost_usd"), l.object("usage"), "input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "output_tokens"); u != nil {
				r := rep
				r.Usage = u
				out = append(out, r)
			}
		}
		end := rep
		isError, _ := l["is_error"].(bool)
		if isError || l.str("subtype") != "success" {
			end.Signal = app.SignalFailed
			end.Reason = firstNonEmpty(l.str("result"), strings.ReplaceAll(l.str("subtype"), "_", " "), "the agent reported an error")
		} else {
			end.Signal = app.SignalSucceeded
		}
		return append(out, end)
	}
	return []app.Report{rep}
}

// claudeTotal is a session's usage so far as a stream-json result states
// it, under the names its object uses for input, cache reads, cache writes
// and output; nil when the cost is not a valid amount.
func claudeTotal(key string, costUSD float64, usage jsonObject, input, cacheRead, cacheWrite, output string) *app.Usage {
	cost, ok := app.USDFromFloat(costUSD)
	if !ok {
		return nil
	}
	read := usage.count(cacheRead)
	return &app.Usage{Key: key, Total: true, CostUSD: cost, Tokens: app.Tokens{
		Input:       usage.count(input) + read + usage.count(cacheWrite),
		CachedInput: read,
		Output:      usage.count(output),
	}}
}
