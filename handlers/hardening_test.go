package handlers_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/config"
	"github.com/agentdeck/agentdeck/handlers"
)

func TestTheAPIStoresNulAndInvalidTextAsReplacementCharacters(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		r := w.as(t, "maya", "POST", "/api/v1/runs", `{"kind":"ambient","title":"a\u0000b \u0000","team":"platform"}`)
		wantStatus(t, "create with NUL in the title", r, http.StatusCreated)
		id, _ := r.JSON(t)["id"].(string)
		if got := r.JSON(t)["title"]; got != "a\uFFFDb \uFFFD" {
			t.Errorf("title %q, want a\uFFFDb \uFFFD", got)
		}
		r = w.as(t, "maya", "PATCH", "/api/v1/runs/"+id, `{"title":"c\u0000d"}`)
		wantStatus(t, "change with NUL in the title", r, http.StatusOK)
		if got := r.JSON(t)["title"]; got != "c\uFFFDd" {
			t.Errorf("changed title %q, want c\uFFFDd", got)
		}
		r = w.as(t, "maya", "POST", "/api/v1/runs", `{"kind":"ambient","title":"t","team":"platform\u0000"}`)
		wantStatus(t, "create in a team slug with NUL", r, http.StatusUnprocessableEntity)

		r = w.as(t, "maya", "POST", "/api/v1/runs/"+id+"/events",
			`{"events":[{"seq":1,"type":"log","text":"x\u0000y","data":{"k\u0000":"v\u0000","n":2.50}}]}`)
		wantStatus(t, "events with NUL in text and data", r, http.StatusOK)
		r = w.as(t, "maya", "GET", "/api/v1/runs/"+id+"/events", nil)
		var got struct {
			Events []struct {
				Text string
				Data map[string]any
			}
		}
		if err := json.Unmarshal(r.Body, &got); err != nil || len(got.Events) != 1 {
			t.Fatalf("events %s: %v", r.Body, err)
		}
		if e := got.Events[0]; e.Text != "x\uFFFDy" || e.Data["k\uFFFD"] != "v\uFFFD" || e.Data["n"] != 2.5 {
			t.Errorf("stored event %+v, want NUL as U+FFFD in its text, key and value", e)
		}
		for _, c := range []struct{ number, field string }{{"1e-20000", "events[0].data.n"}, {"1e400", "events[0].data.n"}} {
			r = w.as(t, "maya", "POST", "/api/v1/runs/"+id+"/events", `{"events":[{"seq":2,"type":"log","data":{"n":`+c.number+`}}]}`)
			wantStatus(t, "a data number of "+c.number, r, http.StatusBadRequest)
			if f := r.errorField(t); f != c.field {
				t.Errorf("a data number of %s: field %q, want %q", c.number, f, c.field)
			}
		}
		r = w.as(t, "maya", "POST", "/api/v1/runs", `{"kind":"interactive","title":"t","open_url":"search-ms:query=x"}`)
		wantStatus(t, "an open_url of a scheme not allowed", r, http.StatusBadRequest)
	})
}

func TestEveryAnswerNamesItsRequest(t *testing.T) {
	w := newAPIWorld(t, sqliteStore(t), nil)
	r := w.as(t, "maya", "GET", "/api/v1/runs/"+app.NewItemID(), nil)
	wantStatus(t, "an unknown run", r, http.StatusNotFound)
	id := r.Header.Get("X-Request-Id")
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(id) {
		t.Fatalf("X-Request-Id %q, want 16 hex digits", id)
	}
	e, _ := r.JSON(t)["error"].(map[string]any)
	if e["request_id"] != id {
		t.Errorf("the error names request %v, the header %s", e["request_id"], id)
	}
	if other := w.as(t, "maya", "GET", "/api/v1/runs", nil).Header.Get("X-Request-Id"); other == "" || other == id {
		t.Errorf("the next request's id is %q, want a new one", other)
	}
}

