package app_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
)

// attentionTitles lists what needs a viewer, newest first, over every page.
func attentionTitles(t *testing.T, s *app.Store, v app.Viewer) []string {
	t.Helper()
	var out []string
	var after *app.Cursor
	for {
		page, err := s.Attention(context.Background(), v, after, 2)
		mustOK(t, err)
		for _, e := range page.Entries {
			out = append(out, e.Item.Title)
		}
		if page.Next == nil {
			return out
		}
		after = page.Next
	}
}

// attentionEntry finds the entry of a title in what needs a viewer.
func attentionEntry(t *testing.T, s *app.Store, v app.Viewer, title string) (app.AttentionEntry, bool) {
	t.Helper()
	page, err := s.Attention(context.Background(), v, nil, 100)
	mustOK(t, err)
	for _, e := range page.Entries {
		if e.Item.Title == title {
			return e, true
		}
	}
	return app.AttentionEntry{}, false
}

func attentionCount(t *testing.T, s *app.Store, v app.Viewer) int {
	t.Helper()
	n, err := s.AttentionCount(context.Background(), v)
	mustOK(t, err)
	return n
}

// attentionWorld adds to the small company, in order, one item of each
// kind that does or does not need attention.
func attentionWorld(t *testing.T, s *app.Store) *world {
	t.Helper()
	w := newWorld(t, s)
	shared := func(tm *app.Team, spec func(*app.Item)) func(*app.Item) {
		return func(it *app.Item) {
			it.TeamID, it.Visibility = tm.ID, app.VisibilityTeam
			if spec != nil {
				spec(it)
			}
		}
	}
	chat := func(status app.Status, reason string) func(*app.Item) {
		return func(it *app.Item) {
			it.Kind, it.Source, it.Status, it.Reason = app.KindInteractive, app.SourceInteractive, status, reason
		}
	}
	failed := func(reason string) func(*app.Item) {
		return func(it *app.Item) { it.Status, it.Reason = app.StatusFailed, reason }
	}
	step := func() { w.now = w.now.Add(time.Minute) }
	w.item(t, w.alice, "alice asks to push", chat(app.StatusBlocked, "permission to run git push"))
	step()
	w.item(t, w.bob, "bob red tests failed", shared(w.red, failed("exit status 1")))
	step()
	w.item(t, w.bob, "bob red private failed", func(it *app.Item) {
		it.TeamID, it.Visibility, it.Status = w.red.ID, app.VisibilityPrivate, app.StatusFailed
	})
	step()
	w.item(t, w.carol, "carol blue lost contact", shared(w.blue, failed(app.ReasonLostContact)))
	step()
	w.item(t, w.alice, "alice red shared success", shared(w.red, nil))
	w.item(t, w.carol, "carol blue working", shared(w.blue, func(it *app.Item) { it.Status = app.StatusWorking }))
	w.item(t, w.bob, "bob blue canceled", shared(w.blue, chat(app.StatusCanceled, "")))
	step()
	return w
}

// Needs attention holds what is blocked or failed among what each viewer may
// see under All, newest first, with what each waits for.
func TestAttentionHoldsWhatEachViewerMaySeeBlockedOrFailed(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := attentionWorld(t, s)
		cases := []struct {
			who  string
			v    app.Viewer
			want []string
		}{
			{"alice", w.alice, []string{"bob red tests failed", "alice asks to push"}},
			{"bob", w.bob, []string{"carol blue lost contact", "bob red private failed", "bob red tests failed"}},
			{"carol", w.carol, []string{"carol blue lost contact"}},
		}
		for _, c := range cases {
			if got := attentionTitles(t, s, c.v); !slices.Equal(got, c.want) {
				t.Errorf("%s needs to see %q, want %q (newest first)", c.who, got, c.want)
			}
			if n := attentionCount(t, s, c.v); n != len(c.want) {
				t.Errorf("%s's count is %d, want %d", c.who, n, len(c.want))
			}
		}
		for title, reason := range map[string]string{
			"alice asks to push": "permission to run git push", "bob red tests failed": "exit status 1",
		} {
			e, ok := attentionEntry(t, s, w.alice, title)
			if !ok || e.Item.Reason != reason {
				t.Errorf("alice's entry %q says it waits for %q, want %q", title, e.Item.Reason, reason)
			}
		}
		if e, ok := attentionEntry(t, s, w.bob, "carol blue lost contact"); !ok || e.Item.Reason != app.ReasonLostContact {
			t.Errorf("bob's entry for a lost session says %q, want %q", e.Item.Reason, app.ReasonLostContact)
		}
	})
}

