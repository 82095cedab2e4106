package app

import (
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/uptrace/bun"
	"golang.org/x/text/unicode/norm"
)

// User is a person who signs in and owns items.
type User struct {
	bun.BaseModel `bun:"table:users"`

	ID        int64     `bun:"id,pk,autoincrement"`
	Handle    string    `bun:"handle,notnull,unique"`
	Name      string    `bun:"name,notnull"`
	Email     string    `bun:"email,notnull"`
	AvatarURL string    `bun:"avatar_url,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// DisplayName is the user's name, or their handle when they have none.
func (u *User) DisplayName() string {
	if u.Name != "" {
		return u.Name
	}
	return u.Handle
}

// Initials are up to two letters for an avatar placeholder.
func (u *User) Initials() string {
	var out []rune
	for _, w := range strings.Fields(u.DisplayName()) {
		for _, r := range w {
			out = append(out, unicode.ToUpper(r))
			break
		}
		if len(out) == 2 {
			break
		}
	}
	return string(out)
}

// Team is a group of users whose team-visible items they all see.
type Team struct {
	bun.BaseModel `bun:"table:teams"`

	ID        int64     `bun:"id,pk,autoincrement"`
	Slug      string    `bun:"slug,notnull,unique"`
	Name      string    `bun:"name,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// Role is a member's standing in a team.
type Role string

// The two roles. A team always keeps at least one admin.
const (
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

// Membership places a user in a team.
type Membership struct {
	bun.BaseModel `bun:"table:memberships"`

	TeamID    int64     `bun:"team_id,pk"`
	UserID    int64     `bun:"user_id,pk"`
	Role      Role      `bun:"role,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`

	User *User `bun:"rel:belongs-to,join:user_id=id"`
	Team *Team `bun:"rel:belongs-to,join:team_id=id"`
}

var handleRe = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9_-]{0,38}[a-z0-9])?$`)

// ValidHandle reports whether h is a well-formed, URL-safe handle.
func ValidHandle(h string) bool { return handleRe.MatchString(h) }

var slugRe = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$`)

// ValidSlug reports whether s is shaped like a team's slug. Every slug
// agentdeck makes is; looking up anything else finds nothing, without
// asking the database.
func ValidSlug(s string) bool { return slugRe.MatchString(s) }

// HandleBase turns a provider login or an e-mail address into the base of a
// handle: lower case, ASCII letters and digits, single dashes.
func HandleBase(s string) string {
	if at := strings.IndexByte(s, '@'); at >= 0 {
		s = s[:at]
	}
	return urlSafeName(s, "user")
}

// SlugBase turns a team's name into the base of its slug, the way HandleBase
// does for people.
func SlugBase(name string) string { return urlSafeName(name, "team") }

// urlSafeName keeps the ASCII letters and digits of s, lower-cased, with
// accents dropped and single dashes between words; fallback stands in for an
// empty result.
func urlSafeName(s, fallback string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(strings.ToLower(s)) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case r == '-' || r == '_' || r == '.' || r == ' ' || r == '+':
			if b.Len() > 0 && !dash {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	h := strings.TrimRight(b.String(), "-")
	if len(h) > 32 {
		h = strings.TrimRight(h[:32], "-")
	}
	if h == "" {
		h = fallback
	}
	return h
}
