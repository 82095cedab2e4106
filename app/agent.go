package app

import (
	"math/big"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The agents whose reports agentdeck understands by name (§10). Any other
// agent that follows the OpenTelemetry GenAI conventions reports under the
// name it gives itself.
const (
	AgentClaudeCode = "claude-code"
	AgentCodex      = "codex"
	AgentGeminiCLI  = "gemini-cli"
)

// agentLabels are the agents' names as people write them.
var agentLabels = map[string]string{AgentClaudeCode: "Claude Code", AgentCodex: "Codex", AgentGeminiCLI: "Gemini CLI"}

// AgentLabel is an agent's name as people write it.
func AgentLabel(name string) string {
	if l, ok := agentLabels[name]; ok {
		return l
	}
	return name
}

// Tokens counts the tokens a session used. Input counts every input token,
// cached or not; CachedInput is the part of it read from a cache.
type Tokens struct {
	Input       int64 `bun:"input_tokens,notnull" json:"input"`
	CachedInput int64 `bun:"cached_input_tokens,notnull" json:"cached_input"`
	Output      int64 `bun:"output_tokens,notnull" json:"output"`
}

// IsZero reports whether no tokens were counted.
func (t Tokens) IsZero() bool { return t == Tokens{} }

func (t Tokens) plus(o Tokens) Tokens {
	return Tokens{Input: t.Input + o.Input, CachedInput: t.CachedInput + o.CachedInput, Output: t.Output + o.Output}
}

// Where says where a session ran, as far as it is known.
type Where struct {
	Cwd    string `bun:"cwd,notnull" json:"cwd,omitempty"`
	Repo   string `bun:"repo,notnull" json:"repo,omitempty"`
	Branch string `bun:"branch,notnull" json:"branch,omitempty"`
}

// IsZero reports whether nothing is known.
func (w Where) IsZero() bool { return w == Where{} }

// Channel is how a report reached agentdeck.
type Channel string

// The channels agents report through. They differ in how directly they speak
// of a session: a hook runs at the moment something happens, an agent's own
// output comes a line at a time, OTLP exports come in batches seconds later.
const (
	ChannelHook   Channel = "hook"
	ChannelOutput Channel = "output"
	ChannelOTLP   Channel = "otlp"
	// ChannelAPI is credits set through the API's PATCH.
	ChannelAPI Channel = "api"
)

// transcriptRank orders the channels for the transcript: once a more direct
// channel has written it, a less direct one no longer adds to it, since it
// would tell the same turns again in other words.
func (c Channel) transcriptRank() int {
	switch c {
	case ChannelHook:
		return 3
	case ChannelOutput:
		return 2
	case ChannelOTLP:
		return 1
	}
	return 0
}

// Signal is what a report says about the state of its session.
type Signal int

// The signals of §10, each mapped to a status by NextStatus.
const (
	SignalNone Signal = iota
	// SignalWorking: a session started, a prompt was submitted, a tool runs.
	SignalWorking
	// SignalWaiting: the agent waits on its person (a permission, an answer).
	SignalWaiting
	// SignalTurnEnded: the agent finished its turn. An interactive session
	// then waits for its person; a headless one (Report.Headless) is done.
	SignalTurnEnded
	// SignalEnded: the session ended.
	SignalEnded
	// SignalFailed: the session ended in an error.
	SignalFailed
	// SignalSucceeded: a headless session reported its successful result.
	SignalSucceeded
)

// Report is one thing an agent said about one of its sessions, read from a
// hook payload, an OTLP record or a line of its output. Reports are what the
// store applies (Store.Report); the adapters in app/agents make them.
type Report struct {
	Agent   string // claude-code, codex, or a GenAI agent's own name
	Session string // the agent's session id
	// RunID names the agentdeck run the agent runs under (AGENTDECK_RUN_ID,
	// or the OTLP resource attribute agentdeck.run_id): the session reports
	// into that run.
	RunID   string
	Channel Channel
	At      time.Time // when the agent said it, by the agent's clock; zero: unknown
	// Ambient and Source make a session that starts with this report an
	// ambient run from that source (agentdeck.kind, agentdeck.source).
	Ambient bool
	Source  Source
	// Headless says the session ends with its turn (codex exec, claude -p).
	Headless bool
	Signal   Signal
	Reason   string // why it failed, or what it waits for
	Prompt   string // a prompt its person submitted; the first becomes the title
	Model    string
	Where    Where
	Entry    *Entry // a transcript entry
	Usage    *Usage // tokens or cost of one record
}

// Entry is one turn of a transcript: a message, a tool call or its result.
// Key identifies it across channels (a tool call's id, a prompt's id), so
// that the same turn told twice is stored once.
type Entry struct {
	Key  string
	Role MessageRole
	Text string
	Data map[string]any
}

// Usage is what one record says a session used: its tokens, and its cost
// when the agent reports one. Key identifies the record within its channel
// so that a record received twice counts once; a Total record is the
// session's whole usage so far on its channel and replaces the previous
// total of that key instead of adding to it.
type Usage struct {
	Key    string
	Model  string
	Tokens Tokens
	// CostUSD is the reported cost in US dollars, exact; nil when the agent
	// reports tokens only and the price table decides.
	CostUSD *big.Rat
	Total   bool
}

// maxReason bounds a reason's length.
const maxReason = 500

// Revivable reports whether a final status may still change: an agent's
// session that the liveness rule closed (lost contact, abandoned) moves on
// when a late signal comes (§10).
func (it *Item) Revivable() bool {
	return it.AgentName != "" && (it.Status == StatusFailed && it.Reason == ReasonLostContact ||
		it.Status == StatusCanceled && it.Reason == ReasonAbandoned)
}

// The reasons the liveness rule gives.
const (
	ReasonLostContact = "lost contact"
	ReasonAbandoned   = "abandoned"
)

// NextStatus is the one place where a report's signal becomes a status (§10):
//   - working: a session started, a prompt was submitted, a tool runs;
//   - blocked: waiting on the person, or an interactive turn ended;
//   - success: the session ended, or a headless turn completed;
//   - canceled: an interactive session ended by its person mid-turn;
//   - failed: the session ended in an error.
//
// An ambient run is never blocked or canceled. A final status stays, except
// one the liveness rule set (Revivable). A report older than the signal that
// set the current status changes nothing, so that a late batch never undoes
// a newer state. Hooks and OTLP of an agent inside an agentdeck run never end
// that run: the run ends with its command. It returns the new status and
// reason and whether anything changes.
func NextStatus(it *Item, r Report) (Status, string, bool) {
	if r.Signal == SignalNone {
		return it.Status, it.Reason, false
	}
	if !r.At.IsZero() && !it.StatusAt.IsZero() && r.At.Before(it.StatusAt) {
		return it.Status, it.Reason, false
	}
	if it.Status.Final() && !it.Revivable() {
		return it.Status, it.Reason, false
	}
	ambient := it.Kind == KindAmbient
	// Only the run's own output may end a run it wraps; its hooks and OTLP
	// speak of the agent, which may end before the command does.
	insideRun := r.RunID != "" && r.Channel != ChannelOutput
	status, reason := it.Status, ""
	switch r.Signal {
	case SignalWorking:
		status = StatusWorking
	case SignalWaiting:
		if ambient {
			return it.Status, it.Reason, false
		}
		status, reason = StatusBlocked, r.Reason
	case SignalTurnEnded:
		switch {
		case r.Headless && !insideRun:
			status = StatusSuccess
		case ambient:
			return it.Status, it.Reason, false
		default:
			status, reason = StatusBlocked, r.Reason
		}
	case SignalEnded:
		switch {
		case insideRun:
			return it.Status, it.Reason, false
		case !ambient && it.Status == StatusWorking && !it.Revivable():
			status, reason = StatusCanceled, "ended mid-turn"
		default:
			status = StatusSuccess
		}
	case SignalFailed:
		if insideRun {
			return it.Status, it.Reason, false
		}
		status, reason = StatusFailed, r.Reason
	case SignalSucceeded:
		if insideRun {
			return it.Status, it.Reason, false
		}
		status = StatusSuccess
	}
	reason = ClipText(CleanText(reason), maxReason)
	return status, reason, status != it.Status || reason != it.Reason
}

// Liveness is the rule for sessions that vanish (§10): a laptop closes, a
// process is killed, and no end ever comes.
type Liveness struct {
	// StaleAfter: a working session silent this long failed, "lost contact".
	StaleAfter time.Duration
	// AbandonAfter: a blocked session waits on its person and may rightly wait
	// for hours; silent this long, it is canceled, "abandoned".
	AbandonAfter time.Duration
}

// DefaultLiveness is §10's default: 30 minutes and 24 hours.
var DefaultLiveness = Liveness{StaleAfter: 30 * time.Minute, AbandonAfter: 24 * time.Hour}

// placeholderTitle names a session until its first prompt is known.
func placeholderTitle(agent string) string { return AgentLabel(agent) + " session" }

// promptTitle makes a prompt a one-line title.
func promptTitle(prompt string) string {
	t := strings.Join(strings.Fields(CleanText(prompt)), " ")
	if len(t) > maxTitleLen {
		t = ClipText(t, maxTitleLen-len("…")) + "…"
	}
	return t
}

// maxTitleLen is the longest title an item may have, in bytes.
const maxTitleLen = 300

// ClipText shortens s to at most n bytes without splitting a character.
func ClipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// ModelList is the item's models in the order first seen.
func (it *Item) ModelList() []string { return splitList(it.Models) }

// UnpricedModelList is the models whose tokens had no price.
func (it *Item) UnpricedModelList() []string { return splitList(it.UnpricedModels) }

// CreditsKnown reports whether the credits are exact: false when some
// tokens had no price.
func (it *Item) CreditsKnown() bool { return it.UnpricedModels == "" }

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// addToList adds v to a comma-separated list unless it is there.
func addToList(list, v string) string {
	v = strings.ReplaceAll(ClipText(CleanText(v), 100), ",", " ")
	if v == "" {
		return list
	}
	items := splitList(list)
	if slices.Contains(items, v) || len(items) >= 20 {
		return list
	}
	return strings.Join(append(items, v), ",")
}
