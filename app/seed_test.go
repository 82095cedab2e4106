package app_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
)

// demoItems returns every item of the demo data set as its owner sees it.
func demoItems(t *testing.T, s *app.Store) []*app.Item {
	t.Helper()
	ctx := context.Background()
	users, err := s.Users(ctx)
	mustOK(t, err)
	var all []*app.Item
	for _, u := range users {
		v, err := s.Viewer(ctx, u.ID)
		mustOK(t, err)
		f, _ := app.ParseFilter(url.Values{})
		q, _, _, err := s.ResolveFilter(ctx, v, f)
		mustOK(t, err)
		for {
			page, err := s.Items(ctx, q, 500)
			mustOK(t, err)
			all = append(all, page.Items...)
			if page.Next == nil {
				break
			}
			q.After = page.Next
		}
	}
	return all
}

func TestDemoSeedIsRealisticAndFollowsTheRules(t *testing.T) {
	s := apptest.SQLite(t)
	now := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	mustOK(t, s.Seed(context.Background(), app.DemoSeed(now)))
	items := demoItems(t, s)
	if len(items) != 3000 {
		t.Fatalf("%d items, want 3000", len(items))
	}
	sources, statuses := map[app.Source]int{}, map[app.Status]int{}
	workingNow := 0
	activeOwners := map[int64]bool{} // who has something working or blocked in the last hour
	for _, it := range items {
		sources[it.Source]++
		statuses[it.Status]++
		if err := it.Validate(); err != nil {
			t.Errorf("item %s breaks a rule: %v", it.ID, err)
		}
		if it.CreatedAt.After(now) || it.CreatedAt.Before(now.AddDate(0, 0, -30)) {
			t.Errorf("item %s created %s, outside the last 30 days", it.ID, it.CreatedAt)
		}
		if it.Status == app.StatusWorking && now.Sub(it.CreatedAt) < time.Hour {
			workingNow++
		}
		if !it.Status.Final() && now.Sub(it.CreatedAt) < time.Hour {
			activeOwners[it.CreatorID] = true
		}
		if it.Status.Final() && it.FinishedAt.IsZero() {
			t.Errorf("final item %s has no finish time", it.ID)
		}
	}
	for _, src := range app.Sources {
		if sources[src] == 0 {
			t.Errorf("no %s items", src)
		}
	}
	for _, st := range app.Statuses {
		if statuses[st] == 0 {
			t.Errorf("no %s items", st)
		}
	}
	if workingNow < 3 {
		t.Errorf("%d items working right now, want a few", workingNow)
	}
	if len(activeOwners) != 6 {
		t.Errorf("%d of the 6 demo users have a run going right now, want every one", len(activeOwners))
	}
}

func TestDemoSeedIsDeterministic(t *testing.T) {
	now := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)
	var runs [2][]*app.Item
	for i := range runs {
		s := apptest.SQLite(t)
		s.SetClock(func() time.Time { return now })
		mustOK(t, s.Seed(context.Background(), app.DemoSeed(now)))
		runs[i] = demoItems(t, s)
	}
	for i := range runs[0] {
		a, b := runs[0][i], runs[1][i]
		if a.ID != b.ID || a.Title != b.Title || !a.CreatedAt.Equal(b.CreatedAt) || a.Credits() != b.Credits() {
			t.Fatalf("item %d differs between two seeds: %+v vs %+v", i, a, b)
		}
	}
}

// PostgreSQL takes the seeded items in with COPY, SQLite with INSERTs: both
// must store exactly the rows the generator made.
func TestSeedStoresTheSameItemsOnBothDatabases(t *testing.T) {
	stores := apptest.Stores(t)
	if len(stores) < 2 {
		t.Skip("TEST_DATABASE_URL is not set: nothing to compare SQLite with")
	}
	now := time.Date(2026, 11, 25, 15, 4, 5, 0, time.UTC)
	opts := app.SeedOptions{Users: 12, Teams: 3, Items: 2500, Days: 30, Now: now, Seed: 7}
	var seeded [][]string
	for _, n := range stores {
		ctx := context.Background()
		if err := n.Store.Seed(ctx, opts); err != nil {
			t.Fatalf("%s: seed: %v", n.Name, err)
		}
		var items []*app.Item
		if err := n.Store.DB().NewSelect().Model(&items).Order("id").Scan(ctx); err != nil {
			t.Fatalf("%s: read items: %v", n.Name, err)
		}
		if len(items) != opts.Items {
			t.Fatalf("%s: %d items stored, want %d", n.Name, len(items), opts.Items)
		}
		rows := make([]string, len(items))
		for i, it := range items {
			it.CreatedAt, it.UpdatedAt = it.CreatedAt.UTC(), it.UpdatedAt.UTC()
			it.StartedAt, it.FinishedAt = it.StartedAt.UTC(), it.FinishedAt.UTC()
			rows[i] = fmt.Sprintf("%+v", *it)
		}
		seeded = append(seeded, rows)
	}
	for i := range seeded[0] {
		if seeded[0][i] != seeded[1][i] {
			t.Fatalf("item %d differs:\n%s: %s\n%s: %s", i, stores[0].Name, seeded[0][i], stores[1].Name, seeded[1][i])
		}
	}
}

