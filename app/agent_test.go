package app

import (
	"testing"
	"time"
)

func TestNextStatusMapsSignalsAsSection10Says(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	interactive := func(s Status, reason string) *Item {
		return &Item{Kind: KindInteractive, Status: s, Reason: reason, AgentName: AgentClaudeCode, StatusAt: t0}
	}
	ambient := func(s Status, reason string) *Item {
		return &Item{Kind: KindAmbient, Status: s, Reason: reason, AgentName: AgentClaudeCode, StatusAt: t0}
	}
	later := t0.Add(time.Second)
	cases := []struct {
		name       string
		item       *Item
		report     Report
		want       Status
		wantReason string
		changes    bool
	}{
		{"a prompt makes a waiting session work", interactive(StatusBlocked, "waiting for your next prompt"), Report{Signal: SignalWorking, At: later}, StatusWorking, "", true},
		{"a permission request blocks", interactive(StatusWorking, ""), Report{Signal: SignalWaiting, Reason: "permission to use Bash", At: later}, StatusBlocked, "permission to use Bash", true},
		{"an interactive turn's end waits for the person", interactive(StatusWorking, ""), Report{Signal: SignalTurnEnded, Reason: "waiting for your next prompt", At: later}, StatusBlocked, "waiting for your next prompt", true},
		{"a headless turn's end is success", interactive(StatusWorking, ""), Report{Signal: SignalTurnEnded, Headless: true, At: later}, StatusSuccess, "", true},
		{"an ambient run is never blocked by waiting", ambient(StatusWorking, ""), Report{Signal: SignalWaiting, At: later}, StatusWorking, "", false},
		{"an ambient turn's end leaves it working until the session ends", ambient(StatusWorking, ""), Report{Signal: SignalTurnEnded, At: later}, StatusWorking, "", false},
		{"the end after a finished turn is success", interactive(StatusBlocked, "waiting"), Report{Signal: SignalEnded, At: later}, StatusSuccess, "", true},
		{"the end mid-turn is canceled", interactive(StatusWorking, ""), Report{Signal: SignalEnded, At: later}, StatusCanceled, "ended mid-turn", true},
		{"an ambient session's end is success", ambient(StatusWorking, ""), Report{Signal: SignalEnded, At: later}, StatusSuccess, "", true},
		{"an error fails it", interactive(StatusWorking, ""), Report{Signal: SignalFailed, Reason: "overloaded", At: later}, StatusFailed, "overloaded", true},
		{"a final status stays", interactive(StatusSuccess, ""), Report{Signal: SignalWorking, At: later}, StatusSuccess, "", false},
		{"lost contact moves on with a late signal", interactive(StatusFailed, ReasonLostContact), Report{Signal: SignalWorking, At: later}, StatusWorking, "", true},
		{"abandoned moves on with a late end", interactive(StatusCanceled, ReasonAbandoned), Report{Signal: SignalEnded, At: later}, StatusSuccess, "", true},
		{"an older report does not undo a newer state", interactive(StatusBlocked, "waiting"), Report{Signal: SignalWorking, At: t0.Add(-time.Second)}, StatusBlocked, "waiting", false},
		{"a report of unknown time applies", interactive(StatusBlocked, "waiting"), Report{Signal: SignalWorking}, StatusWorking, "", true},
		{"hooks inside a run do not end it", ambient(StatusWorking, ""), Report{Signal: SignalEnded, RunID: "r", Channel: ChannelHook, At: later}, StatusWorking, "", false},
		{"OTLP inside a run does not fail it", ambient(StatusWorking, ""), Report{Signal: SignalFailed, RunID: "r", Channel: ChannelOTLP, At: later}, StatusWorking, "", false},
		{"the run's own output ends it", ambient(StatusWorking, ""), Report{Signal: SignalSucceeded, RunID: "r", Channel: ChannelOutput}, StatusSuccess, "", true},
		{"the run's own output fails it", ambient(StatusWorking, ""), Report{Signal: SignalFailed, Reason: "max turns", RunID: "r", Channel: ChannelOutput}, StatusFailed, "max turns", true},
		{"no signal changes nothing", interactive(StatusWorking, ""), Report{At: later}, StatusWorking, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, reason, changes := NextStatus(c.item, c.report)
			if got != c.want || reason != c.wantReason || changes != c.changes {
				t.Errorf("NextStatus = %s %q %v, want %s %q %v", got, reason, changes, c.want, c.wantReason, c.changes)
			}
		})
	}
}

func TestRevivableIsOnlyWhatTheLivenessRuleClosed(t *testing.T) {
	cases := []struct {
		item Item
		want bool
	}{
		{Item{AgentName: AgentCodex, Status: StatusFailed, Reason: ReasonLostContact}, true},
		{Item{AgentName: AgentCodex, Status: StatusCanceled, Reason: ReasonAbandoned}, true},
		{Item{AgentName: AgentCodex, Status: StatusFailed, Reason: "overloaded"}, false},
		{Item{AgentName: AgentCodex, Status: StatusSuccess}, false},
		{Item{Status: StatusFailed, Reason: ReasonLostContact}, false},
	}
	for _, c := range cases {
		if got := c.item.Revivable(); got != c.want {
			t.Errorf("%s %q of %q: Revivable = %v, want %v", c.item.Status, c.item.Reason, c.item.AgentName, got, c.want)
		}
	}
}

func TestPromptTitleIsOneClippedLine(t *testing.T) {
	long := ""
	for len(long) < 400 {
		long += "fix the flaky test "
	}
	cases := map[string]string{
		"  fix the\nbilling\twebhook  ": "fix the billing webhook",
		"a\x00b":                        "a\uFFFDb",
	}
	for in, want := range cases {
		if got := promptTitle(in); got != want {
			t.Errorf("promptTitle(%q) = %q, want %q", in, got, want)
		}
	}
	if got := promptTitle(long); len(got) > maxTitleLen {
		t.Errorf("a long prompt gave a title of %d bytes, over %d", len(got), maxTitleLen)
	}
}
