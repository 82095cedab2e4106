package app_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
)

// A search finds items by the stems of its words, in the title or the first
// prompt, in any order, the last word also as the start of a word; across
// pages, and only among what the viewer may see.
func TestSearchByStemPrefixAndPrompt(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		shared := func(prompt string) func(*app.Item) {
			return func(it *app.Item) {
				it.TeamID, it.Visibility, it.FirstPrompt = w.red.ID, app.VisibilityTeam, prompt
			}
		}
		w.item(t, w.alice, "Fix the billing webhook retries", nil)
		w.item(t, w.alice, "Upgrade the Postgres driver", shared("bump pgx and fix the flaky migrations test"))
		w.item(t, w.bob, "Nightly dependency audit", shared("look for vulnerable webhooks packages"))
		w.item(t, w.bob, "bob's private billing report", nil)
		w.item(t, w.carol, "carol's billing fix", nil)
		for i := range 5 {
			w.item(t, w.alice, fmt.Sprintf("Triage flaky test %d", i), nil)
		}

		flaky := []string{"Upgrade the Postgres driver"}
		for i := range 5 {
			flaky = append(flaky, fmt.Sprintf("Triage flaky test %d", i))
		}
		cases := []struct {
			query string
			want  []string
		}{
			{"tab=all&q=fixing", []string{"Fix the billing webhook retries", "Upgrade the Postgres driver"}},
			{"tab=all&q=webhooks", []string{"Fix the billing webhook retries", "Nightly dependency audit"}},
			{"tab=all&q=bill", []string{"Fix the billing webhook retries"}},
			{"tab=all&q=billing+web", []string{"Fix the billing webhook retries"}},
			{"tab=all&q=webhook+BILLING", []string{"Fix the billing webhook retries"}},
			{"tab=all&q=fix-billing", []string{"Fix the billing webhook retries"}},
			{"tab=all&q=pgx", []string{"Upgrade the Postgres driver"}},
			{"tab=all&q=flaky", flaky},
			{"tab=all&q=flaky&status=-success", nil},
			{"tab=all&q=flaky&creator=-alice", nil},
			{"tab=all&q=zebra", nil},
			{"q=audit", nil},
		}
		for _, c := range cases {
			sameSet(t, "alice "+c.query, w.titles(t, w.alice, c.query), c.want)
		}
		sameSet(t, "bob billing", w.titles(t, w.bob, "tab=all&q=billing"), []string{"bob's private billing report"})
		sameSet(t, "carol webhook", w.titles(t, w.carol, "tab=all&q=webhook"), nil)
	})
}

// Text that means something to a search syntax is searched for as words,
// never read as syntax or SQL.
func TestSearchTreatsSyntaxAsWords(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		w.item(t, w.alice, `Quote "NEAR" the AND OR NOT gate`, nil)
		for _, q := range []string{`"`, `*`, `NEAR(a b)`, `a:*`, `') OR 1=1 --`, `!&|`, `AND`, `title:x`, `^quote`, `-`, "\u00e9t\u00e9"} {
			query, _, _, err := w.s.ResolveFilter(context.Background(), w.alice, app.Filter{Query: q})
			mustOK(t, err)
			if _, err := w.s.Items(context.Background(), query, 10); err != nil {
				t.Errorf("search %q: %v", q, err)
			}
		}
		sameSet(t, "near", w.titles(t, w.alice, "q=NEAR(gate"), []string{`Quote "NEAR" the AND OR NOT gate`})
	})
}

// A title that changes is searched by its new words, not its old ones.
func TestSearchFollowsATitleChange(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		it := w.item(t, w.alice, "Untitled session", nil)
		title := "Refactor the invoice exporter"
		_, err := w.s.UpdateRun(context.Background(), w.alice, it.ID, app.RunChange{Title: &title})
		mustOK(t, err)
		sameSet(t, "new words", w.titles(t, w.alice, "q=invoices"), []string{"Refactor the invoice exporter"})
		sameSet(t, "old words", w.titles(t, w.alice, "q=untitled"), nil)
	})
}

