package app

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/uptrace/bun"
)

// isUniqueViolation recognises a unique-constraint failure on both databases.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "SQLSTATE 23505") || strings.Contains(msg, "UNIQUE constraint failed")
}

// CreateUser stores a new user; their handle must be valid and free. Their
// name, e-mail address and avatar are reported text, cleaned (CleanText).
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	if !ValidHandle(u.Handle) {
		return Errorf(EInvalid, "handle", "%q is not a valid handle", CleanText(u.Handle))
	}
	u.Name, u.Email, u.AvatarURL = CleanText(u.Name), CleanText(u.Email), CleanText(u.AvatarURL)
	if u.CreatedAt.IsZero() {
		u.CreatedAt = s.Now()
	}
	if _, err := s.db.NewInsert().Model(u).Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return Errorf(EConflict, "handle", "the handle %q is taken", u.Handle)
		}
		return fmt.Errorf("app: create user %s: %w", u.Handle, err)
	}
	return nil
}

// User returns the user with the given id.
func (s *Store) User(ctx context.Context, id int64) (*User, error) {
	u := new(User)
	if err := s.db.NewSelect().Model(u).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, fmt.Errorf("app: user %d: %w", id, notFound(err))
	}
	return u, nil
}

// UserByHandle returns the user with the given handle. A handle that no
// user could have is not found without asking the database.
func (s *Store) UserByHandle(ctx context.Context, handle string) (*User, error) {
	if !ValidHandle(handle) {
		return nil, fmt.Errorf("app: user %q: %w", CleanText(handle), ErrNotFound)
	}
	u := new(User)
	if err := s.db.NewSelect().Model(u).Where("handle = ?", handle).Scan(ctx); err != nil {
		return nil, fmt.Errorf("app: user %q: %w", handle, notFound(err))
	}
	return u, nil
}

// DeleteUser removes a user and, with them, everything that is theirs: their
// sessions, tokens, memberships and items. Every replica forgets them at
// once: their sessions end, with their live streams, and every view is read
// again.
func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	var sessions []string
	err := s.inTx(ctx, func(tx bun.Tx) error {
		if err := tx.NewSelect().Model((*Session)(nil)).Column("id_hash").Where("user_id = ?", id).Scan(ctx, &sessions); err != nil {
			return fmt.Errorf("app: sessions of user %d: %w", id, err)
		}
		res, err := tx.NewDelete().Model((*User)(nil)).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("app: delete user %d: %w", id, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("app: delete user %d: %w", id, err)
		}
		if n == 0 {
			return fmt.Errorf("app: delete user %d: %w", id, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return err
	}
	hints := []Hint{{UserChanged: id}, {}} // {}: their items left every view
	for _, hash := range sessions {
		hints = append(hints, Hint{SessionEnded: hash})
	}
	s.changed(hints...)
	return nil
}

// Users returns every user, by name.
func (s *Store) Users(ctx context.Context) ([]*User, error) {
	var users []*User
	if err := s.db.NewSelect().Model(&users).OrderExpr("name, handle").Scan(ctx); err != nil {
		return nil, fmt.Errorf("app: users: %w", err)
	}
	return users, nil
}

// CreateTeam stores a new team with its creator as the first admin. A team
// without a slug gets one made from its name and a random suffix
// (platform-k3v9qa), never from the slugs other teams have: a slug that
// depended on them (platform-2 because platform is taken) would tell anyone
// who creates a team which teams exist, though they may not see them.
func (s *Store) CreateTeam(ctx context.Context, t *Team, creatorID int64) error {
	name, err := CheckTeamName(t.Name)
	if err != nil {
		return err
	}
	t.Name = name
	now := s.Now()
	t.CreatedAt = now
	chosen := t.Slug
	if chosen != "" && !ValidSlug(chosen) {
		return Errorf(EInvalid, "slug", "%q is not a valid slug", CleanText(chosen))
	}
	for attempt := 1; ; attempt++ {
		t.Slug = chosen
		if t.Slug == "" {
			t.Slug = SlugBase(t.Name) + "-" + slugSuffix()
		}
		err = s.inTx(ctx, func(tx bun.Tx) error {
			t.ID = 0 // a transaction run again inserts afresh
			if _, err := tx.NewInsert().Model(t).Exec(ctx); err != nil {
				if isUniqueViolation(err) {
					return Errorf(EConflict, "slug", "the team's address %q is taken", t.Slug)
				}
				return fmt.Errorf("app: create team %s: %w", t.Slug, err)
			}
			m := &Membership{TeamID: t.ID, UserID: creatorID, Role: RoleAdmin, CreatedAt: now}
			if _, err := tx.NewInsert().Model(m).Exec(ctx); err != nil {
				return fmt.Errorf("app: create team %s: add admin: %w", t.Slug, err)
			}
			return nil
		})
		if err == nil {
			s.changed(Hint{UserChanged: creatorID})
		}
		// Two random suffixes meet about once in a billion creations of
		// one name; drawing again says nothing about any team.
		if chosen == "" && ErrorCode(err) == EConflict && attempt < 3 {
			continue
		}
		return err
	}
}

// slugSuffixLen random letters and digits end every slug agentdeck makes:
// 36⁶, some two billion, per name.
const slugSuffixLen = 6

// slugSuffix draws a slug's random suffix.
func slugSuffix() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, slugSuffixLen)
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return string(b)
}

