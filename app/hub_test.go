package app_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
)

// hintWait bounds how long a test waits for a hint that must come.
const hintWait = 10 * time.Second

// nextHint returns the next hint, failing the test when none comes in time or
// the subscription ended.
func nextHint(t *testing.T, sub *app.Subscription) app.Hint {
	t.Helper()
	select {
	case h, ok := <-sub.C:
		if !ok {
			t.Fatal("the subscription ended; want a hint")
		}
		return h
	case <-time.After(hintWait):
		t.Fatalf("no hint within %s", hintWait)
	}
	return app.Hint{}
}

// hintsUntil collects hints up to and including the first one for marker,
// which the test published last: hints go out in order, so everything that
// was coming before it has come.
func hintsUntil(t *testing.T, sub *app.Subscription, marker string) []app.Hint {
	t.Helper()
	var got []app.Hint
	for {
		h := nextHint(t, sub)
		got = append(got, h)
		if h.ItemID == marker && !h.Events {
			return got
		}
	}
}

func subscribe(t *testing.T, hub app.Hub, buffer int) *app.Subscription {
	t.Helper()
	sub, err := hub.Subscribe(context.Background(), buffer)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	t.Cleanup(sub.Close)
	return sub
}

func count(hints []app.Hint, want app.Hint) int {
	n := 0
	for _, h := range hints {
		if h == want {
			n++
		}
	}
	return n
}

func TestHubDeliversToEverySubscriber(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		a, b := subscribe(t, s.Hub(), 16), subscribe(t, s.Hub(), 16)
		id := app.NewItemID()
		s.Hub().Publish(app.Hint{ItemID: id})
		for name, sub := range map[string]*app.Subscription{"first": a, "second": b} {
			if h := nextHint(t, sub); h != (app.Hint{ItemID: id}) {
				t.Errorf("%s subscriber got %+v, want the hint for %s", name, h, id)
			}
		}
	})
}

func TestHubCoalescesABurstIntoOneHintPerItem(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		sub := subscribe(t, s.Hub(), 64)
		x, y := app.NewItemID(), app.NewItemID()
		for range 50 {
			s.Hub().Publish(app.Hint{ItemID: x}, app.Hint{ItemID: y}, app.Hint{ItemID: x, Events: true})
		}
		first := nextHint(t, sub) // the burst's window has closed
		marker := app.NewItemID()
		s.Hub().Publish(app.Hint{ItemID: marker})
		got := append([]app.Hint{first}, hintsUntil(t, sub, marker)...)
		for _, want := range []app.Hint{{ItemID: x}, {ItemID: y}, {ItemID: x, Events: true}} {
			if n := count(got, want); n != 1 {
				t.Errorf("%+v arrived %d times after a burst of 50; want once (got %+v)", want, n, got)
			}
		}
	})
}

// waitForHint reads hints until the one for id (not events) arrives.
func waitForHint(t *testing.T, sub *app.Subscription, id string) {
	t.Helper()
	hintsUntil(t, sub, id)
}

func TestStoreWritesAnnounceTheItem(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		// The world's teams announce their members; wait for that first.
		sub := subscribe(t, s.Hub(), 16)
		ctx := context.Background()
		settle(t, s.Hub(), sub)

		it := w.item(t, w.alice, "announced", func(it *app.Item) { it.Status = app.StatusWorking })
		if h := nextHint(t, sub); h != (app.Hint{ItemID: it.ID}) {
			t.Fatalf("after CreateItem got %+v, want the hint for %s", h, it.ID)
		}

		mustOK(t, apptest.SetStatus(ctx, s, it.ID, app.StatusWorking)) // no change: no hint
		mustOK(t, apptest.SetStatus(ctx, s, it.ID, app.StatusSuccess))
		if h := nextHint(t, sub); h != (app.Hint{ItemID: it.ID}) {
			t.Fatalf("after SetItemStatus got %+v, want the hint for %s", h, it.ID)
		}

		// A refused change announces nothing: the marker comes next.
		err := apptest.SetStatus(ctx, s, it.ID, app.StatusFailed)
		if app.ErrorCode(err) != app.EConflict {
			t.Fatalf("success → failed: got %v, want %s", err, app.EConflict)
		}
		marker := app.NewItemID()
		s.Hub().Publish(app.Hint{ItemID: marker})
		if h := nextHint(t, sub); h.ItemID != marker {
			t.Errorf("after a refused change got %+v, want only the marker %s", h, marker)
		}
	})
}

