package handlers_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/config"
	"github.com/oauth2-proxy/mockoidc"
)

// oidcProvider is a real OpenID Connect provider in the test process. It
// signs in whoever is queued next without a login form, or, when told to,
// answers the next authorization with access_denied, as a provider does when
// the person declines.
type oidcProvider struct {
	*mockoidc.MockOIDC
	deny atomic.Bool
}

func newOIDCProvider(t testing.TB) *oidcProvider {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &oidcProvider{MockOIDC: m}
	err = m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == mockoidc.AuthorizationEndpoint && p.deny.CompareAndSwap(true, false) {
				back, err := url.Parse(r.URL.Query().Get("redirect_uri"))
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				back.RawQuery = url.Values{"error": {"access_denied"}, "error_description": {"The user declined."},
					"state": {r.URL.Query().Get("state")}}.Encode()
				http.Redirect(w, r, back.String(), http.StatusFound)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	return p
}

// person queues who signs in next.
func (p *oidcProvider) person(subject, login, email string) {
	p.QueueUser(&mockoidc.MockUser{Subject: subject, PreferredUsername: login, Email: email, EmailVerified: true})
}

// oidcApp serves s with the provider as its only way to sign in, as a real
// instance would (no demo mode).
func oidcApp(t testing.TB, s *app.Store, p *oidcProvider) *testApp {
	t.Helper()
	return newTestApp(t, s, func(cfg *config.Config) {
		cfg.Demo = false
		cfg.OIDC = config.Provider{ClientID: p.ClientID, ClientSecret: p.ClientSecret, Issuer: p.Issuer()}
	})
}

// location is where a response redirects to; it fails the test unless the
// status is want.
func location(t testing.TB, resp *http.Response, want int) *url.URL {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d", resp.Request.Method, resp.Request.URL, resp.StatusCode, want)
	}
	u, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// fetch GETs an absolute URL.
func fetch(t testing.TB, c *http.Client, u *url.URL) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readBody(t, resp)
}

// readBody reads and closes a response's body.
func readBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// beginOIDC starts signing in the way the sign-in page's link does, and
// returns the provider's authorization URL the app sent the browser to.
func (a *testApp) beginOIDC(t testing.TB, c *http.Client, next string) *url.URL {
	t.Helper()
	path := "/auth/openid-connect"
	if next != "" {
		path += "?next=" + url.QueryEscape(next)
	}
	resp, _ := a.get(t, c, path, nil)
	return location(t, resp, http.StatusFound)
}

// authorize visits the provider, which answers with a redirect to the app's
// callback: that callback URL.
func authorize(t testing.TB, c *http.Client, authURL *url.URL) *url.URL {
	t.Helper()
	resp, _ := fetch(t, c, authURL)
	return location(t, resp, http.StatusFound)
}

// signInWithOIDC runs the whole round trip for the queued person and returns
// the app's answer to the callback.
func (a *testApp) signInWithOIDC(t testing.TB, c *http.Client, next string) (*http.Response, string) {
	t.Helper()
	return fetch(t, c, authorize(t, c, a.beginOIDC(t, c, next)))
}

func userCount(t testing.TB, s *app.Store) int {
	t.Helper()
	users, err := s.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(users)
}

var providerLink = regexp.MustCompile(`href="(/auth/openid-connect[^"]*)"`)

