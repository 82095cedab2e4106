package handlers

import (
	"net/http"
	"strings"

	"github.com/agentdeck/agentdeck/static"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// routes lists agentdeck's whole web surface.
func (s *Server) routes() {
	e := s.echo
	e.Use(s.logRequests, s.recoverPanics, securityHeaders)
	// Pages and fragments are compressed at the fastest level: it already
	// shrinks a page of rows about eightfold, and level 5 cost more server
	// time than the queries behind a small view. Live streams are neither
	// compressed nor buffered: every message must leave at once. API answers
	// are small JSON; compressing them costs more than it saves.
	e.Use(compress(func(c echo.Context) bool {
		return isEventStream(c) || strings.HasPrefix(c.Request().URL.Path, "/api/") || strings.HasPrefix(c.Request().URL.Path, "/v1/")
	}))

	e.GET("/healthz", s.handleHealth)
	e.GET("/readyz", s.handleReady)
	e.GET("/static/*", echo.WrapHandler(staticFiles()))

	// The API authenticates with access tokens only: it sees no session and
	// needs no CSRF check.
	e.GET("/api/v1/openapi.json", s.handleOpenAPI)
	api := e.Group("/api/v1", s.apiAuth, s.apiRateLimit)
	api.POST("/runs", s.handleAPIRunCreate)
	api.GET("/runs", s.handleAPIRunList)
	api.GET("/runs/:id", s.handleAPIRunShow)
	api.PATCH("/runs/:id", s.handleAPIRunUpdate)
	api.POST("/runs/:id/events", s.handleAPIEventsAppend)
	api.GET("/runs/:id/events", s.handleAPIEventsList)
	api.POST("/hooks/:agent", s.handleAPIHook)

	// OTLP/HTTP at the standard paths (§10). Exporters authenticate with an
	// access token and send no cookie and no Origin: like the API, these
	// routes see no session and need no CSRF check.
	otlp := e.Group("/v1", s.otlpErrors, s.apiAuth, s.apiRateLimit, otlpContentTypes)
	otlp.POST("/logs", s.handleOTLP(otlpLogs))
	otlp.POST("/metrics", s.handleOTLP(otlpMetrics))
	otlp.POST("/traces", s.handleOTLP(otlpTraces))

	// Every page with a session: body limit, session, CSRF check on
	// every state-changing request.
	withSession := []echo.MiddlewareFunc{middleware.BodyLimit("64K"), s.loadSession, s.checkCSRF}
	web := e.Group("", withSession...)
	web.GET("/signin", s.handleSignIn)
	web.POST("/signout", s.handleSignOut)

	// Signing in, rate limited per client before anything else happens.
	auth := e.Group("/auth", append([]echo.MiddlewareFunc{s.limitSignIns}, withSession...)...)
	auth.POST("/demo", s.handleDemoSignIn)
	auth.GET("/:provider", s.handleOAuthBegin)
	auth.GET("/:provider/callback", s.handleOAuthCallback)

	signedIn := web.Group("", s.requireViewer)
	signedIn.GET("/", s.handleView)
	signedIn.GET("/export", s.handleViewExport)
	signedIn.GET("/views", s.handleSavedViews)
	signedIn.POST("/views", s.handleViewSave)
	signedIn.GET("/views/tabs", s.handleViewTabs)
	signedIn.POST("/views/:id/name", s.handleViewRename)
	signedIn.POST("/views/:id/delete", s.handleViewDelete)
	signedIn.POST("/views/:id/landing", s.handleViewLanding)
	signedIn.GET("/runs/:id", s.handleRunShow)
	signedIn.GET("/runs/:id/events/stream", s.handleRunTail)
	signedIn.POST("/runs/:id/share", s.handleShareCreate)
	signedIn.POST("/runs/:id/share/revoke", s.handleShareRevoke)
	signedIn.GET("/share/:token", s.handleShareShow)
	signedIn.GET("/share/:token/events/stream", s.handleShareTail)
	signedIn.GET("/settings/tokens", s.handleTokenList)
	signedIn.POST("/settings/tokens", s.handleTokenCreate)
	signedIn.POST("/settings/tokens/:id/revoke", s.handleTokenRevoke)
	signedIn.GET("/teams", s.handleTeamList)
	signedIn.POST("/teams", s.handleTeamCreate)
	signedIn.GET("/teams/:slug", s.handleTeamShow)
	signedIn.POST("/teams/:slug/name", s.handleTeamRename)
	signedIn.POST("/teams/:slug/leave", s.handleTeamLeave)
	signedIn.POST("/teams/:slug/members/:handle/role", s.handleMemberRole)
	signedIn.POST("/teams/:slug/members/:handle/remove", s.handleMemberRemove)
	signedIn.POST("/teams/:slug/invites", s.handleInviteCreate)
	signedIn.POST("/teams/:slug/invites/:id/revoke", s.handleInviteRevoke)
	signedIn.GET("/invites/:token", s.handleInviteShow)
	signedIn.POST("/invites/:token", s.handleInviteAccept)
	signedIn.GET("/events", s.handleEvents)
	signedIn.GET("/attention", s.handleAttention)
	signedIn.GET("/attention/count", s.handleAttentionCount)
	signedIn.GET("/attention/events/stream", s.handleAttentionEvents)
	signedIn.POST("/attention/ack", s.handleAttentionAck)
	signedIn.GET("/insights", s.handleInsights)
	signedIn.GET("/alerts", s.handleAlerts)
	signedIn.POST("/alerts", s.handleAlertCreate)
	signedIn.GET("/alerts/:id", s.handleAlertShow)
	signedIn.POST("/alerts/:id/test", s.handleAlertTest)
	signedIn.POST("/alerts/:id/delete", s.handleAlertDelete)
}

// isEventStream picks out the Server-Sent Events routes: the view's, the
// session pages' tails, and Needs attention's.
func isEventStream(c echo.Context) bool {
	switch c.Path() {
	case "/events", "/runs/:id/events/stream", "/share/:token/events/stream", "/attention/events/stream":
		return true
	}
	return false
}

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
