package app

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Needs attention is what waits on a person: the items they may see under
// All (their own, and their teams' shared ones) that are blocked, waiting on
// someone, or failed, lost contact included, and that they have not yet
// acknowledged. Each person acknowledges for themselves: a teammate's
// acknowledgement hides nothing from anyone else.

// AttentionFilter is Needs attention as a view of the list: the All tab's
// blocked and failed items. Alerts on Needs attention watch this view, and
// the page links to it.
func AttentionFilter() Filter {
	return Filter{Tab: TabAll, Statuses: Choice[Status]{Is: []Status{StatusBlocked, StatusFailed}}}
}

// NeedsAttention reports whether an item in this status waits on a person.
func NeedsAttention(s Status) bool { return s == StatusBlocked || s == StatusFailed }

// AttentionCountCap is the most the navigation counts: beyond it, it says
// "99+" rather than counting every entry of a long backlog on every page.
const AttentionCountCap = 99

// AttentionEntry is one item that needs the viewer.
type AttentionEntry struct {
	Item *Item
	// Since is when the item began to need attention: when it became
	// blocked or failed.
	Since time.Time
	// New marks an entry that began to need attention after the viewer's
	// previous visit.
	New bool
}

// Ack is what acknowledging the entry records.
func (e AttentionEntry) Ack() Ack { return Ack{ItemID: e.Item.ID, Since: e.Since} }

// Ack acknowledges one item for one person, as of the moment it began to
// need attention: should it need attention again later, it shows again.
type Ack struct {
	ItemID string
	Since  time.Time
}

// String is how an acknowledgement travels in a form: the item's id and
// the moment in microseconds, "ID@MICROS".
func (a Ack) String() string { return a.ItemID + "@" + strconv.FormatInt(a.Since.UnixMicro(), 10) }

// ParseAck reads an acknowledgement printed by Ack.String.
func ParseAck(s string) (Ack, error) {
	id, micros, ok := strings.Cut(s, "@")
	us, err := strconv.ParseInt(micros, 10, 64)
	if !ok || err != nil || us <= 0 || !validItemID(id) {
		return Ack{}, Errorf(EInvalid, "ack", "an acknowledgement names an item and the moment it began to need attention")
	}
	return Ack{ItemID: id, Since: time.UnixMicro(us).UTC()}, nil
}

// MaxAcks is the most acknowledgements one request may make: a page of
// entries, with room to spare.
const MaxAcks = 200

// AttentionPage is a page of the viewer's Needs attention, newest first.
type AttentionPage struct {
	Entries []AttentionEntry
	Next    *Cursor // nil on the last page
	// LastVisit is the viewer's previous visit, since which entries are
	// new; zero before their first.
	LastVisit time.Time
}

// attentionQuery is Needs attention resolved for a viewer: the list's own
// query of AttentionFilter, so that who sees what is decided exactly as the
// list decides it.
func (s *Store) attentionQuery(ctx context.Context, v Viewer) (Query, error) {
	q, _, _, err := s.ResolveFilter(ctx, v, AttentionFilter())
	return q, err
}

// attentionArms selects, for each arm of the viewer's view, the ids and
// times of the entries they have not acknowledged, newest first, up to limit
// each, after the cursor.
func (s *Store) attentionArms(q Query, after *Cursor, limit int) []*bun.SelectQuery {
	var parts []*bun.SelectQuery
	for _, a := range visibleArms(q) {
		sel := s.armQuery(q, a, "id", "attention_at").
			Where("attention_at IS NOT NULL").
			Where("NOT EXISTS (SELECT 1 FROM attention_acks AS ack WHERE ack.user_id = ? AND ack.item_id = items.id AND ack.attention_at >= items.attention_at)", q.Viewer.User.ID)
		if after != nil {
			sel = sel.Where("(attention_at, id) < (?, ?)", after.CreatedAt, after.ID)
		}
		parts = append(parts, sel.OrderExpr("attention_at DESC, id DESC").Limit(int64(limit)))
	}
	return parts
}

// Attention returns a page of what needs the viewer, newest need first,
// after the cursor (which holds the time an entry began to need attention).
// Entries since the viewer's previous visit are marked new.
func (s *Store) Attention(ctx context.Context, v Viewer, after *Cursor, limit int) (AttentionPage, error) {
	var page AttentionPage
	q, err := s.attentionQuery(ctx, v)
	if err != nil {
		return page, err
	}
	if page.LastVisit, err = s.lastAttentionVisit(ctx, v); err != nil {
		return page, err
	}
	parts := s.attentionArms(q, after, limit+1)
	if len(parts) == 0 {
		return page, nil
	}
	var rows []struct {
		ID          string    `bun:"id"`
		AttentionAt time.Time `bun:"attention_at"`
	}
	err = s.db.NewSelect().TableExpr("(?) AS entry", s.unionOfArms(parts)).Column("id", "attention_at").
		OrderExpr("attention_at DESC, id DESC").Limit(int64(limit)+1).Scan(ctx, &rows)
	if err != nil {
		return page, fmt.Errorf("app: needs attention of user %d: %w", v.User.ID, err)
	}
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		page.Next = &Cursor{CreatedAt: last.AttentionAt, ID: last.ID}
	}
	if len(rows) == 0 {
		return page, nil
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var items []*Item
	if err := s.db.NewSelect().Model(&items).Relation("Creator").Relation("Team").Where("item.id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return page, fmt.Errorf("app: load items needing attention: %w", err)
	}
	byID := make(map[string]*Item, len(items))
	for _, it := range items {
		byID[it.ID] = it
	}
	for _, r := range rows {
		it, ok := byID[r.ID]
		if !ok {
			continue // deleted between the two reads
		}
		since := r.AttentionAt.UTC()
		page.Entries = append(page.Entries, AttentionEntry{Item: it, Since: since,
			New: !page.LastVisit.IsZero() && since.After(page.LastVisit)})
	}
	return page, nil
}

