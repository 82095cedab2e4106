package app

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/uptrace/bun"
)

// Alerts tell a person, through Slack or a webhook of their own, when an item
// enters a view they watch: a saved view, or Needs attention. The database
// logs every change of an item's status as it commits (item_transitions);
// QueueAlerts reads that log and writes, in the same transaction, one
// delivery per alert whose view the item entered (the outbox,
// alert_deliveries); package alerts sends them. So no change is lost
// between its commit and its alert, however the server stops, and none is
// alerted twice.

// Destination is where an alert goes.
type Destination string

// The destinations: a Slack incoming webhook, or any webhook, sent JSON
// signed with the alert's secret.
const (
	DestinationSlack   Destination = "slack"
	DestinationWebhook Destination = "webhook"
)

// Label is the destination's name for people.
func (d Destination) Label() string {
	if d == DestinationSlack {
		return "Slack"
	}
	return "Signed webhook"
}

// Alert is one person's subscription of a view to a destination.
type Alert struct {
	bun.BaseModel `bun:"table:alerts"`

	ID      int64 `bun:"id,pk,autoincrement"`
	OwnerID int64 `bun:"owner_id,notnull"`
	// ViewID is the saved view watched; 0 watches Needs attention.
	ViewID      int64       `bun:"view_id,nullzero"`
	Destination Destination `bun:"destination,notnull"`
	URL         string      `bun:"url,notnull"`
	// Secret signs a webhook's requests; its receiver checks with it that
	// a request is this alert's (see package alerts).
	Secret    string    `bun:"secret,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`

	Owner *User      `bun:"rel:belongs-to,join:owner_id=id"`
	View  *SavedView `bun:"rel:belongs-to,join:view_id=id"`
}

// Name names what the alert watches.
func (a *Alert) Name() string {
	if a.ViewID == 0 {
		return "Needs attention"
	}
	if a.View != nil {
		return a.View.Name
	}
	return "a saved view"
}

// Filter is the view the alert watches.
func (a *Alert) Filter() Filter {
	if a.ViewID == 0 || a.View == nil {
		return AttentionFilter()
	}
	q, _ := url.ParseQuery(a.View.Query) // stored canonical, so it parses
	f, _ := ParseFilter(q)
	return f
}

// MaxAlertsPerUser is how many alerts one person may keep.
const MaxAlertsPerUser = 20

// NewAlert is what making an alert asks for: the saved view to watch (0 for
// Needs attention), and where to send.
type NewAlert struct {
	ViewID      int64
	Destination Destination
	URL         string
}

// SetPrivateDestinations lets alerts call private, loopback and link-local
// addresses (AGENTDECK_ALLOW_PRIVATE_WEBHOOKS), for receivers inside one's
// own network, and tests.
func (s *Store) SetPrivateDestinations(allow bool) { s.privateDestinations.Store(allow) }

// PrivateDestinations reports whether alerts may call private addresses.
func (s *Store) PrivateDestinations() bool { return s.privateDestinations.Load() }

