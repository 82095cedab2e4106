package handlers_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
)

// sessionEvents is a small session: a transcript with a tool call, a log
// with colours, a hostile line and stderr, and three kinds of output.
var sessionEvents = map[string]any{"events": []map[string]any{
	{"seq": 1, "type": "message", "role": "user", "text": "Fix the flaky checkout test"},
	{"seq": 2, "type": "message", "role": "agent", "text": "Running the test suite first."},
	{"seq": 3, "type": "message", "role": "tool", "data": map[string]any{"tool": "shell", "arguments": map[string]any{"cmd": "go test ./checkout"}}},
	{"seq": 4, "type": "log", "text": "\x1b[32mok\x1b[0m  checkout 0.42s"},
	{"seq": 5, "type": "log", "text": `<script>alert("pwned")</script>`},
	{"seq": 6, "type": "log", "text": "warning: slow test", "data": map[string]any{"stream": "stderr"}},
	{"seq": 7, "type": "output", "text": "Pull request #7", "data": map[string]any{"url": "https://github.com/acme/web/pull/7"}},
	{"seq": 8, "type": "output", "text": "coverage report", "data": map[string]any{"path": "coverage/index.html"}},
	{"seq": 9, "type": "output", "text": "Fixed a race in the cart timer.", "data": map[string]any{"url": "javascript:alert(1)"}},
}}

func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRunPageShowsTheWholeSession(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		id := app.NewItemID()
		wantStatus(t, "create", w.as(t, "maya", "POST", "/api/v1/runs", map[string]any{
			"id": id, "kind": "ambient", "source": "slack", "title": "Investigate flaky checkout", "team": "platform",
			"external_url": "https://acme.slack.com/archives/C1/p2", "started_at": w.now.Add(-3 * time.Minute).Format(time.RFC3339),
		}), http.StatusCreated)
		wantStatus(t, "events", w.as(t, "maya", "POST", "/api/v1/runs/"+id+"/events", sessionEvents), http.StatusOK)
		wantStatus(t, "finish", w.as(t, "maya", "PATCH", "/api/v1/runs/"+id, map[string]any{
			"status": "success", "credits": map[string]any{"inference": "1.25", "compute": "0.5"},
		}), http.StatusOK)

		resp, page := w.get(t, w.signIn(t, "jonas"), "/runs/"+id, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("teammate opening the run: status %d", resp.StatusCode)
		}
		for _, want := range []string{
			"Investigate flaky checkout", `status--success`, ">Success<", ">Slack<", "maya", "Platform",
			"<strong>1.75</strong>", "inference 1.25 + compute 0.50", "3m 00s",
			`href="https://acme.slack.com/archives/C1/p2"`,
			"Fix the flaky checkout test", `<span class="tool__name">shell</span>`, `&#34;cmd&#34;: &#34;go test ./checkout&#34;`,
			`<span class="ansi-fg-2">ok</span>  checkout 0.42s`,
			`&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;`,
			`log__line log__line--stderr" id="L6"`,
			`<a href="https://github.com/acme/web/pull/7" rel="noopener noreferrer">Pull request #7</a>`,
			`<code class="output__path">coverage/index.html</code>`,
			"Fixed a race in the cart timer.",
		} {
			if !strings.Contains(page, want) {
				t.Errorf("the session page lacks %s", want)
			}
		}
		for _, never := range []string{`<script>alert`, `javascript:alert`, "data-create-share"} {
			if strings.Contains(page, never) {
				t.Errorf("the session page holds %s", never)
			}
		}

		resp, _ = w.get(t, w.signIn(t, "tomas"), "/runs/"+id, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("someone outside the team: status %d, want 404", resp.StatusCode)
		}
		resp, _ = w.get(t, w.anonymous(t), "/runs/"+id, nil)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/signin?next=%2Fruns%2F"+id {
			t.Errorf("signed out: %d to %q, want 303 to sign in and back", resp.StatusCode, loc)
		}
		resp, _ = w.get(t, w.signIn(t, "maya"), "/runs/"+app.NewItemID(), nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("an unknown id: status %d, want 404", resp.StatusCode)
		}
	})
}