// AddMember puts a user in a team; being a member already is not an error.
func (s *Store) AddMember(ctx context.Context, teamID, userID int64, role Role) error {
	m := &Membership{TeamID: teamID, UserID: userID, Role: role, CreatedAt: s.Now()}
	if _, err := s.db.NewInsert().Model(m).On("CONFLICT (team_id, user_id) DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("app: add user %d to team %d: %w", userID, teamID, err)
	}
	s.changed(Hint{UserChanged: userID})
	return nil
}

// Viewer loads a user and the teams they belong to, from memory unless
// they changed (see storeCache).
func (s *Store) Viewer(ctx context.Context, userID int64) (Viewer, error) {
	if e, ok := lookup(s.cache, s.cache.viewers, userID); ok {
		return e.value.clone(), nil
	}
	gen, caching := s.cache.begin()
	u, err := s.User(ctx, userID)
	if err != nil {
		return Viewer{}, err
	}
	v := Viewer{User: u}
	if v.TeamIDs, err = s.teamIDs(ctx, userID); err != nil {
		return Viewer{}, err
	}
	if caching {
		keep(s.cache, gen, s.cache.viewers, userID, v.clone(), nil, maxCachedViewers)
	}
	return v, nil
}

// teamIDs lists the teams a user belongs to.
func (s *Store) teamIDs(ctx context.Context, userID int64) ([]int64, error) {
	var ids []int64
	err := s.db.NewSelect().Model((*Membership)(nil)).Column("team_id").
		Where("user_id = ?", userID).Order("team_id").Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("app: teams of user %d: %w", userID, err)
	}
	return ids, nil
}

// Viewers loads many users and their teams at once, keyed by user id; ids of
// users that no longer exist are left out.
func (s *Store) Viewers(ctx context.Context, userIDs []int64) (map[int64]Viewer, error) {
	out := map[int64]Viewer{}
	if len(userIDs) == 0 {
		return out, nil
	}
	var users []*User
	if err := s.db.NewSelect().Model(&users).Where("id IN (?)", bun.In(userIDs)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("app: users %v: %w", userIDs, err)
	}
	var members []Membership
	err := s.db.NewSelect().Model(&members).Column("team_id", "user_id").
		Where("user_id IN (?)", bun.In(userIDs)).Order("user_id", "team_id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("app: teams of users %v: %w", userIDs, err)
	}
	for _, u := range users {
		out[u.ID] = Viewer{User: u}
	}
	for _, m := range members {
		if v, ok := out[m.UserID]; ok {
			v.TeamIDs = append(v.TeamIDs, m.TeamID)
			out[m.UserID] = v
		}
	}
	return out, nil
}

// Teammates returns the viewer and everyone who shares a team with them, by
// name: the people the creator filter offers.
func (s *Store) Teammates(ctx context.Context, v Viewer) ([]*User, error) {
	if users, ok := forViewer(s.cache, s.cache.teammates, v.User.ID, v, clonePointers); ok {
		return users, nil
	}
	gen, caching := s.cache.begin()
	var users []*User
	q := s.db.NewSelect().Model(&users).Where("id = ?", v.User.ID)
	if len(v.TeamIDs) > 0 {
		q = q.WhereOr("id IN (?)", s.db.NewSelect().Model((*Membership)(nil)).Column("user_id").
			Where("team_id IN (?)", bun.In(v.TeamIDs)))
	}
	if err := q.OrderExpr("name, handle").Scan(ctx); err != nil {
		return nil, fmt.Errorf("app: teammates of user %d: %w", v.User.ID, err)
	}
	if caching {
		keepForViewer(s.cache, gen, s.cache.teammates, v.User.ID, v, users, clonePointers)
	}
	return users, nil
}
