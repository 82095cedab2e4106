package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
	"github.com/agentdeck/agentdeck/config"
)

func ambientRun(id, title string) map[string]any {
	return map[string]any{"id": id, "kind": "ambient", "source": "cli", "title": title}
}

func TestAPIEveryEndpointSucceeds(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		id := app.NewItemID()
		started := w.now.Add(-90 * time.Second)
		created := w.as(t, "maya", "POST", "/api/v1/runs", map[string]any{
			"id": id, "kind": "ambient", "source": "github_actions", "title": "Nightly tests", "team": "platform",
			"external_url": "https://github.com/acme/web/actions/runs/42", "started_at": started.Format(time.RFC3339),
		})
		wantStatus(t, "create", created, http.StatusCreated)
		it := created.JSON(t)
		for k, want := range map[string]any{
			"id": id, "kind": "ambient", "source": "github_actions", "status": "working", "creator": "maya",
			"team": "platform", "visibility": "team", "external_url": "https://github.com/acme/web/actions/runs/42",
			"duration_ms": 90000.0,
		} {
			if it[k] != want {
				t.Errorf("created item %s = %v, want %v", k, it[k], want)
			}
		}
		if loc := created.Header.Get("Location"); loc != "/api/v1/runs/"+id {
			t.Errorf("Location = %q", loc)
		}

		got := w.as(t, "maya", "GET", "/api/v1/runs/"+id, nil)
		wantStatus(t, "read", got, http.StatusOK)
		if got.JSON(t)["title"] != "Nightly tests" {
			t.Errorf("read back %s", got.Body)
		}
		// A teammate sees a team-visible run too.
		wantStatus(t, "teammate reads", w.as(t, "jonas", "GET", "/api/v1/runs/"+id, nil), http.StatusOK)

		batch := map[string]any{"events": []map[string]any{
			{"seq": 1, "type": "message", "role": "user", "text": "Run the tests"},
			{"seq": 2, "type": "message", "role": "tool", "text": "", "data": map[string]any{"tool": "shell", "arguments": map[string]any{"cmd": "make test"}}},
			{"seq": 3, "type": "log", "text": "\x1b[32mok\x1b[0m  pkg/auth"},
			{"seq": 4, "type": "output", "text": "Pull request", "data": map[string]any{"url": "https://github.com/acme/web/pull/7"}},
		}}
		appended := w.as(t, "maya", "POST", "/api/v1/runs/"+id+"/events", batch)
		wantStatus(t, "append", appended, http.StatusOK)
		if m := appended.JSON(t); m["accepted"] != 4.0 || m["duplicates"] != 0.0 {
			t.Errorf("append = %s, want 4 accepted", appended.Body)
		}

		w.now = w.now.Add(time.Minute)
		patched := w.as(t, "maya", "PATCH", "/api/v1/runs/"+id, map[string]any{
			"status": "success", "credits": map[string]any{"inference": "1.25", "compute": 0.5},
		})
		wantStatus(t, "patch", patched, http.StatusOK)
		p := patched.JSON(t)
		credits := p["credits"].(map[string]any)
		if credits["inference"] != "1.25" || credits["compute"] != "0.50" || credits["total"] != "1.75" {
			t.Errorf("credits = %v, want 1.25 + 0.50 = 1.75", credits)
		}
		if p["status"] != "success" || p["finished_at"] != w.now.Format(time.RFC3339) || p["duration_ms"] != 150000.0 {
			t.Errorf("finished run = status %v finished_at %v duration %v; want success at %s after 150000 ms",
				p["status"], p["finished_at"], p["duration_ms"], w.now.Format(time.RFC3339))
		}

		events := w.as(t, "maya", "GET", "/api/v1/runs/"+id+"/events?limit=3", nil)
		wantStatus(t, "events page 1", events, http.StatusOK)
		e1 := events.JSON(t)
		if n := len(e1["events"].([]any)); n != 3 || e1["next"] != "3" {
			t.Fatalf("first page = %d events, next %v; want 3 and next 3", n, e1["next"])
		}
		tool := e1["events"].([]any)[1].(map[string]any)
		if tool["role"] != "tool" || tool["data"].(map[string]any)["tool"] != "shell" {
			t.Errorf("tool call came back as %v", tool)
		}
		rest := w.as(t, "maya", "GET", "/api/v1/runs/"+id+"/events?limit=3&cursor=3", nil).JSON(t)
		if evs := rest["events"].([]any); len(evs) != 1 || evs[0].(map[string]any)["seq"] != 4.0 || rest["next"] != nil {
			t.Errorf("second page = %v, want seq 4 alone and no next", rest)
		}
		logs := w.as(t, "maya", "GET", "/api/v1/runs/"+id+"/events?type=log", nil).JSON(t)
		if evs := logs["events"].([]any); len(evs) != 1 || evs[0].(map[string]any)["text"] != "\x1b[32mok\x1b[0m  pkg/auth" {
			t.Errorf("logs = %v, want the one log line as sent", logs)
		}

		// Ten more runs, listed with the view's filters and paged.
		for i := range 10 {
			w.now = w.now.Add(time.Second)
			r := ambientRun("", fmt.Sprintf("run %d", i))
			if i%2 == 0 {
				r["source"] = "scheduled"
			}
			wantStatus(t, "create", w.as(t, "maya", "POST", "/api/v1/runs", r), http.StatusCreated)
		}
		list := w.as(t, "maya", "GET", "/api/v1/runs?source=scheduled&limit=3", nil)
		wantStatus(t, "list", list, http.StatusOK)
		l := list.JSON(t)
		runs := l["runs"].([]any)
		if len(runs) != 3 || runs[0].(map[string]any)["title"] != "run 8" || l["next"] == nil {
			t.Fatalf("list = %s, want run 8, 6, 4 and a next cursor", list.Body)
		}
		more := w.as(t, "maya", "GET", "/api/v1/runs?source=scheduled&limit=3&cursor="+l["next"].(string), nil).JSON(t)
		if runs := more["runs"].([]any); len(runs) != 2 || runs[1].(map[string]any)["title"] != "run 0" || more["next"] != nil {
			t.Errorf("second page = %v, want run 2 and run 0", more)
		}
		all := w.as(t, "jonas", "GET", "/api/v1/runs?tab=all&status=success", nil).JSON(t)
		if runs := all["runs"].([]any); len(runs) != 1 || runs[0].(map[string]any)["id"] != id {
			t.Errorf("jonas's All tab, success = %v, want maya's shared run alone", all)
		}
	})
}

