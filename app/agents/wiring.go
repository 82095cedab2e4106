// Package agents reads what real AI agents emit (OTLP, hooks, their output)
// and says how to wire them to report to agentdeck.
package agents

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/agentdeck/agentdeck/app"
)

// Wiring is what an agent needs to report to agentdeck.
type Wiring struct {
	BaseURL string // agentdeck's public URL, no trailing slash
	Token   string // a personal access token (adk_…)
	Command string // how to run the agentdeck binary, e.g. its absolute path
}

// HookTimeout is the timeout, in seconds, declared on every hook the wiring
// adds. Claude Code gives a SessionEnd hook that declares none only 1.5 s in
// all, too little to report over a slow network; the hook itself gives up
// sooner, so this is only an upper bound.
const HookTimeout = 10

// EnvVar is one environment variable an agent is given.
type EnvVar struct {
	Name, Value string
}

// Hook is one command hook: the agent runs Command through a shell on Event,
// for the tools Matcher selects when the event is about a tool.
type Hook struct {
	Event   string // e.g. SessionStart, PreToolUse
	Matcher string // "*" for the tool events, empty for the others
	Command string // a shell command line
	Timeout int    // seconds
}

// Group is the hook as the element of its event's array in a hooks object:
// {"matcher": "*", "hooks": [{"type": "command", "command": …, "timeout": …}]}.
// Claude Code's settings.json and Codex's hooks.json share this shape.
func (h Hook) Group() json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	if h.Matcher != "" {
		fmt.Fprintf(&b, `"matcher":%s,`, jsonString(h.Matcher))
	}
	fmt.Fprintf(&b, `"hooks":[{"type":"command","command":%s,"timeout":%d}]}`, jsonString(h.Command), h.Timeout)
	return b.Bytes()
}

// Hooks are the hooks an agent is given, in the order they are written.
type Hooks []Hook

// Snippet is the hooks as a JSON document, {"hooks": {event: [group]}}: the
// whole of a Codex hooks.json, or the hooks member of Claude Code's
// settings.json.
func (hs Hooks) Snippet() string {
	return indentJSON(`{"hooks":` + string(hs.object()) + `}`)
}

