package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/agentdeck/agentdeck/app"
)

// TestViewReadsTheBrowserZoneFromItsCookie: the browser stores its zone the
// way document.cookie stores any value, URL-encoded ("Europe%2FBerlin"); a
// view whose URL names no zone reads days in that one.
func TestViewReadsTheBrowserZoneFromItsCookie(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		a := seededApp(t, s)
		c := a.signIn(t, "priya")
		u, err := url.Parse(a.URL)
		if err != nil {
			t.Fatal(err)
		}
		c.Jar.SetCookies(u, []*http.Cookie{{Name: "tz", Value: url.QueryEscape("Europe/Berlin"), Path: "/"}})

		resp, body := a.get(t, c, "/", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET / with a zone cookie: status %d, want 200", resp.StatusCode)
		}
		if want := `name="tz" value="Europe/Berlin"`; !strings.Contains(body, want) {
			t.Errorf("the filter form does not carry the cookie's zone: no %s in the page", want)
		}
		if want := `href="/?tab=all&amp;tz=Europe%2fBerlin"`; !strings.Contains(strings.ToLower(body), strings.ToLower(want)) {
			t.Errorf("the All tab's link does not carry the cookie's zone: no %s in the page", want)
		}
	})
}

// Every page that shows a time shows it in the browser's zone, read from the
// same cookie as the view: a run's page, the access tokens, a team's invites.
func TestEveryPageShowsTimesInTheBrowserZone(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		run := app.NewItemID()
		wantStatus(t, "create run", w.as(t, "maya", "POST", "/api/v1/runs", map[string]any{
			"id": run, "kind": "ambient", "source": "cli", "title": "Zones", "started_at": "2026-11-25T08:30:00Z",
		}), http.StatusCreated)
		c := w.signIn(t, "maya")
		u, err := url.Parse(w.URL)
		if err != nil {
			t.Fatal(err)
		}
		c.Jar.SetCookies(u, []*http.Cookie{{Name: "tz", Value: url.QueryEscape("Asia/Tokyo"), Path: "/"}})
		_, page := w.get(t, c, "/runs/"+run, nil)
		if !strings.Contains(page, "17:30:00 JST") {
			t.Errorf("the run's page does not show its start, 08:30 UTC, as 17:30 JST")
		}
		_, tokens := w.get(t, c, "/settings/tokens", nil)
		if strings.Contains(tokens, " UTC<") {
			t.Errorf("the tokens page shows a time in UTC")
		}
		csrf := w.csrfFrom(t, c, "/teams/platform")
		resp, _ := w.submit(t, c, "/teams/platform/invites", url.Values{"csrf": {csrf}}, http.Header{"Origin": {w.URL}})
		if resp.StatusCode >= 400 {
			t.Fatalf("create an invite: status %d", resp.StatusCode)
		}
		_, team := w.get(t, c, "/teams/platform", nil)
		if !strings.Contains(team, "JST") || strings.Contains(team, " UTC<") {
			t.Errorf("the team page does not show its invites' times in JST")
		}
	})
}