// Every choice keeps its values, or with a leading "-" (or its _mode=not)
// leaves them out; a value both kept and left out is left out.
func TestChoicesKeepAndLeaveOut(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		agent := func(team *app.Team, name, models, repo, branch string) func(*app.Item) {
			return func(it *app.Item) {
				it.AgentName, it.Models, it.Where.Repo, it.Where.Branch = name, models, repo, branch
				if team != nil {
					it.TeamID, it.Visibility = team.ID, app.VisibilityTeam
				}
			}
		}
		w.item(t, w.bob, "claude web main", agent(w.red, "claude-code", "claude-sonnet-4-5,claude-haiku-4-5", "acme/web", "main"))
		w.item(t, w.bob, "codex web fix", agent(w.red, "codex", "gpt-5-codex", "acme/web", "fix/billing"))
		w.item(t, w.bob, "codex api blue", agent(w.blue, "codex", "gpt-5", "acme/api", "main"))
		w.item(t, w.bob, "gemini private", agent(nil, "gemini-cli", "gemini-2.5-pro", "acme/api", "spike"))
		w.item(t, w.bob, "plain cli run", nil)
		w.item(t, w.carol, "carol codex blue", agent(w.blue, "codex", "gpt-5", "acme/api", "main"))
		w.item(t, w.carol, "carol failed blue", func(it *app.Item) {
			it.TeamID, it.Visibility, it.Status = w.blue.ID, app.VisibilityTeam, app.StatusFailed
		})

		all := []string{"claude web main", "codex web fix", "codex api blue", "gemini private", "plain cli run", "carol codex blue", "carol failed blue"}
		cases := []struct {
			query string
			want  []string
		}{
			{"tab=all", all},
			{"tab=all&agent=codex", []string{"codex web fix", "codex api blue", "carol codex blue"}},
			{"tab=all&agent=-codex", []string{"claude web main", "gemini private", "plain cli run", "carol failed blue"}},
			{"tab=all&agent=codex&agent=claude-code&agent_mode=not", []string{"gemini private", "plain cli run", "carol failed blue"}},
			{"tab=all&agent=codex&agent=-codex", []string{"claude web main", "gemini private", "plain cli run", "carol failed blue"}},
			{"tab=all&model=claude-haiku-4-5", []string{"claude web main"}},
			{"tab=all&model=gpt-5", []string{"codex api blue", "carol codex blue"}},
			{"tab=all&model=-gpt-5&agent=codex", []string{"codex web fix"}},
			{"tab=all&model=claude%25", nil},
			{"tab=all&repo=acme/api&branch=main", []string{"codex api blue", "carol codex blue"}},
			{"tab=all&branch=-main&repo=acme/web", []string{"codex web fix"}},
			{"tab=all&team=blue", []string{"codex api blue", "carol codex blue", "carol failed blue"}},
			{"tab=all&team=-blue", []string{"claude web main", "codex web fix", "gemini private", "plain cli run"}},
			{"tab=all&team=red&team=blue&team_mode=not", []string{"gemini private", "plain cli run"}},
			{"tab=all&creator=-bob", []string{"carol codex blue", "carol failed blue"}},
			{"tab=all&creator=-carol&status=-success", nil},
			{"tab=all&creator=-bob&creator=-carol", nil},
			{"tab=all&status=failed&status=-failed", []string{"claude web main", "codex web fix", "codex api blue", "gemini private", "plain cli run", "carol codex blue"}},
			{"tab=all&kind=-ambient", nil},
			{"tab=all&source=-cli", nil},
		}
		for _, c := range cases {
			sameSet(t, "bob "+c.query, w.titles(t, w.bob, c.query), c.want)
		}
	})
}

