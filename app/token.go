package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// TokenPrefix starts every personal access token, so that a token pasted in
// the wrong place is recognisable (and findable by secret scanners).
const TokenPrefix = "adk_"

// A token is TokenPrefix, tokenRandomLen random base62 characters (about 178
// bits) and a base62 CRC32 of those, tokenChecksumLen characters long. The
// checksum tells a mistyped or truncated token from one that was never issued
// without asking the database.
const (
	tokenRandomLen   = 30
	tokenChecksumLen = 6
	tokenLen         = len(TokenPrefix) + tokenRandomLen + tokenChecksumLen
	// tokenLookupLen is how much of a token is kept in clear, shown in the
	// settings and used to find the stored hash to compare.
	tokenLookupLen = len(TokenPrefix) + 8
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// maxTokenName bounds a token's name.
const maxTokenName = 100

// AccessToken is a personal access token: it lets scripts act on the API as
// its user. Only the SHA-256 hash of the secret is stored.
type AccessToken struct {
	bun.BaseModel `bun:"table:access_tokens"`

	ID         int64     `bun:"id,pk,autoincrement"`
	UserID     int64     `bun:"user_id,notnull"`
	Name       string    `bun:"name,notnull"`
	Prefix     string    `bun:"prefix,notnull"`
	Hash       string    `bun:"hash,notnull"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
	LastUsedAt time.Time `bun:"last_used_at,nullzero"`
	ExpiresAt  time.Time `bun:"expires_at,nullzero"`
	RevokedAt  time.Time `bun:"revoked_at,nullzero"`
	// OTLPRecords counts the OTLP records agents sent with the token, and
	// UnrecognisedRecords those that no adapter knew: a telling sign of an
	// exporter pointed at agentdeck by mistake, or of an agent we do not yet
	// read.
	OTLPRecords         int64 `bun:"otlp_records,notnull"`
	UnrecognisedRecords int64 `bun:"unrecognised_records,notnull"`

	User *User `bun:"rel:belongs-to,join:user_id=id"`
}

// Expired reports whether the token's expiry has passed at now.
func (t *AccessToken) Expired(now time.Time) bool {
	return !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)
}

// Revoked reports whether the token was revoked.
func (t *AccessToken) Revoked() bool { return !t.RevokedAt.IsZero() }

// newTokenSecret draws a fresh token with its checksum.
func newTokenSecret() string {
	var b strings.Builder
	b.WriteString(TokenPrefix)
	// Rejection sampling keeps every base62 character equally likely.
	buf := make([]byte, 64)
	for b.Len() < len(TokenPrefix)+tokenRandomLen {
		rand.Read(buf)
		for _, c := range buf {
			if c < 248 && b.Len() < len(TokenPrefix)+tokenRandomLen {
				b.WriteByte(base62[c%62])
			}
		}
	}
	random := b.String()[len(TokenPrefix):]
	b.WriteString(tokenChecksum(random))
	return b.String()
}

// tokenChecksum is the CRC32 of the random part in tokenChecksumLen base62
// characters.
func tokenChecksum(random string) string {
	n := crc32.ChecksumIEEE([]byte(random))
	out := make([]byte, tokenChecksumLen)
	for i := tokenChecksumLen - 1; i >= 0; i-- {
		out[i] = base62[n%62]
		n /= 62
	}
	return string(out)
}

// WellFormedToken reports whether s has the shape and checksum of a token
// agentdeck issued.
func WellFormedToken(s string) bool {
	if len(s) != tokenLen || !strings.HasPrefix(s, TokenPrefix) {
		return false
	}
	body := s[len(TokenPrefix):]
	for i := 0; i < len(body); i++ {
		if strings.IndexByte(base62, body[i]) < 0 {
			return false
		}
	}
	random, sum := body[:tokenRandomLen], body[tokenRandomLen:]
	return subtle.ConstantTimeCompare([]byte(tokenChecksum(random)), []byte(sum)) == 1
}

func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// DefaultMaxTokensPerUser is how many live access tokens (neither revoked
// nor expired) one user may hold unless the operator says otherwise
// (AGENTDECK_MAX_TOKENS_PER_USER): enough for every machine, CI system and
// agent a person runs, few enough that tokens cannot be minted to multiply
// what one user may do.
const DefaultMaxTokensPerUser = 50

// SetMaxTokensPerUser replaces how many live access tokens one user may
// hold; n must be positive.
func (s *Store) SetMaxTokensPerUser(n int) { s.maxTokensPerUser = n }

// CreateAccessToken issues a token for a user, valid until expiresAt (zero:
// until revoked). The secret is returned once and never stored. A user who
// holds the most live tokens allowed (SetMaxTokensPerUser) is refused until
// they revoke one or one expires.
func (s *Store) CreateAccessToken(ctx context.Context, userID int64, name string, expiresAt time.Time) (*AccessToken, string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return nil, "", Errorf(EInvalid, "name", "a token needs a name, to recognise it later")
	case utf8.RuneCountInString(name) > maxTokenName || !IsCleanText(name) || strings.IndexFunc(name, unicode.IsControl) >= 0:
		// A name, like a team's, is refused rather than cleaned: it is
		// what a person recognises the token by (see CleanText).
		return nil, "", Errorf(EInvalid, "name", "the name must be text of at most %d characters, without control characters", maxTokenName)
	}
	now := s.Now()
	if !expiresAt.IsZero() {
		expiresAt = expiresAt.UTC().Truncate(time.Microsecond)
		if !expiresAt.After(now) {
			return nil, "", Errorf(EInvalid, "expires_at", "the expiry must be in the future")
		}
	}
	secret := newTokenSecret()
	t := &AccessToken{
		UserID: userID, Name: name, Prefix: secret[:tokenLookupLen], Hash: hashSecret(secret),
		CreatedAt: now, ExpiresAt: expiresAt,
	}
	err := s.inTx(ctx, func(tx bun.Tx) error {
		if err := s.lockUser(ctx, tx, userID); err != nil {
			return err
		}
		live, err := tx.NewSelect().Model((*AccessToken)(nil)).Where("user_id = ?", userID).
			Where("revoked_at IS NULL").Where("expires_at IS NULL OR expires_at > ?", now).Count(ctx)
		if err != nil {
			return fmt.Errorf("app: count tokens of user %d: %w", userID, err)
		}
		if live >= int64(s.maxTokensPerUser) {
			return Errorf(EUnprocessable, "name", "you have %d live tokens, the most one person may hold: revoke one you no longer use first", live)
		}
		if _, err := tx.NewInsert().Model(t).Exec(ctx); err != nil {
			return fmt.Errorf("app: create token for user %d: %w", userID, err)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return t, secret, nil
}

// lockUser makes changes to one user's tokens take turns on PostgreSQL, so
// that two creations at once cannot both pass the count; SQLite's write
// transactions take turns already.
func (s *Store) lockUser(ctx context.Context, tx bun.Tx, userID int64) error {
	if s.dialect != "postgres" {
		return nil
	}
	var id int64
	if err := tx.NewSelect().Model((*User)(nil)).Column("id").Where("id = ?", userID).For("UPDATE").Scan(ctx, &id); err != nil {
		return fmt.Errorf("app: lock user %d: %w", userID, notFound(err))
	}
	return nil
}

// AccessTokens lists a user's tokens, newest first, revoked ones included.
func (s *Store) AccessTokens(ctx context.Context, userID int64) ([]*AccessToken, error) {
	var tokens []*AccessToken
	err := s.db.NewSelect().Model(&tokens).Where("user_id = ?", userID).OrderExpr("created_at DESC, id DESC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("app: tokens of user %d: %w", userID, err)
	}
	return tokens, nil
}

// RevokeAccessToken ends one of the user's tokens at once. Revoking it again
// changes nothing; another user's token is not found.
func (s *Store) RevokeAccessToken(ctx context.Context, userID, tokenID int64) error {
	res, err := s.db.NewUpdate().Model((*AccessToken)(nil)).
		Set("revoked_at = COALESCE(revoked_at, ?)", s.Now()).
		Where("id = ?", tokenID).Where("user_id = ?", userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("app: revoke token %d: %w", tokenID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("app: revoke token %d: %w", tokenID, ErrNotFound)
	}
	return nil
}

// lastUsedGranularity spares a write per request: last use is recorded at
// most this often per token.
const lastUsedGranularity = time.Minute

// Authenticate finds the user a token speaks for. A token that is not even
// shaped like one of ours is "malformed"; a well-formed one we never issued
// is "unknown"; then it may be revoked or expired. All are EUnauthorized.
func (s *Store) Authenticate(ctx context.Context, secret string) (Viewer, *AccessToken, error) {
	if !WellFormedToken(secret) {
		return Viewer{}, nil, Errorf(EUnauthorized, "Authorization", "malformed token")
	}
	var candidates []*AccessToken
	err := s.db.NewSelect().Model(&candidates).Relation("User").
		Where("access_token.prefix = ?", secret[:tokenLookupLen]).Scan(ctx)
	if err != nil {
		return Viewer{}, nil, fmt.Errorf("app: find token: %w", err)
	}
	want := []byte(hashSecret(secret))
	var found *AccessToken
	for _, t := range candidates {
		if subtle.ConstantTimeCompare([]byte(t.Hash), want) == 1 {
			found = t
		}
	}
	now := s.Now()
	switch {
	case found == nil:
		return Viewer{}, nil, Errorf(EUnauthorized, "Authorization", "unknown token")
	case found.Revoked():
		return Viewer{}, nil, Errorf(EUnauthorized, "Authorization", "revoked token")
	case found.Expired(now):
		return Viewer{}, nil, Errorf(EUnauthorized, "Authorization", "expired token")
	}
	if now.Sub(found.LastUsedAt) >= lastUsedGranularity {
		found.LastUsedAt = now
		if _, err := s.db.NewUpdate().Model(found).Column("last_used_at").WherePK().Exec(ctx); err != nil {
			return Viewer{}, nil, fmt.Errorf("app: record use of token %d: %w", found.ID, err)
		}
	}
	v := Viewer{User: found.User}
	if v.TeamIDs, err = s.teamIDs(ctx, found.UserID); err != nil {
		return Viewer{}, nil, err
	}
	return v, found, nil
}
