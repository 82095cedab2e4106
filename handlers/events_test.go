package handlers_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
	"github.com/agentdeck/agentdeck/config"
	"github.com/agentdeck/agentdeck/handlers"
)

// eventWait bounds how long a test waits for an event that must come.
const eventWait = 10 * time.Second

// sseEvent is one Server-Sent Event as a browser would assemble it; ID is
// its own id field, if it has one.
type sseEvent struct {
	Name, Data, ID string
}

// sseStream reads a live stream in the background.
type sseStream struct {
	resp   *http.Response
	events chan sseEvent
	done   chan struct{} // closed when the stream ended
	retry  string        // the last reconnection delay the server gave, in ms
}

// lastRetry is the last reconnection delay the server gave; read it once
// the stream ended.
func (s *sseStream) lastRetry() string {
	<-s.done
	return s.retry
}

// openStream opens GET path as an event stream with c's cookies, and returns
// once the server answered, when the stream is registered.
func (a *testApp) openStream(t testing.TB, c *http.Client, path string) *sseStream {
	t.Helper()
	return a.openStreamWith(t, c, path, nil)
}

// openStreamWith is openStream with extra request headers.
func (a *testApp) openStreamWith(t testing.TB, c *http.Client, path string, header http.Header) *sseStream {
	t.Helper()
	streaming := *c
	streaming.Timeout = 0 // the stream outlives any request timeout
	req, err := http.NewRequest(http.MethodGet, a.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := streaming.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: status %d, type %q, body %q; want a 200 event stream", path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	s := &sseStream{resp: resp, events: make(chan sseEvent, 256), done: make(chan struct{})}
	go s.read()
	return s
}

func (s *sseStream) read() {
	defer close(s.done)
	sc := bufio.NewScanner(s.resp.Body)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	var ev sseEvent
	var data []string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.Name != "" || data != nil {
				ev.Data = strings.Join(data, "\n")
				s.events <- ev
			}
			ev, data = sseEvent{}, nil
		case strings.HasPrefix(line, "event: "):
			ev.Name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = append(data, strings.TrimPrefix(line, "data: "))
		case strings.HasPrefix(line, "id: "):
			ev.ID = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "retry: "):
			s.retry = strings.TrimPrefix(line, "retry: ")
		}
	}
}

// next returns the next event, failing when none comes in time.
func (s *sseStream) next(t testing.TB) sseEvent {
	t.Helper()
	select {
	case ev := <-s.events:
		return ev
	case <-s.done:
		select {
		case ev := <-s.events:
			return ev
		default:
		}
		t.Fatal("the stream ended; want an event")
	case <-time.After(eventWait):
		t.Fatalf("no event within %s", eventWait)
	}
	return sseEvent{}
}

// until returns the events up to and including the first that satisfies
// stop.
func (s *sseStream) until(t testing.TB, stop func(sseEvent) bool) []sseEvent {
	t.Helper()
	var got []sseEvent
	for {
		ev := s.next(t)
		got = append(got, ev)
		if stop(ev) {
			return got
		}
	}
}

// rowOf says whether an event carries the row of an item.
func rowOf(id string) func(sseEvent) bool {
	return func(ev sseEvent) bool { return ev.Name == "item" && strings.Contains(ev.Data, `id="item-`+id+`"`) }
}

// mentions reports whether an event names the item in any way.
func mentions(ev sseEvent, id string) bool { return strings.Contains(ev.Data, id) }

// working creates a working ambient run owned by the user with the handle.
func working(t testing.TB, s *app.Store, handle, title string, spec func(*app.Item)) *app.Item {
	t.Helper()
	u, err := s.UserByHandle(context.Background(), handle)
	if err != nil {
		t.Fatal(err)
	}
	it := &app.Item{Kind: app.KindAmbient, Source: app.SourceCLI, Status: app.StatusWorking, Title: title,
		CreatorID: u.ID, StartedAt: s.Now().Add(-65 * time.Second)}
	if spec != nil {
		spec(it)
	}
	if err := s.CreateItem(context.Background(), it); err != nil {
		t.Fatal(err)
	}
	return it
}

