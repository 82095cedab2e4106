package handlers_test

import (
	"context"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/views"
)

var (
	insightsTotal = regexp.MustCompile(`<span data-insights-items>([\d,]+) runs?</span>[\s\S]*?<span data-insights-credits>([0-9.]+) credits</span>`)
	listItems     = regexp.MustCompile(`<span data-summary-items>([\d,]+) items?</span>`)
	listCredits   = regexp.MustCompile(`<span data-summary-credits>([0-9.]+) credits</span>`)
	barLink       = regexp.MustCompile(`<a href="([^"]+)" aria-label="[^"]+: ([0-9.]+) credits, (\d+) runs`)
	sourceRow     = regexp.MustCompile(`<th scope="row"><a href="([^"]*source=[^"]+)">[^<]+</a></th>\s*<td class="num">(\d+)</td>`)
)

// The insights of a view say what the list's summary says for the same
// filters, and every bar and row opens the list filtered to it, whose
// summary says what the bar or row did.
func TestInsightsAgreeWithTheListAndLinkIntoIt(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		a := seededApp(t, s)
		priya := a.signIn(t, "priya")
		summary := func(path string) (string, string) {
			t.Helper()
			_, page := a.get(t, priya, path, nil)
			items, credits := listItems.FindStringSubmatch(page), listCredits.FindStringSubmatch(page)
			if items == nil || credits == nil {
				t.Fatalf("GET %s shows no summary", path)
			}
			return items[1], credits[1]
		}
		for _, query := range []string{"tab=all", "tab=all&status=failed", "source=cli&day=7d&tz=Europe%2FBerlin"} {
			resp, page := a.get(t, priya, "/insights?"+query, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("GET /insights?%s: %d", query, resp.StatusCode)
			}
			m := insightsTotal.FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("/insights?%s shows no totals:\n%s", query, page)
			}
			items, credits := summary("/?" + query)
			if m[1] != items || m[2] != credits {
				t.Errorf("%s: insights say %s runs, %s credits; the list says %s, %s", query, m[1], m[2], items, credits)
			}
			if strings.Contains(page, " style=") || strings.Contains(page, "<script>") {
				t.Errorf("%s: the page has inline style or script", query)
			}
			bars := barLink.FindAllStringSubmatch(page, -1)
			if len(bars) == 0 {
				t.Fatalf("%s: the chart has no bars", query)
			}
			for _, bar := range []([]string){bars[0], bars[len(bars)-1]} {
				link := html.UnescapeString(bar[1])
				if !strings.Contains(link, "day=") {
					t.Errorf("a bar links to %s, which names no day", link)
				}
				items, credits := summary(link)
				if items != bar[3] || credits != bar[2] {
					t.Errorf("%s: the bar says %s runs, %s credits; its list %s says %s, %s", query, bar[3], bar[2], link, items, credits)
				}
			}
			rows := sourceRow.FindAllStringSubmatch(page, -1)
			if len(rows) == 0 {
				t.Fatalf("%s: no source rows with links", query)
			}
			link := html.UnescapeString(rows[0][1])
			if items, _ := summary(link); items != rows[0][2] {
				t.Errorf("%s: the top source's row says %s runs; its list %s says %s", query, rows[0][2], link, items)
			}
		}
		// The view links to its insights with its own filters.
		_, view := a.get(t, priya, "/?tab=all&status=failed", nil)
		if !strings.Contains(view, `href="/insights?tab=all&amp;status=failed"`) {
			t.Errorf("the view does not link to its insights")
		}
	})
}

// A filter the list would refuse is named in a notice, never a failure.
func TestInsightsNameWhatTheyCouldNotUse(t *testing.T) {
	a := seededApp(t, sqliteStore(t))
	priya := a.signIn(t, "priya")
	resp, page := a.get(t, priya, "/insights?tab=all&status=nope&creator=nobody&"+url.Values{"day": {"2026-13-40"}}.Encode(), nil)
	if resp.StatusCode != 200 || !strings.Contains(page, `class="notice"`) || !strings.Contains(page, "nope") {
		t.Errorf("insights of a bad filter: %d, want 200 with a notice", resp.StatusCode)
	}
	// What is left applies: the All tab.
	v := viewerOf(t, a.Store, "priya")
	q, _, _, err := a.Store.ResolveFilter(context.Background(), v, app.Filter{Tab: app.TabAll})
	mustDo(t, err)
	sum, err := a.Store.Summary(context.Background(), q)
	mustDo(t, err)
	if m := insightsTotal.FindStringSubmatch(page); m == nil || m[1] != views.Number(sum.Items) {
		t.Errorf("insights of what is left of the filter: %v, want %d runs", m, sum.Items)
	}
}