// The menus offer the values of the viewer's own recent items and those
// shared with them, never another team's.
func TestFacetsOfferWhatTheViewerSees(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		w.item(t, w.alice, "alice's", func(it *app.Item) {
			it.AgentName, it.Models, it.Where.Repo, it.Where.Branch = "claude-code", "claude-sonnet-4-5,claude-haiku-4-5", "acme/web", "main"
		})
		w.item(t, w.bob, "bob's shared", func(it *app.Item) {
			it.TeamID, it.Visibility, it.AgentName, it.Models, it.Where.Repo = w.red.ID, app.VisibilityTeam, "codex", "gpt-5", "acme/api"
		})
		w.item(t, w.carol, "carol's blue", func(it *app.Item) {
			it.TeamID, it.Visibility, it.AgentName, it.Where.Repo = w.blue.ID, app.VisibilityTeam, "gemini-cli", "secret/repo"
		})
		personal, err := w.s.Facets(context.Background(), w.alice, app.TabPersonal)
		mustOK(t, err)
		sameSet(t, "personal agents", personal.Agents, []string{"claude-code"})
		sameSet(t, "personal models", personal.Models, []string{"claude-haiku-4-5", "claude-sonnet-4-5"})
		all, err := w.s.Facets(context.Background(), w.alice, app.TabAll)
		mustOK(t, err)
		sameSet(t, "all agents", all.Agents, []string{"claude-code", "codex"})
		sameSet(t, "all repos", all.Repos, []string{"acme/api", "acme/web"})
		sameSet(t, "all branches", all.Branches, []string{"main"})
		if len(all.Teams) != 1 || all.Teams[0].Slug != "red" {
			t.Errorf("alice's teams: %+v", all.Teams)
		}
	})
}

// A search's summary counts its matches up to SearchSummaryCap; beyond, it
// says there are more rather than reading every one.
func TestSearchSummaryCountsUpToItsCap(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		for i := range app.SearchSummaryCap + 1 {
			status := app.StatusSuccess
			if i < 3 {
				status = app.StatusFailed
			}
			w.item(t, w.alice, fmt.Sprintf("Flaky test %d", i), func(it *app.Item) { it.Status, it.Inference = status, app.Credits(1_000_000) })
		}
		w.item(t, w.alice, "Something else", nil)
		summary := func(raw string) app.Summary {
			t.Helper()
			q, err := url.ParseQuery(raw)
			mustOK(t, err)
			view, err := s.ViewOf(ctx, w.alice, q, app.ViewOptions{Rows: -1, Summary: true})
			mustOK(t, err)
			return view.Summary
		}
		if got := summary("q=flaky"); !got.More || got.Items != app.SearchSummaryCap {
			t.Errorf("q=flaky: %+v, want more than %d", got, app.SearchSummaryCap)
		}
		if got := summary("q=flaky&status=failed"); got.More || got.Items != 3 || got.Failed != 3 || got.Credits != app.Credits(3_000_000) {
			t.Errorf("q=flaky&status=failed: %+v, want 3 failed items of 3 credits", got)
		}
		if got := summary("q=else"); got.More || got.Items != 1 {
			t.Errorf("q=else: %+v, want one item", got)
		}
		if got := summary(""); got.More || got.Items != int64(app.SearchSummaryCap)+2 {
			t.Errorf("no search: %+v, want every item counted", got)
		}
		// Matches older than the newest items the summary looks at first
		// (two thousand an arm) are not counted past the cap either.
		for i := range 2000 {
			w.item(t, w.alice, fmt.Sprintf("Routine chore %d", i), nil)
		}
		if got := summary("q=flaky"); !got.More || got.Items != app.SearchSummaryCap {
			t.Errorf("q=flaky behind newer items: %+v, want more than %d", got, app.SearchSummaryCap)
		}
		if got := summary("q=flaky&status=failed"); got.More || got.Items != 3 || got.Credits != app.Credits(3_000_000) {
			t.Errorf("q=flaky&status=failed behind newer items: %+v, want 3 items of 3 credits", got)
		}
	})
}

