package handlers_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/config"
)

// csrfFixture is a small world for trying every state-changing route: ana
// administers team red, ben is in it, cy is not; red has an invite link.
type csrfFixture struct {
	a        *testApp
	s        *app.Store
	clients  map[string]*http.Client
	inviteID int64
	token    string
	runID    string // ana's run in team red, shared by a link
	tokenID  int64  // ana's access token
	viewID   int64  // ana's saved view, shared with red
	alertID  int64  // ana's alert, when a case made one
}

func newCSRFFixture(t *testing.T, s *app.Store) *csrfFixture {
	t.Helper()
	ctx := context.Background()
	a := usersApp(t, s, nil, "ana", "ben", "cy")
	red := &app.Team{Slug: "red", Name: "Red"}
	mustDo(t, s.CreateTeam(ctx, red, viewerOf(t, s, "ana").User.ID))
	mustDo(t, s.AddMember(ctx, red.ID, viewerOf(t, s, "ben").User.ID, app.RoleMember))
	token, inv, err := s.CreateInvite(ctx, viewerOf(t, s, "ana"), red.ID)
	mustDo(t, err)
	fx := &csrfFixture{a: a, s: s, clients: map[string]*http.Client{}, inviteID: inv.ID, token: token}
	ana := viewerOf(t, s, "ana")
	run := &app.Item{Kind: app.KindAmbient, Source: app.SourceCLI, Title: "shared run", CreatorID: ana.User.ID, TeamID: red.ID}
	mustDo(t, s.CreateItem(ctx, run))
	fx.runID = run.ID
	tok, _, err := s.CreateAccessToken(ctx, ana.User.ID, "ci", time.Time{})
	mustDo(t, err)
	fx.tokenID = tok.ID
	sv, err := s.SaveView(ctx, ana, app.NewSavedView{Name: "Red failures", Query: "tab=all&status=failed", TeamSlug: "red"})
	mustDo(t, err)
	fx.viewID = sv.ID
	for _, h := range []string{"ana", "ben", "cy"} {
		fx.clients[h] = a.signIn(t, h)
	}
	anon := a.anonymous(t)
	a.csrfFrom(t, anon, "/signin") // a signed-out session with a token, as the sign-in page makes
	fx.clients[""] = anon
	return fx
}

func (fx *csrfFixture) role(t *testing.T, handle string) app.Role {
	t.Helper()
	m, err := fx.s.Membership(context.Background(), viewerOf(t, fx.s, handle), "red")
	if err != nil {
		return ""
	}
	return m.Role
}

// csrfCase is how to use one state-changing route, and how to tell that it
// did something.
type csrfCase struct {
	as     string // who asks; "" is a signed-out visitor
	path   func(fx *csrfFixture) string
	form   url.Values
	status int
	before func(t *testing.T, fx *csrfFixture) // optional: what must exist first
	done   func(t *testing.T, fx *csrfFixture) bool
}

// confirmedForm is a destructive request's form once the person confirmed it.
var confirmedForm = url.Values{"confirm": {"yes"}}

