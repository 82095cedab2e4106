package agents

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/agentdeck/agentdeck/app"
)

// zeroTime is an unknown time: the store orders such reports by arrival.
var zeroTime time.Time

// jsonObject is a decoded JSON object with lenient accessors: what an agent
// leaves out or sends in another type reads as empty.
type jsonObject map[string]any

func asObject(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// str reads a string member; a number reads as its decimal form.
func (o jsonObject) str(key string) string {
	switch v := o[key].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

func (o jsonObject) object(key string) jsonObject { return asObject(o[key]) }

// objects reads an array of objects, skipping what is not one.
func (o jsonObject) objects(key string) []jsonObject {
	arr, _ := o[key].([]any)
	out := make([]jsonObject, 0, len(arr))
	for _, v := range arr {
		if m := asObject(v); m != nil {
			out = append(out, m)
		}
	}
	return out
}

// num reads a number member, NaN when absent or not a number.
func (o jsonObject) num(key string) float64 {
	if v, ok := o[key].(float64); ok {
		return v
	}
	return math.NaN()
}

// count reads a non-negative whole number, 0 when absent.
func (o jsonObject) count(key string) int64 {
	v, ok := o[key].(float64)
	if !ok || !(v >= 0 && v < math.MaxInt64/2) {
		return 0
	}
	return int64(v)
}

// decodeObject reads a JSON object, or returns nil.
func decodeObject(b []byte) jsonObject {
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}

func itoa(i int) string { return strconv.Itoa(i) }

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// maxSummary bounds the one-line description of a tool call's input.
const maxSummary = 300

// toolCallEntry is the transcript entry of a tool call.
func toolCallEntry(id, tool string, input any) *app.Entry {
	e := &app.Entry{Role: app.RoleTool, Text: tool + ": " + describeInput(input),
		Data: map[string]any{"tool": tool, "tool_use_id": id, "input": input}}
	if id != "" {
		e.Key = "tool_use:" + id
	}
	return e
}

// toolResultEntry is the transcript entry of a tool call's result.
func toolResultEntry(id, tool string, response any, isError bool) *app.Entry {
	e := &app.Entry{Role: app.RoleTool, Text: describeOutput(response),
		Data: map[string]any{"tool": tool, "tool_use_id": id, "result": true, "is_error": isError}}
	if id != "" {
		e.Key = "tool_result:" + id
	}
	return e
}

// describeInput says in one line what a tool was asked to do: its command
// or the file it works on, else its input as compact JSON.
func describeInput(input any) string {
	m := jsonObject(asObject(input))
	for _, key := range []string{"command", "cmd", "file_path", "path", "pattern", "url", "query", "description"} {
		switch v := m[key].(type) {
		case string:
			return oneLine(v, maxSummary)
		case []any:
			parts := make([]string, 0, len(v))
			for _, p := range v {
				if s, ok := p.(string); ok {
					parts = append(parts, s)
				}
			}
			return oneLine(strings.Join(parts, " "), maxSummary)
		}
	}
	if s, ok := input.(string); ok {
		return oneLine(s, maxSummary)
	}
	b, _ := json.Marshal(input)
	return oneLine(string(b), maxSummary)
}

// describeOutput is a tool's output as text: a shell's stdout and stderr, a
// list of text blocks, or the output as JSON.
func describeOutput(out any) string {
	switch v := out.(type) {
	case nil:
		return ""
	case string:
		return v
	case []any:
		var parts []string
		for _, block := range v {
			if b := jsonObject(asObject(block)); b != nil && b.str("type") == "text" {
				parts = append(parts, b.str("text"))
			}
		}
		if len(parts) > 0 {
			return strings.Join(parts, "\n")
		}
	case map[string]any:
		m := jsonObject(v)
		if stdout, ok := m["stdout"].(string); ok {
			if stderr := m.str("stderr"); stderr != "" {
				return strings.TrimRight(stdout, "\n") + "\n" + stderr
			}
			return stdout
		}
		for _, key := range []string{"output", "content", "result", "text"} {
			if s, ok := m[key].(string); ok {
				return s
			}
		}
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// oneLine collapses whitespace and clips to n bytes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