var logLine = regexp.MustCompile(`class="log__line[^"]*" id="L(\d+)"`)

func TestRunPageShowsTheTailOfALongLogAndPagesBack(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		ctx := context.Background()
		id := app.NewItemID()
		wantStatus(t, "create", w.as(t, "maya", "POST", "/api/v1/runs", ambientRun(id, "long build")), http.StatusCreated)
		v, err := s.Viewer(ctx, w.users["maya"].ID)
		if err != nil {
			t.Fatal(err)
		}
		const lines = 100_000
		for start := 1; start <= lines; start += app.MaxEventBatch {
			batch := make([]*app.Event, app.MaxEventBatch)
			for i := range batch {
				batch[i] = &app.Event{Seq: int64(start + i), Type: app.EventLog, Text: fmt.Sprintf("line %d \x1b[33mbuilding\x1b[0m", start+i)}
			}
			if _, _, err := s.AppendEvents(ctx, v, id, batch); err != nil {
				t.Fatal(err)
			}
		}
		maya := w.signIn(t, "maya")
		began := time.Now()
		resp, page := w.get(t, maya, "/runs/"+id, nil)
		took := time.Since(began)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		shown := logLine.FindAllStringSubmatch(page, -1)
		if len(shown) != 1000 || shown[0][1] != "99001" || shown[999][1] != "100000" {
			t.Fatalf("the page shows %d lines; want the last 1000, 99001 to 100000", len(shown))
		}
		if took > 2*time.Second {
			t.Errorf("a %d-line log took %v to open", lines, took)
		}
		t.Logf("a %d-line log opened in %v (%d bytes)", lines, took, len(page))
		if !strings.Contains(page, `hx-get="/runs/`+id+`?before=99001"`) {
			t.Error("no button for the earlier lines")
		}

		resp, frag := w.get(t, maya, "/runs/"+id+"?before=99001", htmx(""))
		earlier := logLine.FindAllStringSubmatch(frag, -1)
		if resp.StatusCode != http.StatusOK || len(earlier) != 1000 || earlier[0][1] != "98001" || earlier[999][1] != "99000" {
			t.Fatalf("earlier lines: status %d, %d lines; want 98001 to 99000", resp.StatusCode, len(earlier))
		}
		if strings.Contains(frag, "<html") || !strings.Contains(frag, `?before=98001"`) {
			t.Error("the earlier lines are not a fragment with its own earlier button")
		}
		resp, first := w.get(t, maya, "/runs/"+id+"?before=1001", nil)
		if lines := logLine.FindAllStringSubmatch(first, -1); resp.StatusCode != 200 || len(lines) != 1000 || strings.Contains(first, "?before=1\"") {
			t.Errorf("the log's first page: status %d, %d lines, want 1000 and no earlier button", resp.StatusCode, len(lines))
		}
		resp, _ = w.get(t, maya, "/runs/"+id+"?before=abc", nil)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("a malformed position: status %d, want 400", resp.StatusCode)
		}
	})
}

var shareURL = regexp.MustCompile(`value="[^"]*(/share/[A-Za-z0-9_-]+)"[^>]*data-share-url`)

