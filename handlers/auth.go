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
	return s.renderSignIn(c, http.StatusOK, "")
}

func (s *Server) renderSignIn(c echo.Context, status int, problem string) error {
	page := views.SignInPage{Layout: s.layout(c, "Sign in", ""), Error: problem}
	if next := safeNext(c.FormValue("next")); next != "/" {
		page.Next = next
	}
	if s.cfg.Demo {
		users, err := s.store.Users(c.Request().Context())
		if err != nil {
			return err
		}
		page.DemoUsers = users
	}
	return s.render(c, status, "signin", page)
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
		return s.renderSignIn(c, http.StatusBadRequest, "There is no demo user with that handle. Pick one from the list.")
	}
	if err != nil {
		return err
	}
	s.startSession(c, u)
	return c.Redirect(http.StatusSeeOther, safeNext(c.FormValue("next")))
}

// startSession signs u in with a fresh CSRF token, so that nothing from the
// signed-out session carries over.
func (s *Server) startSession(c echo.Context, u *app.User) {
	sess := sessionOf(c)
	for k := range sess.Values {
		delete(sess.Values, k)
	}
	sess.Values[sessUserID] = u.ID
	sess.Values[sessCSRF] = randomToken()
	s.saveSessionLater(c, sess)
}

// handleSignOut ends the session.
func (s *Server) handleSignOut(c echo.Context) error {
	sess := sessionOf(c)
	for k := range sess.Values {
		delete(sess.Values, k)
	}
	sess.Options.MaxAge = -1
	s.saveSessionLater(c, sess)
	return c.Redirect(http.StatusSeeOther, "/signin")
}
