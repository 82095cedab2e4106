package app_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
)

// world is a small fixed company: alice and bob share team red, bob and carol
// share team blue.
type world struct {
	s                 *app.Store
	alice, bob, carol app.Viewer
	red, blue         *app.Team
	now               time.Time
}

func newWorld(t *testing.T, s *app.Store) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{s: s, now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	s.SetClock(func() time.Time { return w.now })
	users := map[string]*app.User{}
	for _, h := range []string{"alice", "bob", "carol"} {
		u := &app.User{Handle: h, Name: h}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("create user %s: %v", h, err)
		}
		users[h] = u
	}
	w.red = &app.Team{Slug: "red", Name: "Red"}
	w.blue = &app.Team{Slug: "blue", Name: "Blue"}
	mustOK(t, s.CreateTeam(ctx, w.red, users["alice"].ID))
	mustOK(t, s.AddMember(ctx, w.red.ID, users["bob"].ID, app.RoleMember))
	mustOK(t, s.CreateTeam(ctx, w.blue, users["bob"].ID))
	mustOK(t, s.AddMember(ctx, w.blue.ID, users["carol"].ID, app.RoleMember))
	w.alice = w.viewer(t, users["alice"])
	w.bob = w.viewer(t, users["bob"])
	w.carol = w.viewer(t, users["carol"])
	return w
}

func (w *world) viewer(t *testing.T, u *app.User) app.Viewer {
	t.Helper()
	v, err := w.s.Viewer(context.Background(), u.ID)
	mustOK(t, err)
	return v
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// item creates an item; spec is applied on top of an ambient CLI run.
func (w *world) item(t *testing.T, owner app.Viewer, title string, spec func(*app.Item)) *app.Item {
	t.Helper()
	it := &app.Item{
		Kind: app.KindAmbient, Source: app.SourceCLI, Status: app.StatusSuccess, Title: title,
		CreatorID: owner.User.ID, CreatedAt: w.now.Add(-time.Hour), StartedAt: w.now.Add(-time.Hour),
	}
	if spec != nil {
		spec(it)
	}
	mustOK(t, w.s.CreateItem(context.Background(), it))
	return it
}

// titles lists what a filter shows a viewer, across every page.
func (w *world) titles(t *testing.T, v app.Viewer, rawQuery string) []string {
	t.Helper()
	q, err := url.ParseQuery(rawQuery)
	mustOK(t, err)
	f, problems := app.ParseFilter(q)
	if len(problems) > 0 {
		t.Fatalf("filter %q: %v", rawQuery, problems)
	}
	var out []string
	for {
		query, _, problems, err := w.s.ResolveFilter(context.Background(), v, f)
		mustOK(t, err)
		if len(problems) > 0 {
			t.Fatalf("resolve %q: %v", rawQuery, problems)
		}
		page, err := w.s.Items(context.Background(), query, 3)
		mustOK(t, err)
		for _, it := range page.Items {
			out = append(out, it.Title)
		}
		if page.Next == nil {
			return out
		}
		f = f.WithCursor(*page.Next)
	}
}

func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	g, wn := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(wn)
	if !slices.Equal(g, wn) {
		t.Errorf("%s:\n got  %v\n want %v", what, g, wn)
	}
}

