package store

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations
var migrations embed.FS

// Migration is one numbered SQL file of a dialect.
type Migration struct {
	Version int
	Name    string
	SQL     string
	// Checksum is the hex SHA-256 of SQL with CRLF line endings read as LF,
	// recorded when the migration is applied and compared at every start.
	Checksum string
}

// checksumVersion is the migration that adds schema_migrations.checksum:
// once it is applied the column exists, and every row has a checksum.
const checksumVersion = 7

// File returns the migration's file name, NNNN_name.sql.
func (m Migration) File() string { return fmt.Sprintf("%04d_%s.sql", m.Version, m.Name) }

func checksum(sql string) string {
	h := sha256.Sum256([]byte(strings.ReplaceAll(sql, "\r\n", "\n")))
	return hex.EncodeToString(h[:])
}

// Migrations returns the dialect's migrations in order.
func Migrations(d Dialect) ([]Migration, error) {
	dir := path.Join("migrations", string(d))
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations of %s: %w", d, err)
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		num, rest, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migration %s/%s: want NNNN_name.sql", d, name)
		}
		b, err := migrations.ReadFile(path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		out = append(out, Migration{Version: v, Name: strings.TrimSuffix(rest, ".sql"), SQL: string(b), Checksum: checksum(string(b))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// migrate applies, each in its own transaction, the migrations not yet recorded.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	if db.dialect == Postgres {
		// Several nodes may start at once: one migrates, the others wait.
		conn, err := db.write.Conn(ctx)
		if err != nil {
			return fmt.Errorf("lock migrations: %w", err)
		}
		defer conn.Close() //nolint:errcheck // closing the session releases the lock too
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(5051726)`); err != nil {
			return fmt.Errorf("lock migrations: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(5051726)`) //nolint:errcheck // closing the session releases the lock too
	}
	ms, err := Migrations(db.dialect)
	if err != nil {
		return err
	}
	applied, err := db.appliedMigrations(ctx)
	if err != nil {
		return err
	}
	if err := checkApplied(db.dialect, ms, applied); err != nil {
		return err
	}
	for _, m := range ms {
		if _, ok := applied[m.Version]; ok {
			continue
		}
		tx, err := db.write.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migration %d: %w", m.Version, err)
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			_ = tx.Rollback() // the Exec error is the one to report
			return fmt.Errorf("migration %d %s: %w", m.Version, m.Name, err)
		}
		record := `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`
		args := []any{m.Version, m.Name, time.Now().UnixMicro()}
		if m.Version >= checksumVersion {
			record = `INSERT INTO schema_migrations (version, name, applied_at, checksum) VALUES (?, ?, ?, ?)`
			args = append(args, m.Checksum)
		}
		if _, err := tx.ExecContext(ctx, db.q(record), args...); err != nil {
			_ = tx.Rollback() // the Exec error is the one to report
			return fmt.Errorf("record migration %d: %w", m.Version, err)
		}
		if m.Version == checksumVersion {
			// The migrations applied before the column existed are
			// recorded as they are now.
			for _, old := range ms {
				if old.Version >= checksumVersion {
					break
				}
				if _, err := tx.ExecContext(ctx, db.q(`UPDATE schema_migrations SET checksum = ? WHERE version = ? AND checksum = ''`), old.Checksum, old.Version); err != nil {
					_ = tx.Rollback() // the Exec error is the one to report
					return fmt.Errorf("record checksum of migration %d: %w", old.Version, err)
				}
			}
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit migration %d: %w", m.Version, err)
		}
	}
	return nil
}

// applied is a recorded migration: its name, and its checksum once the
// checksum migration ran.
type applied struct {
	name, checksum string
}

// appliedMigrations reads schema_migrations.
func (db *DB) appliedMigrations(ctx context.Context) (map[int]applied, error) {
	out := map[int]applied{}
	rows, err := db.write.QueryContext(ctx, `SELECT version, name FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	for rows.Next() {
		var v int
		var a applied
		if err := rows.Scan(&v, &a.name); err != nil {
			_ = rows.Close() // the Scan error is the one to report
			return nil, fmt.Errorf("read applied migrations: %w", err)
		}
		out[v] = a
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	if _, ok := out[checksumVersion]; !ok {
		return out, nil // no checksum column yet
	}
	rows, err = db.write.QueryContext(ctx, `SELECT version, checksum FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read applied migrations' checksums: %w", err)
	}
	defer rows.Close() //nolint:errcheck // read-only; Err reports
	for rows.Next() {
		var v int
		var sum string
		if err := rows.Scan(&v, &sum); err != nil {
			return nil, fmt.Errorf("read applied migrations' checksums: %w", err)
		}
		a := out[v]
		a.checksum = sum
		out[v] = a
	}
	return out, rows.Err()
}

// checkApplied refuses a store whose applied migrations are not this
// build's: a migration's file changed after it was applied (by content,
// not only by name), was renamed, or is unknown to this build (the store
// was migrated by a newer Parley).
func checkApplied(d Dialect, ms []Migration, done map[int]applied) error {
	byVersion := make(map[int]Migration, len(ms))
	for _, m := range ms {
		byVersion[m.Version] = m
	}
	versions := make([]int, 0, len(done))
	for v := range done {
		versions = append(versions, v)
	}
	sort.Ints(versions)
	for _, v := range versions {
		a := done[v]
		m, ok := byVersion[v]
		switch {
		case !ok:
			return fmt.Errorf("the %s store has migration %04d_%s.sql applied, which this build of Parley does not have: "+
				"the store was used by a newer Parley; run that version (or restore a backup taken before it)", d, v, a.name)
		case a.name != m.Name:
			return fmt.Errorf("the %s store has migration %04d applied as %q, but this build names it %s: "+
				"a migration file was renamed or replaced after it was applied; restore it as it was and add changes as a new migration", d, v, a.name, m.File())
		case a.checksum != "" && a.checksum != m.Checksum:
			return fmt.Errorf("migration %s/%s was changed after it was applied to this store (applied sha256 %.12s, this build's %.12s): "+
				"restore the file as it was and add the change as a new migration", d, m.File(), a.checksum, m.Checksum)
		}
	}
	return nil
}