// summaryText is the summary line the view shows a viewer, as the store
// counts it.
func summaryText(t testing.TB, s *app.Store, handle, rawQuery string) string {
	t.Helper()
	ctx := context.Background()
	u, err := s.UserByHandle(ctx, handle)
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Viewer(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := app.ParseFilter(q)
	query, _, _, err := s.ResolveFilter(ctx, v, f)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := s.Summary(ctx, query)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d items</span> ·\n    <span data-summary-working>%d working now", sum.Items, sum.Working)
}

func TestEventsSendNewAndChangedRowsAndTheSummary(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		a := seededApp(t, s)
		maya := a.signIn(t, "maya")
		stream := a.openStream(t, maya, "/events?tab=all")
		if ev := stream.next(t); ev.Name != "results" || !strings.Contains(ev.Data, `id="results"`) {
			t.Fatalf("first event without the page's digest: %q; want the results to catch up", ev.Name)
		}

		it := working(t, s, "maya", "Live: nightly build", nil)
		got := stream.until(t, rowOf(it.ID))
		row := got[len(got)-1].Data
		for _, want := range []string{"Live: nightly build", "status--working", "1m 05s", "data-started="} {
			if !strings.Contains(row, want) {
				t.Errorf("the new row lacks %q:\n%s", want, row)
			}
		}
		sum := stream.next(t)
		if want := summaryText(t, s, "maya", "tab=all"); sum.Name != "summary" || !strings.Contains(sum.Data, want) {
			t.Errorf("after the new row got %s %q; want the summary saying %q", sum.Name, sum.Data, want)
		}

		if err := apptest.SetStatus(context.Background(), s, it.ID, app.StatusSuccess); err != nil {
			t.Fatal(err)
		}
		got = stream.until(t, rowOf(it.ID))
		row = got[len(got)-1].Data
		if !strings.Contains(row, "status--success") || strings.Contains(row, "data-started") {
			t.Errorf("the finished row should show success and no ticking duration:\n%s", row)
		}
		sum = stream.next(t)
		if want := summaryText(t, s, "maya", "tab=all"); sum.Name != "summary" || !strings.Contains(sum.Data, want) {
			t.Errorf("after finishing got %s %q; want the summary saying %q", sum.Name, sum.Data, want)
		}
	})
}

func TestEventsTakeOutARowThatNoLongerMatches(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		a := seededApp(t, s)
		maya := a.signIn(t, "maya")
		stream := a.openStream(t, maya, "/events?status=working")
		stream.next(t) // catching up
		it := working(t, s, "maya", "Live: soon done", nil)
		stream.until(t, rowOf(it.ID))
		if err := apptest.SetStatus(context.Background(), s, it.ID, app.StatusFailed); err != nil {
			t.Fatal(err)
		}
		got := stream.until(t, func(ev sseEvent) bool { return ev.Name == "gone" })
		if last := got[len(got)-1]; last.Data != it.ID {
			t.Errorf("gone event names %q; want %s", last.Data, it.ID)
		}
	})
}

// liveAttr finds the view's live connection (the navigation has one of its
// own, for Needs attention).
var liveAttr = regexp.MustCompile(`id="live" class="live" hx-ext="sse" sse-connect="([^"]+)"`)

func TestEventsCatchUpOnlyWhenThePageIsStale(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		a := seededApp(t, s)
		maya := a.signIn(t, "maya")
		_, page := a.get(t, maya, "/?tab=all&source=cli", nil)
		m := liveAttr.FindStringSubmatch(page)
		if m == nil {
			t.Fatal("the view has no live connection (sse-connect)")
		}
		live := strings.ReplaceAll(m[1], "&amp;", "&")
		if !strings.HasPrefix(live, "/events?tab=all&source=cli&seen=") {
			t.Fatalf("live address %q; want the view's filters and the digest of what it shows", live)
		}

		fresh := a.openStream(t, maya, live)
		it := working(t, s, "maya", "Live: after the page", nil)
		if ev := fresh.next(t); !rowOf(it.ID)(ev) {
			t.Errorf("a stream opened with the page's digest sent %s first; want no catch-up, only the new row", ev.Name)
		}

		stale := a.openStream(t, maya, live) // as after a restart: the page predates the new item
		ev := stale.next(t)
		if ev.Name != "results" || !strings.Contains(ev.Data, "item-"+it.ID) {
			t.Errorf("a stream opened with a stale digest sent %s first; want the results, new row included", ev.Name)
		}
	})
}