// An item enters Needs attention when it becomes blocked or failed, by any
// path (the API, an agent's report, the liveness rule), and leaves it when
// it moves on.
func TestAttentionFollowsStatusChanges(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		run, _, err := s.CreateRun(ctx, w.alice, app.NewRun{Kind: app.KindAmbient, Title: "deploy", Team: "red", Visibility: app.VisibilityTeam})
		mustOK(t, err)
		if n := attentionCount(t, s, w.bob); n != 0 {
			t.Fatalf("a working run needs bob's attention: count %d", n)
		}
		w.now = w.now.Add(time.Minute)
		mustOK(t, apptest.SetStatus(ctx, s, run.ID, app.StatusFailed))
		e, ok := attentionEntry(t, s, w.bob, "deploy")
		if !ok || !e.Since.Equal(w.now) {
			t.Fatalf("after failing through the API, bob's entry is %v (found %t), want one since %v", e.Since, ok, w.now)
		}

		// An agent's session asks its person for permission, then goes on.
		_, err = s.Report(ctx, w.alice, []app.Report{{Agent: app.AgentClaudeCode, Session: "s-1", Channel: app.ChannelHook,
			Signal: app.SignalWaiting, Reason: "permission to edit main.go", Prompt: "tidy main.go"}})
		mustOK(t, err)
		e, ok = attentionEntry(t, s, w.alice, "tidy main.go")
		if !ok || e.Item.Status != app.StatusBlocked || e.Item.Reason != "permission to edit main.go" {
			t.Fatalf("the waiting session's entry: %+v (found %t)", e.Item, ok)
		}
		_, err = s.Report(ctx, w.alice, []app.Report{{Agent: app.AgentClaudeCode, Session: "s-1", Channel: app.ChannelHook, Signal: app.SignalWorking}})
		mustOK(t, err)
		if _, ok := attentionEntry(t, s, w.alice, "tidy main.go"); ok {
			t.Errorf("the session works again but still needs attention")
		}

		// A session that goes silent loses contact.
		w.now = w.now.Add(time.Hour)
		_, err = s.CloseSilentSessions(ctx, app.Liveness{StaleAfter: time.Minute, AbandonAfter: 24 * time.Hour})
		mustOK(t, err)
		if e, ok := attentionEntry(t, s, w.alice, "tidy main.go"); !ok || e.Item.Reason != app.ReasonLostContact {
			t.Errorf("the silent session's entry: %+v (found %t), want lost contact", e.Item, ok)
		}
	})
}

// Acknowledging hides an entry from the person who acknowledged it only,
// and only as long as the item does not need attention again.
func TestAcknowledgingIsPerPersonAndUntilTheNextNeed(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := attentionWorld(t, s)
		ctx := context.Background()
		e, ok := attentionEntry(t, s, w.bob, "bob red tests failed")
		if !ok {
			t.Fatal("bob's failed run is not in his Needs attention")
		}
		n, err := s.Acknowledge(ctx, w.bob, []app.Ack{e.Ack()})
		mustOK(t, err)
		if n != 1 {
			t.Fatalf("acknowledged %d, want 1", n)
		}
		if _, ok := attentionEntry(t, s, w.bob, "bob red tests failed"); ok {
			t.Errorf("bob acknowledged his failed run, but it still needs him")
		}
		if _, ok := attentionEntry(t, s, w.alice, "bob red tests failed"); !ok {
			t.Errorf("bob's acknowledgement hid the run from alice")
		}
		if got, want := attentionCount(t, s, w.bob), 2; got != want {
			t.Errorf("bob's count after acknowledging one: %d, want %d", got, want)
		}

		// Carol cannot acknowledge what she may not see.
		priv, _ := attentionEntry(t, s, w.bob, "bob red private failed")
		if n, err := s.Acknowledge(ctx, w.carol, []app.Ack{priv.Ack()}); err != nil || n != 0 {
			t.Errorf("carol acknowledged bob's private run: %d, %v", n, err)
		}

		// Alice's blocked chat is acknowledged, goes on, and blocks again:
		// the new need shows.
		chat, _ := attentionEntry(t, s, w.alice, "alice asks to push")
		_, err = s.Acknowledge(ctx, w.alice, []app.Ack{chat.Ack()})
		mustOK(t, err)
		w.now = w.now.Add(time.Minute)
		mustOK(t, apptest.SetStatus(ctx, s, chat.Item.ID, app.StatusWorking))
		w.now = w.now.Add(time.Minute)
		mustOK(t, apptest.SetStatus(ctx, s, chat.Item.ID, app.StatusBlocked))
		again, ok := attentionEntry(t, s, w.alice, "alice asks to push")
		if !ok || !again.Since.Equal(w.now) {
			t.Errorf("blocked again, the chat needs alice since %v (found %t), want %v", again.Since, ok, w.now)
		}
		// An acknowledgement of the older need, sent late, hides nothing new.
		_, err = s.Acknowledge(ctx, w.alice, []app.Ack{chat.Ack()})
		mustOK(t, err)
		if _, ok := attentionEntry(t, s, w.alice, "alice asks to push"); !ok {
			t.Errorf("a late acknowledgement of the earlier need hid the new one")
		}
	})
}

