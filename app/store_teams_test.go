package app_test

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
)

// newSlug is the shape of every slug agentdeck makes: the name's, then a
// random suffix.
var newSlug = regexp.MustCompile(`^platform-tools-[a-z0-9]{6}$`)

func TestCreateTeamMakesTheCreatorAdminWithAUniqueSlug(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		first := &app.Team{Name: "  Platform Tools "}
		mustOK(t, s.CreateTeam(ctx, first, w.carol.User.ID))
		second := &app.Team{Name: "Platform tools"}
		mustOK(t, s.CreateTeam(ctx, second, w.alice.User.ID))
		if !newSlug.MatchString(first.Slug) || first.Name != "Platform Tools" || !newSlug.MatchString(second.Slug) || first.Slug == second.Slug {
			t.Errorf("slugs %q (%q) and %q, want two different platform-tools-XXXXXX (and the name trimmed)", first.Slug, first.Name, second.Slug)
		}
		m, err := s.Membership(ctx, w.viewer(t, w.carol.User), first.Slug)
		mustOK(t, err)
		if m.Role != app.RoleAdmin || m.Team.ID != first.ID {
			t.Errorf("creator's membership = %+v, want admin of %d", m, first.ID)
		}
		for _, bad := range []string{"", "   ", string(make([]byte, 61)), "tab\tname", "nul\x00name", "bad \xff byte"} {
			if err := s.CreateTeam(ctx, &app.Team{Name: bad}, w.alice.User.ID); app.ErrorCode(err) != app.EInvalid {
				t.Errorf("team named %q: %v, want invalid", bad, err)
			}
		}
	})
}

func TestATeamsSlugSaysNothingOfOtherTeams(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		// alice's team is the first of its name; carol, who cannot see it,
		// names hers the same. Both slugs have the same shape: carol's
		// says nothing of alice's.
		hidden := &app.Team{Name: "Platform Tools"}
		mustOK(t, s.CreateTeam(ctx, hidden, w.alice.User.ID))
		second := &app.Team{Name: "Platform Tools"}
		mustOK(t, s.CreateTeam(ctx, second, w.carol.User.ID))
		for _, team := range []*app.Team{hidden, second} {
			if !newSlug.MatchString(team.Slug) {
				t.Errorf("slug %q, want platform-tools-XXXXXX whatever other teams exist", team.Slug)
			}
		}
		if _, err := s.Membership(ctx, w.viewer(t, w.carol.User), hidden.Slug); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("carol looking up the team she is not in: %v, want not found", err)
		}
	})
}

func TestATeamShowsOnlyToItsMembers(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		if _, err := s.Membership(ctx, w.carol, "red"); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("carol looking up red, which she is not in: %v, want not found", err)
		}
		if _, err := s.Members(ctx, w.carol, w.red.ID); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("carol listing red's members: %v, want not found", err)
		}
		ms, err := s.Members(ctx, w.bob, w.red.ID)
		mustOK(t, err)
		var got []string
		for _, m := range ms {
			got = append(got, m.User.Handle+":"+string(m.Role))
		}
		if want := []string{"alice:admin", "bob:member"}; !slices.Equal(got, want) {
			t.Errorf("red's members = %v, want %v (admins first)", got, want)
		}
		teams, err := s.TeamsOf(ctx, w.bob)
		mustOK(t, err)
		if len(teams) != 2 || teams[0].Team.Slug != "blue" || teams[0].Role != app.RoleAdmin || teams[1].Team.Slug != "red" {
			t.Errorf("bob's teams = %v, want blue (admin) then red", teams)
		}
	})
}

