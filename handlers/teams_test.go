package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/agentdeck/agentdeck/app"
)

var inviteURL = regexp.MustCompile(`id="invite-url" class="mono" value="([^"]+)"`)

// expect checks a response's status and, when given, a text on its page.
func expect(t *testing.T, what string, resp *http.Response, body string, status int, text string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("%s: status %d, want %d", what, resp.StatusCode, status)
	}
	if text != "" && !strings.Contains(body, text) {
		t.Errorf("%s: the page does not say %q", what, text)
	}
}

// post posts a form with the CSRF token of the client's session (from page)
// and returns the response and its body.
func (a *testApp) post(t *testing.T, c *http.Client, page, path string, form url.Values, header http.Header) (*http.Response, string) {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", a.csrfFrom(t, c, page))
	return a.submit(t, c, path, form, header)
}

// confirmed is the form of a destructive request the person confirmed.
func confirmed() url.Values { return url.Values{"confirm": {"yes"}} }

func TestTeamsFromCreationToLeaving(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		a := usersApp(t, s, nil, "ana", "ben", "cy")
		ana, cy := a.signIn(t, "ana"), a.signIn(t, "cy")

		resp, body := a.get(t, ana, "/teams", nil)
		expect(t, "no teams yet", resp, body, http.StatusOK, "You are in no team yet")
		resp, body = a.post(t, ana, "/teams", "/teams", url.Values{"name": {"  "}}, nil)
		expect(t, "a team without a name", resp, body, http.StatusBadRequest, "A team needs a name.")
		resp, _ = a.post(t, ana, "/teams", "/teams", url.Values{"name": {"Platform Tools"}}, nil)
		team := location(t, resp, http.StatusSeeOther).Path
		if !regexp.MustCompile(`^/teams/platform-tools-[a-z0-9]{6}$`).MatchString(team) {
			t.Fatalf("new team at %q, want /teams/platform-tools-XXXXXX", team)
		}
		slug := strings.TrimPrefix(team, "/teams/")
		resp, body = a.get(t, ana, team, nil)
		expect(t, "the new team", resp, body, http.StatusOK, "<h1>Platform Tools</h1>")
		expect(t, "the creator is admin", resp, body, http.StatusOK, `<span class="muted">(you)</span></td>
      <td><span class="badge">admin</span>`)

		resp, _ = a.post(t, ana, team, team+"/name", url.Values{"name": {"Platform"}}, nil)
		location(t, resp, http.StatusSeeOther)
		resp, body = a.get(t, ana, team, nil)
		expect(t, "renamed", resp, body, http.StatusOK, "<h1>Platform</h1>")

		// An invite link, made with htmx, comes back as the invites fragment.
		resp, body = a.post(t, ana, team, team+"/invites", nil, htmx(""))
		expect(t, "invite by htmx", resp, body, http.StatusCreated, `<div id="invites"`)
		if strings.Contains(body, "<html") {
			t.Errorf("htmx got a whole page for a new invite link, want the fragment")
		}
		m := inviteURL.FindStringSubmatch(body)
		if m == nil || !strings.HasPrefix(m[1], a.URL+"/invites/") {
			t.Fatalf("no invite link on the answer")
		}
		link, _ := url.Parse(m[1])

		// ben follows the link signed out, signs in, and comes back to it.
		ben := a.anonymous(t)
		resp, _ = a.get(t, ben, link.Path, nil)
		toSignIn := location(t, resp, http.StatusSeeOther)
		if toSignIn.Query().Get("next") != link.Path {
			t.Fatalf("the invite link sends to %s, want sign-in with next=%s", toSignIn, link.Path)
		}
		tok := a.csrfFrom(t, ben, toSignIn.RequestURI())
		resp = a.postForm(t, ben, "/auth/demo", url.Values{"user": {"ben"}, "next": {link.Path}, "csrf": {tok}}, nil)
		if got := location(t, resp, http.StatusSeeOther).Path; got != link.Path {
			t.Fatalf("after sign-in ben lands on %q, want the invite %q", got, link.Path)
		}
		resp, body = a.get(t, ben, link.Path, nil)
		expect(t, "the invite page", resp, body, http.StatusOK, "You were invited to the team <strong>Platform</strong>")
		resp, _ = a.post(t, ben, link.Path, link.Path, nil, nil)
		if got := location(t, resp, http.StatusSeeOther).Path; got != team {
			t.Errorf("after joining ben lands on %q, want the team", got)
		}
		resp, body = a.get(t, ben, link.Path, nil)
		expect(t, "the invite page for a member", resp, body, http.StatusOK, "You are a member of Platform already.")

		// Members may look, not manage; others do not see the team at all.
		for _, c := range []struct {
			who    string
			client *http.Client
			status int
		}{{"ben, a member", ben, http.StatusForbidden}, {"cy, not a member", cy, http.StatusNotFound}} {
			page := "/teams"
			resp, body := a.post(t, c.client, page, team+"/name", url.Values{"name": {"Mine"}}, nil)
			expect(t, c.who+" renaming", resp, body, c.status, "")
			resp, body = a.post(t, c.client, page, team+"/invites", nil, nil)
			expect(t, c.who+" making an invite link", resp, body, c.status, "")
			resp, body = a.post(t, c.client, page, team+"/members/ana/remove", nil, nil)
			expect(t, c.who+" removing the admin", resp, body, c.status, "")
		}
		resp, body = a.get(t, cy, team, nil)
		expect(t, "cy looking at a team she is not in", resp, body, http.StatusNotFound, "")
		resp, body = a.get(t, ana, team, nil)
		expect(t, "nothing changed", resp, body, http.StatusOK, "<h1>Platform</h1>")

		// The last admin cannot leave until someone else is admin.
		resp, body = a.post(t, ana, team, team+"/leave", nil, nil)
		expect(t, "the only admin leaving", resp, body, http.StatusConflict, "A team needs at least one admin: make another member an admin before leaving.")
		resp, body = a.post(t, ana, team, team+"/members/ana/role", url.Values{"role": {"member"}}, nil)
		expect(t, "the only admin stepping down", resp, body, http.StatusConflict, "make another member an admin before stepping down")
		resp, _ = a.post(t, ana, team, team+"/members/ben/role", url.Values{"role": {"admin"}}, nil)
		location(t, resp, http.StatusSeeOther)
		// Leaving asks first; unconfirmed, nothing changes.
		resp, body = a.post(t, ana, team, team+"/leave", nil, nil)
		expect(t, "leaving unconfirmed", resp, body, http.StatusOK, "Leave Platform?")
		if resp, _ := a.get(t, ana, team, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("ana after an unconfirmed leave: status %d, want still a member", resp.StatusCode)
		}
		resp, _ = a.post(t, ana, team, team+"/leave", confirmed(), nil)
		if got := location(t, resp, http.StatusSeeOther).Path; got != "/teams" {
			t.Errorf("after leaving ana lands on %q, want /teams", got)
		}
		if resp, _ := a.get(t, ana, team, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("ana looking at the team she left: status %d, want 404", resp.StatusCode)
		}

		// ben, now admin, revokes the link; it stops working at once.
		_, body = a.get(t, ben, team, nil)
		revoke := regexp.MustCompile(`action="(` + team + `/invites/\d+/revoke)"`).FindStringSubmatch(body)
		if revoke == nil {
			t.Fatal("the admin's team page lists no invite link to revoke")
		}
		resp, body = a.post(t, ben, team, revoke[1], confirmed(), htmx(""))
		expect(t, "revoking by htmx", resp, body, http.StatusOK, "No invite link works right now.")
		resp, body = a.get(t, cy, link.Path, nil)
		expect(t, "a revoked invite link", resp, body, http.StatusNotFound, "This invite link is unknown, has expired or was revoked")
		resp, _ = a.post(t, cy, "/teams", link.Path, nil, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("accepting a revoked invite: status %d, want 404", resp.StatusCode)
		}

		// Removing a member: their sight of the team ends at once.
		token, _, err := s.CreateInvite(context.Background(), viewerOf(t, s, "ben"), teamID(t, s, "ben", slug))
		if err != nil {
			t.Fatal(err)
		}
		resp, _ = a.post(t, cy, "/teams", "/invites/"+token, nil, nil)
		location(t, resp, http.StatusSeeOther)
		resp, body = a.post(t, ben, team, team+"/members/cy/remove", nil, nil)
		expect(t, "removing unconfirmed", resp, body, http.StatusOK, "Remove ")
		if resp, _ := a.get(t, cy, team, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("cy after an unconfirmed removal: status %d, want still a member", resp.StatusCode)
		}
		resp, _ = a.post(t, ben, team, team+"/members/cy/remove", confirmed(), nil)
		location(t, resp, http.StatusSeeOther)
		if resp, _ := a.get(t, cy, team, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("cy after being removed: status %d, want 404", resp.StatusCode)
		}
		// The link cy joined by was made before her removal: it does not
		// bring her back; a link made after it does.
		resp, body = a.post(t, cy, "/teams", "/invites/"+token, nil, nil)
		expect(t, "rejoining by a link older than the removal", resp, body, http.StatusForbidden, "removed you from this team after this invite link was made")
		if resp, _ := a.get(t, cy, team, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("cy after the old link: status %d, want 404", resp.StatusCode)
		}
		fresh, _, err := s.CreateInvite(context.Background(), viewerOf(t, s, "ben"), teamID(t, s, "ben", slug))
		if err != nil {
			t.Fatal(err)
		}
		resp, _ = a.post(t, cy, "/teams", "/invites/"+fresh, nil, nil)
		location(t, resp, http.StatusSeeOther)
		if resp, _ := a.get(t, cy, team, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("cy after a newer link: status %d, want 200", resp.StatusCode)
		}
		resp, body = a.post(t, ben, team, team+"/members/nobody/remove", nil, nil)
		expect(t, "removing someone unknown", resp, body, http.StatusNotFound, "That person is not in the team.")
	})
}

// viewerOf loads a user's Viewer straight from the store.
func viewerOf(t *testing.T, s *app.Store, handle string) app.Viewer {
	t.Helper()
	u, err := s.UserByHandle(context.Background(), handle)
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Viewer(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// teamID is the id of a team the user is in.
func teamID(t *testing.T, s *app.Store, handle, slug string) int64 {
	t.Helper()
	m, err := s.Membership(context.Background(), viewerOf(t, s, handle), slug)
	if err != nil {
		t.Fatal(err)
	}
	return m.TeamID
}