func TestVisibilityPersonalAndAll(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		team := func(tm *app.Team, vis app.Visibility) func(*app.Item) {
			return func(it *app.Item) { it.TeamID, it.Visibility = tm.ID, vis }
		}
		w.item(t, w.alice, "alice private", nil)
		w.item(t, w.alice, "alice red shared", team(w.red, app.VisibilityTeam))
		w.item(t, w.bob, "bob red shared", team(w.red, app.VisibilityTeam))
		w.item(t, w.bob, "bob red private", team(w.red, app.VisibilityPrivate))
		w.item(t, w.bob, "bob blue shared", team(w.blue, app.VisibilityTeam))
		w.item(t, w.carol, "carol blue shared", team(w.blue, app.VisibilityTeam))
		w.item(t, w.carol, "carol private", nil)

		cases := []struct {
			who           string
			v             app.Viewer
			personal, all []string
		}{
			{"alice", w.alice, []string{"alice private", "alice red shared"},
				[]string{"alice private", "alice red shared", "bob red shared"}},
			{"bob", w.bob, []string{"bob red shared", "bob red private", "bob blue shared"},
				[]string{"bob red shared", "bob red private", "bob blue shared", "alice red shared", "carol blue shared"}},
			{"carol", w.carol, []string{"carol blue shared", "carol private"},
				[]string{"carol blue shared", "carol private", "bob blue shared"}},
		}
		for _, c := range cases {
			sameSet(t, c.who+" personal", w.titles(t, c.v, ""), c.personal)
			sameSet(t, c.who+" all", w.titles(t, c.v, "tab=all"), c.all)
		}
	})
}

// A creator filter naming several people lists each person's share of each
// team on its own; across pages nothing is lost, repeated or leaked.
func TestCreatorFilterOfSeveralPeople(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		team := func(tm *app.Team, vis app.Visibility) func(*app.Item) {
			return func(it *app.Item) { it.TeamID, it.Visibility = tm.ID, vis }
		}
		for i := range 3 {
			w.item(t, w.alice, fmt.Sprintf("alice red shared %d", i), team(w.red, app.VisibilityTeam))
			w.item(t, w.carol, fmt.Sprintf("carol blue shared %d", i), team(w.blue, app.VisibilityTeam))
			w.item(t, w.bob, fmt.Sprintf("bob blue shared %d", i), team(w.blue, app.VisibilityTeam))
		}
		w.item(t, w.alice, "alice private", nil)
		w.item(t, w.carol, "carol red private", team(w.red, app.VisibilityPrivate))
		w.item(t, w.bob, "bob private", nil)

		var others, withBob []string
		for i := range 3 {
			others = append(others, fmt.Sprintf("alice red shared %d", i), fmt.Sprintf("carol blue shared %d", i))
			withBob = append(withBob, fmt.Sprintf("bob blue shared %d", i))
		}
		withBob = append(append(withBob, "bob private"), others...)
		sameSet(t, "bob, alice and carol", w.titles(t, w.bob, "tab=all&creator=alice&creator=carol"), others)
		sameSet(t, "bob, alice, bob and carol", w.titles(t, w.bob, "tab=all&creator=alice&creator=bob&creator=carol"), withBob)
		sameSet(t, "carol, bob and carol", w.titles(t, w.carol, "tab=all&creator=bob&creator=carol"),
			[]string{"bob blue shared 0", "bob blue shared 1", "bob blue shared 2",
				"carol blue shared 0", "carol blue shared 1", "carol blue shared 2", "carol red private"})
	})
}