// A search's summary counts the same whichever way it reads: the look at the
// arms' newest rows when it read them all, the search index asked for more
// than the cap of the words matched whole (so "flaky", not "flak"), a
// longer walk along the arms sized from the look's density when that reads
// them all or finds more than the cap, and else, or when the walk would be
// too long, the search index.
func TestSearchSummaryWalksOrAsksTheIndexAlike(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		s.CacheViews(false) // items are stored beside the store's own writes
		probe := app.SearchProbe
		oldest := w.now.Add(-20 * 24 * time.Hour)
		var want app.Summary
		// add stores n of alice's items, oldest first, ending at end; those
		// for which match says so are "Flaky" runs, failed and of 1.5 credits.
		add := func(n int, end time.Time, match func(i int) bool) {
			t.Helper()
			items := make([]*app.Item, n)
			for i := range items {
				it := &app.Item{Kind: app.KindAmbient, Source: app.SourceCLI, Status: app.StatusSuccess, Title: "Routine chore",
					CreatorID: w.alice.User.ID, CreatedAt: end.Add(time.Duration(i-n) * time.Second), Visibility: app.VisibilityPrivate}
				if match(i) {
					it.Title, it.Status, it.Inference = fmt.Sprintf("Flaky test %d", i), app.StatusFailed, app.Credits(1_500_000)
					want.Items++
					want.Failed++
					want.Credits += it.Inference
				}
				it.StartedAt = it.CreatedAt
				items[i] = it
			}
			mustOK(t, s.CreateItemsAtOnce(ctx, items))
		}
		check := func(step string) {
			t.Helper()
			for _, raw := range []string{"q=flaky", "q=flak"} {
				q, err := url.ParseQuery(raw)
				mustOK(t, err)
				for _, how := range []string{"as it is", "through the search index"} {
					if how != "as it is" {
						defer app.SetSummaryWalk(t, 0)()
					}
					view, err := s.ViewOf(ctx, w.alice, q, app.ViewOptions{Rows: app.PageSize, Summary: true})
					mustOK(t, err)
					if view.Summary != want {
						t.Errorf("%s, %s counted %s: %+v, want %+v", step, raw, how, view.Summary, want)
					}
					if len(view.Page.Items) != min(int(want.Items), app.PageSize) {
						t.Errorf("%s, %s counted %s: a page of %d", step, raw, how, len(view.Page.Items))
					}
				}
			}
		}
		// A look at the newest finds a match in ten, fewer than the cap; a
		// walk of eight looks' worth reads every row.
		add(2*probe, oldest.Add(10*24*time.Hour), func(i int) bool { return i%10 == 0 })
		add(probe, oldest.Add(5*24*time.Hour), func(int) bool { return false })
		check("every row walked")
		// Five matches lie beyond the walk's rows: the index counts them.
		add(6*probe, oldest, func(i int) bool { return i < 5 })
		check("matches beyond the walk")
		// Older still, as many again as make the cap: counted, not "more".
		add(app.SearchSummaryCap-int(want.Items), oldest.Add(-24*time.Hour), func(int) bool { return true })
		if want.Items != app.SearchSummaryCap {
			t.Fatalf("%d matches, want the cap", want.Items)
		}
		check("exactly the cap")
		// The newest match one in eight: the walk finds more than the cap.
		add(6*probe, w.now.Add(-time.Hour), func(i int) bool { return i%8 == 0 })
		want = app.Summary{Items: app.SearchSummaryCap, More: true}
		check("more than the cap")
	})
}

