package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
)

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
