package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
	"github.com/agentdeck/agentdeck/config"
	"github.com/agentdeck/agentdeck/handlers"
)

// testApp is the real server over a real store, listening on a loopback port.
type testApp struct {
	Store  *app.Store
	URL    string
	Server *handlers.Server
	// lastServerTime is how long the server spent on the latest request,
	// from its arrival to the last byte written, in nanoseconds.
	lastServerTime atomic.Int64
}

// testSessionKey is the session key test apps use unless told otherwise.
var testSessionKey = strings.Repeat("test-session-key-", 3)

// newTestApp serves store in demo mode (demo sign-in on) with fixed session
// keys, its base URL the address it listens on; configure may change the
// configuration first.
func newTestApp(t testing.TB, store *app.Store, configure func(*config.Config)) *testApp {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	cfg := config.Config{
		Command:     config.CommandServe,
		Addr:        "127.0.0.1:0",
		BaseURL:     "http://" + ts.Listener.Addr().String(),
		DataDir:     t.TempDir(),
		Demo:        true,
		SessionKeys: []string{testSessionKey},
	}
	if configure != nil {
		configure(&cfg)
	}
	var logs io.Writer = io.Discard
	if os.Getenv("TEST_SERVER_LOG") == "1" {
		logs = os.Stderr
	}
	srv, err := handlers.New(cfg, store, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatalf("build server: %v", err)
	}
	a := &testApp{Store: store, URL: ts.URL, Server: srv}
	ts.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		srv.ServeHTTP(w, r)
		a.lastServerTime.Store(int64(time.Since(start)))
	})
	ts.Start()
	a.URL = ts.URL
	// Live streams never end on their own; end them before Close waits for
	// every request to finish.
	t.Cleanup(func() { srv.CloseStreams(); ts.Close() })
	return a
}

// seededApp is a test app on the demo data set, pinned to a fixed "now".
func seededApp(t testing.TB, store *app.Store) *testApp {
	t.Helper()
	return seededAppWith(t, store, nil)
}

// seededAppWith is seededApp with its configuration changed first.
func seededAppWith(t testing.TB, store *app.Store, configure func(*config.Config)) *testApp {
	t.Helper()
	now := time.Date(2026, 11, 25, 15, 4, 5, 0, time.UTC)
	store.SetClock(func() time.Time { return now })
	if err := store.Seed(context.Background(), app.DemoSeed(now)); err != nil {
		t.Fatalf("seed: %v", err)
	}
	return newTestApp(t, store, configure)
}

// anonymous is a browser-like client with a cookie jar that does not follow
// redirects, so tests can see them.
func (a *testApp) anonymous(t testing.TB) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

// signIn returns a client signed in as handle through the real demo sign-in
// form, CSRF token included.
func (a *testApp) signIn(t testing.TB, handle string) *http.Client {
	t.Helper()
	c := a.anonymous(t)
	tok := a.csrfFrom(t, c, "/signin")
	resp, err := c.PostForm(a.URL+"/auth/demo", url.Values{"user": {handle}, "csrf": {tok}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("demo sign-in as %s: status %d", handle, resp.StatusCode)
	}
	return c
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfFrom loads a page and returns the CSRF token of its forms.
func (a *testApp) csrfFrom(t testing.TB, c *http.Client, path string) string {
	t.Helper()
	_, body := a.get(t, c, path, nil)
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token on %s", path)
	}
	return m[1]
}

// get fetches path with optional headers and returns the response and body.
func (a *testApp) get(t testing.TB, c *http.Client, path string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, a.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return do(t, c, req)
}

// htmx are the headers of an htmx request triggered by the element with the
// given id.
func htmx(trigger string) http.Header {
	h := http.Header{"Hx-Request": {"true"}, "Hx-Current-Url": {"/"}}
	if trigger != "" {
		h.Set("HX-Trigger", trigger)
	}
	return h
}

// eachStore runs fn on every available database.
func eachStore(t *testing.T, fn func(t *testing.T, s *app.Store)) { apptest.Each(t, fn) }

// sqliteStore is a fresh SQLite store, for tests whose subject is not the
// database.
func sqliteStore(t testing.TB) *app.Store { return apptest.SQLite(t) }

// freshStoreLike opens a new, empty store on the same kind of database as s.
func freshStoreLike(t testing.TB, s *app.Store) *app.Store {
	t.Helper()
	if s.Dialect() == "postgres" {
		return apptest.Postgres(t)
	}
	return apptest.SQLite(t)
}

// submit posts a form as a browser would, with optional extra headers, and
// returns the response and its body.
func (a *testApp) submit(t testing.TB, c *http.Client, path string, form url.Values, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, a.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	return do(t, c, req)
}

// do sends req and returns the response with its whole body.
func do(t testing.TB, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}
