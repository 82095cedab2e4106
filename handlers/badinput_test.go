package handlers_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/config"
)

// badRequest is one request of the bad-input corpus.
type badRequest struct {
	from   string // where it comes from, for failures: a line of the file, or what made it
	who    string // anon, web or api
	method string
	path   string
	header http.Header
	kind   string // form, json, raw or ""
	body   string
}

// badSegments stand in for one path segment at a time: NUL, invalid UTF-8,
// text that is valid but odd, and a long segment.
var badSegments = []string{"%00", "a%00b", "%FF", "%C3%28", "%E2%80%AE", "%2e%2e", "{long:3000}"}

// badQuery gives every query parameter the app reads a bad value.
const badQuery = "tab=%00&source=%00&status=%FF&creator=a%00b&day=%00&tz=%00&cursor=%00&limit=%00&type=%00&next=%00&before=%00&after=%00&seen=%00&code=%00&state=%00&q=a%00b&search=%FF&query=%00"

// badForms give every form field the app reads a bad value.
var badForms = []string{
	"name=a%00b&role=a%00b&user=a%00b&next=%00&expires=%00",
	"name=%FF%FE&role=%FF&user=%C3%28&next=%FF&expires=%FF",
}

// TestBadInputNeverFailsTheServer sends the bad-input corpus
// (testdata/badinput.txt) and, for every route of the router, each path
// segment replaced by bad text, bad query parameters and bad form fields:
// no answer may be a 500 or more. Every request comes from an address of
// its own, behind a trusted proxy, and the API's rate is unbounded, so that
// no rate limit answers in a handler's place.
func TestBadInputNeverFailsTheServer(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		_, loopback, _ := net.ParseCIDR("127.0.0.1/32")
		w := newAPIWorld(t, s, func(cfg *config.Config) {
			cfg.APIRateLimit = 1e9
			cfg.TrustedProxies = []*net.IPNet{loopback}
		})
		values := badInputWorld(t, w)
		web := w.signIn(t, "maya")
		csrf := sessionCSRFToken(t, w.testApp, web)
		clients := map[string]*http.Client{"web": web, "anon": w.anonymous(t), "api": w.anonymous(t)}

		requests := readBadInput(t, "testdata/badinput.txt")
		requests = append(requests, routeRequests(w.testApp, values)...)
		refused, failed := 0, 0
		for i, r := range requests {
			status, body := w.sendBad(t, clients[r.who], r, values, csrf, i)
			switch {
			case status >= 500:
				failed++
				t.Errorf("%s: %s %s as %s: status %d: %s", r.from, r.method, clipped(r.path), r.who, status, body)
			case status == http.StatusTooManyRequests:
				t.Errorf("%s: %s %s as %s: rate limited, so the handler was not tried", r.from, r.method, clipped(r.path), r.who)
			case status >= 400:
				refused++
			}
		}
		t.Logf("%d bad requests: %d refused with a 4xx, %d failed with a 5xx", len(requests), refused, failed)
	})
}

// badInputWorld makes what the corpus's placeholders name and returns their
// values.
func badInputWorld(t *testing.T, w *apiWorld) map[string]string {
	t.Helper()
	ctx := context.Background()
	maya := viewerOf(t, w.Store, "maya")
	run, _, err := w.Store.CreateRun(ctx, maya, app.NewRun{Kind: app.KindAmbient, Title: "target", Team: "platform"})
	mustDo(t, err)
	spare, _, err := w.Store.CreateAccessToken(ctx, maya.User.ID, "spare", time.Time{})
	mustDo(t, err)
	invite, inv, err := w.Store.CreateInvite(ctx, maya, w.teams["platform"].ID)
	mustDo(t, err)
	share, err := w.Store.CreateShareLink(ctx, maya, run.ID)
	mustDo(t, err)
	return map[string]string{
		"{run}": run.ID, "{team}": "platform", "{member}": "jonas", "{token_id}": itoa(spare.ID),
		"{invite_id}": itoa(inv.ID), "{invite}": invite, "{share}": share,
	}
}