func TestCSRFTokenCountsOnlyInTheBodyOrAHeaderAndNeverCrossSite(t *testing.T) {
	a := usersApp(t, sqliteStore(t), nil, "ana")
	ana := a.signIn(t, "ana")
	token := sessionCSRFToken(t, a, ana)
	form := url.Values{"name": {"Fresh"}}
	for _, c := range []struct {
		name   string
		path   string
		form   url.Values
		header http.Header
		status int
	}{
		{"the token in the query string", "/teams?csrf=" + url.QueryEscape(token), form, nil, http.StatusForbidden},
		{"the token, from another site by Sec-Fetch-Site", "/teams", withField(form, "csrf", token), http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden},
		{"the token, from a sibling site by Sec-Fetch-Site", "/teams", withField(form, "csrf", token), http.Header{"Sec-Fetch-Site": {"same-site"}}, http.StatusForbidden},
		{"the token, from another site by Origin", "/teams", withField(form, "csrf", token), http.Header{"Origin": {"https://evil.example"}}, http.StatusForbidden},
		{"the header token, from another site by Origin", "/teams", form, http.Header{"Origin": {"https://evil.example"}, "X-Csrf-Token": {token}}, http.StatusForbidden},
		{"the token, from this site by Sec-Fetch-Site", "/teams", withField(form, "csrf", token), http.Header{"Sec-Fetch-Site": {"same-origin"}}, http.StatusSeeOther},
		{"the token, from this site by Origin", "/teams", withField(form, "csrf", token), http.Header{"Origin": {a.URL}}, http.StatusSeeOther},
		{"the token, from a client that is no browser", "/teams", withField(form, "csrf", token), nil, http.StatusSeeOther},
		{"the token in the header", "/teams", form, http.Header{"X-Csrf-Token": {token}}, http.StatusSeeOther},
	} {
		if resp := a.postForm(t, ana, c.path, c.form, c.header); resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.name, resp.StatusCode, c.status)
		}
	}
}

func TestCreatingATeamSaysNothingOfTeamsOneCannotSee(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		tomas := w.signIn(t, "tomas") // not in platform
		if resp, _ := w.get(t, tomas, "/teams/platform", nil); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("tomas sees platform: status %d", resp.StatusCode)
		}
		resp, _ := w.post(t, tomas, "/teams", "/teams", url.Values{"name": {"Platform"}}, nil)
		if at := location(t, resp, http.StatusSeeOther).Path; !regexp.MustCompile(`^/teams/platform-[a-z0-9]{6}$`).MatchString(at) {
			t.Errorf("tomas's new team Platform is at %s, want /teams/platform-XXXXXX, as it would be were there no other", at)
		}
	})
}

func TestLiveTokensPerPersonAreCapped(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		a := usersApp(t, s, nil, "ana")
		s.SetMaxTokensPerUser(2)
		ana := a.signIn(t, "ana")
		create := func(name string) (*http.Response, string) {
			return a.post(t, ana, "/settings/tokens", "/settings/tokens", url.Values{"name": {name}}, nil)
		}
		for _, name := range []string{"one", "two"} {
			if resp, _ := create(name); resp.StatusCode != http.StatusOK {
				t.Fatalf("token %s: status %d", name, resp.StatusCode)
			}
		}
		resp, body := create("three")
		expect(t, "a third live token", resp, body, http.StatusUnprocessableEntity, "revoke one you no longer use first")
		tokens, err := s.AccessTokens(context.Background(), viewerOf(t, s, "ana").User.ID)
		mustDo(t, err)
		mustDo(t, s.RevokeAccessToken(context.Background(), tokens[0].UserID, tokens[0].ID))
		if resp, _ := create("three"); resp.StatusCode != http.StatusOK {
			t.Errorf("a token after revoking one: status %d, want 200", resp.StatusCode)
		}
	})
}

