package handlers_test

import (
	"context"
	"fmt"
	"net/http"
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
	if err := b.poll(ctx, condition, 15*time.Second); err != nil {
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

// summaryWords is the view's summary line for a viewer as the store counts
// it, in the words the page shows.
func summaryWords(t *testing.T, s *app.Store, handle string) string {
	t.Helper()
	return strings.Join(strings.Fields(stripTags(summaryText(t, s, handle, ""))), " ")
}

// summaryShows is a JavaScript condition: the page's summary line reads the
// words given.
func summaryShows(words string) string {
	return fmt.Sprintf(`document.getElementById("summary").textContent.replace(/\s+/g, " ").includes(%q)`, words)
}

func TestBrowserViewUpdatesLive(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		b := newBrowser(t)
		w := newAPIWorld(t, s, nil)
		for _, title := range []string{"Already there", "Also there"} {
			wantStatus(t, "an earlier run", w.as(t, "maya", "POST", "/api/v1/runs", ambientRun("", title)), http.StatusCreated)
		}
		openLiveView(t, b, w.testApp, "maya", "/")
		js(t, b, `(window.agentdeckTestMarker = "same document")`) // gone if the page reloads
		loads := b.documentLoads()
		before := summaryWords(t, s, "maya")
		waitFor(t, b, "the summary as the page loaded it", summaryShows(before))

		// Created through the API: the row appears at the top, and the
		// summary counts it.
		id := app.NewItemID()
		wantStatus(t, "create", w.as(t, "maya", "POST", "/api/v1/runs", map[string]any{
			"id": id, "kind": "ambient", "source": "cli", "title": "Live in the browser",
			"started_at": w.now.Add(-65 * time.Second).Format(time.RFC3339),
		}), http.StatusCreated)
		row := fmt.Sprintf("document.getElementById(%q)", "item-"+id)
		waitFor(t, b, "the new row at the top", `document.querySelector("#rows > tr.row") === `+row)
		working := summaryWords(t, s, "maya")
		if !strings.Contains(working, "3 items") || !strings.Contains(working, "3 working now") || working == before {
			t.Fatalf("the store counts %q after the create (before: %q); want 3 items, 3 working", working, before)
		}
		waitFor(t, b, "the summary to count the new run", summaryShows(working))

		first := js(t, b, row+`.querySelector(".duration").textContent`)
		if first != "1m 05s" {
			t.Errorf("the new run's duration reads %q; want the server's 1m 05s", first)
		}
		waitFor(t, b, "the duration to tick", row+`.querySelector(".duration").textContent !== "1m 05s"`)
		if ticked := js(t, b, row+`.querySelector(".duration").textContent`); !durationText.MatchString(ticked) || !strings.HasPrefix(ticked, "1m ") {
			t.Errorf("the ticking duration reads %q; want 1m and some seconds, formatted as the server does", ticked)
		}

		// Finished through the API: the same row turns to Success in place,
		// and the summary stops counting it as working.
		wantStatus(t, "finish", w.as(t, "maya", "PATCH", "/api/v1/runs/"+id, map[string]any{"status": "success"}), http.StatusOK)
		waitFor(t, b, "the row to show success", row+` && `+row+`.querySelector(".status__label").textContent === "Success"`)
		finished := summaryWords(t, s, "maya")
		if !strings.Contains(finished, "3 items") || !strings.Contains(finished, "2 working now") {
			t.Fatalf("the store counts %q after the finish; want 3 items, 2 working", finished)
		}
		waitFor(t, b, "the summary to stop counting it as working", summaryShows(finished))
		if js(t, b, `String(document.querySelectorAll("#rows > tr.row").length)`) != "3" {
			t.Error("the finished row was added again; want it replaced where it was")
		}
		if js(t, b, row+`.querySelector(".duration[data-started]") ? "ticking" : "still"`) != "still" {
			t.Error("the finished run's duration still ticks")
		}
		if marker := js(t, b, `String(window.agentdeckTestMarker)`); marker != "same document" || b.documentLoads() != loads {
			t.Errorf("the page reloaded (marker %q, %d document loads, want %d); want every change in place", marker, b.documentLoads(), loads)
		}
		b.expectCleanConsole(t)
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
		waitFor(t, b, "the row at the top after the click", fmt.Sprintf(`document.querySelector("#rows > tr.row").id === %q`, "item-"+it.ID))

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
		waitFor(t, b, "the teammate's run under All", fmt.Sprintf(`document.querySelector("#rows > tr.row").id === %q`, "item-"+shared.ID))
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

	waitFor(t, b, "the run reported during the restart", fmt.Sprintf(`document.querySelector("#rows > tr.row").id === %q`, "item-"+it.ID))
	if js(t, b, `String(window.sameDocument)`) != "yes" {
		t.Error("the page reloaded; want the live connection to catch up in place")
	}
}

var tags = regexp.MustCompile(`<[^>]*>`)

func stripTags(html string) string { return tags.ReplaceAllString(html, "") }

func TestBrowserSessionPageTailsIngestedLinesUntilTheRunFinishes(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		b := newBrowser(t)
		w := newAPIWorld(t, s, nil)
		id := app.NewItemID()
		wantStatus(t, "create", w.as(t, "maya", "POST", "/api/v1/runs", map[string]any{
			"id": id, "kind": "ambient", "source": "cli", "title": "Nightly build",
			"started_at": w.now.Add(-65 * time.Second).Format(time.RFC3339),
		}), http.StatusCreated)
		w.appendEvents(t, "maya", id, logEvent(1, "go build ./..."))

		b.do(t, chromedp.Navigate(w.URL+"/signin"))
		b.signInAs(t, "maya")
		isTail := func(ev network.EventResponseReceived) bool {
			return strings.Contains(ev.Response.URL, "/runs/"+id+"/events/stream?") && ev.Response.Status == 200
		}
		value(t, b, chromedp.WaitEvent(network.ResponseReceived, isTail, chromedp.Navigate(w.URL+"/runs/"+id)))
		js(t, b, `(window.agentdeckTestMarker = "same document")`)
		js(t, b, `document.body.addEventListener("htmx:sseClose", function (e) { window.tailClosed = e.detail.type }), "listening"`)
		loads := b.documentLoads()
		lines := `Array.from(document.querySelectorAll("#log .log__line")).map(function (l) { return l.id }).join(" ")`
		if got := js(t, b, lines); got != "L1" {
			t.Fatalf("the page shows log lines %q; want L1", got)
		}
		if js(t, b, `document.querySelector("[aria-labelledby=transcript] .run__none").offsetParent ? "shown" : "hidden"`) != "shown" {
			t.Error(`the empty transcript does not say "No messages."`)
		}

		// Several batches, each appended in order, as they are ingested.
		w.appendEvents(t, "maya", id, logEvent(2, "compiling"), logEvent(3, `<script>alert("tail")</script>`))
		b.waitFor(t, "the first batch", lines+` === "L1 L2 L3"`)
		w.appendEvents(t, "maya", id, logEvent(4, "\x1b[32mok\x1b[0m  pkg/build"), logEvent(5, "linking"))
		b.waitFor(t, "the second batch", lines+` === "L1 L2 L3 L4 L5"`)
		w.appendEvents(t, "maya", id, map[string]any{"seq": 6, "type": "message", "role": "agent", "text": "The build is green."}, logEvent(7, "done"))
		b.waitFor(t, "the third batch", lines+` === "L1 L2 L3 L4 L5 L7" && !!document.querySelector("#messages #e6")`)

		if text := value(t, b, chromedp.Text(chromedp.CSS("#L3 .log__text"))); text != `<script>alert("tail")</script>` {
			t.Errorf("the hostile line reads %q; want the markup as text", text)
		}
		if n := value(t, b, chromedp.Evaluate[int](`document.querySelectorAll("main script").length`)); n != 0 {
			t.Errorf("%d script elements reached the page", n)
		}
		if green := js(t, b, `getComputedStyle(document.querySelector("#L4 .ansi-fg-2")).color`); green != "rgb(63, 185, 80)" {
			t.Errorf("the green log text is drawn in %q, want rgb(63, 185, 80)", green)
		}
		if js(t, b, `document.querySelector("[aria-labelledby=transcript] .run__none").offsetParent ? "shown" : "hidden"`) != "hidden" {
			t.Error(`the transcript still says "No messages." beside its message`)
		}
		if js(t, b, `document.querySelector("#run-head .duration[data-started]") ? "ticking" : "still"`) != "ticking" {
			t.Error("the working run's duration does not tick")
		}

		// Finished: the head shows it, the note goes, the stream is closed.
		w.now = w.now.Add(time.Minute)
		wantStatus(t, "finish", w.as(t, "maya", "PATCH", "/api/v1/runs/"+id, map[string]any{
			"status": "success", "credits": map[string]any{"inference": "1.5", "compute": "0.25"},
		}), http.StatusOK)
		b.waitFor(t, "the head to show success", `document.querySelector("#run-head [data-status] .status__label").textContent === "Success"`)
		b.waitFor(t, "the tail to close", `window.tailClosed === "message"`)
		if got := js(t, b, `document.querySelector("#run-head [data-credits] strong").textContent`); got != "1.75" {
			t.Errorf("the head shows %s credits; want 1.75", got)
		}
		if got := js(t, b, `document.querySelector("#run-head .duration").textContent`); got != "2m 05s" {
			t.Errorf("the finished duration reads %q; want 2m 05s", got)
		}
		if js(t, b, `document.querySelector("#run-head .duration[data-started]") ? "ticking" : "still"`) != "still" {
			t.Error("the finished run's duration still ticks")
		}
		if js(t, b, `document.querySelector(".tail__note") ? "shown" : "gone"`) != "gone" {
			t.Error("the page still says it is live")
		}
		if state := js(t, b, `String(document.querySelector("[data-tail]")["htmx-internal-data"].sseEventSource.readyState)`); state != "2" {
			t.Errorf("the tail's EventSource is in state %s; want 2 (closed)", state)
		}
		if got := js(t, b, lines); got != "L1 L2 L3 L4 L5 L7" {
			t.Errorf("after the finish the log shows %q; want each line once", got)
		}
		if marker := js(t, b, `String(window.agentdeckTestMarker)`); marker != "same document" || b.documentLoads() != loads {
			t.Errorf("the page reloaded (marker %q, %d document loads, want %d); want every line in place", marker, b.documentLoads(), loads)
		}
		b.expectCleanConsole(t)
	})
}
