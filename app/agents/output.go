package agents

import (
	"bytes"

	"github.com/agentdeck/agentdeck/app"
)

// outputTypes maps the "type" of a line of an agent's machine-readable
// output to the agent that prints it: `claude -p --output-format
// stream-json` and `codex exec --json`.
var outputTypes = map[string]func(jsonObject, app.Report) []app.Report{
	"system": claudeCodeOutput, "assistant": claudeCodeOutput, "user": claudeCodeOutput, "result": claudeCodeOutput,
	"thread.started": codexOutput, "turn.started": codexOutput, "turn.completed": codexOutput,
	"turn.failed": codexOutput, "item.started": codexOutput, "item.completed": codexOutput,
}

// FromOutputLine reads one line a command printed when it is a line of an
// agent's machine-readable output, and returns nil for any other line. It
// is cheap for ordinary log lines: only a line that looks like a JSON object
// is decoded.
func FromOutputLine(text string) []app.Report {
	b := bytes.TrimSpace([]byte(text))
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' || !bytes.Contains(b, []byte(`"type"`)) {
		return nil
	}
	line := decodeObject(b)
	read := outputTypes[line.str("type")]
	if read == nil {
		return nil
	}
	// Claude Code's lines all name their session; one without is not its.
	if line.str("type") != "" && isClaudeType(line.str("type")) && line.str("session_id") == "" {
		return nil
	}
	return read(line, app.Report{Channel: app.ChannelOutput})
}

func isClaudeType(t string) bool {
	return t == "system" || t == "assistant" || t == "user" || t == "result"
}