func TestAPersonsTokensShareOneRateLimit(t *testing.T) {
	// At 0.01 requests a second a token may make one request now, and all
	// of a person's tokens together two.
	w := newAPIWorld(t, sqliteStore(t), func(cfg *config.Config) { cfg.APIRateLimit = 0.01 })
	maya := viewerOf(t, w.Store, "maya")
	var tokens []string
	for range 3 {
		_, secret, err := w.Store.CreateAccessToken(context.Background(), maya.User.ID, "minted", time.Time{})
		mustDo(t, err)
		tokens = append(tokens, secret)
	}
	for i, c := range []struct {
		token  string
		status int
	}{{tokens[0], http.StatusOK}, {tokens[0], http.StatusTooManyRequests}, {tokens[1], http.StatusOK}, {tokens[2], http.StatusTooManyRequests}} {
		r := w.call(t, c.token, "GET", "/api/v1/runs", nil, nil)
		if r.Status != c.status {
			t.Errorf("request %d: status %d, want %d", i+1, r.Status, c.status)
		}
	}
	// Another person is not held back by maya.
	wantStatus(t, "jonas", w.as(t, "jonas", "GET", "/api/v1/runs", nil), http.StatusOK)
}

func TestATeamFullOfItemsAtTheMostCreditsStillShowsAll(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		ctx := context.Background()
		jonas := viewerOf(t, s, "jonas")
		// Before, 4,612 items at the most credits overflowed the summary's sum.
		items := make([]*app.Item, 5000)
		for i := range items {
			items[i] = &app.Item{ID: app.NewItemID(), Kind: app.KindAmbient, Source: app.SourceSlack, Status: app.StatusWorking,
				Title: "expensive", CreatorID: jonas.User.ID, TeamID: w.teams["platform"].ID, Visibility: app.VisibilityTeam,
				Inference: app.MaxCredits, Compute: app.MaxCredits, CreatedAt: w.now, UpdatedAt: w.now}
		}
		for start := 0; start < len(items); start += 1000 {
			chunk := items[start:min(start+1000, len(items))]
			if _, err := s.DB().NewInsert().Model(&chunk).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		maya := w.signIn(t, "maya")
		if resp, _ := w.get(t, maya, "/?tab=all", nil); resp.StatusCode != http.StatusOK {
			t.Errorf("the All view: status %d, want 200", resp.StatusCode)
		}
		if resp, _ := w.get(t, maya, "/?tab=all", htmx("filters")); resp.StatusCode != http.StatusOK {
			t.Errorf("the All view's fragment: status %d, want 200", resp.StatusCode)
		}
		if resp := w.streamHeaders(t, maya, "/events?tab=all"); resp.StatusCode != http.StatusOK {
			t.Errorf("the All view's live stream: status %d, want 200", resp.StatusCode)
		}
		wantStatus(t, "the API's All", w.as(t, "maya", "GET", "/api/v1/runs?tab=all", nil), http.StatusOK)
	})
}

func TestSixteenWritersOfOneRunGetNoServerError(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, func(cfg *config.Config) { cfg.APIRateLimit = 1e9 })
		r := w.as(t, "maya", "POST", "/api/v1/runs", `{"kind":"ambient","title":"busy"}`)
		wantStatus(t, "create", r, http.StatusCreated)
		id, _ := r.JSON(t)["id"].(string)
		// Each writer sends seqs 1..1000 in batches of 50, half of them
		// from the top down.
		var wg sync.WaitGroup
		statuses := make(chan int, 16*20)
		for wr := range 16 {
			wg.Go(func() {
				for b := range 20 {
					var events []string
					for i := range 50 {
						seq := b*50 + i + 1
						if wr%2 == 1 {
							seq = 1000 - b*50 - i
						}
						events = append(events, fmt.Sprintf(`{"seq":%d,"type":"log","text":"line %d"}`, seq, seq))
					}
					statuses <- w.call(t, w.tokens["maya"], "POST", "/api/v1/runs/"+id+"/events", `{"events":[`+strings.Join(events, ",")+`]}`, nil).Status
				}
			})
		}
		wg.Wait()
		close(statuses)
		for st := range statuses {
			if st != http.StatusOK {
				t.Errorf("an append answered %d, want 200", st)
			}
		}
		page, err := s.Events(context.Background(), id, app.EventQuery{Limit: app.MaxEventBatch})
		mustDo(t, err)
		if len(page.Events) != 1000 {
			t.Errorf("%d events stored, want 1000, each once", len(page.Events))
		}
	})
}

