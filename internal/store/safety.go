package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/parleychat/parley/internal/identity"
)

// RecordRequestContent stores a first-message fingerprint and counts the
// distinct chats that got it from sender since a time.
func (db *DB) RecordRequestContent(ctx context.Context, sender identity.UserID, hash, chatID string, at, since time.Time) (int, error) {
	var n int
	err := db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		if _, err := db.txExec(tx, `INSERT INTO request_content (sender_id, hash, chat_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, sender, hash, chatID, micros(at)); err != nil {
			return fmt.Errorf("record content: %w", err)
		}
		if err := db.txQueryRow(tx, `SELECT COUNT(*) FROM request_content WHERE sender_id = ? AND hash = ? AND created_at >= ?`, sender, hash, micros(since)).Scan(&n); err != nil {
			return fmt.Errorf("record content: %w", err)
		}
		return nil
	})
	return n, err
}

// FilterRequests files sender's pending requests that carried a
// fingerprint since a time in their targets' filtered lists.
func (db *DB) FilterRequests(ctx context.Context, sender identity.UserID, hash string, since time.Time) error {
	return db.inWrite(ctx, func(tx *sql.Tx) error {
		_, err := db.txExec(tx, `UPDATE chat_members SET filtered = 1 WHERE request_from = ? AND state = 'pending'
			AND chat_id IN (SELECT chat_id FROM request_content WHERE sender_id = ? AND hash = ? AND created_at >= ?)`, sender, sender, hash, micros(since))
		if err != nil {
			return fmt.Errorf("filter requests: %w", err)
		}
		return nil
	})
}