// csrfCases covers every route that changes state, keyed like Echo's routes.
var csrfCases = map[string]csrfCase{
	"POST /signout": {as: "ana", path: fixed("/signout"), status: http.StatusSeeOther,
		done: func(t *testing.T, fx *csrfFixture) bool { return fx.a.whoIs(t, fx.clients["ana"]) == "" }},
	"POST /auth/demo": {as: "", path: fixed("/auth/demo"), form: url.Values{"user": {"ben"}}, status: http.StatusSeeOther,
		done: func(t *testing.T, fx *csrfFixture) bool { return fx.a.whoIs(t, fx.clients[""]) == "ben" }},
	"POST /teams": {as: "ana", path: fixed("/teams"), form: url.Values{"name": {"Fresh"}}, status: http.StatusSeeOther,
		done: func(t *testing.T, fx *csrfFixture) bool {
			// A new team's slug has a random suffix: find it by its name.
			ms, err := fx.s.TeamsOf(context.Background(), viewerOf(t, fx.s, "ana"))
			return err == nil && slices.ContainsFunc(ms, func(m *app.Membership) bool { return m.Team.Name == "Fresh" })
		}},
	"POST /teams/:slug/name": {as: "ana", path: fixed("/teams/red/name"), form: url.Values{"name": {"Crimson"}}, status: http.StatusSeeOther,
		done: func(t *testing.T, fx *csrfFixture) bool {
			m, err := fx.s.Membership(context.Background(), viewerOf(t, fx.s, "ana"), "red")
			return err == nil && m.Team.Name == "Crimson"
		}},
	"POST /teams/:slug/leave": {as: "ben", path: fixed("/teams/red/leave"), form: confirmedForm, status: http.StatusSeeOther,
		done: func(t *testing.T, fx *csrfFixture) bool { return fx.role(t, "ben") == "" }},
	"POST /teams/:slug/members/:handle/role": {as: "ana", path: fixed("/teams/red/members/ben/role"), form: url.Values{"role": {"admin"}},
		status: http.StatusSeeOther, done: func(t *testing.T, fx *csrfFixture) bool { return fx.role(t, "ben") == app.RoleAdmin }},
	"POST /teams/:slug/members/:handle/remove": {as: "ana", path: fixed("/teams/red/members/ben/remove"), form: confirmedForm, status: http.StatusSeeOther,
		done: func(t *testing.T, fx *csrfFixture) bool { return fx.role(t, "ben") == "" }},
	"POST /teams/:slug/invites": {as: "ana", path: fixed("/teams/red/invites"), status: http.StatusCreated,
		done: func(t *testing.T, fx *csrfFixture) bool {
			list, err := fx.s.Invites(context.Background(), viewerOf(t, fx.s, "ana"), teamID(t, fx.s, "ana", "red"))
			return err == nil && len(list) == 2
		}},
	"POST /teams/:slug/invites/:id/revoke": {as: "ana",
		path: func(fx *csrfFixture) string {
			return "/teams/red/invites/" + strconv.FormatInt(fx.inviteID, 10) + "/revoke"
		},
		form: confirmedForm, status: http.StatusSeeOther,
		done: func(t *testing.T, fx *csrfFixture) bool {
			_, err := fx.s.InviteByToken(context.Background(), fx.token)
			return err != nil
		}},
	"POST /runs/:id/share": {as: "ana", path: func(fx *csrfFixture) string { return "/runs/" + fx.runID + "/share" }, status: http.StatusSeeOther,
		done: func(t *testing.T, fx *csrfFixture) bool {
			link, err := fx.s.ShareLinkOf(context.Background(), viewerOf(t, fx.s, "ana"), fx.runID)
			return err == nil && link != nil
		}},
	"POST /runs/:id/share/revoke": {as: "ana", path: func(fx *csrfFixture) string { return "/runs/" + fx.runID + "/share/revoke" },
		form: confirmedForm, status: http.StatusSeeOther,
		before: func(t *testing.T, fx *csrfFixture) {
			_, err := fx.s.CreateShareLink(context.Background(), viewerOf(t, fx.s, "ana"), fx.runID)
			mustDo(t, err)
		},
		done: func(t *testing.T, fx *csrfFixture) bool {
			link, err := fx.s.ShareLinkOf(context.Background(), viewerOf(t, fx.s, "ana"), fx.runID)
			return err != nil || link == nil
		}},
	"POST /settings/tokens": {as: "ana", path: fixed("/settings/tokens"), form: url.Values{"name": {"deploys"}}, status: http.StatusOK,
		done: func(t *testing.T, fx *csrfFixture) bool {
			list, err := fx.s.AccessTokens(context.Background(), viewerOf(t, fx.s, "ana").User.ID)
			return err == nil && slices.ContainsFunc(list, func(tok *app.AccessToken) bool { return tok.Name == "deploys" })
		}},
	"POST /settings/tokens/:id/revoke": {as: "ana",
		path: func(fx *csrfFixture) string {
			return "/settings/tokens/" + strconv.FormatInt(fx.tokenID, 10) + "/revoke"
		},
		form: confirmedForm, status: http.StatusSeeOther,
		done: func(t *testing.T, fx *csrfFixture) bool {
			list, err := fx.s.AccessTokens(context.Background(), viewerOf(t, fx.s, "ana").User.ID)
			return err == nil && slices.ContainsFunc(list, func(tok *app.AccessToken) bool { return tok.ID == fx.tokenID && !tok.RevokedAt.IsZero() })
		}},
	"POST /views": {as: "ben", path: fixed("/views"), form: url.Values{"name": {"Mine"}, "query": {"status=working"}}, status: http.StatusSeeOther,
		done: func(t *testing.T, fx *csrfFixture) bool { return slices.Contains(savedViewNames(t, fx, "ben"), "Mine") }},
	"POST /views/:id/name": {as: "ana", path: func(fx *csrfFixture) string { return "/views/" + strconv.FormatInt(fx.viewID, 10) + "/name" },
		form: url.Values{"name": {"Crimson failures"}}, status: http.StatusSeeOther,
		done: func(t *testing.T, fx *csrfFixture) bool {
			return slices.Contains(savedViewNames(t, fx, "ana"), "Crimson failures")
		}},
	"POST /views/:id/delete": {as: "ana", path: func(fx *csrfFixture) string { return "/views/" + strconv.FormatInt(fx.viewID, 10) + "/delete" },
		form: confirmedForm, status: http.StatusSeeOther,
		done: func(t *testing.T, fx *csrfFixture) bool { return len(savedViewNames(t, fx, "ana")) == 0 }},
	"POST /views/:id/landing": {as: "ben", path: func(fx *csrfFixture) string { return "/views/" + strconv.FormatInt(fx.viewID, 10) + "/landing" },
		status: http.StatusSeeOther,
		done: func(t *testing.T, fx *csrfFixture) bool {
			landing, err := fx.s.LandingView(context.Background(), viewerOf(t, fx.s, "ben"))
			return err == nil && landing != nil && landing.ID == fx.viewID
		}},
	"POST /attention/ack": {as: "ana", path: fixed("/attention/ack"),
		form: url.Values{"ack": {csrfFailedRun + "@" + strconv.FormatInt(csrfFailedAt.UnixMicro(), 10)}}, status: http.StatusSeeOther,
		before: func(t *testing.T, fx *csrfFixture) {
			mustDo(t, fx.s.CreateItem(context.Background(), &app.Item{ID: csrfFailedRun, Kind: app.KindAmbient, Source: app.SourceCLI,
				Status: app.StatusFailed, Title: "failed run", CreatorID: viewerOf(t, fx.s, "ana").User.ID, CreatedAt: csrfFailedAt}))
		},
		done: func(t *testing.T, fx *csrfFixture) bool {
			n, err := fx.s.AttentionCount(context.Background(), viewerOf(t, fx.s, "ana"))
			return err == nil && n == 0
		}},
	"POST /alerts": {as: "ana", path: fixed("/alerts"), form: url.Values{"view": {"attention"}, "destination": {"webhook"}, "url": {"https://hooks.example.com/agentdeck"}},
		status: http.StatusSeeOther, done: func(t *testing.T, fx *csrfFixture) bool { return len(alertsOf(t, fx, "ana")) == 1 }},
	"POST /alerts/:id/test": {as: "ana", path: func(fx *csrfFixture) string { return "/alerts/" + strconv.FormatInt(fx.alertID, 10) + "/test" },
		status: http.StatusSeeOther, before: makeAlert,
		done: func(t *testing.T, fx *csrfFixture) bool {
			a := alertsOf(t, fx, "ana")[0]
			ds, err := fx.s.AlertDeliveries(context.Background(), viewerOf(t, fx.s, "ana"), a)
			return err == nil && len(ds) == 1 && ds[0].Test()
		}},
	"POST /alerts/:id/delete": {as: "ana", path: func(fx *csrfFixture) string { return "/alerts/" + strconv.FormatInt(fx.alertID, 10) + "/delete" },
		form: confirmedForm, status: http.StatusSeeOther, before: makeAlert,
		done: func(t *testing.T, fx *csrfFixture) bool { return len(alertsOf(t, fx, "ana")) == 0 }},
	"POST /invites/:token": {as: "cy", path: func(fx *csrfFixture) string { return "/invites/" + fx.token }, status: http.StatusSeeOther,
		done: func(t *testing.T, fx *csrfFixture) bool { return fx.role(t, "cy") == app.RoleMember }},
}

