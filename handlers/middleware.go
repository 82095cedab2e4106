package handlers

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
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
	"github.com/klauspost/compress/gzhttp"
	"github.com/klauspost/compress/gzip"
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
	// sessNewShare holds a share link just made, "<item id> <url>", until
	// the item's page shows it once.
	sessNewShare = "new_share"
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

// logRequests gives every request an id, then logs the request once it is
// answered. The id is in the X-Request-Id header of the answer, in the log
// line and in an error's page or JSON, so that a person who saw a failure
// can quote it and an operator can find it.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		id := newRequestID()
		c.Set(ctxRequestID, id)
		c.Response().Header().Set("X-Request-Id", id)
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
			"status", c.Response().Status, "duration", time.Since(start), "ip", c.RealIP(), "request_id", id)
		return nil
	}
}

// ctxRequestID is the context key of the request's id.
const ctxRequestID = "request_id"

// newRequestID draws a request id: 64 random bits, short enough to read
// out, and never repeated in any log anyone keeps.
func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// requestID is the id logRequests gave the request.
func requestID(c echo.Context) string {
	id, _ := c.Get(ctxRequestID).(string)
	return id
}

// loadSession reads the session cookie. A forged, expired or ended session
// is a fresh, signed-out one, never an error; only a failing database is.
// Nothing is stored for a visitor until something needs keeping. The
// request carries the session store from here on, for gothic: gorilla
// loads every session of a request through the request seen first.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		c.SetRequest(r.WithContext(context.WithValue(r.Context(), gothicSessions, s.sessions)))
		sess, err := s.sessions.Get(c.Request(), sessionName)
		if err != nil {
			return err
		}
		c.Set(ctxSession, sess)
		return next(c)
	}
}

// saveSessionLater writes the session just before the response.
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

// sessionCSRF is the session's token, or "" when it has none.
func sessionCSRF(c echo.Context) string {
	sess, ok := c.Get(ctxSession).(*sessions.Session)
	if !ok {
		return ""
	}
	tok, _ := sess.Values[sessCSRF].(string)
	return tok
}

// csrfToken is the token a page's forms send back, created with the session
// when the page is the first to need one; "" outside the routes with
// sessions.
func (s *Server) csrfToken(c echo.Context) string {
	sess, ok := c.Get(ctxSession).(*sessions.Session)
	if !ok {
		return ""
	}
	if tok, _ := sess.Values[sessCSRF].(string); tok != "" {
		return tok
	}
	tok := randomToken()
	sess.Values[sessCSRF] = tok
	s.saveSessionLater(c, sess)
	return tok
}

func randomToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// errCSRF refuses a state-changing request without the session's token.
var errCSRF = echo.NewHTTPError(http.StatusForbidden, "This form has expired or did not come from agentdeck. Reload the page and try again.")

// checkCSRF guards every state-changing request of the pages with
// sessions twice over:
//   - the browser must not say it comes from another site: a
//     Sec-Fetch-Site other than same-origin or none, or else an Origin
//     other than this host or the public URL's, is refused (Go's
//     http.CrossOriginProtection, as OWASP recommends);
//   - it must carry the session's token, in the X-CSRF-Token header (htmx)
//     or the csrf field of the form body. The query string does not count:
//     a URL with a token in it leaks through logs, history and Referer.
//
// Safe methods (GET, HEAD, OPTIONS) change nothing and pass, so the OAuth
// callback does; the API and the OTLP receiver take access tokens only and
// do not come through here.
func (s *Server) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	crossOrigin := http.NewCrossOriginProtection()
	if u, err := url.Parse(s.cfg.PublicURL()); err == nil && u.Scheme != "" && u.Host != "" {
		// Behind a proxy that rewrites Host, the public URL is still us.
		crossOrigin.AddTrustedOrigin(u.Scheme + "://" + u.Host)
	}
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if crossOrigin.Check(c.Request()) != nil {
			return errCSRF
		}
		want := sessionCSRF(c)
		got := c.Request().Header.Get("X-CSRF-Token")
		if got == "" {
			got = c.Request().PostFormValue("csrf")
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
			// The user was deleted, which ended their sessions already.
			delete(sess.Values, sessUserID)
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

// compress gzips responses of 1 KiB or more for clients that accept it,
// except those skip picks. The compressor is the one of
// github.com/klauspost/compress, which at the fastest level takes less than
// half the time of the standard library's for the same size: compressing a
// page of rows had taken about a quarter of the server's time for Load more.
func compress(skip func(echo.Context) bool) echo.MiddlewareFunc {
	wrap, err := gzhttp.NewWrapper(gzhttp.MinSize(1024), gzhttp.CompressionLevel(gzip.BestSpeed))
	if err != nil {
		panic(fmt.Sprintf("handlers: gzip options: %v", err)) // the options are constants
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if skip(c) {
				return next(c)
			}
			res := c.Response()
			plain := res.Writer
			wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				res.Writer = w
				defer func() { res.Writer = plain }()
				c.SetRequest(r)
				// An error's page is written here, while the compressor
				// is still open, rather than after it has closed.
				if err := next(c); err != nil {
					c.Error(err)
				}
			})).ServeHTTP(plain, c.Request())
			return nil
		}
	}
}
