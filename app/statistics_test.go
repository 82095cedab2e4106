package app_test

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
)

// PostgreSQL's statistics over an item's kind, source and status know which
// go together: here runs from Slack fail half the time, others one in fifty,
// and a filter on both is expected as it is, not as if they were
// independent (a quarter of it), which made the page of a team's failed
// Slack runs read and sort all of the team's items.
func TestPlannerExpectsFilteredItemsAsTheyAre(t *testing.T) {
	s := apptest.Postgres(t)
	ctx := context.Background()
	u := &app.User{Handle: "solo", Name: "Solo"}
	mustOK(t, s.CreateUser(ctx, u))
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	items := make([]*app.Item, 10_000)
	failed := 0
	for i := range items {
		at := now.Add(-time.Duration(i) * time.Minute)
		it := &app.Item{Kind: app.KindAmbient, Source: app.SourceScheduled, Status: app.StatusSuccess, Title: "Nightly",
			CreatorID: u.ID, Visibility: app.VisibilityPrivate, CreatedAt: at, StartedAt: at}
		if i%5 == 0 {
			it.Source = app.SourceSlack
			if i%10 == 0 {
				it.Status = app.StatusFailed
				failed++
			}
		} else if i%50 == 1 {
			it.Status = app.StatusFailed
		}
		items[i] = it
	}
	for chunk := range slices.Chunk(items, 1000) {
		mustOK(t, s.CreateItemsAtOnce(ctx, chunk))
	}
	_, err := s.DB().ExecContext(ctx, "ANALYZE items")
	mustOK(t, err)
	var plan string
	err = s.DB().QueryRowContext(ctx, "EXPLAIN SELECT id FROM items WHERE source = 'slack' AND status = 'failed'").Scan(&plan)
	mustOK(t, err)
	m := regexp.MustCompile(`rows=(\d+)`).FindStringSubmatch(plan)
	if m == nil {
		t.Fatalf("no estimate in %q", plan)
	}
	expected, err := strconv.Atoi(m[1])
	mustOK(t, err)
	if expected < failed/2 || expected > failed*2 {
		t.Errorf("the planner expects %d failed runs from Slack, where there are %d:\n%s", expected, failed, plan)
	}
}
