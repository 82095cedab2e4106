package handlers_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
)

// stylesheet finds the address of the page's CSS.
var stylesheet = regexp.MustCompile(`<link rel="stylesheet" href="([^"]+)"`)

// throughputView is the view the throughput benchmark asks for.
const throughputView = "/?tab=all&status=failed"

// BenchmarkFragmentThroughput is the throughput benchmark of the README's
// "Speed" section:
//
//	BENCH_DATABASE_URL='postgres://postgres@127.0.0.1:5432/agentdeck_bench?sslmode=disable' \
//	  go test ./handlers/ -run '^$' -bench FragmentThroughput -benchtime 1x -timeout 30m -v
//
// Signed in as the view benchmark's viewer on the same data set, a load of
// 16 and then 64 concurrent clients, each for BENCH_LOAD_SECONDS (default
// 20), asks for one view's fragment as htmx does, kept in memory and read
// from the database each time, and for the server's gzipped CSS, in turns,
// in this process (so sharing its cores). It reports requests per second
// and the fragment's as a share of the CSS's.
func BenchmarkFragmentThroughput(b *testing.B) {
	base, n := benchSize(b)
	store := benchStore(b, base, fmt.Sprintf("bench_v%d_%d", benchDataVersion, n),
		app.SeedOptions{Users: benchUsers, Teams: benchTeams, Items: n, Days: benchDays, Now: benchNow, Seed: 2026})
	a := newTestApp(b, store, nil)
	client := a.signIn(b, benchViewer)
	_, page := a.get(b, client, "/", nil)
	m := stylesheet.FindStringSubmatch(page)
	if m == nil {
		b.Fatal("the page links no stylesheet")
	}
	css := html.UnescapeString(m[1])
	seconds := envInt(b, "BENCH_LOAD_SECONDS", 20)
	cookies := client.Jar.Cookies(mustParse(b, a.URL))

	type target struct {
		name    string
		path    string
		htmx    bool
		caching bool
	}
	targets := []target{
		{"fragment, kept in memory", throughputView, true, true},
		{"fragment, read each time", throughputView, true, false},
		{"CSS (gzip)", css, false, true},
	}
	var table strings.Builder
	fmt.Fprintf(&table, "%d items, %s, %d s per run\n| clients | what | requests/s | share of the CSS |\n| ---: | --- | ---: | ---: |\n", n, throughputView, seconds)
	before := loadAverage()
	for b.Loop() {
		for _, clients := range []int{16, 64} {
			rates := make([]float64, len(targets))
			for i, t := range targets {
				store.CacheViews(t.caching)
				rates[i] = load(b, a.URL+t.path, t.htmx, cookies, clients, time.Duration(seconds)*time.Second)
			}
			store.CacheViews(true)
			cssRate := rates[len(rates)-1]
			for i, t := range targets {
				fmt.Fprintf(&table, "| %d | %s | %.0f | %.3f |\n", clients, t.name, rates[i], rates[i]/cssRate)
				b.ReportMetric(rates[i]/cssRate, fmt.Sprintf("share-c%d-%d", clients, i))
			}
		}
	}
	b.Logf("\n%sload average before %s, after %s", table.String(), before, loadAverage())
}

// load asks for url from clients goroutines for d and returns the answers
// per second; every answer must be a 200.
func load(b *testing.B, url string, htmx bool, cookies []*http.Cookie, clients int, d time.Duration) float64 {
	transport := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer transport.CloseIdleConnections()
	hc := &http.Client{Transport: transport}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var done atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				// Asked for as a browser asks: compressed, and left so, as
				// a browser's network stack inflates it off the page's time.
				req.Header.Set("Accept-Encoding", "gzip")
				if htmx {
					req.Header.Set("HX-Request", "true")
					req.Header.Set("HX-Trigger", "filters")
				}
				for _, c := range cookies {
					req.AddCookie(c)
				}
				resp, err := hc.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						failed.Store(err.Error())
					}
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Store(fmt.Sprintf("status %d", resp.StatusCode))
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	if msg := failed.Load(); msg != nil {
		b.Fatalf("GET %s: %v", url, msg)
	}
	return float64(done.Load()) / time.Since(start).Seconds()
}

// loadAverage is the machine's 1-minute load average, as /proc/loadavg
// tells it.
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(raw))[0]
}
