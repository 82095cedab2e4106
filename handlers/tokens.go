package handlers

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/agents"
	"github.com/agentdeck/agentdeck/views"
	"github.com/labstack/echo/v4"
)

// tokenExpiries are the lifetimes the form offers, in days; 0 is "never".
var tokenExpiries = []int{0, 7, 30, 90, 365}

// handleTokenList shows the viewer's access tokens and the form for a new one.
func (s *Server) handleTokenList(c echo.Context) error {
	return s.renderTokens(c, http.StatusOK, views.TokensPage{})
}

func (s *Server) renderTokens(c echo.Context, status int, page views.TokensPage) error {
	v := viewerOf(c)
	tokens, err := s.store.AccessTokens(c.Request().Context(), v.User.ID)
	if err != nil {
		return err
	}
	page.Layout = s.layout(c, "Access tokens", "settings")
	page.Tokens = tokens
	page.Expiries = tokenExpiries
	page.Now, page.Loc = s.store.Now(), viewerZone(c)
	page.APIURL = s.cfg.PublicURL()
	page.Wiring = wiringSnippets(page.APIURL, page.NewToken)
	return s.render(c, status, views.PageTokens, page)
}

// wiringSnippets are the settings `agentdeck connect` writes, for those who
// would rather paste them: with the token just created, else a placeholder.
func wiringSnippets(baseURL, token string) []views.Snippet {
	if token == "" {
		token = app.TokenPrefix + "…"
	}
	w := agents.Wiring{BaseURL: baseURL, Token: token, Command: "agentdeck"}
	codex := agents.CodexWiring(w)
	return []views.Snippet{
		{Title: "Claude Code", Path: "~/.claude/settings.json", Text: agents.ClaudeCodeSettings(w).Snippet()},
		{Title: "Codex", Path: "$CODEX_HOME/config.toml (~/.codex/config.toml)", Text: codex.ConfigSnippet()},
		{Title: "Codex hooks", Path: "$CODEX_HOME/hooks.json", Text: codex.HooksSnippet()},
		{Title: "Any OpenTelemetry agent", Path: "its environment", Text: "OTEL_EXPORTER_OTLP_ENDPOINT=" + baseURL +
			"\nOTEL_EXPORTER_OTLP_HEADERS=\"Authorization=Bearer " + token + "\"\n" +
			"# optional: report its sessions as ambient runs\nOTEL_RESOURCE_ATTRIBUTES=agentdeck.kind=ambient,agentdeck.source=cli"},
	}
}

// handleTokenCreate issues a token and shows its secret, this once.
func (s *Server) handleTokenCreate(c echo.Context) error {
	name := c.FormValue("name")
	var expires time.Time
	if raw := c.FormValue("expires"); raw != "" {
		days, err := strconv.Atoi(raw)
		if err != nil || days < 0 || days > 3650 {
			return s.renderTokens(c, http.StatusBadRequest, views.TokensPage{Error: "Pick an expiry from the list.", Name: name})
		}
		if days > 0 {
			expires = s.store.Now().AddDate(0, 0, days)
		}
	}
	tok, secret, err := s.store.CreateAccessToken(c.Request().Context(), viewerOf(c).User.ID, name, expires)
	if code := app.ErrorCode(err); code == app.EInvalid || code == app.EUnprocessable {
		_, msg := app.ErrorDetail(err)
		return s.renderTokens(c, statusOf[code], views.TokensPage{Error: sentence(msg), Name: name})
	}
	if err != nil {
		return err
	}
	return s.renderTokens(c, http.StatusOK, views.TokensPage{NewToken: secret, NewTokenName: tok.Name})
}

// handleTokenRevoke ends one of the viewer's tokens.
func (s *Server) handleTokenRevoke(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return app.ErrNotFound
	}
	tokens, err := s.store.AccessTokens(c.Request().Context(), viewerOf(c).User.ID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(tokens, func(t *app.AccessToken) bool { return t.ID == id }) {
		return app.ErrNotFound
	}
	question := "Revoke this access token? Whatever uses it stops reporting."
	if ok, err := s.confirmed(c, question, "Revoke the token", "/settings/tokens"); !ok {
		return err
	}
	if err := s.store.RevokeAccessToken(c.Request().Context(), viewerOf(c).User.ID, id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/settings/tokens")
}
