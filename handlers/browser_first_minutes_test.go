package handlers_test

import (
	"testing"

	"github.com/agentdeck/agentdeck/app/apptest"
	"github.com/chromedp/chromedp"
)

// A filter menu's button counts its ticked values as they change, not only
// after a reload.
func TestBrowserFilterCountsFollowEveryTick(t *testing.T) {
	a := seededApp(t, apptest.SQLite(t))
	b := newBrowser(t)
	b.emulate(t, "UTC", "")
	b.do(t, chromedp.Navigate(a.URL+"/signin"))
	b.signInAs(t, "priya")
	b.do(t, chromedp.Navigate(a.URL+"/?tab=all"))
	const badge = `document.querySelector("#filters details:has(input[name=status]) > summary .count")?.textContent ?? ""`
	tick := func(status, want string) {
		t.Helper()
		b.do(t, chromedp.Click(chromedp.CSS(`#filters input[name=status][value=`+status+`]`)))
		b.waitFor(t, "the results of "+status, htmxIdle)
		if got := value(t, b, chromedp.Evaluate[string](badge)); got != want {
			t.Fatalf("after ticking %s the Status button counts %q, want %q", status, got, want)
		}
	}
	b.do(t, chromedp.Click(chromedp.CSS(`#filters details:has(input[name=status]) > summary`)))
	tick("failed", "1")
	tick("success", "2")
	tick("failed", "1")
	tick("success", "")
	b.expectCleanConsole(t)
}
