package handlers_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/handlers"
)

// exportTitles are titles a spreadsheet or a CSV reader could take for
// something else.
var exportTitles = []string{
	`=HYPERLINK("http://evil.example","click")`, "+1+2", "-3 fix billing", "@SUM(A1:A9)", "\tTabbed", "\rReturn",
	`He said "ship it", then left`, "two\nlines, and a comma", "plain fix billing webhook",
}

// newExportWorld is an API world with items of every kind: maya's, jonas's
// shared with platform, jonas's private, tomas's in product.
func newExportWorld(t *testing.T, s *app.Store) *apiWorld {
	t.Helper()
	w := newAPIWorld(t, s, nil)
	ctx := context.Background()
	platform := w.teams["platform"].ID
	statuses := []app.Status{app.StatusSuccess, app.StatusFailed, app.StatusWorking}
	sources := []app.Source{app.SourceCLI, app.SourceSlack, app.SourceLinear}
	agents := []string{"", "codex", "claude-code"}
	for i := range 30 {
		owner := []string{"maya", "jonas", "jonas", "tomas"}[i%4]
		it := &app.Item{
			Kind: app.KindAmbient, Source: sources[i%3], Status: statuses[i%3],
			Title: exportTitles[i%len(exportTitles)], CreatorID: w.users[owner].ID,
			CreatedAt: w.now.Add(-time.Duration(i/2) * time.Minute), StartedAt: w.now.Add(-time.Hour),
			AgentName: agents[i%3], Inference: app.Credits(i * 12345), Visibility: app.VisibilityPrivate,
		}
		if it.Status != app.StatusWorking {
			it.FinishedAt = w.now.Add(-time.Duration(i) * time.Second)
		}
		if it.AgentName != "" {
			it.Where = app.Where{Repo: []string{"acme/web", "acme/api"}[i%2], Branch: "main"}
			it.Models = "gpt-5"
		}
		switch {
		case owner == "jonas" && i%8 == 1:
			it.TeamID, it.Visibility = platform, app.VisibilityTeam
		case owner == "maya" && i%8 != 0:
			it.TeamID, it.Visibility = platform, app.VisibilityTeam
		case owner == "tomas":
			it.TeamID, it.Visibility = w.teams["product"].ID, app.VisibilityTeam
		}
		if err := s.CreateItem(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// pagedIDs pages through GET /runs with the query and returns every item, as
// the API gives it.
func (w *apiWorld) pagedItems(t *testing.T, handle, query string) []map[string]any {
	t.Helper()
	var out []map[string]any
	path := "/api/v1/runs?limit=4&" + query
	for {
		r := w.as(t, handle, http.MethodGet, path, nil)
		wantStatus(t, "list "+query, r, http.StatusOK)
		var page struct {
			Runs []map[string]any `json:"runs"`
			Next *string          `json:"next"`
		}
		if err := json.Unmarshal(r.Body, &page); err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Runs...)
		if page.Next == nil {
			return out
		}
		path = "/api/v1/runs?limit=4&" + query + "&cursor=" + *page.Next
	}
}

// An export is the whole filtered set: row for row what paging through the
// API gives, in NDJSON and in CSV, for several filters, across its own pages.
func TestExportEqualsPagingThroughTheAPI(t *testing.T) {
	defer handlers.SetExportPageSize(3)()
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newExportWorld(t, s)
		for _, query := range []string{"", "tab=all", "tab=all&status=-success", "tab=all&q=billing",
			"tab=all&agent=codex&repo=acme/web", "tab=all&creator=-maya&source=-slack", "tab=all&team=-platform"} {
			paged := w.pagedItems(t, "maya", query)

			r := w.as(t, "maya", http.MethodGet, "/api/v1/runs?format=ndjson&"+query, nil)
			wantStatus(t, "ndjson "+query, r, http.StatusOK)
			var exported []map[string]any
			dec := json.NewDecoder(bytes.NewReader(r.Body))
			for dec.More() {
				var m map[string]any
				if err := dec.Decode(&m); err != nil {
					t.Fatalf("ndjson %q: %v", query, err)
				}
				exported = append(exported, m)
			}
			if len(paged) == 0 && query != "tab=all&agent=codex&repo=acme/web" {
				t.Fatalf("%q selects nothing: the test proves little", query)
			}
			if got, want := mustJSON(t, exported), mustJSON(t, paged); got != want {
				t.Errorf("ndjson %q differs from paging:\n got  %s\n want %s", query, got, want)
			}

			r = w.call(t, w.tokens["maya"], http.MethodGet, "/api/v1/runs?"+query, nil, http.Header{"Accept": {"text/csv"}})
			wantStatus(t, "csv "+query, r, http.StatusOK)
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
				t.Fatalf("csv %q: Content-Type %q", query, ct)
			}
			rows, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
			if err != nil {
				t.Fatalf("csv %q does not parse: %v", query, err)
			}
			if len(rows) != len(paged)+1 {
				t.Fatalf("csv %q: %d rows, want %d and a header", query, len(rows), len(paged))
			}
			col := map[string]int{}
			for i, name := range rows[0] {
				col[name] = i
			}
			for i, it := range paged {
				row := rows[i+1]
				credits := it["credits"].(map[string]any)
				if row[col["id"]] != it["id"] || row[col["status"]] != it["status"] || row[col["credits"]] != credits["total"] ||
					row[col["creator"]] != it["creator"] {
					t.Errorf("csv %q row %d = %v, want item %v", query, i, row, it)
				}
				if want := spreadsheetSafe(it["title"].(string)); row[col["title"]] != want {
					t.Errorf("csv %q row %d title %q, want %q", query, i, row[col["title"]], want)
				}
			}
		}
	})
}

