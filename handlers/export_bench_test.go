package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
)

// BenchmarkExport is the export's speed and memory on PostgreSQL (README,
// "Speed"):
//
//	BENCH_DATABASE_URL='postgres://postgres@127.0.0.1:5432/agentdeck_bench?sslmode=disable' \
//	  go test ./handlers/ -run '^$' -bench Export -benchtime 3x -timeout 30m -v
//
// One person owns every item of its data set (BENCH_ITEMS, default
// 1,000,000), so their Personal tab is the whole set. Each round exports it
// as CSV and as NDJSON through the API, counting the rows, and samples the
// process's resident memory meanwhile: the server runs in this process.
func BenchmarkExport(b *testing.B) {
	base, n := benchSize(b)
	if residentKB() == 0 {
		b.Skip("the system does not report resident memory (/proc/self/status)")
	}
	ctx := context.Background()
	store := benchStore(b, base, fmt.Sprintf("bench_export_v%d_%d", benchDataVersion, n),
		app.SeedOptions{Users: 1, Teams: 1, Items: n, Days: benchDays, Now: benchNow, Seed: 2026})
	a := newTestApp(b, store, nil)
	owner, err := store.UserByHandle(ctx, benchViewer)
	if err != nil {
		b.Fatal(err)
	}
	_, token, err := store.CreateAccessToken(ctx, owner.ID, fmt.Sprintf("export bench %d", time.Now().UnixNano()), time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	for _, format := range []string{"csv", "ndjson"} {
		b.Run(format, func(b *testing.B) {
			var rowsPerSec, grewMB []float64
			for b.Loop() {
				before := float64(residentKB()) / 1024
				peak := atomic.Int64{}
				stop := sampleResident(&peak)
				start := time.Now()
				rows := exportRows(b, a.URL+"/api/v1/runs?format="+format, token)
				took := time.Since(start)
				stop()
				if want := n; format == "ndjson" && rows != want || format == "csv" && rows != want+1 {
					b.Fatalf("%s export: %d lines, want %d items", format, rows, want)
				}
				rowsPerSec = append(rowsPerSec, float64(n)/took.Seconds())
				grewMB = append(grewMB, float64(peak.Load())/1024-before)
			}
			r, g := medianFloat(rowsPerSec), maxFloat(grewMB)
			b.ReportMetric(r, "rows/s")
			b.ReportMetric(g, "rss-growth-MB")
			b.Logf("%s: %d rows, median %.0f rows/s, resident memory grew by at most %.1f MB", format, n, r, g)
			if n >= barItems && (r < 50_000 || g > 20) {
				b.Errorf("%s export: %.0f rows/s (want ≥ 50,000) and %.1f MB of growth (want ≤ 20)", format, r, g)
			}
		})
	}
}

// exportRows reads an export to its end and counts its lines.
func exportRows(b *testing.B, url, token string) int {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		b.Fatalf("export: status %d: %s", resp.StatusCode, body)
	}
	lines := 0
	buf := make([]byte, 256<<10)
	for {
		n, err := resp.Body.Read(buf)
		lines += bytes.Count(buf[:n], []byte("\n"))
		if err == io.EOF {
			return lines
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// residentKB is the process's resident memory now, in kB; 0 when the
// system does not say.
func residentKB() int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}

// sampleResident keeps the highest resident memory seen in peak (in kB)
// until the returned stop is called.
func sampleResident(peak *atomic.Int64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if kb := residentKB(); kb > peak.Load() {
				peak.Store(kb)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

func medianFloat(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func maxFloat(xs []float64) float64 { return slices.Max(xs) }
