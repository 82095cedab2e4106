package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
)

// divByID returns the element <div id="id"> of body up to its
// balanced closing </div>, for comparing one element across responses.
func divByID(t *testing.T, body, id string) string {
	t.Helper()
	start := strings.Index(body, `<div id="`+id+`"`)
	if start < 0 {
		t.Fatalf("no <div id=%q> in:\n%.400s", id, body)
	}
	depth := 0
	for i := start; i < len(body); i++ {
		switch {
		case strings.HasPrefix(body[i:], "<div"):
			depth++
		case strings.HasPrefix(body[i:], "</div>"):
			depth--
			if depth == 0 {
				return body[start : i+len("</div>")]
			}
		}
	}
	t.Fatalf("unbalanced <div id=%q>", id)
	return ""
}

var rowID = regexp.MustCompile(`<tr id="item-([0-9a-f-]{36})"`)

func TestViewFullPageAndFragment(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		a := seededApp(t, s)
		maya := a.signIn(t, "maya")
		const path = "/?tab=all&status=failed"

		full, page := a.get(t, maya, path, nil)
		if full.StatusCode != http.StatusOK {
			t.Fatalf("full page: status %d", full.StatusCode)
		}
		if !strings.Contains(page, "<html") || !strings.Contains(page, `id="filters"`) {
			t.Errorf("a direct load must render the whole page")
		}
		frag, fragment := a.get(t, maya, path, htmx("filters"))
		if frag.StatusCode != http.StatusOK {
			t.Fatalf("fragment: status %d", frag.StatusCode)
		}
		if strings.Contains(fragment, "<html") || !strings.HasPrefix(strings.TrimSpace(fragment), `<div id="results"`) {
			t.Errorf("an htmx request must get the results fragment, got:\n%.300s", fragment)
		}
		for _, resp := range []*http.Response{full, frag} {
			if !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "HX-Request") {
				t.Errorf("Vary = %q, want it to name HX-Request", resp.Header.Values("Vary"))
			}
		}
		// The fragment is the very block the page includes.
		if got, want := divByID(t, fragment, "results"), divByID(t, page, "results"); got != want {
			t.Errorf("the fragment's #results differs from the page's:\nfragment %.500s\npage     %.500s", got, want)
		}
		if strings.Contains(fragment, `<form id="filters"`) {
			t.Errorf("a change from the form itself must not resend the form")
		}
		if !strings.Contains(fragment, `id="tabs" class="tabs" aria-label="Which runs" hx-swap-oob="true"`) {
			t.Errorf("the fragment must refresh the tabs out of band")
		}
	})
}

func TestFragmentPushesTheCanonicalURL(t *testing.T) {
	a := seededApp(t, sqliteStore(t))
	maya := a.signIn(t, "maya")
	cases := []struct{ path, pushed string }{
		{"/?status=failed&tab=all&source=slack&source=slack", "/?tab=all&source=slack&status=failed"},
		{"/?tab=personal", "/?tab=personal"}, // "/" opens the landing view
		{"/", "/?tab=personal"},
		{"/?day=2026-11-20&tz=Europe%2FBerlin&creator=jonas", "/?creator=jonas&day=2026-11-20&tz=Europe%2FBerlin"},
		{"/?day=date&date=2026-11-20", "/?day=2026-11-20&tz=UTC"}, // a day names its zone
		{"/?status=bogus&status=success", "/?status=success"},
	}
	for _, c := range cases {
		resp, _ := a.get(t, maya, c.path, htmx("filters"))
		if got := resp.Header.Get("HX-Push-Url"); got != c.pushed {
			t.Errorf("GET %s pushed %q, want %q", c.path, got, c.pushed)
		}
	}
	// A direct load pushes nothing: the address bar already holds the URL.
	resp, _ := a.get(t, maya, "/?tab=all", nil)
	if got := resp.Header.Get("HX-Push-Url"); got != "" {
		t.Errorf("a full page pushed %q", got)
	}
}

func TestHistoryRestoreAndBoostGetTheFullPage(t *testing.T) {
	a := seededApp(t, sqliteStore(t))
	maya := a.signIn(t, "maya")
	for name, h := range map[string]http.Header{
		"history restore":                    {"Hx-Request": {"true"}, "Hx-History-Restore-Request": {"true"}},
		"history restore without HX-Request": {"Hx-History-Restore-Request": {"true"}},
		"boosted":                            {"Hx-Request": {"true"}, "Hx-Boosted": {"true"}},
	} {
		_, body := a.get(t, maya, "/?tab=all", h)
		if !strings.Contains(body, "<html") {
			t.Errorf("%s: want the full page, got:\n%.200s", name, body)
		}
	}
}