// AttentionCount counts what needs the viewer, up to AttentionCountCap+1:
// a number above the cap means "more than the cap". Each arm stops at that
// many entries, so a long backlog costs no more than a short one.
func (s *Store) AttentionCount(ctx context.Context, v Viewer) (int, error) {
	q, err := s.attentionQuery(ctx, v)
	if err != nil {
		return 0, err
	}
	parts := s.attentionArms(q, nil, AttentionCountCap+1)
	if len(parts) == 0 {
		return 0, nil
	}
	n, err := s.db.NewSelect().TableExpr("(?) AS entry", s.unionOfArms(parts)).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("app: count what needs user %d: %w", v.User.ID, err)
	}
	return int(min(n, AttentionCountCap+1)), nil
}

// Acknowledge hides entries of Needs attention from the viewer, each as of
// the moment it began to need attention. Items the viewer may not see are
// passed over, so that acknowledging a page whose team one has just left
// does what it can; it returns how many it acknowledged.
func (s *Store) Acknowledge(ctx context.Context, v Viewer, acks []Ack) (int, error) {
	if len(acks) > MaxAcks {
		return 0, Errorf(ETooLarge, "ack", "at most %d acknowledgements at once", MaxAcks)
	}
	if len(acks) == 0 {
		return 0, nil
	}
	ids := make([]string, len(acks))
	for i, a := range acks {
		ids[i] = a.ItemID
	}
	var items []*Item
	if err := s.db.NewSelect().Model(&items).Column("id", "creator_id", "team_id", "visibility").
		Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return 0, fmt.Errorf("app: items to acknowledge: %w", err)
	}
	seen := map[string]bool{}
	for _, it := range items {
		seen[it.ID] = v.CanSee(it)
	}
	now := s.Now()
	done := 0
	err := s.inTx(ctx, func(tx bun.Tx) error {
		done = 0
		for _, a := range acks {
			if !seen[a.ItemID] {
				continue
			}
			_, err := tx.NewRaw(`INSERT INTO attention_acks (user_id, item_id, attention_at, acked_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (user_id, item_id) DO UPDATE SET acked_at = excluded.acked_at,
				attention_at = CASE WHEN excluded.attention_at > attention_acks.attention_at THEN excluded.attention_at ELSE attention_acks.attention_at END`,
				v.User.ID, a.ItemID, a.Since.UTC().Truncate(time.Microsecond), now).Exec(ctx)
			if err != nil {
				return fmt.Errorf("app: acknowledge %s for user %d: %w", a.ItemID, v.User.ID, err)
			}
			done++
		}
		return nil
	})
	return done, err
}

// attentionVisit is a person's visits to Needs attention.
type attentionVisit struct {
	bun.BaseModel `bun:"table:attention_visits"`

	UserID     int64     `bun:"user_id,pk"`
	SeenAt     time.Time `bun:"seen_at,notnull"`
	PreviousAt time.Time `bun:"previous_at,nullzero"`
}

// VisitAttention records that the viewer opens Needs attention now; what
// needs them from now on is new until their next visit. It returns the
// previous visit, zero before the first.
func (s *Store) VisitAttention(ctx context.Context, v Viewer) (time.Time, error) {
	now := s.Now()
	var previous time.Time
	err := s.inTx(ctx, func(tx bun.Tx) error {
		visit := new(attentionVisit)
		err := tx.NewSelect().Model(visit).Where("user_id = ?", v.User.ID).Scan(ctx)
		switch err = notFound(err); {
		case err == nil:
			previous = visit.SeenAt
		case err == ErrNotFound:
			previous = time.Time{}
		default:
			return fmt.Errorf("app: last visit of user %d: %w", v.User.ID, err)
		}
		_, err = tx.NewInsert().Model(&attentionVisit{UserID: v.User.ID, SeenAt: now, PreviousAt: previous}).
			On("CONFLICT (user_id) DO UPDATE").Set("seen_at = excluded.seen_at").Set("previous_at = excluded.previous_at").Exec(ctx)
		if err != nil {
			return fmt.Errorf("app: record visit of user %d: %w", v.User.ID, err)
		}
		return nil
	})
	return previous.UTC(), err
}

// lastAttentionVisit is the visit before the viewer's latest: entries since
// are new. The page records a visit as it opens, so this is the one before.
func (s *Store) lastAttentionVisit(ctx context.Context, v Viewer) (time.Time, error) {
	visit := new(attentionVisit)
	err := s.db.NewSelect().Model(visit).Where("user_id = ?", v.User.ID).Scan(ctx)
	if err = notFound(err); err == ErrNotFound {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("app: last visit of user %d: %w", v.User.ID, err)
	}
	return visit.PreviousAt.UTC(), nil
}
