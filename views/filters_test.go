package views

import (
	"net/url"
	"strings"
	"testing"

	"github.com/agentdeck/agentdeck/app"
)

var (
	formViewer    = &app.User{ID: 1, Handle: "maya", Name: "Maya Chen"}
	formTeammates = []*app.User{formViewer, {ID: 2, Handle: "ana", Name: "Ana Lopez"}, {ID: 3, Handle: "ben"}}
	formFacets    = app.Facets{Repos: []string{"acme/web", "acme/api"}}
)

// filterFormOf renders the form of the view a query string asks for.
func filterFormOf(t *testing.T, query string) string {
	t.Helper()
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	f, problems := app.ParseFilter(q)
	if len(problems) > 0 {
		t.Fatalf("%s: %v", query, problems)
	}
	return string(FilterForm(ViewPage{Layout: Layout{User: formViewer}, Filter: f, Teammates: formTeammates, Menus: Menus(f, formFacets)}))
}

func assertContains(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("the form lacks %s:\n%s", w, out)
		}
	}
}

func assertLacks(t *testing.T, out string, bads ...string) {
	t.Helper()
	for _, bad := range bads {
		if strings.Contains(out, bad) {
			t.Errorf("the form has %s:\n%s", bad, out)
		}
	}
}

func TestFilterFormTicksTheValuesChosen(t *testing.T) {
	out := filterFormOf(t, "tab=all&source=slack&status=-success&repo=acme/web&repo=-acme/legacy&creator=maya&creator=-ben&day=7d")
	assertContains(t, out,
		`<input type="hidden" name="tab" value="all">`,
		// Kept values are ticked, in a menu that keeps.
		`<summary>Source <span class="count">1</span></summary>`,
		`<input type="checkbox" name="source" value="slack" checked>`,
		`<input type="checkbox" name="source" value="cli">`,
		`<input type="checkbox" name="source_mode" value="not">`,
		// A choice that only leaves out ticks those values, in that mode.
		`<input type="checkbox" name="status" value="success" checked>`,
		`<input type="checkbox" name="status" value="failed">`,
		`<input type="checkbox" name="status_mode" value="not" checked>`,
		// A choice that does both shows what it keeps and carries the rest.
		`<input type="checkbox" name="repo" value="acme/web" checked>`,
		`<input type="checkbox" name="repo" value="acme/legacy">`,
		`<input type="hidden" name="repo" value="-acme/legacy">`,
		`<input type="checkbox" name="repo_mode" value="not">`,
		// The people likewise, the viewer marked.
		`<summary>Creator <span class="count">2</span></summary>`,
		`<input type="checkbox" name="creator" value="maya" checked>`,
		`> Maya Chen <span class="muted">(me)</span></label>`,
		`<input type="checkbox" name="creator" value="ana">`,
		`<input type="checkbox" name="creator" value="ben">`,
		`<input type="hidden" name="creator" value="-ben">`,
		`<input type="checkbox" name="creator_mode" value="not">`,
		// A shortcut day.
		`<summary>Day <span class="count">1</span></summary>`,
		`<input type="radio" name="day" value="">`,
		`<input type="radio" name="day" value="7d" checked>`,
		`<input type="radio" name="day" value="date" data-day-date>`,
		`<input type="date" name="date" value=""`,
	)
	assertLacks(t, out, `<summary>Who started it <span`, `hx-swap-oob`)
	if n := strings.Count(out, `(me)`); n != 1 {
		t.Errorf("(me) %d times, want once:\n%s", n, out)
	}
	if n := strings.Count(out, ` checked>`); n != 6 {
		t.Errorf("%d boxes ticked, want 6:\n%s", n, out)
	}
}

