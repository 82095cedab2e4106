package handlers_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// shownRow is what a row of the view shows of its item.
type shownRow struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Source string `json:"source"`
}

// viewState is what the page shows: its address, the ticked filters, the
// summary line and the rows.
type viewState struct {
	URL     string     `json:"url"`
	Checked []string   `json:"checked"`
	Summary string     `json:"summary"`
	Rows    []shownRow `json:"rows"`
}

// checkedFilters lists the ticked filters as name=value.
const checkedFilters = `[...document.querySelectorAll("#filters input:checked")].map(i => i.name + "=" + i.value)`

// readView is a script that returns the page's viewState.
const readView = `({
  url: location.href,
  checked: ` + checkedFilters + `,
  summary: document.querySelector("#summary").textContent.replace(/\s+/g, " ").trim(),
  rows: [...document.querySelectorAll("#rows > tr.row")].map(r => ({
    id: r.id,
    status: r.querySelector(".status__label").textContent.trim(),
    source: r.querySelector(".col-source .source").textContent.trim(),
  })),
})`

func (s viewState) ids() []string {
	ids := make([]string, len(s.Rows))
	for i, r := range s.Rows {
		ids[i] = r.ID
	}
	return ids
}

func (s viewState) query(t *testing.T) url.Values {
	t.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatalf("the page's address %q: %v", s.URL, err)
	}
	return u.Query()
}

