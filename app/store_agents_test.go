package app_test

import (
	"context"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
)

// sessionReport is a report of one of alice's Claude Code sessions.
func sessionReport(session string, at time.Time, ch app.Channel) app.Report {
	return app.Report{Agent: app.AgentClaudeCode, Session: session, Channel: ch, At: at}
}

// agentItems lists the viewer's items that an agent reports.
func agentItems(t *testing.T, s *app.Store, v app.Viewer) []*app.Item {
	t.Helper()
	ctx := context.Background()
	f, _ := app.ParseFilter(nil)
	q, _, _, err := s.ResolveFilter(ctx, v, f)
	mustOK(t, err)
	page, err := s.Items(ctx, q, 100)
	mustOK(t, err)
	var out []*app.Item
	for _, it := range page.Items {
		if it.AgentName != "" {
			out = append(out, it)
		}
	}
	return out
}

// onlyAgentItem is the viewer's one agent item; it fails unless there is
// exactly one.
func onlyAgentItem(t *testing.T, s *app.Store, v app.Viewer) *app.Item {
	t.Helper()
	items := agentItems(t, s, v)
	if len(items) != 1 {
		t.Fatalf("%d agent items, want exactly 1", len(items))
	}
	it, err := s.Item(context.Background(), v, items[0].ID)
	mustOK(t, err)
	return it
}

func transcript(t *testing.T, s *app.Store, id string) []*app.Event {
	t.Helper()
	page, err := s.Events(context.Background(), id, app.EventQuery{Types: []app.EventType{app.EventMessage}})
	mustOK(t, err)
	return page.Events
}

func usd(t *testing.T, micros int64) *big.Rat {
	t.Helper()
	r, ok := app.USDFromMicros(micros)
	if !ok {
		t.Fatalf("USDFromMicros(%d) refused", micros)
	}
	return r
}

func TestReportsOfOneSessionMeetOnOneItemAcrossChannels(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		at := w.now
		hook := sessionReport("s-1", at, app.ChannelHook)
		hook.Signal, hook.Where = app.SignalWorking, app.Where{Cwd: "/src/web", Repo: "acme/web", Branch: "main"}
		prompt := sessionReport("s-1", at.Add(time.Second), app.ChannelHook)
		prompt.Signal, prompt.Prompt = app.SignalWorking, "fix the billing webhook"
		prompt.Entry = &app.Entry{Key: "prompt:p1", Role: app.RoleUser, Text: "fix the billing webhook"}
		otlp := sessionReport("s-1", at.Add(2*time.Second), app.ChannelOTLP)
		otlp.Model = "claude-sonnet-4-5"
		otlp.Usage = &app.Usage{Key: "req-1", Model: "claude-sonnet-4-5", CostUSD: usd(t, 250_000), Tokens: app.Tokens{Input: 100, Output: 20}}
		otlp.Entry = &app.Entry{Key: "prompt:p1", Role: app.RoleUser, Text: "fix the billing webhook"}
		for _, batch := range [][]app.Report{{hook, prompt}, {otlp}} {
			res, err := s.Report(ctx, w.alice, batch)
			mustOK(t, err)
			if res.Applied != len(batch) || res.Rejected != 0 {
				t.Fatalf("report: %+v", res)
			}
		}
		it := onlyAgentItem(t, s, w.alice)
		if it.Kind != app.KindInteractive || it.Source != app.SourceInteractive || it.Visibility != app.VisibilityPrivate {
			t.Errorf("a session reported on its own is %s/%s/%s, want interactive, private", it.Kind, it.Source, it.Visibility)
		}
		if it.Title != "fix the billing webhook" || it.FirstPrompt != "fix the billing webhook" {
			t.Errorf("title %q, first prompt %q: the first prompt must title the session", it.Title, it.FirstPrompt)
		}
		if it.Status != app.StatusWorking || it.Inference.String() != "25.00" || it.Tokens.Input != 100 {
			t.Errorf("status %s, credits %s, tokens %+v; want working, 25.00, 100 in", it.Status, it.Inference, it.Tokens)
		}
		if it.Where.Repo != "acme/web" || it.Where.Branch != "main" || it.ModelList()[0] != "claude-sonnet-4-5" {
			t.Errorf("where %+v, models %v", it.Where, it.ModelList())
		}
		if n := len(transcript(t, s, it.ID)); n != 1 {
			t.Errorf("the prompt told by hooks and OTLP is %d transcript entries, want 1", n)
		}
		// Another user's session of the same id is their own item.
		_, err := s.Report(ctx, w.bob, []app.Report{sessionReport("s-1", at, app.ChannelHook)})
		mustOK(t, err)
		if len(agentItems(t, s, w.bob)) != 1 || len(agentItems(t, s, w.alice)) != 1 {
			t.Error("the same session id of two users must be two items, one each")
		}
	})
}

