package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/parleychat/parley/internal/bot"
)

var _ bot.Queue = (*DB)(nil)

const botActivityColumns = `id, bot_id, activity, created_at, next_attempt_at, attempts, last_error`

// EnqueueBotActivity stores a queued activity; it returns once committed.
func (db *DB) EnqueueBotActivity(ctx context.Context, e bot.Entry) error {
	return db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		_, err := db.txExec(tx, `INSERT INTO bot_activities (`+botActivityColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			e.ID, e.BotID, string(e.Activity), micros(e.CreatedAt), micros(e.NextAttemptAt), e.Attempts, e.LastError)
		if err != nil {
			return fmt.Errorf("queue bot activity: %w", err)
		}
		return nil
	})
}

// FindDueBotActivities returns up to limit entries of a bot due at or
// before now, in queueing order, and when the bot's next entry that is not
// yet due is due (zero when it has none).
func (db *DB) FindDueBotActivities(ctx context.Context, botID string, now time.Time, limit int) ([]bot.Entry, time.Time, error) {
	rows, err := db.query(ctx, `SELECT `+botActivityColumns+` FROM bot_activities WHERE bot_id = ? AND next_attempt_at <= ? ORDER BY id LIMIT ?`,
		botID, micros(now), limit)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("due activities of bot %s: %w", botID, err)
	}
	defer rows.Close()
	var out []bot.Entry
	for rows.Next() {
		var e bot.Entry
		var act string
		var created, next int64
		if err := rows.Scan(&e.ID, &e.BotID, &act, &created, &next, &e.Attempts, &e.LastError); err != nil {
			return nil, time.Time{}, fmt.Errorf("due activities of bot %s: %w", botID, err)
		}
		e.Activity, e.CreatedAt, e.NextAttemptAt = []byte(act), fromMicros(created), fromMicros(next)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, time.Time{}, fmt.Errorf("due activities of bot %s: %w", botID, err)
	}
	var later sql.NullInt64
	if err := db.queryRow(ctx, `SELECT MIN(next_attempt_at) FROM bot_activities WHERE bot_id = ? AND next_attempt_at > ?`, botID, micros(now)).Scan(&later); err != nil {
		return nil, time.Time{}, fmt.Errorf("next activity of bot %s: %w", botID, err)
	}
	var next time.Time
	if later.Valid {
		next = fromMicros(later.Int64)
	}
	return out, next, nil
}

// FindQueuedBots returns up to limit bots with queued activities.
func (db *DB) FindQueuedBots(ctx context.Context, limit int) ([]string, error) {
	rows, err := db.query(ctx, `SELECT DISTINCT bot_id FROM bot_activities ORDER BY bot_id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("bots with queued activities: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("bots with queued activities: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// ClaimBotActivity moves an entry's next attempt from due to until if it is
// still due at due, and reports whether this caller won it.
func (db *DB) ClaimBotActivity(ctx context.Context, id string, due, until time.Time) (bool, error) {
	var won bool
	err := db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		res, err := db.txExec(tx, `UPDATE bot_activities SET next_attempt_at = ? WHERE id = ? AND next_attempt_at = ?`, micros(until), id, micros(due))
		if err != nil {
			return fmt.Errorf("claim bot activity %s: %w", id, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("claim bot activity %s: %w", id, err)
		}
		won = n == 1
		return nil
	})
	return won, err
}

// DeleteBotActivity removes a delivered (or given up) entry; one that is
// gone already is no error.
func (db *DB) DeleteBotActivity(ctx context.Context, id string) error {
	return db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		if _, err := db.txExec(tx, `DELETE FROM bot_activities WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete bot activity %s: %w", id, err)
		}
		return nil
	})
}

// RetryBotActivity records a failed attempt and when to try again.
func (db *DB) RetryBotActivity(ctx context.Context, id string, attempts int, next time.Time, errText string) error {
	return db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		if _, err := db.txExec(tx, `UPDATE bot_activities SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?`,
			attempts, micros(next), errText, id); err != nil {
			return fmt.Errorf("retry bot activity %s: %w", id, err)
		}
		return nil
	})
}
