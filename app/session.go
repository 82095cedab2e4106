package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// How long a session lasts: it ends after SessionIdleLifetime without use,
// and SessionMaxLifetime after it began however much it is used. A sign-in
// begins a new session, so these bound how long one sign-in lasts.
const (
	SessionIdleLifetime = 14 * 24 * time.Hour
	SessionMaxLifetime  = 30 * 24 * time.Hour
)

// sessionTouchEvery spaces the writes that record a session's use, so that
// a busy user does not cost a write per request.
const sessionTouchEvery = time.Minute

// Session is what the server keeps of one browser's session: the user, if
// signed in, and opaque data such as the CSRF token. The browser holds only
// the session's random id; the database holds the id's hash, so that a leak
// of the table signs no one in.
type Session struct {
	bun.BaseModel `bun:"table:sessions,alias:session"`

	IDHash     string    `bun:"id_hash,pk"`
	UserID     int64     `bun:"user_id,nullzero"`
	Data       []byte    `bun:"data,notnull"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
	LastSeenAt time.Time `bun:"last_seen_at,notnull"`
	ExpiresAt  time.Time `bun:"expires_at,notnull"`
}

// Ends is when the session ends unless it is used again: at its expiry, or
// SessionIdleLifetime after it was last used, whichever is sooner.
func (s *Session) Ends() time.Time {
	idle := s.LastSeenAt.Add(SessionIdleLifetime)
	if idle.Before(s.ExpiresAt) {
		return idle
	}
	return s.ExpiresAt
}

// newSecret returns a random token for a URL or a cookie, and the hash that
// is stored in its place.
func newSecret() (token, hash string) {
	var b [32]byte
	rand.Read(b[:])
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, secretHash(token)
}

func secretHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateSession stores a new session for userID (0: signed out) and returns
// its id. The session ends after maxAge at the latest, and never later than
// SessionMaxLifetime.
func (s *Store) CreateSession(ctx context.Context, userID int64, data []byte, maxAge time.Duration) (string, error) {
	if maxAge <= 0 || maxAge > SessionMaxLifetime {
		maxAge = SessionMaxLifetime
	}
	if data == nil {
		data = []byte{}
	}
	id, hash := newSecret()
	now := s.Now()
	sess := &Session{IDHash: hash, UserID: userID, Data: data, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(maxAge)}
	if _, err := s.db.NewInsert().Model(sess).Exec(ctx); err != nil {
		return "", fmt.Errorf("app: create session: %w", err)
	}
	return id, nil
}

// Session returns the live session with the given id: ErrNotFound when it
// is unknown, ended, expired or unused for longer than SessionIdleLifetime.
// Its use is recorded, at most once a minute; in between, the session is
// read from memory.
func (s *Store) Session(ctx context.Context, id string) (*Session, error) {
	now := s.Now()
	hash := secretHash(id)
	if e, ok := lookup(s.cache, s.cache.sessions, hash); ok && e.value.live(now) && now.Sub(e.value.LastSeenAt) < sessionTouchEvery {
		return &e.value, nil
	}
	gen, caching := s.cache.begin()
	sess := new(Session)
	err := s.db.NewSelect().Model(sess).
		Where("id_hash = ?", hash).
		Where("expires_at > ?", now).
		Where("last_seen_at > ?", now.Add(-SessionIdleLifetime)).
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("app: session: %w", notFound(err))
	}
	if now.Sub(sess.LastSeenAt) >= sessionTouchEvery {
		sess.LastSeenAt = now
		if _, err := s.db.NewUpdate().Model(sess).Column("last_seen_at").WherePK().Exec(ctx); err != nil {
			return nil, fmt.Errorf("app: record use of session: %w", err)
		}
	}
	if caching {
		keep(s.cache, gen, s.cache.sessions, hash, *sess, nil, maxCachedSessions)
	}
	return sess, nil
}

// live reports whether the session has neither expired nor idled out.
func (s *Session) live(now time.Time) bool {
	return now.Before(s.ExpiresAt) && now.Sub(s.LastSeenAt) < SessionIdleLifetime
}

// UpdateSession replaces a session's user and data. It reports false, and
// writes nothing, when the session has ended meanwhile: an ended session
// stays ended.
func (s *Store) UpdateSession(ctx context.Context, id string, userID int64, data []byte) (bool, error) {
	if data == nil {
		data = []byte{}
	}
	sess := &Session{IDHash: secretHash(id), UserID: userID, Data: data}
	res, err := s.db.NewUpdate().Model(sess).Column("user_id", "data").WherePK().Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("app: update session: %w", err)
	}
	s.changed(Hint{SessionChanged: sess.IDHash})
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("app: update session: %w", err)
	}
	return n > 0, nil
}

// DeleteSession ends a session. It reports whether the session still
// existed, so that of several requests racing to end the same session
// exactly one learns that it did.
func (s *Store) DeleteSession(ctx context.Context, id string) (bool, error) {
	res, err := s.db.NewDelete().Model((*Session)(nil)).Where("id_hash = ?", secretHash(id)).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("app: delete session: %w", err)
	}
	// Whatever the session keeps open ends with it, in every replica.
	s.changed(Hint{SessionEnded: secretHash(id)})
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("app: delete session: %w", err)
	}
	return n > 0, nil
}

// PurgeSessions deletes the sessions that have expired or idled out, and
// returns how many.
func (s *Store) PurgeSessions(ctx context.Context) (int64, error) {
	now := s.Now()
	res, err := s.db.NewDelete().Model((*Session)(nil)).
		Where("expires_at <= ? OR last_seen_at <= ?", now, now.Add(-SessionIdleLifetime)).
		Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("app: purge sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("app: purge sessions: %w", err)
	}
	return n, nil
}

// SessionKey names a session without revealing it: the hash of its id, as
// the database keys it and as session-ended hints name it.
func SessionKey(id string) string { return secretHash(id) }