func TestAPIEnforcesTheStatusRules(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		ambient := app.NewItemID()
		wantStatus(t, "create ambient", w.as(t, "maya", "POST", "/api/v1/runs", ambientRun(ambient, "a")), http.StatusCreated)
		chat := app.NewItemID()
		wantStatus(t, "create interactive", w.as(t, "maya", "POST", "/api/v1/runs", map[string]any{
			"id": chat, "kind": "interactive", "title": "chat", "open_url": "agent://conversations/1",
		}), http.StatusCreated)

		cases := []struct {
			name   string
			method string
			path   string
			body   any
			status int
			field  string
		}{
			{"ambient cannot be blocked", "PATCH", ambient, map[string]any{"status": "blocked"}, 422, "status"},
			{"ambient cannot be canceled", "PATCH", ambient, map[string]any{"status": "canceled"}, 422, "status"},
			{"created blocked", "POST", "", map[string]any{"kind": "ambient", "title": "x", "status": "blocked"}, 422, "status"},
			{"interactive from slack", "POST", "", map[string]any{"kind": "interactive", "source": "slack", "title": "x"}, 422, "source"},
			{"ambient from the desktop app", "POST", "", map[string]any{"kind": "ambient", "source": "interactive", "title": "x"}, 422, "source"},
			{"interactive with compute credits", "PATCH", chat, map[string]any{"credits": map[string]any{"compute": "1"}}, 422, "credits.compute"},
			{"finish time on a working run", "PATCH", ambient, map[string]any{"finished_at": "2026-11-25T12:00:00Z"}, 422, "finished_at"},
			{"a team that is not mine", "POST", "", map[string]any{"kind": "ambient", "title": "x", "team": "product"}, 422, "team"},
			{"team-visible without a team", "POST", "", map[string]any{"kind": "ambient", "title": "x", "visibility": "team"}, 422, "visibility"},
			{"blocked chat", "PATCH", chat, map[string]any{"status": "blocked"}, 200, ""},
			{"blocked chat canceled", "PATCH", chat, map[string]any{"status": "canceled"}, 200, ""},
			{"canceled chat resumed", "PATCH", chat, map[string]any{"status": "working"}, 409, "status"},
			{"run failed", "PATCH", ambient, map[string]any{"status": "failed"}, 200, ""},
			{"failed run succeeds", "PATCH", ambient, map[string]any{"status": "success"}, 409, "status"},
			{"failed again is a no-op", "PATCH", ambient, map[string]any{"status": "failed"}, 200, ""},
			{"late credits on a final run", "PATCH", ambient, map[string]any{"credits": map[string]any{"inference": "2"}}, 200, ""},
		}
		for _, c := range cases {
			path := "/api/v1/runs"
			if c.path != "" {
				path += "/" + c.path
			}
			r := w.as(t, "maya", c.method, path, c.body)
			if r.Status != c.status {
				t.Errorf("%s: status %d, want %d (%s)", c.name, r.Status, c.status, r.Body)
				continue
			}
			if c.field != "" && r.errorField(t) != c.field {
				t.Errorf("%s: error names field %q, want %q (%s)", c.name, r.errorField(t), c.field, r.Body)
			}
		}
		final := w.as(t, "maya", "GET", "/api/v1/runs/"+ambient, nil).JSON(t)
		if final["status"] != "failed" || final["credits"].(map[string]any)["inference"] != "2.00" {
			t.Errorf("after the refused changes the run is %v, want failed with its late credits", final)
		}
	})
}

