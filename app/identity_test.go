package app_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
)

func TestHandleBase(t *testing.T) {
	for in, want := range map[string]string{
		"maya":                  "maya",
		"Maya.Chen@example.com": "maya-chen",
		"jane.doe":              "jane-doe",
		"Tomás Ortega":          "tomas-ortega",
		"__--x--__":             "x",
		"李雷":                    "user",
		"":                      "user",
		"a+tag@example.com":     "a-tag",
		"UPPER_case..dots":      "upper-case-dots",
		"a-very-long-login-name-that-goes-on-and-on": "a-very-long-login-name-that-goes",
	} {
		got := app.HandleBase(in)
		if got != want {
			t.Errorf("HandleBase(%q) = %q, want %q", in, got, want)
		}
		if !app.ValidHandle(got) {
			t.Errorf("HandleBase(%q) = %q is not a valid handle", in, got)
		}
	}
	if got := app.SlugBase("Платформа"); got != "team" {
		t.Errorf("SlugBase of a name without ASCII letters = %q, want team", got)
	}
}

func TestFirstSignInCreatesAUserWithAFreeHandle(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		ctx := context.Background()
		mustOK(t, s.CreateUser(ctx, &app.User{Handle: "maya", Name: "Maya (seeded)"}))

		first, err := s.SignIn(ctx, app.ExternalAccount{Provider: "github", Subject: "101", Login: "Maya", Name: "Maya Chen", Email: "maya@example.com"})
		mustOK(t, err)
		if first.Handle != "maya-2" || first.Name != "Maya Chen" || first.Email != "maya@example.com" {
			t.Errorf("first sign-in created %+v, want handle maya-2 with the provider's name and e-mail", first)
		}
		second, err := s.SignIn(ctx, app.ExternalAccount{Provider: "gitlab", Subject: "101", Login: "maya"})
		mustOK(t, err)
		if second.Handle != "maya-3" || second.ID == first.ID {
			t.Errorf("same subject at another provider gave %+v, want a new user maya-3", second)
		}
		noLogin, err := s.SignIn(ctx, app.ExternalAccount{Provider: "google", Subject: "g-1", Email: "Priya.Raman@example.com", Name: "Priya"})
		mustOK(t, err)
		if noLogin.Handle != "priya-raman" {
			t.Errorf("without a login the handle comes from the e-mail: got %q, want priya-raman", noLogin.Handle)
		}
	})
}

func TestSignInAgainFindsTheSameUserByProviderAndSubject(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		ctx := context.Background()
		u1, err := s.SignIn(ctx, app.ExternalAccount{Provider: "github", Subject: "7", Login: "jonas", Name: "Jonas", Email: "jonas@example.com"})
		mustOK(t, err)
		u2, err := s.SignIn(ctx, app.ExternalAccount{Provider: "github", Subject: "7", Login: "jonas-renamed", Name: "Jonas Weber", AvatarURL: "https://example.com/j.png"})
		mustOK(t, err)
		if u2.ID != u1.ID || u2.Handle != "jonas" {
			t.Errorf("second sign-in gave user %d @%s, want user %d @jonas (the handle stays)", u2.ID, u2.Handle, u1.ID)
		}
		if u2.Name != "Jonas Weber" || u2.AvatarURL != "https://example.com/j.png" || u2.Email != "jonas@example.com" {
			t.Errorf("profile after second sign-in = %+v, want the new name and avatar and the kept e-mail", u2)
		}
		// The same e-mail address at another provider is another person
		// until proven otherwise: e-mail alone never links accounts.
		u3, err := s.SignIn(ctx, app.ExternalAccount{Provider: "oidc https://id.example.com", Subject: "7", Email: "jonas@example.com"})
		mustOK(t, err)
		if u3.ID == u1.ID {
			t.Errorf("an account with the same e-mail at another provider signed in as the existing user")
		}
		users, err := s.Users(ctx)
		mustOK(t, err)
		if len(users) != 2 {
			t.Errorf("%d users after three sign-ins of two accounts, want 2", len(users))
		}
	})
}

