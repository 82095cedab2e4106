package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
	"github.com/agentdeck/agentdeck/config"
)

var whoName = regexp.MustCompile(`class="who__name" title="@([^"]+)"`)

// whoIs returns the handle a client is signed in as, or "" when the server
// sends it to sign in.
func (a *testApp) whoIs(t testing.TB, c *http.Client) string {
	t.Helper()
	resp, body := a.get(t, c, "/teams", nil)
	switch resp.StatusCode {
	case http.StatusSeeOther:
		if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/signin") {
			t.Fatalf("signed-out /teams redirects to %q, want /signin", loc)
		}
		return ""
	case http.StatusOK:
		m := whoName.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("/teams answered 200 but names no one signed in")
		}
		return m[1]
	}
	t.Fatalf("/teams: status %d, want 200 or 303", resp.StatusCode)
	return ""
}

// cookie returns the client's cookie of that name for the app, or nil.
func (a *testApp) cookie(c *http.Client, name string) *http.Cookie {
	u, _ := url.Parse(a.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

// withCookie is a new client that holds just one cookie, as a replay would.
func (a *testApp) withCookie(t testing.TB, name, value string) *http.Client {
	t.Helper()
	c := a.anonymous(t)
	u, _ := url.Parse(a.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
	return c
}

// postForm posts a form and returns the response, body read and closed.
func (a *testApp) postForm(t testing.TB, c *http.Client, path string, form url.Values, header http.Header) *http.Response {
	t.Helper()
	resp, _ := a.submit(t, c, path, form, header)
	return resp
}

const sessionCookie = "agentdeck_session"

// usersApp is a demo-mode app over a store with just the given users.
func usersApp(t *testing.T, s *app.Store, configure func(*config.Config), handles ...string) *testApp {
	t.Helper()
	for _, h := range handles {
		if err := s.CreateUser(context.Background(), &app.User{Handle: h, Name: h}); err != nil {
			t.Fatal(err)
		}
	}
	return newTestApp(t, s, configure)
}

func TestSignOutEndsTheSessionOnTheServer(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		a := usersApp(t, s, nil, "maya")
		c := a.signIn(t, "maya")
		old := a.cookie(c, sessionCookie).Value
		if got := a.whoIs(t, c); got != "maya" {
			t.Fatalf("signed in as %q, want maya", got)
		}
		resp := a.postForm(t, c, "/signout", url.Values{"csrf": {a.csrfFrom(t, c, "/teams")}}, nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin" {
			t.Fatalf("sign-out: %d to %q, want 303 to /signin", resp.StatusCode, resp.Header.Get("Location"))
		}
		if a.cookie(c, sessionCookie) != nil {
			t.Errorf("the browser kept its session cookie after sign-out")
		}
		if got := a.whoIs(t, a.withCookie(t, sessionCookie, old)); got != "" {
			t.Errorf("the old cookie, replayed after sign-out, is signed in as %q; want signed out", got)
		}
	})
}

func TestSessionKeysRotate(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		oldKey, newKey := strings.Repeat("old-key-", 5), strings.Repeat("new-key-", 5)
		keys := func(ks ...string) func(*config.Config) {
			return func(cfg *config.Config) { cfg.SessionKeys = ks }
		}
		before := usersApp(t, s, keys(oldKey), "maya", "jonas")
		mayaCookie := sessionCookieOf(t, before, before.signIn(t, "maya"))

		rotated := newTestApp(t, s, keys(newKey, oldKey))
		if got := rotated.whoIs(t, rotated.withCookie(t, sessionCookie, mayaCookie)); got != "maya" {
			t.Errorf("a cookie signed with the old key, after rotation: %q, want maya", got)
		}
		jonasCookie := sessionCookieOf(t, rotated, rotated.signIn(t, "jonas"))

		retired := newTestApp(t, s, keys(newKey))
		if got := retired.whoIs(t, retired.withCookie(t, sessionCookie, jonasCookie)); got != "jonas" {
			t.Errorf("a cookie signed with the new key, old key retired: %q, want jonas", got)
		}
		if got := retired.whoIs(t, retired.withCookie(t, sessionCookie, mayaCookie)); got != "" {
			t.Errorf("a cookie signed with a retired key: %q, want signed out", got)
		}
		if got := before.whoIs(t, before.withCookie(t, sessionCookie, jonasCookie)); got != "" {
			t.Errorf("a cookie signed with a key the server never had: %q, want signed out", got)
		}
	})
}

// sessionCookieOf returns the session cookie's value of a signed-in client.
func sessionCookieOf(t *testing.T, a *testApp, c *http.Client) string {
	t.Helper()
	ck := a.cookie(c, sessionCookie)
	if ck == nil {
		t.Fatal("no session cookie after sign-in")
	}
	return ck.Value
}