func TestSetItemStatusFollowsTheRulesAndRecordsTheFinish(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		run := w.item(t, w.alice, "run", func(it *app.Item) { it.Status = app.StatusWorking })

		if err := apptest.SetStatus(ctx, s, run.ID, app.StatusBlocked); app.ErrorCode(err) != app.EUnprocessable {
			t.Errorf("ambient → blocked: got %v, want %s", err, app.EUnprocessable)
		}
		if err := apptest.SetStatus(ctx, s, app.NewItemID(), app.StatusSuccess); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("unknown item: got %v, want ErrNotFound", err)
		}
		if err := apptest.SetStatus(ctx, s, "not-an-id", app.StatusSuccess); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("malformed id: got %v, want ErrNotFound", err)
		}

		w.now = w.now.Add(3 * time.Minute)
		mustOK(t, apptest.SetStatus(ctx, s, run.ID, app.StatusFailed))
		got, err := s.Item(ctx, w.alice, run.ID)
		mustOK(t, err)
		if got.Status != app.StatusFailed || !got.FinishedAt.Equal(w.now) || !got.UpdatedAt.Equal(w.now) {
			t.Errorf("after failing: status %s, finished %v, updated %v; want failed, finished and updated at %v",
				got.Status, got.FinishedAt, got.UpdatedAt, w.now)
		}
	})
}

func TestHubDropsASlowSubscriberWithoutBlocking(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		slow := subscribe(t, s.Hub(), 1)
		fast := subscribe(t, s.Hub(), 64)
		ids := []string{app.NewItemID(), app.NewItemID(), app.NewItemID()}
		for _, id := range ids {
			s.Hub().Publish(app.Hint{ItemID: id})
		}
		got := hintsUntil(t, fast, ids[2])
		if len(got) != 3 {
			t.Errorf("the fast subscriber got %+v; want the 3 hints", got)
		}
		n := 0
		for range slow.C { // ends when the hub closes the slow channel
			n++
		}
		if n > 1 {
			t.Errorf("the slow subscriber (buffer 1) got %d hints before being dropped; want at most 1", n)
		}
	})
}

func TestHubCloseEndsSubscriptions(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		sub := subscribe(t, s.Hub(), 4)
		mustOK(t, s.Close())
		select {
		case _, ok := <-sub.C:
			if ok {
				t.Error("got a hint after Close; want the channel closed")
			}
		case <-time.After(hintWait):
			t.Fatal("the subscription is still open after the hub closed")
		}
		if _, err := s.Hub().Subscribe(context.Background(), 1); !errors.Is(err, app.ErrHubClosed) {
			t.Errorf("Subscribe after Close: got %v, want ErrHubClosed", err)
		}
	})
}

func TestHubLeavesNoGoroutineBehind(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		cycle := func() {
			sub := subscribe(t, s.Hub(), 4)
			id := app.NewItemID()
			s.Hub().Publish(app.Hint{ItemID: id})
			waitForHint(t, sub, id)
			sub.Close()
		}
		cycle() // let the connection pool start its own goroutines first
		before := runtime.NumGoroutine()
		for range 3 {
			cycle()
		}
		deadline := time.Now().Add(hintWait)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				t.Fatalf("%d goroutines after every subscriber left; want at most the %d before", runtime.NumGoroutine(), before)
			}
			runtime.Gosched()
		}
	})
}

func TestPostgresHubSpansStoresOnOneDatabase(t *testing.T) {
	dsn := apptest.PostgresDSN(t)
	a, b := apptest.Open(t, dsn), apptest.Open(t, dsn)
	other := apptest.Postgres(t) // another schema of the same database
	w := newWorld(t, a)
	onB, onOther := subscribe(t, b.Hub(), 16), subscribe(t, other.Hub(), 16)

	it := w.item(t, w.alice, "written on a", func(it *app.Item) { it.Status = app.StatusWorking })
	mustOK(t, apptest.SetStatus(context.Background(), a, it.ID, app.StatusSuccess))
	// The world's teams announce their members first.
	got := hintsUntil(t, onB, it.ID)
	first := got[slices.IndexFunc(got, func(h app.Hint) bool { return h.ItemID != "" })]
	if first.ItemID != it.ID {
		t.Errorf("b heard %+v first of the items; want the hint for %s written through a", first, it.ID)
	}

	marker := app.NewItemID()
	other.Hub().Publish(app.Hint{ItemID: marker})
	if h := nextHint(t, onOther); h.ItemID != marker {
		t.Errorf("a store on another schema heard %+v; want only its own marker", h)
	}
}

func TestPostgresHubResyncsAfterTheListenerReconnects(t *testing.T) {
	s := apptest.Postgres(t)
	sub := subscribe(t, s.Hub(), 16)
	ctx := context.Background()
	var killed int
	err := s.DB().QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = 'agentdeck listen ' || current_schema()`).Scan(&killed)
	mustOK(t, err)
	if killed != 1 {
		t.Fatalf("terminated %d listener connections; want 1", killed)
	}
	if h := nextHint(t, sub); !h.Resync() {
		t.Fatalf("after the listener's connection broke got %+v; want a re-sync hint", h)
	}
	id := app.NewItemID()
	s.Hub().Publish(app.Hint{ItemID: id})
	if h := nextHint(t, sub); h.ItemID != id {
		t.Errorf("after reconnecting got %+v; want the hint for %s", h, id)
	}
}
