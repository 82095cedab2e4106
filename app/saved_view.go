package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// SavedView is a view kept under a name: a stored query string, so that
// everything the URL can say a view can keep. It is its owner's alone, or
// shared with one of their teams; whoever opens it sees it with their own
// visibility, as with any link.
type SavedView struct {
	bun.BaseModel `bun:"table:saved_views"`

	ID        int64     `bun:"id,pk,autoincrement"`
	OwnerID   int64     `bun:"owner_id,notnull"`
	TeamID    int64     `bun:"team_id,nullzero"`
	Name      string    `bun:"name,notnull"`
	Query     string    `bun:"query,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`

	Owner *User `bun:"rel:belongs-to,join:owner_id=id"`
	Team  *Team `bun:"rel:belongs-to,join:team_id=id"`

	// Landing says it is the viewer's landing view, and Manage that the
	// viewer may rename and delete it; both are filled as it is read.
	Landing bool `bun:"-"`
	Manage  bool `bun:"-"`
}

// landingView is a person's choice of the view they land on.
type landingView struct {
	bun.BaseModel `bun:"table:landing_views"`

	UserID int64 `bun:"user_id,pk"`
	ViewID int64 `bun:"view_id,notnull"`
}

// MaxSavedViews is how many views one person may save.
const MaxSavedViews = 50

// maxViewName bounds a saved view's name, in characters.
const maxViewName = 60

// checkViewName trims a view's name and checks it: it is what people pick
// the view by, so, like a team's name, it is refused rather than cleaned.
func checkViewName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", Errorf(EInvalid, "name", "a saved view needs a name")
	case utf8.RuneCountInString(name) > maxViewName:
		return "", Errorf(EInvalid, "name", "a view's name has at most %d characters", maxViewName)
	case !IsCleanText(name) || strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", Errorf(EInvalid, "name", "a view's name cannot contain control characters or invalid UTF-8")
	}
	return name, nil
}

// SavedQuery is the query string a view is kept as: the filter without its
// page and its zone (each viewer reads days in their own).
func SavedQuery(f Filter) string {
	f.Cursor, f.TZ = "", ""
	return f.Encode()
}

// checkViewQuery reads a query string to save: what a view could not use is
// refused, so that a saved view always means what it says.
func checkViewQuery(raw string) (string, error) {
	if len(raw) > 4096 {
		return "", Errorf(EInvalid, "query", "the view's address is too long to save")
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "", Errorf(EInvalid, "query", "the view's address is malformed")
	}
	f, problems := ParseFilter(q)
	if len(problems) > 0 {
		return "", Errorf(EInvalid, "query", "%s", problems[0].Message)
	}
	return SavedQuery(f), nil
}

// NewSavedView is what saving a view asks for. TeamSlug shares it with one
// of the owner's teams; Landing makes it the owner's landing view.
type NewSavedView struct {
	Name, Query, TeamSlug string
	Landing               bool
}