func TestFiltersAloneAndCombined(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		shared := func(spec func(*app.Item)) func(*app.Item) {
			return func(it *app.Item) {
				it.TeamID, it.Visibility = w.red.ID, app.VisibilityTeam
				if spec != nil {
					spec(it)
				}
			}
		}
		w.item(t, w.alice, "a slack failed today", shared(func(it *app.Item) {
			it.Source, it.Status = app.SourceSlack, app.StatusFailed
		}))
		w.item(t, w.alice, "a chat blocked", func(it *app.Item) {
			it.Kind, it.Source, it.Status = app.KindInteractive, app.SourceInteractive, app.StatusBlocked
		})
		w.item(t, w.bob, "b slack success yesterday", shared(func(it *app.Item) {
			it.Source, it.CreatedAt = app.SourceSlack, w.now.Add(-24*time.Hour)
		}))
		w.item(t, w.bob, "b linear failed old", shared(func(it *app.Item) {
			it.Source, it.Status, it.CreatedAt = app.SourceLinear, app.StatusFailed, w.now.AddDate(0, 0, -10)
		}))
		w.item(t, w.bob, "b cli working", shared(func(it *app.Item) { it.Status = app.StatusWorking }))

		cases := []struct {
			query string
			want  []string
		}{
			{"tab=all&source=slack", []string{"a slack failed today", "b slack success yesterday"}},
			{"tab=all&source=slack&source=linear", []string{"a slack failed today", "b slack success yesterday", "b linear failed old"}},
			{"tab=all&status=failed", []string{"a slack failed today", "b linear failed old"}},
			{"tab=all&status=blocked&status=working", []string{"a chat blocked", "b cli working"}},
			{"tab=all&creator=bob", []string{"b slack success yesterday", "b linear failed old", "b cli working"}},
			{"tab=all&creator=alice", []string{"a slack failed today", "a chat blocked"}},
			{"tab=all&creator=alice&creator=bob&source=slack", []string{"a slack failed today", "b slack success yesterday"}},
			{"tab=all&day=today", []string{"a slack failed today", "a chat blocked", "b cli working"}},
			{"tab=all&day=yesterday", []string{"b slack success yesterday"}},
			{"tab=all&day=7d&status=failed", []string{"a slack failed today"}},
			{"tab=all&day=2026-11-15", []string{"b linear failed old"}},
			{"tab=all&status=failed&source=slack&day=today&creator=alice", []string{"a slack failed today"}},
			{"tab=all&status=failed&creator=bob&source=slack", nil},
			{"source=slack", []string{"a slack failed today"}},
			{"creator=bob", nil},
		}
		for _, c := range cases {
			sameSet(t, c.query, w.titles(t, w.alice, c.query), c.want)
		}
	})
}

func TestDayBoundariesInAZone(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		at := func(ts string) func(*app.Item) {
			return func(it *app.Item) {
				tm, err := time.Parse(time.RFC3339, ts)
				mustOK(t, err)
				it.CreatedAt = tm
			}
		}
		// Berlin is UTC+1 in November: 23:00Z on the 24th is midnight on the 25th there.
		w.item(t, w.alice, "24th 23:59:59 Berlin", at("2026-11-24T22:59:59Z"))
		w.item(t, w.alice, "25th 00:00 Berlin", at("2026-11-24T23:00:00Z"))
		w.item(t, w.alice, "25th 23:59 Berlin", at("2026-11-25T22:59:00Z"))
		w.item(t, w.alice, "26th 00:00 Berlin", at("2026-11-25T23:00:00Z"))

		sameSet(t, "Berlin 25th", w.titles(t, w.alice, "day=2026-11-25&tz=Europe/Berlin"),
			[]string{"25th 00:00 Berlin", "25th 23:59 Berlin"})
		sameSet(t, "UTC 25th", w.titles(t, w.alice, "day=2026-11-25"),
			[]string{"26th 00:00 Berlin", "25th 23:59 Berlin"})
		sameSet(t, "UTC 24th", w.titles(t, w.alice, "day=2026-11-24"),
			[]string{"24th 23:59:59 Berlin", "25th 00:00 Berlin"})
		// At 23:30Z on the 25th it is already the 26th in Berlin.
		w.now = time.Date(2026, 11, 25, 23, 30, 0, 0, time.UTC)
		sameSet(t, "Berlin today", w.titles(t, w.alice, "day=today&tz=Europe/Berlin"), []string{"26th 00:00 Berlin"})
		sameSet(t, "Berlin yesterday", w.titles(t, w.alice, "day=yesterday&tz=Europe/Berlin"),
			[]string{"25th 00:00 Berlin", "25th 23:59 Berlin"})
		// In Tokyo (UTC+9) it is 08:30 on the 26th, whose day began at 15:00Z on the 25th.
		sameSet(t, "Tokyo today", w.titles(t, w.alice, "day=today&tz=Asia/Tokyo"),
			[]string{"25th 23:59 Berlin", "26th 00:00 Berlin"})
	})
}