func TestOnlyAdminsManageATeam(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		// bob is a plain member of red; carol is not in it at all.
		for _, c := range []struct {
			v    app.Viewer
			code app.Code
		}{{w.bob, app.EForbidden}, {w.carol, app.ENotFound}} {
			checks := map[string]error{
				"rename":  s.RenameTeam(ctx, c.v, w.red.ID, "Crimson"),
				"promote": s.SetRole(ctx, c.v, w.red.ID, c.v.User.ID, app.RoleAdmin),
				"remove":  s.RemoveMember(ctx, c.v, w.red.ID, w.alice.User.ID),
			}
			_, _, err := s.CreateInvite(ctx, c.v, w.red.ID)
			checks["invite"] = err
			_, err = s.Invites(ctx, c.v, w.red.ID)
			checks["list invites"] = err
			for what, err := range checks {
				if app.ErrorCode(err) != c.code {
					t.Errorf("%s trying to %s in red: %v, want %s", c.v.User.Handle, what, err, c.code)
				}
			}
		}
		m, err := s.Membership(ctx, w.alice, "red")
		mustOK(t, err)
		if m.Team.Name != "Red" {
			t.Errorf("red was renamed to %q by someone who may not", m.Team.Name)
		}
		mustOK(t, s.RenameTeam(ctx, w.alice, w.red.ID, "Crimson"))
		m, err = s.Membership(ctx, w.alice, "red")
		mustOK(t, err)
		if m.Team.Name != "Crimson" || m.Team.Slug != "red" {
			t.Errorf("after rename: %q (%s), want Crimson with the slug kept", m.Team.Name, m.Team.Slug)
		}
	})
}

func TestATeamAlwaysKeepsAnAdmin(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		if err := s.RemoveMember(ctx, w.alice, w.red.ID, w.alice.User.ID); app.ErrorCode(err) != app.EConflict {
			t.Errorf("the only admin leaving: %v, want a conflict", err)
		}
		if err := s.SetRole(ctx, w.alice, w.red.ID, w.alice.User.ID, app.RoleMember); app.ErrorCode(err) != app.EConflict {
			t.Errorf("the only admin stepping down: %v, want a conflict", err)
		}
		mustOK(t, s.SetRole(ctx, w.alice, w.red.ID, w.bob.User.ID, app.RoleAdmin))
		mustOK(t, s.SetRole(ctx, w.alice, w.red.ID, w.alice.User.ID, app.RoleMember))
		// Now bob is the only admin, and alice, a member, may leave.
		if err := s.RemoveMember(ctx, w.bob, w.red.ID, w.bob.User.ID); app.ErrorCode(err) != app.EConflict {
			t.Errorf("the new only admin leaving: %v, want a conflict", err)
		}
		mustOK(t, s.RemoveMember(ctx, w.alice, w.red.ID, w.alice.User.ID))
		if _, err := s.Membership(ctx, w.alice, "red"); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("alice still in red after leaving: %v", err)
		}
		if err := s.SetRole(ctx, w.bob, w.red.ID, w.carol.User.ID, app.RoleAdmin); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("promoting someone not in the team: %v, want not found", err)
		}
		if err := s.SetRole(ctx, w.bob, w.red.ID, w.bob.User.ID, "owner"); app.ErrorCode(err) != app.EInvalid {
			t.Errorf("an unknown role: %v, want invalid", err)
		}
	})
}

func TestLeavingOrBeingRemovedEndsSightOfTheTeamsItems(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		shared := w.item(t, w.alice, "alice red shared", func(it *app.Item) { it.TeamID, it.Visibility = w.red.ID, app.VisibilityTeam })
		blue := w.item(t, w.carol, "carol blue shared", func(it *app.Item) { it.TeamID, it.Visibility = w.blue.ID, app.VisibilityTeam })
		sameSet(t, "bob's All before", w.titles(t, w.bob, "tab=all"), []string{"alice red shared", "carol blue shared"})

		mustOK(t, s.RemoveMember(ctx, w.alice, w.red.ID, w.bob.User.ID)) // removed by the admin
		mustOK(t, s.SetRole(ctx, w.bob, w.blue.ID, w.carol.User.ID, app.RoleAdmin))
		mustOK(t, s.RemoveMember(ctx, w.bob, w.blue.ID, w.bob.User.ID)) // left
		bob := w.viewer(t, w.bob.User)
		sameSet(t, "bob's All after", w.titles(t, bob, "tab=all"), nil)
		for _, it := range []*app.Item{shared, blue} {
			if _, err := s.Item(ctx, bob, it.ID); !errors.Is(err, app.ErrNotFound) {
				t.Errorf("bob reading %q after leaving its team: %v, want not found", it.Title, err)
			}
		}
	})
}

