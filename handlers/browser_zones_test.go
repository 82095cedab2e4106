package handlers_test

import (
	"strings"
	"testing"

	"github.com/agentdeck/agentdeck/app/apptest"
	"github.com/chromedp/chromedp"
)

// A view with a day, copied from a browser in one zone, shows a browser in
// another zone the same rows: the address names the zone the day is read
// in, UTC included, and the day's chip says it.
func TestBrowserACopiedDayShowsTheSameRowsInAnotherZone(t *testing.T) {
	a := seededApp(t, apptest.SQLite(t))
	// One link is copied on a laptop and opened on a phone, the other the
	// other way round.
	for _, c := range []struct {
		zone     string
		from, to screenSize
	}{{"UTC", laptop, phone}, {"Europe/Berlin", phone, laptop}} {
		zone := c.zone
		t.Run(zone, func(t *testing.T) {
			from := newBrowser(t)
			from.resize(t, c.from)
			from.emulate(t, zone, "")
			from.do(t, chromedp.Navigate(a.URL+"/signin"))
			from.signInAs(t, "priya")
			from.do(t, chromedp.Navigate(a.URL+"/?tab=all"))
			from.do(t,
				chromedp.Click(chromedp.CSS(`#filters details:has(input[name=day]) > summary`)),
				chromedp.Click(chromedp.CSS(`#filters input[name=day][value=yesterday]`)),
			)
			from.waitFor(t, "yesterday's runs", `new URLSearchParams(location.search).get("day") === "yesterday" && `+htmxIdle)
			copied := value(t, from, chromedp.Location())
			if !strings.Contains(copied, "tz="+strings.ReplaceAll(zone, "/", "%2F")) {
				t.Fatalf("the address %s does not name the zone %s", copied, zone)
			}
			want := value(t, from, chromedp.Evaluate[viewState](readView))
			chip := value(t, from, chromedp.Text(chromedp.CSS(`.chips .chip[aria-label^="Remove filter Day"]`)))
			if !strings.Contains(chip, "Yesterday, "+zone) {
				t.Errorf("the day's chip reads %q, want it to name %s", chip, zone)
			}

			to := newBrowser(t)
			to.resize(t, c.to)
			to.emulate(t, "Asia/Tokyo", "")
			to.do(t, chromedp.Navigate(a.URL+"/signin"))
			to.signInAs(t, "priya")
			to.do(t, chromedp.Navigate(copied))
			got := value(t, to, chromedp.Evaluate[viewState](readView))
			if strings.Join(got.ids(), ",") != strings.Join(want.ids(), ",") || got.Summary != want.Summary || len(got.Rows) == 0 {
				t.Errorf("in Tokyo the copied view shows %d rows (%s), in %s %d (%s)", len(got.Rows), got.Summary, zone, len(want.Rows), want.Summary)
			}
			from.expectCleanConsole(t)
			to.expectCleanConsole(t)
		})
	}
}