func TestAReportReceivedTwiceCountsOnce(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		var batch []app.Report
		for i, micros := range []int64{260, 184} {
			r := sessionReport("s-2", w.now.Add(time.Duration(i)*time.Second), app.ChannelOTLP)
			r.Usage = &app.Usage{Key: "req-" + string(rune('a'+i)), Model: "claude-opus-4-5", CostUSD: usd(t, micros), Tokens: app.Tokens{Input: 20, Output: 9}}
			r.Entry = &app.Entry{Key: "tool_result:t" + string(rune('a'+i)), Role: app.RoleTool, Text: "ok"}
			batch = append(batch, r)
		}
		for range 2 {
			_, err := s.Report(ctx, w.alice, batch)
			mustOK(t, err)
		}
		it := onlyAgentItem(t, s, w.alice)
		if it.Inference.String() != "0.0444" || it.Tokens.Input != 40 || it.Tokens.Output != 18 {
			t.Errorf("after a batch sent twice: credits %s tokens %+v, want 0.0444 and 40/18", it.Inference, it.Tokens)
		}
		if n := len(transcript(t, s, it.ID)); n != 2 {
			t.Errorf("%d transcript entries, want 2", n)
		}
	})
}

func TestChannelsAccountForTheSameSpendOnce(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		// OTLP tells the spend per request, the agent's output as a total.
		var reports []app.Report
		for i, micros := range []int64{260, 184} {
			r := sessionReport("s-3", w.now, app.ChannelOTLP)
			r.Usage = &app.Usage{Key: "req-" + string(rune('a'+i)), CostUSD: usd(t, micros)}
			reports = append(reports, r)
		}
		mustOK(t, second(s.Report(ctx, w.alice, reports[:1])))
		total := sessionReport("s-3", time.Time{}, app.ChannelOutput)
		total.Usage = &app.Usage{Key: "result", Total: true, CostUSD: usd(t, 444)}
		mustOK(t, second(s.Report(ctx, w.alice, []app.Report{total})))
		if it := onlyAgentItem(t, s, w.alice); it.Inference.String() != "0.0444" {
			t.Errorf("with the total known: %s credits, want 0.0444", it.Inference)
		}
		mustOK(t, second(s.Report(ctx, w.alice, reports[1:])))
		if it := onlyAgentItem(t, s, w.alice); it.Inference.String() != "0.0444" {
			t.Errorf("after OTLP caught up: %s credits, want 0.0444, not the two accounts added", it.Inference)
		}
		// A total reported again replaces the previous total.
		total.Usage = &app.Usage{Key: "result", Total: true, CostUSD: usd(t, 1000)}
		mustOK(t, second(s.Report(ctx, w.alice, []app.Report{total})))
		if it := onlyAgentItem(t, s, w.alice); it.Inference.String() != "0.10" {
			t.Errorf("after a larger total: %s credits, want 0.10", it.Inference)
		}
		// A run's owner may set the credits through the API: one more
		// account of the same spend, the largest shown.
		id := onlyAgentItem(t, s, w.alice).ID
		for _, c := range []struct{ set, want string }{{"0.05", "0.10"}, {"2.50", "2.50"}, {"1.00", "1.00"}} {
			amount, err := app.ParseCredits(c.set)
			mustOK(t, err)
			mustOK(t, second(s.UpdateRun(ctx, w.alice, id, app.RunChange{Inference: &amount})))
			if it := onlyAgentItem(t, s, w.alice); it.Inference.String() != c.want {
				t.Errorf("after the API set %s: %s credits, want %s", c.set, it.Inference, c.want)
			}
		}
	})
}