// The failed run whose acknowledgement the CSRF case of /attention/ack
// sends: its id and when it failed.
var (
	csrfFailedRun = "0192f5d4-6a00-7000-8000-00000000ac01"
	csrfFailedAt  = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
)

// makeAlert gives ana an alert on Needs attention.
func makeAlert(t *testing.T, fx *csrfFixture) {
	a, err := fx.s.CreateAlert(context.Background(), viewerOf(t, fx.s, "ana"),
		app.NewAlert{Destination: app.DestinationWebhook, URL: "https://hooks.example.com/agentdeck"})
	mustDo(t, err)
	fx.alertID = a.ID
}

// alertsOf lists a person's alerts.
func alertsOf(t *testing.T, fx *csrfFixture, handle string) []*app.Alert {
	t.Helper()
	list, err := fx.s.Alerts(context.Background(), viewerOf(t, fx.s, handle))
	mustDo(t, err)
	return list
}

// savedViewNames are the names of the saved views a person sees.
func savedViewNames(t *testing.T, fx *csrfFixture, handle string) []string {
	t.Helper()
	views, err := fx.s.SavedViews(context.Background(), viewerOf(t, fx.s, handle))
	mustDo(t, err)
	var names []string
	for _, sv := range views {
		names = append(names, sv.Name)
	}
	return names
}

