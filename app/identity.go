package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Identity links an account at a sign-in provider to a user. It is keyed by
// the provider and the provider's subject, the one id the provider promises
// never to reuse; an e-mail address alone never decides who someone is.
type Identity struct {
	bun.BaseModel `bun:"table:identities,alias:identity"`

	Provider   string    `bun:"provider,pk"`
	Subject    string    `bun:"subject,pk"`
	UserID     int64     `bun:"user_id,notnull"`
	Email      string    `bun:"email,notnull"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
	SignedInAt time.Time `bun:"signed_in_at,notnull"`
}

// ExternalAccount is what a sign-in provider tells about the person who just
// signed in.
type ExternalAccount struct {
	Provider  string // a stable key of the provider, e.g. "github"
	Subject   string // the provider's id of the account
	Login     string // the account's user name at the provider, if any
	Name      string
	Email     string
	AvatarURL string
}

// SignIn returns the user behind an external account. At the account's first
// sign-in it creates the user, with a unique handle made from the login, the
// e-mail address or the name (maya, maya-2, …); later sign-ins refresh the
// name, e-mail address and avatar and keep the handle.
func (s *Store) SignIn(ctx context.Context, a ExternalAccount) (*User, error) {
	if a.Provider == "" || a.Subject == "" || !IsCleanText(a.Provider) || !IsCleanText(a.Subject) {
		return nil, Errorf(EInvalid, "subject", "the provider did not say who signed in")
	}
	// What the provider says of the person is reported text (see CleanText).
	a.Login, a.Name, a.Email, a.AvatarURL = CleanText(a.Login), CleanText(a.Name), CleanText(a.Email), CleanText(a.AvatarURL)
	for attempt := 1; ; attempt++ {
		u, err := s.signIn(ctx, a)
		// A conflict means a concurrent first sign-in took the identity or
		// the handle; the next attempt sees what it stored.
		if ErrorCode(err) == EConflict && attempt < 3 {
			continue
		}
		return u, err
	}
}

func (s *Store) signIn(ctx context.Context, a ExternalAccount) (*User, error) {
	u := new(User)
	err := s.inTx(ctx, func(tx bun.Tx) error {
		now := s.Now()
		id := new(Identity)
		err := tx.NewSelect().Model(id).Where("provider = ? AND subject = ?", a.Provider, a.Subject).Scan(ctx)
		if err == nil {
			id.Email, id.SignedInAt = a.Email, now
			if _, err := tx.NewUpdate().Model(id).Column("email", "signed_in_at").WherePK().Exec(ctx); err != nil {
				return fmt.Errorf("app: sign in %s: %w", a.Provider, err)
			}
			if err := tx.NewSelect().Model(u).Where("id = ?", id.UserID).Scan(ctx); err != nil {
				return fmt.Errorf("app: sign in %s: user %d: %w", a.Provider, id.UserID, err)
			}
			return refreshProfile(ctx, tx, u, a)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("app: sign in %s: %w", a.Provider, err)
		}
		handle, err := freeHandle(ctx, tx, HandleBase(firstNonEmpty(a.Login, a.Email, a.Name)))
		if err != nil {
			return err
		}
		*u = User{Handle: handle, Name: a.Name, Email: a.Email, AvatarURL: a.AvatarURL, CreatedAt: now}
		if _, err := tx.NewInsert().Model(u).Exec(ctx); err != nil {
			if isUniqueViolation(err) {
				return Errorf(EConflict, "handle", "the handle %q was just taken", handle)
			}
			return fmt.Errorf("app: create user %s: %w", handle, err)
		}
		id = &Identity{Provider: a.Provider, Subject: a.Subject, UserID: u.ID, Email: a.Email, CreatedAt: now, SignedInAt: now}
		if _, err := tx.NewInsert().Model(id).Exec(ctx); err != nil {
			if isUniqueViolation(err) {
				return Errorf(EConflict, "subject", "this account was just linked")
			}
			return fmt.Errorf("app: link %s account to %s: %w", a.Provider, handle, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if u.ID != 0 {
		// The profile may have been refreshed.
		s.changed(Hint{UserChanged: u.ID})
	}
	return u, nil
}

// refreshProfile copies what the provider now says about the person onto
// the user; what it leaves out is kept.
func refreshProfile(ctx context.Context, db bun.IDB, u *User, a ExternalAccount) error {
	changed := false
	set := func(to *string, v string) {
		if v != "" && *to != v {
			*to, changed = v, true
		}
	}
	set(&u.Name, a.Name)
	set(&u.Email, a.Email)
	set(&u.AvatarURL, a.AvatarURL)
	if !changed {
		return nil
	}
	if _, err := db.NewUpdate().Model(u).Column("name", "email", "avatar_url").WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("app: refresh profile of %s: %w", u.Handle, err)
	}
	return nil
}

// freeHandle returns base if no one has it, else the first free of base-2,
// base-3, …
func freeHandle(ctx context.Context, db bun.IDB, base string) (string, error) {
	var taken []string
	err := db.NewSelect().Model((*User)(nil)).Column("handle").
		Where("handle = ? OR handle LIKE ?", base, base+"-%").Scan(ctx, &taken)
	if err != nil {
		return "", fmt.Errorf("app: find a handle for %s: %w", base, err)
	}
	return firstFree(base, taken), nil
}

// firstFree returns base, or base-2, base-3, … whichever is first not in
// taken.
func firstFree(base string, taken []string) string {
	used := make(map[string]bool, len(taken))
	for _, t := range taken {
		used[t] = true
	}
	if !used[base] {
		return base
	}
	for n := 2; ; n++ {
		if h := fmt.Sprintf("%s-%d", base, n); !used[h] {
			return h
		}
	}
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}