func TestTokensOfAModelWithoutAPriceLeaveCreditsUnknown(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		priced := sessionReport("s-4", w.now, app.ChannelOTLP)
		priced.Usage = &app.Usage{Key: "a", Model: "gpt-5", Tokens: app.Tokens{Input: 1_000_000, Output: 100_000}}
		unpriced := sessionReport("s-4", w.now, app.ChannelOTLP)
		unpriced.Usage = &app.Usage{Key: "b", Model: "house-model-x", Tokens: app.Tokens{Input: 10, Output: 10}}
		mustOK(t, second(s.Report(ctx, w.alice, []app.Report{priced, unpriced})))
		it := onlyAgentItem(t, s, w.alice)
		if it.CreditsKnown() || strings.Join(it.UnpricedModelList(), ",") != "house-model-x" {
			t.Errorf("unpriced models %v: the credits must be unknown, naming house-model-x", it.UnpricedModelList())
		}
		// $1.25 + $1.00 for the priced part.
		if it.Inference.String() != "225.00" || it.Tokens.Input != 1_000_010 {
			t.Errorf("credits %s tokens %+v", it.Inference, it.Tokens)
		}
	})
}

func TestSessionStatusFollowsItsSignalsInTheAgentsTimeOrder(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		at := func(sec int) time.Time { return w.now.Add(time.Duration(sec) * time.Second) }
		signal := func(sec int, sig app.Signal, reason string) app.Report {
			r := sessionReport("s-5", at(sec), app.ChannelHook)
			r.Signal, r.Reason = sig, reason
			return r
		}
		steps := []struct {
			report app.Report
			want   app.Status
		}{
			{signal(1, app.SignalWorking, ""), app.StatusWorking},
			{signal(3, app.SignalWaiting, "permission to use Bash"), app.StatusBlocked},
			// OTLP's batch arrives late, with a prompt from before the wait.
			{signal(2, app.SignalWorking, ""), app.StatusBlocked},
			{signal(4, app.SignalWorking, ""), app.StatusWorking},
			{signal(5, app.SignalTurnEnded, "waiting for your next prompt"), app.StatusBlocked},
			{signal(6, app.SignalEnded, ""), app.StatusSuccess},
			{signal(7, app.SignalWorking, ""), app.StatusSuccess},
		}
		for i, step := range steps {
			mustOK(t, second(s.Report(ctx, w.alice, []app.Report{step.report})))
			it := onlyAgentItem(t, s, w.alice)
			if it.Status != step.want {
				t.Fatalf("step %d: %s, want %s", i+1, it.Status, step.want)
			}
			if step.want == app.StatusBlocked && it.Reason == "" {
				t.Errorf("step %d: blocked without saying what it waits for", i+1)
			}
			if it.Status.Final() != !it.FinishedAt.IsZero() {
				t.Errorf("step %d: %s with finished_at %v", i+1, it.Status, it.FinishedAt)
			}
		}
	})
}

func TestSilentSessionsCloseAndALateSignalMovesThemOn(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		working := sessionReport("s-working", w.now, app.ChannelHook)
		working.Signal = app.SignalWorking
		blocked := sessionReport("s-blocked", w.now, app.ChannelHook)
		blocked.Signal, blocked.Reason = app.SignalWaiting, "permission to use Bash"
		mustOK(t, second(s.Report(ctx, w.alice, []app.Report{working, blocked})))
		// An API run with no agent is never closed by the rule.
		_, _, err := s.CreateRun(ctx, w.alice, app.NewRun{Kind: app.KindAmbient, Title: "nightly", Source: app.SourceCLI})
		mustOK(t, err)
		heard := w.now
		rule := app.Liveness{StaleAfter: 30 * time.Minute, AbandonAfter: 24 * time.Hour}
		status := func(session string) *app.Item {
			for _, it := range agentItems(t, s, w.alice) {
				if it.AgentSession == session {
					return it
				}
			}
			t.Fatalf("no item of %s", session)
			return nil
		}

		w.now = heard.Add(29 * time.Minute)
		n, err := s.CloseSilentSessions(ctx, rule)
		mustOK(t, err)
		if n != 0 {
			t.Fatalf("closed %d sessions inside the window", n)
		}
		w.now = heard.Add(31 * time.Minute)
		n, err = s.CloseSilentSessions(ctx, rule)
		mustOK(t, err)
		lost := status("s-working")
		if n != 1 || lost.Status != app.StatusFailed || lost.Reason != app.ReasonLostContact || !lost.FinishedAt.Equal(heard) {
			t.Fatalf("after 31 min: closed %d; %s %q finished %v, want failed, lost contact, finished when last heard", n, lost.Status, lost.Reason, lost.FinishedAt)
		}
		if b := status("s-blocked"); b.Status != app.StatusBlocked {
			t.Errorf("a blocked session after 31 min is %s: it waits on its person and must stay blocked", b.Status)
		}
		w.now = heard.Add(25 * time.Hour)
		mustOK(t, second(s.CloseSilentSessions(ctx, rule)))
		if b := status("s-blocked"); b.Status != app.StatusCanceled || b.Reason != app.ReasonAbandoned {
			t.Errorf("a blocked session after 25 h is %s %q, want canceled, abandoned", b.Status, b.Reason)
		}
		// The laptop opens again: the session moves on.
		late := sessionReport("s-working", w.now, app.ChannelHook)
		late.Signal = app.SignalWorking
		mustOK(t, second(s.Report(ctx, w.alice, []app.Report{late})))
		if it := status("s-working"); it.Status != app.StatusWorking || it.Reason != "" || !it.FinishedAt.IsZero() {
			t.Errorf("after a late signal: %s %q finished %v, want working again", it.Status, it.Reason, it.FinishedAt)
		}
		var runs int
		for _, it := range agentItems(t, s, w.alice) {
			runs += map[bool]int{true: 1}[it.AgentName == ""]
		}
		if runs != 0 {
			t.Errorf("%d runs without an agent became agent items", runs)
		}
	})
}

