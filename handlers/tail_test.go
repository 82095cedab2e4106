package handlers_test

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
)

var tailAttr = regexp.MustCompile(`sse-connect="([^"]+)" sse-close="end" data-tail`)

// tailOf is the live tail address the session page at path offers, or ""
// when it offers none.
func tailOf(t testing.TB, a *testApp, c *http.Client, path string) string {
	t.Helper()
	resp, page := a.get(t, c, path, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", path, resp.StatusCode)
	}
	m := tailAttr.FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return strings.ReplaceAll(m[1], "&amp;", "&")
}

// toEnd returns the events left on the stream, failing unless the server
// ends it in time.
func (s *sseStream) toEnd(t testing.TB) []sseEvent {
	t.Helper()
	var got []sseEvent
	timeout := time.After(eventWait)
	for {
		select {
		case ev := <-s.events:
			got = append(got, ev)
		case <-s.done:
			for {
				select {
				case ev := <-s.events:
					got = append(got, ev)
				default:
					return got
				}
			}
		case <-timeout:
			t.Fatalf("the stream is still open after %s; got %s", eventWait, names(got))
		}
	}
}

// withID is a stop condition: the event whose id is seq.
func withID(seq int64) func(sseEvent) bool {
	return func(ev sseEvent) bool { return ev.ID == strconv.FormatInt(seq, 10) }
}

func names(events []sseEvent) string {
	var n []string
	for _, ev := range events {
		n = append(n, ev.Name)
	}
	return strings.Join(n, ", ")
}

var eventElement = regexp.MustCompile(`id="([eLo])(\d+)"`)

// seqsOf lists the seqs of the events the tail sent, in the order they
// came, with the kind of element each came as (e message, L log line, o
// output).
func seqsOf(t testing.TB, events []sseEvent) []string {
	t.Helper()
	kind := map[string]string{"messages": "e", "logs": "L", "outputs": "o"}
	var seqs []string
	for _, ev := range events {
		for _, m := range eventElement.FindAllStringSubmatch(ev.Data, -1) {
			if kind[ev.Name] != m[1] {
				t.Errorf("a %s event carries element %s%s", ev.Name, m[1], m[2])
			}
			seqs = append(seqs, m[1]+m[2])
		}
	}
	return seqs
}

// appendEvents ingests a batch through the API as handle.
func (w *apiWorld) appendEvents(t testing.TB, handle, id string, events ...map[string]any) {
	t.Helper()
	wantStatus(t, "append events", w.as(t, handle, "POST", "/api/v1/runs/"+id+"/events", map[string]any{"events": events}), http.StatusOK)
}

func logEvent(seq int, text string) map[string]any {
	return map[string]any{"seq": seq, "type": "log", "text": text}
}