func TestKeysetPagingWithTies(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		var want []string
		// 40 items in groups of 7 sharing one creation time, across both arms of All.
		for i := range 40 {
			owner := w.alice
			spec := func(it *app.Item) { it.CreatedAt = w.now.Add(-time.Duration(i/7) * time.Minute) }
			if i%3 == 0 {
				owner = w.bob
				spec = func(it *app.Item) {
					it.CreatedAt = w.now.Add(-time.Duration(i/7) * time.Minute)
					it.TeamID, it.Visibility = w.red.ID, app.VisibilityTeam
				}
			}
			want = append(want, w.item(t, owner, fmt.Sprintf("item %02d", i), spec).Title)
		}
		got := w.titles(t, w.alice, "tab=all") // pages of 3
		if len(got) != len(want) {
			t.Fatalf("got %d rows over all pages, want %d: %v", len(got), len(want), got)
		}
		sameSet(t, "every row exactly once", got, want)
		// Newest first: groups must come out in time order.
		for i := 1; i < len(got); i++ {
			var a, b int
			fmt.Sscanf(got[i-1], "item %d", &a)
			fmt.Sscanf(got[i], "item %d", &b)
			if a/7 > b/7 {
				t.Fatalf("row %d (%s) is older than row %d (%s)", i-1, got[i-1], i, got[i])
			}
		}
	})
}

func TestSummaryCreditsAreExact(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		amounts := []string{"0.1", "0.2", "0.000001", "1234.5", "0.333333"}
		for i, a := range amounts {
			c, err := app.ParseCredits(a)
			mustOK(t, err)
			w.item(t, w.alice, fmt.Sprintf("c%d", i), func(it *app.Item) {
				it.Inference, it.Compute = c, c
				if i == 0 {
					it.Status = app.StatusWorking
				}
			})
		}
		f, _ := app.ParseFilter(url.Values{})
		q, _, _, err := s.ResolveFilter(context.Background(), w.alice, f)
		mustOK(t, err)
		sum, err := s.Summary(context.Background(), q)
		mustOK(t, err)
		if got, want := sum.Credits.String(), "2470.266668"; got != want {
			t.Errorf("total credits = %s, want %s", got, want)
		}
		if sum.Items != 5 || sum.Working != 1 {
			t.Errorf("summary = %d items, %d working; want 5 and 1", sum.Items, sum.Working)
		}
	})
}

func TestStoreEnforcesStatusRules(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		cases := []struct {
			name string
			spec func(*app.Item)
			code app.Code
		}{
			{"ambient blocked", func(it *app.Item) { it.Status = app.StatusBlocked }, app.EUnprocessable},
			{"ambient canceled", func(it *app.Item) { it.Status = app.StatusCanceled }, app.EUnprocessable},
			{"interactive from slack", func(it *app.Item) { it.Kind, it.Source = app.KindInteractive, app.SourceSlack }, app.EUnprocessable},
			{"ambient from the desktop app", func(it *app.Item) { it.Source = app.SourceInteractive }, app.EUnprocessable},
			{"unknown status", func(it *app.Item) { it.Status = "done" }, app.EInvalid},
			{"team-visible without a team", func(it *app.Item) { it.Visibility = app.VisibilityTeam }, app.EUnprocessable},
			{"interactive with compute credits", func(it *app.Item) {
				it.Kind, it.Source, it.Compute = app.KindInteractive, app.SourceInteractive, 5
			}, app.EUnprocessable},
		}
		for _, c := range cases {
			it := &app.Item{Kind: app.KindAmbient, Source: app.SourceCLI, Title: c.name, CreatorID: w.alice.User.ID}
			c.spec(it)
			err := s.CreateItem(context.Background(), it)
			if got := app.ErrorCode(err); got != c.code {
				t.Errorf("%s: error code %q (%v), want %q", c.name, got, err, c.code)
			}
		}
		if got := w.titles(t, w.alice, ""); len(got) != 0 {
			t.Errorf("refused items were stored: %v", got)
		}
	})
}