func TestARunClaimsTheSessionOfTheAgentItWraps(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		run, _, err := s.CreateRun(ctx, w.alice, app.NewRun{Kind: app.KindAmbient, Title: "codex exec", Source: app.SourceCLI})
		mustOK(t, err)
		// Codex's OTLP names only its conversation, and arrives first.
		early := app.Report{Agent: app.AgentCodex, Session: "thread-1", Channel: app.ChannelOTLP, At: w.now, Model: "gpt-5"}
		early.Entry = &app.Entry{Key: "prompt:x", Role: app.RoleUser, Text: "say hi"}
		early.Usage = &app.Usage{Key: "resp-1", Model: "gpt-5", Tokens: app.Tokens{Input: 1_000_000}}
		mustOK(t, second(s.Report(ctx, w.alice, []app.Report{early})))
		if n := len(agentItems(t, s, w.alice)); n != 1 {
			t.Fatalf("%d agent items before the run names the session", n)
		}
		// Then the run's own output names the session.
		lines := []*app.Event{{Type: app.EventLog, Text: `{"type":"thread.started","thread_id":"thread-1"}`}}
		started := app.Report{Agent: app.AgentCodex, Session: "thread-1", Signal: app.SignalWorking}
		acc, dup, err := s.AppendNumberedEvents(ctx, w.alice, run.ID, "batch-1", lines, []app.Report{started})
		mustOK(t, err)
		if acc != 1 || dup != 0 {
			t.Fatalf("append: %d accepted %d duplicates", acc, dup)
		}
		items := agentItems(t, s, w.alice)
		if len(items) != 1 || items[0].ID != run.ID {
			t.Fatalf("after the run claimed the session: %d agent items (want only the run %s)", len(items), run.ID)
		}
		it, err := s.Item(ctx, w.alice, run.ID)
		mustOK(t, err)
		if it.Kind != app.KindAmbient || it.AgentSession != "thread-1" || it.Inference.String() != "125.00" {
			t.Errorf("the run: %s, session %q, credits %s; want ambient, thread-1, 125.00 from the merged usage", it.Kind, it.AgentSession, it.Inference)
		}
		events, err := s.Events(ctx, run.ID, app.EventQuery{})
		mustOK(t, err)
		if len(events.Events) != 2 {
			t.Fatalf("%d events in the run, want its log line and the merged prompt", len(events.Events))
		}
		for i, e := range events.Events {
			if e.Seq != int64(i+1) {
				t.Errorf("event %d has seq %d", i, e.Seq)
			}
		}
		// The batch resent is a duplicate; later OTLP of the session joins
		// the run.
		acc, dup, err = s.AppendNumberedEvents(ctx, w.alice, run.ID, "batch-1", lines, nil)
		mustOK(t, err)
		if acc != 0 || dup != 1 {
			t.Errorf("the batch resent: %d accepted %d duplicates, want 0 and 1", acc, dup)
		}
		later := app.Report{Agent: app.AgentCodex, Session: "thread-1", Channel: app.ChannelOTLP, At: w.now.Add(time.Second), Signal: app.SignalWorking}
		mustOK(t, second(s.Report(ctx, w.alice, []app.Report{later})))
		if items := agentItems(t, s, w.alice); len(items) != 1 {
			t.Errorf("%d agent items after more OTLP, want the run alone", len(items))
		}
	})
}

