// Package handlers is agentdeck's web surface: the Echo server, its
// middleware, every route and the handlers behind them.
package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/agentdeck/agentdeck/alerts"
	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/config"
	"github.com/agentdeck/agentdeck/handlers/live"
	"github.com/agentdeck/agentdeck/views"
	"github.com/labstack/echo/v4"
)

// Server is the web app: configuration, store, templates and sessions, with
// the Echo instance that routes requests to them.
type Server struct {
	cfg       config.Config
	store     *app.Store
	views     *views.Renderer
	sessions  *sessionStore
	providers []*provider
	signIns   *rateLimiter
	log       *slog.Logger
	echo      *echo.Echo
	limiter   *tokenLimiter
	// The live updates: the engine that holds every stream, and its two
	// kinds of stream.
	live      *live.Engine
	liveViews *live.Views
	liveTails *live.Tails
	// liveAttention keeps Needs attention live; alerts sends alerts.
	liveAttention *live.Attention
	alerts        *alerts.Worker
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
	useGothic()
	s := &Server{
		cfg:       cfg,
		store:     store,
		views:     r,
		log:       logger,
		sessions:  newSessionStore(store, keys, cfg.Secure()),
		providers: newProviders(cfg, randomToken()),
		signIns:   newRateLimiter(signInBurst, signInEvery),
		limiter:   newTokenLimiter(cfg.APIRateLimit),
	}
	if cfg.APIRateLimit <= 0 {
		s.limiter = newTokenLimiter(config.DefaultAPIRateLimit)
	}
	s.live = live.New(store.Hub(), store.Now, logger, streamLimits(cfg))
	s.liveViews = live.NewViews(store, r, logger)
	s.liveTails = live.NewTails(store, r, logger)
	s.liveAttention = live.NewAttention(store, r, logger)
	if s.alerts, err = newAlertWorker(cfg, store, s); err != nil {
		return nil, err
	}
	s.echo = echo.New()
	s.echo.HideBanner, s.echo.HidePort = true, true
	s.echo.IPExtractor = clientAddress(cfg.TrustedProxies)
	s.echo.HTTPErrorHandler = s.handleError
	s.routes()
	return s, nil
}

// clientAddress decides who the client is, for the sign-in rate limit and
// the log: the connection's peer, unless that peer is one of the trusted
// proxies; then the nearest address in X-Forwarded-For that no trusted
// proxy added. Nothing is trusted by default, since anyone can send the
// header.
func clientAddress(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// ServeHTTP lets tests drive the server through httptest.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Serve answers on ln until ctx ends, then shuts down gracefully: it ends the
// live streams first (they would never finish on their own), stops
// accepting, lets requests in flight finish for up to ten seconds, and
// returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ln, handler := s.limitClients(ln, s.echo)
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	unused := newUnusedConns()
	srv.ConnState = unused.track
	srv.RegisterOnShutdown(s.CloseStreams)
	srv.RegisterOnShutdown(unused.closeAll)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	go s.purgeSessions(ctx)
	go s.closeSilentSessions(ctx)
	go s.RunAlerts(ctx)
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

// unusedConns holds the connections that have not sent a byte yet. On
// shutdown the HTTP server would wait five seconds for each one's first
// request; a browser keeps such a spare connection open, so they are closed
// at once, and any accepted during the shutdown as soon as it is.
type unusedConns struct {
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	closing bool
}

func newUnusedConns() *unusedConns { return &unusedConns{conns: map[net.Conn]struct{}{}} }

func (u *unusedConns) track(c net.Conn, state http.ConnState) {
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case state == http.StateNew && u.closing:
		c.Close()
	case state == http.StateNew:
		u.conns[c] = struct{}{}
	default:
		delete(u.conns, c)
	}
}

func (u *unusedConns) closeAll() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.closing = true
	for c := range u.conns {
		c.Close()
	}
	clear(u.conns)
}

// purgeSessions deletes ended sessions every hour until ctx ends; they are
// refused anyway, this only keeps the table small.
func (s *Server) purgeSessions(ctx context.Context) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if n, err := s.store.PurgeSessions(ctx); err != nil {
				s.log.Warn("purge sessions", "err", err)
			} else if n > 0 {
				s.log.Info("purged ended sessions", "count", n)
			}
		}
	}
}

// closeSilentSessions applies the liveness rule (§10) until ctx ends, often
// enough that a session is closed soon after its window passes: every
// quarter of the shorter window, at most every minute.
func (s *Server) closeSilentSessions(ctx context.Context) {
	l := s.liveness()
	every := min(l.StaleAfter, l.AbandonAfter) / 4
	every = min(max(every, time.Second), time.Minute)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if n, err := s.store.CloseSilentSessions(ctx, l); err != nil {
				s.log.Warn("close silent sessions", "err", err)
			} else if n > 0 {
				s.log.Info("closed silent agent sessions", "count", n)
			}
		}
	}
}

// liveness is the configured rule for sessions that go silent.
func (s *Server) liveness() app.Liveness {
	l := app.DefaultLiveness
	if s.cfg.StaleAfter > 0 {
		l.StaleAfter = s.cfg.StaleAfter
	}
	if s.cfg.AbandonAfter > 0 {
		l.AbandonAfter = s.cfg.AbandonAfter
	}
	return l
}

// streamLimits are the live streams' limits: the configured ones, else the
// engine's defaults.
func streamLimits(cfg config.Config) live.Limits {
	l := live.DefaultLimits()
	if cfg.StreamsPerSession > 0 {
		l.PerSession = cfg.StreamsPerSession
	}
	if cfg.StreamsPerUser > 0 {
		l.PerUser = cfg.StreamsPerUser
	}
	if cfg.MaxStreams > 0 {
		l.Total = cfg.MaxStreams
	}
	return l
}
