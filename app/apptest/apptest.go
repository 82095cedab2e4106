// Package apptest opens real, migrated stores for tests: an SQLite file
// always, and a PostgreSQL schema of its own whenever TEST_DATABASE_URL is set.
package apptest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/agentdeck/agentdeck/app"
)

// Named is a store and the name of its database, for subtest names.
type Named struct {
	Name  string
	Store *app.Store
}

// Stores returns a fresh store per available database.
func Stores(t testing.TB) []Named {
	t.Helper()
	stores := []Named{{"sqlite", SQLite(t)}}
	if os.Getenv("TEST_DATABASE_URL") != "" {
		stores = append(stores, Named{"postgres", Postgres(t)})
	}
	return stores
}

// Each runs fn as a subtest on every available database.
func Each(t *testing.T, fn func(t *testing.T, s *app.Store)) {
	t.Helper()
	for _, n := range Stores(t) {
		t.Run(n.Name, func(t *testing.T) { fn(t, n.Store) })
	}
}

// SQLite opens a migrated store on a new SQLite file in the test's temp dir.
func SQLite(t testing.TB) *app.Store {
	t.Helper()
	return Open(t, filepath.Join(t.TempDir(), "test.db"))
}

// Postgres opens a migrated store in a new schema of TEST_DATABASE_URL's
// database, dropped when the test ends. Without TEST_DATABASE_URL the test is
// skipped; with it, any failure fails the test.
func Postgres(t testing.TB) *app.Store {
	t.Helper()
	return Open(t, PostgresDSN(t))
}

// PostgresDSN creates a new, empty schema in TEST_DATABASE_URL's database and
// returns its DSN, for tests that open several stores on one database, as
// replicas do. Without TEST_DATABASE_URL the test is skipped.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		t.Skip("TEST_DATABASE_URL is not set")
	}
	return PostgresSchema(t, base)
}

// Open opens a store on dsn, migrates it and closes it when the test ends.
func Open(t testing.TB, dsn string) *app.Store {
	t.Helper()
	s, err := app.OpenStore(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate store: %v", err)
	}
	return s
}

// PostgresSchema creates an empty schema in base's database and returns a DSN
// whose search path is that schema. The schema is dropped at cleanup.
func PostgresSchema(t testing.TB, base string) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open %s: %v", base, err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// SetStatus changes an item's status as its owner would through the API, so
// tests can drive an item through its life without an HTTP client.
func SetStatus(ctx context.Context, s *app.Store, id string, status app.Status) error {
	var creatorID int64
	err := s.DB().NewSelect().Table("items").Column("creator_id").Where("id = ?", id).Scan(ctx, &creatorID)
	if errors.Is(err, sql.ErrNoRows) {
		return app.ErrNotFound
	}
	if err != nil {
		return err
	}
	v, err := s.Viewer(ctx, creatorID)
	if err != nil {
		return err
	}
	_, err = s.UpdateRun(ctx, v, id, app.RunChange{Status: &status})
	return err
}
