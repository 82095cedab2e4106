package handlers_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// A filter menu's button counts its ticked values as they change, not only
// after a reload.
func TestBrowserFilterCountsFollowEveryTick(t *testing.T) {
	a := seededApp(t, apptest.SQLite(t))
	atBothSizes(t, func(t *testing.T, size screenSize) { filterCountsFollowEveryTick(t, a, size) })
}

func filterCountsFollowEveryTick(t *testing.T, a *testApp, size screenSize) {
	b := newBrowser(t)
	b.resize(t, size)
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

// A destructive button asks first: answered no, nothing is sent; answered
// yes, the request says it was confirmed and is done.
func TestBrowserRevokingATokenAsksFirst(t *testing.T) {
	s := apptest.SQLite(t)
	a := seededApp(t, s)
	atBothSizes(t, func(t *testing.T, size screenSize) { revokingATokenAsksFirst(t, s, a, size) })
}

func revokingATokenAsksFirst(t *testing.T, s *app.Store, a *testApp, size screenSize) {
	priya, err := s.UserByHandle(t.Context(), "priya")
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.CreateAccessToken(t.Context(), priya.ID, "laptop on a "+size.name, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	revoked := func() bool {
		t.Helper()
		list, err := s.AccessTokens(t.Context(), priya.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range list {
			if l.ID == tok.ID {
				return !l.RevokedAt.IsZero()
			}
		}
		t.Fatal("the token is gone")
		return false
	}
	button := chromedp.CSS(`form[action="/settings/tokens/` + strconv.FormatInt(tok.ID, 10) + `/revoke"] button`)
	b := newBrowser(t)
	b.resize(t, size)
	b.do(t, chromedp.Navigate(a.URL+"/signin"))
	b.signInAs(t, "priya")
	b.do(t, chromedp.Navigate(a.URL+"/settings/tokens"), chromedp.WaitVisible(button))

	value(t, b, chromedp.Evaluate[bool](`window.confirm = function (q) { window.asked = q; return false; }; true`))
	loads := b.documentLoads()
	b.do(t, chromedp.Click(button))
	if asked := value(t, b, chromedp.Evaluate[string](`window.asked || ""`)); !strings.Contains(asked, "Revoke this access token?") {
		t.Errorf("the button asked %q", asked)
	}
	if b.documentLoads() != loads || revoked() {
		t.Fatal("answered no, the token was revoked all the same")
	}

	value(t, b, chromedp.Evaluate[bool](`window.confirm = function () { return true; }; true`))
	value(t, b, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(button)))
	if !revoked() {
		t.Error("answered yes, the token is still live")
	}
	if text := value(t, b, chromedp.Text(chromedp.CSS("main"))); !strings.Contains(text, "revoked") {
		t.Errorf("after revoking, the page reads %q", text)
	}
	b.expectCleanConsole(t)
}

// Back from a run opened after "Load more": the rows loaded are there again,
// each day named once, and the row that was at the top of the window is
// back in its place.
func TestBrowserBackAfterLoadMoreRestoresRowsAndPlace(t *testing.T) {
	a := seededApp(t, apptest.SQLite(t))
	for _, size := range []screenSize{laptop, phone} {
		t.Run(size.name, func(t *testing.T) {
			b := newBrowser(t)
			b.resize(t, size)
			b.do(t, chromedp.Navigate(a.URL+"/signin"))
			b.signInAs(t, "priya")
			backAfterLoadMore(t, b, a)
		})
	}
}

func backAfterLoadMore(t *testing.T, b *browser, a *testApp) {
	b.do(t, chromedp.Navigate(a.URL+"/?tab=all"), chromedp.WaitVisible(chromedp.CSS("#pager a")))
	const rowCount = `document.querySelectorAll("#rows > tr.row").length`
	const daysOnce = `(() => { const d = Array.from(document.querySelectorAll("#rows > tr.day")).map((r) => r.dataset.day); return d.length > 0 && new Set(d).size === d.length; })()`
	first := value(t, b, chromedp.Evaluate[int](rowCount))
	b.do(t, chromedp.Click(chromedp.CSS("#pager a")))
	b.waitFor(t, "the second page", rowCount+` > `+strconv.Itoa(first)+` && `+htmxIdle)
	loaded := value(t, b, chromedp.Evaluate[int](rowCount))
	if !value(t, b, chromedp.Evaluate[bool](daysOnce)) {
		t.Errorf("after Load more a day is named twice")
	}
	target := value(t, b, chromedp.Evaluate[string](`(() => { const r = document.querySelectorAll("#rows > tr.row")[`+strconv.Itoa(first+20)+`]; r.scrollIntoView({ block: "start" }); window.scrollBy(0, -120); return r.id; })()`))
	top := value(t, b, chromedp.Evaluate[float64](`document.getElementById("`+target+`").getBoundingClientRect().top`))

	value(t, b, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS("#"+target+" a.row__link"))))
	if loc := value(t, b, chromedp.Location()); !strings.Contains(loc, "/runs/") {
		t.Fatalf("the row led to %s", loc)
	}
	value(t, b, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.NavigateBack()))
	b.waitFor(t, "the rows and the place restored", rowCount+` === `+strconv.Itoa(loaded)+
		` && Math.abs(document.getElementById("`+target+`").getBoundingClientRect().top - `+strconv.FormatFloat(top, 'f', 1, 64)+`) < 2`)
	if !value(t, b, chromedp.Evaluate[bool](daysOnce)) {
		t.Errorf("after going back a day is named twice")
	}
	b.expectCleanConsole(t)
}