// A search's pages hold exactly its matches, newest first, however each
// arm is read: along its own index where its newest items hold a page of
// matches, through the search index where they do not (from the newest page
// found on, or for all matches when the first arms found less than a page).
func TestSearchPagesHoldEveryMatchNewestFirst(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		var items []*app.Item
		add := searchRuns(w, &items)
		// With SearchProbe rows looked at and three times as many checked
		// one by one at most: alice's own items, one every two minutes, match
		// a little less than a page among her newest, and a page among all
		// of hers. bob's, shared with alice's team, crowd the last ten
		// minutes and match rarely there, but often in the hours before,
		// within the first page. carol's, shared with alice's other team
		// and newer than all, match among her newest as if three times as
		// many held a page, but they do not: the page reaches her oldest.
		// One word matches a handful of items only.
		probe := app.SearchProbe
		app.SetSearchWalk(t, int64(3*probe))
		mustOK(t, s.AddMember(ctx, w.blue.ID, w.alice.User.ID, app.RoleMember))
		w.alice = w.viewer(t, w.alice.User)
		n := probe + 300
		end := 2 * n
		for i := range n {
			title := "Routine chore"
			if i >= 300 && i%(probe/40) == 0 || i < 300 && i%5 == 0 {
				title = "Billing report"
			}
			if i == n/2 || i == n-5 {
				title = "Webhook billing retry"
			}
			add(w.alice, time.Duration(2*i)*time.Minute, title, false)
		}
		for i := range 300 {
			title := "Routine chore"
			if i%4 == 0 {
				title = "Billing export"
			}
			if i == 10 {
				title = "Webhook retry"
			}
			add(w.bob, time.Duration(end-600+2*i)*time.Minute, title, true)
		}
		for i := range probe {
			title := "Routine chore"
			if i%100 == 0 {
				title = "Billing export"
			}
			if i == probe-1 {
				title = "Webhook retry"
			}
			add(w.bob, time.Duration(end-10)*time.Minute+time.Duration(i)*300*time.Millisecond, title, true)
		}
		for i := range 4 * probe {
			title := "Routine chore"
			switch {
			case i < probe && i%2 == 0, // her oldest
				i >= probe && i < 3*probe && i%(probe/2) == 0,
				i >= 3*probe && i%(probe/40) == 0: // her newest
				title = "Billing audit"
			}
			add(w.carol, time.Duration(end)*time.Minute+time.Duration(i)*time.Second, title, false)
			items[len(items)-1].TeamID, items[len(items)-1].Visibility = w.blue.ID, app.VisibilityTeam
		}
		slices.SortFunc(items, func(a, b *app.Item) int { return a.CreatedAt.Compare(b.CreatedAt) })
		mustOK(t, s.CreateItemsAtOnce(ctx, items))

		for _, search := range []string{"billing", "webhook"} {
			var want []string
			for i := len(items) - 1; i >= 0; i-- {
				if strings.Contains(strings.ToLower(items[i].Title), search) {
					want = append(want, items[i].ID)
				}
			}
			f, problems := app.ParseFilter(url.Values{"tab": {"all"}, "q": {search}})
			if len(problems) > 0 {
				t.Fatal(problems)
			}
			got := everyPage(t, s, w.alice, f, len(want))
			if !slices.Equal(got, want) {
				t.Errorf("q=%s: %d items, want %d matches newest first", search, len(got), len(want))
				for i := range min(len(got), len(want)) {
					if got[i] != want[i] {
						t.Errorf("q=%s: the first difference is at %d", search, i)
						break
					}
				}
			}
		}
	})
}

// A search asks its index for the words together with keys that the arm and
// the filters imply (on PostgreSQL; see whereArmSearch): whatever the arm,
// tab and filters, it keeps exactly the rows the same view without the
// search keeps that have the words, and a search of English stop words alone
// keeps none on PostgreSQL, all that have the word on SQLite (which has no
// stop words).
func TestSearchKeysKeepEveryMatchOfTheView(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		owners := []app.Viewer{w.alice, w.bob, w.carol}
		var items []*app.Item
		for i := range 120 {
			title := fmt.Sprintf("deploy the service %d", i)
			if i%4 == 3 {
				title = fmt.Sprintf("rotate the keys %d", i)
			}
			items = append(items, w.item(t, owners[i%3], title, func(it *app.Item) {
				if i%4 == 0 {
					it.Kind, it.Source = app.KindInteractive, app.SourceInteractive
					it.Status = []app.Status{app.StatusWorking, app.StatusBlocked, app.StatusCanceled, app.StatusSuccess}[i%8/2]
				} else {
					it.Source = []app.Source{app.SourceCLI, app.SourceSlack, app.SourceLinear}[i%5%3]
					it.Status = []app.Status{app.StatusSuccess, app.StatusFailed, app.StatusWorking}[i%7%3]
				}
				it.Visibility = app.VisibilityPrivate
				if i%5 != 0 {
					it.TeamID, it.Visibility = []*app.Team{w.red, w.blue}[i%2].ID, app.VisibilityTeam
				}
				if i%10 == 1 {
					it.TeamID = w.red.ID // in a team, yet private
				}
			}))
		}
		views := []string{
			"", "status=working", "tab=all", "tab=all&status=failed", "tab=all&status=-success&source=slack",
			"tab=all&kind=interactive", "tab=all&kind=-interactive&status=working&status=failed",
			"tab=all&source=-cli&source=-linear", "tab=all&team=red", "tab=all&team=-red", "tab=all&creator=bob",
			"tab=all&creator=-alice&status=-failed", "tab=all&status=blocked&status=canceled",
		}
		for _, v := range []app.Viewer{w.alice, w.bob} {
			for _, view := range views {
				query := func(raw string) app.Query {
					t.Helper()
					values, err := url.ParseQuery(raw)
					mustOK(t, err)
					f, problems := app.ParseFilter(values)
					q, _, resolved, err := s.ResolveFilter(ctx, v, f)
					mustOK(t, err)
					if len(problems)+len(resolved) > 0 {
						t.Fatalf("%s: %v %v", raw, problems, resolved)
					}
					return q
				}
				unsearched := query(view)
				searched := map[string]app.Query{}
				for _, words := range []string{"deploy", "the", "the servi"} {
					searched[words] = query(view + "&q=" + url.QueryEscape(words))
				}
				kept := 0
				for _, it := range items {
					inView, err := s.InView(ctx, unsearched, it.ID)
					mustOK(t, err)
					for words, q := range searched {
						want := inView && strings.HasPrefix(it.Title, "deploy")
						if words == "the" {
							want = inView && s.Dialect() == "sqlite"
						}
						got, err := s.InView(ctx, q, it.ID)
						mustOK(t, err)
						if got != want {
							t.Errorf("%s sees %q with q=%s: in the view %v, want %v", v.User.Handle, it.Title, words, got, want)
						}
						if got {
							kept++
						}
					}
				}
				if kept == 0 {
					t.Errorf("%s, %q: no search keeps anything", v.User.Handle, view)
				}
			}
		}
	})
}

