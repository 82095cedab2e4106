package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/agentdeck/agentdeck/migrations"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/migrate"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" database/sql driver
)

// Store keeps everything agentdeck knows, on PostgreSQL or on an embedded
// SQLite file, through one set of queries.
type Store struct {
	db      *bun.DB
	dialect string
	now     func() time.Time
	hub     Hub
	cache   *storeCache
	// itemColumns are the columns of an Item, in place of "*": a page of
	// rows then leaves out what the database keeps for itself, such as the
	// search index's words.
	itemColumns []string
	// closing ends with Close, and with it what the store runs in the
	// background.
	closing     context.Context
	stopClosing context.CancelFunc
	pricing     Pricing
	// openURLSchemes are the schemes an item's open_url may use.
	openURLSchemes []string
	// maxTokensPerUser bounds a user's live access tokens.
	maxTokensPerUser int
	// privateDestinations lets alerts call private addresses.
	privateDestinations atomic.Bool
}

// OpenStore connects to dsn: a postgres:// URL, or else the path of an SQLite
// file (created when missing).
func OpenStore(ctx context.Context, dsn string) (*Store, error) {
	var (
		db      *bun.DB
		dialect string
		hub     Hub
	)
	cache := newStoreCache()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		sqldb, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("app: open postgres: %w", err)
		}
		sqldb.SetMaxOpenConns(20)
		sqldb.SetMaxIdleConns(20)
		sqldb.SetConnMaxIdleTime(5 * time.Minute)
		db, dialect = bun.NewDB(sqldb, pgdialect.New()), "postgres"
		var schema string
		if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			db.Close()
			return nil, fmt.Errorf("app: connect to the postgres database: %w", err)
		}
		hub = newPostgresHub(db, dsn, schema, cache.observe)
	} else {
		sqldb, err := sql.Open("sqlite", sqliteDSN(dsn))
		if err != nil {
			return nil, fmt.Errorf("app: open sqlite %s: %w", dsn, err)
		}
		db, dialect = bun.NewDB(sqldb, sqlitedialect.New()), "sqlite"
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("app: connect to the sqlite database: %w", err)
		}
		hub = newMemoryHub(cache.observe)
	}
	s := &Store{db: db, dialect: dialect, now: time.Now, hub: hub, cache: cache, pricing: DefaultPricing(),
		openURLSchemes: DefaultOpenURLSchemes, maxTokensPerUser: DefaultMaxTokensPerUser, itemColumns: itemColumnsOf(db)}
	s.closing, s.stopClosing = context.WithCancel(context.Background())
	cache.hearsAll = hub.(interface{ hearsAll() bool }).hearsAll
	if dialect == "postgres" {
		s.listenForCache(ctx)
	}
	return s, nil
}

// sqliteDSN sets the pragmas the modernc driver reads from the DSN (it ignores
// the mattn-style options): wait on locks instead of failing, WAL so readers
// never block the writer, foreign keys on, and write transactions that take
// the write lock up front so they cannot deadlock on upgrade.
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// Close sends the hints still pending, ends the hub's subscriptions and
// releases the database connections.
func (s *Store) Close() error {
	s.stopClosing()
	s.hub.Close()
	return s.db.Close()
}

// Hub is where the store announces changes that views show: in this process
// on SQLite, to every replica on PostgreSQL.
func (s *Store) Hub() Hub { return s.hub }

// itemChanged announces, after the write has committed, that items changed in
// a way a view shows (created, status, credits, finished). Every write path
// that changes such fields calls it once; the hub coalesces bursts.
func (s *Store) itemChanged(ids ...string) {
	hints := make([]Hint, len(ids))
	for i, id := range ids {
		hints[i] = Hint{ItemID: id}
	}
	s.changed(hints...)
}

// eventsAppended announces, after the write has committed, that events were
// appended to an item, for the session page's tail. It is one hint per item
// and window however many events arrived, never one per log line.
func (s *Store) eventsAppended(itemID string) {
	s.hub.Publish(Hint{ItemID: itemID, Events: true})
}

// Dialect is "postgres" or "sqlite".
func (s *Store) Dialect() string { return s.dialect }

// DB exposes the database handle to benchmarks and to the operator commands
// that measure raw queries beside the app's own.
func (s *Store) DB() *bun.DB { return s.db }

// SetClock replaces the store's clock; tests use it to pin "now".
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// Now is the store's current time in UTC, at the microsecond precision both
// databases keep.
func (s *Store) Now() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Migrate applies every migration not yet applied; running it again is a
// no-op. On PostgreSQL an advisory lock makes replicas that start together
// take turns.
func (s *Store) Migrate(ctx context.Context) error {
	fsys, err := migrations.For(s.dialect)
	if err != nil {
		return err
	}
	ms := migrate.NewMigrations()
	if err := ms.Discover(fsys); err != nil {
		return fmt.Errorf("app: discover migrations: %w", err)
	}
	if s.dialect == "postgres" {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("app: migrate: %w", err)
		}
		defer conn.Close()
		const lockKey = 0x61646b6d6967 // "adkmig"
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", lockKey); err != nil {
			return fmt.Errorf("app: migrate: take lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", lockKey)
	}
	m := migrate.NewMigrator(s.db, ms, migrate.WithMarkAppliedOnSuccess(true))
	if err := m.Init(ctx); err != nil {
		return fmt.Errorf("app: migrate: init: %w", err)
	}
	if _, err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("app: migrate: %w", err)
	}
	return nil
}

// inTx runs fn in a transaction, committing only when fn returns nil. A
// transaction PostgreSQL aborts for a deadlock or a serialization failure
// is run again (retryConflicts), so fn must start from scratch each time:
// whatever it accumulates outside the transaction it resets first.
func (s *Store) inTx(ctx context.Context, fn func(tx bun.Tx) error) error {
	return retryConflicts(ctx, func() error {
		return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error { return fn(tx) })
	})
}

// conflictAttempts is how often a statement or transaction that PostgreSQL
// aborted to break a deadlock or a serialization conflict is tried in all.
const conflictAttempts = 5

// retryConflicts runs fn, and runs it again when PostgreSQL aborted it for a
// serialization failure (SQLSTATE 40001) or to break a deadlock (40P01):
// both undo everything fn did, and both are expected to pass when tried
// again a moment later, once the other party has finished. The pause grows
// and is jittered, so that two aborted writers do not meet again in step.
// Any other error, or the last attempt's, is returned as it is.
func retryConflicts(ctx context.Context, fn func() error) error {
	pause := 5 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || attempt == conflictAttempts || !isConflict(err) {
			return err
		}
		t := time.NewTimer(pause + rand.N(pause))
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		pause *= 2
	}
}

// isConflict recognises PostgreSQL's serialization failure and deadlock.
func isConflict(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40001" || pg.Code == "40P01")
}

// notFound turns sql.ErrNoRows into ErrNotFound and leaves other errors be.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// NewItemID returns a fresh, time-ordered item id.
func NewItemID() string { return uuid.Must(uuid.NewV7()).String() }

// validItemID accepts ids in canonical lower-case UUID form only, so that a
// client-chosen id is as safe in a URL as one of ours.
func validItemID(id string) bool {
	u, err := uuid.Parse(id)
	return err == nil && len(id) == 36 && u.String() == id
}