func TestOIDCSignInReturnsToTheLinkFirstAsked(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		p := newOIDCProvider(t)
		a := oidcApp(t, s, p)
		c := a.anonymous(t)

		const shared = "/?tab=all&status=failed"
		resp, _ := a.get(t, c, shared, nil)
		toSignIn := location(t, resp, http.StatusSeeOther)
		resp, page := fetch(t, c, toSignIn)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Continue with OpenID Connect") {
			t.Fatalf("sign-in page: status %d, want 200 listing OpenID Connect", resp.StatusCode)
		}
		m := providerLink.FindStringSubmatch(page)
		if m == nil {
			t.Fatal("the sign-in page has no link to the provider")
		}
		link, err := toSignIn.Parse(strings.ReplaceAll(m[1], "&amp;", "&"))
		if err != nil {
			t.Fatal(err)
		}

		p.person("sub-maya", "maya", "maya@example.com")
		resp, _ = fetch(t, c, link)
		authURL := location(t, resp, http.StatusFound)
		if !strings.HasPrefix(authURL.String(), p.AuthorizationEndpoint()) {
			t.Fatalf("sent to %s, want the provider's authorization endpoint %s", authURL, p.AuthorizationEndpoint())
		}
		resp, _ = fetch(t, c, authorize(t, c, authURL))
		if got := location(t, resp, http.StatusSeeOther); got.RequestURI() != shared {
			t.Errorf("after sign-in the browser lands on %q, want %q", got.RequestURI(), shared)
		}
		if got := a.whoIs(t, c); got != "maya" {
			t.Errorf("signed in as %q, want maya", got)
		}
		u, err := s.UserByHandle(context.Background(), "maya")
		if err != nil || u.Email != "maya@example.com" {
			t.Errorf("the new user: %+v, %v; want maya with her e-mail address", u, err)
		}
		if resp, _ := a.get(t, c, shared, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("the shared view after sign-in: status %d, want 200", resp.StatusCode)
		}
		// The signed-out session that started the sign-in and gothic's
		// session of it are gone; only the new one is left.
		if n, err := s.DB().NewSelect().Model((*app.Session)(nil)).Count(context.Background()); err != nil || n != 1 {
			t.Errorf("%d sessions stored after one sign-in (%v), want 1", n, err)
		}
	})
}

func TestOIDCAccountsAreKeyedBySubject(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		p := newOIDCProvider(t)
		a := oidcApp(t, s, p)
		signIn := func(subject, login, email string) string {
			p.person(subject, login, email)
			c := a.anonymous(t)
			resp, _ := a.signInWithOIDC(t, c, "")
			location(t, resp, http.StatusSeeOther)
			return a.whoIs(t, c)
		}
		if got := signIn("sub-1", "sam", "sam@example.com"); got != "sam" {
			t.Errorf("first sign-in: %q, want sam", got)
		}
		// Another person with the same login and even the same e-mail
		// address is another user: only the subject identifies.
		if got := signIn("sub-2", "sam", "sam@example.com"); got != "sam-2" {
			t.Errorf("another subject with the same login: %q, want sam-2", got)
		}
		if got := signIn("sub-1", "sam-renamed", "new@example.com"); got != "sam" {
			t.Errorf("the first subject again: %q, want sam", got)
		}
		if n := userCount(t, s); n != 2 {
			t.Errorf("%d users after three sign-ins of two subjects, want 2", n)
		}
	})
}

func TestOIDCIgnoresAStateTheClientSends(t *testing.T) {
	p := newOIDCProvider(t)
	a := oidcApp(t, sqliteStore(t), p)
	c := a.anonymous(t)
	resp, _ := a.get(t, c, "/auth/openid-connect?state=chosen-by-attacker&provider=github", nil)
	state := location(t, resp, http.StatusFound).Query().Get("state")
	if state == "chosen-by-attacker" || len(state) < 40 {
		t.Errorf("state sent to the provider = %q; want one generated by the server", state)
	}
}

func TestOIDCErrorFromTheProviderSignsNoOneIn(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		p := newOIDCProvider(t)
		a := oidcApp(t, s, p)
		c := a.anonymous(t)
		p.deny.Store(true)
		callback := authorize(t, c, a.beginOIDC(t, c, "/teams"))
		if callback.Query().Get("error") != "access_denied" {
			t.Fatalf("the provider answered %s, want error=access_denied", callback)
		}
		resp, body := fetch(t, c, callback)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "OpenID Connect did not sign you in: access was denied there") {
			t.Errorf("callback with access_denied: status %d, want 403 saying access was denied", resp.StatusCode)
		}
		if strings.Contains(body, "The user declined") {
			t.Errorf("the provider's free text reached the page")
		}
		if !strings.Contains(body, `href="/auth/openid-connect?next=%2fteams"`) {
			t.Errorf("the page offers no way to try again that keeps the page asked for")
		}
		if got := a.whoIs(t, c); got != "" {
			t.Errorf("signed in as %q after the provider refused, want signed out", got)
		}

		// An error that is not a plain code is not repeated on the page.
		p.deny.Store(true)
		callback = authorize(t, c, a.beginOIDC(t, c, ""))
		q := callback.Query()
		q.Set("error", "Call 555-0100 to unlock your account")
		callback.RawQuery = q.Encode()
		resp, body = fetch(t, c, callback)
		if resp.StatusCode != http.StatusForbidden || strings.Contains(body, "555-0100") || !strings.Contains(body, "(an unknown error)") {
			t.Errorf("callback with free text as error: status %d, want 403 naming an unknown error and nothing else", resp.StatusCode)
		}
		if n := userCount(t, s); n != 0 {
			t.Errorf("%d users created, want none", n)
		}
	})
}

