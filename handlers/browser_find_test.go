package handlers_test

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Typing in the search box swaps the table in place as one types, marks the
// words in the titles and pushes the address, while the box keeps the focus.
func TestBrowserSearchAsYouTypeSwapsTheTableAndPushesTheURL(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		a := seededApp(t, s)
		b := newBrowser(t)
		b.emulate(t, "UTC", "")
		b.do(t, chromedp.Navigate(a.URL+"/signin"))
		b.signInAs(t, "priya")
		b.do(t, chromedp.Navigate(a.URL+"/?tab=all"))
		loads := b.documentLoads()

		b.do(t, chromedp.Click(chromedp.CSS("#search")), chromedp.SendKeys(chromedp.CSS("#search"), "fix"))
		b.waitFor(t, "the search results", `new URLSearchParams(location.search).get("q") === "fix" && `+
			`!!document.querySelector("#rows") && `+htmxIdle)
		state := value(t, b, chromedp.Evaluate[viewState](readView))
		if b.documentLoads() != loads {
			t.Fatalf("searching loaded a new document")
		}
		q := state.query(t)
		want := summaryItems(t, a, "priya", q)
		if want == 0 || !strings.HasPrefix(state.Summary, strconv.FormatInt(want, 10)+" item") {
			t.Fatalf("the summary says %q, want %d items", state.Summary, want)
		}
		// Each row marks the word where it was found: in its title, or else
		// in the excerpt of its first prompt.
		unmarked := value(t, b, chromedp.Evaluate[int](`[...document.querySelectorAll("#rows > tr.row")].filter(r => `+
			`!/^fix$/i.test(r.querySelector(".row__link mark, .row__prompt mark")?.textContent ?? "")).length`))
		if unmarked != 0 {
			t.Errorf("%d of %d rows do not mark the searched word", unmarked, len(state.Rows))
		}
		if n := value(t, b, chromedp.Evaluate[int](`document.querySelectorAll("#rows .row__prompt mark").length`)); n == 0 {
			t.Errorf("no row shows the word in its first prompt, though the search reads prompts too")
		}
		if focus := value(t, b, chromedp.Evaluate[string](`document.activeElement.id`)); focus != "search" {
			t.Errorf("the focus moved to %q while typing", focus)
		}

		// A further word narrows the set, and the address follows.
		b.do(t, chromedp.SendKeys(chromedp.CSS("#search"), " timez"))
		b.waitFor(t, "the narrower results", `new URLSearchParams(location.search).get("q") === "fix timez" && `+htmxIdle)
		narrow := value(t, b, chromedp.Evaluate[viewState](readView))
		if got := summaryItems(t, a, "priya", narrow.query(t)); got == 0 || got >= want {
			t.Errorf("fix timez selects %d items, fix %d: the second word must narrow the set", got, want)
		}
		b.expectCleanConsole(t)
	})
}

// A person saves a view, shared with their team, as their landing view:
// it becomes a tab that stays after a reload, opens from the tabs and from
// "/", and a teammate opens it from their own tabs with their own sight.
func TestBrowserSavedViewBecomesATabATeammateOpens(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		a := seededApp(t, s)
		ctx := context.Background()
		priya := viewerOf(t, s, "priya")
		ms, err := s.TeamsOf(ctx, priya)
		mustDo(t, err)
		team := ms[0].Team
		members, err := s.Members(ctx, priya, team.ID)
		mustDo(t, err)
		mate := ""
		for _, m := range members {
			if m.User.Handle != "priya" {
				mate = m.User.Handle
				break
			}
		}

		b := newBrowser(t)
		b.emulate(t, "UTC", "")
		b.do(t, chromedp.Navigate(a.URL+"/signin"))
		b.signInAs(t, "priya")
		b.do(t, chromedp.Navigate(a.URL+"/?tab=all&status=failed&source=-slack"))
		b.do(t,
			chromedp.Click(chromedp.CSS(".menu--save > summary")),
			chromedp.SendKeys(chromedp.CSS(`.save-view input[name=name]`), "Failures not from Slack"),
			chromedp.SetValue(chromedp.CSS(`.save-view select[name=team]`), team.Slug),
			chromedp.Click(chromedp.CSS(`.save-view input[name=landing]`)),
		)
		value(t, b, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(`.save-view button[type=submit]`))))

		const activeTab = `document.querySelector("#tabs [aria-current]")?.firstChild.textContent.trim() ?? ""`
		const savedQuery = "tab=all&source=-slack&status=failed"
		check := func(step string) {
			t.Helper()
			b.waitFor(t, step, `location.search === "?`+savedQuery+`" && `+htmxIdle)
			if got := value(t, b, chromedp.Evaluate[string](activeTab)); got != "Failures not from Slack" {
				t.Fatalf("%s: the tab shown is %q", step, got)
			}
		}
		check("the saved view")
		failed := value(t, b, chromedp.Evaluate[string](`document.querySelector("#tabs .tab__count--failed")?.title ?? ""`))
		q, _ := url.ParseQuery(savedQuery)
		if want := summaryItems(t, a, "priya", q); want == 0 || failed != strconv.FormatInt(want, 10)+" failed" {
			t.Errorf("the tab counts %q failed, want %d", failed, want)
		}
		value(t, b, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Reload()))
		check("the saved view after a reload")

		// From another tab, the saved view is one click away; "/" opens it.
		b.do(t, chromedp.Click(chromedp.CSS(`#tabs a[href="/?tab=personal"]`)))
		b.waitFor(t, "the Personal tab", `location.search === "?tab=personal" && `+htmxIdle)
		b.do(t, chromedp.Click(chromedp.CSS(`#tabs a.tab--saved`)))
		check("the saved view picked from the tabs")
		b.do(t, chromedp.Navigate(a.URL+"/"))
		check("the landing view")

		// The teammate has it as a tab, and sees it with their own sight.
		value(t, b, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(`form[action="/signout"] button`))))
		b.do(t, chromedp.Navigate(a.URL+"/signin"))
		b.signInAs(t, mate)
		b.do(t, chromedp.Navigate(a.URL+"/?tab=personal"))
		b.do(t, chromedp.Click(chromedp.CSS(`#tabs a.tab--saved`)))
		check("the shared view, for a teammate")
		state := value(t, b, chromedp.Evaluate[viewState](readView))
		if want := summaryItems(t, a, mate, q); !strings.HasPrefix(state.Summary, strconv.FormatInt(want, 10)+" item") {
			t.Errorf("the teammate's summary says %q, want their own %d items", state.Summary, want)
		}
		b.expectCleanConsole(t)
	})
}

