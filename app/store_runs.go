package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 200

// CreateRun stores an item for the viewer from an API request. It is
// idempotent: replaying the same request (same id, or same Idempotency-Key)
// returns the stored item with created false; the same id or key with a
// different request is a conflict. Concurrent duplicates create one item.
func (s *Store) CreateRun(ctx context.Context, v Viewer, n NewRun) (*Item, bool, error) {
	if len(n.IdempotencyKey) > maxIdempotencyKey || !utf8.ValidString(n.IdempotencyKey) {
		return nil, false, Errorf(EInvalid, "Idempotency-Key", "the Idempotency-Key must be text of at most %d bytes", maxIdempotencyKey)
	}
	if n.ID != "" && !validItemID(n.ID) {
		return nil, false, Errorf(EInvalid, "id", "the id must be a lower-case UUID")
	}
	if n.Kind == "" {
		return nil, false, Errorf(EInvalid, "kind", "kind is required (ambient or interactive)")
	}
	if err := CheckOpenURL(n.OpenURL); err != nil {
		return nil, false, err
	}
	if err := CheckExternalURL(n.ExternalURL); err != nil {
		return nil, false, err
	}
	now := s.Now()
	it := &Item{
		ID: n.ID, Kind: n.Kind, Source: n.Source, Status: n.Status, Title: n.Title,
		CreatorID: v.User.ID, Visibility: n.Visibility, OpenURL: n.OpenURL, ExternalURL: n.ExternalURL,
		StartedAt: n.StartedAt.UTC().Truncate(time.Microsecond),
		CreateKey: n.IdempotencyKey, CreateHash: n.fingerprint(),
	}
	if it.Source == "" {
		it.Source = SourceAPI
		if it.Kind == KindInteractive {
			it.Source = SourceInteractive
		}
	}
	if n.Team != "" {
		team, err := s.teamOf(ctx, v, n.Team)
		if err != nil {
			return nil, false, err
		}
		it.TeamID = team.ID
	}
	if it.Visibility == "" && it.TeamID == 0 {
		it.Visibility = VisibilityPrivate
	}
	if it.StartedAt.IsZero() {
		it.StartedAt = now
	}
	if it.Status.Final() {
		it.FinishedAt = now
	}
	if err := prepareItem(it, now); err != nil {
		return nil, false, err
	}
	res, err := s.db.NewInsert().Model(it).On("CONFLICT DO NOTHING").Exec(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("app: create run: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		s.itemChanged(it.ID)
		created, err := s.itemByID(ctx, s.db, it.ID)
		return created, true, err
	}
	// Something holds this id or key: a replay, or a clash.
	existing, err := s.replayed(ctx, v, it)
	if err != nil {
		return nil, false, err
	}
	return existing, false, nil
}

// replayed finds the item a refused insert collided with and returns it when
// the request is the same one again.
func (s *Store) replayed(ctx context.Context, v Viewer, it *Item) (*Item, error) {
	if it.CreateKey != "" {
		var id string
		err := s.db.NewSelect().Model((*Item)(nil)).Column("id").
			Where("creator_id = ?", v.User.ID).Where("create_key = ?", it.CreateKey).Scan(ctx, &id)
		if err == nil {
			existing, err := s.itemByID(ctx, s.db, id)
			if err != nil {
				return nil, err
			}
			if existing.CreateHash != it.CreateHash {
				return nil, Errorf(EConflict, "Idempotency-Key", "this Idempotency-Key was used for a different request")
			}
			return existing, nil
		}
		if err := notFound(err); !errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("app: find run by idempotency key: %w", err)
		}
	}
	existing, err := s.itemByID(ctx, s.db, it.ID)
	if errors.Is(err, ErrNotFound) {
		// The clash was with a row deleted since; asking again will work.
		return nil, Errorf(EConflict, "id", "the run changed while it was created; retry the request")
	}
	if err != nil {
		return nil, err
	}
	if existing.CreatorID != v.User.ID || existing.CreateHash != it.CreateHash {
		return nil, Errorf(EConflict, "id", "a run with this id exists and was created by a different request")
	}
	return existing, nil
}