func TestTailSendsEachAppendedEventOnceInOrderAndEndsWhenFinal(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		id := app.NewItemID()
		wantStatus(t, "create", w.as(t, "maya", "POST", "/api/v1/runs", map[string]any{
			"id": id, "kind": "ambient", "source": "cli", "title": "Tail me", "team": "platform", "visibility": "team",
		}), http.StatusCreated)
		w.appendEvents(t, "maya", id,
			map[string]any{"seq": 1, "type": "message", "role": "user", "text": "Fix checkout"},
			logEvent(2, "starting"),
			map[string]any{"seq": 3, "type": "output", "text": "plan.md", "data": map[string]any{"path": "plan.md"}})

		jonas := w.signIn(t, "jonas") // a teammate: the run is team-visible
		live := tailOf(t, w.testApp, jonas, "/runs/"+id)
		if !strings.HasPrefix(live, "/runs/"+id+"/events/stream?after=3&seen=") {
			t.Fatalf("the working run's page tails %q; want its stream after seq 3, the last it shows", live)
		}
		if paged := tailOf(t, w.testApp, jonas, "/runs/"+id+"?before=2"); paged != "" {
			t.Errorf("a page showing an earlier part of the log tails %q; want no tail", paged)
		}
		first := w.openStream(t, jonas, live)

		w.appendEvents(t, "maya", id,
			map[string]any{"seq": 4, "type": "message", "role": "agent", "text": "Looking at it"},
			logEvent(5, `<script>alert("tail")</script>`),
			logEvent(6, "\x1b[31mFAIL\x1b[0m checkout"))
		w.appendEvents(t, "maya", id,
			map[string]any{"seq": 7, "type": "output", "text": "Pull request", "data": map[string]any{"url": "https://github.com/acme/web/pull/8"}},
			logEvent(8, "ok"),
			map[string]any{"seq": 9, "type": "message", "role": "tool", "data": map[string]any{"tool": "shell"}})
		got := first.until(t, withID(9))
		seqs := seqsOf(t, got)
		bySection := map[byte][]string{}
		for _, seq := range seqs {
			bySection[seq[0]] = append(bySection[seq[0]], seq)
		}
		if len(seqs) != 6 || !slices.Equal(bySection['e'], []string{"e4", "e9"}) ||
			!slices.Equal(bySection['L'], []string{"L5", "L6", "L8"}) || !slices.Equal(bySection['o'], []string{"o7"}) {
			t.Errorf("the tail sent %v; want each of 4 to 9 once, in seq order within each section: e4 e9, L5 L6 L8, o7", seqs)
		}
		for _, ev := range got {
			if ev.Name == "head" || ev.Name == "end" {
				t.Errorf("the tail sent %s while the run only logged; want events alone", ev.Name)
			}
		}

		// The tail renders what the page renders, hostile text as text and
		// colours as classes.
		all := ""
		for _, ev := range got {
			all += ev.Data + "\n"
		}
		_, page := w.get(t, jonas, "/runs/"+id, nil)
		for _, line := range regexp.MustCompile(`<div class="log__line[^\n]*</div>`).FindAllString(all, -1) {
			if !strings.Contains(page, line) {
				t.Errorf("the tail's log line differs from the page's:\n%s", line)
			}
		}
		for _, wantHTML := range []string{`&lt;script&gt;alert(&#34;tail&#34;)&lt;/script&gt;`, `<span class="ansi-fg-1">FAIL</span> checkout`,
			`<a href="https://github.com/acme/web/pull/8" rel="noopener noreferrer">Pull request</a>`, `<span class="tool__name">shell</span>`} {
			if !strings.Contains(all, wantHTML) {
				t.Errorf("the tail lacks %s", wantHTML)
			}
		}
		if strings.Contains(all, "<script>") {
			t.Error("the tail carries a script element")
		}

		// Reconnecting from the page's last seq, or with the id of the last
		// event received, sends what came after it and nothing before.
		fromSix := w.openStream(t, jonas, strings.Replace(live, "after=3", "after=6", 1))
		if seqs := seqsOf(t, fromSix.until(t, withID(9))); !slices.Equal(seqs, []string{"e9", "L8", "o7"}) {
			t.Errorf("after=6 caught up with %v; want 7, 8 and 9 (message, log, output)", seqs)
		}
		resumed := w.openStreamWith(t, jonas, live, http.Header{"Last-Event-Id": {"8"}})
		if seqs := seqsOf(t, resumed.until(t, withID(9))); !slices.Equal(seqs, []string{"e9"}) {
			t.Errorf("resuming with Last-Event-ID 8 sent %v; want 9 alone", seqs)
		}

		// Finishing the run: every tail gets the new head, then "end", and
		// closes; none repeats an event.
		w.now = w.now.Add(2 * time.Minute)
		wantStatus(t, "finish", w.as(t, "maya", "PATCH", "/api/v1/runs/"+id, map[string]any{
			"status": "success", "credits": map[string]any{"inference": "2.5", "compute": "0.25"},
		}), http.StatusOK)
		for name, st := range map[string]*sseStream{"first": first, "after=6": fromSix, "resumed": resumed} {
			rest := st.toEnd(t)
			if names(rest) != "head, end" {
				t.Errorf("%s tail: after the finish got %q; want head, end", name, names(rest))
				continue
			}
			head := rest[0].Data
			for _, want := range []string{`id="run-head"`, "status--success", "<strong>2.75</strong>", "2m 00s"} {
				if !strings.Contains(head, want) {
					t.Errorf("%s tail: the final head lacks %s:\n%s", name, want, head)
				}
			}
			if strings.Contains(head, "data-started") {
				t.Errorf("%s tail: the finished run's duration still ticks", name)
			}
		}

		if tail := tailOf(t, w.testApp, jonas, "/runs/"+id); tail != "" {
			t.Errorf("the finished run's page tails %q; want no tail", tail)
		}
		// A page loaded while the run worked and connecting only now is
		// brought up to date, then told the end.
		late := w.openStream(t, jonas, live).toEnd(t)
		if seqs := seqsOf(t, late); len(seqs) != 6 || names(late[len(late)-2:]) != "head, end" {
			t.Errorf("a late tail from seq 3 got %s with %v; want events 4 to 9, the head and the end", names(late), seqs)
		}
	})
}