// SaveView keeps a view for the viewer, or for one of their teams.
func (s *Store) SaveView(ctx context.Context, v Viewer, n NewSavedView) (*SavedView, error) {
	name, err := checkViewName(n.Name)
	if err != nil {
		return nil, err
	}
	query, err := checkViewQuery(n.Query)
	if err != nil {
		return nil, err
	}
	sv := &SavedView{OwnerID: v.User.ID, Name: name, Query: query}
	if n.TeamSlug != "" {
		m, err := s.Membership(ctx, v, n.TeamSlug)
		if err != nil {
			return nil, Errorf(ENotFound, "team", "you are not in a team %q", CleanText(n.TeamSlug))
		}
		sv.TeamID, sv.Team = m.TeamID, m.Team
	}
	err = s.inTx(ctx, func(tx bun.Tx) error {
		count, err := tx.NewSelect().Model((*SavedView)(nil)).Where("owner_id = ?", v.User.ID).Count(ctx)
		if err != nil {
			return fmt.Errorf("app: count saved views of user %d: %w", v.User.ID, err)
		}
		if count >= MaxSavedViews {
			return Errorf(EUnprocessable, "name", "you have saved %d views, the most one may keep: delete one first", MaxSavedViews)
		}
		sv.CreatedAt, sv.UpdatedAt = s.Now(), s.Now()
		if _, err := tx.NewInsert().Model(sv).Exec(ctx); err != nil {
			return fmt.Errorf("app: save view: %w", err)
		}
		if n.Landing {
			return setLanding(ctx, tx, v.User.ID, sv.ID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.changed(Hint{SavedViewsChanged: true})
	sv.Landing, sv.Manage = n.Landing, true
	return sv, nil
}

// visibleViews selects the saved views the viewer sees: their own, and
// those shared with a team they are in.
func (s *Store) visibleViews(v Viewer) *bun.SelectQuery {
	teams := v.TeamIDs
	if len(teams) == 0 {
		teams = []int64{0}
	}
	return s.db.NewSelect().
		Where("(saved_view.owner_id = ? AND saved_view.team_id IS NULL) OR saved_view.team_id IN (?)", v.User.ID, bun.In(teams))
}

// SavedViews lists the views the viewer sees: their own first, then each
// team's, by name.
func (s *Store) SavedViews(ctx context.Context, v Viewer) ([]*SavedView, error) {
	if views, ok := forViewer(s.cache, s.cache.savedViews, v.User.ID, v, clonePointers); ok {
		return views, nil
	}
	gen, caching := s.cache.begin()
	var views []*SavedView
	err := s.visibleViews(v).Model(&views).Relation("Owner").Relation("Team").
		OrderExpr("CASE WHEN saved_view.team_id IS NULL THEN 0 ELSE 1 END, team.name, saved_view.name, saved_view.id").
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("app: saved views of user %d: %w", v.User.ID, err)
	}
	if err := s.markViews(ctx, v, views); err != nil {
		return nil, err
	}
	if caching {
		keepForViewer(s.cache, gen, s.cache.savedViews, v.User.ID, v, views, clonePointers)
	}
	return views, nil
}

// markViews fills in which view is the viewer's landing view and which they
// may manage: their own, and as a team's admin the team's.
func (s *Store) markViews(ctx context.Context, v Viewer, views []*SavedView) error {
	if len(views) == 0 {
		return nil
	}
	landing, err := s.landingID(ctx, v.User.ID)
	if err != nil {
		return err
	}
	var adminOf []int64
	err = s.db.NewSelect().Model((*Membership)(nil)).Column("team_id").
		Where("user_id = ? AND role = ?", v.User.ID, RoleAdmin).Scan(ctx, &adminOf)
	if err != nil {
		return fmt.Errorf("app: teams user %d administers: %w", v.User.ID, err)
	}
	for _, sv := range views {
		sv.Landing = sv.ID == landing
		sv.Manage = sv.OwnerID == v.User.ID || sv.TeamID != 0 && slices.Contains(adminOf, sv.TeamID)
	}
	return nil
}

func (s *Store) landingID(ctx context.Context, userID int64) (int64, error) {
	var ids []int64
	err := s.db.NewSelect().Model((*landingView)(nil)).Column("view_id").Where("user_id = ?", userID).Scan(ctx, &ids)
	if err != nil {
		return 0, fmt.Errorf("app: landing view of user %d: %w", userID, err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return ids[0], nil
}

// SavedView returns one view the viewer sees, ErrNotFound otherwise.
func (s *Store) SavedView(ctx context.Context, v Viewer, id int64) (*SavedView, error) {
	sv := new(SavedView)
	err := s.visibleViews(v).Model(sv).Relation("Owner").Relation("Team").Where("saved_view.id = ?", id).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("app: saved view %d: %w", id, notFound(err))
	}
	if err := s.markViews(ctx, v, []*SavedView{sv}); err != nil {
		return nil, err
	}
	return sv, nil
}

// LandingView is the view the viewer lands on at /, nil when they chose
// none or no longer see the one they chose (they left its team).
func (s *Store) LandingView(ctx context.Context, v Viewer) (*SavedView, error) {
	id, err := s.landingID(ctx, v.User.ID)
	if err != nil || id == 0 {
		return nil, err
	}
	sv, err := s.SavedView(ctx, v, id)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return sv, err
}

// managed returns a view the viewer may manage: ErrNotFound when they do
// not see it, forbidden when they see but may not change it.
func (s *Store) managed(ctx context.Context, v Viewer, id int64) (*SavedView, error) {
	sv, err := s.SavedView(ctx, v, id)
	if err != nil {
		return nil, err
	}
	if !sv.Manage {
		return nil, Errorf(EForbidden, "", "only its owner and the team's admins may change a team's view")
	}
	return sv, nil
}

// RenameView gives a saved view a new name.
func (s *Store) RenameView(ctx context.Context, v Viewer, id int64, name string) error {
	name, err := checkViewName(name)
	if err != nil {
		return err
	}
	if _, err := s.managed(ctx, v, id); err != nil {
		return err
	}
	_, err = s.db.NewUpdate().Model((*SavedView)(nil)).Set("name = ?", name).Set("updated_at = ?", s.Now()).
		Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("app: rename view %d: %w", id, err)
	}
	s.changed(Hint{SavedViewsChanged: true})
	return nil
}

// DeleteView deletes a saved view; it stops being anyone's landing view.
func (s *Store) DeleteView(ctx context.Context, v Viewer, id int64) error {
	if _, err := s.managed(ctx, v, id); err != nil {
		return err
	}
	err := s.inTx(ctx, func(tx bun.Tx) error {
		if _, err := tx.NewDelete().Model((*landingView)(nil)).Where("view_id = ?", id).Exec(ctx); err != nil {
			return fmt.Errorf("app: forget view %d as a landing view: %w", id, err)
		}
		if _, err := tx.NewDelete().Model((*SavedView)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
			return fmt.Errorf("app: delete view %d: %w", id, err)
		}
		return nil
	})
	if err == nil {
		s.changed(Hint{SavedViewsChanged: true})
	}
	return err
}

// SetLandingView makes a view the viewer sees their landing view; id 0
// brings back the plain Personal tab.
func (s *Store) SetLandingView(ctx context.Context, v Viewer, id int64) error {
	if id != 0 {
		if _, err := s.SavedView(ctx, v, id); err != nil {
			return err
		}
	}
	err := s.inTx(ctx, func(tx bun.Tx) error { return setLanding(ctx, tx, v.User.ID, id) })
	if err == nil {
		s.changed(Hint{SavedViewsChanged: true})
	}
	return err
}

func setLanding(ctx context.Context, tx bun.Tx, userID, viewID int64) error {
	if _, err := tx.NewDelete().Model((*landingView)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("app: clear landing view of user %d: %w", userID, err)
	}
	if viewID == 0 {
		return nil
	}
	if _, err := tx.NewInsert().Model(&landingView{UserID: userID, ViewID: viewID}).Exec(ctx); err != nil {
		return fmt.Errorf("app: set landing view of user %d: %w", userID, err)
	}
	return nil
}
