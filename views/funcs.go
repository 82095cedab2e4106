package views

import (
	"encoding/json"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/static"
)

var funcs = template.FuncMap{
	"asset":         static.URL,
	"ago":           Ago,
	"exactTime":     exactTime,
	"isoTime":       func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"duration":      Duration,
	"safeURL":       SafeURL,
	"sources":       func() []app.Source { return app.Sources },
	"statuses":      func() []app.Status { return app.Statuses },
	"plural":        plural,
	"number":        Number,
	"utc":           func() *time.Location { return time.UTC },
	"ansi":          ANSI,
	"toolCall":      toolCall,
	"agentLabel":    app.AgentLabel,
	"viewURL":       ViewURL,
	"exportURL":     ExportURL,
	"insightsURL":   InsightsURL,
	"shownURL":      ShownURL,
	"savedViewURL":  SavedViewURL,
	"resumeCommand": ResumeCommand,
	"chips":         Chips,
	"dayShortcuts":  func() []DayShortcut { return DayShortcuts },
	"isDayShortcut": IsDayShortcut,
	"output":        outputOf,
	"isStderr":      func(e *app.Event) bool { return strings.Contains(e.Data, `"stderr"`) },
	"rows":          Rows,
	"statusBadge":   StatusBadge,
	"iconSprite":    func() template.HTML { return iconSpriteHTML },
	"avatar":        Avatar,
	"filterForm":    FilterForm,
}

// ResumeCommand is the command that resumes an agent's session in a
// terminal, for the agents that have one; "" otherwise.
func ResumeCommand(it *app.Item) string {
	if it.AgentSession == "" || !safeSessionID(it.AgentSession) {
		return ""
	}
	switch it.AgentName {
	case app.AgentClaudeCode:
		return "claude --resume " + it.AgentSession
	case app.AgentCodex:
		return "codex resume " + it.AgentSession
	}
	return ""
}

// safeSessionID accepts the session ids agents give (UUIDs and the like),
// so that a command offered for copying never carries shell syntax.
func safeSessionID(id string) bool {
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return len(id) <= 128
}

// statusIcons draw each status with its own shape, so that status never rests
// on colour alone; the label is always printed beside the icon.
var statusIcons = map[app.Status]string{
	app.StatusWorking:  `<circle cx="8" cy="8" r="6" stroke-dasharray="3 2.2"/><circle cx="8" cy="8" r="1.6" fill="currentColor" stroke="none"/>`,
	app.StatusBlocked:  `<circle cx="8" cy="8" r="6"/><path d="M6.3 5.5v5M9.7 5.5v5"/>`,
	app.StatusCanceled: `<circle cx="8" cy="8" r="6"/><path d="M3.8 12.2l8.4-8.4"/>`,
	app.StatusFailed:   `<path d="M8 2.2 14.2 13.3H1.8Z"/><path d="M8 6.5v3.2M8 11.4v.1"/>`,
	app.StatusSuccess:  `<circle cx="8" cy="8" r="6"/><path d="m5.2 8.2 1.9 1.9 3.8-4"/>`,
}

// statusIcon draws a status's icon from the page's sprite (iconSpriteHTML): a
// row names its icons rather than repeating their shapes, which was a third
// of a page of rows.
func statusIcon(s app.Status) template.HTML {
	return template.HTML(`<svg class="icon" width="16" height="16" aria-hidden="true"><use href="#icon-status-` + string(s) + `"/></svg>`)
}

// iconSpriteHTML defines, once per page, every icon the rows draw: each status's
// and each source's, in their own stroke.
var iconSpriteHTML = func() template.HTML {
	var b strings.Builder
	b.WriteString(`<svg class="sprite" width="0" height="0" aria-hidden="true">`)
	symbol := func(id, stroke, paths string) {
		b.WriteString(`<symbol id="` + id + `" viewBox="0 0 16 16"><g fill="none" stroke="currentColor" stroke-width="` + stroke +
			`" stroke-linecap="round" stroke-linejoin="round">` + paths + `</g></symbol>`)
	}
	for _, s := range app.Statuses {
		symbol("icon-status-"+string(s), "1.6", statusIcons[s])
	}
	for _, s := range app.Sources {
		if paths, ok := sourceIcons[s]; ok {
			symbol("icon-source-"+string(s), "1.5", paths)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}()

// Ago is a short relative time: "just now", "5m ago", "3h ago", "4d ago",
// then the date.
func Ago(t, now time.Time, loc *time.Location) string {
	var scratch [24]byte
	return string(appendAgo(scratch[:0], t, now, loc))
}

// appendAgo appends Ago's words, which need no escaping.
func appendAgo(b []byte, t, now time.Time, loc *time.Location) []byte {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return append(b, "just now"...)
	case d < time.Hour:
		return append(strconv.AppendInt(b, int64(d/time.Minute), 10), "m ago"...)
	case d < 24*time.Hour:
		return append(strconv.AppendInt(b, int64(d/time.Hour), 10), "h ago"...)
	case d < 7*24*time.Hour:
		return append(strconv.AppendInt(b, int64(d/(24*time.Hour)), 10), "d ago"...)
	}
	t = t.In(loc)
	if t.Year() == now.In(loc).Year() {
		return t.AppendFormat(b, "Jan 2")
	}
	return t.AppendFormat(b, "Jan 2, 2006")
}

func exactTime(t time.Time, loc *time.Location) string {
	return string(appendExactTime(nil, t, loc))
}

// appendExactTime appends the time to the second, with the day and zone, as
// t.In(loc).AppendFormat(b, "Mon, Jan 2, 2006 15:04:05 MST") does, written
// out by hand: a row writes one, and reading the layout was most of it.
func appendExactTime(b []byte, t time.Time, loc *time.Location) []byte {
	t = t.In(loc)
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = append(b, t.Weekday().String()[:3]...)
	b = append(b, ", "...)
	b = append(b, mo.String()[:3]...)
	b = append(strconv.AppendInt(append(b, ' '), int64(d), 10), ", "...)
	b = appendDigits(b, y, 4)
	b = appendDigits(append(b, ' '), h, 2)
	b = appendDigits(append(b, ':'), mi, 2)
	b = appendDigits(append(b, ':'), s, 2)
	b = append(b, ' ')
	name, offset := t.Zone()
	if name != "" {
		return append(b, name...)
	}
	// A zone without an abbreviation: its offset, as -0700.
	sign := byte('+')
	if offset < 0 {
		sign, offset = '-', -offset
	}
	minutes := offset / 60
	return appendDigits(appendDigits(append(b, sign), minutes/60, 2), minutes%60, 2)
}

// appendISOTime appends the time in UTC as RFC 3339 to the second, as
// t.UTC().AppendFormat(b, time.RFC3339) does.
func appendISOTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = appendDigits(b, y, 4)
	b = appendDigits(append(b, '-'), int(mo), 2)
	b = appendDigits(append(b, '-'), d, 2)
	b = appendDigits(append(b, 'T'), h, 2)
	b = appendDigits(append(b, ':'), mi, 2)
	b = appendDigits(append(b, ':'), s, 2)
	return append(b, 'Z')
}

