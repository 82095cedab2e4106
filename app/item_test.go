package app_test

import (
	"testing"

	"github.com/agentdeck/agentdeck/app"
)

func TestCheckTransition(t *testing.T) {
	type tc struct {
		kind     app.Kind
		from, to app.Status
		code     app.Code
	}
	var cases []tc
	for _, from := range app.Statuses {
		for _, to := range app.Statuses {
			for _, kind := range app.Kinds {
				var want app.Code
				switch {
				case kind == app.KindAmbient && (to == app.StatusBlocked || to == app.StatusCanceled):
					want = app.EUnprocessable
				case from != to && from.Final():
					want = app.EConflict
				}
				cases = append(cases, tc{kind, from, to, want})
			}
		}
	}
	for _, c := range cases {
		if got := app.ErrorCode(app.CheckTransition(c.kind, c.from, c.to)); got != c.code {
			t.Errorf("%s %s → %s: %q, want %q", c.kind, c.from, c.to, got, c.code)
		}
	}
	// Spot checks that the table above encodes §2 and not just the code.
	if app.CheckTransition(app.KindInteractive, app.StatusBlocked, app.StatusWorking) != nil {
		t.Error("blocked → working must be allowed")
	}
	if app.CheckTransition(app.KindAmbient, app.StatusSuccess, app.StatusFailed) == nil {
		t.Error("success is final")
	}
}