// teamOf finds one of the viewer's teams by slug. A team the viewer is not in
// is refused exactly like one that does not exist.
func (s *Store) teamOf(ctx context.Context, v Viewer, slug string) (*Team, error) {
	t := new(Team)
	err := s.db.NewSelect().Model(t).Where("slug = ?", strings.ToLower(slug)).Scan(ctx)
	if err == nil && slices.Contains(v.TeamIDs, t.ID) {
		return t, nil
	}
	if err != nil && !errors.Is(notFound(err), ErrNotFound) {
		return nil, fmt.Errorf("app: team %q: %w", slug, err)
	}
	return nil, Errorf(EUnprocessable, "team", "you are not a member of a team %q", clip(slug))
}

// itemByID loads an item with its creator and team, regardless of who asks.
func (s *Store) itemByID(ctx context.Context, db bun.IDB, id string) (*Item, error) {
	it := new(Item)
	err := db.NewSelect().Model(it).Relation("Creator").Relation("Team").Where("item.id = ?", id).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("app: item %s: %w", id, notFound(err))
	}
	return it, nil
}

// ownRun loads an item the viewer may write to: only its creator reports on
// a run. Anyone else is told it does not exist.
func (s *Store) ownRun(ctx context.Context, db bun.IDB, v Viewer, id string, forUpdate bool) (*Item, error) {
	if !validItemID(id) {
		return nil, ErrNotFound
	}
	it := new(Item)
	q := db.NewSelect().Model(it).Where("id = ?", id)
	if forUpdate && s.dialect == "postgres" {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("app: run %s: %w", id, notFound(err))
	}
	if it.CreatorID != v.User.ID {
		return nil, fmt.Errorf("app: run %s: %w", id, ErrNotFound)
	}
	return it, nil
}

