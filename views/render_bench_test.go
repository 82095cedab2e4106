package views

import (
	"io"
	"strings"
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
	u := &app.User{ID: 1, Handle: "maya", Name: "Maya Chen"}
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

// BenchmarkFilterForm measures the filter form on All with a teammate list
// and some values chosen, as a full page or a chip's fragment renders it.
func BenchmarkFilterForm(b *testing.B) {
	r, err := New()
	if err != nil {
		b.Fatal(err)
	}
	data := benchFilterPage()
	filters := Template{"view#filters"}
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Render(io.Discard, filters, data); err != nil {
			b.Fatal(err)
		}
	}
}

// benchFilterPage is a view on All with its menus full, some values chosen
// and seven teammates to pick from.
func benchFilterPage() ViewPage {
	me := &app.User{ID: 1, Handle: "maya", Name: "Maya Chen", AvatarURL: "https://avatars.example.com/maya.png"}
	teammates := []*app.User{me}
	for i, name := range []string{"Ana Lopez", "Ben Okafor", "Chloé Martin", "Dev Patel", "Eli Stone", "Farah Aziz"} {
		teammates = append(teammates, &app.User{ID: int64(i + 2), Handle: strings.ToLower(strings.Fields(name)[0]), Name: name})
	}
	f := app.Filter{
		Tab:      app.TabAll,
		Query:    "checkout test",
		Sources:  app.Choice[app.Source]{Is: []app.Source{app.SourceSlack}},
		Statuses: app.Choice[app.Status]{Not: []app.Status{app.StatusSuccess}},
		Creators: app.Choice[string]{Is: []string{"maya", "ben"}},
		Repos:    app.Choice[string]{Is: []string{"acme/web"}, Not: []string{"acme/legacy"}},
		Day:      app.DayLast7,
		TZ:       "Europe/Berlin",
	}
	facets := app.Facets{
		Agents:   []string{app.AgentClaudeCode, app.AgentCodex},
		Models:   []string{"claude-opus-4", "claude-sonnet-4", "gpt-5", "gpt-5-mini"},
		Repos:    []string{"acme/api", "acme/web", "acme/infra", "acme/mobile", "acme/docs"},
		Branches: []string{"main", "release/2.4", "fix/checkout-flake", "feat/billing"},
		Teams:    []*app.Team{{Slug: "platform", Name: "Platform"}, {Slug: "web", Name: "Web"}},
	}
	return ViewPage{Layout: Layout{User: me}, Filter: f, Teammates: teammates, Menus: Menus(f, facets), FiltersOOB: true}
}