func TestAPICreateIsIdempotent(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		id := app.NewItemID()
		first := w.as(t, "maya", "POST", "/api/v1/runs", ambientRun(id, "deploy"))
		wantStatus(t, "first create", first, http.StatusCreated)
		again := w.as(t, "maya", "POST", "/api/v1/runs", ambientRun(id, "deploy"))
		wantStatus(t, "replayed create", again, http.StatusOK)
		if string(again.Body) != string(first.Body) {
			t.Errorf("replay returned\n %s\nwant\n %s", again.Body, first.Body)
		}
		clash := w.as(t, "maya", "POST", "/api/v1/runs", ambientRun(id, "something else"))
		wantStatus(t, "same id, other body", clash, http.StatusConflict)
		if clash.errorField(t) != "id" {
			t.Errorf("conflict names %q, want id", clash.errorField(t))
		}
		wantStatus(t, "another user's id", w.as(t, "tomas", "POST", "/api/v1/runs", ambientRun(id, "deploy")), http.StatusConflict)

		key := http.Header{"Idempotency-Key": {"job-42"}}
		k1 := w.call(t, w.tokens["maya"], "POST", "/api/v1/runs", ambientRun("", "keyed"), key)
		wantStatus(t, "keyed create", k1, http.StatusCreated)
		k2 := w.call(t, w.tokens["maya"], "POST", "/api/v1/runs", ambientRun("", "keyed"), key)
		wantStatus(t, "keyed replay", k2, http.StatusOK)
		if k1.JSON(t)["id"] != k2.JSON(t)["id"] {
			t.Errorf("keyed replay made a new item: %v then %v", k1.JSON(t)["id"], k2.JSON(t)["id"])
		}
		k3 := w.call(t, w.tokens["maya"], "POST", "/api/v1/runs", ambientRun("", "keyed differently"), key)
		wantStatus(t, "same key, other body", k3, http.StatusConflict)
		if k3.errorField(t) != "Idempotency-Key" {
			t.Errorf("conflict names %q, want Idempotency-Key", k3.errorField(t))
		}
		// Keys belong to their user: tomas may use the same one.
		wantStatus(t, "another user's key", w.call(t, w.tokens["tomas"], "POST", "/api/v1/runs", ambientRun("", "keyed"), key), http.StatusCreated)

		// Eight clients racing with the same create make exactly one item.
		for _, keyed := range []bool{false, true} {
			id := app.NewItemID()
			body := ambientRun(id, "raced")
			var hdr http.Header
			if keyed {
				body = ambientRun("", "raced with a key")
				hdr = http.Header{"Idempotency-Key": {"race-" + id}}
			}
			var mu sync.Mutex
			statuses := map[int]int{}
			ids := map[any]bool{}
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					r := w.call(t, w.tokens["maya"], "POST", "/api/v1/runs", body, hdr)
					mu.Lock()
					defer mu.Unlock()
					statuses[r.Status]++
					if r.Status < 300 {
						ids[r.JSON(t)["id"]] = true
					}
				})
			}
			wg.Wait()
			if statuses[http.StatusCreated] != 1 || statuses[http.StatusOK] != 7 || len(ids) != 1 {
				t.Errorf("keyed=%v: 8 concurrent creates gave statuses %v and ids %v; want one 201, seven 200, one id", keyed, statuses, ids)
			}
		}
		list := w.as(t, "maya", "GET", "/api/v1/runs?limit=100", nil).JSON(t)
		if n := len(list["runs"].([]any)); n != 4 {
			t.Errorf("maya has %d items, want 4 (deploy, keyed, two raced)", n)
		}
	})
}

