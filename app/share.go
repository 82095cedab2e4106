package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// ShareLink lets the signed-in members of an item's team read it, even when
// the item is private: how an interactive conversation, which lives in its
// owner's desktop app, is shown to teammates. Only the token's hash is kept.
type ShareLink struct {
	bun.BaseModel `bun:"table:share_links"`

	ItemID    string    `bun:"item_id,pk"`
	Hash      string    `bun:"hash,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// CreateShareLink makes a new share link for one of the viewer's items and
// returns its token, once. An older link of the item stops working.
func (s *Store) CreateShareLink(ctx context.Context, v Viewer, itemID string) (string, error) {
	it, err := s.ownRun(ctx, s.db, v, itemID, false)
	if err != nil {
		return "", err
	}
	if it.TeamID == 0 {
		return "", Errorf(EUnprocessable, "team", "this item belongs to no team, so there is no one to share it with")
	}
	var b [24]byte
	rand.Read(b[:])
	token := base64.RawURLEncoding.EncodeToString(b[:])
	link := &ShareLink{ItemID: it.ID, Hash: hashSecret(token), CreatedAt: s.Now()}
	_, err = s.db.NewInsert().Model(link).
		On("CONFLICT (item_id) DO UPDATE").Set("hash = EXCLUDED.hash").Set("created_at = EXCLUDED.created_at").
		Exec(ctx)
	if err != nil {
		return "", fmt.Errorf("app: share %s: %w", itemID, err)
	}
	return token, nil
}

// ShareLinkOf returns the live share link of one of the viewer's items, or
// ErrNotFound when it has none.
func (s *Store) ShareLinkOf(ctx context.Context, v Viewer, itemID string) (*ShareLink, error) {
	if _, err := s.ownRun(ctx, s.db, v, itemID, false); err != nil {
		return nil, err
	}
	link := new(ShareLink)
	if err := s.db.NewSelect().Model(link).Where("item_id = ?", itemID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("app: share link of %s: %w", itemID, notFound(err))
	}
	return link, nil
}

// RevokeShareLink ends an item's share link at once; without one, nothing
// changes.
func (s *Store) RevokeShareLink(ctx context.Context, v Viewer, itemID string) error {
	if _, err := s.ownRun(ctx, s.db, v, itemID, false); err != nil {
		return err
	}
	if _, err := s.db.NewDelete().Model((*ShareLink)(nil)).Where("item_id = ?", itemID).Exec(ctx); err != nil {
		return fmt.Errorf("app: revoke share link of %s: %w", itemID, err)
	}
	return nil
}

// SharedItem returns the item a share token opens, when the viewer may read
// it through the link; otherwise ErrNotFound, so that a link never tells an
// outsider that it exists.
func (s *Store) SharedItem(ctx context.Context, v Viewer, token string) (*Item, error) {
	if token == "" || len(token) > 100 {
		return nil, ErrNotFound
	}
	link := new(ShareLink)
	if err := s.db.NewSelect().Model(link).Where("hash = ?", hashSecret(token)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("app: share link: %w", notFound(err))
	}
	it, err := s.itemByID(ctx, s.db, link.ItemID)
	if err != nil {
		return nil, err
	}
	if !v.CanSeeShared(it) {
		return nil, fmt.Errorf("app: shared item %s: %w", it.ID, ErrNotFound)
	}
	return it, nil
}