func TestFilterFormLeavesCreatorsOutAndCarriesThemOnPersonal(t *testing.T) {
	out := filterFormOf(t, "tab=all&creator=-ana&creator=-ben")
	assertContains(t, out,
		`<input type="checkbox" name="creator" value="maya">`,
		`<input type="checkbox" name="creator" value="ana" checked>`,
		`<input type="checkbox" name="creator" value="ben" checked>`,
		`<input type="checkbox" name="creator_mode" value="not" checked>`,
		`<input type="radio" name="day" value="" checked>`,
	)
	assertLacks(t, out, `type="hidden" name="creator"`)

	// Personal lists only one's own runs: no menu of people, but the
	// creators chosen stay in the form for the next change.
	out = filterFormOf(t, "creator=ana&creator=-ben")
	assertContains(t, out,
		`<input type="hidden" name="creator" value="ana">`,
		`<input type="hidden" name="creator" value="-ben">`,
	)
	assertLacks(t, out, `<summary>Creator`, `type="checkbox" name="creator"`, `name="tab"`)
}

func TestFilterFormShowsADate(t *testing.T) {
	out := filterFormOf(t, "day=2026-02-28&tz=Asia/Tokyo")
	assertContains(t, out,
		`<input type="hidden" name="tz" value="Asia/Tokyo" data-tz>`,
		`<input type="radio" name="day" value="">`,
		`<input type="radio" name="day" value="today">`,
		`<input type="radio" name="day" value="date" data-day-date checked>`,
		`<input type="date" name="date" value="2026-02-28"`,
	)
}

func TestFilterFormEscapesEverythingItShows(t *testing.T) {
	evil := `"><script>alert(1)</script>&'+`
	f := app.Filter{
		Tab: app.TabAll, Query: evil, TZ: evil, Day: evil,
		Models:   app.Choice[string]{Is: []string{evil}},
		Branches: app.Choice[string]{Is: []string{"main"}, Not: []string{evil}},
		Creators: app.Choice[string]{Is: []string{"ana"}, Not: []string{evil}},
	}
	teammates := []*app.User{{ID: 2, Handle: evil, Name: evil, AvatarURL: "javascript:alert(2)"}}
	out := string(FilterForm(ViewPage{Filter: f, Teammates: teammates, Menus: Menus(f, app.Facets{Agents: []string{evil}})}))
	assertLacks(t, out, "<script", "javascript:", "'+", "&'")
	const escaped = `&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;&#39;+`
	assertContains(t, out,
		`name="q" value="`+escaped+`"`,
		`name="tz" value="`+escaped+`"`,
		`name="date" value="`+escaped+`"`,
		`<input type="checkbox" name="agent" value="`+escaped+`"> `+escaped+`</label>`,
		`<input type="checkbox" name="model" value="`+escaped+`" checked> `+escaped+`</label>`,
		`<input type="hidden" name="branch" value="-`+escaped+`">`,
		`<input type="hidden" name="creator" value="-`+escaped+`">`,
		`<input type="checkbox" name="creator" value="`+escaped+`">`,
		`</span> `+escaped+`</label>`,
	)
}

// The form comes out of band exactly when a fragment must bring it in line:
// the full page has it in place, and a change made in the form leaves it.
func TestFilterFormSwapsOutOfBandOnlyWhenAsked(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	const oob = `<form id="filters" class="filters" action="/" method="get" hx-get="/" hx-trigger="change" hx-sync="this:replace" hx-swap-oob="true">`
	const inPlace = `<form id="filters" class="filters" action="/" method="get" hx-get="/" hx-trigger="change" hx-sync="this:replace">`
	page := benchFilterPage()
	for _, c := range []struct {
		template        Template
		fragment, oob   bool
		inPlace, outOOB int
	}{
		{PageView, false, false, 1, 0},
		{ViewFragment, true, true, 0, 1},
		{ViewFragment, true, false, 0, 0},
	} {
		page.Fragment, page.FiltersOOB = c.fragment, c.oob
		var b strings.Builder
		if err := r.Render(&b, c.template, page); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if got := strings.Count(out, inPlace); got != c.inPlace {
			t.Errorf("%s with FiltersOOB %v: %d forms in place, want %d", c.template, c.oob, got, c.inPlace)
		}
		if got := strings.Count(out, oob); got != c.outOOB {
			t.Errorf("%s with FiltersOOB %v: %d forms out of band, want %d", c.template, c.oob, got, c.outOOB)
		}
	}
}
