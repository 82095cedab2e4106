package handlers

import (
	"net/http"

	"github.com/agentdeck/agentdeck/static"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// routes lists agentdeck's whole web surface.
func (s *Server) routes() {
	e := s.echo
	e.Use(s.logRequests, s.recoverPanics, securityHeaders)
	// Live streams are neither compressed nor buffered: every message must
	// leave at once.
	e.Use(middleware.GzipWithConfig(middleware.GzipConfig{Level: 5, Skipper: isEventStream}))

	e.GET("/healthz", s.handleHealth)
	e.GET("/readyz", s.handleReady)
	e.GET("/static/*", echo.WrapHandler(staticFiles()))

	web := e.Group("", middleware.BodyLimit("64K"), s.loadSession, s.checkCSRF)
	web.GET("/signin", s.handleSignIn)
	web.POST("/auth/demo", s.handleDemoSignIn)
	web.POST("/signout", s.handleSignOut)

	signedIn := web.Group("", s.requireViewer)
	signedIn.GET("/", s.handleView)
	signedIn.GET("/events", s.handleEvents)
}

// isEventStream picks out the Server-Sent Events route.
func isEventStream(c echo.Context) bool { return c.Request().URL.Path == "/events" }

// staticFiles serves the embedded assets; their URLs carry a content hash,
// so they may be cached for good.
func staticFiles() http.Handler {
	files := http.StripPrefix("/static/", http.FileServerFS(static.Files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("v") != "" {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	})
}