// limitedServer serves s with Serve on a loopback port, in demo mode, with
// its configuration changed first: what Serve adds (the body timeout, the
// connection limits) is only there.
func limitedServer(t *testing.T, s *app.Store, configure func(*config.Config)) *testApp {
	t.Helper()
	cfg := config.Config{Command: config.CommandServe, Addr: "127.0.0.1:0", DataDir: t.TempDir(), Demo: true, SessionKeys: []string{testSessionKey}}
	configure(&cfg)
	srv, err := handlers.New(cfg, s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-served })
	return &testApp{Store: s, URL: "http://" + ln.Addr().String(), Server: srv}
}

// answerOrHangUp reads what the server says on conn until it hangs up,
// failing the test if that takes longer than limit.
func answerOrHangUp(t *testing.T, conn net.Conn, limit time.Duration) string {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(limit))
	b, err := io.ReadAll(conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the server still holds the connection after %s", limit)
	}
	return string(b)
}

func TestASlowBodyIsCutOffAndItsConnectionFreed(t *testing.T) {
	a := limitedServer(t, sqliteStore(t), func(cfg *config.Config) { cfg.BodyTimeout = 300 * time.Millisecond })
	addr := strings.TrimPrefix(a.URL, "http://")
	for _, path := range []string{"/teams", "/api/v1/runs"} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// 60,000 bytes promised; one sent, and then nothing.
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 60000\r\n\r\nn", path, addr)
		start := time.Now()
		answerOrHangUp(t, conn, 10*time.Second)
		if took := time.Since(start); took < 300*time.Millisecond {
			t.Errorf("POST %s: cut off after %s, before its body timeout", path, took)
		}
	}
}

func TestALiveStreamOutlivesTheBodyTimeout(t *testing.T) {
	s := sqliteStore(t)
	ana := &app.User{Handle: "ana", Name: "ana"}
	mustDo(t, s.CreateUser(context.Background(), ana))
	a := limitedServer(t, s, func(cfg *config.Config) { cfg.BodyTimeout = 100 * time.Millisecond })
	it := &app.Item{Kind: app.KindAmbient, Source: app.SourceCLI, Title: "long", CreatorID: ana.ID}
	mustDo(t, s.CreateItem(context.Background(), it))
	c := a.signIn(t, "ana")
	req, err := http.NewRequest(http.MethodGet, a.URL+"/runs/"+it.ID+"/events/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the run's live log: status %d", resp.StatusCode)
	}
	// A slow body on another connection, cut off, shows that the body
	// timeout has passed; the stream, which sent no body, goes on.
	slow, err := net.Dial("tcp", strings.TrimPrefix(a.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprintf(slow, "POST /teams HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nn")
	answerOrHangUp(t, slow, 10*time.Second)
	_, _, err = s.AppendEvents(context.Background(), viewerOf(t, s, "ana"), it.ID, []*app.Event{{Seq: 1, Type: app.EventLog, Text: "still-streaming"}})
	mustDo(t, err)
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() {
		if strings.Contains(lines.Text(), "still-streaming") {
			return
		}
	}
	t.Errorf("the stream ended (%v) before the line appended after the body timeout", lines.Err())
}

func TestConnectionsPerClientAddressAreBounded(t *testing.T) {
	a := limitedServer(t, sqliteStore(t), func(cfg *config.Config) { cfg.ConnsPerAddress = 3 })
	addr := strings.TrimPrefix(a.URL, "http://")
	healthy := func(conn net.Conn) bool {
		fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		status, err := bufio.NewReader(conn).ReadString('\n')
		return err == nil && strings.Contains(status, "200")
	}
	for i := range 3 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if !healthy(conn) {
			t.Fatalf("connection %d was refused; 3 are allowed", i+1)
		}
	}
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	if healthy(extra) {
		t.Error("a fourth connection from the same address was served; 3 are allowed")
	}
}