func TestChipsTabsAndClearRefreshTheForm(t *testing.T) {
	a := seededApp(t, sqliteStore(t))
	maya := a.signIn(t, "maya")
	for _, trigger := range []string{"", "chip"} {
		_, body := a.get(t, maya, "/?tab=all&status=failed", htmx(trigger))
		if !strings.Contains(body, `<form id="filters"`) || !strings.Contains(body, `hx-swap-oob="true"`) {
			t.Errorf("trigger %q: the form must come out of band", trigger)
		}
		if !strings.Contains(body, `name="status" value="failed" checked`) {
			t.Errorf("trigger %q: the refreshed form must tick status=failed", trigger)
		}
	}
}

func TestSummaryMatchesTheStore(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		a := seededApp(t, s)
		maya := a.signIn(t, "maya")
		for _, raw := range []string{"", "tab=all", "tab=all&status=failed&source=slack", "tab=all&day=7d&creator=jonas"} {
			_, body := a.get(t, maya, "/?"+raw, htmx("filters"))
			q, _ := url.ParseQuery(raw)
			f, _ := app.ParseFilter(q)
			v, err := s.UserByHandle(context.Background(), "maya")
			if err != nil {
				t.Fatal(err)
			}
			viewer, err := s.Viewer(context.Background(), v.ID)
			if err != nil {
				t.Fatal(err)
			}
			query, _, _, err := s.ResolveFilter(context.Background(), viewer, f)
			if err != nil {
				t.Fatal(err)
			}
			sum, err := s.Summary(context.Background(), query)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{
				strconv.FormatInt(sum.Items, 10) + " item",
				strconv.FormatInt(sum.Working, 10) + " working now",
				sum.Credits.String() + " credits",
			} {
				if !strings.Contains(body, want) {
					t.Errorf("%q: summary lacks %q", raw, want)
				}
			}
			if rows := len(rowID.FindAllString(body, -1)); int64(rows) != min(sum.Items, app.PageSize) {
				t.Errorf("%q: %d rows, want %d", raw, rows, min(sum.Items, app.PageSize))
			}
		}
	})
}

func TestLoadMoreReturnsTheNextRowsOnly(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		a := seededApp(t, s)
		maya := a.signIn(t, "maya")
		_, first := a.get(t, maya, "/?tab=all", nil)
		more := regexp.MustCompile(`hx-get="(/\?tab=all&amp;cursor=[^"]+)"`).FindStringSubmatch(first)
		if more == nil {
			t.Fatalf("no Load more link on the first page")
		}
		next := strings.ReplaceAll(more[1], "&amp;", "&")
		resp, body := a.get(t, maya, next, htmx("pager"))
		if resp.Header.Get("HX-Push-Url") != "" {
			t.Errorf("Load more must not change the URL, pushed %q", resp.Header.Get("HX-Push-Url"))
		}
		if strings.Contains(body, `id="results"`) || strings.Contains(body, "working now") {
			t.Errorf("Load more must answer with rows and the pager only")
		}
		if !strings.Contains(body, `<div id="pager" class="pager" hx-swap-oob="true">`) {
			t.Errorf("Load more must replace the pager out of band")
		}
		seen := map[string]bool{}
		for _, m := range rowID.FindAllStringSubmatch(first, -1) {
			seen[m[1]] = true
		}
		rows := rowID.FindAllStringSubmatch(body, -1)
		if len(rows) != app.PageSize {
			t.Errorf("second page has %d rows, want %d", len(rows), app.PageSize)
		}
		for _, m := range rows {
			if seen[m[1]] {
				t.Errorf("row %s repeats on the second page", m[1])
			}
		}
	})
}