func TestAReportNeverReachesAnotherUsersRun(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		bobs, _, err := s.CreateRun(ctx, w.bob, app.NewRun{Kind: app.KindAmbient, Title: "bob's run", Source: app.SourceCLI})
		mustOK(t, err)
		r := sessionReport("s-6", w.now, app.ChannelHook)
		r.RunID, r.Signal, r.Prompt = bobs.ID, app.SignalWorking, "take over"
		mustOK(t, second(s.Report(ctx, w.alice, []app.Report{r})))
		got, err := s.Item(ctx, w.bob, bobs.ID)
		mustOK(t, err)
		if got.AgentSession != "" || got.Title != "bob's run" {
			t.Errorf("alice's report changed bob's run: session %q title %q", got.AgentSession, got.Title)
		}
		if it := onlyAgentItem(t, s, w.alice); it.Title != "take over" {
			t.Errorf("alice's report became %q, want her own session item", it.Title)
		}
	})
}

func TestReportsWithoutASessionAreRejectedNotFailed(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		res, err := s.Report(context.Background(), w.alice, []app.Report{{Agent: app.AgentClaudeCode, Channel: app.ChannelOTLP}, sessionReport("s-7", w.now, app.ChannelOTLP)})
		mustOK(t, err)
		if res.Applied != 1 || res.Rejected != 1 || res.Problem == "" {
			t.Errorf("result %+v, want 1 applied, 1 rejected with a reason", res)
		}
	})
}

func TestReportedTextIsStoredOnBothDatabases(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		r := sessionReport("s-\x00nul", w.now, app.ChannelHook)
		r.Prompt = "a\x00b \xff"
		r.Entry = &app.Entry{Key: "k\x00", Role: app.RoleUser, Text: "x\x00y", Data: map[string]any{"k\x00": "v\x00"}}
		r.Where = app.Where{Cwd: "/tmp/\x00"}
		mustOK(t, second(s.Report(context.Background(), w.alice, []app.Report{r})))
		it := onlyAgentItem(t, s, w.alice)
		if strings.ContainsRune(it.Title, 0) || strings.ContainsRune(it.AgentSession, 0) {
			t.Errorf("NUL stored: title %q session %q", it.Title, it.AgentSession)
		}
		if e := transcript(t, s, it.ID); len(e) != 1 || e[0].Text != "x\uFFFDy" {
			t.Errorf("transcript %v", e)
		}
	})
}

// second returns the error of a two-valued call.
func second[T any](_ T, err error) error { return err }

func TestServerNumberingNeverCollidesWithAClientsNumbers(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		entry := func(key string) app.Report {
			r := sessionReport("s-mixed", w.now, app.ChannelHook)
			r.Entry = &app.Entry{Key: key, Role: app.RoleAgent, Text: key}
			return r
		}
		mustOK(t, second(s.Report(ctx, w.alice, []app.Report{entry("first")})))
		id := onlyAgentItem(t, s, w.alice).ID
		// A script reports into the same session with numbers of its own.
		var events []*app.Event
		for seq := int64(2); seq <= 5; seq++ {
			events = append(events, &app.Event{Seq: seq, Type: app.EventLog, Text: "line"})
		}
		acc, _, err := s.AppendEvents(ctx, w.alice, id, events)
		mustOK(t, err)
		if acc != 4 {
			t.Fatalf("%d of the script's events accepted", acc)
		}
		mustOK(t, second(s.Report(ctx, w.alice, []app.Report{entry("second")})))
		page, err := s.Events(ctx, id, app.EventQuery{})
		mustOK(t, err)
		if n := len(page.Events); n != 6 || page.Events[5].Text != "second" || page.Events[5].Seq != 6 {
			t.Errorf("%d events, the last %+v; want the agent's second entry after the script's lines, at seq 6", n, page.Events[n-1])
		}
	})
}