func TestItemIsNotFoundForThoseWhoMayNotSeeIt(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		priv := w.item(t, w.bob, "bob private", nil)
		shared := w.item(t, w.bob, "bob red shared", func(it *app.Item) { it.TeamID, it.Visibility = w.red.ID, app.VisibilityTeam })
		for _, c := range []struct {
			v    app.Viewer
			id   string
			seen bool
		}{
			{w.bob, priv.ID, true}, {w.alice, priv.ID, false}, {w.carol, priv.ID, false},
			{w.alice, shared.ID, true}, {w.carol, shared.ID, false},
			{w.alice, "not-an-id", false}, {w.alice, app.NewItemID(), false},
		} {
			it, err := s.Item(context.Background(), c.v, c.id)
			if c.seen && (err != nil || it.ID != c.id || it.Creator.Handle != "bob") {
				t.Errorf("%s reading %s: %v, want the item with its creator", c.v.User.Handle, c.id, err)
			}
			if !c.seen && !errors.Is(err, app.ErrNotFound) {
				t.Errorf("%s reading %s: %v, want not found", c.v.User.Handle, c.id, err)
			}
		}
	})
}

func TestMigrateAgainChangesNothing(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		ctx := context.Background()
		count := func() int64 {
			n, err := s.DB().NewSelect().Table("bun_migrations").Count(ctx)
			mustOK(t, err)
			return n
		}
		before := count()
		if before == 0 {
			t.Fatal("no migrations recorded after the first run")
		}
		mustOK(t, s.Migrate(ctx))
		if after := count(); after != before {
			t.Errorf("a second run recorded %d more migrations", after-before)
		}
	})
}

// Page after page, a filtered view lists exactly the rows of the unfiltered
// view that the filters keep, newest first, the viewer's own and each
// team's interleaved, for one creator or several, rows of the same second
// told apart by id.
func TestFilteredPagesHoldEveryMatchNewestFirst(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		mustOK(t, s.AddMember(context.Background(), w.blue.ID, w.alice.User.ID, app.RoleMember))
		w.alice = w.viewer(t, w.alice.User)
		owners := []app.Viewer{w.alice, w.bob, w.carol}
		teams := []*app.Team{w.red, w.blue}
		for i := range 240 {
			w.item(t, owners[i%3], fmt.Sprintf("run %03d", i), func(it *app.Item) {
				it.Status = []app.Status{app.StatusSuccess, app.StatusFailed, app.StatusWorking}[i%5%3]
				it.Source = []app.Source{app.SourceCLI, app.SourceSlack}[i%7%2]
				it.AgentName = []string{"codex", "claude-code", ""}[i%4%3]
				// Several at the same second, to be told apart by id.
				it.CreatedAt = w.now.Add(-time.Duration(i/12) * time.Minute)
				it.Visibility = app.VisibilityPrivate
				if i%3 != 0 || i%2 == 0 {
					it.TeamID, it.Visibility = teams[i%2].ID, app.VisibilityTeam
				}
			})
		}
		all := w.titles(t, w.alice, "tab=all")
		byTitle := map[string]*app.Item{}
		var items []*app.Item
		mustOK(t, s.DB().NewSelect().Model(&items).Scan(context.Background()))
		for _, it := range items {
			byTitle[it.Title] = it
		}
		for raw, keep := range map[string]func(*app.Item) bool{
			"tab=all&status=failed":            func(it *app.Item) bool { return it.Status == app.StatusFailed },
			"tab=all&source=slack&agent=codex": func(it *app.Item) bool { return it.Source == app.SourceSlack && it.AgentName == "codex" },
			"tab=all&status=-success&creator=bob&creator=carol": func(it *app.Item) bool {
				return it.Status != app.StatusSuccess && it.CreatorID != w.alice.User.ID
			},
			"status=working": func(it *app.Item) bool { return it.Status == app.StatusWorking && it.CreatorID == w.alice.User.ID },
		} {
			var want []string
			for _, title := range all {
				if keep(byTitle[title]) {
					want = append(want, title)
				}
			}
			if got := w.titles(t, w.alice, raw); !slices.Equal(got, want) {
				t.Errorf("%s: %d rows %v\nwant %d rows %v", raw, len(got), got, len(want), want)
			}
			if len(want) < 10 {
				t.Errorf("%s: only %d rows to page through", raw, len(want))
			}
		}
	})
}