func TestForgedCookiesAreSignedOut(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		a := usersApp(t, s, nil, "maya")
		good := sessionCookieOf(t, a, a.signIn(t, "maya"))
		flip := func(v string, i int) string {
			b := []byte(v)
			if b[i] == 'A' {
				b[i] = 'B'
			} else {
				b[i] = 'A'
			}
			return string(b)
		}
		for name, value := range map[string]string{
			"a character changed in the middle": flip(good, len(good)/2),
			"a character changed in the MAC":    flip(good, len(good)-3),
			"cut short":                         good[:len(good)-10],
			"garbage":                           "not-a-session",
			"empty":                             "",
			"another cookie's value":            strings.Repeat("A", len(good)),
		} {
			c := a.withCookie(t, sessionCookie, value)
			if got := a.whoIs(t, c); got != "" {
				t.Errorf("%s: signed in as %q, want signed out", name, got)
			}
			if resp, _ := a.get(t, c, "/signin", nil); resp.StatusCode != http.StatusOK {
				t.Errorf("%s: /signin answered %d, want 200", name, resp.StatusCode)
			}
		}
		if got := a.whoIs(t, a.withCookie(t, sessionCookie, good)); got != "maya" {
			t.Errorf("the untouched cookie: %q, want maya", got)
		}
	})
}

func TestSessionsExpire(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		var now atomic.Int64
		now.Store(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC).UnixNano())
		s.SetClock(func() time.Time { return time.Unix(0, now.Load()) })
		advance := func(d time.Duration) { now.Add(int64(d)) }
		a := usersApp(t, s, nil, "maya", "jonas")

		busy := a.signIn(t, "maya")
		idle := a.signIn(t, "jonas")
		for range 2 {
			advance(13 * 24 * time.Hour)
			if got := a.whoIs(t, busy); got != "maya" {
				t.Fatalf("a session used every 13 days: %q, want still maya", got)
			}
		}
		if got := a.whoIs(t, idle); got != "" {
			t.Errorf("a session unused for 26 days: %q, want signed out", got)
		}
		advance(4*24*time.Hour + time.Minute)
		if got := a.whoIs(t, busy); got != "" {
			t.Errorf("a session after 30 days, however busy: %q, want signed out", got)
		}
	})
}

func TestSignInStartsANewSession(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		a := usersApp(t, s, nil, "maya")
		c := a.anonymous(t)
		tok := a.csrfFrom(t, c, "/signin")
		planted := a.cookie(c, sessionCookie)
		if planted == nil {
			t.Fatal("the sign-in page with demo forms set no session cookie")
		}
		resp := a.postForm(t, c, "/auth/demo", url.Values{"user": {"maya"}, "csrf": {tok}}, nil)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("demo sign-in: %d, want 303", resp.StatusCode)
		}
		after := a.cookie(c, sessionCookie)
		if after == nil || after.Value == planted.Value {
			t.Fatalf("the session cookie did not change at sign-in")
		}
		// Someone who planted the signed-out cookie in the browser gains nothing.
		fixed := a.withCookie(t, sessionCookie, planted.Value)
		if got := a.whoIs(t, fixed); got != "" {
			t.Errorf("the cookie from before sign-in is signed in as %q; want signed out", got)
		}
		if resp := a.postForm(t, c, "/signout", url.Values{"csrf": {tok}}, nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("the CSRF token from before sign-in still works after it: status %d, want 403", resp.StatusCode)
		}
	})
}

func TestDeletingAUserSignsThemOutAtOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		a := usersApp(t, s, nil, "leaving")
		c := a.signIn(t, "leaving")
		if got := a.whoIs(t, c); got != "leaving" {
			t.Fatalf("signed in as %q", got)
		}
		leaving, err := s.UserByHandle(context.Background(), "leaving")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteUser(context.Background(), leaving.ID); err != nil {
			t.Fatal(err)
		}
		if got := a.whoIs(t, c); got != "" {
			t.Errorf("after the user was deleted: %q, want signed out", got)
		}
	})
}

func TestSessionCookieAttributes(t *testing.T) {
	for _, c := range []struct {
		base   string
		secure bool
	}{{"", false}, {"https://deck.example.com", true}} {
		t.Run("base URL "+c.base, func(t *testing.T) {
			s := apptest.SQLite(t)
			a := usersApp(t, s, func(cfg *config.Config) {
				if c.base != "" {
					cfg.BaseURL = c.base
				}
			}, "maya")
			client := a.anonymous(t)
			resp, _ := a.get(t, client, "/signin", nil)
			var set *http.Cookie
			for _, ck := range resp.Cookies() {
				if ck.Name == sessionCookie {
					set = ck
				}
			}
			if set == nil {
				t.Fatal("no session cookie set")
			}
			if !set.HttpOnly || set.SameSite != http.SameSiteLaxMode || set.Path != "/" || set.Secure != c.secure {
				t.Errorf("cookie %s: want HttpOnly, SameSite=Lax, Path=/, Secure=%v", set.String(), c.secure)
			}
			if want := int(app.SessionMaxLifetime.Seconds()); set.MaxAge != want {
				t.Errorf("cookie Max-Age = %d, want %d (30 days)", set.MaxAge, want)
			}
		})
	}
}
