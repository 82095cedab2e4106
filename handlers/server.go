// Package handlers is agentdeck's web surface: the Echo server, its
// middleware, every route and the handlers behind them.
package handlers

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/config"
	"github.com/agentdeck/agentdeck/views"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
)

// Server is the web app: configuration, store, templates and sessions, with
// the Echo instance that routes requests to them.
type Server struct {
	cfg      config.Config
	store    *app.Store
	views    *views.Renderer
	sessions sessions.Store
	log      *slog.Logger
	echo     *echo.Echo
	streams  *streams
}

// New builds the server and its routes. Templates are parsed and checked
// here, so a broken one stops the boot.
func New(cfg config.Config, store *app.Store, logger *slog.Logger) (*Server, error) {
	r, err := views.New()
	if err != nil {
		return nil, err
	}
	keys, err := cfg.LoadSessionKeys()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, store: store, views: r, log: logger, sessions: newCookieStore(keys, cfg.Secure())}
	s.streams = newStreams(s)
	s.echo = echo.New()
	s.echo.HideBanner, s.echo.HidePort = true, true
	// No proxy is trusted: the client address is the TCP peer's.
	s.echo.IPExtractor = echo.ExtractIPDirect()
	s.echo.HTTPErrorHandler = s.handleError
	s.routes()
	return s, nil
}

// newCookieStore keeps the session in a signed and encrypted cookie. Keys
// are newest first; older keys still read existing cookies.
func newCookieStore(secrets [][]byte, secure bool) *sessions.CookieStore {
	var pairs [][]byte
	for _, k := range secrets {
		hash := sha256.Sum256(append([]byte("agentdeck session hash:"), k...))
		block := sha256.Sum256(append([]byte("agentdeck session block:"), k...))
		pairs = append(pairs, hash[:], block[:])
	}
	st := sessions.NewCookieStore(pairs...)
	st.Options = &sessions.Options{Path: "/", MaxAge: int(sessionLifetime.Seconds()), HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}
	return st
}

// sessionLifetime bounds how long a sign-in lasts.
const sessionLifetime = 14 * 24 * time.Hour

// ServeHTTP lets tests drive the server through httptest.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Serve answers on ln until ctx ends, then shuts down gracefully: it ends the
// live streams first (they would never finish on their own), stops
// accepting, lets requests in flight finish for up to ten seconds, and
// returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(s.CloseStreams)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("handlers: serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("handlers: shut down: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("handlers: serve: %w", err)
	}
	return nil
}