func TestInviteLinks(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		now := w.now
		token, inv, err := s.CreateInvite(ctx, w.alice, w.red.ID)
		mustOK(t, err)
		if len(token) < 40 || inv.TokenHash == token || !inv.ExpiresAt.Equal(now.Add(app.InviteLifetime)) {
			t.Errorf("invite %+v with token %q: want a long token, only its hash stored, 7 days to live", inv, token)
		}
		found, err := s.InviteByToken(ctx, token)
		mustOK(t, err)
		if found.Team.Slug != "red" {
			t.Errorf("invite leads to %q, want red", found.Team.Slug)
		}
		team, err := s.AcceptInvite(ctx, w.carol, token)
		mustOK(t, err)
		carol := w.viewer(t, w.carol.User)
		if team.ID != w.red.ID || !carol.InTeam(w.red.ID) {
			t.Errorf("carol accepted and is in teams %v, want red (%d) among them", carol.TeamIDs, w.red.ID)
		}
		if _, err := s.AcceptInvite(ctx, carol, token); err != nil {
			t.Errorf("accepting again as a member: %v, want no change and no error", err)
		}
		m, err := s.Membership(ctx, carol, "red")
		mustOK(t, err)
		if m.Role != app.RoleMember {
			t.Errorf("carol joined as %s, want member", m.Role)
		}

		list, err := s.Invites(ctx, w.alice, w.red.ID)
		mustOK(t, err)
		if len(list) != 1 || list[0].ID != inv.ID || list[0].Creator.Handle != "alice" {
			t.Errorf("red's invites = %v, want the one alice made", list)
		}
		mustOK(t, s.RevokeInvite(ctx, w.alice, w.red.ID, inv.ID))
		if err := s.RevokeInvite(ctx, w.alice, w.red.ID, inv.ID); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("revoking twice: %v, want not found", err)
		}
		if err := s.RevokeInvite(ctx, w.bob, w.blue.ID, inv.ID); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("revoking red's invite through blue: %v, want not found", err)
		}
		for what, tok := range map[string]string{"revoked": token, "unknown": "nope", "empty": ""} {
			if _, err := s.InviteByToken(ctx, tok); !errors.Is(err, app.ErrInviteNotFound) {
				t.Errorf("%s invite: %v, want ErrInviteNotFound", what, err)
			}
			if _, err := s.AcceptInvite(ctx, w.bob, tok); !errors.Is(err, app.ErrNotFound) {
				t.Errorf("accepting a %s invite: %v, want not found", what, err)
			}
		}

		expiring, _, err := s.CreateInvite(ctx, w.bob, w.blue.ID)
		mustOK(t, err)
		w.now = now.Add(app.InviteLifetime - time.Second)
		_, err = s.InviteByToken(ctx, expiring)
		mustOK(t, err)
		w.now = now.Add(app.InviteLifetime)
		if _, err := s.AcceptInvite(ctx, w.alice, expiring); !errors.Is(err, app.ErrInviteNotFound) {
			t.Errorf("accepting an expired invite: %v, want ErrInviteNotFound", err)
		}
		if list, err := s.Invites(ctx, w.bob, w.blue.ID); err != nil || len(list) != 0 {
			t.Errorf("blue's working invites after expiry: %v, %v; want none", list, err)
		}
	})
}