func TestAPIEventsWithRepeatedSeqAreStoredOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		id := app.NewItemID()
		wantStatus(t, "create", w.as(t, "maya", "POST", "/api/v1/runs", ambientRun(id, "logs")), http.StatusCreated)
		path := "/api/v1/runs/" + id + "/events"
		batch := func(seqs ...int) map[string]any {
			var evs []map[string]any
			for _, s := range seqs {
				evs = append(evs, map[string]any{"seq": s, "type": "log", "text": fmt.Sprintf("line %d", s)})
			}
			return map[string]any{"events": evs}
		}
		for _, c := range []struct {
			seqs                 []int
			accepted, duplicates float64
		}{
			{[]int{1, 2, 3}, 3, 0},
			{[]int{1, 2, 3}, 0, 3},    // the same batch resent
			{[]int{3, 4, 4, 5}, 2, 2}, // overlapping, and a repeat within the batch
		} {
			r := w.as(t, "maya", "POST", path, batch(c.seqs...))
			wantStatus(t, "append", r, http.StatusOK)
			if m := r.JSON(t); m["accepted"] != c.accepted || m["duplicates"] != c.duplicates {
				t.Errorf("append %v = %s, want %v accepted, %v duplicates", c.seqs, r.Body, c.accepted, c.duplicates)
			}
		}
		page, err := s.Events(context.Background(), id, app.EventQuery{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range page.Events {
			got = append(got, e.Text)
			if !e.CreatedAt.Equal(w.now) {
				t.Errorf("event %d was stored at %v, want %v", e.Seq, e.CreatedAt, w.now)
			}
		}
		if want := "line 1,line 2,line 3,line 4,line 5"; strings.Join(got, ",") != want {
			t.Errorf("stored %q, want %q", strings.Join(got, ","), want)
		}
	})
}

func TestAPIAuthentication(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		ctx := context.Background()
		mayaRun := app.NewItemID()
		wantStatus(t, "create", w.as(t, "maya", "POST", "/api/v1/runs", ambientRun(mayaRun, "private")), http.StatusCreated)

		revokedTok, revoked, _ := s.CreateAccessToken(ctx, w.users["maya"].ID, "old", time.Time{})
		if err := s.RevokeAccessToken(ctx, w.users["maya"].ID, revokedTok.ID); err != nil {
			t.Fatal(err)
		}
		_, expiring, _ := s.CreateAccessToken(ctx, w.users["maya"].ID, "short", w.now.Add(time.Hour))
		good := w.tokens["maya"]
		last := "a"
		if good[len(good)-1] == 'a' {
			last = "b"
		}
		flipped := good[:len(good)-1] + last

		cases := []struct {
			name, header, message string
		}{
			{"missing", "", "missing token"},
			{"not bearer", "Basic " + good, "malformed token"},
			{"wrong prefix", "Bearer xyz_" + good[4:], "malformed token"},
			{"bad checksum", "Bearer " + flipped, "malformed token"},
			{"truncated", "Bearer " + good[:20], "malformed token"},
			{"unknown", "Bearer " + unknownToken(t, s), "unknown token"},
			{"revoked", "Bearer " + revoked, "revoked token"},
		}
		for _, c := range cases {
			h := http.Header{}
			if c.header != "" {
				h.Set("Authorization", c.header)
			}
			r := w.call(t, "", "GET", "/api/v1/runs/"+mayaRun, nil, h)
			if r.Status != http.StatusUnauthorized || !strings.Contains(string(r.Body), c.message) {
				t.Errorf("%s: %d %s, want 401 saying %q", c.name, r.Status, r.Body, c.message)
			}
		}
		wantStatus(t, "expiring token before expiry", w.call(t, expiring, "GET", "/api/v1/runs/"+mayaRun, nil, nil), http.StatusOK)
		w.now = w.now.Add(2 * time.Hour)
		if r := w.call(t, expiring, "GET", "/api/v1/runs/"+mayaRun, nil, nil); r.Status != 401 || !strings.Contains(string(r.Body), "expired token") {
			t.Errorf("expired token: %d %s, want 401 expired token", r.Status, r.Body)
		}

		// Another user's item is not found, whatever the verb.
		wantStatus(t, "jonas reads maya's private run", w.as(t, "jonas", "GET", "/api/v1/runs/"+mayaRun, nil), http.StatusNotFound)
		wantStatus(t, "jonas patches it", w.as(t, "jonas", "PATCH", "/api/v1/runs/"+mayaRun, map[string]any{"status": "failed"}), http.StatusNotFound)
		wantStatus(t, "jonas appends to it", w.as(t, "jonas", "POST", "/api/v1/runs/"+mayaRun+"/events",
			map[string]any{"events": []map[string]any{{"seq": 1, "type": "log", "text": "x"}}}), http.StatusNotFound)
		wantStatus(t, "jonas reads its events", w.as(t, "jonas", "GET", "/api/v1/runs/"+mayaRun+"/events", nil), http.StatusNotFound)

		// A signed-in browser session is no credential for the API.
		browser := w.signIn(t, "maya")
		resp, body := w.get(t, browser, "/api/v1/runs/"+mayaRun, nil)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("session cookie on the API: %d %s, want 401", resp.StatusCode, body)
		}
	})
}

