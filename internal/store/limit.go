package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

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
	if db.dialect == SQLite {
		return db.inWriteTouching(ctx, touchNone, run)
	}
	return db.inOwnTx(ctx, run)
}

// inOwnTx runs fn in a transaction of its own on the pool (PostgreSQL),
// beside the writer: for short updates that lock rows, which must not sit
// in a group with unrelated writes.
func (db *DB) inOwnTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
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