// Every demo run opens to what happened in it: conversations to their
// transcript, automations to their log and, when they succeeded, their
// outputs; a failed automation's log ends with its failing step, and a few
// nightly logs are long.
func TestDemoRunsHaveContents(t *testing.T) {
	ctx := context.Background()
	s := apptest.SQLite(t)
	now := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	mustOK(t, s.Seed(ctx, app.DemoSeed(now)))
	longLogs := 0
	for _, it := range demoItems(t, s) {
		var events []*app.Event
		for q := (app.EventQuery{Limit: 1000}); ; {
			page, err := s.Events(ctx, it.ID, q)
			mustOK(t, err)
			events = append(events, page.Events...)
			if !page.More {
				break
			}
			q.After = events[len(events)-1].Seq
		}
		byType := map[app.EventType][]*app.Event{}
		roles := map[app.MessageRole]bool{}
		for i, e := range events {
			if e.Seq != int64(i+1) {
				t.Fatalf("item %s: event %d has seq %d", it.ID, i, e.Seq)
			}
			byType[e.Type] = append(byType[e.Type], e)
			roles[e.Role] = true
		}
		if it.LastSeq != int64(len(events)) || len(events) == 0 {
			t.Fatalf("item %s: %d events, last seq %d", it.ID, len(events), it.LastSeq)
		}
		if it.Kind == app.KindInteractive && !(roles[app.RoleUser] && roles[app.RoleAgent] && roles[app.RoleTool]) {
			t.Errorf("conversation %s has no user, agent and tool turns: %v", it.ID, roles)
		}
		if it.Kind == app.KindAmbient {
			logs := byType[app.EventLog]
			if len(logs) == 0 {
				t.Fatalf("automation %s has no log", it.ID)
			}
			if len(logs) > 10000 {
				longLogs++
			}
			last := logs[len(logs)-1]
			if it.Status == app.StatusFailed && (it.Reason == "" || !strings.Contains(last.Text, it.Reason) || !strings.Contains(last.Data, "stderr")) {
				t.Errorf("failed run %s: reason %q, last log line %q %s", it.ID, it.Reason, last.Text, last.Data)
			}
			if it.Status == app.StatusSuccess && len(byType[app.EventOutput]) == 0 {
				t.Errorf("successful run %s has no outputs", it.ID)
			}
		}
		if it.Status == app.StatusBlocked && it.Reason == "" {
			t.Errorf("blocked conversation %s does not say what it waits for", it.ID)
		}
	}
	if longLogs < 3 {
		t.Errorf("%d runs have a log of more than 10,000 lines, want 3", longLogs)
	}
}

// seededRows reads back every item, as comparable text.
func seededRows(t *testing.T, s *app.Store) []string {
	t.Helper()
	var items []*app.Item
	mustOK(t, s.DB().NewSelect().Model(&items).Order("id").Scan(context.Background()))
	rows := make([]string, len(items))
	for i, it := range items {
		it.CreatedAt, it.UpdatedAt = it.CreatedAt.UTC(), it.UpdatedAt.UTC()
		it.StartedAt, it.FinishedAt = it.StartedAt.UTC(), it.FinishedAt.UTC()
		rows[i] = fmt.Sprintf("%+v", *it)
	}
	return rows
}

// A resumable seed stores a chunk per transaction; run again, it goes on
// from the last chunk stored and ends with the very items one seed in one
// go makes.
func TestAnInterruptedSeedGoesOnWhereItStopped(t *testing.T) {
	now := time.Date(2026, 11, 25, 15, 4, 5, 0, time.UTC)
	whole := app.SeedOptions{Users: 12, Teams: 3, Items: 250, Days: 30, Now: now, Seed: 7, ChunkItems: 100}
	reference := apptest.SQLite(t)
	mustOK(t, reference.Seed(context.Background(), whole))
	want := seededRows(t, reference)

	apptest.Each(t, func(t *testing.T, s *app.Store) {
		ctx := context.Background()
		resumable := whole
		resumable.Resumable = true
		// Stopped after its first two chunks...
		uninterrupted := app.InterruptSeeds(t, 2)
		if err := s.Seed(ctx, resumable); !errors.Is(err, app.ErrSeedInterrupted) {
			t.Fatalf("seed stopped after two chunks: %v, want it interrupted", err)
		}
		uninterrupted()
		if got := len(seededRows(t, s)); got != 200 {
			t.Fatalf("%d items after two chunks, want 200", got)
		}
		// ...then run to the end, twice: the second run has nothing to do.
		mustOK(t, s.Seed(ctx, resumable))
		mustOK(t, s.Seed(ctx, resumable))
		got := seededRows(t, s)
		if len(got) != len(want) {
			t.Fatalf("%d items after resuming, want %d", len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("item %d differs from one seed in one go:\n%s\n%s", i, got[i], want[i])
			}
		}
		if differences, err := s.VerifyRollups(ctx); err != nil || len(differences) > 0 {
			t.Errorf("rollups after a resumed seed: %v %v", differences, err)
		}
		// Other people than the seed's are not a seed to go on with.
		other := resumable
		other.Users = 13
		if err := s.Seed(ctx, other); err == nil {
			t.Error("a resumable seed over other people: want an error")
		}
	})
}