// The view's keys: / goes to the search (where j is a letter), j and k move
// through the rows, Enter opens one, f opens the filter menus, ? lists the
// keys.
func TestBrowserViewKeys(t *testing.T) {
	a := seededApp(t, apptest.SQLite(t))
	b := newBrowser(t)
	b.emulate(t, "UTC", "")
	b.do(t, chromedp.Navigate(a.URL+"/signin"))
	b.signInAs(t, "priya")
	b.do(t, chromedp.Navigate(a.URL+"/?tab=all"))
	const focusedRow = `document.activeElement.closest("#rows > tr.row")?.id ?? ""`
	rows := value(t, b, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#rows > tr.row")].map(r => r.id)`))
	if len(rows) < 3 {
		t.Fatalf("only %d rows", len(rows))
	}
	// A key as a keyboard sends it: one keyDown carrying its text, so that
	// a page that handles the key stops the text too.
	key := func(k string) {
		t.Helper()
		down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: k, Text: k}
		switch k {
		case kb.Escape:
			down = input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeRawKeyDown, Key: "Escape", Code: "Escape", WindowsVirtualKeyCode: 27}
		case "\r":
			down = input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, Text: "\r"}
		}
		up := down
		up.Type, up.Text = input.DispatchKeyEventTypeKeyUp, ""
		for _, ev := range []input.DispatchKeyEventParams{down, up} {
			if _, err := chromedp.Call(b.ctx, input.DispatchKeyEvent, ev); err != nil {
				t.Fatalf("key %q: %v", k, err)
			}
		}
	}
	expect := func(step, script, want string) {
		t.Helper()
		if got := value(t, b, chromedp.Evaluate[string](script)); got != want {
			t.Fatalf("%s: got %q, want %q", step, got, want)
		}
	}

	key("/")
	expect("/", `document.activeElement.id`, "search")
	key("j")
	expect("j in the search box", `document.getElementById("search").value`, "j")
	b.waitFor(t, "the search for j", `new URLSearchParams(location.search).get("q") === "j" && `+htmxIdle)
	// Automations' rows open their run's page (conversations' rows open
	// the desktop app).
	b.do(t, chromedp.Navigate(a.URL+"/?tab=all&kind=ambient"))
	rows = value(t, b, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#rows > tr.row")].map(r => r.id)`))

	key("j")
	expect("j", focusedRow, rows[0])
	key("j")
	key("j")
	expect("j j j", focusedRow, rows[2])
	key("k")
	expect("k", focusedRow, rows[1])
	value(t, b, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Action[chromedp.Void](func(context.Context, *chromedp.Target) (chromedp.Void, error) {
		key("\r")
		return chromedp.Void{}, nil
	})))
	if loc := value(t, b, chromedp.Location()); loc != a.URL+"/runs/"+strings.TrimPrefix(rows[1], "item-") {
		t.Fatalf("Enter opened %s, want the run of %s", loc, rows[1])
	}
	b.do(t, chromedp.Navigate(a.URL+"/?tab=all"))

	key("f")
	expect("f", `[...document.querySelectorAll("#filters details[open]")].length + " " + document.activeElement.matches("#filters details[open] > summary")`, "1 true")
	key(kb.Escape)
	key("?")
	expect("?", `String(document.getElementById("keys").open)`, "true")
	key("j")
	expect("j with the key list open", focusedRow, "")
	key(kb.Escape)
	expect("Escape", `String(document.getElementById("keys").open)`, "false")
	b.expectCleanConsole(t)
}