// readBadInput parses the corpus file.
func readBadInput(t *testing.T, path string) []badRequest {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []badRequest
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := badRequest{from: fmt.Sprintf("%s:%d", path, n), header: http.Header{}}
		rest := line
		next := func() string {
			tok, after, _ := strings.Cut(rest, " ")
			rest = after
			return tok
		}
		r.who, r.method, r.path = next(), next(), next()
		for rest != "" {
			tok := next()
			if tok == "form" || tok == "json" || tok == "raw" {
				r.kind, r.body = tok, rest
				break
			}
			name, value, ok := strings.Cut(tok, ":")
			if !ok {
				t.Fatalf("%s: %q is neither a header nor a body kind", r.from, tok)
			}
			r.header.Add(name, value)
		}
		switch r.who {
		case "anon", "web", "api":
		default:
			t.Fatalf("%s: unknown WHO %q", r.from, r.who)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 100 {
		t.Fatalf("only %d requests in %s", len(out), path)
	}
	return out
}

// routeRequests makes bad requests of every route of the router, so that a
// route added later is covered without a word here: each path segment in
// turn replaced by each of badSegments, the others as they should be; then
// every GET with bad query parameters; then every form with bad fields.
func routeRequests(a *testApp, values map[string]string) []badRequest {
	var byPath, byQuery, byForm []badRequest
	for _, route := range a.Server.Routes() {
		if route.Method == "echo_route_not_found" {
			continue
		}
		whos := []string{"web", "anon"}
		kind, body := "form", ""
		if strings.HasPrefix(route.Path, "/api/") || strings.HasPrefix(route.Path, "/v1/") {
			whos, kind, body = []string{"api"}, "json", "{}"
		}
		if route.Method == http.MethodGet {
			kind, body = "", ""
		}
		segments := strings.Split(strings.TrimPrefix(route.Path, "/"), "/")
		good := make([]string, len(segments))
		for i, seg := range segments {
			good[i] = segmentValue(route.Path, seg, values)
		}
		for i := range segments {
			for _, bad := range badSegments {
				path := slicesReplace(good, i, bad)
				for _, who := range whos {
					byPath = append(byPath, badRequest{from: "route " + route.Method + " " + route.Path + ", segment " + strconv.Itoa(i+1),
						who: who, method: route.Method, path: path, kind: kind, body: body})
				}
			}
		}
		path := "/" + strings.Join(good, "/")
		for _, who := range whos {
			if route.Method == http.MethodGet {
				byQuery = append(byQuery, badRequest{from: "route " + route.Method + " " + route.Path + ", query",
					who: who, method: route.Method, path: path + "?" + badQuery})
			}
		}
		// Signing out would end the session the rest uses.
		if route.Method == http.MethodPost && kind == "form" && route.Path != "/signout" {
			for _, form := range badForms {
				byForm = append(byForm, badRequest{from: "route " + route.Method + " " + route.Path + ", form",
					who: "web", method: route.Method, path: path, kind: "form", body: form})
			}
		}
	}
	return append(append(byPath, byQuery...), byForm...)
}

// segmentValue is what a path segment of a route should be for maya.
func segmentValue(route, seg string, values map[string]string) string {
	switch seg {
	case ":slug":
		return values["{team}"]
	case ":handle":
		return values["{member}"]
	case ":provider":
		return "github"
	case ":agent":
		return "claude-code"
	case "*":
		return "css/app.css"
	case ":token":
		if strings.HasPrefix(route, "/share/") {
			return values["{share}"]
		}
		return values["{invite}"]
	case ":id":
		switch {
		case strings.HasPrefix(route, "/settings/tokens/"):
			return values["{token_id}"]
		case strings.Contains(route, "/invites/"):
			return values["{invite_id}"]
		}
		return values["{run}"]
	}
	return seg
}

func slicesReplace(segments []string, i int, v string) string {
	out := append([]string(nil), segments...)
	out[i] = v
	return "/" + strings.Join(out, "/")
}

var longText = regexp.MustCompile(`\{long:(\d+)\}`)

// expand fills in the placeholders.
func expand(s string, values map[string]string) string {
	for k, v := range values {
		s = strings.ReplaceAll(s, k, v)
	}
	return longText.ReplaceAllStringFunc(s, func(m string) string {
		n, _ := strconv.Atoi(longText.FindStringSubmatch(m)[1])
		return strings.Repeat("x", n)
	})
}

// sendBad sends one request of the corpus as its WHO and returns the status
// and, for a failure, the start of the body. i makes the client's address,
// which a trusted proxy reports, its own.
func (w *apiWorld) sendBad(t *testing.T, c *http.Client, r badRequest, values map[string]string, csrf string, i int) (int, string) {
	t.Helper()
	body := expand(r.body, values)
	if r.kind == "raw" {
		decoded, err := url.PathUnescape(strings.ReplaceAll(body, "+", "%2B"))
		if err != nil {
			t.Fatalf("%s: the raw body does not decode: %v", r.from, err)
		}
		body = decoded
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.method, w.URL+expand(r.path, values), strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", r.from, err)
	}
	switch r.kind {
	case "form":
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case "json", "raw":
		req.Header.Set("Content-Type", "application/json")
	}
	for name, vs := range r.header {
		for _, v := range vs {
			decoded, err := url.PathUnescape(expand(v, values))
			if err != nil {
				t.Fatalf("%s: header %s does not decode: %v", r.from, name, err)
			}
			req.Header.Add(name, decoded)
		}
	}
	req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
	switch r.who {
	case "api":
		req.Header.Set("Authorization", "Bearer "+w.tokens["maya"])
	case "web":
		req.Header.Set("Accept", "text/html")
		if r.method != http.MethodGet {
			req.Header.Set("X-CSRF-Token", csrf)
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s: %s %s: %v", r.from, r.method, clipped(r.path), err)
	}
	defer resp.Body.Close()
	// A live stream never ends: its status is all there is to check.
	if resp.StatusCode < 500 {
		return resp.StatusCode, ""
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
	return resp.StatusCode, string(b)
}

func clipped(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}
