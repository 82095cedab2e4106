package app_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
	"github.com/uptrace/bun"
)

// queryCounter counts the statements a store runs, but for the hub's
// announcements of earlier writes, which may run at any moment.
type queryCounter struct{ n atomic.Int64 }

func (c *queryCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (c *queryCounter) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	if !strings.HasPrefix(e.Query, "SELECT pg_notify(") {
		c.n.Add(1)
	}
}

// costs runs fn and returns how many statements it ran.
func (c *queryCounter) costs(fn func()) int64 {
	before := c.n.Load()
	fn()
	return c.n.Load() - before
}

func allView(t *testing.T, s *app.Store, v app.Viewer) app.View {
	t.Helper()
	view, err := s.ViewOf(context.Background(), v, url.Values{"tab": {"all"}}, app.ViewOptions{Summary: true})
	mustOK(t, err)
	return view
}

func titles(view app.View) []string {
	return pluck(view.Page.Items, func(it *app.Item) string { return it.Title })
}

// pluck is one field of every element.
func pluck[T any](list []T, field func(T) string) []string {
	out := make([]string, len(list))
	for i, x := range list {
		out[i] = field(x)
	}
	return out
}

func TestCachesServeRepeatsFromMemoryAndFollowEveryChange(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		// The hints, to wait for the echoes of earlier writes.
		sub := subscribe(t, s.Hub(), 256)
		counter := &queryCounter{}
		s.DB().AddQueryHook(counter)
		settle(t, s.Hub(), sub)

		// A viewer: read once, then from memory; a membership change is
		// seen at once.
		w.viewer(t, w.alice.User)
		if n := counter.costs(func() { w.viewer(t, w.alice.User) }); n != 0 {
			t.Errorf("a repeated viewer cost %d statements, want 0", n)
		}
		mustOK(t, s.AddMember(ctx, w.blue.ID, w.alice.User.ID, app.RoleMember))
		if got := w.viewer(t, w.alice.User).TeamIDs; !slices.Contains(got, w.blue.ID) {
			t.Errorf("after joining blue, alice's teams are %v", got)
		}
		mustOK(t, s.RemoveMember(ctx, w.alice, w.blue.ID, w.alice.User.ID))
		if got := w.viewer(t, w.alice.User).TeamIDs; slices.Contains(got, w.blue.ID) {
			t.Errorf("after leaving blue, alice's teams are %v", got)
		}

		// A session: the same, for a change of user and for its end.
		settle(t, s.Hub(), sub)
		id, err := s.CreateSession(ctx, w.alice.User.ID, nil, 0)
		mustOK(t, err)
		_, err = s.Session(ctx, id)
		mustOK(t, err)
		if n := counter.costs(func() { _, err = s.Session(ctx, id) }); n != 0 || err != nil {
			t.Errorf("a repeated session cost %d statements (%v), want 0", n, err)
		}
		_, err = s.UpdateSession(ctx, id, w.bob.User.ID, []byte("data"))
		mustOK(t, err)
		if sess, err := s.Session(ctx, id); err != nil || sess.UserID != w.bob.User.ID || string(sess.Data) != "data" {
			t.Errorf("after the session changed: %+v, %v", sess, err)
		}
		// Its use is still recorded once a minute, which reads it afresh.
		w.now = w.now.Add(2 * time.Minute)
		if n := counter.costs(func() { _, err = s.Session(ctx, id) }); n != 2 || err != nil {
			t.Errorf("a session unused for two minutes cost %d statements (%v), want its read and its touch", n, err)
		}
		_, err = s.DeleteSession(ctx, id)
		mustOK(t, err)
		if _, err := s.Session(ctx, id); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("an ended session: %v, want not found", err)
		}

		// A view: its page and summary, read once; a new item, a renamed
		// team and a changed status are seen at once.
		first := w.item(t, w.alice, "first", func(it *app.Item) {
			it.TeamID, it.Visibility, it.Status = w.red.ID, app.VisibilityTeam, app.StatusWorking
		})
		// The writes' own hints come back through the hub and drop what
		// they name once more: wait for them before counting.
		settle(t, s.Hub(), sub)
		before := allView(t, s, w.alice)
		if n := counter.costs(func() { allView(t, s, w.alice) }); n != 0 {
			t.Errorf("a repeated view cost %d statements, want 0", n)
		}
		w.item(t, w.bob, "second", func(it *app.Item) { it.TeamID, it.Visibility = w.red.ID, app.VisibilityTeam })
		after := allView(t, s, w.alice)
		if got := titles(after); !slices.Contains(got, "second") || after.Summary.Items != before.Summary.Items+1 {
			t.Errorf("after bob's new item alice's All shows %v, %d items (before %d)", got, after.Summary.Items, before.Summary.Items)
		}
		mustOK(t, s.RenameTeam(ctx, w.alice, w.red.ID, "Crimson"))
		for _, it := range allView(t, s, w.alice).Page.Items {
			if it.TeamID == w.red.ID && it.Team.Name != "Crimson" {
				t.Errorf("after the rename, %q shows its team as %q", it.Title, it.Team.Name)
			}
		}
		mustOK(t, apptest.SetStatus(ctx, s, first.ID, app.StatusFailed))
		if got := allView(t, s, w.alice).Summary.Failed; got != before.Summary.Failed+1 {
			t.Errorf("after a run failed the summary counts %d failed, want %d", got, before.Summary.Failed+1)
		}

		// Saved views: a new one and a rename are seen at once.
		names := func() []string {
			saved, err := s.SavedViews(ctx, w.bob)
			mustOK(t, err)
			return pluck(saved, func(sv *app.SavedView) string { return sv.Name })
		}
		names()
		sv, err := s.SaveView(ctx, w.bob, app.NewSavedView{Name: "Failures", Query: "status=failed"})
		mustOK(t, err)
		if got := names(); !slices.Equal(got, []string{"Failures"}) {
			t.Errorf("after saving a view: %v", got)
		}
		mustOK(t, s.RenameView(ctx, w.bob, sv.ID, "Broken"))
		if got := names(); !slices.Equal(got, []string{"Broken"}) {
			t.Errorf("after renaming it: %v", got)
		}

		// The menus: a repeat costs nothing; a new teammate and a new
		// agent are offered at once.
		handles := func() []string {
			mates, err := s.Teammates(ctx, w.alice)
			mustOK(t, err)
			return pluck(mates, func(u *app.User) string { return u.Handle })
		}
		settle(t, s.Hub(), sub)
		handles()
		if n := counter.costs(func() { handles() }); n != 0 {
			t.Errorf("repeated teammates cost %d statements, want 0", n)
		}
		dana := &app.User{Handle: "dana", Name: "dana"}
		mustOK(t, s.CreateUser(ctx, dana))
		mustOK(t, s.AddMember(ctx, w.red.ID, dana.ID, app.RoleMember))
		if got := handles(); !slices.Contains(got, "dana") {
			t.Errorf("alice's teammates after dana joined red: %v", got)
		}
		menus := func() app.Facets {
			f, err := s.Facets(ctx, w.alice, app.TabAll)
			mustOK(t, err)
			return f
		}
		settle(t, s.Hub(), sub)
		menus()
		if n := counter.costs(func() { menus() }); n != 0 {
			t.Errorf("repeated menus cost %d statements, want 0", n)
		}
		w.item(t, w.bob, "by another agent", func(it *app.Item) {
			it.TeamID, it.Visibility, it.AgentName = w.red.ID, app.VisibilityTeam, "gemini-cli"
		})
		if got := menus().Agents; !slices.Contains(got, "gemini-cli") {
			t.Errorf("the agent menu after a run by a new agent: %v", got)
		}

		// A deleted user is gone at once, with their sessions.
		carolSession, err := s.CreateSession(ctx, w.carol.User.ID, nil, 0)
		mustOK(t, err)
		_, err = s.Session(ctx, carolSession)
		mustOK(t, err)
		mustOK(t, s.DeleteUser(ctx, w.carol.User.ID))
		if _, err := s.Viewer(ctx, w.carol.User.ID); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("a deleted user's viewer: %v, want not found", err)
		}
		if _, err := s.Session(ctx, carolSession); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("a deleted user's session: %v, want not found", err)
		}
		if err := s.DeleteUser(ctx, w.carol.User.ID); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("deleting a deleted user: %v, want not found", err)
		}
	})
}