// TestEventsNeverTellAboutItemsTheViewerMayNotSee follows the demo teams:
// maya is in platform, tomas in product, priya in both.
func TestEventsNeverTellAboutItemsTheViewerMayNotSee(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		a := seededApp(t, s)
		ctx := context.Background()
		// maya's one team is platform, tomas's is product.
		teamOf := map[string]int64{}
		for slug, member := range map[string]string{"platform": "maya", "product": "tomas"} {
			u, err := s.UserByHandle(ctx, member)
			if err != nil {
				t.Fatal(err)
			}
			v, err := s.Viewer(ctx, u.ID)
			if err != nil || len(v.TeamIDs) != 1 {
				t.Fatalf("%s's teams: %v, %v; want one", member, v.TeamIDs, err)
			}
			teamOf[slug] = v.TeamIDs[0]
		}
		team := func(slug string, vis app.Visibility) func(*app.Item) {
			return func(it *app.Item) { it.TeamID, it.Visibility = teamOf[slug], vis }
		}
		viewers := []string{"maya", "tomas", "priya"}
		streams := map[string]*sseStream{}
		for _, h := range viewers {
			for _, tab := range []string{"personal", "all"} {
				st := a.openStream(t, a.signIn(t, h), "/events?tab="+tab)
				st.next(t) // catching up
				streams[h+" "+tab] = st
			}
		}

		items := []struct {
			it      *app.Item
			mayView []string
		}{
			{working(t, s, "priya", "priya private, team platform", team("platform", app.VisibilityPrivate)), []string{"priya"}},
			{working(t, s, "tomas", "tomas shared with product", team("product", app.VisibilityTeam)), []string{"tomas", "priya"}},
			{working(t, s, "jonas", "jonas shared with platform", team("platform", app.VisibilityTeam)), []string{"maya", "priya"}},
			{working(t, s, "jonas", "jonas private", nil), nil},
			{working(t, s, "aiko", "aiko private, team product", team("product", app.VisibilityPrivate)), nil},
		}
		for _, c := range items {
			if err := apptest.SetStatus(ctx, s, c.it.ID, app.StatusSuccess); err != nil {
				t.Fatal(err)
			}
		}
		// Each viewer's own marker comes after everything above.
		markers := map[string]*app.Item{}
		for _, h := range viewers {
			markers[h] = working(t, s, h, h+" marker", nil)
		}

		for key, st := range streams {
			who := strings.Fields(key)[0]
			got := st.until(t, rowOf(markers[who].ID))
			for _, c := range items {
				may := false
				for _, h := range c.mayView {
					may = may || h == who
				}
				told := false
				for _, ev := range got {
					told = told || mentions(ev, c.it.ID)
				}
				if told && !may {
					t.Errorf("%s's stream told about %q, which %s may not see", key, c.it.Title, who)
				}
				if !told && may {
					t.Errorf("%s's stream said nothing about %q, which %s may see", key, c.it.Title, who)
				}
			}
		}
	})
}

