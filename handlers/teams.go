package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/views"
	"github.com/labstack/echo/v4"
)

// handleTeamList lists the viewer's teams, with the form to create one.
func (s *Server) handleTeamList(c echo.Context) error {
	return s.renderTeams(c, http.StatusOK, "", "")
}

func (s *Server) renderTeams(c echo.Context, status int, name, problem string) error {
	ms, err := s.store.TeamsOf(c.Request().Context(), viewerOf(c))
	if err != nil {
		return err
	}
	return s.render(c, status, views.PageTeams, views.TeamsPage{
		Layout: s.layout(c, "Teams", "teams"), Memberships: ms, Name: name, Error: problem,
	})
}

// handleTeamCreate creates a team with the viewer as its admin.
func (s *Server) handleTeamCreate(c echo.Context) error {
	name := c.FormValue("name")
	t := &app.Team{Name: name}
	err := s.store.CreateTeam(c.Request().Context(), t, viewerOf(c).User.ID)
	if code := app.ErrorCode(err); code == app.EInvalid || code == app.EConflict {
		_, msg := app.ErrorDetail(err)
		return s.renderTeams(c, statusOf[code], name, sentence(msg))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/teams/"+t.Slug)
}

// teamOf is the viewer's membership of the team in the URL. A team the
// viewer is not in does not exist for them.
func (s *Server) teamOf(c echo.Context) (*app.Membership, error) {
	return s.store.Membership(c.Request().Context(), viewerOf(c), c.Param("slug"))
}

// memberOf is the user named in the URL, as the team page speaks of them.
func (s *Server) memberOf(c echo.Context) (*app.User, error) {
	u, err := s.store.UserByHandle(c.Request().Context(), c.Param("handle"))
	if errors.Is(err, app.ErrNotFound) {
		return nil, app.Errorf(app.ENotFound, "user", "that person is not in the team")
	}
	return u, err
}

// handleTeamShow shows a team to its members.
func (s *Server) handleTeamShow(c echo.Context) error {
	m, err := s.teamOf(c)
	if err != nil {
		return err
	}
	return s.renderTeam(c, http.StatusOK, m, "", "")
}

// renderTeam shows the team page, or to htmx only its invite links.
func (s *Server) renderTeam(c echo.Context, status int, m *app.Membership, newInviteURL, problem string) error {
	ctx := c.Request().Context()
	v := viewerOf(c)
	page := views.TeamPage{
		Layout: s.layout(c, m.Team.Name, "teams"), Team: m.Team, Role: m.Role,
		NewInviteURL: newInviteURL, Error: problem, Now: s.store.Now(), Loc: viewerZone(c),
	}
	var err error
	if m.Role == app.RoleAdmin {
		if page.Invites, err = s.store.Invites(ctx, v, m.TeamID); err != nil {
			return err
		}
	}
	c.Response().Header().Add("Vary", "HX-Request")
	if isFragmentRequest(c.Request()) && status < http.StatusBadRequest {
		return s.render(c, status, views.TeamInvites, page)
	}
	if page.Members, err = s.store.Members(ctx, v, m.TeamID); err != nil {
		return err
	}
	return s.render(c, status, views.PageTeam, page)
}

// teamProblem shows the team page again with a mistake the person can act
// on; anything else goes to the error page.
func (s *Server) teamProblem(c echo.Context, m *app.Membership, err error) error {
	switch code := app.ErrorCode(err); code {
	case app.EInvalid, app.EConflict, app.EForbidden, app.ENotFound:
		_, msg := app.ErrorDetail(err)
		return s.renderTeam(c, statusOf[code], m, "", sentence(msg))
	}
	return err
}

// handleTeamRename renames a team; only its admins may.
func (s *Server) handleTeamRename(c echo.Context) error {
	m, err := s.teamOf(c)
	if err != nil {
		return err
	}
	if err := s.store.RenameTeam(c.Request().Context(), viewerOf(c), m.TeamID, c.FormValue("name")); err != nil {
		return s.teamProblem(c, m, err)
	}
	return c.Redirect(http.StatusSeeOther, "/teams/"+m.Team.Slug)
}

// handleTeamLeave takes the viewer out of a team, unless they are its last
// admin.
func (s *Server) handleTeamLeave(c echo.Context) error {
	m, err := s.teamOf(c)
	if err != nil {
		return err
	}
	v := viewerOf(c)
	if err := s.store.CheckCanLeave(c.Request().Context(), m.TeamID, v.User.ID); err != nil {
		return s.teamProblem(c, m, err)
	}
	if ok, err := s.confirmed(c, "Leave "+m.Team.Name+"?", "Leave "+m.Team.Name, "/teams/"+m.Team.Slug); !ok {
		return err
	}
	if err := s.store.RemoveMember(c.Request().Context(), v, m.TeamID, v.User.ID); err != nil {
		return s.teamProblem(c, m, err)
	}
	return c.Redirect(http.StatusSeeOther, "/teams")
}

// handleMemberRole makes a member an admin or a plain member.
func (s *Server) handleMemberRole(c echo.Context) error {
	m, err := s.teamOf(c)
	if err != nil {
		return err
	}
	u, err := s.memberOf(c)
	if err == nil {
		err = s.store.SetRole(c.Request().Context(), viewerOf(c), m.TeamID, u.ID, app.Role(c.FormValue("role")))
	}
	if err != nil {
		return s.teamProblem(c, m, err)
	}
	return c.Redirect(http.StatusSeeOther, "/teams/"+m.Team.Slug)
}

// handleMemberRemove takes a member out of a team; only admins may remove
// others. Their sight of the team's items ends at once.
func (s *Server) handleMemberRemove(c echo.Context) error {
	m, err := s.teamOf(c)
	if err != nil {
		return err
	}
	v := viewerOf(c)
	u, err := s.memberOf(c)
	if err == nil && u.ID != v.User.ID && m.Role != app.RoleAdmin {
		err = app.Errorf(app.EForbidden, "", "only the team's admins may do this")
	}
	if err == nil {
		err = s.store.CheckCanLeave(c.Request().Context(), m.TeamID, u.ID)
	}
	if err == nil {
		question := "Remove " + u.DisplayName() + " from " + m.Team.Name + "?"
		if ok, err := s.confirmed(c, question, "Remove "+u.DisplayName(), "/teams/"+m.Team.Slug); !ok {
			return err
		}
		err = s.store.RemoveMember(c.Request().Context(), v, m.TeamID, u.ID)
	}
	if err != nil {
		return s.teamProblem(c, m, err)
	}
	if u.ID == v.User.ID {
		return c.Redirect(http.StatusSeeOther, "/teams")
	}
	return c.Redirect(http.StatusSeeOther, "/teams/"+m.Team.Slug)
}

// handleInviteCreate makes a new invite link and shows it, once.
func (s *Server) handleInviteCreate(c echo.Context) error {
	m, err := s.teamOf(c)
	if err != nil {
		return err
	}
	token, _, err := s.store.CreateInvite(c.Request().Context(), viewerOf(c), m.TeamID)
	if err != nil {
		return s.teamProblem(c, m, err)
	}
	return s.renderTeam(c, http.StatusCreated, m, s.cfg.PublicURL()+"/invites/"+token, "")
}

// handleInviteRevoke stops an invite link from working.
func (s *Server) handleInviteRevoke(c echo.Context) error {
	m, err := s.teamOf(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return s.teamProblem(c, m, app.Errorf(app.ENotFound, "invite", "there is no such invite link"))
	}
	if m.Role != app.RoleAdmin {
		return s.teamProblem(c, m, app.Errorf(app.EForbidden, "", "only the team's admins may do this"))
	}
	if ok, err := s.confirmed(c, "Revoke this invite link to "+m.Team.Name+"?", "Revoke the link", "/teams/"+m.Team.Slug); !ok {
		return err
	}
	if err := s.store.RevokeInvite(c.Request().Context(), viewerOf(c), m.TeamID, id); err != nil {
		return s.teamProblem(c, m, err)
	}
	if isFragmentRequest(c.Request()) {
		return s.renderTeam(c, http.StatusOK, m, "", "")
	}
	return c.Redirect(http.StatusSeeOther, "/teams/"+m.Team.Slug)
}

// handleInviteShow shows which team an invite link leads to, and asks
// whether to join it.
func (s *Server) handleInviteShow(c echo.Context) error {
	token := c.Param("token")
	inv, err := s.store.InviteByToken(c.Request().Context(), token)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.PageInvite, views.InvitePage{
		Layout: s.layout(c, "Join "+inv.Team.Name, "teams"), Token: token, Team: inv.Team,
		Expires: inv.ExpiresAt, Member: viewerOf(c).InTeam(inv.TeamID),
	})
}

// handleInviteAccept puts the viewer in the invite's team.
func (s *Server) handleInviteAccept(c echo.Context) error {
	team, err := s.store.AcceptInvite(c.Request().Context(), viewerOf(c), c.Param("token"))
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/teams/"+team.Slug)
}