// UpdateRun applies a change to one of the viewer's runs under the rules of
// §2: an ambient run is never blocked or canceled, and a final status never
// changes (though late credits and a new title are still taken). Moving to a
// final status records the finish time, now unless the change names one.
func (s *Store) UpdateRun(ctx context.Context, v Viewer, id string, ch RunChange) (*Item, error) {
	var out *Item
	changed := false
	err := s.inTx(ctx, func(tx bun.Tx) error {
		it, err := s.ownRun(ctx, tx, v, id, true)
		if err != nil {
			return err
		}
		before := *it
		now := s.Now()
		if ch.Status != nil {
			if err := CheckTransition(it.Kind, it.Status, *ch.Status); err != nil {
				return err
			}
			it.Status = *ch.Status
		}
		if ch.FinishedAt != nil {
			if !it.Status.Final() {
				return Errorf(EUnprocessable, "finished_at", "only a finished run has a finish time; set a final status with it")
			}
			it.FinishedAt = ch.FinishedAt.UTC().Truncate(time.Microsecond)
		}
		if it.Status.Final() && it.FinishedAt.IsZero() {
			it.FinishedAt = now
		}
		if !it.FinishedAt.IsZero() && !it.StartedAt.IsZero() && it.FinishedAt.Before(it.StartedAt) {
			return Errorf(EUnprocessable, "finished_at", "a run cannot finish before it started")
		}
		if ch.Title != nil {
			it.Title = *ch.Title
		}
		if ch.Inference != nil {
			it.Inference = *ch.Inference
		}
		if ch.Compute != nil {
			it.Compute = *ch.Compute
		}
		if err := it.Validate(); err != nil {
			return err
		}
		if it.Status == before.Status && it.Title == before.Title && it.FinishedAt.Equal(before.FinishedAt) &&
			it.Inference == before.Inference && it.Compute == before.Compute {
			// A replayed change: nothing to write or announce.
			out, err = s.itemByID(ctx, tx, id)
			return err
		}
		changed = true
		it.UpdatedAt = now
		_, err = tx.NewUpdate().Model(it).
			Column("status", "title", "finished_at", "inference_credits", "compute_credits", "updated_at").
			WherePK().Exec(ctx)
		if err != nil {
			return fmt.Errorf("app: update run %s: %w", id, err)
		}
		out, err = s.itemByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if changed {
		s.itemChanged(id)
	}
	return out, nil
}

// AppendEvents stores a batch of events of one of the viewer's runs in one
// statement. An event whose sequence number is already stored (or repeated
// in the batch) is acknowledged as a duplicate and not stored again; the
// whole batch is checked before anything is written.
func (s *Store) AppendEvents(ctx context.Context, v Viewer, itemID string, events []*Event) (accepted, duplicates int, err error) {
	if len(events) > MaxEventBatch {
		return 0, 0, Errorf(ETooLarge, "events", "a batch holds at most %d events, not %d", MaxEventBatch, len(events))
	}
	for i, e := range events {
		if err := e.Validate(i); err != nil {
			return 0, 0, err
		}
	}
	if _, err := s.ownRun(ctx, s.db, v, itemID, false); err != nil {
		return 0, 0, err
	}
	if len(events) == 0 {
		return 0, 0, nil
	}
	now := s.Now()
	seen := make(map[int64]bool, len(events))
	unique := make([]*Event, 0, len(events))
	for _, e := range events {
		if !seen[e.Seq] {
			seen[e.Seq] = true
			e.ItemID, e.CreatedAt = itemID, now
			unique = append(unique, e)
		}
	}
	n, err := s.insertEvents(ctx, unique)
	if err != nil {
		return 0, 0, fmt.Errorf("app: append %d events to %s: %w", len(unique), itemID, err)
	}
	if n > 0 {
		s.eventsAppended(itemID)
	}
	return int(n), len(events) - int(n), nil
}

// insertEvents writes events in one statement, skipping those whose seq is
// stored already, and returns how many it wrote. The values travel as
// parameters rather than in the SQL text, so that PostgreSQL parses the
// statement once per batch size, not once per batch: this is the hot path
// of ingestion.
func (s *Store) insertEvents(ctx context.Context, events []*Event) (int64, error) {
	var sql strings.Builder
	sql.WriteString("INSERT INTO events (item_id, seq, type, role, text, data, created_at) VALUES ")
	args := make([]any, 0, 7*len(events))
	for i, e := range events {
		if i > 0 {
			sql.WriteString(", ")
		}
		sql.WriteByte('(')
		for j := range 7 {
			if j > 0 {
				sql.WriteString(", ")
			}
			if s.dialect == "postgres" {
				sql.WriteString("$" + strconv.Itoa(len(args)+j+1))
			} else {
				sql.WriteByte('?')
			}
		}
		sql.WriteByte(')')
		var data any
		if e.Data != "" {
			data = e.Data
		}
		args = append(args, e.ItemID, e.Seq, string(e.Type), string(e.Role), e.Text, data, e.CreatedAt)
	}
	sql.WriteString(" ON CONFLICT (item_id, seq) DO NOTHING")
	res, err := s.db.DB.ExecContext(ctx, sql.String(), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// EventQuery selects a page of an item's events.
type EventQuery struct {
	Types  []EventType // none: every type
	After  int64       // only events with a greater seq
	Before int64       // only events with a smaller seq; 0: no bound
	Limit  int
	// Last takes the newest Limit events (still returned in seq order),
	// for the tail of a long log.
	Last bool
}

// EventPage is a page of events in seq order; More says whether events
// beyond it exist in the direction it was read.
type EventPage struct {
	Events []*Event
	More   bool
}

// Events returns a page of an item's events. The caller has already checked
// that the viewer may see the item.
func (s *Store) Events(ctx context.Context, itemID string, q EventQuery) (EventPage, error) {
	if q.Limit <= 0 || q.Limit > MaxEventBatch {
		q.Limit = MaxEventBatch
	}
	var events []*Event
	sel := s.db.NewSelect().Model(&events).Where("item_id = ?", itemID)
	if len(q.Types) == 1 {
		sel = sel.Where("type = ?", q.Types[0])
	} else if len(q.Types) > 1 {
		sel = sel.Where("type IN (?)", bun.In(q.Types))
	}
	if q.After > 0 {
		sel = sel.Where("seq > ?", q.After)
	}
	if q.Before > 0 {
		sel = sel.Where("seq < ?", q.Before)
	}
	order := "seq ASC"
	if q.Last {
		order = "seq DESC"
	}
	if err := sel.OrderExpr(order).Limit(int64(q.Limit) + 1).Scan(ctx); err != nil {
		return EventPage{}, fmt.Errorf("app: events of %s: %w", itemID, err)
	}
	page := EventPage{Events: events}
	if len(events) > q.Limit {
		page.Events, page.More = events[:q.Limit], true
	}
	if q.Last {
		slices.Reverse(page.Events)
	}
	return page, nil
}
