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