// The planner is given no statistics of the search index's keys (migration
// search_arm_keys): with them it ran a count's arms in parallel for common
// words, each reading its whole list from the index, where one after the
// other the first arm's matches end the count. ANALYZE, which gathers the
// words' statistics, leaves the keys' alone.
func TestAnalyzeGathersNoStatisticsOfTheSearchKeys(t *testing.T) {
	s := apptest.Postgres(t)
	ctx := context.Background()
	w := newWorld(t, s)
	for i := range 40 {
		w.item(t, w.alice, fmt.Sprintf("deploy the billing webhook %d", i), nil)
	}
	if _, err := s.DB().ExecContext(ctx, "ANALYZE items"); err != nil {
		t.Fatal(err)
	}
	count := func(relation, column string) int {
		var n int
		err := s.DB().QueryRowContext(ctx, "SELECT count(*) FROM pg_stats WHERE schemaname = current_schema() AND tablename = ? AND attname = ?",
			relation, column).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count("items", "search"); n != 1 {
		t.Fatalf("ANALYZE gathered %d statistics of the words; want 1", n)
	}
	if n := count("items_search_arm_keys", "item_search_arm_keys"); n != 0 {
		t.Errorf("ANALYZE gathered %d statistics of the search index's keys; want none", n)
	}
}

// A search's look at the arms' newest items reads them together, newest
// first, and stops at the first match past the summary's cap: what it read
// of each arm is exactly what lies before that match (within the arm's
// window), on both databases. The page then takes each arm's part from the
// rows the look read, and the pages still hold every match, newest first;
// the summary says "more than the cap". On PostgreSQL the stop is a run
// condition of the window function: the rows after it are never read. The
// same holds when a filter makes the look pick the rows from the arms'
// indexes and read them by primary key.
func TestSearchLookStopsPastTheCap(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		var items []*app.Item
		add := searchRuns(w, &items)
		// alice's own runs match densely; bob's, shared with her team, match
		// rarely among the newest (where they are interleaved with hers),
		// often in the hours before, and his newest outlast hers.
		for i := range 1600 {
			title := "Routine chore"
			if i%3 != 0 {
				title = fmt.Sprintf("Deploy the service %d", i)
			}
			add(w.alice, time.Duration(2*i)*time.Minute, title, false)
		}
		for i := range 3000 {
			title := "Routine chore"
			if i < 1200 && i%4 == 0 || i >= 1200 && i%60 == 0 {
				title = fmt.Sprintf("Deploy the gateway %d", i)
			}
			add(w.bob, time.Duration(2*i-1200*2+1)*time.Minute, title, true)
		}
		mustOK(t, s.CreateItemsAtOnce(ctx, items))
		matches := func(it *app.Item) bool { return strings.Contains(it.Title, "Deploy") }

		// What the look should read: each arm's newest SearchProbe items,
		// merged newest first, up to the match past the cap.
		newestFirst := slices.Clone(items)
		slices.SortFunc(newestFirst, func(a, b *app.Item) int {
			if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
				return c
			}
			return strings.Compare(b.ID, a.ID)
		})
		wantRead, wantMatched := []int64{0, 0}, []int64{0, 0}
		var all []string
		found := 0
		for _, it := range newestFirst {
			if matches(it) {
				all = append(all, it.ID)
			}
			arm := 0
			if it.CreatorID != w.alice.User.ID {
				arm = 1
			}
			if wantRead[arm] == app.SearchProbe || found > app.SearchSummaryCap {
				continue // past the arm's window, or past the cap's first match over it
			}
			if matches(it) {
				found++
				wantMatched[arm]++
			}
			wantRead[arm]++
		}
		if wantRead[0]+wantRead[1] >= 2*app.SearchProbe || wantRead[1] >= app.SearchProbe {
			t.Fatalf("the data lets the look read %v rows: it should stop before the end of the windows", wantRead)
		}

		// Every run is a success: the view filtered by status holds the
		// same rows, but its look picks them from the arms' indexes and
		// reads them by primary key.
		for _, query := range []url.Values{{"tab": {"all"}, "q": {"deploy"}}, {"tab": {"all"}, "q": {"deploy"}, "status": {"success"}}} {
			t.Run(query.Encode(), func(t *testing.T) {
				f, problems := app.ParseFilter(query)
				if len(problems) > 0 {
					t.Fatal(problems)
				}
				q, _, _, err := s.ResolveFilter(ctx, w.alice, f)
				mustOK(t, err)
				statements := &apptest.StatementRecorder{}
				s.DB().AddQueryHook(statements)
				statements.Start()
				read, matched, err := s.SearchLook(ctx, q)
				look := apptest.Reads(statements.Stop())
				s.DB().ResetQueryHooks()
				mustOK(t, err)
				if !slices.Equal(read, wantRead) || !slices.Equal(matched, wantMatched) {
					t.Errorf("the look read %v rows and found %v matches of its arms; want %v and %v", read, matched, wantRead, wantMatched)
				}
				if s.Dialect() == "postgres" {
					if len(look) != 1 {
						t.Fatalf("the look ran %d statements, want 1", len(look))
					}
					plan, err := apptest.ExplainAsRecorded(ctx, s.DB().DB, "ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF", look[0])
					mustOK(t, err)
					// The arms' windows hold 1,600 and 2,000 rows; the merge reads a
					// row or two past the last it passes on, not all of them.
					rowsOf := func(node string) int64 {
						m := regexp.MustCompile(node + ` \(actual rows=(\d+)`).FindStringSubmatch(plan)
						if m == nil {
							t.Fatalf("the look's plan has no %s:\n%s", node, plan)
						}
						n, err := strconv.ParseInt(m[1], 10, 64)
						mustOK(t, err)
						return n
					}
					passed, merged := rowsOf("WindowAgg"), rowsOf("Merge Append")
					if !strings.Contains(plan, "Run Condition") || passed != wantRead[0]+wantRead[1] || merged >= 1600+app.SearchProbe {
						t.Errorf("the look passed on %d rows of the %d it merged, want %d and a stop past the cap:\n%s", passed, merged, wantRead[0]+wantRead[1], plan)
					}
				}

				view, err := s.ViewOf(ctx, w.alice, query, app.ViewOptions{Summary: true})
				mustOK(t, err)
				if !view.Summary.More {
					t.Errorf("summary %+v: want more than the cap", view.Summary)
				}
				if got := everyPage(t, s, w.alice, f, len(all)); !slices.Equal(got, all) {
					t.Errorf("%d items, want %d matches newest first", len(got), len(all))
				}
				var first []string
				for _, it := range view.Page.Items {
					first = append(first, it.ID)
				}
				if !slices.Equal(first, all[:app.PageSize]) {
					t.Errorf("the view's page (read with its summary, from the same look) is not the %d newest matches", app.PageSize)
				}
			})
		}
	})
}

