package handlers

import (
	"net/http"
	"strings"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/agents"
	"github.com/labstack/echo/v4"
)

// The headers `agentdeck hook` sends beside an agent's hook payload: what it
// knows from where it runs, which the payload does not say.
const (
	headerRunID  = "Agentdeck-Run-Id"  // AGENTDECK_RUN_ID: the run around the agent
	headerKind   = "Agentdeck-Kind"    // "ambient" makes the session an ambient run
	headerSource = "Agentdeck-Source"  // the ambient run's source
	headerRepo   = "Agentdeck-Repo"    // the repository of the payload's cwd
	headerBranch = "Agentdeck-Branch"  // and its branch
	headerSentAt = "Agentdeck-Sent-At" // when the hook ran, RFC 3339, by the agent's clock
)

// hookResultJSON says what became of a hook payload.
type hookResultJSON struct {
	Applied  int    `json:"applied"`
	Rejected int    `json:"rejected"`
	Problem  string `json:"problem,omitempty"`
}

// handleAPIHook takes one hook payload of an agent (§10), exactly as the
// agent wrote it, and reports it for the token's user.
func (s *Server) handleAPIHook(c echo.Context) error {
	agent := c.Param("agent")
	if !agents.HookAgent(agent) {
		return app.Errorf(app.ENotFound, "agent", "hooks of %q are not understood (use claude-code or codex)", clipParam(agent))
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	h := c.Request().Header
	hc := agents.HookContext{
		RunID:   h.Get(headerRunID),
		Ambient: strings.EqualFold(h.Get(headerKind), string(app.KindAmbient)),
		Source:  app.Source(strings.ToLower(h.Get(headerSource))),
		Repo:    h.Get(headerRepo),
		Branch:  h.Get(headerBranch),
	}
	if raw := h.Get(headerSentAt); raw != "" {
		at, err := time.Parse(time.RFC3339Nano, raw)
		if err != nil {
			return app.Errorf(app.EInvalid, headerSentAt, "%s must be an RFC 3339 time", headerSentAt)
		}
		hc.At = at.UTC()
	}
	reports, err := agents.FromHook(agent, body, hc)
	if err != nil {
		return err
	}
	res, err := s.store.Report(c.Request().Context(), viewerOf(c), reports)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, hookResultJSON{Applied: res.Applied, Rejected: res.Rejected, Problem: res.Problem})
}

// clipParam shortens a path parameter for an error message.
func clipParam(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