func fixed(path string) func(*csrfFixture) string { return func(*csrfFixture) string { return path } }

// stateChanging lists the routes whose method is not a safe one, except the
// API's and the OTLP receiver's: they accept access tokens only, never a
// cookie, so a forged cross-site request has nothing to ride on (the API and
// OTLP tests prove a session cookie gets a 401 there).
func stateChanging(a *testApp) []string {
	var out []string
	for _, r := range a.Server.Routes() {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, "echo_route_not_found":
			continue
		}
		if strings.HasPrefix(r.Path, "/api/") || strings.HasPrefix(r.Path, "/v1/") {
			continue
		}
		out = append(out, r.Method+" "+r.Path)
	}
	slices.Sort(out)
	return out
}

func TestEveryStateChangingRouteNeedsTheCSRFToken(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		routes := stateChanging(newTestApp(t, sqliteStore(t), nil))
		if len(routes) < len(csrfCases) {
			t.Fatalf("only %d state-changing routes found: %v", len(routes), routes)
		}
		for i, route := range routes {
			c, ok := csrfCases[route]
			if !ok {
				t.Errorf("%s changes state but has no case here: add one to csrfCases", route)
				continue
			}
			t.Run(route, func(t *testing.T) {
				// Each case runs on a fresh fixture of its own.
				fx := newCSRFFixture(t, freshStoreLike(t, s))
				if c.before != nil {
					c.before(t, fx)
				}
				client := fx.clients[c.as]
				path := c.path(fx)
				token := sessionCSRFToken(t, fx.a, client)
				otherToken := sessionCSRFToken(t, fx.a, fx.clients["cy"])
				if c.as == "cy" {
					otherToken = sessionCSRFToken(t, fx.a, fx.clients["ben"])
				}
				refusals := map[string]struct {
					form   url.Values
					header http.Header
				}{
					"no token":                     {withField(c.form, "", ""), nil},
					"a wrong token":                {withField(c.form, "csrf", changed(token)), nil},
					"another session's token":      {withField(c.form, "csrf", otherToken), nil},
					"a wrong token in the header":  {withField(c.form, "", ""), http.Header{"X-Csrf-Token": {otherToken}}},
					"an empty token in the header": {withField(c.form, "", ""), http.Header{"X-Csrf-Token": {""}}},
				}
				for name, r := range refusals {
					resp := fx.a.postForm(t, client, path, r.form, r.header)
					if resp.StatusCode != http.StatusForbidden {
						t.Errorf("with %s: status %d, want 403", name, resp.StatusCode)
					}
				}
				if c.done(t, fx) {
					t.Fatalf("a refused request changed something")
				}
				var header http.Header
				form := withField(c.form, "csrf", token)
				if i%2 == 1 { // htmx sends the token in a header instead
					form, header = withField(c.form, "", ""), http.Header{"X-Csrf-Token": {token}}
				}
				if resp := fx.a.postForm(t, client, path, form, header); resp.StatusCode != c.status {
					t.Errorf("with the session's token: status %d, want %d", resp.StatusCode, c.status)
				}
				if !c.done(t, fx) {
					t.Errorf("with the session's token the request did nothing")
				}
			})
		}
	})
}

