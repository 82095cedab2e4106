package handlers_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// openLiveView signs the browser in as handle and opens the view at path,
// returning once the page's live stream is connected.
func openLiveView(t *testing.T, b *browser, a *testApp, handle, path string) {
	t.Helper()
	b.do(t, chromedp.Navigate(a.URL+"/signin?next="+path))
	isStream := func(ev network.EventResponseReceived) bool {
		return strings.Contains(ev.Response.URL, "/events?") && ev.Response.Status == 200
	}
	value(t, b, chromedp.WaitEvent(network.ResponseReceived, isStream,
		chromedp.Click(chromedp.CSS(`form:has(input[name=user][value=`+handle+`]) button`))))
}

// waitFor polls a JavaScript condition until it holds.
func waitFor(t *testing.T, b *browser, what, condition string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](condition, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		text, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.getElementById("results") ? document.getElementById("results").innerText.slice(0, 600) : "(no results)"`))
		t.Fatalf("waiting for %s: %v\nthe results show:\n%s", what, err, text)
	}
}

func js(t *testing.T, b *browser, expr string) string {
	t.Helper()
	return value(t, b, chromedp.Evaluate[string](expr))
}

// noConsoleErrors fails the test on any error the page logged.
func noConsoleErrors(t *testing.T, b *browser) {
	t.Helper()
	for _, m := range b.consoleMessages() {
		if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
			t.Errorf("console error: %s", m.Text)
		}
	}
}

var durationText = regexp.MustCompile(`^(\d+s|\d+m \d\ds|\d+h \d\dm)$`)

func TestBrowserViewUpdatesLive(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		b := newBrowser(t)
		a := seededApp(t, s)
		openLiveView(t, b, a, "maya", "/")
		js(t, b, `(window.sameDocument = "yes")`) // gone if the page reloads

		it := working(t, s, "maya", "Live in the browser", nil)
		row := fmt.Sprintf("document.getElementById(%q)", "item-"+it.ID)
		waitFor(t, b, "the new row at the top", `document.querySelector("#rows > tr") === `+row)
		waitFor(t, b, "the summary to count it", fmt.Sprintf(`document.getElementById("summary").textContent.replace(/\s+/g, " ").includes(%q)`,
			strings.Join(strings.Fields(stripTags(summaryText(t, s, "maya", ""))), " ")))

		first := js(t, b, row+`.querySelector(".duration").textContent`)
		if first != "1m 05s" {
			t.Errorf("the new run's duration reads %q; want the server's 1m 05s", first)
		}
		waitFor(t, b, "the duration to tick", row+`.querySelector(".duration").textContent !== "1m 05s"`)
		if ticked := js(t, b, row+`.querySelector(".duration").textContent`); !durationText.MatchString(ticked) || !strings.HasPrefix(ticked, "1m ") {
			t.Errorf("the ticking duration reads %q; want 1m and some seconds, formatted as the server does", ticked)
		}

		if err := apptest.SetStatus(context.Background(), s, it.ID, app.StatusSuccess); err != nil {
			t.Fatal(err)
		}
		waitFor(t, b, "the row to show success", row+` && `+row+`.querySelector(".status__label").textContent === "Success"`)
		waitFor(t, b, "the summary to stop counting it as working", fmt.Sprintf(`document.getElementById("summary").textContent.replace(/\s+/g, " ").includes(%q)`,
			strings.Join(strings.Fields(stripTags(summaryText(t, s, "maya", ""))), " ")))
		if js(t, b, row+`.querySelector(".duration[data-started]") ? "ticking" : "still"`) != "still" {
			t.Error("the finished run's duration still ticks")
		}
		if js(t, b, `String(window.sameDocument)`) != "yes" {
			t.Error("the page reloaded; want every change in place")
		}
		noConsoleErrors(t, b)
	})
}

func TestBrowserHoldsNewRowsWhileScrolledAndFollowsTheTab(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		b := newBrowser(t)
		a := seededApp(t, s)
		openLiveView(t, b, a, "maya", "/")

		// Scrolled down, a new row waits behind the button.
		js(t, b, `window.scrollTo(0, document.body.scrollHeight), "scrolled"`)
		it := working(t, s, "maya", "Arrived while scrolled", nil)
		waitFor(t, b, "the new-rows button", `!document.querySelector("[data-new-items]").hidden`)
		if got := js(t, b, `document.querySelector("[data-new-items]").textContent`); got != "1 new" {
			t.Errorf("the button reads %q; want 1 new", got)
		}
		if js(t, b, fmt.Sprintf(`document.getElementById(%q) ? "shown" : "waiting"`, "item-"+it.ID)) != "waiting" {
			t.Error("the new row was inserted out of sight; want it to wait for the button")
		}
		b.do(t, chromedp.Click(chromedp.CSS("[data-new-items]")))
		waitFor(t, b, "the row at the top after the click", fmt.Sprintf(`document.querySelector("#rows > tr").id === %q`, "item-"+it.ID))

		// Switching to All moves the live connection to the new view: a
		// teammate's shared run appears, which Personal would not show.
		value(t, b, chromedp.WaitEvent(network.ResponseReceived, func(ev network.EventResponseReceived) bool {
			return strings.Contains(ev.Response.URL, "/events?tab=all")
		}, chromedp.Click(chromedp.CSS(`#tabs a[href="/?tab=all"]`))))
		teamID := func() int64 {
			u, err := s.UserByHandle(context.Background(), "maya")
			if err != nil {
				t.Fatal(err)
			}
			v, err := s.Viewer(context.Background(), u.ID)
			if err != nil {
				t.Fatal(err)
			}
			return v.TeamIDs[0]
		}()
		shared := working(t, s, "jonas", "Shared by a teammate", func(it *app.Item) {
			it.TeamID, it.Visibility = teamID, app.VisibilityTeam
		})
		waitFor(t, b, "the teammate's run under All", fmt.Sprintf(`document.querySelector("#rows > tr").id === %q`, "item-"+shared.ID))
		noConsoleErrors(t, b)
	})
}

func TestBrowserCatchesUpAfterAServerRestart(t *testing.T) {
	b := newBrowser(t)
	s := apptest.SQLite(t)
	now := time.Date(2026, 11, 25, 15, 4, 5, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	if err := s.Seed(context.Background(), app.DemoSeed(now)); err != nil {
		t.Fatal(err)
	}
	first := startServer(t, s, "127.0.0.1:0")
	openLiveView(t, b, first.testApp, "maya", "/")
	js(t, b, `(window.sameDocument = "yes")`)

	first.stopWithin(t, 2*time.Second)
	it := working(t, s, "maya", "Reported while the server was down", nil)
	startServer(t, s, strings.TrimPrefix(first.URL, "http://"))

	waitFor(t, b, "the run reported during the restart", fmt.Sprintf(`document.querySelector("#rows > tr").id === %q`, "item-"+it.ID))
	if js(t, b, `String(window.sameDocument)`) != "yes" {
		t.Error("the page reloaded; want the live connection to catch up in place")
	}
}

var tags = regexp.MustCompile(`<[^>]*>`)

func stripTags(html string) string { return tags.ReplaceAllString(html, "") }
