package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
)

// Backup writes a consistent copy of the whole store to path, which must
// not exist yet, while the server may keep running (docs/rules.md §11 "backup").
//
// SQLite: VACUUM INTO, which reads one snapshot and writes a compact
// database file that Parley opens as it is (--data with the file as
// parley.db). PostgreSQL: pg_dump's custom format of Parley's schema
// (restore with pg_restore), because a dump taken by the database's own
// tool is what PostgreSQL operators already know how to restore.
func (db *DB) Backup(ctx context.Context, path string) error {
	if path == "" {
		return errors.New("backup: no output file given")
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("backup: %s already exists; choose a new file", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("backup: %w", err)
	}
	if dir := filepath.Dir(path); dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return fmt.Errorf("backup: the folder of %s: %w", path, err)
		}
	}
	if db.dialect == SQLite {
		// The writer pins one of the write pool's two connections; the
		// other takes this statement, so writes go on meanwhile.
		if _, err := db.write.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
			return fmt.Errorf("backup to %s: %w", path, err)
		}
		return nil
	}
	return db.pgDump(ctx, path)
}

// pgDump runs pg_dump for the schema the store works in.
func (db *DB) pgDump(ctx context.Context, path string) error {
	bin, err := exec.LookPath("pg_dump")
	if err != nil {
		return errors.New("backup: pg_dump is not on PATH; install the PostgreSQL client tools (Debian: postgresql-client)")
	}
	var schema string
	if err := db.read.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("backup: find the schema: %w", err)
	}
	u, err := url.Parse(db.pgURL)
	if err != nil {
		return fmt.Errorf("backup: the PostgreSQL URL: %w", err)
	}
	// search_path is pgx's way to pick the schema; libpq refuses it in a
	// URL, and --schema says the same to pg_dump.
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "--format=custom", "--schema="+schema, "--file="+path, "--dbname="+u.String())
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		_ = os.Remove(path) // a partial dump is no backup
		return fmt.Errorf("backup: pg_dump: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return nil
}
