package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/agentdeck/agentdeck/app"
)

// navCount reads the navigation's count of Needs attention from a page.
var navCount = regexp.MustCompile(`id="attention-nav"[^>]*>Needs attention(?: <span class="nav-count" aria-hidden="true">([^<]+)</span>)?`)

func countOn(t *testing.T, page string) string {
	t.Helper()
	m := navCount.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the page has no Needs attention in its navigation:\n%s", page)
	}
	return m[1]
}

// ackValue finds the acknowledgement of an item in a page's forms.
func ackValue(t *testing.T, page, itemID string) string {
	t.Helper()
	m := regexp.MustCompile(`name="ack" value="(` + regexp.QuoteMeta(itemID) + `@\d+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no acknowledgement of %s on the page", itemID)
	}
	return m[1]
}

// A run that blocks through the API is in Needs attention, with what it
// waits for, and in every page's count; acknowledging it, with or without
// JavaScript, takes it out for that person alone.
func TestAttentionPageShowsAcknowledgesAndCounts(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		r := w.as(t, "jonas", http.MethodPost, "/api/v1/runs", map[string]any{"kind": "interactive", "title": "Rename the billing module", "team": "platform", "visibility": "team"})
		wantStatus(t, "create", r, http.StatusCreated)
		chat := r.JSON(t)["id"].(string)
		wantStatus(t, "block", w.as(t, "jonas", http.MethodPatch, "/api/v1/runs/"+chat, map[string]any{"status": "blocked"}), http.StatusOK)
		r = w.as(t, "maya", http.MethodPost, "/api/v1/runs", map[string]any{"kind": "ambient", "source": "cli", "title": "Nightly build", "status": "failed"})
		wantStatus(t, "create failed", r, http.StatusCreated)
		build := r.JSON(t)["id"].(string)

		maya, jonas, tomas := w.signIn(t, "maya"), w.signIn(t, "jonas"), w.signIn(t, "tomas")
		_, page := w.get(t, maya, "/attention", nil)
		for _, want := range []string{"Rename the billing module", "Waiting for its person", "Nightly build", "Failed, with no reason given", `href="/runs/` + chat + `"`} {
			if !strings.Contains(page, want) {
				t.Errorf("maya's Needs attention lacks %q", want)
			}
		}
		if got := countOn(t, page); got != "2" {
			t.Errorf("maya's count says %q, want 2", got)
		}
		_, view := w.get(t, maya, "/?tab=all", nil)
		if got := countOn(t, view); got != "2" {
			t.Errorf("the runs page's count says %q, want 2", got)
		}
		_, other := w.get(t, tomas, "/attention", nil)
		if strings.Contains(other, "Rename the billing module") || countOn(t, other) != "" {
			t.Errorf("tomas, in another team, sees platform's blocked run")
		}

		// Without JavaScript: a form, then the page again.
		resp, _ := w.submit(t, maya, "/attention/ack", url.Values{"ack": {ackValue(t, page, chat)}, "csrf": {sessionCSRFToken(t, w.testApp, maya)}}, nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/attention" {
			t.Fatalf("acknowledging: %d to %q, want 303 to /attention", resp.StatusCode, resp.Header.Get("Location"))
		}
		_, page = w.get(t, maya, "/attention", nil)
		if strings.Contains(page, "Rename the billing module") || countOn(t, page) != "1" {
			t.Errorf("after acknowledging, maya still sees the chat or counts %q", countOn(t, page))
		}
		_, theirs := w.get(t, jonas, "/attention", nil)
		if !strings.Contains(theirs, "Rename the billing module") {
			t.Errorf("maya's acknowledgement hid the chat from jonas")
		}

		// With htmx: the list, and the count out of band.
		h := htmx("")
		h.Set("X-CSRF-Token", sessionCSRFToken(t, w.testApp, maya))
		resp, frag := w.submit(t, maya, "/attention/ack", url.Values{"ack": {ackValue(t, page, build)}}, h)
		if resp.StatusCode != http.StatusOK || !strings.Contains(frag, `id="attention"`) || !strings.Contains(frag, "Nothing needs you") ||
			!strings.Contains(frag, `id="attention-nav" hx-swap-oob="innerHTML"`) {
			t.Errorf("acknowledging through htmx: %d\n%s", resp.StatusCode, frag)
		}
		if _, frag := w.get(t, maya, "/attention/count", nil); strings.Contains(frag, "nav-count") {
			t.Errorf("the count after acknowledging everything: %s", frag)
		}
	})
}

// What cannot be acknowledged is refused with a 4xx.
func TestAcknowledgingBadInputIsRefused(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		maya := w.signIn(t, "maya")
		csrf := sessionCSRFToken(t, w.testApp, maya)
		many := make([]string, app.MaxAcks+1)
		for i := range many {
			many[i] = app.NewItemID() + "@1"
		}
		for name, c := range map[string]struct {
			form url.Values
			want int
		}{
			"nothing":   {url.Values{}, http.StatusBadRequest},
			"malformed": {url.Values{"ack": {"not an ack"}}, http.StatusBadRequest},
			"too many":  {url.Values{"ack": many}, http.StatusRequestEntityTooLarge},
		} {
			c.form.Set("csrf", csrf)
			if resp, body := w.submit(t, maya, "/attention/ack", c.form, nil); resp.StatusCode != c.want {
				t.Errorf("%s: %d, want %d: %s", name, resp.StatusCode, c.want, body)
			}
		}
		// An item one may not see is passed over, not an error.
		it := working(t, s, "tomas", "tomas's", func(it *app.Item) { it.Status = app.StatusFailed })
		resp, _ := w.submit(t, maya, "/attention/ack", url.Values{"ack": {it.ID + "@1"}, "csrf": {csrf}}, nil)
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("acknowledging another's run: %d, want 303", resp.StatusCode)
		}
		if n, err := s.AttentionCount(context.Background(), viewerOf(t, s, "tomas")); err != nil || n != 1 {
			t.Errorf("tomas's count after maya's try: %d, %v", n, err)
		}
	})
}

// The live stream of Needs attention sends the count when a run a person
// may see blocks, and the entries to the page that shows them; a run they
// may not see sends them nothing.
func TestAttentionStreamFollowsRunsAPersonMaySee(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		maya, tomas := w.signIn(t, "maya"), w.signIn(t, "tomas")
		nav := w.openStream(t, maya, "/attention/events/stream?seen=x")
		if ev := nav.next(t); ev.Name != "attention" || strings.Contains(ev.Data, "nav-count") {
			t.Fatalf("the catch-up: %+v, want the count of nothing", ev)
		}
		list := w.openStream(t, maya, "/attention/events/stream?list=1&seen=x")
		list.next(t)
		theirs := w.openStream(t, tomas, "/attention/events/stream?seen=x")
		theirs.next(t)

		r := w.as(t, "jonas", http.MethodPost, "/api/v1/runs", map[string]any{"kind": "interactive", "title": "Waits on review", "team": "platform", "visibility": "team"})
		wantStatus(t, "create", r, http.StatusCreated)
		id := r.JSON(t)["id"].(string)
		wantStatus(t, "block", w.as(t, "jonas", http.MethodPatch, "/api/v1/runs/"+id, map[string]any{"status": "blocked"}), http.StatusOK)

		counted := nav.until(t, func(ev sseEvent) bool {
			return ev.Name == "attention" && strings.Contains(ev.Data, `nav-count" aria-hidden="true">1<`)
		})
		if last := counted[len(counted)-1]; strings.Contains(last.Data, "Waits on review") {
			t.Errorf("the navigation's stream carries the entries: %s", last.Data)
		}
		list.until(t, func(ev sseEvent) bool {
			return ev.Name == "attention" && strings.Contains(ev.Data, "Waits on review") && strings.Contains(ev.Data, `hx-swap-oob="true"`)
		})
		// Tomas's stream said nothing of platform's run: the next thing it
		// says is his own failure.
		working(t, s, "tomas", "tomas fails", func(it *app.Item) { it.Status = app.StatusFailed })
		if ev := theirs.next(t); ev.Name != "attention" || !strings.Contains(ev.Data, `nav-count" aria-hidden="true">1<`) {
			t.Errorf("tomas's stream: %+v, want his count of 1", ev)
		}
	})
}