func TestEventsRefuseBadRequests(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		a := seededApp(t, s)
		stream := func(c *http.Client, path string, header http.Header) *http.Response {
			if header == nil {
				header = http.Header{}
			}
			header.Set("Accept", "text/event-stream")
			resp, _ := a.get(t, c, path, header)
			return resp
		}
		if resp := stream(a.anonymous(t), "/events", nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("signed out: status %d; want 401", resp.StatusCode)
		}
		maya := a.signIn(t, "maya")
		if resp := stream(maya, "/events?tab=all&%zz", nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("malformed query string: status %d; want 400", resp.StatusCode)
		}

		// Unknown and malformed view parameters are ignored, as on the page;
		// and the stream is never compressed, which would hold messages back.
		resp := streamAskingForGzip(t, maya, a.URL+"/events?tab=nope&status=bogus&creator=nobody&cursor=x&extra=1")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "" {
			t.Errorf("stream with odd parameters: status %d, encoding %q; want 200, uncompressed", resp.StatusCode, resp.Header.Get("Content-Encoding"))
		}
	})
}

func TestEventsCrossReplicasThroughPostgres(t *testing.T) {
	dsn := apptest.PostgresDSN(t)
	storeA, storeB := apptest.Open(t, dsn), apptest.Open(t, dsn)
	seededApp(t, storeA) // seeds the shared database, served by replica A
	serverB := newTestApp(t, storeB, nil)

	stream := serverB.openStream(t, serverB.signIn(t, "maya"), "/events?tab=all")
	stream.next(t) // catching up
	it := working(t, storeA, "maya", "written through replica A", nil)
	stream.until(t, rowOf(it.ID))
	if err := apptest.SetStatus(context.Background(), storeA, it.ID, app.StatusSuccess); err != nil {
		t.Fatal(err)
	}
	got := stream.until(t, rowOf(it.ID))
	if row := got[len(got)-1].Data; !strings.Contains(row, "status--success") {
		t.Errorf("replica B's stream got the row without its new status:\n%s", row)
	}
}

// servedApp is a server running Serve, as agentdeck serve does, rather than
// under httptest.
type servedApp struct {
	*testApp
	cancel context.CancelFunc
	served chan error
}

// startServer serves store on addr ("127.0.0.1:0" for any port) until the
// test ends or stopWithin is called.
func startServer(t *testing.T, store *app.Store, addr string) *servedApp {
	t.Helper()
	cfg := config.Config{Command: config.CommandServe, Addr: addr, DataDir: t.TempDir(), Demo: true,
		SessionKeys: []string{strings.Repeat("test-session-key-", 3)},
		// The shutdown tests hold many streams of one browser session.
		StreamsPerSession: 1000, StreamsPerUser: 1000}
	srv, err := handlers.New(cfg, store, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sa := &servedApp{testApp: &testApp{Store: store, URL: "http://" + ln.Addr().String()}, cancel: cancel, served: make(chan error, 1)}
	go func() { sa.served <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-sa.served
	})
	return sa
}

// stopWithin shuts the server down and fails the test unless Serve returns
// within limit; it returns how long the shutdown took.
func (sa *servedApp) stopWithin(t *testing.T, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	sa.cancel()
	select {
	case err := <-sa.served:
		sa.served <- err // for the cleanup
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(limit):
		t.Fatalf("the server still runs %s after its shutdown began", limit)
	}
	return time.Since(start)
}

