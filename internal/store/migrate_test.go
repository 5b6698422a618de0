package store_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/store"
	"github.com/parleychat/parley/internal/store/storetest"
)

// rawDB opens the database cfg names without the store, to read and
// tamper with schema_migrations.
func rawDB(t *testing.T, cfg store.Config) *sql.DB {
	t.Helper()
	driver, dsn := "sqlite", cfg.Path
	if cfg.Dialect == store.Postgres {
		driver, dsn = "pgx", cfg.PostgresURL
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// exec runs a statement with ? placeholders on either dialect.
func exec(t *testing.T, db *sql.DB, d store.Dialect, q string, args ...any) {
	t.Helper()
	if d == store.Postgres {
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", "$"+string(rune('0'+i)), 1)
		}
	}
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// recorded returns schema_migrations' checksums by version.
func recorded(t *testing.T, db *sql.DB) map[int]string {
	t.Helper()
	rows, err := db.Query(`SELECT version, checksum FROM schema_migrations`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int]string{}
	for rows.Next() {
		var v int
		var sum string
		if err := rows.Scan(&v, &sum); err != nil {
			t.Fatal(err)
		}
		out[v] = sum
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// open opens the store and closes it again, returning the open error.
func openClose(t *testing.T, cfg store.Config) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		return err
	}
	if err := db.Close(); err != nil {
		t.Fatalf("close store: %v", err)
	}
	return nil
}

// TestMigrationChecksums: every applied migration's checksum is recorded;
// a start refuses a store whose applied migration's file changed (by
// content, the name unchanged), was renamed, or is unknown to the build,
// naming the file; the store opens again once the record and the file
// agree.
func TestMigrationChecksums(t *testing.T) {
	t.Parallel()
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		ms, err := store.Migrations(d)
		if err != nil {
			t.Fatal(err)
		}
		cfg := storetest.Config(t, d)
		if err := openClose(t, cfg); err != nil {
			t.Fatalf("open a new store: %v", err)
		}
		raw := rawDB(t, cfg)
		got := recorded(t, raw)
		if len(got) != len(ms) {
			t.Fatalf("%d migrations recorded, want %d", len(got), len(ms))
		}
		for _, m := range ms {
			if got[m.Version] != m.Checksum || len(m.Checksum) != 64 {
				t.Errorf("migration %s: recorded checksum %q, want %q", m.File(), got[m.Version], m.Checksum)
			}
		}

		safety := ms[2]
		tests := []struct {
			name     string
			tamper   string
			args     []any
			restore  string
			rargs    []any
			wantErrs []string
		}{
			{"content changed", `UPDATE schema_migrations SET checksum = ? WHERE version = ?`, []any{strings.Repeat("0", 64), safety.Version},
				`UPDATE schema_migrations SET checksum = ? WHERE version = ?`, []any{safety.Checksum, safety.Version},
				[]string{safety.File(), "was changed after it was applied", "add the change as a new migration"}},
			{"renamed", `UPDATE schema_migrations SET name = ? WHERE version = ?`, []any{"spam", safety.Version},
				`UPDATE schema_migrations SET name = ? WHERE version = ?`, []any{safety.Name, safety.Version},
				[]string{`applied as "spam"`, safety.File(), "renamed"}},
			{"unknown", `INSERT INTO schema_migrations (version, name, applied_at, checksum) VALUES (?, ?, ?, ?)`, []any{9999, "future", 0, "x"},
				`DELETE FROM schema_migrations WHERE version = ?`, []any{9999},
				[]string{"9999_future.sql", "does not have", "newer Parley"}},
		}
		for _, tc := range tests {
			exec(t, raw, d, tc.tamper, tc.args...)
			err := openClose(t, cfg)
			if err == nil {
				t.Fatalf("%s: the store opened", tc.name)
			}
			for _, want := range tc.wantErrs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%s: error %q does not say %q", tc.name, err, want)
				}
			}
			exec(t, raw, d, tc.restore, tc.rargs...)
			if err := openClose(t, cfg); err != nil {
				t.Fatalf("%s: restored, the store does not open: %v", tc.name, err)
			}
		}
	})
}

// TestMigrationChecksumsRecordedForOlderStores: a store migrated before
// checksums were recorded (schema_migrations without the column) opens,
// its earlier migrations get this build's checksums, and from then on a
// change of one of them is refused.
func TestMigrationChecksumsRecordedForOlderStores(t *testing.T) {
	t.Parallel()
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		ms, err := store.Migrations(d)
		if err != nil {
			t.Fatal(err)
		}
		cfg := storetest.Config(t, d)
		raw := rawDB(t, cfg)
		exec(t, raw, d, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`)
		var before []store.Migration
		for _, m := range ms {
			if m.Name == "migration_checksums" {
				break
			}
			before = append(before, m)
			if _, err := raw.Exec(m.SQL); err != nil {
				t.Fatalf("migration %s: %v", m.File(), err)
			}
			exec(t, raw, d, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, m.Version, m.Name, 1)
		}
		if len(before) == 0 || len(before) == len(ms) {
			t.Fatalf("%d of %d migrations come before migration_checksums", len(before), len(ms))
		}
		if err := openClose(t, cfg); err != nil {
			t.Fatalf("open a store migrated before checksums: %v", err)
		}
		got := recorded(t, raw)
		for _, m := range ms {
			if got[m.Version] != m.Checksum {
				t.Errorf("migration %s: recorded checksum %q, want %q", m.File(), got[m.Version], m.Checksum)
			}
		}
		exec(t, raw, d, `UPDATE schema_migrations SET checksum = ? WHERE version = ?`, "changed", before[0].Version)
		if err := openClose(t, cfg); err == nil || !strings.Contains(err.Error(), before[0].File()) {
			t.Fatalf("a changed early migration: got %v, want a refusal naming %s", err, before[0].File())
		}
	})
}
