package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/parleychat/parley/internal/limit"
)

var _ limit.Store = (*DB)(nil)

// pruneLimitsEvery is how many limit updates pass between two deletions of
// expired rows.
const pruneLimitsEvery = 1024

var limitUpdates atomic.Int64

// UpdateLimits runs fn over the states of keys atomically. On SQLite it
// runs in the writer, which runs one write at a time. On PostgreSQL it
// runs in a transaction of its own that locks each key's row (in key
// order, so two callers never wait for each other in a cycle): another
// node's update of the same key waits for the COMMIT. Rows are created on
// first use and deleted once expired.
func (db *DB) UpdateLimits(ctx context.Context, keys []string, now time.Time, fn func(states []limit.State)) error {
	keys = slices.Clone(keys)
	for i, k := range keys {
		keys[i] = limitKey(k)
	}
	order := slices.Clone(keys)
	slices.Sort(order)
	order = slices.Compact(order)
	run := func(tx *sql.Tx) error {
		byKey := make(map[string]limit.State, len(order))
		for _, k := range order {
			var s limit.State
			var at, seen, expires int64
			err := db.txQueryRow(tx, `INSERT INTO limits (key) VALUES (?) ON CONFLICT (key) DO UPDATE SET key = excluded.key
				RETURNING tokens, attempts, at, seen, expires`, k).Scan(&s.Tokens, &s.Count, &at, &seen, &expires)
			if err != nil {
				return fmt.Errorf("lock limit %q: %w", k, err)
			}
			if expires == 0 || expires > micros(now) {
				s.At, s.Seen, s.Expires = fromMicros(at), fromMicros(seen), fromMicros(expires)
			} else {
				s = limit.State{}
			}
			byKey[k] = s
		}
		states := make([]limit.State, len(keys))
		for i, k := range keys {
			states[i] = byKey[k]
		}
		fn(states)
		for i, k := range keys {
			byKey[k] = states[i] // a repeated key keeps its last state
		}
		for _, k := range order {
			s := byKey[k]
			if _, err := db.txExec(tx, `UPDATE limits SET tokens = ?, attempts = ?, at = ?, seen = ?, expires = ? WHERE key = ?`,
				s.Tokens, s.Count, micros(s.At), micros(s.Seen), micros(s.Expires), k); err != nil {
				return fmt.Errorf("store limit %q: %w", k, err)
			}
		}
		if limitUpdates.Add(1)%pruneLimitsEvery == 0 {
			if _, err := db.txExec(tx, `DELETE FROM limits WHERE expires > 0 AND expires < ?`, micros(now)); err != nil {
				return fmt.Errorf("prune limits: %w", err)
			}
		}
		return nil
	}
	return db.atomically(ctx, run)
}

// limitKey is the stored form of a key: itself, or a hash of it when it is
// long or holds what a PostgreSQL TEXT cannot (a NUL byte, invalid UTF-8;
// keys hold what callers typed).
func limitKey(k string) string {
	if len(k) <= 200 && utf8.ValidString(k) && !strings.ContainsRune(k, 0) {
		return k
	}
	h := sha256.Sum256([]byte(k))
	return "sha256:" + hex.EncodeToString(h[:])
}

// atomically runs fn, a short read-modify-write of rows that change no
// chat, member or account, so that no other write of those rows comes in
// between, on any node. On SQLite that is any write: fn runs in the one
// writer. On PostgreSQL fn runs in a transaction of its own on the pool,
// beside the writer, and must lock what it reads (UPDATE, or INSERT … ON
// CONFLICT DO UPDATE): in a group with unrelated writes, its locks would
// be held longer and could wait in a cycle with another node's group.
func (db *DB) atomically(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if db.dialect == SQLite {
		return db.inWriteTouching(ctx, touchNone, fn)
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback() // the error that made us roll back is the one to report
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