// unknownToken is a well-formed token that this store never issued: one
// issued by another store.
func unknownToken(t *testing.T, s *app.Store) string {
	t.Helper()
	other := apptest.SQLite(t)
	u := &app.User{Handle: "ghost"}
	if err := other.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	_, secret, err := other.CreateAccessToken(context.Background(), u.ID, "elsewhere", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func TestAPIRefusesBadInputNamingTheField(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		id := app.NewItemID()
		wantStatus(t, "create", w.as(t, "maya", "POST", "/api/v1/runs", ambientRun(id, "r")), http.StatusCreated)
		events := "/api/v1/runs/" + id + "/events"
		tooMany := make([]map[string]any, app.MaxEventBatch+1)
		for i := range tooMany {
			tooMany[i] = map[string]any{"seq": i + 1, "type": "log", "text": "x"}
		}
		cases := []struct {
			name   string
			method string
			path   string
			body   any
			status int
			field  string
		}{
			{"no body", "POST", "/api/v1/runs", "", 400, "body"},
			{"not JSON", "POST", "/api/v1/runs", "{kind:", 400, "body"},
			{"title is a number", "POST", "/api/v1/runs", `{"kind":"ambient","title":5}`, 400, "title"},
			{"unknown kind", "POST", "/api/v1/runs", `{"kind":"robot","title":"x"}`, 400, "kind"},
			{"unknown source", "POST", "/api/v1/runs", `{"kind":"ambient","source":"fax","title":"x"}`, 400, "source"},
			{"unknown field", "POST", "/api/v1/runs", `{"kind":"ambient","title":"x","colour":"red"}`, 400, "colour"},
			{"duplicate field", "POST", "/api/v1/runs", `{"kind":"ambient","title":"x","title":"y"}`, 400, "title"},
			{"upper-case id", "POST", "/api/v1/runs", `{"id":"` + strings.ToUpper(app.NewItemID()) + `","kind":"ambient","title":"x"}`, 400, "id"},
			{"started_at not a time", "POST", "/api/v1/runs", `{"kind":"ambient","title":"x","started_at":"yesterday"}`, 400, "started_at"},
			{"javascript open_url", "POST", "/api/v1/runs", `{"kind":"interactive","title":"x","open_url":"javascript:alert(1)"}`, 400, "open_url"},
			{"relative external_url", "POST", "/api/v1/runs", `{"kind":"ambient","title":"x","external_url":"/runs"}`, 400, "external_url"},
			{"invalid UTF-8 title", "POST", "/api/v1/runs", "{\"kind\":\"ambient\",\"title\":\"bad \xff\"}", 400, "title"},
			{"oversize body", "POST", "/api/v1/runs", `{"kind":"ambient","title":"` + strings.Repeat("x", 1<<20) + `"}`, 413, "body"},
			{"negative credits", "PATCH", "/api/v1/runs/" + id, `{"credits":{"inference":"-1"}}`, 400, "credits.inference"},
			{"credits with 7 places", "PATCH", "/api/v1/runs/" + id, `{"credits":{"compute":0.1234567}}`, 400, "credits.compute"},
			{"status is a number", "PATCH", "/api/v1/runs/" + id, `{"status":1}`, 400, "status"},
			{"unknown status", "PATCH", "/api/v1/runs/" + id, `{"status":"done"}`, 400, "status"},
			{"events missing", "POST", events, `{}`, 400, "events"},
			{"seq is a string", "POST", events, `{"events":[{"seq":"1","type":"log"}]}`, 400, "events[0].seq"},
			{"seq is zero", "POST", events, `{"events":[{"seq":1,"type":"log"},{"seq":0,"type":"log"}]}`, 400, "events[1].seq"},
			{"unknown event type", "POST", events, `{"events":[{"seq":1,"type":"shout"}]}`, 400, "events[0].type"},
			{"message without a role", "POST", events, `{"events":[{"seq":1,"type":"message","text":"hi"}]}`, 400, "events[0].role"},
			{"unknown role", "POST", events, `{"events":[{"seq":1,"type":"message","role":"boss"}]}`, 400, "events[0].role"},
			{"unknown event field", "POST", events, `{"events":[{"seq":1,"type":"log","level":"info"}]}`, 400, "events[0].level"},
			{"data not an object", "POST", events, `{"events":[{"seq":1,"type":"log","data":[1]}]}`, 400, "events[0].data"},
			{"invalid UTF-8 text", "POST", events, "{\"events\":[{\"seq\":1,\"type\":\"log\",\"text\":\"\xc3\x28\"}]}", 400, "events[0].text"},
			{"too many events", "POST", events, map[string]any{"events": tooMany}, 413, "events"},
			{"unknown list parameter", "GET", "/api/v1/runs?colour=red", nil, 400, "colour"},
			{"unknown status filter", "GET", "/api/v1/runs?status=done", nil, 400, "status"},
			{"malformed day", "GET", "/api/v1/runs?day=tomorrow", nil, 400, "day"},
			{"a stranger as creator", "GET", "/api/v1/runs?creator=tomas", nil, 400, "creator"},
			{"limit too big", "GET", "/api/v1/runs?limit=100000", nil, 400, "limit"},
			{"bad events cursor", "GET", events + "?cursor=abc", nil, 400, "cursor"},
			{"unknown event type filter", "GET", events + "?type=shout", nil, 400, "type"},
			{"not an id", "GET", "/api/v1/runs/not-an-id", nil, 404, ""},
		}
		for _, c := range cases {
			r := w.as(t, "maya", c.method, c.path, c.body)
			if r.Status != c.status {
				t.Errorf("%s: status %d, want %d (%s)", c.name, r.Status, c.status, r.Body)
				continue
			}
			if c.field != "" && r.errorField(t) != c.field {
				t.Errorf("%s: error names field %q, want %q (%s)", c.name, r.errorField(t), c.field, r.Body)
			}
		}
		page, err := s.Events(context.Background(), id, app.EventQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) != 0 {
			t.Errorf("refused batches stored %d events", len(page.Events))
		}
		it := w.as(t, "maya", "GET", "/api/v1/runs/"+id, nil).JSON(t)
		if it["status"] != "working" || it["credits"].(map[string]any)["total"] != "0.00" {
			t.Errorf("refused patches changed the run: %v", it)
		}
	})
}