// searchRuns returns a maker of ambient runs for the search tests, created
// at a moment after the start of the last 30 days, private or shared with
// the red team, added to items.
func searchRuns(w *world, items *[]*app.Item) func(owner app.Viewer, at time.Duration, title string, shared bool) {
	start := w.now.Add(-30 * 24 * time.Hour)
	return func(owner app.Viewer, at time.Duration, title string, shared bool) {
		it := &app.Item{Kind: app.KindAmbient, Source: app.SourceCLI, Status: app.StatusSuccess, Title: title,
			CreatorID: owner.User.ID, CreatedAt: start.Add(at), Visibility: app.VisibilityPrivate}
		if shared {
			it.TeamID, it.Visibility = w.red.ID, app.VisibilityTeam
		}
		it.StartedAt = it.CreatedAt
		*items = append(*items, it)
	}
}

// everyPage reads a viewer's view page after page, as Load more does, and
// returns the ids it shows in order; it fails past the pages that matches
// items fill.
func everyPage(t *testing.T, s *app.Store, v app.Viewer, f app.Filter, matches int) []string {
	t.Helper()
	ctx := context.Background()
	var got []string
	for pages := 0; ; pages++ {
		if pages > matches/app.PageSize+1 {
			t.Fatalf("q=%s: more pages than matches", f.Query)
		}
		q, _, _, err := s.ResolveFilter(ctx, v, f)
		mustOK(t, err)
		page, err := s.Items(ctx, q, app.PageSize)
		mustOK(t, err)
		for _, it := range page.Items {
			got = append(got, it.ID)
		}
		if page.Next == nil {
			return got
		}
		f.Cursor = page.Next.Encode()
	}
}

