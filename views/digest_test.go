package views

import (
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
)

// A page's digest changes with anything its rows show, and only then: the
// same rows give the same digest, and texts that differ only in where one
// ends and the next begins do not collide.
func TestResultsDigestTellsPagesApart(t *testing.T) {
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	page := func(edit func(*app.Item)) []*app.Item {
		it := &app.Item{ID: "018d2fbb-2253-4977-9910-dcaf53bff464", Status: app.StatusFailed, Title: "Deploy the web",
			Reason: "exit status 1", UpdatedAt: at, FinishedAt: at.Add(time.Minute), Inference: 1_500_000}
		if edit != nil {
			edit(it)
		}
		return []*app.Item{it}
	}
	sum := app.Summary{Items: 1}
	base := ResultsDigest(sum, page(nil))
	if again := ResultsDigest(sum, page(nil)); again != base {
		t.Fatalf("the same page gave %s and %s", base, again)
	}
	for name, edit := range map[string]func(*app.Item){
		"title":             func(it *app.Item) { it.Title = "Deploy the api" },
		"title's end moved": func(it *app.Item) { it.Title, it.Reason = "Deploy the webexit", " status 1" },
		"reason":            func(it *app.Item) { it.Reason = "exit status 2" },
		"status":            func(it *app.Item) { it.Status = app.StatusSuccess },
		"update":            func(it *app.Item) { it.UpdatedAt = at.Add(time.Second) },
		"credits":           func(it *app.Item) { it.Inference++ },
		"reason into title": func(it *app.Item) { it.Title, it.Reason = "Deploy the web"+"exit status 1", "" },
	} {
		if got := ResultsDigest(sum, page(edit)); got == base {
			t.Errorf("%s: the digest did not change", name)
		}
	}
	if got := ResultsDigest(app.Summary{Items: 2}, page(nil)); got == base {
		t.Error("the summary changed but the digest did not")
	}
}