func TestOIDCForgedOrMissingStateIsRefused(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		p := newOIDCProvider(t)
		a := oidcApp(t, s, p)
		for _, c := range []struct {
			name   string
			change func(q url.Values)
		}{
			{"forged state", func(q url.Values) { q.Set("state", strings.Repeat("A", len(q.Get("state")))) }},
			{"missing state", func(q url.Values) { q.Del("state") }},
			{"empty state", func(q url.Values) { q.Set("state", "") }},
		} {
			t.Run(c.name, func(t *testing.T) {
				client := a.anonymous(t)
				p.person("sub-"+c.name, "x", "")
				callback := authorize(t, client, a.beginOIDC(t, client, ""))
				genuine := *callback
				q := callback.Query()
				c.change(q)
				callback.RawQuery = q.Encode()
				resp, body := fetch(t, client, callback)
				if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "does not belong to a sign-in started here") {
					t.Errorf("callback with %s: status %d, want 400 saying so", c.name, resp.StatusCode)
				}
				if got := a.whoIs(t, client); got != "" {
					t.Errorf("signed in as %q, want signed out", got)
				}
				// The failed attempt used the sign-in up: the genuine answer
				// cannot finish it afterwards.
				if resp, _ := fetch(t, client, &genuine); resp.StatusCode != http.StatusBadRequest {
					t.Errorf("the genuine callback after a forged one: status %d, want 400", resp.StatusCode)
				}
			})
		}
		if n := userCount(t, s); n != 0 {
			t.Errorf("%d users created, want none", n)
		}

		// A callback carried to another browser, which started no sign-in,
		// signs no one in there: no login CSRF.
		starter, victim := a.anonymous(t), a.anonymous(t)
		p.person("sub-attacker", "mallory", "")
		callback := authorize(t, starter, a.beginOIDC(t, starter, ""))
		if resp, _ := fetch(t, victim, callback); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("a callback in a browser that started no sign-in: status %d, want 400", resp.StatusCode)
		}
		if got := a.whoIs(t, victim); got != "" {
			t.Errorf("the other browser is signed in as %q, want signed out", got)
		}
	})
}

func TestOIDCReplayedCallbackFails(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		p := newOIDCProvider(t)
		a := oidcApp(t, s, p)
		c := a.anonymous(t)
		p.person("sub-aiko", "aiko", "")
		callback := authorize(t, c, a.beginOIDC(t, c, ""))
		// What the browser held before the callback, as someone who copied
		// its cookies would.
		before := a.anonymous(t)
		appURL, _ := url.Parse(a.URL)
		before.Jar.SetCookies(appURL, c.Jar.Cookies(appURL))

		resp, _ := fetch(t, c, callback)
		location(t, resp, http.StatusSeeOther)
		if got := a.whoIs(t, c); got != "aiko" {
			t.Fatalf("signed in as %q, want aiko", got)
		}
		resp, body := fetch(t, c, callback)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "expired or was already used") {
			t.Errorf("the callback replayed in the same browser: status %d, want 400", resp.StatusCode)
		}
		if got := a.whoIs(t, c); got != "aiko" {
			t.Errorf("after a replay the browser is %q, want still aiko", got)
		}
		if resp, _ := fetch(t, before, callback); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("the callback replayed with the cookies from before: status %d, want 400", resp.StatusCode)
		}
		if got := a.whoIs(t, before); got != "" {
			t.Errorf("the replayed cookies are signed in as %q, want signed out", got)
		}
		if n := userCount(t, s); n != 1 {
			t.Errorf("%d users, want 1", n)
		}
	})
}

func TestOIDCConcurrentCallbacksSignInOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		p := newOIDCProvider(t)
		a := oidcApp(t, s, p)
		first := a.anonymous(t)
		p.person("sub-twice", "twice", "")
		callback := authorize(t, first, a.beginOIDC(t, first, ""))
		second := a.anonymous(t)
		appURL, _ := url.Parse(a.URL)
		second.Jar.SetCookies(appURL, first.Jar.Cookies(appURL))

		type answer struct {
			status int
			body   string
		}
		// On PostgreSQL both requests are made to read the session before
		// either ends it: the test holds the session rows locked until both
		// wait to delete. (SQLite shows no one waiting; there the requests
		// race as they come.)
		var release func()
		if s.Dialect() == "postgres" {
			tx, err := s.DB().BeginTx(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(`SELECT id_hash FROM sessions FOR UPDATE`); err != nil {
				t.Fatal(err)
			}
			release = func() {
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
			}
		}
		answers := make(chan answer, 2)
		for _, c := range []*http.Client{first, second} {
			go func() {
				req, _ := http.NewRequest(http.MethodGet, callback.String(), nil)
				resp, err := c.Do(req)
				if err != nil {
					answers <- answer{status: -1, body: err.Error()}
					return
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				answers <- answer{resp.StatusCode, string(b)}
			}()
		}
		if release != nil {
			waitForLockWaiters(t, s, `DELETE FROM "sessions"%`, 2)
			release()
		}
		got := []answer{<-answers, <-answers}
		signedIn, refused := 0, 0
		for _, ans := range got {
			switch {
			case ans.status == http.StatusSeeOther:
				signedIn++
			case ans.status == http.StatusBadRequest && strings.Contains(ans.body, "expired or was already used"):
				// Refused by the claim on the session, before the
				// provider was asked about the code a second time.
				refused++
			default:
				t.Errorf("a concurrent callback answered %d: %.200s", ans.status, ans.body)
			}
		}
		if signedIn != 1 || refused != 1 {
			t.Errorf("%d of two concurrent callbacks signed in and %d were refused, want one each", signedIn, refused)
		}
	})
}

// waitForLockWaiters waits until n PostgreSQL sessions wait on a lock in a
// statement like pattern. PostgreSQL is another process, so only polling
// can tell.
func waitForLockWaiters(t *testing.T, s *app.Store, pattern string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		var waiting int
		err := s.DB().QueryRow(`SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE ?`, pattern).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d statements like %s wait on the lock after 10s, want %d", waiting, pattern, n)
		}
	}
}

func TestOIDCReturnsOnlyToPathsOfThisSite(t *testing.T) {
	p := newOIDCProvider(t)
	a := oidcApp(t, sqliteStore(t), p)
	for next, want := range map[string]string{
		"https://evil.example/":         "/",
		"//evil.example/path":           "/",
		"/\\evil.example":               "/",
		"javascript:alert(1)":           "/",
		"http:/evil.example":            "/",
		"/teams?x=1#frag":               "/teams?x=1",
		"/?tab=all&source=slack&tz=UTC": "/?tab=all&source=slack&tz=UTC",
	} {
		c := a.anonymous(t)
		p.person("sub-next", "nina", "")
		resp, _ := a.signInWithOIDC(t, c, next)
		if got := location(t, resp, http.StatusSeeOther).RequestURI(); got != want {
			t.Errorf("next=%q: landed on %q, want %q", next, got, want)
		}
	}
}

func TestOIDCSignInMustFinishInTime(t *testing.T) {
	s := sqliteStore(t)
	var now atomic.Int64
	now.Store(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC).UnixNano())
	s.SetClock(func() time.Time { return time.Unix(0, now.Load()) })
	p := newOIDCProvider(t)
	a := oidcApp(t, s, p)
	c := a.anonymous(t)
	p.person("sub-slow", "slow", "")
	callback := authorize(t, c, a.beginOIDC(t, c, ""))
	now.Add(int64(11 * time.Minute))
	if resp, _ := fetch(t, c, callback); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a callback 11 minutes after the start: status %d, want 400", resp.StatusCode)
	}
	if got := a.whoIs(t, c); got != "" {
		t.Errorf("signed in as %q, want signed out", got)
	}
}