// spreadsheetSafe is what the CSV export must hold for a text: unchanged,
// but with an apostrophe before a leading = + - @ tab or carriage return.
func spreadsheetSafe(s string) string {
	if s != "" && strings.ContainsAny(s[:1], "=+-@\t\r") {
		return "'" + s
	}
	return s
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// The view's export links give the file of what the view shows, with the
// viewer's visibility; a bad format or filter is a 400, never another set.
func TestViewExportFollowsTheView(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newExportWorld(t, s)
		maya := w.signIn(t, "maya")
		_, page := w.get(t, maya, "/?tab=all&status=failed", nil)
		link := `href="/export?tab=all&amp;status=failed&amp;format=csv"`
		if !strings.Contains(page, link) {
			t.Fatalf("the view has no export link %s", link)
		}
		resp, body := w.get(t, maya, "/export?tab=all&status=failed&format=ndjson", nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("export: %d %v", resp.StatusCode, resp.Header)
		}
		var ids []string
		for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatal(err)
			}
			if m["status"] != "failed" {
				t.Errorf("exported a %v item", m["status"])
			}
			ids = append(ids, m["id"].(string))
		}
		var want []string
		for _, it := range w.pagedItems(t, "maya", "tab=all&status=failed") {
			want = append(want, it["id"].(string))
		}
		if !slices.Equal(ids, want) || len(ids) == 0 {
			t.Errorf("view export %v, want %v", ids, want)
		}
		for _, bad := range []string{"format=xlsx", "format=csv&status=bogus", "format=csv&creator=nobody"} {
			if resp, _ := w.get(t, maya, "/export?tab=all&"+bad, nil); resp.StatusCode != http.StatusBadRequest {
				t.Errorf("export %s: status %d, want 400", bad, resp.StatusCode)
			}
			r := w.as(t, "maya", http.MethodGet, "/api/v1/runs?tab=all&"+bad, nil)
			wantStatus(t, fmt.Sprintf("api export %s", bad), r, http.StatusBadRequest)
		}
	})
}
