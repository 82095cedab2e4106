package agents

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/agentdeck/agentdeck/app"
)

// HookContext is what `agentdeck hook` adds to a payload from the place it
// runs: the agentdeck run around the agent, whether the session is an
// ambient run, the repository and branch of the payload's working
// directory, and when the hook ran.
type HookContext struct {
	RunID   string
	Ambient bool
	Source  app.Source
	Repo    string
	Branch  string
	At      time.Time
}

// hookAgents names the agents whose hooks are understood; the argument of
// `agentdeck hook` says whose a payload is, since their payloads share one
// shape.
var hookAgents = map[string]func(p jsonObject, base app.Report) []app.Report{
	app.AgentClaudeCode: func(p jsonObject, base app.Report) []app.Report { return commonHook(p, base, p.str("prompt_id")) },
	app.AgentCodex:      codexHook,
}

// HookAgent reports whether hooks of the named agent are understood.
func HookAgent(agent string) bool { return hookAgents[agent] != nil }

// FromHook reads one hook payload of an agent (or a Codex notify payload)
// into reports. A payload that is not a JSON object is refused.
func FromHook(agent string, payload []byte, hc HookContext) ([]app.Report, error) {
	read := hookAgents[agent]
	if read == nil {
		return nil, app.Errorf(app.EInvalid, "agent", "hooks of %q are not understood (use claude-code or codex)", agent)
	}
	p := decodeObject(payload)
	if p == nil {
		return nil, app.Errorf(app.EInvalid, "body", "a hook payload must be a JSON object")
	}
	base := app.Report{
		Agent: agent, RunID: hc.RunID, Channel: app.ChannelHook, At: hc.At,
		Ambient: hc.Ambient, Source: hc.Source,
		Where: app.Where{Cwd: p.str("cwd"), Repo: hc.Repo, Branch: hc.Branch},
	}
	return read(p, base), nil
}

// commonHook reads the hook events Claude Code and Codex share (§10).
// turnID names the turn a prompt or reply belongs to, so that the same turn
// told by another channel is stored once.
func commonHook(p jsonObject, base app.Report, turnID string) []app.Report {
	rep := base
	rep.Session = p.str("session_id")
	rep.Model = p.str("model")
	switch p.str("hook_event_name") {
	case "SessionStart":
		rep.Signal = app.SignalWorking
	case "UserPromptSubmit":
		rep.Signal = app.SignalWorking
		rep.Prompt = p.str("prompt")
		rep.Entry = &app.Entry{Key: "prompt:" + firstNonEmpty(turnID, digest(rep.Prompt)), Role: app.RoleUser, Text: rep.Prompt}
	case "PreToolUse":
		rep.Signal = app.SignalWorking
		rep.Entry = toolCallEntry(p.str("tool_use_id"), p.str("tool_name"), p["tool_input"])
	case "PostToolUse":
		rep.Signal = app.SignalWorking
		rep.Entry = toolResultEntry(p.str("tool_use_id"), p.str("tool_name"), p["tool_response"], false)
	case "PostToolUseFailure":
		rep.Signal = app.SignalWorking
		rep.Entry = toolResultEntry(p.str("tool_use_id"), p.str("tool_name"), firstNonEmpty(p.str("error"), "the tool failed"), true)
	case "Notification":
		rep.Signal = app.SignalWaiting
		rep.Reason = firstNonEmpty(p.str("message"), "waiting for you")
	case "PermissionRequest":
		rep.Signal = app.SignalWaiting
		rep.Reason = "permission to use " + firstNonEmpty(p.str("tool_name"), "a tool")
		if what := describeInput(p["tool_input"]); what != "" && what != "null" {
			rep.Reason += ": " + what
		}
	case "Stop":
		rep.Signal = app.SignalTurnEnded
		rep.Reason = "waiting for your next prompt"
		if reply := p.str("last_assistant_message"); reply != "" {
			rep.Entry = &app.Entry{Key: "reply:" + firstNonEmpty(turnID, digest(reply)), Role: app.RoleAgent, Text: reply}
		}
	case "StopFailure":
		rep.Signal = app.SignalFailed
		rep.Reason = firstNonEmpty(p.str("error"), p.str("message"), "the agent stopped on an error")
	case "SessionEnd":
		rep.Signal = app.SignalEnded
	}
	// Other events (PreCompact, SubagentStop, …) only say the session is
	// alive.
	return []app.Report{rep}
}

// digest names a text by its content, for a key when no id is given.
func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}
