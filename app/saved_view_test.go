package app_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
)

// viewNames are the names of the saved views a viewer sees, in order.
func viewNames(t *testing.T, s *app.Store, v app.Viewer) []string {
	t.Helper()
	views, err := s.SavedViews(context.Background(), v)
	mustOK(t, err)
	var names []string
	for _, sv := range views {
		names = append(names, sv.Name)
	}
	return names
}

func wantCode(t *testing.T, what string, err error, code app.Code) {
	t.Helper()
	var e *app.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Errorf("%s: %v, want %s", what, err, code)
	}
}

// A saved view is its owner's alone, or its team's: each member sees it,
// its owner and the team's admins manage it, and a member who leaves the
// team stops seeing it, as their landing view too.
func TestSavedViewsAreSeenAndManagedAsTheirTeam(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		ctx := context.Background()
		w := newWorld(t, s) // alice admin of red with bob; bob admin of blue with carol
		mine, err := s.SaveView(ctx, w.alice, app.NewSavedView{Name: "My failures", Query: "status=failed&cursor=" + app.Cursor{CreatedAt: w.now, ID: app.NewItemID()}.Encode() + "&tz=Europe/Berlin"})
		mustOK(t, err)
		if mine.Query != "status=failed" {
			t.Errorf("saved query %q: the page and the zone are not part of a view", mine.Query)
		}
		red, err := s.SaveView(ctx, w.bob, app.NewSavedView{Name: "Red's Codex runs", Query: "tab=all&agent=codex", TeamSlug: "red", Landing: true})
		mustOK(t, err)
		_, err = s.SaveView(ctx, w.bob, app.NewSavedView{Name: "Blue not Slack", Query: "tab=all&source=-slack", TeamSlug: "blue"})
		mustOK(t, err)

		sameOrder(t, "alice sees", viewNames(t, s, w.alice), []string{"My failures", "Red's Codex runs"})
		sameOrder(t, "bob sees", viewNames(t, s, w.bob), []string{"Blue not Slack", "Red's Codex runs"})
		sameOrder(t, "carol sees", viewNames(t, s, w.carol), []string{"Blue not Slack"})

		// alice, red's admin, manages bob's team view; carol cannot even see it.
		mustOK(t, s.RenameView(ctx, w.alice, red.ID, "Codex on red"))
		wantCode(t, "carol renames red's view", s.RenameView(ctx, w.carol, red.ID, "x"), app.ENotFound)
		wantCode(t, "bob deletes alice's own view", s.DeleteView(ctx, w.bob, mine.ID), app.ENotFound)
		wantCode(t, "a control character in a name", s.RenameView(ctx, w.alice, red.ID, "a\x00b"), app.EInvalid)
		wantCode(t, "an empty name", s.RenameView(ctx, w.alice, red.ID, "  "), app.EInvalid)

		// A member who is not an admin sees another's team view but may not change it.
		blueByBob, err := s.SavedViews(ctx, w.carol)
		mustOK(t, err)
		if blueByBob[0].Manage {
			t.Errorf("carol may manage bob's view of blue")
		}
		wantCode(t, "carol deletes bob's blue view", s.DeleteView(ctx, w.carol, blueByBob[0].ID), app.EForbidden)

		landing, err := s.LandingView(ctx, w.bob)
		mustOK(t, err)
		if landing == nil || landing.ID != red.ID || landing.Name != "Codex on red" {
			t.Fatalf("bob's landing view: %+v", landing)
		}
		mustOK(t, s.RemoveMember(ctx, w.bob, w.red.ID, w.bob.User.ID))
		bob := w.viewer(t, w.bob.User)
		sameOrder(t, "bob after leaving red", viewNames(t, s, bob), []string{"Blue not Slack"})
		if landing, err := s.LandingView(ctx, bob); err != nil || landing != nil {
			t.Errorf("bob's landing view after leaving its team: %+v, %v", landing, err)
		}
		wantCode(t, "bob renames red's view after leaving", s.RenameView(ctx, bob, red.ID, "mine"), app.ENotFound)

		mustOK(t, s.SetLandingView(ctx, w.alice, red.ID))
		mustOK(t, s.DeleteView(ctx, w.alice, red.ID))
		if landing, err := s.LandingView(ctx, w.alice); err != nil || landing != nil {
			t.Errorf("alice's landing view after its deletion: %+v, %v", landing, err)
		}
		wantCode(t, "a landing view one cannot see", s.SetLandingView(ctx, w.carol, mine.ID), app.ENotFound)
	})
}

// What a saved view keeps is a view the filter can read; anything else is
// refused, as is sharing with a team one is not in, or saving too many.
func TestSavingAViewRefusesWhatItCannotKeep(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		for _, bad := range []app.NewSavedView{
			{Name: "bad status", Query: "status=bogus"},
			{Name: "unknown", Query: "colour=red"},
			{Name: "malformed", Query: "a=%zz"},
			{Name: "", Query: "status=failed"},
			{Name: "not my team", Query: "", TeamSlug: "blue"},
		} {
			_, err := s.SaveView(ctx, w.alice, bad)
			if err == nil {
				t.Errorf("saved %+v", bad)
			}
		}
		for i := range app.MaxSavedViews {
			_, err := s.SaveView(ctx, w.carol, app.NewSavedView{Name: fmt.Sprintf("view %d", i), Query: "status=failed"})
			mustOK(t, err)
		}
		_, err := s.SaveView(ctx, w.carol, app.NewSavedView{Name: "one too many", Query: ""})
		wantCode(t, "one view too many", err, app.EUnprocessable)
		if n := len(viewNames(t, s, w.alice)); n != 0 {
			t.Errorf("alice sees %d of the refused views", n)
		}
	})
}

func sameOrder(t *testing.T, what string, got, want []string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
}