func TestAPIRateLimitsEachToken(t *testing.T) {
	w := newAPIWorld(t, apptest.SQLite(t), func(c *config.Config) { c.APIRateLimit = 1 })
	var limited apiResponse
	for i := range 5 {
		r := w.as(t, "maya", "GET", "/api/v1/runs", nil)
		if r.Status == http.StatusTooManyRequests {
			limited = r
			if i < 2 {
				t.Errorf("request %d was limited within the burst of 2", i+1)
			}
			break
		}
	}
	if limited.Status != http.StatusTooManyRequests {
		t.Fatal("five quick requests at 1/s were never limited")
	}
	if ra := limited.Header.Get("Retry-After"); ra != "1" {
		t.Errorf("Retry-After = %q, want 1", ra)
	}
	// Another token has its own budget.
	wantStatus(t, "another token", w.as(t, "jonas", "GET", "/api/v1/runs", nil), http.StatusOK)
}

func TestOpenAPIDocumentIsServed(t *testing.T) {
	w := newAPIWorld(t, apptest.SQLite(t), nil)
	for _, op := range []struct{ method, path string }{
		{"POST", "/api/v1/runs"}, {"GET", "/api/v1/runs"}, {"GET", "/api/v1/runs/x"}, {"PATCH", "/api/v1/runs/x"},
		{"POST", "/api/v1/runs/x/events"}, {"GET", "/api/v1/runs/x/events"}, {"GET", "/api/v1/openapi.json"},
	} {
		if _, _, err := w.spec.operation(op.method, op.path); err != nil {
			t.Errorf("%s %s: %v", op.method, op.path, err)
		}
	}
}