// object is the hooks as the JSON object that maps each event to its groups.
func (hs Hooks) object() []byte {
	var events []string
	groups := map[string][]string{}
	for _, h := range hs {
		if _, seen := groups[h.Event]; !seen {
			events = append(events, h.Event)
		}
		groups[h.Event] = append(groups[h.Event], string(h.Group()))
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, event := range events {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s:[%s]", jsonString(event), strings.Join(groups[event], ","))
	}
	b.WriteByte('}')
	return b.Bytes()
}

// ClaudeCodeWiring is what goes into Claude Code's ~/.claude/settings.json:
// members of its env object (Claude Code passes them to its OpenTelemetry
// exporter, and to hooks) and hooks that report each turn as it happens.
type ClaudeCodeWiring struct {
	Env   []EnvVar
	Hooks Hooks
}

// ClaudeCodeSettings is the wiring for Claude Code: OTLP logs and metrics
// to agentdeck's /v1/logs and /v1/metrics (the exporter appends those paths
// to the endpoint), prompts and tool details included, and a hook on every
// event that says whether a session is working, waiting or over.
func ClaudeCodeSettings(w Wiring) ClaudeCodeWiring {
	command := HookCommand(w.Command, app.AgentClaudeCode)
	return ClaudeCodeWiring{
		Env: []EnvVar{
			{"CLAUDE_CODE_ENABLE_TELEMETRY", "1"},
			{"OTEL_LOGS_EXPORTER", "otlp"},
			{"OTEL_METRICS_EXPORTER", "otlp"},
			{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"},
			{"OTEL_EXPORTER_OTLP_ENDPOINT", w.BaseURL},
			{"OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Bearer " + w.Token},
			{"OTEL_LOG_USER_PROMPTS", "1"},
			{"OTEL_LOG_TOOL_DETAILS", "1"},
			{"AGENTDECK_URL", w.BaseURL},
			{"AGENTDECK_TOKEN", w.Token},
		},
		Hooks: Hooks{
			{Event: "SessionStart", Command: command, Timeout: HookTimeout},
			{Event: "UserPromptSubmit", Command: command, Timeout: HookTimeout},
			{Event: "PreToolUse", Matcher: "*", Command: command, Timeout: HookTimeout},
			{Event: "PostToolUse", Matcher: "*", Command: command, Timeout: HookTimeout},
			{Event: "Notification", Command: command, Timeout: HookTimeout},
			{Event: "Stop", Command: command, Timeout: HookTimeout},
			// A turn that an API error ended (Claude Code 2.1 runs
			// StopFailure instead of Stop): the session failed.
			{Event: "StopFailure", Command: command, Timeout: HookTimeout},
			{Event: "SessionEnd", Command: command, Timeout: HookTimeout},
		},
	}
}

// Snippet is the wiring as a settings.json document with an env and a hooks
// member, to paste into (or merge with) the person's own.
func (c ClaudeCodeWiring) Snippet() string {
	var b bytes.Buffer
	b.WriteString(`{"env":{`)
	for i, v := range c.Env {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s:%s", jsonString(v.Name), jsonString(v.Value))
	}
	b.WriteString(`},"hooks":`)
	b.Write(c.Hooks.object())
	b.WriteByte('}')
	return indentJSON(b.String())
}

// TOMLSetting is one key the wiring sets in a TOML file.
type TOMLSetting struct {
	Table string // the table it belongs to, "" for the top level
	Key   string
	Value string // the value, written as TOML
}

// Line is the setting as it is written under its table: `key = value`.
func (s TOMLSetting) Line() string { return s.Key + " = " + s.Value }

// CodexConfig is what goes into $CODEX_HOME: settings for config.toml and
// the hooks of hooks.json.
type CodexConfig struct {
	Settings []TOMLSetting // in the order they are written
	Hooks    Hooks
}

// CodexWiring is the wiring for Codex. Codex reads no OTEL_* variables and
// expands none in its config, so the exporters name agentdeck's endpoints
// and carry the token themselves. notify reports the end of every turn, also
// where hooks are not trusted (codex exec runs untrusted hooks only when
// told to); the hooks report the rest, once [features] hooks turns them on.
func CodexWiring(w Wiring) CodexConfig {
	exporter := func(path string) string {
		return fmt.Sprintf(`{ otlp-http = { endpoint = %s, protocol = "json", headers = { "Authorization" = %s } } }`,
			tomlString(w.BaseURL+path), tomlString("Bearer "+w.Token))
	}
	notify := fmt.Sprintf("[%s, %s, %s]", tomlString(w.Command), tomlString("hook"), tomlString(app.AgentCodex))
	command := HookCommand(w.Command, app.AgentCodex)
	return CodexConfig{
		Settings: []TOMLSetting{
			{Table: "", Key: "notify", Value: notify},
			{Table: "features", Key: "hooks", Value: "true"},
			{Table: "otel", Key: "log_user_prompt", Value: "true"},
			{Table: "otel", Key: "exporter", Value: exporter("/v1/logs")},
			{Table: "otel", Key: "metrics_exporter", Value: exporter("/v1/metrics")},
		},
		Hooks: Hooks{
			{Event: "SessionStart", Command: command, Timeout: HookTimeout},
			{Event: "UserPromptSubmit", Command: command, Timeout: HookTimeout},
			{Event: "PreToolUse", Matcher: "*", Command: command, Timeout: HookTimeout},
			{Event: "PostToolUse", Matcher: "*", Command: command, Timeout: HookTimeout},
			{Event: "PermissionRequest", Matcher: "*", Command: command, Timeout: HookTimeout},
			{Event: "Stop", Command: command, Timeout: HookTimeout},
			{Event: "SessionEnd", Command: command, Timeout: HookTimeout},
		},
	}
}

// ConfigSnippet is the settings as TOML, grouped under their tables, to
// paste into config.toml: the top-level keys first, as TOML requires.
func (c CodexConfig) ConfigSnippet() string {
	var tables []string
	lines := map[string][]string{}
	for _, s := range c.Settings {
		if _, seen := lines[s.Table]; !seen && s.Table != "" {
			tables = append(tables, s.Table)
		}
		lines[s.Table] = append(lines[s.Table], s.Line())
	}
	var b strings.Builder
	for _, line := range lines[""] {
		b.WriteString(line + "\n")
	}
	for _, table := range tables {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("[" + table + "]\n")
		for _, line := range lines[table] {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// HooksSnippet is the whole of $CODEX_HOME/hooks.json.
func (c CodexConfig) HooksSnippet() string { return c.Hooks.Snippet() }

// HookCommand is the shell command line of agentdeck's hook for agent. The
// agents run it through a shell, so a path with spaces or shell
// metacharacters is quoted.
func HookCommand(command, agent string) string {
	return shellQuote(command) + " hook " + agent
}

// IsAgentdeckHook reports whether a hook's command line runs agentdeck's hook
// for agent from any copy of the binary: a program whose name starts with
// "agentdeck", then "hook <agent>". Wiring recognises its own hooks this way
// after the binary has moved, so that it replaces them rather than adding a
// second set, and so that undo finds them all.
func IsAgentdeckHook(command, agent string) bool {
	program, ok := strings.CutSuffix(command, " hook "+agent)
	if !ok {
		return false
	}
	unquoted, ok := shellUnquote(program)
	return ok && isAgentdeckProgram(unquoted)
}

// IsAgentdeckNotify reports whether a Codex notify command runs agentdeck's
// hook, from any copy of the binary.
func IsAgentdeckNotify(argv []string) bool {
	return len(argv) == 3 && argv[1] == "hook" && argv[2] == app.AgentCodex && isAgentdeckProgram(argv[0])
}

func isAgentdeckProgram(program string) bool {
	return strings.HasPrefix(path.Base(strings.ReplaceAll(program, `\`, "/")), "agentdeck")
}

// shellQuote quotes s as one word for a POSIX shell, and leaves it as it is
// when it needs no quoting, so that the usual path reads plainly.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// shellUnquote undoes shellQuote. It reads only what shellQuote writes (one
// word, bare or in single quotes with \' between them), and says whether s
// was such a word.
func shellUnquote(s string) (string, bool) {
	if !strings.ContainsAny(s, `'\`) {
		return s, !strings.ContainsAny(s, " \t\n\"$`;&|<>()*?[]#~")
	}
	var b strings.Builder
	for s != "" {
		switch {
		case strings.HasPrefix(s, `\'`):
			b.WriteByte('\'')
			s = s[2:]
		case s[0] == '\'':
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				return "", false
			}
			b.WriteString(s[1 : 1+end])
			s = s[2+end:]
		default:
			return "", false
		}
	}
	return b.String(), true
}

// jsonString is s as a JSON string. Unlike json.Marshal it leaves <, > and &
// alone: the snippets are read by people and written to files, not HTML.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err) // a string always encodes
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// indentJSON lays out a compact JSON document, built in this file, as people
// and the agents themselves write it: two spaces a level, a final newline.
func indentJSON(compact string) string {
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(compact), "", "  "); err != nil {
		panic(fmt.Sprintf("agents: invalid JSON built: %v", err))
	}
	return b.String() + "\n"
}

// tomlString is s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