func TestShutdownEndsAHundredStreamsWithinTwoSeconds(t *testing.T) {
	s := apptest.SQLite(t)
	now := time.Date(2026, 11, 25, 15, 4, 5, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	if err := s.Seed(context.Background(), app.DemoSeed(now)); err != nil {
		t.Fatal(err)
	}
	a := startServer(t, s, "127.0.0.1:0")
	maya := a.signIn(t, "maya")

	const n = 100
	streams := make([]*sseStream, n)
	for i := range streams {
		streams[i] = a.openStream(t, maya, "/events?tab=all")
		streams[i].next(t) // registered and caught up
	}

	took := a.stopWithin(t, 2*time.Second)
	for i, st := range streams {
		select {
		case <-st.done:
		case <-time.After(eventWait):
			t.Fatalf("stream %d is still open after shutdown", i)
		}
	}
	t.Logf("shut down with %d open streams in %s", n, took)
}

// A connection that was opened and sent nothing, as a browser keeps one
// spare, does not hold the shutdown up: left to itself the HTTP server
// would wait five seconds for its first request.
func TestShutdownDoesNotWaitForAConnectionThatSentNothing(t *testing.T) {
	a := startServer(t, apptest.SQLite(t), "127.0.0.1:0")
	spare, err := net.Dial("tcp", strings.TrimPrefix(a.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer spare.Close()
	// The server holds the spare connection once a request on a later one
	// is answered: connections are accepted in the order they were opened.
	later := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := later.Get(a.URL + "/healthz"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}

	a.stopWithin(t, 2*time.Second)
	spare.SetReadDeadline(time.Now().Add(eventWait))
	if n, err := spare.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("the spare connection read %d bytes, %v; want it closed by the server", n, err)
	}
}

// streamAskingForGzip opens a stream as a browser that accepts gzip would,
// and returns the response, its body closed once the headers are read.
func streamAskingForGzip(t *testing.T, c *http.Client, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Accept-Encoding", "gzip")
	streaming := *c
	streaming.Timeout = 0
	resp, err := streaming.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// A write computes each open view's summary once, however many streams show
// that view: here six streams of three distinct views (maya's All in three
// tabs, her working runs in one, jonas's All in two) cost three summaries.
func TestEventsComputeOneSummaryPerDistinctView(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		a := seededApp(t, s)
		maya, jonas := a.signIn(t, "maya"), a.signIn(t, "jonas")
		type open struct {
			client *http.Client
			path   string
		}
		var streams []*sseStream
		for _, o := range []open{{maya, "/events?tab=all"}, {maya, "/events?tab=all"}, {maya, "/events?tab=all"},
			{maya, "/events?tab=all&status=working"}, {jonas, "/events?tab=all"}, {jonas, "/events?tab=all"}} {
			st := a.openStream(t, o.client, o.path)
			if ev := st.next(t); ev.Name != "results" {
				t.Fatalf("%s: first event %q, want the results", o.path, ev.Name)
			}
			streams = append(streams, st)
		}
		mayaV, err := s.UserByHandle(context.Background(), "maya")
		if err != nil {
			t.Fatal(err)
		}
		v, err := s.Viewer(context.Background(), mayaV.ID)
		if err != nil {
			t.Fatal(err)
		}
		rec := &apptest.StatementRecorder{}
		s.DB().AddQueryHook(rec)
		rec.Start()
		it := working(t, s, "maya", "Shared with the team", func(it *app.Item) {
			it.TeamID, it.Visibility = v.TeamIDs[0], app.VisibilityTeam
		})
		for _, st := range streams {
			st.until(t, rowOf(it.ID))
			if ev := st.next(t); ev.Name != "summary" {
				t.Fatalf("after the row: %q, want the summary", ev.Name)
			}
		}
		summaries := 0
		for _, stmt := range rec.Stop() {
			if strings.Contains(stmt, "AS working") {
				summaries++
			}
		}
		if summaries != 3 {
			t.Errorf("six streams of three views cost %d summaries, want 3", summaries)
		}
	})
}

// Streams that open on a view read its rows and summary once between them,
// from the items' indexes and the rollups, and not again until something
// they show changes.
func TestStreamsOfOneViewOpenOnOneRead(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		a, maya, _ := watchedApp(t, s)
		rec := &apptest.StatementRecorder{}
		s.DB().AddQueryHook(rec)
		rec.Start()
		for range 8 {
			st := a.openStream(t, maya, "/events?tab=all&status=failed")
			if ev := st.next(t); ev.Name != "results" {
				t.Fatalf("first event %q, want the results", ev.Name)
			}
		}
		var rows, summaries int
		for _, stmt := range rec.Stop() {
			switch {
			case strings.Contains(stmt, "AS working"):
				summaries++
				if !strings.Contains(stmt, "rollup_") {
					t.Errorf("the summary read the items, not the rollups:\n%s", stmt)
				}
			case strings.Contains(stmt, `"item"."id"`):
				rows++
			}
		}
		if rows != 1 || summaries != 1 {
			t.Errorf("eight streams of one view opened on %d reads of its rows and %d of its summary, want one each", rows, summaries)
		}
	})
}
