package handlers

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
	"github.com/agentdeck/agentdeck/config"
)

// TestTheServerClosesSilentSessionsOnItsOwn runs the server's liveness loop
// with AGENTDECK_STALE_AFTER's window: a session that falls silent is failed
// as "lost contact" without anyone asking.
func TestTheServerClosesSilentSessionsOnItsOwn(t *testing.T) {
	apptest.Each(t, func(t *testing.T, store *app.Store) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		u := &app.User{Handle: "maya"}
		if err := store.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		v, err := store.Viewer(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, err = store.Report(ctx, v, []app.Report{{Agent: app.AgentClaudeCode, Session: "quiet", Channel: app.ChannelHook, Signal: app.SignalWorking}})
		if err != nil {
			t.Fatal(err)
		}
		cfg := config.Config{Command: config.CommandServe, Addr: "127.0.0.1:0", DataDir: t.TempDir(),
			SessionKeys: []string{strings.Repeat("k", 40)}, StaleAfter: time.Second, AbandonAfter: time.Hour}
		srv, err := New(cfg, store, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		sub, err := store.Hub().Subscribe(ctx, 16)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		// The session was last heard of a minute ago by the store's clock.
		store.SetClock(func() time.Time { return time.Now().Add(time.Minute) })
		go srv.closeSilentSessions(ctx)
		for {
			select {
			case <-sub.C:
			case <-ctx.Done():
				t.Fatal("the session was never closed")
			}
			items, err := listAll(ctx, store, v)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) == 1 && items[0].Status == app.StatusFailed {
				if items[0].Reason != app.ReasonLostContact {
					t.Errorf("reason %q", items[0].Reason)
				}
				return
			}
		}
	})
}

func listAll(ctx context.Context, s *app.Store, v app.Viewer) ([]*app.Item, error) {
	f, _ := app.ParseFilter(nil)
	q, _, _, err := s.ResolveFilter(ctx, v, f)
	if err != nil {
		return nil, err
	}
	page, err := s.Items(ctx, q, 10)
	return page.Items, err
}
