package app

import (
	"encoding/json"
	"fmt"
	"time"

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
	// MaxSeq is the largest seq a client may give an event: 2⁵³ − 1, the
	// largest integer every JSON client reads exactly. It also leaves the
	// server room to number events after it without overflowing.
	MaxSeq = 1<<53 - 1
)

// CheckSeq accepts a client's seq for the i-th event of a batch: 1 to
// MaxSeq.
func CheckSeq(i int, seq int64) error {
	if seq < 1 || seq > MaxSeq {
		return Errorf(EInvalid, fmt.Sprintf("events[%d].seq", i), "seq must be a positive integer of at most %d", int64(MaxSeq))
	}
	return nil
}

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

// Prepare makes one event of a batch storable under the text rule (see
// CleanText): its text cleaned, its data cleaned and compacted (CleanData);
// then it checks the event as Validate does. i numbers the event in its
// batch, for the field an error names.
func (e *Event) Prepare(i int) error {
	e.Text = CleanText(e.Text)
	if e.Data != "" {
		if len(e.Data) > 4*MaxEventData {
			// Not worth decoding: cleaning never shrinks data this much.
			return Errorf(ETooLarge, fmt.Sprintf("events[%d].data", i), "the data is longer than %d bytes", MaxEventData)
		}
		data, err := CleanData(e.Data, fmt.Sprintf("events[%d].data", i))
		if err != nil {
			return err
		}
		e.Data = data
	}
	return e.check(i, false)
}

// Validate checks one event of a batch, all but its seq, which the client or
// the server chooses: a known type and role, and text and data that follow
// the text rule, within their limits, as Prepare leaves them. field names
// the offending member of the i-th event as the API spells it.
func (e *Event) Validate(i int) error { return e.check(i, true) }

// check is Validate; dataToCheck is false when Prepare has just cleaned the
// data, which then need not be decoded again.
func (e *Event) check(i int, dataToCheck bool) error {
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
	if !IsCleanText(e.Text) {
		return Errorf(EInvalid, field("text"), "the text is not valid UTF-8 without NUL bytes")
	}
	if e.Data != "" {
		if len(e.Data) > MaxEventData {
			return Errorf(ETooLarge, field("data"), "the data is longer than %d bytes", MaxEventData)
		}
		if dataToCheck {
			clean, err := CleanData(e.Data, field("data"))
			if err != nil {
				return err
			}
			if clean != e.Data {
				return Errorf(EInvalid, field("data"), "the data is not as stored: prepare the event first")
			}
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