var hxCSRF = regexp.MustCompile(`hx-headers='\{"X-CSRF-Token": "([^"]+)"\}'`)

// sessionCSRFToken is the token of a client's session, read from a page as a
// browser's forms and htmx would.
func sessionCSRFToken(t *testing.T, a *testApp, c *http.Client) string {
	t.Helper()
	if a.whoIs(t, c) == "" {
		return a.csrfFrom(t, c, "/signin")
	}
	_, body := a.get(t, c, "/teams", nil)
	m := hxCSRF.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no CSRF token in the page's hx-headers")
	}
	return m[1]
}

// changed is a token with its first character changed.
func changed(token string) string {
	if token[0] == 'x' {
		return "y" + token[1:]
	}
	return "x" + token[1:]
}

// withField copies a form and sets one field; an empty key sets nothing.
func withField(form url.Values, key, value string) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = append([]string(nil), v...)
	}
	if key != "" {
		out.Set(key, value)
	}
	return out
}

var (
	inlineScript = regexp.MustCompile(`<script(?:\s[^>]*)?>`)
	inlineStyle  = regexp.MustCompile(`<style|\sstyle=`)
	inlineEvent  = regexp.MustCompile(`\son[a-z]+=`)
)

const wantCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// checkPage requires the security headers on a response and, on an HTML
// page, nothing inline that the policy would block.
func checkPage(t *testing.T, what string, resp *http.Response, body string) {
	t.Helper()
	h := resp.Header
	if got := h.Get("Content-Security-Policy"); got != wantCSP {
		t.Errorf("%s: Content-Security-Policy %q, want %q", what, got, wantCSP)
	}
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %s %q, want %q", what, k, got, want)
		}
	}
	if !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		return
	}
	for _, m := range inlineScript.FindAllString(body, -1) {
		if !strings.Contains(m, " src=") {
			t.Errorf("%s: an inline script: %s", what, m)
		}
	}
	if m := inlineStyle.FindString(body); m != "" {
		t.Errorf("%s: inline style %q", what, m)
	}
	if m := inlineEvent.FindString(body); m != "" {
		t.Errorf("%s: an inline event handler %q", what, m)
	}
}