// CreateAlert subscribes a view the viewer sees to a destination.
func (s *Store) CreateAlert(ctx context.Context, v Viewer, n NewAlert) (*Alert, error) {
	if n.Destination != DestinationSlack && n.Destination != DestinationWebhook {
		return nil, Errorf(EInvalid, "destination", "choose Slack or a signed webhook")
	}
	dest, err := CheckDestination(n.URL, s.PrivateDestinations())
	if err != nil {
		return nil, err
	}
	a := &Alert{OwnerID: v.User.ID, ViewID: n.ViewID, Destination: n.Destination, URL: dest, Secret: newSigningSecret()}
	if n.ViewID != 0 {
		if a.View, err = s.SavedView(ctx, v, n.ViewID); err != nil {
			return nil, Errorf(ENotFound, "view", "there is no such saved view among yours and your teams'")
		}
	}
	err = s.inTx(ctx, func(tx bun.Tx) error {
		if err := s.lockUser(ctx, tx, v.User.ID); err != nil {
			return err
		}
		count, err := tx.NewSelect().Model((*Alert)(nil)).Where("owner_id = ?", v.User.ID).Count(ctx)
		if err != nil {
			return fmt.Errorf("app: count alerts of user %d: %w", v.User.ID, err)
		}
		if count >= MaxAlertsPerUser {
			return Errorf(EUnprocessable, "view", "you have %d alerts, the most one may keep: delete one first", MaxAlertsPerUser)
		}
		a.CreatedAt = s.Now()
		if _, err := tx.NewInsert().Model(a).Exec(ctx); err != nil {
			return fmt.Errorf("app: create alert: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.Owner = v.User
	return a, nil
}

// newSigningSecret makes an alert's signing secret.
func newSigningSecret() string {
	var b [32]byte
	rand.Read(b[:])
	return "whsec_" + base64.RawURLEncoding.EncodeToString(b[:])
}

// Alerts lists the viewer's alerts, oldest first.
func (s *Store) Alerts(ctx context.Context, v Viewer) ([]*Alert, error) {
	var alerts []*Alert
	err := s.db.NewSelect().Model(&alerts).Relation("View").Where("alert.owner_id = ?", v.User.ID).OrderExpr("alert.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("app: alerts of user %d: %w", v.User.ID, err)
	}
	return alerts, nil
}

// Alert returns one of the viewer's alerts; anyone else's is not found.
func (s *Store) Alert(ctx context.Context, v Viewer, id int64) (*Alert, error) {
	a := new(Alert)
	err := s.db.NewSelect().Model(a).Relation("View").Relation("Owner").
		Where("alert.id = ? AND alert.owner_id = ?", id, v.User.ID).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("app: alert %d: %w", id, notFound(err))
	}
	return a, nil
}

// DeleteAlert deletes one of the viewer's alerts with its deliveries; what
// is still on its way is not sent.
func (s *Store) DeleteAlert(ctx context.Context, v Viewer, id int64) error {
	res, err := s.db.NewDelete().Model((*Alert)(nil)).Where("id = ? AND owner_id = ?", id, v.User.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("app: delete alert %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// DeliveryState is where a delivery stands.
type DeliveryState string

// The states of a delivery: waiting to be sent (or sent again), sent,
// given up after its attempts, or not sent because its person may no
// longer see what it is about.
const (
	DeliveryPending DeliveryState = "pending"
	DeliverySent    DeliveryState = "sent"
	DeliveryFailed  DeliveryState = "failed"
	DeliverySkipped DeliveryState = "skipped"
)

// Delivery is one alert to send: an item's change of status that took it
// into the alert's view, or, with no item, a test.
type Delivery struct {
	bun.BaseModel `bun:"table:alert_deliveries,alias:delivery"`

	ID           int64  `bun:"id,pk,autoincrement"`
	AlertID      int64  `bun:"alert_id,notnull"`
	ItemID       string `bun:"item_id,nullzero"`
	TransitionID int64  `bun:"transition_id,nullzero"`
	// From is the status it left ("" when it was new) and To the one it
	// took, at ChangedAt.
	From          Status        `bun:"from_status,nullzero"`
	To            Status        `bun:"to_status,notnull"`
	ChangedAt     time.Time     `bun:"changed_at,notnull"`
	State         DeliveryState `bun:"state,notnull"`
	Attempts      int           `bun:"attempts,notnull"`
	NextAttemptAt time.Time     `bun:"next_attempt_at,notnull"`
	// Outcome says how the last attempt went: the receiver's status, or
	// why it failed or was not sent.
	Outcome   string    `bun:"outcome,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	DoneAt    time.Time `bun:"done_at,nullzero"`

	// Item is the item, when listed for a person who may still see it.
	Item *Item `bun:"-"`
}

// Test reports whether the delivery is a test's sample.
func (d *Delivery) Test() bool { return d.ItemID == "" }

// MaxDeliveriesShown is how many of an alert's latest deliveries its page
// lists.
const MaxDeliveriesShown = 50

// AlertDeliveries lists an alert's latest deliveries, newest first, with the
// items the viewer may still see.
func (s *Store) AlertDeliveries(ctx context.Context, v Viewer, a *Alert) ([]*Delivery, error) {
	var ds []*Delivery
	err := s.db.NewSelect().Model(&ds).Where("alert_id = ?", a.ID).OrderExpr("id DESC").Limit(MaxDeliveriesShown).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("app: deliveries of alert %d: %w", a.ID, err)
	}
	var ids []string
	for _, d := range ds {
		if !d.Test() {
			ids = append(ids, d.ItemID)
		}
	}
	if len(ids) == 0 {
		return ds, nil
	}
	var items []*Item
	if err := s.db.NewSelect().Model(&items).Where("item.id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("app: items of alert %d's deliveries: %w", a.ID, err)
	}
	for _, d := range ds {
		i := slices.IndexFunc(items, func(it *Item) bool { return it.ID == d.ItemID })
		if i >= 0 && v.CanSee(items[i]) {
			d.Item = items[i]
		}
	}
	return ds, nil
}

// TestAlert queues a sample delivery of one of the viewer's alerts, sent
// like any other. One test at a time is on its way.
func (s *Store) TestAlert(ctx context.Context, v Viewer, id int64) (*Delivery, error) {
	a, err := s.Alert(ctx, v, id)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	d := &Delivery{AlertID: a.ID, To: StatusFailed, ChangedAt: now, State: DeliveryPending, NextAttemptAt: now, CreatedAt: now}
	err = s.inTx(ctx, func(tx bun.Tx) error {
		waiting, err := tx.NewSelect().Model((*Delivery)(nil)).
			Where("alert_id = ? AND item_id IS NULL AND state = ?", a.ID, DeliveryPending).Count(ctx)
		if err != nil {
			return fmt.Errorf("app: tests of alert %d: %w", a.ID, err)
		}
		if waiting > 0 {
			return Errorf(EConflict, "", "a test of this alert is already on its way")
		}
		if _, err := tx.NewInsert().Model(d).Exec(ctx); err != nil {
			return fmt.Errorf("app: test alert %d: %w", a.ID, err)
		}
		return nil
	})
	return d, err
}

// transition is one change of an item's status, as the database logged it.
type transition struct {
	bun.BaseModel `bun:"table:item_transitions"`

	ID     int64     `bun:"id,pk,autoincrement"`
	ItemID string    `bun:"item_id,notnull"`
	From   Status    `bun:"from_status,nullzero"`
	To     Status    `bun:"to_status,notnull"`
	At     time.Time `bun:"at,notnull"`
}

// transitionBatch is how many logged changes QueueAlerts reads at once.
const transitionBatch = 200

// QueueAlerts reads a batch of logged status changes and, in the same
// transaction, queues a delivery for every alert whose view each change took
// its item into, then forgets the batch. It returns how many changes it
// read; fewer than a batch means it is up to date. On PostgreSQL replicas
// each take batches of their own (SKIP LOCKED); a delivery is unique per
// alert and change besides.
//
// A change takes an item into a view when the item matches the view under
// the status it took and did not under the status it left: the view's
// status filter is applied to those two, its other filters by the list's
// own query to the item as it is now. An item new to the store enters
// every view it matches. Each change counts, even one the item has since
// moved on from: a run blocked twice waited on its person twice.
func (s *Store) QueueAlerts(ctx context.Context) (int, error) {
	read := 0
	err := s.inTx(ctx, func(tx bun.Tx) error {
		var batch []transition
		sel := tx.NewSelect().Model(&batch).OrderExpr("id").Limit(transitionBatch)
		if s.dialect == "postgres" {
			sel = sel.For("UPDATE SKIP LOCKED")
		}
		if err := sel.Scan(ctx); err != nil {
			return fmt.Errorf("app: read status changes: %w", err)
		}
		read = len(batch)
		if read == 0 {
			return nil
		}
		deliveries, err := s.deliveriesOf(ctx, tx, batch)
		if err != nil {
			return err
		}
		if len(deliveries) > 0 {
			if _, err := tx.NewInsert().Model(&deliveries).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
				return fmt.Errorf("app: queue %d alerts: %w", len(deliveries), err)
			}
		}
		ids := make([]int64, len(batch))
		for i, t := range batch {
			ids[i] = t.ID
		}
		if _, err := tx.NewDelete().Model((*transition)(nil)).Where("id IN (?)", bun.In(ids)).Exec(ctx); err != nil {
			return fmt.Errorf("app: forget %d status changes: %w", len(ids), err)
		}
		return nil
	})
	return read, err
}

// deliveriesOf decides which alerts a batch of changes fires.
func (s *Store) deliveriesOf(ctx context.Context, tx bun.Tx, batch []transition) ([]*Delivery, error) {
	var alerts []*Alert
	if err := tx.NewSelect().Model(&alerts).Relation("View").OrderExpr("alert.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("app: alerts: %w", err)
	}
	if len(alerts) == 0 {
		return nil, nil
	}
	ids := make([]string, 0, len(batch))
	for _, t := range batch {
		ids = append(ids, t.ItemID)
	}
	var items []*Item
	if err := tx.NewSelect().Model(&items).Column("id", "status", "creator_id", "team_id", "visibility").
		Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("app: items that changed: %w", err)
	}
	current := map[string]*Item{}
	for _, it := range items {
		current[it.ID] = it
	}
	var owners []int64
	for _, a := range alerts {
		owners = append(owners, a.OwnerID)
	}
	viewers, err := s.Viewers(ctx, owners)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	var out []*Delivery
	for _, a := range alerts {
		v, ok := viewers[a.OwnerID]
		if !ok {
			continue
		}
		if sees, err := s.seesView(ctx, v, a); err != nil || !sees {
			if err != nil {
				return nil, err
			}
			continue
		}
		f := a.Filter()
		var entered []transition
		for _, t := range batch {
			it := current[t.ItemID]
			if it == nil || !v.CanSee(it) {
				continue
			}
			if statusMatches(f.Statuses, t.To) && (t.From == "" || !statusMatches(f.Statuses, t.From)) {
				entered = append(entered, t)
			}
		}
		if len(entered) == 0 {
			continue
		}
		matched, err := s.matching(ctx, tx, v, f, entered)
		if err != nil {
			return nil, err
		}
		for _, t := range entered {
			if matched[t.ItemID] {
				out = append(out, &Delivery{AlertID: a.ID, ItemID: t.ItemID, TransitionID: t.ID, From: t.From, To: t.To,
					ChangedAt: t.At, State: DeliveryPending, NextAttemptAt: now, CreatedAt: now})
			}
		}
	}
	return out, nil
}

// statusMatches reports whether a status filter keeps a status.
func statusMatches(c Choice[Status], s Status) bool {
	return (len(c.Is) == 0 || c.Has(s)) && !c.Excludes(s)
}

// seesView reports whether the alert's owner, v, still sees the view it
// watches: Needs attention always, a saved view as long as it is their own
// or their team's.
func (s *Store) seesView(ctx context.Context, v Viewer, a *Alert) (bool, error) {
	if a.ViewID == 0 {
		return true, nil
	}
	_, err := s.SavedView(ctx, v, a.ViewID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// matching reports which of the changed items the viewer's view, all but
// its status filter, shows: the list's query narrowed to those ids.
func (s *Store) matching(ctx context.Context, tx bun.Tx, v Viewer, f Filter, changes []transition) (map[string]bool, error) {
	f.Statuses, f.Cursor = Choice[Status]{}, ""
	q, _, _, err := s.ResolveFilter(ctx, v, f)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(changes))
	for i, t := range changes {
		ids[i] = t.ItemID
	}
	var parts []*bun.SelectQuery
	for _, a := range visibleArms(q) {
		parts = append(parts, s.armQuery(q, a, "id").Where("id IN (?)", bun.In(ids)))
	}
	out := map[string]bool{}
	if len(parts) == 0 {
		return out, nil
	}
	var found []string
	if err := tx.NewSelect().TableExpr("(?) AS u", s.unionOfArms(parts)).Column("id").Scan(ctx, &found); err != nil {
		return nil, fmt.Errorf("app: changed items in view: %w", err)
	}
	for _, id := range found {
		out[id] = true
	}
	return out, nil
}

// ClaimDeliveries takes up to n deliveries that are due, for one attempt
// each: each is counted as attempted and not due again until lease has
// passed, so that no other worker, in this replica or another, takes it
// meanwhile, and a worker that stops mid-attempt leaves it to be tried
// again.
func (s *Store) ClaimDeliveries(ctx context.Context, n int, lease time.Duration) ([]*Delivery, error) {
	now := s.Now()
	lock := ""
	if s.dialect == "postgres" {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var ds []*Delivery
	err := s.inTx(ctx, func(tx bun.Tx) error {
		ds = nil
		return tx.NewRaw(`UPDATE alert_deliveries SET attempts = attempts + 1, next_attempt_at = ?
			WHERE id IN (SELECT id FROM alert_deliveries WHERE state = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`+lock+`)
			RETURNING *`, now.Add(lease), DeliveryPending, now, n).Scan(ctx, &ds)
	})
	if err != nil {
		return nil, fmt.Errorf("app: claim alert deliveries: %w", err)
	}
	slices.SortFunc(ds, func(a, b *Delivery) int { return cmp.Compare(a.ID, b.ID) })
	return ds, nil
}

// Outgoing is a delivery with what it speaks of, read when it is sent.
type Outgoing struct {
	Delivery *Delivery
	Alert    *Alert
	Item     *Item // nil for a test
}

// ErrNotForOwner says a delivery is not sent: its person may no longer see
// its item, or its view.
var ErrNotForOwner = errors.New("app: the alert's owner may no longer see this")

// Outgoing reads what a claimed delivery speaks of and checks, now, that the
// alert's owner may still see it: the item, and the saved view watched.
// ErrNotForOwner says they may not; ErrNotFound that the alert is gone.
func (s *Store) Outgoing(ctx context.Context, d *Delivery) (Outgoing, error) {
	out := Outgoing{Delivery: d, Alert: new(Alert)}
	err := s.db.NewSelect().Model(out.Alert).Relation("View").Relation("Owner").Where("alert.id = ?", d.AlertID).Scan(ctx)
	if err != nil {
		return out, fmt.Errorf("app: alert %d: %w", d.AlertID, notFound(err))
	}
	v, err := s.Viewer(ctx, out.Alert.OwnerID)
	if err != nil {
		return out, err
	}
	if sees, err := s.seesView(ctx, v, out.Alert); err != nil || !sees {
		if err != nil {
			return out, err
		}
		return out, fmt.Errorf("app: the view of alert %d: %w", d.AlertID, ErrNotForOwner)
	}
	if d.Test() {
		return out, nil
	}
	if out.Item, err = s.itemByID(ctx, s.db, d.ItemID); err != nil {
		return out, err
	}
	if !v.CanSee(out.Item) {
		return out, fmt.Errorf("app: item %s of alert %d: %w", d.ItemID, d.AlertID, ErrNotForOwner)
	}
	return out, nil
}

// Attempt is how an attempt at a delivery ended: in State, with Outcome in
// words, and, while it is still pending, RetryAt.
type Attempt struct {
	State   DeliveryState
	Outcome string
	RetryAt time.Time
}

// maxOutcome bounds the words kept about an attempt.
const maxOutcome = 300

// FinishDelivery records how an attempt at a delivery ended. A delivery no
// longer pending is left as it is.
func (s *Store) FinishDelivery(ctx context.Context, id int64, a Attempt) error {
	upd := s.db.NewUpdate().Model((*Delivery)(nil)).
		Set("state = ?", a.State).Set("outcome = ?", ClipText(CleanText(a.Outcome), maxOutcome)).
		Where("id = ? AND state = ?", id, DeliveryPending)
	if a.State == DeliveryPending {
		upd = upd.Set("next_attempt_at = ?", a.RetryAt.UTC())
	} else {
		upd = upd.Set("done_at = ?", s.Now())
	}
	if _, err := upd.Exec(ctx); err != nil {
		return fmt.Errorf("app: record delivery %d: %w", id, err)
	}
	return nil
}

// NextDeliveryDue is when the earliest pending delivery is due; zero when
// none is pending.
func (s *Store) NextDeliveryDue(ctx context.Context) (time.Time, error) {
	var due []time.Time
	err := s.db.NewSelect().Model((*Delivery)(nil)).Column("next_attempt_at").Where("state = ?", DeliveryPending).
		OrderExpr("next_attempt_at").Limit(1).Scan(ctx, &due)
	if err != nil {
		return time.Time{}, fmt.Errorf("app: next delivery due: %w", err)
	}
	if len(due) == 0 {
		return time.Time{}, nil
	}
	return due[0].UTC(), nil
}

// PruneDeliveries forgets deliveries done before a moment, so that an
// alert's history stays bounded; it returns how many.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.NewDelete().Model((*Delivery)(nil)).Where("state <> ? AND created_at < ?", DeliveryPending, before).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("app: prune alert deliveries: %w", err)
	}
	return res.RowsAffected()
}
