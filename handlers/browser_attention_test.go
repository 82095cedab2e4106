package handlers_test

import (
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/agentdeck/agentdeck/app"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// navCountText is the navigation's count as the page shows it.
const navCountText = `(document.querySelector("#attention-nav .nav-count")?.textContent ?? "")`

// A run that blocks, reported through the API, appears in Needs attention
// and in the navigation's count on any page without a reload; acknowledging
// it takes it out, still without one.
func TestBrowserABlockedRunNeedsAttentionLiveAndIsAcknowledged(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		b := newBrowser(t)
		b.emulate(t, "UTC", "")
		b.do(t, chromedp.Navigate(w.URL+"/signin"))
		b.signInAs(t, "maya")
		b.do(t, chromedp.Navigate(w.URL+"/attention"))
		b.waitFor(t, "the empty page, live", `!!document.querySelector("#attention .empty") && `+
			`document.querySelector("#attention-nav")?.hasAttribute("sse-connect")`)
		loads := b.documentLoads()

		block := func(title string) string {
			t.Helper()
			r := w.as(t, "jonas", http.MethodPost, "/api/v1/runs", map[string]any{"kind": "interactive", "title": title, "team": "platform", "visibility": "team"})
			wantStatus(t, "create", r, http.StatusCreated)
			id := r.JSON(t)["id"].(string)
			wantStatus(t, "block", w.as(t, "jonas", http.MethodPatch, "/api/v1/runs/"+id, map[string]any{"status": "blocked"}), http.StatusOK)
			return id
		}
		first := block("Needs a decision on the schema")
		b.waitFor(t, "the blocked run in the list and the count", `!!document.getElementById("attention-`+first+`") && `+navCountText+` === "1"`)
		if got := value(t, b, chromedp.Evaluate[string](`document.querySelector("#attention-`+first+` .attention__reason").textContent`)); got != "Waiting for its person" {
			t.Errorf("the entry says %q", got)
		}

		// On another page, the count alone follows.
		b.do(t, chromedp.Navigate(w.URL+"/teams"))
		b.waitFor(t, "the teams page, live", `document.querySelector("#attention-nav")?.hasAttribute("sse-connect") && `+navCountText+` === "1"`)
		teamsLoads := b.documentLoads()
		block("Asks to run the migration")
		b.waitFor(t, "the count of two", navCountText+` === "2"`)
		if b.documentLoads() != teamsLoads {
			t.Errorf("the teams page reloaded to count")
		}

		b.do(t, chromedp.Navigate(w.URL+"/attention"))
		// The list may just have been swapped in live: the click waits until
		// htmx has taken over its forms (one sooner posts the form plainly,
		// which works too, but loads a new page).
		ack := `#attention-` + first + ` .attention__ack`
		b.waitFor(t, "both entries, ready", `document.querySelectorAll(".attention__entry").length === 2 && `+htmxIdle+
			` && !!document.querySelector("`+ack+`")?.["htmx-internal-data"]?.initHash`)
		loads = b.documentLoads()
		b.do(t, chromedp.Click(chromedp.CSS(ack+` button`)))
		b.waitFor(t, "the acknowledged run gone", `!document.getElementById("attention-`+first+`") && `+navCountText+` === "1" && `+htmxIdle)
		if b.documentLoads() != loads {
			t.Errorf("acknowledging reloaded the page")
		}
		if n, err := s.AttentionCount(t.Context(), viewerOf(t, s, "jonas")); err != nil || n != 2 {
			t.Errorf("jonas's count after maya acknowledged: %d, %v; want 2", n, err)
		}
		if os.Getenv("AGENTDECK_SCREENSHOTS") != "" {
			screenshot(t, b, "attention.png")
		}
		b.expectCleanConsole(t)
	})
}

// Each bar of the insights chart opens the list of that day's runs, whose
// summary counts what the bar said; the chart reads in light and dark.
func TestBrowserInsightsChartLinksIntoTheFilteredList(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		a := seededApp(t, s)
		b := newBrowser(t)
		b.emulate(t, "UTC", "dark")
		b.do(t, chromedp.Navigate(a.URL+"/signin"))
		b.signInAs(t, "priya")
		b.do(t, chromedp.Navigate(a.URL+"/insights?tab=all&status=failed"))
		bars := value(t, b, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".chart a")].map(a => a.getAttribute("aria-label"))`))
		if len(bars) < 28 {
			t.Fatalf("the chart has %d bars, want one a day for the month", len(bars))
		}
		// The bar stands out from the page in the dark scheme, and in light.
		for _, scheme := range []string{"dark", "light"} {
			b.emulate(t, "", scheme)
			fill := value(t, b, chromedp.Evaluate[string](`getComputedStyle(document.querySelector(".chart__bar")).fill`))
			bg := value(t, b, chromedp.Evaluate[string](`getComputedStyle(document.querySelector(".insights__chart")).backgroundColor`))
			if fill == "" || fill == "none" || fill == bg {
				t.Errorf("%s: the bars are filled %q on %q", scheme, fill, bg)
			}
		}
		if os.Getenv("AGENTDECK_SCREENSHOTS") != "" {
			screenshot(t, b, "insights.png")
		}
		// The busiest day's bar.
		i := value(t, b, chromedp.Evaluate[int](`(() => { const h = [...document.querySelectorAll(".chart__bar")].map(r => +r.getAttribute("height")); return h.indexOf(Math.max(...h)); })()`))
		label := bars[i]
		runs := strings.Fields(strings.Split(label, "credits, ")[1])[0]
		value(t, b, chromedp.WaitEvent(page.LoadEventFired, nil,
			chromedp.Click(chromedp.CSS(".chart a:nth-of-type("+strconv.Itoa(i+1)+") .chart__bar"))))
		loc := value(t, b, chromedp.Location())
		u, err := url.Parse(loc)
		mustDo(t, err)
		q := u.Query()
		if u.Path != "/" || q.Get("tab") != "all" || q.Get("status") != "failed" || q.Get("day") == "" {
			t.Fatalf("the bar %q opened %s, want the list of that day's failed runs", label, loc)
		}
		summary := value(t, b, chromedp.Evaluate[string](`document.querySelector("[data-summary-items]").textContent`))
		if !strings.HasPrefix(summary, runs+" item") {
			t.Errorf("the bar %q opened a list of %q", label, summary)
		}
		b.expectCleanConsole(t)
	})
}

// screenshot saves the page as a PNG in AGENTDECK_SCREENSHOTS, for the
// README.
func screenshot(t *testing.T, b *browser, name string) {
	t.Helper()
	png := value(t, b, chromedp.FullScreenshot(100))
	if err := os.WriteFile(os.Getenv("AGENTDECK_SCREENSHOTS")+"/"+name, png, 0o644); err != nil {
		t.Fatal(err)
	}
}