// appendDigits appends a non-negative n with at least width digits.
func appendDigits(b []byte, n, width int) []byte {
	var digits [20]byte
	i := len(digits)
	for n >= 10 || width > 1 {
		i--
		digits[i] = byte('0' + n%10)
		n /= 10
		width--
	}
	i--
	digits[i] = byte('0' + n)
	return append(b, digits[i:]...)
}

// Duration prints "45s", "3m 12s" or "1h 04m".
func Duration(d time.Duration) string {
	var scratch [24]byte
	return string(appendDuration(scratch[:0], d))
}

// appendDuration appends Duration's text.
func appendDuration(b []byte, d time.Duration) []byte {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return append(strconv.AppendInt(b, int64(d/time.Second), 10), 's')
	case d < time.Hour:
		b = append(strconv.AppendInt(b, int64(d/time.Minute), 10), "m "...)
		return append(appendDigits(b, int(d/time.Second)%60, 2), 's')
	}
	b = append(strconv.AppendInt(b, int64(d/time.Hour), 10), "h "...)
	return append(appendDigits(b, int(d/time.Minute)%60, 2), 'm')
}

// SafeURL lets a stored link into an href when it cannot run script: http(s)
// links and the desktop app's own deep-link schemes, never javascript:,
// data:, vbscript: or file:. Anything else becomes empty.
func SafeURL(s string) template.URL {
	if u := safeURL(s); u != nil {
		return template.URL(u.String())
	}
	return ""
}

// safeURL is SafeURL's link as parsed, nil when it is not let in.
func safeURL(s string) *url.URL {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return nil
	}
	switch strings.ToLower(u.Scheme) {
	case "javascript", "data", "vbscript", "file", "blob":
		return nil
	case "http", "https":
		if u.Host == "" {
			return nil
		}
	}
	return u
}

// Number writes n with its thousands apart: 22,000.
func Number(n int64) string {
	digits := strconv.FormatInt(n, 10)
	sign := ""
	if n < 0 {
		sign, digits = "-", digits[1:]
	}
	var b strings.Builder
	b.WriteString(sign)
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	return b.String()
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return Number(n) + " " + many
}

// ToolCall is a tool message made readable: the tool's name and its
// arguments as indented JSON, or, for the result of a call (data.result),
// whether it failed.
type ToolCall struct {
	Name   string
	Args   string
	Result bool
	Failed bool
}

// maxToolArgs bounds the arguments shown inline.
const maxToolArgs = 4 << 10

// toolCall reads a tool message's data: data.tool or data.name, and
// data.arguments (or data.args, data.input); without those, all the data.
func toolCall(e *app.Event) ToolCall {
	data := e.DataMap()
	var tc ToolCall
	for _, k := range []string{"tool", "name"} {
		if n, ok := data[k].(string); ok && tc.Name == "" {
			tc.Name = n
		}
	}
	if result, _ := data["result"].(bool); result {
		tc.Result = true
		tc.Failed, _ = data["is_error"].(bool)
		return tc
	}
	var args any = data
	for _, k := range []string{"arguments", "args", "input"} {
		if a, ok := data[k]; ok {
			args = a
			break
		}
	}
	if args != nil && len(data) > 0 {
		b, err := json.MarshalIndent(args, "", "  ")
		if err == nil {
			tc.Args = string(b)
		}
		if len(tc.Args) > maxToolArgs {
			tc.Args = tc.Args[:maxToolArgs] + "\n…"
		}
	}
	return tc
}

// Output is an artifact of a run: a link (data.url, only when safe), a file
// (data.path) and its description (the event's text).
type Output struct {
	URL  template.URL
	Path string
	Text string
}

func outputOf(e *app.Event) Output {
	data := e.DataMap()
	o := Output{Text: e.Text}
	if u, ok := data["url"].(string); ok {
		o.URL = SafeURL(u)
	}
	if p, ok := data["path"].(string); ok {
		o.Path = p
	}
	return o
}
