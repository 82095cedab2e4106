package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
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
			checkDecodeRefusal(t, body, err)
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

// fuzzWorld is a user in a team on every available database, for the fuzz
// targets that take what they decode all the way to the store.
type fuzzWorld struct {
	name   string
	store  *app.Store
	viewer app.Viewer
}

func newFuzzWorlds(f *testing.F) []fuzzWorld {
	var out []fuzzWorld
	for _, n := range apptest.Stores(f) {
		ctx := context.Background()
		u := &app.User{Handle: "maya", Name: "Maya"}
		if err := n.Store.CreateUser(ctx, u); err != nil {
			f.Fatal(err)
		}
		if err := n.Store.CreateTeam(ctx, &app.Team{Slug: "platform", Name: "Platform"}, u.ID); err != nil {
			f.Fatal(err)
		}
		v, err := n.Store.Viewer(ctx, u.ID)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, fuzzWorld{n.Name, n.Store, v})
	}
	return out
}

// checkRefusal fails unless err, from decoding or from the store, is an
// *app.Error that the API answers with a 4xx: bad input is never a fault
// of ours.
func checkRefusal(t *testing.T, what string, body []byte, err error) {
	t.Helper()
	var e *app.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s %q failed with %v, want a refusal (*app.Error)", what, body, err)
	}
	if status := statusOf[e.Code]; status < 400 || status > 499 {
		t.Fatalf("%s %q was answered %d (%v), want a 4xx", what, body, status, err)
	}
}

// checkStored fails unless an item's text follows the text rule and its
// credits are within bounds, as stored.
func checkStored(t *testing.T, what string, body []byte, it *app.Item) {
	t.Helper()
	for _, text := range []string{it.Title, it.Where.Cwd, it.Where.Repo, it.Where.Branch, it.OpenURL, it.ExternalURL} {
		if !app.IsCleanText(text) {
			t.Fatalf("%s %q stored text %q that is not clean", what, body, text)
		}
	}
	if it.Inference > app.MaxCredits || it.Compute > app.MaxCredits || it.Inference < 0 || it.Compute < 0 {
		t.Fatalf("%s %q stored credits %s and %s", what, body, it.Inference, it.Compute)
	}
}

// FuzzDecodeRunCreate feeds the create decoder arbitrary bodies and takes
// what it accepts to CreateRun on every available database. Decoding must
// never panic and refuse only with a 400 or 413 naming a field; the store
// must create the run or refuse it with a 4xx, never fail; what it stores
// follows the text rule.
func FuzzDecodeRunCreate(f *testing.F) {
	for _, seed := range []string{
		`{"kind":"ambient","title":"Nightly tests"}`,
		`{"id":"0190a5c8-0000-7000-8000-000000000001","kind":"ambient","source":"cli","title":"t","status":"working","team":"platform","visibility":"team","external_url":"https://example.com/run/1","started_at":"2026-11-25T12:00:00Z","where":{"cwd":"/src","repo":"acme/web","branch":"main"}}`,
		`{"kind":"interactive","title":"chat","open_url":"vscode://file/a.go"}`,
		`{"kind":"ambient","title":"a\u0000b","team":"\u0000"}`, `{"kind":"ambient","title":"\ud800"}`,
		"{\"kind\":\"ambient\",\"title\":\"\xff\"}", `{"kind":"ambient","title":"t","started_at":"0000-01-01T00:00:00-14:00"}`,
		`{"kind":"interactive","title":"t","open_url":"search-ms:query=x"}`, `{"kind":"ambient","title":""}`, `{}`, `[]`, `null`,
		`{"kind":"ambient","title":"t","extra":1}`, `{"kind":"ambient","kind":"ambient","title":"t"}`,
	} {
		f.Add([]byte(seed))
	}
	worlds := newFuzzWorlds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		var n app.NewRun
		if err := decodeStrict(body, &n); err != nil {
			checkDecodeRefusal(t, body, err)
			return
		}
		for _, w := range worlds {
			it, _, err := w.store.CreateRun(context.Background(), w.viewer, n)
			if err != nil {
				checkRefusal(t, "create on "+w.name, body, err)
				continue
			}
			checkStored(t, "create on "+w.name, body, it)
		}
	})
}

// FuzzDecodeRunPatch feeds the PATCH decoder arbitrary bodies and applies
// what it accepts to a fresh run on every available database, under the
// same rules as FuzzDecodeRunCreate.
func FuzzDecodeRunPatch(f *testing.F) {
	for _, seed := range []string{
		`{"status":"success"}`, `{"title":"renamed"}`, `{"credits":{"inference":"1.25","compute":3}}`,
		`{"status":"failed","finished_at":"2026-11-25T13:00:00Z"}`, `{"credits":{"inference":"999999999.999999"}}`,
		`{"credits":{"inference":"1000000000"}}`, `{"credits":{"inference":1e400}}`, `{"credits":{"inference":1e-20000}}`,
		`{"title":"a\u0000b"}`, "{\"title\":\"\xff\"}", `{"status":"blocked"}`, `{"finished_at":"0001-01-01T00:00:00+14:00"}`,
		`{"status":"success","finished_at":"9999-12-31T23:59:59-14:00"}`, `{}`, `{"status":null}`, `[]`,
	} {
		f.Add([]byte(seed))
	}
	worlds := newFuzzWorlds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		var p runPatch
		if err := decodeStrict(body, &p); err != nil {
			checkDecodeRefusal(t, body, err)
			return
		}
		for _, w := range worlds {
			ctx := context.Background()
			run, _, err := w.store.CreateRun(ctx, w.viewer, app.NewRun{Kind: app.KindAmbient, Title: "target"})
			if err != nil {
				t.Fatal(err)
			}
			it, err := w.store.UpdateRun(ctx, w.viewer, run.ID, p.change())
			if err != nil {
				checkRefusal(t, "change on "+w.name, body, err)
				continue
			}
			checkStored(t, "change on "+w.name, body, it)
		}
	})
}

// checkDecodeRefusal fails unless a decoder's refusal is a 400 or 413
// naming a field.
func checkDecodeRefusal(t *testing.T, body []byte, err error) {
	t.Helper()
	var e *app.Error
	if !errors.As(err, &e) || (e.Code != app.EInvalid && e.Code != app.ETooLarge) || e.Field == "" {
		t.Fatalf("%q was refused with %#v, want a 400 or 413 naming a field", body, err)
	}
}