// summaryItems is how many items the store counts for handle's view of the
// query string q.
func summaryItems(t *testing.T, a *testApp, handle string, q url.Values) int64 {
	t.Helper()
	ctx := context.Background()
	u, err := a.Store.UserByHandle(ctx, handle)
	if err != nil {
		t.Fatal(err)
	}
	v, err := a.Store.Viewer(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	f, problems := app.ParseFilter(q)
	if len(problems) > 0 {
		t.Fatalf("the page's address %v has problems: %v", q, problems)
	}
	query, _, _, err := a.Store.ResolveFilter(ctx, v, f)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := a.Store.Summary(ctx, query)
	if err != nil {
		t.Fatal(err)
	}
	return sum.Items
}

// TestBrowserViewFiltersSwapTheTableAndTheURLKeepsTheView walks the view as a
// person does (§3, §4): sign in, switch to All, pick filters from the menus,
// reload, go back, load more. The table swaps in place, the address follows
// every change, and a reload or the back button shows the same view again.
func TestBrowserViewFiltersSwapTheTableAndTheURLKeepsTheView(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		a := seededApp(t, s)
		b := newBrowser(t)
		// A zone other than UTC, so that the address carries it as the view's.
		b.emulate(t, "Europe/Berlin", "")
		const handle = "priya"

		b.do(t, chromedp.Navigate(a.URL+"/"))
		if loc := value(t, b, chromedp.Location()); !strings.HasPrefix(loc, a.URL+"/signin") {
			t.Fatalf("signed out, / led to %s, want the sign-in page", loc)
		}
		b.signInAs(t, handle)
		b.waitFor(t, "the view after sign-in", `location.pathname === "/" && !!document.querySelector("#results")`)
		if who := value(t, b, chromedp.Text(chromedp.CSS(".who__name"))); who != "Priya Raman" {
			t.Fatalf("signed in as %q, want Priya Raman", who)
		}

		// Everything from here to the reload happens in this one document.
		loads := b.documentLoads()
		b.do(t, chromedp.Evaluate[chromedp.Void](`window.agentdeckTestMarker = "same document"`))
		sameDocument := func(step string) {
			t.Helper()
			marker := value(t, b, chromedp.Evaluate[string](`String(window.agentdeckTestMarker)`))
			if marker != "same document" || b.documentLoads() != loads {
				t.Fatalf("%s reloaded the page (marker %q, %d document loads, want %d)", step, marker, b.documentLoads(), loads)
			}
		}

		b.do(t, chromedp.Click(chromedp.CSS(`#tabs a[href*="tab=all"]`)))
		b.waitFor(t, "the All tab", `location.search.includes("tab=all") && `+
			`document.querySelector("#tabs [aria-current]").textContent.trim() === "All" && `+htmxIdle)
		sameDocument("switching to All")
		all := value(t, b, chromedp.Evaluate[viewState](readView))
		if q := all.query(t); q.Get("tab") != "all" || q.Get("tz") != "Europe/Berlin" {
			t.Errorf("after switching tabs the address is %s, want tab=all and tz=Europe/Berlin", all.URL)
		}

		b.do(t,
			chromedp.Click(chromedp.CSS(`#filters details:has(input[name=status]) > summary`)),
			chromedp.Click(chromedp.CSS(`#filters input[name=status][value=failed]`)),
		)
		b.waitFor(t, "the failed runs", `new URLSearchParams(location.search).getAll("status").join() === "failed" && `+
			`[...document.querySelectorAll("#rows .status__label")].every(l => l.textContent.trim() === "Failed") && `+htmxIdle)
		sameDocument("picking a status")
		failed := value(t, b, chromedp.Evaluate[viewState](readView))

		b.do(t,
			chromedp.Click(chromedp.CSS(`#filters details:has(input[name=source]) > summary`)),
			chromedp.Click(chromedp.CSS(`#filters input[name=source][value=slack]`)),
		)
		b.waitFor(t, "the failed runs from Slack", `new URLSearchParams(location.search).getAll("source").join() === "slack" && `+
			`[...document.querySelectorAll("#rows .col-source .source")].every(c => c.textContent.trim() === "Slack") && `+htmxIdle)
		sameDocument("picking a source")
		slack := value(t, b, chromedp.Evaluate[viewState](readView))

		q := slack.query(t)
		if q.Get("tab") != "all" || !slices.Equal(q["status"], []string{"failed"}) || !slices.Equal(q["source"], []string{"slack"}) {
			t.Errorf("the address is %s, want tab=all, status=failed and source=slack", slack.URL)
		}
		if len(slack.Rows) == 0 {
			t.Fatal("no rows for failed runs from Slack; the demo data has some")
		}
		for _, r := range slack.Rows {
			if r.Status != "Failed" || r.Source != "Slack" {
				t.Errorf("row %s shows %s from %s, want Failed from Slack", r.ID, r.Status, r.Source)
			}
		}
		want := summaryItems(t, a, handle, q)
		if !strings.HasPrefix(slack.Summary, fmt.Sprintf("%d items ·", want)) {
			t.Errorf("summary %q, want it to start with %q", slack.Summary, fmt.Sprintf("%d items ·", want))
		}
		if slack.Summary == all.Summary || slack.Summary == failed.Summary {
			t.Errorf("the summary stayed %q after filtering", slack.Summary)
		}
		if wantRows := min(want, app.PageSize); int64(len(slack.Rows)) != wantRows {
			t.Errorf("%d rows shown, want %d", len(slack.Rows), wantRows)
		}
		if wantChecked := []string{"source=slack", "status=failed", "day="}; !slices.Equal(slack.Checked, wantChecked) {
			t.Errorf("ticked filters %v, want %v", slack.Checked, wantChecked)
		}

		// A reload is a new document that shows the same view.
		b.do(t, chromedp.Reload())
		if b.documentLoads() != loads+1 {
			t.Fatalf("the reload made %d document loads, want 1", b.documentLoads()-loads)
		}
		if marker := value(t, b, chromedp.Evaluate[string](`String(window.agentdeckTestMarker)`)); marker != "undefined" {
			t.Fatalf("the marker %q survived the reload; the test cannot tell a swap from a reload", marker)
		}
		reloaded := value(t, b, chromedp.Evaluate[viewState](readView))
		if reloaded.URL != slack.URL || !slices.Equal(reloaded.Checked, slack.Checked) ||
			reloaded.Summary != slack.Summary || !slices.Equal(reloaded.ids(), slack.ids()) {
			t.Errorf("after the reload the page shows\n%+v\nwant the same view as before\n%+v", reloaded, slack)
		}

		// Back is the view before the source was picked.
		b.do(t, chromedp.NavigateBack())
		// The address changes first; the page follows when htmx has fetched it.
		b.waitFor(t, "the previous view", fmt.Sprintf(`location.href === %q && %s.join() === %q && %s`,
			failed.URL, checkedFilters, strings.Join(failed.Checked, ","), htmxIdle))
		back := value(t, b, chromedp.Evaluate[viewState](readView))
		if !slices.Equal(back.Checked, failed.Checked) || back.Summary != failed.Summary || !slices.Equal(back.ids(), failed.ids()) {
			t.Errorf("after going back the page shows\n%+v\nwant the view before the source was picked\n%+v", back, failed)
		}

		// Load more appends the next page and leaves the address alone.
		if len(back.Rows) != app.PageSize {
			t.Fatalf("%d failed runs shown, want a full page of %d to load more after", len(back.Rows), app.PageSize)
		}
		loads = b.documentLoads()
		b.do(t, chromedp.Evaluate[chromedp.Void](`window.agentdeckTestMarker = "same document"`))
		b.do(t, chromedp.Click(chromedp.CSS(`#pager a`)))
		b.waitFor(t, "more rows", fmt.Sprintf(`document.querySelectorAll("#rows > tr.row").length > %d && %s`, app.PageSize, htmxIdle))
		sameDocument("loading more")
		more := value(t, b, chromedp.Evaluate[viewState](readView))
		if more.URL != back.URL {
			t.Errorf("loading more changed the address to %s, want it to stay %s", more.URL, back.URL)
		}
		if !slices.Equal(more.ids()[:app.PageSize], back.ids()) {
			t.Errorf("loading more changed the first page's rows")
		}
		seen := map[string]bool{}
		for _, r := range more.Rows {
			if seen[r.ID] {
				t.Errorf("row %s is shown twice", r.ID)
			}
			seen[r.ID] = true
			if r.Status != "Failed" {
				t.Errorf("loaded row %s shows %s, want Failed", r.ID, r.Status)
			}
		}
		if total := summaryItems(t, a, handle, more.query(t)); int64(len(more.Rows)) != min(total, 2*app.PageSize) {
			t.Errorf("%d rows after loading more, want %d", len(more.Rows), min(total, 2*app.PageSize))
		}

		b.expectCleanConsole(t)
	})
}