// A search's walk and look are read in their index's order on PostgreSQL,
// whatever the planner would otherwise choose: here the walk's window is
// larger than alice's 3,000 runs, stored in no particular order, and the
// planner, costing the walk by its window, would read them all and sort
// them; the walk stops at a page of matches, which its index hands over
// first. (SQLite plans without a choice of the kind.)
func TestSearchWalksAreReadInIndexOrder(t *testing.T) {
	s := apptest.Postgres(t)
	ctx := context.Background()
	w := newWorld(t, s)
	var items []*app.Item
	add := searchRuns(w, &items)
	for i := range 3000 {
		title := "Routine chore"
		if i%40 == 0 {
			title = "Billing webhook retry"
		}
		add(w.alice, time.Duration(i)*time.Minute, title, false)
	}
	rand.New(rand.NewPCG(10, 2026)).Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	for chunk := range slices.Chunk(items, 1000) {
		mustOK(t, s.CreateItemsAtOnce(ctx, chunk))
	}
	_, err := s.DB().ExecContext(ctx, "ANALYZE items")
	mustOK(t, err)

	statements := &apptest.StatementRecorder{}
	s.DB().AddQueryHook(statements)
	statements.Start()
	view, err := s.ViewOf(ctx, w.alice, url.Values{"q": {"webhook"}}, app.ViewOptions{Summary: true})
	reads := apptest.Reads(statements.Stop())
	s.DB().ResetQueryHooks()
	mustOK(t, err)
	if len(view.Page.Items) != app.PageSize || view.Summary.Items != 75 {
		t.Fatalf("the search shows %d rows and counts %d; want a page and 75", len(view.Page.Items), view.Summary.Items)
	}

	sorts := regexp.MustCompile(`(?m)^\s*(->\s+)?(Incremental )?Sort\b`)
	plan := func(stmt string) string {
		plan, err := apptest.ExplainAsRecorded(ctx, s.DB().DB, "ANALYZE, TIMING OFF, SUMMARY OFF", stmt)
		mustOK(t, err)
		return plan
	}
	walks, tempting := 0, 0
	for _, stmt := range reads {
		free, ok := apptest.ReadInIndexOrder(stmt)
		if !ok {
			continue
		}
		walks++
		if read := plan(stmt); sorts.MatchString(read) {
			t.Errorf("a walk sorts its rows:\n%s\n%s", stmt, read)
		}
		if sorts.MatchString(plan(free)) {
			tempting++
		}
	}
	if walks < 2 {
		t.Errorf("the search read %d statements in index order; want its look and its walk:\n%s", walks, strings.Join(reads, "\n"))
	}
	if tempting == 0 {
		t.Error("planned freely, every walk reads in order too: the data no longer tempts the planner to sort")
	}
}
