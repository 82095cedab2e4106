package handlers_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
	"github.com/agentdeck/agentdeck/config"
	"github.com/agentdeck/agentdeck/handlers"
)

// TestLiveLoad measures live updates under load. It is a benchmark, skipped
// unless AGENTDECK_LOAD=1; the README explains how to run it and lists what it
// measured. Sizes: AGENTDECK_LOAD_STREAMS (memory, default 5000) and
// AGENTDECK_LOAD_LATENCY_STREAMS (latency, default 1000).
func TestLiveLoad(t *testing.T) {
	if os.Getenv("AGENTDECK_LOAD") != "1" {
		t.Skip("a benchmark: set AGENTDECK_LOAD=1 to run it")
	}
	t.Run("memory of a separate server process", func(t *testing.T) {
		t.Run("sqlite", func(t *testing.T) { liveMemory(t, envInt(t, "AGENTDECK_LOAD_STREAMS", 5000), "") })
		if os.Getenv("TEST_DATABASE_URL") != "" {
			t.Run("postgres", func(t *testing.T) {
				liveMemory(t, envInt(t, "AGENTDECK_LOAD_STREAMS", 5000), apptest.PostgresDSN(t))
			})
		}
	})
	t.Run("latency from a write to every stream", func(t *testing.T) {
		eachStore(t, func(t *testing.T, s *app.Store) {
			liveLatency(t, s, envInt(t, "AGENTDECK_LOAD_LATENCY_STREAMS", 1000), 40)
		})
	})
}

// loadStream is one live stream held open by the benchmark. Rows that arrive
// are reported with their arrival time.
type loadStream struct {
	resp *http.Response
	done chan struct{}
}

// arrival is a row that reached a stream.
type arrival struct {
	itemID string
	at     time.Time
}

var rowStart = regexp.MustCompile(`^data: <tr id="item-([0-9a-f-]{36})"`)

// openLoadStream opens a stream and reads it in the background until it
// ends, reporting rows to arrivals when that is not nil.
func openLoadStream(c *http.Client, url string, arrivals chan<- arrival) (*loadStream, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	ls := &loadStream{resp: resp, done: make(chan struct{})}
	go func() {
		defer close(ls.done)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 16*1024), 4*1024*1024)
		for sc.Scan() {
			if arrivals == nil {
				continue
			}
			if m := rowStart.FindSubmatch(sc.Bytes()); m != nil {
				arrivals <- arrival{itemID: string(m[1]), at: time.Now()}
			}
		}
	}()
	return ls, nil
}

func (ls *loadStream) close() {
	ls.resp.Body.Close()
	<-ls.done
}

// liveClients signs the users in and returns, for each, a client without a
// timeout and the live address their view's page gives.
func liveClients(t *testing.T, a *testApp, handles []string, view string) ([]*http.Client, []string) {
	t.Helper()
	var clients []*http.Client
	var urls []string
	for _, h := range handles {
		c := a.signIn(t, h)
		c.Timeout = 0
		_, page := a.get(t, c, view, nil)
		m := liveAttr.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("%s's view has no live address", h)
		}
		clients = append(clients, c)
		urls = append(urls, a.URL+strings.ReplaceAll(m[1], "&amp;", "&"))
	}
	return clients, urls
}

// loadSessionKey is the session key of the servers the load test runs.
var loadSessionKey = strings.Repeat("load-test-session-key-", 2)

// liveMemory holds n streams open on `agentdeck serve` run as its own
// process — in demo mode on SQLite, or on the PostgreSQL database dsn,
// seeded here with the demo data — and reads that process's resident
// memory.
func liveMemory(t *testing.T, n int, dsn string) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "agentdeck")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	var logs bytes.Buffer
	srv := exec.Command(bin, "serve", "--addr", addr)
	// The load test holds thousands of streams of a few people: their own
	// limits must not close them.
	srv.Env = []string{"AGENTDECK_DATA_DIR=" + dir, "AGENTDECK_SESSION_KEYS=" + loadSessionKey, "PATH=" + os.Getenv("PATH"),
		"AGENTDECK_STREAMS_PER_SESSION=100000", "AGENTDECK_STREAMS_PER_USER=100000", "AGENTDECK_MAX_STREAMS=100000",
		"AGENTDECK_MAX_CONNS_PER_ADDRESS=100000"}
	var seeded *app.Store
	if dsn == "" {
		srv.Args = append(srv.Args, "--demo")
	} else {
		seeded = apptest.Open(t, dsn)
		now := time.Now()
		if err := seeded.Seed(context.Background(), app.DemoSeed(now)); err != nil {
			t.Fatal(err)
		}
		srv.Env = append(srv.Env, "DATABASE_URL="+dsn)
	}
	srv.Stdout, srv.Stderr = &logs, &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	t.Cleanup(func() {
		srv.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			srv.Process.Kill()
			t.Errorf("the server did not stop within 10s of SIGINT")
		}
	})
	a := &testApp{URL: "http://" + addr}
	// Another process: polling its health endpoint is the only way to know
	// it is up.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(a.URL + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not answer within 60s:\n%s", logs.String())
		}
	}
	rss := func() (rssMB, peakMB float64) {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", srv.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		field := func(name string) float64 {
			for _, line := range strings.Split(string(status), "\n") {
				if f := strings.Fields(line); len(f) >= 2 && f[0] == name+":" {
					kb, _ := strconv.ParseFloat(f[1], 64)
					return kb / 1024
				}
			}
			t.Fatalf("no %s in /proc status", name)
			return 0
		}
		return field("VmRSS"), field("VmHWM")
	}

	handles := []string{"maya", "jonas", "priya", "tomas", "aiko", "sam"}
	var clients []*http.Client
	var urls []string
	if seeded == nil {
		clients, urls = liveClients(t, a, handles, "/?tab=all")
	} else {
		clients, urls = sessionClients(t, a, seeded, handles, "/?tab=all")
	}
	idle, _ := rss()
	streams := make([]*loadStream, 0, n)
	defer func() {
		for _, ls := range streams {
			ls.close()
		}
	}()
	start := time.Now()
	for i := range n {
		ls, err := openLoadStream(clients[i%len(clients)], urls[i%len(urls)], nil)
		if err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
		streams = append(streams, ls)
	}
	opened := time.Since(start)
	held, peak := rss()
	t.Logf("%d streams opened in %s; server RSS %.1f MB idle, %.1f MB holding them (peak %.1f MB), %.1f KB per stream",
		n, opened.Round(time.Millisecond), idle, held, peak, (held-idle)*1024/float64(n))
	if perStream := (held - idle) * 1024 / float64(n); perStream > 40 {
		t.Errorf("%.1f KB per stream with %d streams; the bar is 40 KB", perStream, n)
	}
	if resp, err := http.Get(a.URL + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("health check while holding the streams: %v", err)
	} else {
		resp.Body.Close()
	}
}