// Leaving a team takes its items out of one's Needs attention at once.
func TestLeavingATeamRemovesItsItemsFromAttention(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := attentionWorld(t, s)
		ctx := context.Background()
		// Alice leaves red, whose admin she was, and bob blue.
		mustOK(t, s.SetRole(ctx, w.alice, w.red.ID, w.bob.User.ID, app.RoleAdmin))
		mustOK(t, s.RemoveMember(ctx, w.alice, w.red.ID, w.alice.User.ID))
		mustOK(t, s.SetRole(ctx, w.bob, w.blue.ID, w.carol.User.ID, app.RoleAdmin))
		mustOK(t, s.RemoveMember(ctx, w.bob, w.blue.ID, w.bob.User.ID))
		alice, bob := w.viewer(t, w.alice.User), w.viewer(t, w.bob.User)
		if got, want := attentionTitles(t, s, alice), []string{"alice asks to push"}; !slices.Equal(got, want) {
			t.Errorf("after leaving red, alice needs to see %q, want %q", got, want)
		}
		// Bob's own runs stay his, whatever team they name.
		if got, want := attentionTitles(t, s, bob), []string{"bob red private failed", "bob red tests failed"}; !slices.Equal(got, want) {
			t.Errorf("after leaving blue, bob needs to see %q, want %q", got, want)
		}
		if n := attentionCount(t, s, bob); n != 2 {
			t.Errorf("after leaving blue, bob's count is %d, want 2", n)
		}
	})
}

// Entries that began to need attention since the person's previous visit
// are marked new.
func TestAttentionMarksWhatIsNewSinceTheLastVisit(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := attentionWorld(t, s)
		ctx := context.Background()
		first, err := s.VisitAttention(ctx, w.bob)
		mustOK(t, err)
		if !first.IsZero() {
			t.Fatalf("a first visit has a previous one: %v", first)
		}
		page, err := s.Attention(ctx, w.bob, nil, 10)
		mustOK(t, err)
		for _, e := range page.Entries {
			if e.New {
				t.Errorf("on the first visit %q is marked new", e.Item.Title)
			}
		}
		visited := w.now
		w.now = w.now.Add(time.Hour)
		w.item(t, w.bob, "bob fails after the visit", func(it *app.Item) { it.Status, it.CreatedAt = app.StatusFailed, w.now })
		w.now = w.now.Add(time.Hour)
		previous, err := s.VisitAttention(ctx, w.bob)
		mustOK(t, err)
		if !previous.Equal(visited) {
			t.Errorf("the previous visit is %v, want %v", previous, visited)
		}
		page, err = s.Attention(ctx, w.bob, nil, 10)
		mustOK(t, err)
		var fresh []string
		for _, e := range page.Entries {
			if e.New {
				fresh = append(fresh, e.Item.Title)
			}
		}
		if !slices.Equal(fresh, []string{"bob fails after the visit"}) {
			t.Errorf("new since the last visit: %q", fresh)
		}
	})
}

// The count stops just past its cap, and the pages still hold everything.
func TestAttentionCountStopsPastItsCap(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		for i := range app.AttentionCountCap + 5 {
			w.item(t, w.alice, fmt.Sprintf("failed %03d", i), func(it *app.Item) { it.Status = app.StatusFailed })
		}
		if n := attentionCount(t, s, w.alice); n != app.AttentionCountCap+1 {
			t.Errorf("count %d, want %d (past the cap)", n, app.AttentionCountCap+1)
		}
		if n := len(attentionTitles(t, s, w.alice)); n != app.AttentionCountCap+5 {
			t.Errorf("the pages hold %d entries, want %d", n, app.AttentionCountCap+5)
		}
	})
}

func TestParseAckReadsWhatAckPrints(t *testing.T) {
	a := app.Ack{ItemID: app.NewItemID(), Since: time.Date(2026, 11, 25, 12, 0, 0, 123000, time.UTC)}
	got, err := app.ParseAck(a.String())
	if err != nil || got.ItemID != a.ItemID || !got.Since.Equal(a.Since) {
		t.Errorf("ParseAck(%q) = %+v, %v", a.String(), got, err)
	}
	for _, bad := range []string{"", "x@1", a.ItemID, a.ItemID + "@", a.ItemID + "@-5", a.ItemID + "@x", "@5"} {
		if _, err := app.ParseAck(bad); app.ErrorCode(err) != app.EInvalid {
			t.Errorf("ParseAck(%q): %v, want an invalid-input error", bad, err)
		}
	}
}