// Live changes are summed up in one polite region; "Pause live updates"
// keeps the list still and says what it holds back; rows wait while
// keyboard focus is in the table, so nothing moves under it.
func TestBrowserLiveUpdatesAreAnnouncedAndCanBePaused(t *testing.T) {
	atBothSizes(t, liveUpdatesAreAnnouncedAndCanBePaused)
}

func liveUpdatesAreAnnouncedAndCanBePaused(t *testing.T, size screenSize) {
	w := newAPIWorld(t, apptest.SQLite(t), nil)
	wantStatus(t, "a first run", w.as(t, "maya", "POST", "/api/v1/runs", ambientRun("", "Already there")), http.StatusCreated)
	b := newBrowser(t)
	b.resize(t, size)
	openLiveView(t, b, w.testApp, "maya", "/")
	create := func(title string) string {
		t.Helper()
		r := w.as(t, "maya", "POST", "/api/v1/runs", ambientRun("", title))
		wantStatus(t, "create "+title, r, http.StatusCreated)
		return "item-" + r.JSON(t)["id"].(string)
	}

	fresh := create("Rebuild the search index")
	b.waitFor(t, "the new row and its announcement", `!!document.getElementById("`+fresh+`") && `+
		`document.getElementById("live-announce").textContent === "New run: Rebuild the search index, working."`)

	b.do(t, chromedp.Click(chromedp.CSS("[data-live-toggle]")))
	if got := value(t, b, chromedp.Text(chromedp.CSS("[data-live-toggle]"))); got != "Resume live updates" {
		t.Errorf("the pause button, pressed, reads %q", got)
	}
	held := create("Held back while paused")
	b.waitFor(t, "the paused count", `document.querySelector("[data-live-toggle]").textContent === "Resume live updates (1 change)"`)
	if value(t, b, chromedp.Evaluate[bool](`!!document.getElementById("`+held+`")`)) {
		t.Error("a paused list showed a new row")
	}
	b.do(t, chromedp.Click(chromedp.CSS("[data-live-toggle]")))
	b.waitFor(t, "the held row after resuming", `!!document.getElementById("`+held+`") && `+htmxIdle)

	// Keyboard focus on a row: a new run waits behind the "new" button and
	// the focused row stays where it is.
	b.do(t, chromedp.Focus(chromedp.CSS("#"+fresh+" a.row__link")))
	before := value(t, b, chromedp.Evaluate[float64](`document.getElementById("`+fresh+`").getBoundingClientRect().top`))
	waiting := create("Arrives while a row has focus")
	b.waitFor(t, "the new-items button", `!document.querySelector("[data-new-items]").hidden`)
	if value(t, b, chromedp.Evaluate[bool](`!!document.getElementById("`+waiting+`")`)) {
		t.Error("a row was placed while focus was in the table")
	}
	if after := value(t, b, chromedp.Evaluate[float64](`document.getElementById("`+fresh+`").getBoundingClientRect().top`)); after != before {
		t.Errorf("the focused row moved from %v to %v", before, after)
	}
	if !value(t, b, chromedp.Evaluate[bool](`document.activeElement === document.querySelector("#`+fresh+` a.row__link")`)) {
		t.Error("the focused row lost focus")
	}
	b.expectCleanConsole(t)
}