func TestTailShowsNothingToWhoMayNotSeeTheItem(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		ctx := context.Background()
		shared := app.NewItemID()
		wantStatus(t, "create", w.as(t, "maya", "POST", "/api/v1/runs", map[string]any{
			"id": shared, "kind": "ambient", "source": "cli", "title": "Team run", "team": "platform", "visibility": "team",
		}), http.StatusCreated)
		private := app.NewItemID()
		wantStatus(t, "create", w.as(t, "maya", "POST", "/api/v1/runs", map[string]any{
			"id": private, "kind": "ambient", "source": "cli", "title": "Private run", "team": "platform",
		}), http.StatusCreated)
		for _, id := range []string{shared, private} {
			w.appendEvents(t, "maya", id, logEvent(1, "secret build output"))
		}
		maya, jonas, tomas := w.signIn(t, "maya"), w.signIn(t, "jonas"), w.signIn(t, "tomas")

		tailStatus := func(c *http.Client, path string, header http.Header) (int, string) {
			t.Helper()
			h := http.Header{"Accept": {"text/event-stream"}}
			for k, v := range header {
				h[k] = v
			}
			resp, body := w.get(t, c, path, h)
			if resp.StatusCode != http.StatusOK && resp.Header.Get("Content-Type") == "text/event-stream" {
				t.Errorf("GET %s: status %d as an event stream", path, resp.StatusCode)
			}
			return resp.StatusCode, body
		}
		for _, c := range []struct {
			name   string
			client *http.Client
			path   string
			header http.Header
			status int
		}{
			{"another team's member", tomas, "/runs/" + shared + "/events/stream", nil, 404},
			{"a teammate, private run", jonas, "/runs/" + private + "/events/stream?after=0", nil, 404},
			{"an unknown id", maya, "/runs/" + app.NewItemID() + "/events/stream", nil, 404},
			{"a malformed id", maya, "/runs/not-an-id/events/stream", nil, 404},
			{"signed out", w.anonymous(t), "/runs/" + shared + "/events/stream", nil, 401},
			{"a malformed position", maya, "/runs/" + shared + "/events/stream?after=abc", nil, 400},
			{"a negative position", maya, "/runs/" + shared + "/events/stream?after=-1", nil, 400},
			{"a malformed Last-Event-ID", maya, "/runs/" + shared + "/events/stream", http.Header{"Last-Event-Id": {"x"}}, 400},
			{"a malformed query string", maya, "/runs/" + shared + "/events/stream?after=1&%zz", nil, 400},
			{"a made-up share link", jonas, "/share/not-a-token/events/stream", nil, 404},
		} {
			status, body := tailStatus(c.client, c.path, c.header)
			if status != c.status {
				t.Errorf("%s: status %d, want %d (%s)", c.name, status, c.status, body)
			}
			if strings.Contains(body, "secret build output") {
				t.Errorf("%s: the answer tells the run's log", c.name)
			}
		}

		// The stream is never compressed, which would hold events back.
		resp := streamAskingForGzip(t, jonas, w.URL+"/runs/"+shared+"/events/stream")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "" {
			t.Errorf("the tail asked for gzip: status %d, encoding %q; want 200, uncompressed", resp.StatusCode, resp.Header.Get("Content-Encoding"))
		}

		// A teammate who leaves the team stops hearing about the run at once:
		// the stream ends without what came after.
		st := w.openStream(t, jonas, tailOf(t, w.testApp, jonas, "/runs/"+shared))
		w.appendEvents(t, "maya", shared, logEvent(2, "still a teammate"))
		st.until(t, withID(2))
		mayaV, err := s.Viewer(ctx, w.users["maya"].ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RemoveMember(ctx, mayaV, w.teams["platform"].ID, w.users["jonas"].ID); err != nil {
			t.Fatal(err)
		}
		w.appendEvents(t, "maya", shared, logEvent(3, "after jonas left"))
		rest := st.toEnd(t)
		if names(rest) != "end" {
			t.Errorf("after leaving the team jonas's tail got %q; want end alone", names(rest))
		}
		for _, ev := range rest {
			if strings.Contains(ev.Data, "after jonas left") {
				t.Error("the tail told a former teammate about the run")
			}
		}
	})
}