func TestBadViewParametersNeverFail(t *testing.T) {
	a := seededApp(t, sqliteStore(t))
	maya := a.signIn(t, "maya")
	long := strings.Repeat("x", 5000)
	cases := []struct {
		query  string
		status int
		says   string // the notice or error names the parameter
		// plainTo is where a page load (not htmx) is sent instead: the
		// canonical address of what a form without JavaScript submitted.
		plainTo string
	}{
		{"status=bogus", 200, "unknown status", ""},
		{"source=fax", 200, "unknown source", ""},
		{"tab=everything", 200, "unknown tab", ""},
		{"day=2026-13-45", 200, "is not a day", ""},
		{"day=tomorrow", 200, "is not a day", ""},
		{"tz=Mars%2FOlympus", 200, "not a known time zone", ""},
		{"tz=..%2F..%2Fetc%2Fpasswd", 200, "not a known time zone", ""},
		{"tz=Local", 200, "not a known time zone", ""},
		{"cursor=!!!", 200, "page cursor is invalid", ""},
		{"cursor=" + url.QueryEscape("MTIzOm5vdC1hbi1pZA"), 200, "page cursor is invalid", ""},
		{"creator=Not+A+Handle", 200, "is not a user handle", ""},
		{"creator=nobody", 200, "is not you or a teammate", ""},
		{"utm_source=mail", 200, "unknown parameter", ""},
		{"status=" + long, 200, "unknown status", ""},
		{"source=", 200, "", "/?tab=personal"},
		{"tz=&status=failed&day=&date=", 200, "", "/?status=failed"},
		{"a=%zz", 400, "query string is malformed", ""},
	}
	for _, c := range cases {
		for _, h := range []http.Header{nil, htmx("filters")} {
			resp, body := a.get(t, maya, "/?"+c.query, h)
			if h == nil && c.plainTo != "" {
				if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != c.plainTo {
					t.Errorf("%s: status %d to %q, want 303 to %s", c.query, resp.StatusCode, resp.Header.Get("Location"), c.plainTo)
				}
				continue
			}
			if resp.StatusCode != c.status {
				t.Errorf("%.60s (htmx %v): status %d, want %d", c.query, h != nil, resp.StatusCode, c.status)
			}
			if c.says != "" && !strings.Contains(body, c.says) {
				t.Errorf("%.60s (htmx %v): response does not say %q", c.query, h != nil, c.says)
			}
			if c.status == 200 && !strings.Contains(body, `id="results"`) {
				t.Errorf("%.60s: the results must still render", c.query)
			}
			if len(body) > 200_000 {
				t.Errorf("%.60s: a %d-byte answer echoes too much", c.query, len(body))
			}
		}
	}
}