func TestOnlyEnabledProvidersAreRoutes(t *testing.T) {
	p := newOIDCProvider(t)
	a := oidcApp(t, sqliteStore(t), p)
	c := a.anonymous(t)
	for _, path := range []string{
		"/auth/github", "/auth/github/callback?code=x&state=y", "/auth/evil?provider=openid-connect",
		"/auth/openid-connect%2f..%2fgithub",
	} {
		if resp, _ := a.get(t, c, path, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, resp.StatusCode)
		}
	}
	_, page := a.get(t, c, "/signin", nil)
	if strings.Contains(page, "GitHub") || strings.Contains(page, "demo") {
		t.Errorf("the sign-in page offers a way that is not enabled")
	}
}

func TestOIDCIssuerThatCannotBeUsed(t *testing.T) {
	p := newOIDCProvider(t)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + closed.Addr().String()
	closed.Close()
	for name, issuer := range map[string]string{
		"unreachable": closedURL + "/oidc",
		// The document at localhost speaks for 127.0.0.1: not the issuer asked for.
		"speaks for another issuer": strings.Replace(p.Issuer(), "127.0.0.1", "localhost", 1),
	} {
		t.Run(name, func(t *testing.T) {
			a := newTestApp(t, sqliteStore(t), func(cfg *config.Config) {
				cfg.Demo = false
				cfg.OIDC = config.Provider{ClientID: p.ClientID, ClientSecret: p.ClientSecret, Issuer: issuer}
			})
			resp, body := a.get(t, a.anonymous(t), "/auth/openid-connect?next=/teams", nil)
			if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "OpenID Connect cannot be reached right now") {
				t.Errorf("status %d, want 502 saying the provider cannot be reached", resp.StatusCode)
			}
		})
	}
}

func TestEveryConfiguredProviderStartsASignIn(t *testing.T) {
	a := newTestApp(t, sqliteStore(t), func(cfg *config.Config) {
		cfg.Demo = false
		cfg.GitHub = config.Provider{ClientID: "gh-id", ClientSecret: "gh-secret"}
		cfg.Google = config.Provider{ClientID: "go-id", ClientSecret: "go-secret"}
		cfg.GitLab = config.Provider{ClientID: "gl-id", ClientSecret: "gl-secret"}
	})
	c := a.anonymous(t)
	_, page := a.get(t, c, "/signin", nil)
	for _, label := range []string{"Continue with GitHub", "Continue with Google", "Continue with GitLab"} {
		if !strings.Contains(page, label) {
			t.Errorf("the sign-in page lacks %q", label)
		}
	}
	if strings.Contains(page, "OpenID Connect") {
		t.Errorf("the sign-in page offers OpenID Connect, which is not configured")
	}
	for _, p := range []struct{ name, authorize, clientID, scope string }{
		{"github", "https://github.com/login/oauth/authorize", "gh-id", "read:user user:email"},
		{"google", "https://accounts.google.com/o/oauth2/auth", "go-id", "openid email profile"},
		{"gitlab", "https://gitlab.com/oauth/authorize", "gl-id", "read_user"},
	} {
		resp, _ := a.get(t, c, "/auth/"+p.name, nil)
		to := location(t, resp, http.StatusFound)
		q := to.Query()
		if got := to.Scheme + "://" + to.Host + to.Path; got != p.authorize {
			t.Errorf("%s: sent to %s, want %s", p.name, got, p.authorize)
		}
		if q.Get("client_id") != p.clientID || q.Get("scope") != p.scope || q.Get("response_type") != "code" {
			t.Errorf("%s: client_id %q, scope %q, response_type %q; want %q, %q, code", p.name, q.Get("client_id"), q.Get("scope"), q.Get("response_type"), p.clientID, p.scope)
		}
		if want := a.URL + "/auth/" + p.name + "/callback"; q.Get("redirect_uri") != want {
			t.Errorf("%s: redirect_uri %q, want %q", p.name, q.Get("redirect_uri"), want)
		}
		if len(q.Get("state")) < 40 {
			t.Errorf("%s: state %q, want a long random one", p.name, q.Get("state"))
		}
	}
}
