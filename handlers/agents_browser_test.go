package handlers_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// TestBrowserShowsAnAgentSessionReportedThroughOTLPLive: an agent reports
// a session through OTLP and its hooks while its person's view is open; the
// session appears at the top without a reload, then turns blocked, working
// and done in place, with what it waits for on its row.
func TestBrowserShowsAnAgentSessionReportedThroughOTLPLive(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		b := newBrowser(t)
		w := newAPIWorld(t, s, nil)
		wantStatus(t, "an earlier run", w.as(t, "maya", "POST", "/api/v1/runs", ambientRun("", "Already there")), http.StatusCreated)
		openLiveView(t, b, w.testApp, "maya", "/")
		js(t, b, `(window.agentdeckTestMarker = "same document")`) // gone if the page reloads
		loads := b.documentLoads()

		body, header := otlpBody(t, plogotlp.NewExportRequestFromLogs(aClaudeTurn("live-session", w.now)), false, true)
		if resp, raw := w.export(t, w.tokens["maya"], "/v1/logs", body, header); resp.StatusCode != http.StatusOK {
			t.Fatalf("export: %d %s", resp.StatusCode, raw)
		}
		items := w.sessionItems(t, "maya")
		if len(items) != 1 {
			t.Fatalf("%d sessions", len(items))
		}
		row := fmt.Sprintf("document.getElementById(%q)", "item-"+items[0]["id"].(string))
		waitFor(t, b, "the session's row at the top", `document.querySelector("#rows > tr.row") === `+row)
		waitFor(t, b, "its title, agent and cost", row+`.textContent.includes("RUNTOOL please") && `+row+`.textContent.includes("Claude Code") && `+
			row+`.querySelector(".col-credits").textContent.trim() === "0.0444"`)

		hook := func(event string, second int) {
			t.Helper()
			payload := strings.ReplaceAll(claudeHookPayloads[event], "sess-h", "live-session")
			r := w.call(t, w.tokens["maya"], "POST", "/api/v1/hooks/claude-code", payload,
				http.Header{"Agentdeck-Sent-At": {w.now.Add(time.Duration(second) * time.Second).Format(time.RFC3339Nano)}})
			wantStatus(t, event, r, http.StatusOK)
		}
		label := func(want string) string {
			return row + ` && ` + row + `.querySelector(".status__label").textContent === "` + want + `"`
		}
		hook("Notification", 10)
		waitFor(t, b, "the row to show blocked, and on what", label("Blocked")+` && `+row+`.querySelector(".row__meta").textContent.includes("permission")`)
		hook("PreToolUse", 11)
		waitFor(t, b, "the row to show working again", label("Working"))
		hook("Stop", 12)
		hook("SessionEnd", 13)
		waitFor(t, b, "the row to show success", label("Success"))

		if n := js(t, b, `String(document.querySelectorAll("#rows > tr.row").length)`); n != "2" {
			t.Errorf("%s rows, want the session's row replaced in place beside the earlier run", n)
		}
		if js(t, b, `window.agentdeckTestMarker || ""`) != "same document" || b.documentLoads() != loads {
			t.Error("the page reloaded")
		}
		noConsoleErrors(t, b)
	})
}