func TestConcurrentFirstSignInsCreateOneUser(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		ctx := context.Background()
		const n = 4
		ids := make([]int64, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				u, err := s.SignIn(ctx, app.ExternalAccount{Provider: "github", Subject: "42", Login: "sam"})
				errs[i] = err
				if err == nil {
					ids[i] = u.ID
				}
			})
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("sign-in %d: %v", i, errs[i])
			}
			if ids[i] != ids[0] {
				t.Errorf("sign-in %d made user %d, sign-in 0 user %d: want one user", i, ids[i], ids[0])
			}
		}
	})
}

func TestSignInWithoutSubjectIsRefused(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		_, err := s.SignIn(context.Background(), app.ExternalAccount{Provider: "github", Email: "x@example.com"})
		if app.ErrorCode(err) != app.EInvalid {
			t.Errorf("sign-in without a subject: %v, want an invalid-input error", err)
		}
	})
}

func TestSessionsLiveEndAndExpire(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		ctx := context.Background()
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		s.SetClock(func() time.Time { return now })
		u := &app.User{Handle: "aiko"}
		mustOK(t, s.CreateUser(ctx, u))

		id, err := s.CreateSession(ctx, u.ID, []byte("data"), 0)
		mustOK(t, err)
		got, err := s.Session(ctx, id)
		mustOK(t, err)
		if got.UserID != u.ID || string(got.Data) != "data" || got.IDHash == id {
			t.Errorf("session = %+v, want user %d, the data, and a hash in place of the id", got, u.ID)
		}
		ok, err := s.UpdateSession(ctx, id, 0, []byte("signed out"))
		mustOK(t, err)
		got, err = s.Session(ctx, id)
		mustOK(t, err)
		if !ok || got.UserID != 0 || string(got.Data) != "signed out" {
			t.Errorf("after update: %v, %+v; want user 0 and the new data", ok, got)
		}

		// Used every 13 days, a session lives until its 30 days are up.
		for range 2 {
			now = now.Add(13 * 24 * time.Hour)
			_, err = s.Session(ctx, id)
			mustOK(t, err)
		}
		now = now.Add(4*24*time.Hour + time.Second)
		if _, err := s.Session(ctx, id); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("session after its maximum lifetime: %v, want not found", err)
		}

		idle, err := s.CreateSession(ctx, u.ID, nil, 0)
		mustOK(t, err)
		now = now.Add(app.SessionIdleLifetime)
		if _, err := s.Session(ctx, idle); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("session idle for 14 days: %v, want not found", err)
		}
		if ok, err := s.UpdateSession(ctx, "no-such-session", u.ID, nil); ok || err != nil {
			t.Errorf("updating an unknown session: %v, %v; want false and no error", ok, err)
		}
		purged, err := s.PurgeSessions(ctx)
		mustOK(t, err)
		if purged != 2 {
			t.Errorf("purged %d sessions, want the 2 that ended", purged)
		}
	})
}

func TestDeletingASessionTellsWhoEndedIt(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		ctx := context.Background()
		id, err := s.CreateSession(ctx, 0, nil, time.Hour)
		mustOK(t, err)
		first, err := s.DeleteSession(ctx, id)
		mustOK(t, err)
		second, err := s.DeleteSession(ctx, id)
		mustOK(t, err)
		if !first || second {
			t.Errorf("deleting twice reported %v then %v, want true then false", first, second)
		}
		if _, err := s.Session(ctx, id); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("deleted session: %v, want not found", err)
		}
		if ok, _ := s.UpdateSession(ctx, id, 0, []byte("x")); ok {
			t.Errorf("an ended session was written to again")
		}
	})
}

func TestSessionShorterThanTheMaximum(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		ctx := context.Background()
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		s.SetClock(func() time.Time { return now })
		id, err := s.CreateSession(ctx, 0, nil, 10*time.Minute)
		mustOK(t, err)
		now = now.Add(9 * time.Minute)
		_, err = s.Session(ctx, id)
		mustOK(t, err)
		now = now.Add(time.Minute)
		if _, err := s.Session(ctx, id); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("a 10-minute session after 10 minutes: %v, want not found", err)
		}
	})
}

func TestDeletingAUserEndsTheirSessions(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		ctx := context.Background()
		u := &app.User{Handle: "gone"}
		mustOK(t, s.CreateUser(ctx, u))
		id, err := s.CreateSession(ctx, u.ID, nil, 0)
		mustOK(t, err)
		if _, err := s.DB().NewDelete().Model((*app.User)(nil)).Where("id = ?", u.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, id); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("session of a deleted user: %v, want not found", err)
		}
	})
}