func TestTailFollowsASharedConversationUntilTheLinkIsRevoked(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		ctx := context.Background()
		id := app.NewItemID()
		wantStatus(t, "create", w.as(t, "maya", "POST", "/api/v1/runs", map[string]any{
			"id": id, "kind": "interactive", "title": "Pairing on billing", "team": "platform", "open_url": "agent://conversations/9",
		}), http.StatusCreated)
		w.appendEvents(t, "maya", id, map[string]any{"seq": 1, "type": "message", "role": "user", "text": "Where is the webhook?"})
		maya, err := s.Viewer(ctx, w.users["maya"].ID)
		if err != nil {
			t.Fatal(err)
		}
		token, err := s.CreateShareLink(ctx, maya, id)
		if err != nil {
			t.Fatal(err)
		}

		jonas := w.signIn(t, "jonas")
		live := tailOf(t, w.testApp, jonas, "/share/"+token)
		if !strings.HasPrefix(live, "/share/"+token+"/events/stream?after=1&") {
			t.Fatalf("the shared conversation's page tails %q; want its share link's stream after seq 1", live)
		}
		if status, _ := w.get(t, w.signIn(t, "tomas"), live, http.Header{"Accept": {"text/event-stream"}}); status.StatusCode != http.StatusNotFound {
			t.Errorf("someone outside the team opening the shared tail: status %d, want 404", status.StatusCode)
		}
		st := w.openStream(t, jonas, live)
		w.appendEvents(t, "maya", id, map[string]any{"seq": 2, "type": "message", "role": "agent", "text": "In billing/webhook.go"})
		got := st.until(t, withID(2))
		if last := got[len(got)-1]; last.Name != "messages" || !strings.Contains(last.Data, "In billing/webhook.go") {
			t.Errorf("the shared tail sent %s %q; want the agent's message", last.Name, last.Data)
		}

		if err := s.RevokeShareLink(ctx, maya, id); err != nil {
			t.Fatal(err)
		}
		w.appendEvents(t, "maya", id, map[string]any{"seq": 3, "type": "message", "role": "user", "text": "after the revoke"})
		rest := st.toEnd(t)
		if names(rest) != "end" || strings.Contains(rest[0].Data, "after the revoke") {
			t.Errorf("after the link was revoked the tail got %q; want end alone", names(rest))
		}
	})
}

func TestShutdownEndsOpenTailsPromptly(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		now := time.Date(2026, 11, 25, 15, 4, 5, 0, time.UTC)
		s.SetClock(func() time.Time { return now })
		if err := s.Seed(context.Background(), app.DemoSeed(now)); err != nil {
			t.Fatal(err)
		}
		a := startServer(t, s, "127.0.0.1:0")
		it := working(t, s, "maya", "Tailed at shutdown", nil)
		maya := a.signIn(t, "maya")

		const n = 100
		tails := make([]*sseStream, n)
		for i := range tails {
			tails[i] = a.openStream(t, maya, "/runs/"+it.ID+"/events/stream")
			if ev := tails[i].next(t); ev.Name != "head" { // registered and caught up
				t.Fatalf("a tail opened without the page's head began with %s; want head", ev.Name)
			}
		}
		view := a.openStream(t, maya, "/events?tab=all")
		view.next(t)

		took := a.stopWithin(t, 2*time.Second)
		for i, st := range append(tails, view) {
			select {
			case <-st.done:
			case <-time.After(eventWait):
				t.Fatalf("stream %d is still open after shutdown", i)
			}
		}
		t.Logf("shut down with %d open tails in %s", n, took)
	})
}