// TestBrowserViewMenusAndRowsWorkByKeyboardAndMouse: the filter menus open
// and close like menus, by keyboard and by mouse, and a row is one link
// wherever it is clicked, while its creation time still shows the exact time
// on hover.
func TestBrowserViewMenusAndRowsWorkByKeyboardAndMouse(t *testing.T) {
	a := seededApp(t, apptest.SQLite(t))
	b := newBrowser(t)
	b.emulate(t, "UTC", "")
	b.do(t, chromedp.Navigate(a.URL+"/signin"))
	b.signInAs(t, "priya")
	b.do(t, chromedp.Navigate(a.URL+"/?tab=all"))

	const openMenus = `[...document.querySelectorAll("#filters details[open] > summary")].map(s => s.firstChild.textContent.trim()).join()`
	const focused = `(document.activeElement.matches("summary") ? "summary " + document.activeElement.firstChild.textContent.trim() : ` +
		`document.activeElement.name + "=" + document.activeElement.value)`
	expect := func(step, script, want string) {
		t.Helper()
		if got := value(t, b, chromedp.Evaluate[string](script)); got != want {
			t.Fatalf("%s: got %q, want %q", step, got, want)
		}
	}
	statusMenu := chromedp.CSS(`#filters details:has(input[name=status]) > summary`)

	// Keyboard: Enter opens, Tab walks into the menu, Space ticks a box,
	// Escape closes and returns to the menu's button.
	b.do(t, chromedp.Focus(statusMenu), chromedp.KeyEvent("\r"))
	expect("Enter on the Status menu", openMenus, "Status")
	b.do(t, chromedp.KeyEvent("\t"))
	expect("Tab into the open menu", focused, "status=working")
	b.do(t, chromedp.KeyEvent(" "))
	b.waitFor(t, "the working runs", `new URLSearchParams(location.search).getAll("status").join() === "working" && `+htmxIdle)
	expect("the menu after ticking a box", openMenus, "Status")
	expect("the focus after ticking a box", focused, "status=working")
	b.do(t, chromedp.KeyEvent(kb.Escape))
	expect("Escape", openMenus, "")
	expect("the focus after Escape", focused, "summary Status")

	// Moving the focus out of an open menu closes it.
	b.do(t, chromedp.KeyEvent("\r"))
	expect("Enter again", openMenus, "Status")
	b.do(t, chromedp.KeyEvent("\t", chromedp.KeyModifiers(chromedp.ModifierShift)))
	expect("Shift+Tab out of the menu", focused, "summary Source")
	expect("the menus after Shift+Tab out", openMenus, "")

	// Mouse: one menu at a time, and a click elsewhere closes it.
	b.do(t, chromedp.Click(chromedp.CSS(`#filters details:has(input[name=source]) > summary`)))
	expect("a click on Source", openMenus, "Source")
	b.do(t, chromedp.Click(chromedp.CSS(`#filters details:has(input[name=creator]) > summary`)))
	expect("a click on Creator while Source is open", openMenus, "Creator")
	b.do(t, chromedp.Click(chromedp.CSS(`.view__head h1`)))
	expect("a click outside the menus", openMenus, "")

	// The row's link covers the row: what lies under the middle of an
	// ambient run's source cell is the title's link. Its creation time lies
	// above the link, carrying the exact time, and a click on it still opens
	// the row.
	const underSource = `(() => {
	  const row = document.querySelector("#rows > tr.row--ambient"), r = row.querySelector(".col-source").getBoundingClientRect();
	  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
	  return hit.matches(".row__link") && hit.closest("tr") === row ? "the row's link" : hit.outerHTML;
	})()`
	expect("under the source cell", underSource, "the row's link")
	type point struct {
		X, Y     float64
		Title    string
		Datetime string
		Hit      bool
		Row      string
	}
	created := value(t, b, chromedp.Evaluate[point](`(() => {
	  const row = document.querySelector("#rows > tr.row--ambient"), time = row.querySelector(".col-created time"), r = time.getBoundingClientRect();
	  const x = r.left + r.width / 2, y = r.top + r.height / 2;
	  return {X: x, Y: y, Title: time.title, Datetime: time.dateTime, Hit: document.elementFromPoint(x, y) === time, Row: row.id};
	})()`))
	if !created.Hit {
		t.Errorf("the creation time is under the row's link, so hovering it cannot show the exact time")
	}
	at, err := time.Parse(time.RFC3339, created.Datetime)
	if err != nil {
		t.Fatalf("the creation time's datetime %q: %v", created.Datetime, err)
	}
	if want := at.Format("Jan 2, 2006 15:04:05"); !strings.Contains(created.Title, want) {
		t.Errorf("the creation time's title is %q, want the exact time %s", created.Title, want)
	}
	b.expectCleanConsole(t)

	// The run's own page does not exist yet; only the address matters here.
	value(t, b, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.MouseClickXY(created.X, created.Y)))
	want := a.URL + "/runs/" + strings.TrimPrefix(created.Row, "item-")
	if loc := value(t, b, chromedp.Location()); loc != want {
		t.Errorf("a click on the creation time led to %s, want %s", loc, want)
	}
}
