package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
)

// rowsOf lists the item ids a view page shows, in order.
func (a *testApp) rowsOf(t *testing.T, c *http.Client, path string) []string {
	t.Helper()
	resp, body := a.get(t, c, path, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200", path, resp.StatusCode)
	}
	var ids []string
	for _, m := range rowID.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// matrixItem is an item of the visibility matrix with what decides who sees it.
type matrixItem struct {
	id, title, owner, team string // team: "" when the item belongs to none
	shared                 bool
}

// TestVisibilityMatrix checks, for every user, the exact items of Personal
// and All and the answer of every item page, before and after team changes
// and after sign-out. Teams: red (ana admin, ben, cy) and blue (cy admin,
// dee), overlapping in cy. Items: every source (and so both kinds), each
// private without a team, private in a team, and shared with a team.
func TestVisibilityMatrix(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		ctx := context.Background()
		users := []string{"ana", "ben", "cy", "dee"}
		a := usersApp(t, s, nil, users...)
		ids := map[string]int64{}
		for _, h := range users {
			ids[h] = viewerOf(t, s, h).User.ID
		}
		red, blue := &app.Team{Slug: "red", Name: "Red"}, &app.Team{Slug: "blue", Name: "Blue"}
		mustDo(t, s.CreateTeam(ctx, red, ids["ana"]))
		mustDo(t, s.AddMember(ctx, red.ID, ids["ben"], app.RoleMember))
		mustDo(t, s.AddMember(ctx, red.ID, ids["cy"], app.RoleMember))
		mustDo(t, s.CreateTeam(ctx, blue, ids["cy"]))
		mustDo(t, s.AddMember(ctx, blue.ID, ids["dee"], app.RoleMember))
		teams := map[string]*app.Team{"red": red, "blue": blue}
		teamsOf := map[string][]string{"ana": {"red"}, "ben": {"red"}, "cy": {"red", "blue"}, "dee": {"blue"}}

		var items []matrixItem
		now := s.Now()
		for i, src := range app.Sources {
			for j, variant := range []string{"private", "private in team", "shared"} {
				n := i*3 + j
				owner := users[n%len(users)]
				it := &app.Item{
					Kind: app.KindAmbient, Source: src, Status: app.StatusSuccess, CreatorID: ids[owner],
					Visibility: app.VisibilityPrivate, CreatedAt: now.Add(-time.Duration(n) * time.Minute),
				}
				if src == app.SourceInteractive {
					it.Kind = app.KindInteractive
				}
				mi := matrixItem{owner: owner}
				if variant != "private" {
					own := teamsOf[owner]
					mi.team = own[n%len(own)]
					it.TeamID = teams[mi.team].ID
				}
				if variant == "shared" {
					it.Visibility, mi.shared = app.VisibilityTeam, true
				}
				it.Title = fmt.Sprintf("%s %s %s %s", owner, src, variant, mi.team)
				mustDo(t, s.CreateItem(ctx, it))
				mi.id, mi.title = it.ID, it.Title
				items = append(items, mi)
			}
		}

		clients := map[string]*http.Client{}
		for _, h := range users {
			clients[h] = a.signIn(t, h)
		}
		// check compares what every user sees with the rule of §2, restated:
		// one's own items, and the shared items of one's teams.
		check := func(phase string) {
			for _, h := range users {
				var personal, all []string
				for _, it := range items {
					mine := it.owner == h
					if mine {
						personal = append(personal, it.id)
					}
					if mine || it.shared && slices.Contains(teamsOf[h], it.team) {
						all = append(all, it.id)
					}
				}
				sameIDs(t, phase+": "+h+"'s Personal", a.rowsOf(t, clients[h], "/"), personal, items)
				sameIDs(t, phase+": "+h+"'s All", a.rowsOf(t, clients[h], "/?tab=all"), all, items)
				for _, it := range items {
					want := http.StatusNotFound
					if slices.Contains(all, it.id) {
						want = http.StatusOK
					}
					if resp, _ := a.get(t, clients[h], "/runs/"+it.id, nil); resp.StatusCode != want {
						t.Errorf("%s: %s opening %q: status %d, want %d", phase, h, it.title, resp.StatusCode, want)
					}
				}
				for _, bad := range []string{app.NewItemID(), "not-an-id", "00000000-0000-0000-0000-00000000000G"} {
					if resp, _ := a.get(t, clients[h], "/runs/"+bad, nil); resp.StatusCode != http.StatusNotFound {
						t.Errorf("%s: %s opening /runs/%s: status %d, want 404", phase, h, bad, resp.StatusCode)
					}
				}
			}
		}
		check("at first")

		// ben leaves red; ana, red's admin, removes cy from it. Both lose
		// sight of red's items at their very next request.
		if resp, _ := a.post(t, clients["ben"], "/teams/red", "/teams/red/leave", confirmed(), nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("ben leaving red: status %d", resp.StatusCode)
		}
		if resp, _ := a.post(t, clients["ana"], "/teams/red", "/teams/red/members/cy/remove", confirmed(), nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("ana removing cy from red: status %d", resp.StatusCode)
		}
		teamsOf["ben"], teamsOf["cy"] = nil, []string{"blue"}
		check("after ben left red and cy was removed from it")

		// After sign-out the old cookie shows nothing at all.
		old := sessionCookieOf(t, a, clients["ana"])
		if resp, _ := a.post(t, clients["ana"], "/teams", "/signout", nil, nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-out: status %d", resp.StatusCode)
		}
		replay := a.withCookie(t, sessionCookie, old)
		for _, path := range []string{"/", "/?tab=all", "/runs/" + items[0].id, "/runs/" + items[2].id} {
			resp, _ := a.get(t, replay, path, nil)
			if resp.StatusCode != http.StatusSeeOther || location(t, resp, http.StatusSeeOther).Path != "/signin" {
				t.Errorf("after sign-out GET %s: status %d to %q, want 303 to /signin", path, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
	})
}

// sameIDs compares sets of item ids, naming items by title on failure.
func sameIDs(t *testing.T, what string, got, want []string, items []matrixItem) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if slices.Equal(g, w) {
		return
	}
	title := func(id string) string {
		for _, it := range items {
			if it.id == id {
				return it.title
			}
		}
		return id
	}
	for _, id := range g {
		if !slices.Contains(w, id) {
			t.Errorf("%s shows %q, which it should not", what, title(id))
		}
	}
	for _, id := range w {
		if !slices.Contains(g, id) {
			t.Errorf("%s lacks %q", what, title(id))
		}
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