// settle waits until every hint published through hub so far has reached
// sub, the repeats that wait for the end of the throttle window included:
// a marker goes out at once, and the same marker again goes out with them.
func settle(t *testing.T, hub app.Hub, sub *app.Subscription) {
	t.Helper()
	marker := app.NewItemID()
	for range 2 {
		hub.Publish(app.Hint{ItemID: marker})
		hintAbout(t, sub, func(h app.Hint) bool { return h.ItemID == marker })
	}
}

// hintAbout reads hints until one that matches arrives: what it announces
// has then been dropped from the replica's memory, since the hub hands
// hints to the cache before any subscriber.
func hintAbout(t *testing.T, sub *app.Subscription, match func(app.Hint) bool) {
	t.Helper()
	deadline := time.After(hintWait)
	for {
		select {
		case h, ok := <-sub.C:
			if !ok {
				t.Fatal("the subscription ended")
			}
			if match(h) {
				return
			}
		case <-deadline:
			t.Fatalf("no such hint within %s", hintWait)
		}
	}
}

func TestCachesFollowChangesMadeByAnotherReplica(t *testing.T) {
	dsn := apptest.PostgresDSN(t)
	a, b := apptest.Open(t, dsn), apptest.Open(t, dsn)
	ctx := context.Background()
	w := newWorld(t, b)
	a.SetClock(func() time.Time { return w.now })
	subA := subscribe(t, a.Hub(), 256)
	counter := &queryCounter{}
	a.DB().AddQueryHook(counter)
	settle(t, b.Hub(), subA)

	id, err := b.CreateSession(ctx, w.alice.User.ID, nil, 0)
	mustOK(t, err)
	for _, read := range []func(){
		func() { _, err := a.Viewer(ctx, w.alice.User.ID); mustOK(t, err) },
		func() { _, err := a.Session(ctx, id); mustOK(t, err) },
		func() { allView(t, a, w.alice) },
	} {
		read()
		if n := counter.costs(read); n != 0 {
			t.Fatalf("replica A's repeated read cost %d statements, want 0", n)
		}
	}

	mustOK(t, b.AddMember(ctx, w.blue.ID, w.alice.User.ID, app.RoleMember))
	hintAbout(t, subA, func(h app.Hint) bool { return h.UserChanged == w.alice.User.ID })
	v, err := a.Viewer(ctx, w.alice.User.ID)
	mustOK(t, err)
	if !slices.Contains(v.TeamIDs, w.blue.ID) {
		t.Errorf("replica A after alice joined blue on B: teams %v", v.TeamIDs)
	}

	it := w.item(t, w.bob, "made on B", func(it *app.Item) { it.TeamID, it.Visibility = w.red.ID, app.VisibilityTeam })
	hintAbout(t, subA, func(h app.Hint) bool { return h.ItemID == it.ID && !h.Events })
	if got := titles(allView(t, a, v)); !slices.Contains(got, "made on B") {
		t.Errorf("replica A's All after an item made on B: %v", got)
	}

	_, err = b.DeleteSession(ctx, id)
	mustOK(t, err)
	hintAbout(t, subA, func(h app.Hint) bool { return h.SessionEnded != "" })
	if _, err := a.Session(ctx, id); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("replica A's session after signing out on B: %v, want not found", err)
	}
}