// sessionClients signs people in to a server in another process by making
// their sessions in its database and their cookies with its key, and
// returns their clients and the live addresses of their view.
func sessionClients(t *testing.T, a *testApp, s *app.Store, handles []string, view string) ([]*http.Client, []string) {
	t.Helper()
	ctx := context.Background()
	var clients []*http.Client
	var urls []string
	for _, h := range handles {
		u, err := s.UserByHandle(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		id, err := s.CreateSession(ctx, u.ID, nil, app.SessionMaxLifetime)
		if err != nil {
			t.Fatal(err)
		}
		cookie, err := handlers.SessionCookie(loadSessionKey, id)
		if err != nil {
			t.Fatal(err)
		}
		c := a.anonymous(t)
		c.Timeout = 0
		c.Jar.SetCookies(mustParse(t, a.URL), []*http.Cookie{cookie})
		_, page := a.get(t, c, view, nil)
		m := liveAttr.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("%s's view has no live address", h)
		}
		clients = append(clients, c)
		urls = append(urls, a.URL+strings.ReplaceAll(m[1], "&amp;", "&"))
	}
	return clients, urls
}

func mustParse(t testing.TB, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// liveLatency holds n streams on an in-process server and measures, for each
// of the writes, the time from the write's start until its row reached each
// stream. Every stream's viewer may see the rows: they are shared with the
// platform team, whose four members the streams are spread over.
func liveLatency(t *testing.T, s *app.Store, n, writes int) {
	a := seededAppWith(t, s, func(c *config.Config) { c.StreamsPerSession, c.StreamsPerUser, c.MaxStreams = n, n, n })
	ctx := context.Background()
	before := runtime.NumGoroutine()

	clients, urls := liveClients(t, a, []string{"maya", "jonas", "priya", "sam"}, "/?tab=all")
	// The writes come through the API, as an agent's would, with jonas's token.
	jonas, err := s.UserByHandle(ctx, "jonas")
	if err != nil {
		t.Fatal(err)
	}
	_, token, err := s.CreateAccessToken(ctx, jonas.ID, "load", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	api := &http.Client{Timeout: 30 * time.Second}
	write := func(method, path string, body any) string {
		b, _ := json.Marshal(body)
		req, err := http.NewRequest(method, a.URL+path, bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := api.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var it struct{ ID string }
		if err := json.NewDecoder(resp.Body).Decode(&it); err != nil || resp.StatusCode >= 300 {
			t.Fatalf("%s %s: status %d (%v)", method, path, resp.StatusCode, err)
		}
		return it.ID
	}

	arrivals := make(chan arrival, 4*n)
	streams := make([]*loadStream, 0, n)
	for i := range n {
		ls, err := openLoadStream(clients[i%len(clients)], urls[i%len(urls)], arrivals)
		if err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
		streams = append(streams, ls)
	}

	var latencies []time.Duration
	var current string
	for w := range writes {
		start := time.Now()
		if w%2 == 0 {
			current = write(http.MethodPost, "/api/v1/runs", map[string]any{
				"kind": "ambient", "source": "github_actions", "title": fmt.Sprintf("Load run %d", w), "team": "platform",
			})
		} else {
			write(http.MethodPatch, "/api/v1/runs/"+current, map[string]any{"status": "success"})
		}
		got := 0
		deadline := time.After(30 * time.Second)
		for got < n {
			select {
			case ar := <-arrivals:
				if ar.itemID == current {
					latencies = append(latencies, ar.at.Sub(start))
					got++
				}
			case <-deadline:
				t.Fatalf("write %d reached %d of %d streams within 30s", w, got, n)
			}
		}
	}
	slices.Sort(latencies)
	pct := func(p float64) time.Duration {
		return latencies[int(float64(len(latencies)-1)*p)].Round(100 * time.Microsecond)
	}
	t.Logf("%d streams, %d writes, %d rows delivered: p50 %s, p90 %s, p99 %s, max %s",
		n, writes, len(latencies), pct(.5), pct(.9), pct(.99), pct(1))
	if pct(.99) > 100*time.Millisecond {
		t.Errorf("p99 %s from a write to the streams; the bar is 100 ms", pct(.99))
	}

	var wg sync.WaitGroup
	for _, ls := range streams {
		wg.Go(ls.close)
	}
	wg.Wait()
	for _, c := range clients {
		c.CloseIdleConnections()
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	left := runtime.NumGoroutine() - before
	t.Logf("goroutines after every stream closed: %d more than before the streams opened", max(left, 0))
	if left > 0 {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines left after every stream closed:\n%s", left, buf[:runtime.Stack(buf, true)])
	}
}
