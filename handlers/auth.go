package handlers

import (
	"errors"
	"net/http"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/views"
	"github.com/labstack/echo/v4"
)

// handleSignIn lists the ways to sign in: the enabled providers and, in demo
// mode, the demo users.
func (s *Server) handleSignIn(c echo.Context) error {
	return s.renderSignIn(c, http.StatusOK, c.QueryParam("next"), "")
}

// renderSignIn shows the sign-in page with a problem, if any; next is the
// page to return to afterwards.
func (s *Server) renderSignIn(c echo.Context, status int, next, problem string) error {
	page := views.SignInPage{Layout: s.layout(c, "Sign in", ""), Error: problem}
	if next = safeNext(next); next != "/" {
		page.Next = next
	}
	for _, p := range s.providers {
		page.Providers = append(page.Providers, views.Provider{Name: p.Name, Label: p.Label})
	}
	if s.cfg.Demo {
		users, err := s.store.Users(c.Request().Context())
		if err != nil {
			return err
		}
		page.DemoUsers = users
		// The demo forms post, so they need the session's token.
		page.CSRF = s.csrfToken(c)
	}
	return s.render(c, status, views.PageSignIn, page)
}

// handleDemoSignIn signs in as the chosen demo user. It exists in demo mode
// only, which itself only runs on a loopback address.
func (s *Server) handleDemoSignIn(c echo.Context) error {
	if !s.cfg.Demo {
		return echo.ErrNotFound
	}
	handle := c.FormValue("user")
	u, err := s.store.UserByHandle(c.Request().Context(), handle)
	if errors.Is(err, app.ErrNotFound) || handle == "" {
		return s.renderSignIn(c, http.StatusBadRequest, c.FormValue("next"), "There is no demo user with that handle. Pick one from the list.")
	}
	if err != nil {
		return err
	}
	if err := s.startSession(c, u); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, safeNext(c.FormValue("next")))
}

// startSession signs u in, in a new session: the one before ends, so an id
// planted in the browser before sign-in is worth nothing after it, and
// nothing of the signed-out session, its CSRF token included, carries over.
func (s *Server) startSession(c echo.Context, u *app.User) error {
	sess := sessionOf(c)
	if _, err := s.sessions.end(c.Request().Context(), sess); err != nil {
		return err
	}
	sess.Values[sessUserID] = u.ID
	sess.Values[sessCSRF] = randomToken()
	return sess.Save(c.Request(), c.Response())
}

// handleSignOut ends the session on the server, so that its cookie, replayed,
// is signed out too.
func (s *Server) handleSignOut(c echo.Context) error {
	sess := sessionOf(c)
	sess.Options.MaxAge = -1
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/signin")
}
