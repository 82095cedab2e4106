package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
	"github.com/agentdeck/agentdeck/config"
)

// endsWith waits, at most limit, for a stream to send the named event and
// end.
func endsWith(t *testing.T, st *sseStream, name string, limit time.Duration) {
	t.Helper()
	deadline := time.After(limit)
	for {
		select {
		case ev := <-st.events:
			if ev.Name == name {
				select {
				case <-st.done:
					return
				case <-deadline:
					t.Fatalf("the stream sent %q but stayed open", name)
				}
			}
		case <-st.done:
			// What it sent before it ended is still to be read.
			for {
				select {
				case ev := <-st.events:
					if ev.Name == name {
						return
					}
					continue
				default:
				}
				t.Fatalf("the stream ended without %q", name)
			}
		case <-deadline:
			t.Fatalf("no %q within %v", name, limit)
		}
	}
}

// stillOpen checks that a stream goes on: a new run reaches it.
func stillOpen(t *testing.T, s *app.Store, streams ...*sseStream) {
	t.Helper()
	it := working(t, s, "maya", "Still live?", nil)
	for _, st := range streams {
		st.until(t, rowOf(it.ID))
	}
}

func TestAPersonsOldestStreamsMakeRoomForNewOnes(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		a := seededAppWith(t, s, func(c *config.Config) { c.StreamsPerSession, c.StreamsPerUser = 2, 3 })
		laptop, phone := a.signIn(t, "maya"), a.signIn(t, "maya")

		first := a.openStream(t, laptop, "/events")
		first.next(t)
		second := a.openStream(t, laptop, "/events?tab=all")
		second.next(t)
		// A third in the same session pushes the session's oldest out.
		third := a.openStream(t, laptop, "/events?status=working")
		third.next(t)
		endsWith(t, first, "paused", eventWait)
		if !strings.Contains(first.lastRetry(), "60000") {
			t.Errorf("the pushed-out stream was told to reconnect after %q ms, want a minute", first.lastRetry())
		}
		stillOpen(t, s, second, third)

		// Within the person's limit, another session adds a stream; beyond
		// it, their oldest goes, whichever session it is in.
		other := a.openStream(t, phone, "/events")
		other.next(t)
		stillOpen(t, s, second, third, other)
		fourth := a.openStream(t, phone, "/events?tab=all")
		fourth.next(t)
		endsWith(t, second, "paused", eventWait)
		stillOpen(t, s, third, other, fourth)
	})
}

func TestStreamsBeyondTheServersCapAreRefusedAndTheRestAnswers(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		a := seededAppWith(t, s, func(c *config.Config) { c.MaxStreams = 2 })
		maya, jonas := a.signIn(t, "maya"), a.signIn(t, "jonas")
		a.openStream(t, maya, "/events").next(t)
		a.openStream(t, jonas, "/events").next(t)

		req, _ := http.NewRequest(http.MethodGet, a.URL+"/events", nil)
		req.Header.Set("Accept", "text/event-stream")
		resp, body := do(t, maya, req)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("a stream over the cap: %d (Retry-After %q) %s; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
		for _, path := range []string{"/healthz", "/readyz"} {
			resp, _ := a.get(t, a.anonymous(t), path, nil)
			if took := a.lastServerTime.Load(); resp.StatusCode != http.StatusOK || time.Duration(took) > 100*time.Millisecond {
				t.Errorf("%s with the streams at their cap: %d in %v; want 200 within 100 ms", path, resp.StatusCode, time.Duration(took))
			}
		}
		if resp, _ := a.get(t, maya, "/", nil); resp.StatusCode != http.StatusOK {
			t.Errorf("the view with the streams at their cap: %d", resp.StatusCode)
		}
	})
}

func TestSigningOutEndsTheSessionsStreams(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		a := seededApp(t, s)
		browser, elsewhere := a.signIn(t, "maya"), a.signIn(t, "maya")
		view := a.openStream(t, browser, "/events?tab=all")
		view.next(t)
		run := working(t, s, "maya", "Tailed while signing out", nil)
		tail := a.openStream(t, browser, "/runs/"+run.ID+"/events/stream")
		kept := a.openStream(t, elsewhere, "/events")
		kept.next(t)

		signOut(t, a, browser)
		endsWith(t, view, "signedout", time.Second)
		endsWith(t, tail, "signedout", time.Second)
		// The same person's other session is not signed out.
		stillOpen(t, s, kept)
		// And the cookie opens nothing any more.
		req, _ := http.NewRequest(http.MethodGet, a.URL+"/events", nil)
		req.Header.Set("Accept", "text/event-stream")
		if resp, _ := do(t, browser, req); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("a stream after sign-out: %d, want 401", resp.StatusCode)
		}
	})
}

func TestAnExpiringSessionEndsItsStreams(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		// The real clock: the session ends in a moment of real time.
		a := newTestApp(t, s, nil)
		u := &app.User{Handle: "maya", Name: "Maya"}
		if err := s.CreateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
		browser := a.signIn(t, "maya")
		ends := s.Now().Add(500 * time.Millisecond)
		if _, err := s.DB().NewUpdate().TableExpr("sessions").Set("expires_at = ?", ends).Where("user_id = ?", u.ID).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		st := a.openStream(t, browser, "/events")
		st.next(t)
		endsWith(t, st, "signedout", time.Second+500*time.Millisecond)
	})
}

func TestSigningOutOnOneReplicaEndsStreamsOnAnother(t *testing.T) {
	dsn := apptest.PostgresDSN(t)
	storeA, storeB := apptest.Open(t, dsn), apptest.Open(t, dsn)
	replicaA := seededApp(t, storeA)
	replicaB := newTestApp(t, storeB, nil)

	browser := replicaA.signIn(t, "maya")
	// The same browser holds a stream on replica B: its cookie is good on
	// both, which share the database and the session keys.
	st := replicaB.openStream(t, browser, "/events?tab=all")
	st.next(t)

	signOut(t, replicaA, browser)
	endsWith(t, st, "signedout", time.Second)
}

// signOut signs a browser out through the page's form.
func signOut(t *testing.T, a *testApp, c *http.Client) {
	t.Helper()
	tok := a.csrfFrom(t, c, "/")
	resp, err := c.PostForm(a.URL+"/signout", url.Values{"csrf": {tok}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
}
