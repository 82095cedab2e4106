package app

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 200

// checkIdempotencyKey accepts an Idempotency-Key that is clean text (see
// CleanText) of at most maxIdempotencyKey bytes. A key identifies a request,
// so one that is not clean is refused rather than cleaned: cleaning would
// make two different keys one.
func checkIdempotencyKey(key string) error {
	if len(key) > maxIdempotencyKey || !IsCleanText(key) {
		return Errorf(EInvalid, "Idempotency-Key", "the Idempotency-Key must be UTF-8 text without NUL bytes, of at most %d bytes", maxIdempotencyKey)
	}
	return nil
}

// CreateRun stores an item for the viewer from an API request. It is
// idempotent: replaying the same request (same id, or same Idempotency-Key)
// returns the stored item with created false; the same id or key with a
// different request is a conflict. Concurrent duplicates create one item.
func (s *Store) CreateRun(ctx context.Context, v Viewer, n NewRun) (*Item, bool, error) {
	if err := checkIdempotencyKey(n.IdempotencyKey); err != nil {
		return nil, false, err
	}
	if n.ID != "" && !validItemID(n.ID) {
		return nil, false, Errorf(EInvalid, "id", "the id must be a lower-case UUID")
	}
	if n.Kind == "" {
		return nil, false, Errorf(EInvalid, "kind", "kind is required (ambient or interactive)")
	}
	if err := CheckOpenURL(n.OpenURL, s.openURLSchemes); err != nil {
		return nil, false, err
	}
	if err := CheckExternalURL(n.ExternalURL); err != nil {
		return nil, false, err
	}
	if err := checkTime("started_at", n.StartedAt); err != nil {
		return nil, false, err
	}
	now := s.Now()
	it := &Item{
		ID: n.ID, Kind: n.Kind, Source: n.Source, Status: n.Status, Title: CleanText(n.Title),
		CreatorID: v.User.ID, Visibility: n.Visibility, OpenURL: n.OpenURL, ExternalURL: n.ExternalURL,
		StartedAt: n.StartedAt.UTC().Truncate(time.Microsecond),
		CreateKey: n.IdempotencyKey, CreateHash: n.fingerprint(), Where: cleanWhere(n.Where),
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
// is refused exactly like one that does not exist, and so is a slug that no
// team could have.
func (s *Store) teamOf(ctx context.Context, v Viewer, slug string) (*Team, error) {
	t := new(Team)
	err := sql.ErrNoRows
	if slug = strings.ToLower(slug); ValidSlug(slug) {
		err = s.db.NewSelect().Model(t).Where("slug = ?", slug).Scan(ctx)
	}
	if err == nil && slices.Contains(v.TeamIDs, t.ID) {
		return t, nil
	}
	if err != nil && !errors.Is(notFound(err), ErrNotFound) {
		return nil, fmt.Errorf("app: team %q: %w", slug, err)
	}
	return nil, Errorf(EUnprocessable, "team", "you are not a member of a team %q", clip(CleanText(slug)))
}

// itemByID loads an item with its creator and team, regardless of who asks:
// the one load of an item with its relations, which every read builds on.
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
		changed = false // a transaction run again starts afresh
		it, err := s.ownRun(ctx, tx, v, id, true)
		if err != nil {
			return err
		}
		before := *it
		now := s.Now()
		if ch.Status != nil {
			from := it.Status
			if it.Revivable() {
				// A session the liveness rule closed moves on with its run.
				from = StatusWorking
			}
			if err := CheckTransition(it.Kind, from, *ch.Status); err != nil {
				return err
			}
			if *ch.Status != it.Status {
				it.Status, it.Reason, it.FinishedAt = *ch.Status, "", time.Time{}
			}
		}
		if ch.FinishedAt != nil {
			if err := checkTime("finished_at", *ch.FinishedAt); err != nil {
				return err
			}
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
			it.Title = CleanText(*ch.Title)
		}
		if ch.Inference != nil {
			it.Inference = *ch.Inference
			if it.AgentName != "" {
				// An agent's session counts its credits per channel; the
				// API's figure is one more account of the same spend.
				if err := s.setAPICredits(ctx, tx, it, *ch.Inference, now); err != nil {
					return err
				}
			}
		}
		if ch.Compute != nil {
			it.Compute = *ch.Compute
		}
		if err := it.Validate(); err != nil {
			return err
		}
		if it.Status == before.Status && it.Title == before.Title && it.FinishedAt.Equal(before.FinishedAt) &&
			it.Inference == before.Inference && it.Compute == before.Compute {
			// A replayed change, or a run saying it is alive: nothing to
			// announce.
			if it.AgentName != "" {
				if _, err := tx.NewUpdate().Model(it).Set("heard_at = ?", now).WherePK().Exec(ctx); err != nil {
					return fmt.Errorf("app: hear from run %s: %w", id, err)
				}
			}
			out, err = s.itemByID(ctx, tx, id)
			return err
		}
		changed = true
		it.UpdatedAt, it.HeardAt = now, now
		_, err = tx.NewUpdate().Model(it).
			Column("status", "reason", "title", "finished_at", "inference_credits", "compute_credits", "updated_at",
				"heard_at", "input_tokens", "cached_input_tokens", "output_tokens", "unpriced_models").
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

// setAPICredits records the inference credits the API set on an agent's
// session as the API channel's account of its spend.
func (s *Store) setAPICredits(ctx context.Context, tx bun.Tx, it *Item, c Credits, now time.Time) error {
	n := int64(c)
	return s.storeUsage(ctx, tx, it, []usageRow{{channel: ChannelAPI, key: "patch", credits: &n, total: true}}, now)
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
		if err := CheckSeq(i, e.Seq); err != nil {
			return 0, 0, err
		}
		if err := e.Prepare(i); err != nil {
			return 0, 0, err
		}
	}
	it, err := s.ownRun(ctx, s.db, v, itemID, false)
	if err != nil {
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
	var n int64
	err = retryConflicts(ctx, func() (err error) {
		n, err = s.insertEvents(ctx, s.db.DB, unique)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("app: append %d events to %s: %w", len(unique), itemID, err)
	}
	if it.LastSeq > 0 || it.AgentName != "" {
		// The server numbers this item's events too: keep its count at
		// least as great as the client's numbers (see lastSeq).
		var top int64
		for _, e := range unique {
			top = max(top, e.Seq)
		}
		_, err := s.db.NewUpdate().Model((*Item)(nil)).Set("last_seq = CASE WHEN last_seq < ? THEN ? ELSE last_seq END", top, top).
			Where("id = ?", itemID).Exec(ctx)
		if err != nil {
			return 0, 0, fmt.Errorf("app: number the events of %s: %w", itemID, err)
		}
	}
	if n > 0 {
		s.eventsAppended(itemID)
	}
	return int(n), len(events) - int(n), nil
}

// AppendNumberedEvents stores a batch of events of one of the viewer's runs
// that the server numbers, after every event the run has, so that several
// channels may add to one run (its command's output, its agent's hooks and
// OTLP) without their numbers colliding. The batch's Idempotency-Key makes a
// retry harmless: a batch seen before is acknowledged as duplicates. reports
// are what the batch's lines say of an agent the run wraps (its own output,
// app/agents reads it); they are applied with the batch, to the run.
func (s *Store) AppendNumberedEvents(ctx context.Context, v Viewer, itemID, batchKey string, events []*Event, reports []Report) (accepted, duplicates int, err error) {
	switch {
	case len(events) > MaxEventBatch:
		return 0, 0, Errorf(ETooLarge, "events", "a batch holds at most %d events, not %d", MaxEventBatch, len(events))
	case batchKey == "":
		return 0, 0, Errorf(EInvalid, "Idempotency-Key", "events without seq need an Idempotency-Key header, so that a retried batch is recognised")
	}
	if err := checkIdempotencyKey(batchKey); err != nil {
		return 0, 0, err
	}
	for i, e := range events {
		if err := e.Prepare(i); err != nil {
			return 0, 0, err
		}
	}
	now := s.Now()
	var touched applied
	err = s.inTx(ctx, func(tx bun.Tx) error {
		// A transaction run again starts afresh.
		touched, accepted, duplicates = applied{}, 0, 0
		it, err := s.ownRun(ctx, tx, v, itemID, true)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO event_batches (item_id, key, events, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
			it.ID, batchKey, len(events), now)
		if err != nil {
			return fmt.Errorf("app: record batch of %s: %w", itemID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			duplicates = len(events)
			return nil
		}
		base, err := s.lastSeq(ctx, tx, it)
		if err != nil {
			return err
		}
		for i, e := range events {
			e.ItemID, e.Seq, e.CreatedAt = it.ID, base+int64(i)+1, now
		}
		if len(events) > 0 {
			if _, err := s.insertEvents(ctx, tx.Tx, events); err != nil {
				return fmt.Errorf("app: append %d events to %s: %w", len(events), itemID, err)
			}
			touched.appended = append(touched.appended, it.ID)
		}
		accepted = len(events)
		// Hearing from the run keeps an agent it wraps from looking lost.
		_, err = tx.NewUpdate().Model((*Item)(nil)).Set("last_seq = ?", base+int64(len(events))).Set("heard_at = ?", now).
			Where("id = ?", it.ID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("app: number the events of %s: %w", itemID, err)
		}
		if len(reports) == 0 {
			return nil
		}
		for i := range reports {
			reports[i].RunID, reports[i].Channel = it.ID, ChannelOutput
		}
		var res2 ReportResult
		more, err := s.applyGroups(ctx, tx, v, groupReports(reports, &res2), now, &res2)
		touched.changed = append(touched.changed, more.changed...)
		touched.appended = append(touched.appended, more.appended...)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	touched.announce(s)
	return accepted, duplicates, nil
}

// insertEvents writes events in one statement, skipping those whose seq is
// stored already, and returns how many it wrote. The values travel as
// parameters rather than in the SQL text, so that PostgreSQL parses the
// statement once per batch size, not once per batch: this is the hot path
// of ingestion.
//
// Rows go in in one canonical order, by item and seq, whatever order the
// caller has them in: PostgreSQL takes each new row's unique-index entry as
// it inserts it, so two writers of overlapping seqs in opposite orders
// would each hold what the other waits for, a deadlock. In one order, the
// later writer waits for the earlier and then skips its rows.
func (s *Store) insertEvents(ctx context.Context, db sqlExecer, events []*Event) (int64, error) {
	events = slices.SortedFunc(slices.Values(events), func(a, b *Event) int {
		return cmp.Or(strings.Compare(a.ItemID, b.ItemID), cmp.Compare(a.Seq, b.Seq))
	})
	args := make([]any, 0, 8*len(events))
	for _, e := range events {
		var data, key any
		if e.Data != "" {
			data = e.Data
		}
		if e.Key != "" {
			key = e.Key
		}
		args = append(args, e.ItemID, e.Seq, string(e.Type), string(e.Role), e.Text, data, key, e.CreatedAt)
	}
	// No conflict target: a repeated seq and a repeated key are both
	// duplicates.
	sql := "INSERT INTO events (item_id, seq, type, role, text, data, key, created_at) VALUES " + s.valueRows(len(events), 8) + " ON CONFLICT DO NOTHING"
	res, err := db.ExecContext(ctx, sql, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// valueRows is the VALUES list of a multi-row insert of rows rows of cols
// parameters each, in the dialect's parameter syntax.
func (s *Store) valueRows(rows, cols int) string {
	var b strings.Builder
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteString(", ")
			}
			if s.dialect == "postgres" {
				b.WriteString("$" + strconv.Itoa(r*cols+c+1))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

// sqlExecer runs a statement as written, with the driver's own parameters:
// a database or a transaction of database/sql.
type sqlExecer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
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