func TestShareLinkShowsAConversationToTeammatesOnly(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		id := app.NewItemID()
		wantStatus(t, "create", w.as(t, "maya", "POST", "/api/v1/runs", map[string]any{
			"id": id, "kind": "interactive", "title": "Refactor the billing webhook", "team": "platform",
			"open_url": "agent://conversations/42",
		}), http.StatusCreated)
		wantStatus(t, "events", w.as(t, "maya", "POST", "/api/v1/runs/"+id+"/events", sessionEvents), http.StatusOK)
		maya, jonas, tomas := w.signIn(t, "maya"), w.signIn(t, "jonas"), w.signIn(t, "tomas")

		resp, private := w.get(t, jonas, "/runs/"+id, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("a teammate opening a private conversation: status %d, want 404", resp.StatusCode)
		}
		// It says what one can do, in the words a run that is not there gets.
		_, missing := w.get(t, jonas, "/runs/"+app.NewItemID(), nil)
		if !strings.Contains(private, "There is no run here that you may see") || stripTags(private) != stripTags(missing) {
			t.Errorf("a private run's 404 and a missing run's differ, or say nothing:\n%s\n%s", private, missing)
		}
		post := func(c *http.Client, path string, fields ...string) (*http.Response, string) {
			t.Helper()
			form := url.Values{"csrf": {w.csrfFrom(t, c, "/settings/tokens")}}
			for i := 0; i+1 < len(fields); i += 2 {
				form.Set(fields[i], fields[i+1])
			}
			resp, err := c.PostForm(w.URL+path, form)
			if err != nil {
				t.Fatal(err)
			}
			return resp, readAll(t, resp)
		}
		if resp, _ := post(jonas, "/runs/"+id+"/share"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("jonas sharing maya's conversation: status %d, want 404", resp.StatusCode)
		}
		// Post, redirect, get: the link is shown once on the item's page, and
		// reloading that page neither posts again nor shows it again.
		resp, _ = post(maya, "/runs/"+id+"/share")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/runs/"+id {
			t.Fatalf("share: status %d to %q, want 303 to the item's page", resp.StatusCode, resp.Header.Get("Location"))
		}
		_, page := w.get(t, maya, "/runs/"+id, nil)
		m := shareURL.FindStringSubmatch(page)
		if m == nil || !strings.Contains(page, `data-copy="#share-url"`) {
			t.Fatalf("the item's page does not show the new link with a Copy button")
		}
		link := m[1]
		if _, again := w.get(t, maya, "/runs/"+id, nil); strings.Contains(again, link) {
			t.Errorf("a reload shows the link again")
		}

		resp, shared := w.get(t, jonas, link, nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(shared, "Fix the flaky checkout test") || !strings.Contains(shared, "shared with you") {
			t.Fatalf("jonas opening the share link: status %d", resp.StatusCode)
		}
		if strings.Contains(shared, "data-revoke-share") || strings.Contains(shared, "data-create-share") {
			t.Error("the shared view offers the owner's controls")
		}
		if resp, body := w.get(t, tomas, link, nil); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "sign in with it") {
			t.Errorf("someone outside the team opening the link: status %d, want 404 saying what they can do", resp.StatusCode)
		}
		if resp, _ := w.get(t, w.anonymous(t), link, nil); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("signed out opening the link: status %d, want 303 to sign in", resp.StatusCode)
		}
		if resp, _ := w.get(t, jonas, "/share/not-a-token", nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("a made-up link: status %d, want 404", resp.StatusCode)
		}
		_, own := w.get(t, maya, "/runs/"+id, nil)
		if !strings.Contains(own, "data-revoke-share") || strings.Contains(own, link) {
			t.Error("the owner's page should offer revoking, without showing the link again")
		}
		// Revoking asks first: unconfirmed, it changes nothing.
		if resp, body := post(maya, "/runs/"+id+"/share/revoke"); resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="confirm" value="yes"`) {
			t.Errorf("an unconfirmed revoke: status %d, want 200 and a question", resp.StatusCode)
		}
		if resp, _ := w.get(t, jonas, link, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("the link after an unconfirmed revoke: status %d, want 200", resp.StatusCode)
		}
		if resp, _ := post(maya, "/runs/"+id+"/share/revoke", "confirm", "yes"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("revoke: status %d, want 303", resp.StatusCode)
		}
		if resp, _ := w.get(t, jonas, link, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("a revoked link: status %d, want 404", resp.StatusCode)
		}

		lonely := app.NewItemID()
		wantStatus(t, "create", w.as(t, "maya", "POST", "/api/v1/runs", map[string]any{"id": lonely, "kind": "interactive", "title": "solo"}), http.StatusCreated)
		if resp, _ := post(maya, "/runs/"+lonely+"/share"); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("sharing an item without a team: status %d, want 422", resp.StatusCode)
		}
	})
}
