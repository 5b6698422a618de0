package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/policy"
)

// FindPendingChats returns up to limit chats with a delivered pending
// request to user, newest first, starting after the cursor (keyset paging).
func (db *DB) FindPendingChats(ctx context.Context, user identity.UserID, filtered bool, after chat.ChatCursor, limit int) ([]chat.ChatCursor, error) {
	q := `SELECT c.id, c.updated_at FROM chat_members m JOIN chats c ON c.id = m.chat_id
		WHERE m.user_id = ? AND m.state = 'pending' AND m.held = 0 AND m.filtered = ?`
	args := []any{user, boolInt(filtered)}
	if after.ID != "" {
		q += ` AND (c.updated_at < ? OR (c.updated_at = ? AND c.id < ?))`
		u := micros(after.UpdatedAt)
		args = append(args, u, u, after.ID)
	}
	q += ` ORDER BY c.updated_at DESC, c.id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("pending chats: %w", err)
	}
	defer rows.Close()
	var out []chat.ChatCursor
	for rows.Next() {
		var c chat.ChatCursor
		var updated int64
		if err := rows.Scan(&c.ID, &updated); err != nil {
			return nil, fmt.Errorf("pending chats: %w", err)
		}
		c.UpdatedAt = fromMicros(updated)
		out = append(out, c)
	}
	return out, rows.Err()
}

// AnswerRequest stores a target's answer to a request atomically.
func (db *DB) AnswerRequest(ctx context.Context, a chat.StoredAnswer, drafts []event.Draft) ([]event.Event, error) {
	var evs []event.Event
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		if err := db.updateMember(tx, a.Member); err != nil {
			return err
		}
		if a.Member.State == chat.Accepted {
			if err := db.addContact(tx, a.Target, a.From, a.At); err != nil {
				return err
			}
		}
		if !a.DeclinedUntil.IsZero() {
			if _, err := db.txExec(tx, `DELETE FROM declines WHERE decliner_id = ? AND sender_id = ?`, a.Target, a.From); err != nil {
				return fmt.Errorf("store decline: %w", err)
			}
			if _, err := db.txExec(tx, `INSERT INTO declines (decliner_id, sender_id, until_at) VALUES (?, ?, ?)`, a.Target, a.From, micros(a.DeclinedUntil)); err != nil {
				return fmt.Errorf("store decline: %w", err)
			}
		}
		if a.Block != policy.NoBlock {
			if err := db.saveBlock(tx, a.Target, a.From, a.Block, a.At); err != nil {
				return err
			}
		}
		if a.Report {
			if _, err := db.txExec(tx, `INSERT INTO spam_reports (reporter_id, sender_id, chat_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, a.Target, a.From, a.ChatID, micros(a.At)); err != nil {
				return fmt.Errorf("store report: %w", err)
			}
		}
		var err error
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}

// CountSpamReports returns how many distinct users reported sender.
func (db *DB) CountSpamReports(ctx context.Context, sender identity.UserID) (int, error) {
	var n int
	if err := db.queryRow(ctx, `SELECT COUNT(*) FROM spam_reports WHERE sender_id = ?`, sender).Scan(&n); err != nil {
		return 0, fmt.Errorf("count reports: %w", err)
	}
	return n, nil
}

func (db *DB) addContact(tx *sql.Tx, a, b identity.UserID, at time.Time) error {
	if a > b {
		a, b = b, a
	}
	if _, err := db.txExec(tx, `INSERT INTO contacts (user_a, user_b, accepted_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, a, b, micros(at)); err != nil {
		return fmt.Errorf("store contact: %w", err)
	}
	return nil
}

// AcceptMember stores a member as accepted and the pair as contacts.
func (db *DB) AcceptMember(ctx context.Context, m chat.Member, other identity.UserID, at time.Time, drafts []event.Draft) ([]event.Event, error) {
	var evs []event.Event
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		if err := db.updateMember(tx, m); err != nil {
			return err
		}
		if err := db.addContact(tx, m.UserID, other, at); err != nil {
			return err
		}
		var err error
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}
