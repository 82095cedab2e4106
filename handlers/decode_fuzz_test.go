package handlers

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/agentdeck/agentdeck/app"
)

// FuzzDecodeEventBatch feeds the event-batch decoder arbitrary bodies. It
// must never panic; what it accepts must be a valid batch that survives a
// round trip through JSON; what it refuses must be a client error naming a
// field.
func FuzzDecodeEventBatch(f *testing.F) {
	for _, seed := range []string{
		`{"events":[{"seq":1,"type":"log","text":"hello"}]}`,
		`{"events":[{"seq":1,"type":"message","role":"tool","data":{"tool":"shell","arguments":{"cmd":"ls"}}}]}`,
		`{"events":[{"seq":2,"type":"output","text":"PR","data":{"url":"https://example.com"}},{"seq":2,"type":"log"}]}`,
		`{"events":[]}`, `{}`, `[]`, `null`, `{"events":null}`, `{"events":[{"seq":"1"}]}`,
		`{"events":[{"seq":1,"type":"log","extra":true}]}`, "{\"events\":[{\"seq\":1,\"type\":\"log\",\"text\":\"\xff\"}]}",
		`{"events":[{"seq":1.5,"type":"log"}]}`, `{"events":[{"seq":1,"type":"log","data":[1,2]}]}`,
		`{"events":[{"seq":9223372036854775807,"type":"log"}]}`, `{"events":[{"seq":1,"type":"log"}]} trailing`,
		`{"events":[{"type":"log","text":"numbered by the server"}]}`, `{"events":[{"type":"log"},{"seq":2,"type":"log"}]}`,
		`{"events":[{"seq":0,"type":"log"}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		events, numbered, err := decodeEventBatch(body)
		if err != nil {
			var e *app.Error
			if !errors.As(err, &e) || (e.Code != app.EInvalid && e.Code != app.ETooLarge) || e.Field == "" {
				t.Fatalf("%q was refused with %#v, want a 400 or 413 naming a field", body, err)
			}
			return
		}
		if len(events) > app.MaxEventBatch {
			t.Fatalf("accepted %d events", len(events))
		}
		batch := []map[string]any{}
		for i, e := range events {
			if err := e.Validate(i); err != nil {
				t.Fatalf("accepted an invalid event: %v", err)
			}
			if numbered != (e.Seq == 0) {
				t.Fatalf("accepted event %d with seq %d in a batch numbered=%v", i, e.Seq, numbered)
			}
			ev := map[string]any{"type": e.Type, "role": e.Role, "text": e.Text}
			if !numbered {
				ev["seq"] = e.Seq
			}
			if e.Data != "" {
				ev["data"] = json.RawMessage(e.Data)
			}
			batch = append(batch, ev)
		}
		reencoded, err := json.Marshal(map[string]any{"events": batch})
		if err != nil {
			t.Fatal(err)
		}
		again, againNumbered, err := decodeEventBatch(reencoded)
		if err != nil || againNumbered != numbered {
			t.Fatalf("%q was accepted, but its re-encoding %q was refused: %v", body, reencoded, err)
		}
		if !reflect.DeepEqual(normalise(events), normalise(again)) {
			t.Fatalf("round trip changed the batch:\n%#v\n%#v", events, again)
		}
	})
}

// normalise compacts each event's data, which a round trip may re-space.
func normalise(events []*app.Event) []app.Event {
	out := make([]app.Event, len(events))
	for i, e := range events {
		out[i] = *e
		if e.Data != "" {
			var v any
			json.Unmarshal([]byte(e.Data), &v)
			b, _ := json.Marshal(v)
			out[i].Data = string(b)
		}
	}
	return out
}
