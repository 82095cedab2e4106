package agents

import (
	"strings"

	"github.com/agentdeck/agentdeck/app"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Any agent that follows the OpenTelemetry GenAI semantic conventions:
// invoke_agent spans for its turns, execute_tool spans for its tools, and
// inference spans (chat, generate_content, …) with gen_ai.usage.*. A session
// is gen_ai.conversation.id, else the trace. The agent is named by
// gen_ai.agent.name, else the resource's service.name.
var genAIOTLP = otlpAdapter{
	name: "genai",
	span: genAISpan,
}

// genAISpan reads one span under the GenAI conventions.
func genAISpan(r resource, span ptrace.Span) ([]app.Report, bool) {
	attrs := span.Attributes()
	op := str(attrs, "gen_ai.operation.name")
	if op == "" && str(attrs, "gen_ai.system") == "" && str(attrs, "gen_ai.provider.name") == "" {
		return nil, false
	}
	session := firstNonEmpty(str(attrs, "gen_ai.conversation.id"), span.TraceID().String())
	agent := strings.ToLower(firstNonEmpty(str(attrs, "gen_ai.agent.name"), r.service, "genai"))
	start := r.report(agent, session, span.StartTimestamp().AsTime().UTC())
	start.Model = firstNonEmpty(str(attrs, "gen_ai.response.model"), str(attrs, "gen_ai.request.model"))
	start.Signal = app.SignalWorking
	end := start
	end.At = span.EndTimestamp().AsTime().UTC()
	end.Signal = app.SignalNone
	failed := span.Status().Code() == ptrace.StatusCodeError
	switch op {
	case "invoke_agent", "create_agent":
		// A turn of the agent. Spans arrive when they end, so this says
		// both that it worked and that its turn is over: an interactive
		// agent then waits for its person, a background one is done.
		end.Signal, end.Headless = app.SignalTurnEnded, r.ambient
		if failed {
			end.Signal = app.SignalFailed
			end.Reason = firstNonEmpty(span.Status().Message(), str(attrs, "error.type"), "the agent failed")
		}
		return []app.Report{start, end}, true
	case "execute_tool":
		id := firstNonEmpty(str(attrs, "gen_ai.tool.call.id"), span.SpanID().String())
		tool := str(attrs, "gen_ai.tool.name")
		var input any = str(attrs, "gen_ai.tool.call.arguments")
		if obj := decodeObject([]byte(input.(string))); obj != nil {
			input = map[string]any(obj)
		}
		start.Entry = toolCallEntry(id, tool, input)
		end.Entry = toolResultEntry(id, tool, str(attrs, "gen_ai.tool.call.result"), failed)
		return []app.Report{start, end}, true
	}
	// An inference: what it used.
	if _, has := attrs.Get("gen_ai.usage.input_tokens"); has {
		start.Usage = &app.Usage{Key: "span:" + span.SpanID().String(), Model: start.Model, Tokens: app.Tokens{
			Input:       count(attrs, "gen_ai.usage.input_tokens"),
			CachedInput: count(attrs, "gen_ai.usage.cache_read.input_tokens"),
			Output:      count(attrs, "gen_ai.usage.output_tokens"),
		}}
	}
	return []app.Report{start}, true
}

// Gemini CLI's OTLP logs: events named gemini_cli.<name> with session.id.
var geminiCLIOTLP = otlpAdapter{
	name:   app.AgentGeminiCLI,
	claims: func(r resource) bool { return r.service == app.AgentGeminiCLI },
	log:    geminiCLILog,
	point: func(r resource, _ pmetric.Metric, attrs pcommon.Map) ([]app.Report, bool) {
		if session := str(attrs, "session.id"); session != "" {
			return []app.Report{r.report(app.AgentGeminiCLI, session, zeroTime)}, true
		}
		return nil, true
	},
	span: genAISpanOf(app.AgentGeminiCLI),
}

// genAISpanOf reads GenAI spans of a named agent, which may not say its
// name in gen_ai.agent.name, and recognises its other spans.
func genAISpanOf(agent string) func(resource, ptrace.Span) ([]app.Report, bool) {
	return func(r resource, span ptrace.Span) ([]app.Report, bool) {
		reports, _ := genAISpan(r, span)
		for i := range reports {
			reports[i].Agent = agent
		}
		return reports, true
	}
}

// geminiCLILog reads one of Gemini CLI's log events.
func geminiCLILog(r resource, rec plog.LogRecord) ([]app.Report, bool) {
	attrs := rec.Attributes()
	session := str(attrs, "session.id")
	if session == "" {
		return nil, true
	}
	rep := r.report(app.AgentGeminiCLI, session, recordTime(rec.Timestamp(), rec.ObservedTimestamp(), attrs))
	rep.Model = str(attrs, "model")
	switch strings.TrimPrefix(str(attrs, "event.name"), "gemini_cli.") {
	case "user_prompt":
		rep.Signal = app.SignalWorking
		if p := str(attrs, "prompt"); !redacted(p) {
			rep.Prompt = p
			rep.Entry = &app.Entry{Key: "prompt:" + firstNonEmpty(str(attrs, "prompt_id"), digest(p)), Role: app.RoleUser, Text: p}
		}
	case "api_response":
		rep.Signal = app.SignalWorking
		cached := count(attrs, "cached_content_token_count")
		rep.Usage = &app.Usage{Key: recordKey("api_response", rec.Timestamp(), attrs), Model: rep.Model, Tokens: app.Tokens{
			Input:       count(attrs, "input_token_count"),
			CachedInput: cached,
			Output:      count(attrs, "output_token_count") + count(attrs, "thoughts_token_count"),
		}}
	case "tool_call":
		rep.Signal = app.SignalWorking
		ok, _ := flag(attrs, "success")
		id := firstNonEmpty(str(attrs, "call_id"), recordKey("tool", rec.Timestamp(), attrs))
		call := rep
		call.Entry = toolCallEntry(id, str(attrs, "function_name"), decodeObject([]byte(str(attrs, "function_args"))))
		rep.Entry = toolResultEntry(id, str(attrs, "function_name"), firstNonEmpty(str(attrs, "error"), okText(ok)), !ok)
		return []app.Report{call, rep}, true
	case "api_error":
		rep.Entry = &app.Entry{Key: recordKey("api_error", rec.Timestamp(), attrs), Role: app.RoleAgent,
			Text: "API error: " + str(attrs, "error"), Data: map[string]any{"kind": "api_error"}}
	}
	return []app.Report{rep}, true
}

func okText(ok bool) string {
	if ok {
		return "done"
	}
	return "failed"
}
