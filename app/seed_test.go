package app_test

import (
	"context"
	"net/url"
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