func TestSignedOutVisitorsAreSentToSignIn(t *testing.T) {
	a := seededApp(t, sqliteStore(t))
	c := a.anonymous(t)
	resp, _ := a.get(t, c, "/?tab=all&status=failed", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin?next="+url.QueryEscape("/?tab=all&status=failed") {
		t.Errorf("signed out: %d to %q, want 303 to sign in with next", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = a.get(t, c, "/?tab=all", htmx("filters"))
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("HX-Redirect"), "/signin") {
		t.Errorf("signed out htmx: %d with HX-Redirect %q, want 401 and a redirect to sign in", resp.StatusCode, resp.Header.Get("HX-Redirect"))
	}
}

func TestDemoSignInRefusesUnknownUsersAndMissingTokens(t *testing.T) {
	a := seededApp(t, sqliteStore(t))
	c := a.anonymous(t)
	tok := a.csrfFrom(t, c, "/signin")
	for _, tc := range []struct {
		form   url.Values
		status int
	}{
		{url.Values{"user": {"nobody"}, "csrf": {tok}}, http.StatusBadRequest},
		{url.Values{"user": {""}, "csrf": {tok}}, http.StatusBadRequest},
		{url.Values{"user": {"maya"}}, http.StatusForbidden},
		{url.Values{"user": {"maya"}, "csrf": {"forged"}}, http.StatusForbidden},
		{url.Values{"user": {"maya"}, "csrf": {tok}, "next": {"https://evil.example/"}}, http.StatusSeeOther},
	} {
		resp, err := c.PostForm(a.URL+"/auth/demo", tc.form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("sign in with %v: status %d, want %d", tc.form, resp.StatusCode, tc.status)
		}
		if resp.StatusCode == http.StatusSeeOther && resp.Header.Get("Location") != "/" {
			t.Errorf("sign in with an off-site next went to %q, want /", resp.Header.Get("Location"))
		}
	}
}

func TestHealthAndReadiness(t *testing.T) {
	s := sqliteStore(t)
	a := newTestApp(t, s, nil)
	c := a.anonymous(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		if resp, _ := a.get(t, c, path, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d", path, resp.StatusCode)
		}
	}
	s.Close()
	if resp, _ := a.get(t, c, "/readyz", nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the database closed: status %d, want 503", resp.StatusCode)
	}
	if resp, _ := a.get(t, c, "/healthz", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz must not depend on the database: status %d", resp.StatusCode)
	}
}

// Personal lists one's own runs only: it offers no creator menu, and a
// creator carried over from All says why it matches nothing, with the ways
// out.
func TestPersonalExplainsACreatorItCannotShow(t *testing.T) {
	a := seededApp(t, sqliteStore(t))
	maya := a.signIn(t, "maya")
	_, personal := a.get(t, maya, "/?tab=personal", nil)
	if strings.Contains(personal, `name="creator_mode"`) {
		t.Errorf("Personal offers a creator menu")
	}
	_, all := a.get(t, maya, "/?tab=all", nil)
	if !strings.Contains(all, `name="creator_mode"`) {
		t.Errorf("All offers no creator menu")
	}
	_, carried := a.get(t, maya, "/?creator=jonas", htmx(""))
	for _, want := range []string{"matches nothing here", `href="/?tab=all&amp;creator=jonas"`, `href="/?tab=personal"`} {
		if !strings.Contains(carried, want) {
			t.Errorf("Personal with creator=jonas lacks %s", want)
		}
	}
	if _, mine := a.get(t, maya, "/?creator=maya", nil); strings.Contains(mine, "matches nothing here") {
		t.Errorf("Personal with one's own handle explains itself needlessly")
	}
}

// A link with thousands of values it cannot use gets a short notice: the
// first few named, the rest counted.
func TestANoticeOfThousandsOfBadValuesStaysShort(t *testing.T) {
	a := seededApp(t, sqliteStore(t))
	maya := a.signIn(t, "maya")
	q := url.Values{}
	for i := range 9999 {
		q.Add("status", "bogus"+strconv.Itoa(i))
	}
	resp, body := a.get(t, maya, "/?"+q.Encode(), http.Header{"HX-Request": {"true"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200 with a notice", resp.StatusCode)
	}
	_, plain := a.get(t, maya, "/", http.Header{"HX-Request": {"true"}})
	if !strings.Contains(body, "and 9989 more") || strings.Contains(body, "bogus10") || len(body)-len(plain) > 4<<10 {
		t.Errorf("the notice of 9,999 bad values adds %d bytes to the page and does not end in \"and 9989 more\"", len(body)-len(plain))
	}
}

// settleHub waits until every hint published so far has gone through the
// hub, the repeats that wait for the end of the throttle window included,
// so that its echo of earlier writes drops nothing the test then counts.
func settleHub(t *testing.T, s *app.Store, sub *app.Subscription) {
	t.Helper()
	marker := app.NewItemID()
	for range 2 {
		s.Hub().Publish(app.Hint{ItemID: marker})
		for h := range sub.C {
			if h.ItemID == marker {
				break
			}
		}
	}
}

// watchedApp is the demo app with maya signed in, and a way to wait until
// the hub has carried every hint published so far: its echo of a write
// drops again what the write dropped, which a test that counts statements
// must not see. Signing in announces the person, so that is waited for.
func watchedApp(t *testing.T, s *app.Store) (a *testApp, maya *http.Client, settle func()) {
	t.Helper()
	a = seededApp(t, s)
	sub, err := s.Hub().Subscribe(context.Background(), 1024)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sub.Close)
	maya = a.signIn(t, "maya")
	settle = func() { settleHub(t, s, sub) }
	settle()
	return a, maya, settle
}

func TestAFragmentReadsOnlyItsRowsAndSummary(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		a, maya, settle := watchedApp(t, s)
		a.get(t, maya, "/?tab=all&status=failed", htmx("filters"))
		settle()
		rec := &apptest.StatementRecorder{}
		s.DB().AddQueryHook(rec)

		fragment := func(path string) (string, []string) {
			t.Helper()
			rec.Start()
			resp, body := a.get(t, maya, path, htmx("filters"))
			var stmts []string
			for _, stmt := range rec.Stop() {
				// The hub's announcement of an earlier write may run meanwhile.
				if !strings.HasPrefix(stmt, "SELECT pg_notify(") {
					stmts = append(stmts, stmt)
				}
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: status %d", path, resp.StatusCode)
			}
			return body, stmts
		}
		// A view not read before: its rows and its summary, nothing about
		// who is asking. The two run at the same time, in either order.
		_, stmts := fragment("/?tab=all&status=working")
		slices.SortFunc(stmts, func(a, b string) int { return strings.Count(b, "LIMIT 51") - strings.Count(a, "LIMIT 51") })
		if len(stmts) != 2 || !strings.Contains(stmts[0], "LIMIT 51") || !strings.Contains(stmts[1], "AS working") {
			t.Errorf("a new view's fragment ran %d statements, want its rows and its summary:\n%s", len(stmts), strings.Join(stmts, "\n"))
		}
		// The same view again: read once, shared.
		if _, stmts := fragment("/?tab=all&status=working"); len(stmts) != 0 {
			t.Errorf("a repeated fragment ran %d statements, want none:\n%s", len(stmts), strings.Join(stmts, "\n"))
		}
		// A new run shows at once.
		it := working(t, s, "maya", "Arrived a moment ago", nil)
		body, stmts := fragment("/?tab=all&status=working")
		row := `id="item-` + it.ID + `"`
		if !strings.Contains(body, row) || len(stmts) != 2 {
			t.Errorf("after a new run the fragment ran %d statements and shows it: %t\n%s", len(stmts), strings.Contains(body, row), strings.Join(stmts, "\n"))
		}
	})
}
