package app

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// InviteLifetime is how long an invite link lets people join a team.
const InviteLifetime = 7 * 24 * time.Hour

// Invite is a link that lets whoever holds it join a team until it expires
// or an admin revokes it. Only a hash of its token is stored, so the link
// can be copied when it is made and never again.
type Invite struct {
	bun.BaseModel `bun:"table:team_invites,alias:invite"`

	ID        int64     `bun:"id,pk,autoincrement"`
	TeamID    int64     `bun:"team_id,notnull"`
	TokenHash string    `bun:"token_hash,notnull"`
	CreatedBy int64     `bun:"created_by,nullzero"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	ExpiresAt time.Time `bun:"expires_at,notnull"`
	RevokedAt time.Time `bun:"revoked_at,nullzero"`

	Team    *Team `bun:"rel:belongs-to,join:team_id=id"`
	Creator *User `bun:"rel:belongs-to,join:created_by=id"`
}

// ErrInviteNotFound is the answer for an invite link that does not work,
// whatever the reason, so that a guessed link learns nothing.
var ErrInviteNotFound = Errorf(ENotFound, "token", "this invite link is unknown, has expired or was revoked; ask a team admin for a new one")

// CheckTeamName trims a team's name and checks it: 1 to 60 characters, none
// of them control characters.
func CheckTeamName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "", Errorf(EInvalid, "name", "a team needs a name")
	case n > 60:
		return "", Errorf(EInvalid, "name", "a team's name has at most 60 characters")
	}
	// A name is refused rather than cleaned (see CleanText): it is what
	// people know the team by.
	if strings.IndexFunc(name, unicode.IsControl) >= 0 || !IsCleanText(name) {
		return "", Errorf(EInvalid, "name", "a team's name cannot contain control characters or invalid UTF-8")
	}
	return name, nil
}

// Membership returns the viewer's membership of the team with the given
// slug, team included. It is ErrNotFound both when there is no such team and
// when the viewer is not in it: a team shows only to its members.
func (s *Store) Membership(ctx context.Context, v Viewer, slug string) (*Membership, error) {
	if !ValidSlug(slug) {
		return nil, fmt.Errorf("app: team %q of user %d: %w", CleanText(slug), v.User.ID, ErrNotFound)
	}
	m := new(Membership)
	err := s.db.NewSelect().Model(m).Relation("Team").
		Where("team.slug = ?", slug).Where("membership.user_id = ?", v.User.ID).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("app: team %q of user %d: %w", slug, v.User.ID, notFound(err))
	}
	return m, nil
}

// TeamsOf returns the viewer's memberships with their teams, by team name.
func (s *Store) TeamsOf(ctx context.Context, v Viewer) ([]*Membership, error) {
	var ms []*Membership
	err := s.db.NewSelect().Model(&ms).Relation("Team").
		Where("membership.user_id = ?", v.User.ID).OrderExpr("team.name, team.slug").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("app: teams of user %d: %w", v.User.ID, err)
	}
	return ms, nil
}

// Members returns the members of one of the viewer's teams, users included:
// admins first, then by name.
func (s *Store) Members(ctx context.Context, v Viewer, teamID int64) ([]*Membership, error) {
	if !v.InTeam(teamID) {
		return nil, ErrNotFound
	}
	var ms []*Membership
	err := s.db.NewSelect().Model(&ms).Relation("User").
		Where("membership.team_id = ?", teamID).
		OrderExpr("CASE WHEN membership.role = ? THEN 0 ELSE 1 END, \"user\".name, \"user\".handle", RoleAdmin).
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("app: members of team %d: %w", teamID, err)
	}
	return ms, nil
}

// roleIn returns userID's role in a team, ErrNotFound when they are not in
// it. On PostgreSQL it first locks the team's row, so that changes to one
// team's members take turns and two admins stepping down at once cannot
// both pass the last-admin check; SQLite's write transactions take turns
// already.
func (s *Store) roleIn(ctx context.Context, tx bun.Tx, teamID, userID int64) (Role, error) {
	if s.dialect == "postgres" {
		var id int64
		if err := tx.NewSelect().Model((*Team)(nil)).Column("id").Where("id = ?", teamID).For("UPDATE").Scan(ctx, &id); err != nil {
			return "", fmt.Errorf("app: lock team %d: %w", teamID, notFound(err))
		}
	}
	var role Role
	err := tx.NewSelect().Model((*Membership)(nil)).Column("role").
		Where("team_id = ? AND user_id = ?", teamID, userID).Scan(ctx, &role)
	if err != nil {
		return "", fmt.Errorf("app: role of user %d in team %d: %w", userID, teamID, notFound(err))
	}
	return role, nil
}

// requireAdmin lets only the team's admins on: a member who is not one is
// refused, and for anyone else the team does not exist.
func (s *Store) requireAdmin(ctx context.Context, tx bun.Tx, teamID int64, v Viewer) error {
	role, err := s.roleIn(ctx, tx, teamID, v.User.ID)
	if err != nil {
		return err
	}
	if role != RoleAdmin {
		return Errorf(EForbidden, "", "only the team's admins may do this")
	}
	return nil
}

// CheckCanLeave says, before anyone is asked to confirm, whether userID may
// leave a team (or be removed from it): not when they are its last admin.
func (s *Store) CheckCanLeave(ctx context.Context, teamID, userID int64) error {
	return s.inTx(ctx, func(tx bun.Tx) error {
		role, err := s.roleIn(ctx, tx, teamID, userID)
		if err != nil {
			return Errorf(ENotFound, "user", "that person is not in the team")
		}
		if role == RoleAdmin {
			return keepAnAdmin(ctx, tx, teamID, userID, "leaving")
		}
		return nil
	})
}

// keepAnAdmin refuses to take admin rights from userID when no other admin
// would be left: a team always keeps at least one.
func keepAnAdmin(ctx context.Context, tx bun.Tx, teamID, userID int64, action string) error {
	others, err := tx.NewSelect().Model((*Membership)(nil)).
		Where("team_id = ? AND role = ? AND user_id <> ?", teamID, RoleAdmin, userID).Count(ctx)
	if err != nil {
		return fmt.Errorf("app: count admins of team %d: %w", teamID, err)
	}
	if others == 0 {
		return Errorf(EConflict, "role", "a team needs at least one admin: make another member an admin before %s", action)
	}
	return nil
}

// RenameTeam gives a team a new name; its slug, and so every link to it,
// stays. Only an admin may.
func (s *Store) RenameTeam(ctx context.Context, v Viewer, teamID int64, name string) error {
	name, err := CheckTeamName(name)
	if err != nil {
		return err
	}
	err = s.inTx(ctx, func(tx bun.Tx) error {
		if err := s.requireAdmin(ctx, tx, teamID, v); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model((*Team)(nil)).Set("name = ?", name).Where("id = ?", teamID).Exec(ctx); err != nil {
			return fmt.Errorf("app: rename team %d: %w", teamID, err)
		}
		return nil
	})
	if err == nil {
		s.changed(Hint{TeamChanged: teamID})
	}
	return err
}

// SetRole makes a member an admin or a plain member. Only an admin may, and
// the last admin cannot step down.
func (s *Store) SetRole(ctx context.Context, v Viewer, teamID, userID int64, role Role) error {
	if role != RoleAdmin && role != RoleMember {
		return Errorf(EInvalid, "role", "unknown role %q", role)
	}
	err := s.inTx(ctx, func(tx bun.Tx) error {
		if err := s.requireAdmin(ctx, tx, teamID, v); err != nil {
			return err
		}
		current, err := s.roleIn(ctx, tx, teamID, userID)
		if err != nil {
			return Errorf(ENotFound, "user", "that person is not in the team")
		}
		if current == role {
			return nil
		}
		if role == RoleMember {
			if err := keepAnAdmin(ctx, tx, teamID, userID, "stepping down"); err != nil {
				return err
			}
		}
		_, err = tx.NewUpdate().Model((*Membership)(nil)).Set("role = ?", role).
			Where("team_id = ? AND user_id = ?", teamID, userID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("app: set role of user %d in team %d: %w", userID, teamID, err)
		}
		return nil
	})
	if err == nil {
		// An admin manages the team's saved views.
		s.changed(Hint{UserChanged: userID})
	}
	return err
}

// RemoveMember takes someone out of a team: an admin may remove anyone, and
// every member may remove themselves, which is leaving. The last admin
// cannot leave. Their sight of the team's items ends with the change.
func (s *Store) RemoveMember(ctx context.Context, v Viewer, teamID, userID int64) error {
	err := s.inTx(ctx, func(tx bun.Tx) error {
		if userID != v.User.ID {
			if err := s.requireAdmin(ctx, tx, teamID, v); err != nil {
				return err
			}
		}
		role, err := s.roleIn(ctx, tx, teamID, userID)
		if err != nil {
			return Errorf(ENotFound, "user", "that person is not in the team")
		}
		if role == RoleAdmin {
			if err := keepAnAdmin(ctx, tx, teamID, userID, "leaving"); err != nil {
				return err
			}
		}
		_, err = tx.NewDelete().Model((*Membership)(nil)).Where("team_id = ? AND user_id = ?", teamID, userID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("app: remove user %d from team %d: %w", userID, teamID, err)
		}
		if userID != v.User.ID {
			// An admin's removal outlasts the invite links made before it.
			removal := &teamRemoval{TeamID: teamID, UserID: userID, RemovedAt: s.Now()}
			_, err = tx.NewInsert().Model(removal).On("CONFLICT (team_id, user_id) DO UPDATE").Set("removed_at = EXCLUDED.removed_at").Exec(ctx)
			if err != nil {
				return fmt.Errorf("app: record the removal of user %d from team %d: %w", userID, teamID, err)
			}
		}
		return nil
	})
	if err == nil {
		s.changed(Hint{UserChanged: userID})
	}
	return err
}

// teamRemoval records that an admin took someone out of a team.
type teamRemoval struct {
	bun.BaseModel `bun:"table:team_removals"`

	TeamID    int64     `bun:"team_id,pk"`
	UserID    int64     `bun:"user_id,pk"`
	RemovedAt time.Time `bun:"removed_at,notnull"`
}

// ErrRemovedSinceInvite refuses an invite link to someone an admin removed
// from the team after the link was made.
var ErrRemovedSinceInvite = Errorf(EForbidden, "token", "an admin removed you from this team after this invite link was made; ask an admin for a new link")

// CreateInvite makes a new invite link to a team, valid for InviteLifetime,
// and returns its token: the only time the token is known. Only an admin may.
func (s *Store) CreateInvite(ctx context.Context, v Viewer, teamID int64) (string, *Invite, error) {
	token, hash := newSecret()
	now := s.Now()
	inv := &Invite{TeamID: teamID, TokenHash: hash, CreatedBy: v.User.ID, CreatedAt: now, ExpiresAt: now.Add(InviteLifetime), Creator: v.User}
	err := s.inTx(ctx, func(tx bun.Tx) error {
		if err := s.requireAdmin(ctx, tx, teamID, v); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(inv).Exec(ctx); err != nil {
			return fmt.Errorf("app: create invite to team %d: %w", teamID, err)
		}
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	return token, inv, nil
}

// Invites returns a team's invite links that still work, newest first, with
// who made them. Only an admin may see them.
func (s *Store) Invites(ctx context.Context, v Viewer, teamID int64) ([]*Invite, error) {
	var invites []*Invite
	err := s.inTx(ctx, func(tx bun.Tx) error {
		if err := s.requireAdmin(ctx, tx, teamID, v); err != nil {
			return err
		}
		return tx.NewSelect().Model(&invites).Relation("Creator").
			Where("invite.team_id = ?", teamID).Where("invite.revoked_at IS NULL").Where("invite.expires_at > ?", s.Now()).
			OrderExpr("invite.created_at DESC, invite.id DESC").Scan(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("app: invites of team %d: %w", teamID, err)
	}
	return invites, nil
}

// RevokeInvite stops an invite link from working. Only an admin may.
func (s *Store) RevokeInvite(ctx context.Context, v Viewer, teamID, inviteID int64) error {
	return s.inTx(ctx, func(tx bun.Tx) error {
		if err := s.requireAdmin(ctx, tx, teamID, v); err != nil {
			return err
		}
		res, err := tx.NewUpdate().Model((*Invite)(nil)).Set("revoked_at = ?", s.Now()).
			Where("id = ? AND team_id = ? AND revoked_at IS NULL", inviteID, teamID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("app: revoke invite %d: %w", inviteID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return Errorf(ENotFound, "invite", "there is no such invite link, or it was revoked already")
		}
		return nil
	})
}

// InviteByToken returns the working invite link with the given token, team
// included, or ErrInviteNotFound.
func (s *Store) InviteByToken(ctx context.Context, token string) (*Invite, error) {
	return inviteByToken(ctx, s.db, token, s.Now())
}

func inviteByToken(ctx context.Context, db bun.IDB, token string, now time.Time) (*Invite, error) {
	inv := new(Invite)
	err := db.NewSelect().Model(inv).Relation("Team").
		Where("invite.token_hash = ?", secretHash(token)).
		Where("invite.revoked_at IS NULL").Where("invite.expires_at > ?", now).Scan(ctx)
	if err != nil {
		if err = notFound(err); err == ErrNotFound {
			return nil, ErrInviteNotFound
		}
		return nil, fmt.Errorf("app: invite: %w", err)
	}
	return inv, nil
}

// AcceptInvite puts the viewer in the team of a working invite link, as a
// member, and returns the team. Accepting again, or as a member already,
// changes nothing.
func (s *Store) AcceptInvite(ctx context.Context, v Viewer, token string) (*Team, error) {
	var team *Team
	err := s.inTx(ctx, func(tx bun.Tx) error {
		inv, err := inviteByToken(ctx, tx, token, s.Now())
		if err != nil {
			return err
		}
		team = inv.Team
		removedAfter, err := tx.NewSelect().Model((*teamRemoval)(nil)).
			Where("team_id = ? AND user_id = ? AND removed_at >= ?", inv.TeamID, v.User.ID, inv.CreatedAt).Exists(ctx)
		if err != nil {
			return fmt.Errorf("app: removals from team %d: %w", inv.TeamID, err)
		}
		if removedAfter {
			return ErrRemovedSinceInvite
		}
		m := &Membership{TeamID: inv.TeamID, UserID: v.User.ID, Role: RoleMember, CreatedAt: s.Now()}
		if _, err := tx.NewInsert().Model(m).On("CONFLICT (team_id, user_id) DO NOTHING").Exec(ctx); err != nil {
			return fmt.Errorf("app: join team %d: %w", inv.TeamID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.changed(Hint{UserChanged: v.User.ID})
	return team, nil
}
