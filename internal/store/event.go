package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
)

// insertEvents gives each draft the next seq of its user and stores it, in
// the transaction of the change it describes.
func (db *DB) insertEvents(tx *sql.Tx, drafts []event.Draft) ([]event.Event, error) {
	if len(drafts) == 0 {
		return nil, nil
	}
	now := time.Now().UTC()
	out := make([]event.Event, 0, len(drafts))
	for _, d := range drafts {
		var seq int64
		if err := db.txQueryRow(tx, (`UPDATE users SET event_seq = event_seq + 1 WHERE id = ? RETURNING event_seq`), d.UserID).Scan(&seq); err != nil {
			return nil, fmt.Errorf("next seq of %s: %w", d.UserID, err)
		}
		if _, err := db.txExec(tx, (`INSERT INTO events (user_id, seq, type, chat_id, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)`),
			d.UserID, seq, string(d.Type), d.ChatID, string(d.Payload), micros(now)); err != nil {
			return nil, fmt.Errorf("insert event: %w", err)
		}
		out = append(out, event.Event{UserID: d.UserID, Seq: seq, Type: d.Type, ChatID: d.ChatID, Payload: d.Payload, CreatedAt: now})
	}
	return out, nil
}

// FindEvents returns a user's events with seq above since, oldest first.
func (db *DB) FindEvents(ctx context.Context, userID identity.UserID, since int64, limit int) ([]event.Event, error) {
	rows, err := db.query(ctx, (`SELECT seq, type, chat_id, payload, created_at FROM events WHERE user_id = ? AND seq > ? ORDER BY seq LIMIT ?`), userID, since, limit)
	if err != nil {
		return nil, fmt.Errorf("replay events of %s: %w", userID, err)
	}
	defer rows.Close()
	var out []event.Event
	for rows.Next() {
		e := event.Event{UserID: userID}
		var payload string
		var created int64
		if err := rows.Scan(&e.Seq, &e.Type, &e.ChatID, &payload, &created); err != nil {
			return nil, fmt.Errorf("replay events of %s: %w", userID, err)
		}
		e.Payload, e.CreatedAt = []byte(payload), fromMicros(created)
		out = append(out, e)
	}
	return out, rows.Err()
}

// LastSeq returns a user's latest seq.
func (db *DB) LastSeq(ctx context.Context, userID identity.UserID) (int64, error) {
	var seq int64
	if err := db.queryRow(ctx, (`SELECT event_seq FROM users WHERE id = ?`), userID).Scan(&seq); err != nil {
		return 0, notFound(err, "No user %s.", userID)
	}
	return seq, nil
}
