package app

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// EventType says what an event is: part of the transcript, a log line, or an
// output (an artifact such as a pull request link, a file or a summary).
type EventType string

// The three event types.
const (
	EventMessage EventType = "message"
	EventLog     EventType = "log"
	EventOutput  EventType = "output"
)

// EventTypes lists every event type.
var EventTypes = []EventType{EventMessage, EventLog, EventOutput}

// MessageRole says who speaks in a message.
type MessageRole string

// The roles of a transcript.
const (
	RoleUser  MessageRole = "user"
	RoleAgent MessageRole = "agent"
	RoleTool  MessageRole = "tool"
)

// MessageRoles lists every role.
var MessageRoles = []MessageRole{RoleUser, RoleAgent, RoleTool}

// Limits of one event, so that a batch stays within the API's body limit and
// a page of events stays cheap to render.
const (
	MaxEventText = 64 << 10
	MaxEventData = 16 << 10
	// MaxEventBatch is the most events one append may carry.
	MaxEventBatch = 1000
)

// Event is one thing that happened inside an item, numbered by the client.
// The (item, seq) pair is unique, which makes retried appends harmless.
type Event struct {
	bun.BaseModel `bun:"table:events"`

	ItemID string      `bun:"item_id,pk"`
	Seq    int64       `bun:"seq,pk"`
	Type   EventType   `bun:"type,notnull"`
	Role   MessageRole `bun:"role,notnull"`
	Text   string      `bun:"text,notnull"`
	Data   string      `bun:"data,nullzero"` // a JSON object, or ""
	// Key names a transcript entry that several channels may report (a tool
	// call's id): an item stores each key once. "" for most events.
	Key       string    `bun:"key,nullzero"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// Validate checks one event of a batch, all but its seq, which the client or
// the server chooses; field names the offending member of the i-th event as
// the API spells it.
func (e *Event) Validate(i int) error {
	field := func(name string) string { return fmt.Sprintf("events[%d].%s", i, name) }
	if !oneOf(e.Type, EventTypes) {
		return Errorf(EInvalid, field("type"), "unknown event type %q (use message, log or output)", clip(string(e.Type)))
	}
	switch {
	case e.Type == EventMessage && e.Role == "":
		return Errorf(EInvalid, field("role"), "a message needs a role (user, agent or tool)")
	case e.Role != "" && !oneOf(e.Role, MessageRoles):
		return Errorf(EInvalid, field("role"), "unknown role %q (use user, agent or tool)", clip(string(e.Role)))
	}
	if len(e.Text) > MaxEventText {
		return Errorf(ETooLarge, field("text"), "the text is longer than %d bytes", MaxEventText)
	}
	if !utf8.ValidString(e.Text) {
		return Errorf(EInvalid, field("text"), "the text is not valid UTF-8")
	}
	if e.Data != "" {
		if len(e.Data) > MaxEventData {
			return Errorf(ETooLarge, field("data"), "the data is longer than %d bytes", MaxEventData)
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(e.Data), &obj); err != nil || obj == nil {
			return Errorf(EInvalid, field("data"), "the data must be a JSON object")
		}
	}
	return nil
}

// DataMap is the event's data decoded, or nil.
func (e *Event) DataMap() map[string]any {
	if e.Data == "" {
		return nil
	}
	var m map[string]any
	if json.Unmarshal([]byte(e.Data), &m) != nil {
		return nil
	}
	return m
}
