package views

import (
	"io"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
)

// BenchmarkRows measures a page of the view's rows, the hot path of every
// fragment and live update.
func BenchmarkRows(b *testing.B) {
	r, err := New()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	u := &app.User{Handle: "maya", Name: "Maya Chen"}
	var items []*app.Item
	for i := 0; i < 50; i++ {
		items = append(items, &app.Item{ID: app.NewItemID(), Kind: app.KindAmbient, Source: app.SourceSlack, Status: app.StatusFailed, Title: "Investigate flaky checkout test (#eng-alerts)", CreatedAt: now.Add(-time.Hour), StartedAt: now.Add(-time.Hour), FinishedAt: now, Creator: u, Inference: 1234567, Compute: 345})
	}
	loc, _ := time.LoadLocation("Europe/Berlin")
	data := ViewPage{Items: items, Now: now, Loc: loc, Layout: Layout{User: u}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := r.Render(io.Discard, ViewMore, data); err != nil {
			b.Fatal(err)
		}
	}
}
