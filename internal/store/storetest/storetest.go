// Package storetest opens real stores for tests: a temporary SQLite file or
// a fresh PostgreSQL schema, closed and dropped at cleanup. Every test that
// needs a store (the store's own tests and the domain packages' tests that
// run over it) opens it here, and runs on both dialects with Each or
// EachDialect, as dendrite's test.WithAllDatabases does. Only tests import
// it.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to create test schemas

	"github.com/parleychat/parley/internal/store"
)

// Dialects are the stores every store test runs on.
var Dialects = []store.Dialect{store.SQLite, store.Postgres}

// PostgresURL is the database the PostgreSQL runs use:
// PARLEY_TEST_POSTGRES_URL, or the local trust-auth server.
func PostgresURL() string {
	if u := os.Getenv("PARLEY_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

var (
	pgOnce sync.Once
	pgErr  error
)

// RequirePostgres skips the test with a clear message when no PostgreSQL is
// reachable, except on CI (CI=true), where it fails: CI must run both stores.
func RequirePostgres(tb testing.TB) {
	tb.Helper()
	pgOnce.Do(func() {
		db, err := sql.Open("pgx", PostgresURL())
		if err != nil {
			pgErr = err
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		pgErr = db.PingContext(ctx)
	})
	if pgErr != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("PostgreSQL at %s is not reachable on CI: %v", PostgresURL(), pgErr)
		}
		tb.Skipf("SKIP: no PostgreSQL reachable at %s (%v); set PARLEY_TEST_POSTGRES_URL to run the PostgreSQL half", PostgresURL(), pgErr)
	}
}

// PostgresSchema creates a fresh schema and returns a URL whose connections
// use it; the schema is dropped at cleanup.
func PostgresSchema(tb testing.TB) string {
	tb.Helper()
	RequirePostgres(tb)
	u, drop, err := NewPostgresSchema()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := drop(); err != nil {
			tb.Logf("%v", err)
		}
	})
	return u
}

// NewPostgresSchema creates a fresh schema and returns a URL whose
// connections use it and the function that drops it: for a store that
// outlives one test (call RequirePostgres first).
func NewPostgresSchema() (string, func() error, error) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	u, err := url.Parse(PostgresURL())
	if err != nil {
		return "", nil, fmt.Errorf("postgres url: %w", err)
	}
	db, err := sql.Open("pgx", PostgresURL())
	if err != nil {
		return "", nil, fmt.Errorf("open postgres: %w", err)
	}
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		_ = db.Close() // the create error is the one to report
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	drop := func() error {
		defer db.Close()
		if _, err := db.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			return fmt.Errorf("drop schema %s: %w", schema, err)
		}
		return nil
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

// Config returns the configuration of a fresh, empty store of dialect d: a
// SQLite file in a temporary directory, or a new PostgreSQL schema (the test
// is skipped when PostgreSQL is not reachable, see RequirePostgres). Open it
// with OpenConfig, as often as the test needs (two nodes, a reopen).
func Config(tb testing.TB, d store.Dialect) store.Config {
	tb.Helper()
	cfg := store.Config{Dialect: d}
	switch d {
	case store.SQLite:
		cfg.Path = filepath.Join(tb.TempDir(), "parley.db")
	case store.Postgres:
		cfg.PostgresURL = PostgresSchema(tb)
	default:
		tb.Fatalf("storetest: unknown dialect %q", d)
	}
	return cfg
}

// OpenConfig opens the store cfg names (applying migrations) and closes it at
// cleanup.
func OpenConfig(tb testing.TB, cfg store.Config) *store.DB {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		tb.Fatalf("store.Open(%s): %v", cfg.Dialect, err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	return db
}

// Open opens a fresh, empty store of dialect d and closes it at cleanup.
func Open(tb testing.TB, d store.Dialect) *store.DB {
	tb.Helper()
	return OpenConfig(tb, Config(tb, d))
}

// EachDialect runs f as a subtest per dialect: SQLite always, PostgreSQL
// when reachable (RequirePostgres).
func EachDialect(t *testing.T, f func(t *testing.T, d store.Dialect)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(string(d), func(t *testing.T) {
			if d == store.Postgres {
				RequirePostgres(t)
			}
			f(t, d)
		})
	}
}

// Each runs f as a subtest per dialect with a fresh, empty store of it.
func Each(t *testing.T, f func(t *testing.T, db *store.DB)) {
	t.Helper()
	EachDialect(t, func(t *testing.T, d store.Dialect) {
		f(t, Open(t, d))
	})
}

// EachBenchmark runs f as a sub-benchmark per dialect with a fresh, empty
// store of it.
func EachBenchmark(b *testing.B, f func(b *testing.B, db *store.DB)) {
	b.Helper()
	for _, d := range Dialects {
		b.Run(string(d), func(b *testing.B) {
			f(b, Open(b, d))
		})
	}
}
