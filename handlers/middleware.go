package handlers

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
)

// Context keys of what the middleware hands to handlers.
const (
	ctxSession = "session"
	ctxViewer  = "viewer"
)

// sessionName is the session cookie's name.
const sessionName = "agentdeck_session"

// Session values.
const (
	sessUserID = "uid"
	sessCSRF   = "csrf"
)

// contentSecurityPolicy allows our own scripts and styles only: no inline
// script, no inline style, no eval. Avatars may come from the providers.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if c.Scheme() == "https" {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		return next(c)
	}
}

// recoverPanics turns a panic into a logged 500 instead of a dropped
// connection.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.Error("panic", "method", c.Request().Method, "path", c.Request().URL.Path, "panic", r, "stack", string(debug.Stack()))
				err = fmt.Errorf("handlers: panic: %v", r)
			}
		}()
		return next(c)
	}
}

func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		req := c.Request()
		level := slog.LevelInfo
		if c.Response().Status >= 500 {
			level = slog.LevelError
		}
		s.log.Log(req.Context(), level, "request", "method", req.Method, "path", req.URL.Path,
			"status", c.Response().Status, "duration", time.Since(start), "ip", c.RealIP())
		return nil
	}
}

// loadSession reads the session cookie. A tampered, expired or unreadable
// cookie is a fresh, signed-out session, never an error. The session gets a
// CSRF token on first use and is saved before the response is written.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess, err := s.sessions.Get(c.Request(), sessionName)
		if err != nil {
			sess, _ = s.sessions.New(c.Request(), sessionName)
			sess.IsNew = true
		}
		c.Set(ctxSession, sess)
		if _, ok := sess.Values[sessCSRF].(string); !ok {
			sess.Values[sessCSRF] = randomToken()
			s.saveSessionLater(c, sess)
		}
		return next(c)
	}
}

// saveSessionLater writes the session cookie just before the response.
func (s *Server) saveSessionLater(c echo.Context, sess *sessions.Session) {
	if c.Get("sessionSaveQueued") != nil {
		return
	}
	c.Set("sessionSaveQueued", true)
	c.Response().Before(func() {
		if err := sess.Save(c.Request(), c.Response()); err != nil {
			s.log.Error("save session", "err", err)
		}
	})
}

func sessionOf(c echo.Context) *sessions.Session { return c.Get(ctxSession).(*sessions.Session) }

// csrfToken is the session's token, or "" outside the routes with sessions.
func csrfToken(c echo.Context) string {
	sess, ok := c.Get(ctxSession).(*sessions.Session)
	if !ok {
		return ""
	}
	tok, _ := sess.Values[sessCSRF].(string)
	return tok
}

func randomToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// errCSRF refuses a state-changing request without the session's token.
var errCSRF = echo.NewHTTPError(http.StatusForbidden, "This form has expired or did not come from agentdeck. Reload the page and try again.")

// checkCSRF requires the session's token on every state-changing request,
// from the X-CSRF-Token header (htmx) or the csrf form field.
func (s *Server) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		want := csrfToken(c)
		got := c.Request().Header.Get("X-CSRF-Token")
		if got == "" {
			got = c.FormValue("csrf")
		}
		if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			return errCSRF
		}
		return next(c)
	}
}

// requireViewer lets only signed-in users through and hands their Viewer to
// the handler. Others are sent to sign in and brought back afterwards.
func (s *Server) requireViewer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess := sessionOf(c)
		if uid, ok := sess.Values[sessUserID].(int64); ok {
			v, err := s.store.Viewer(c.Request().Context(), uid)
			if err == nil {
				c.Set(ctxViewer, v)
				return next(c)
			}
			if !errors.Is(err, app.ErrNotFound) {
				return err
			}
			delete(sess.Values, sessUserID) // the user was removed
			s.saveSessionLater(c, sess)
		}
		if strings.Contains(c.Request().Header.Get("Accept"), "text/event-stream") {
			// A live stream cannot follow a redirect to a page; the page
			// that opened it handles signing in.
			return echo.NewHTTPError(http.StatusUnauthorized, "Sign in to receive live updates.")
		}
		target := "/signin"
		if next := c.Request().URL.RequestURI(); next != "/" {
			target += "?next=" + url.QueryEscape(next)
		}
		if c.Request().Header.Get("HX-Request") == "true" {
			c.Response().Header().Set("HX-Redirect", target)
			return c.NoContent(http.StatusUnauthorized)
		}
		return c.Redirect(http.StatusSeeOther, target)
	}
}

func viewerOf(c echo.Context) app.Viewer { return c.Get(ctxViewer).(app.Viewer) }

// safeNext accepts only a same-site relative path as a place to return to,
// so that sign-in can never redirect off-site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return u.RequestURI()
}