func TestEveryPageSendsTheSecurityHeaders(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		fx := newCSRFFixture(t, s)
		ctx := context.Background()
		it := &app.Item{Kind: app.KindAmbient, Source: app.SourceSlack, Title: "shared", CreatorID: viewerOf(t, s, "ana").User.ID,
			TeamID: teamID(t, s, "ana", "red"), Visibility: app.VisibilityTeam}
		mustDo(t, s.CreateItem(ctx, it))
		params := map[string]string{":id": it.ID, ":slug": "red", ":token": fx.token, ":provider": "github", "*": "css/app.css"}
		htmlPages := 0
		for _, r := range fx.a.Server.Routes() {
			if r.Method != http.MethodGet {
				continue
			}
			path := r.Path
			for k, v := range params {
				path = strings.ReplaceAll(path, k, v)
			}
			for who, c := range map[string]*http.Client{"signed in": fx.clients["ana"], "signed out": fx.a.anonymous(t)} {
				var resp *http.Response
				var body string
				if r.Path == "/events" || strings.HasSuffix(r.Path, "/events/stream") {
					// A live stream never ends: its headers are what it has to show.
					resp = fx.a.streamHeaders(t, c, path)
				} else {
					resp, body = fx.a.get(t, c, path, nil)
				}
				if resp.StatusCode >= 500 {
					t.Errorf("GET %s %s: status %d", path, who, resp.StatusCode)
				}
				checkPage(t, "GET "+path+" "+who, resp, body)
				if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
					htmlPages++
				}
			}
		}
		if htmlPages < 8 {
			t.Errorf("only %d HTML pages checked; the routes were not exercised", htmlPages)
		}
		// Error pages and refusals too.
		for path, status := range map[string]int{"/no/such/page": http.StatusNotFound, "/runs/" + app.NewItemID(): http.StatusNotFound, "/teams/nope": http.StatusNotFound} {
			resp, body := fx.a.get(t, fx.clients["ana"], path, nil)
			if resp.StatusCode != status {
				t.Errorf("GET %s: status %d, want %d", path, resp.StatusCode, status)
			}
			checkPage(t, "GET "+path, resp, body)
		}
		resp := fx.a.postForm(t, fx.clients["ana"], "/teams", url.Values{"name": {"x"}}, http.Header{"Accept": {"text/html"}})
		checkPage(t, "a refused POST", resp, "")
	})
}

func TestSignInIsRateLimitedPerClient(t *testing.T) {
	a := newTestApp(t, sqliteStore(t), nil)
	c := a.anonymous(t)
	for i := range 20 {
		if resp, _ := a.get(t, c, "/auth/github", nil); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("request %d: status %d, want 404 (no such provider)", i+1, resp.StatusCode)
		}
	}
	resp, body := a.get(t, c, "/auth/github", http.Header{"Accept": {"text/html"}})
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Too many sign-in attempts") {
		t.Errorf("request 21: status %d, want 429 saying why", resp.StatusCode)
	}
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || secs < 1 {
		t.Errorf("Retry-After %q, want whole seconds", resp.Header.Get("Retry-After"))
	}
	// The client's address is the connection's: a forwarded-for header,
	// which anyone can send, does not buy a fresh allowance.
	if resp, _ := a.get(t, c, "/auth/demo", http.Header{"X-Forwarded-For": {"203.0.113.9"}, "X-Real-Ip": {"203.0.113.9"}}); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("with a forged X-Forwarded-For: status %d, want 429", resp.StatusCode)
	}
	if resp, _ := a.get(t, c, "/signin", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("the sign-in page itself: status %d, want 200 (only /auth/ is limited)", resp.StatusCode)
	}
}

func TestBehindATrustedProxyTheForwardedClientCounts(t *testing.T) {
	_, loopback, _ := net.ParseCIDR("127.0.0.1/32")
	a := newTestApp(t, sqliteStore(t), func(cfg *config.Config) { cfg.TrustedProxies = []*net.IPNet{loopback} })
	c := a.anonymous(t)
	from := func(client string) http.Header { return http.Header{"X-Forwarded-For": {client}} }
	for i := range 20 {
		if resp, _ := a.get(t, c, "/auth/github", from("203.0.113.9")); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("request %d: status %d, want 404", i+1, resp.StatusCode)
		}
	}
	if resp, _ := a.get(t, c, "/auth/github", from("203.0.113.9")); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("client 203.0.113.9, request 21: status %d, want 429", resp.StatusCode)
	}
	if resp, _ := a.get(t, c, "/auth/github", from("198.51.100.7")); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another client behind the same proxy: status %d, want 404 (its own allowance)", resp.StatusCode)
	}
	// A client cannot claim to be someone else: only what the trusted
	// proxy appended counts, and that is the rightmost address.
	if resp, _ := a.get(t, c, "/auth/github", from("198.51.100.8, 203.0.113.9")); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("203.0.113.9 prefixing a made-up address: status %d, want 429", resp.StatusCode)
	}
}

// streamHeaders opens a never-ending response, reads its status and headers,
// and hangs up.
func (a *testApp) streamHeaders(t *testing.T, c *http.Client, path string) *http.Response {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}
