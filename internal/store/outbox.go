package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/outbox"
)

var _ outbox.Store = (*DB)(nil)

const outboxColumns = `id, channel, recipient, subject, body, tenant_id, sender_id, created_at, attempts, next_attempt_at, sent_at, failed_at, last_error`

// outboxPending selects messages that are neither sent (or logged) nor failed.
const outboxPending = `sent_at = 0 AND failed_at = 0`

func scanOutbox(s scanner) (outbox.Message, error) {
	var m outbox.Message
	var ch, tenant, sender string
	var created, next, sent, failed int64
	if err := s.Scan(&m.ID, &ch, &m.To, &m.Subject, &m.Body, &tenant, &sender, &created, &m.Attempts, &next, &sent, &failed, &m.LastError); err != nil {
		return outbox.Message{}, err
	}
	m.Channel, m.TenantID, m.SenderID = outbox.Channel(ch), identity.TenantID(tenant), identity.UserID(sender)
	m.CreatedAt, m.NextAttemptAt, m.SentAt, m.FailedAt = fromMicros(created), fromMicros(next), fromMicros(sent), fromMicros(failed)
	return m, nil
}

// insertOutbox adds a message inside tx, so a write that must send mail (an
// invitation) commits the row and its message together or not at all. The
// caller kicks the outbox worker after the commit.
func (db *DB) insertOutbox(tx *sql.Tx, m outbox.Message) error {
	_, err := db.txExec(tx, `INSERT INTO outbox (`+outboxColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, string(m.Channel), m.To, m.Subject, m.Body, string(m.TenantID), string(m.SenderID),
		micros(m.CreatedAt), m.Attempts, micros(m.NextAttemptAt), micros(m.SentAt), micros(m.FailedAt), m.LastError)
	if err != nil {
		return fmt.Errorf("insert outbox message %s: %w", m.ID, err)
	}
	return nil
}

// EnqueueOutbox stores a new message; it returns once the message is
// committed.
func (db *DB) EnqueueOutbox(ctx context.Context, m outbox.Message) error {
	return db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error { return db.insertOutbox(tx, m) })
}

// FindDueOutbox returns up to limit pending messages due at or before now,
// the longest waiting first.
func (db *DB) FindDueOutbox(ctx context.Context, now time.Time, limit int) ([]outbox.Message, error) {
	rows, err := db.query(ctx, `SELECT `+outboxColumns+` FROM outbox
		WHERE `+outboxPending+` AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`, micros(now), limit)
	if err != nil {
		return nil, fmt.Errorf("find due outbox messages: %w", err)
	}
	return collectOutbox(rows, "find due outbox messages")
}

// ClaimOutbox moves a pending message's next attempt from due to until if it
// is still pending and due at due, and reports whether it did.
func (db *DB) ClaimOutbox(ctx context.Context, id string, due, until time.Time) (bool, error) {
	var won bool
	err := db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		res, err := db.txExec(tx, `UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND `+outboxPending+` AND next_attempt_at = ?`,
			micros(until), id, micros(due))
		if err != nil {
			return fmt.Errorf("claim outbox message %s: %w", id, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("claim outbox message %s: %w", id, err)
		}
		won = n == 1
		return nil
	})
	return won, err
}

// MarkOutboxSent records a send (or a logged message, by its note) and
// counts the attempt. Errors: notFound when no pending message has the id.
func (db *DB) MarkOutboxSent(ctx context.Context, id string, at time.Time, note string) error {
	return db.updatePendingOutbox(ctx, id, "mark outbox message sent",
		`UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = ? WHERE id = ? AND `+outboxPending,
		micros(at), note, id)
}

// MarkOutboxRetry sets the attempts, next attempt and last error of a
// pending message. Errors: notFound when no pending message has the id.
func (db *DB) MarkOutboxRetry(ctx context.Context, id string, attempts int, next time.Time, errText string) error {
	return db.updatePendingOutbox(ctx, id, "schedule outbox retry",
		`UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ? AND `+outboxPending,
		attempts, micros(next), errText, id)
}

// MarkOutboxFailed gives a pending message up and counts the attempt.
// Errors: notFound when no pending message has the id.
func (db *DB) MarkOutboxFailed(ctx context.Context, id string, at time.Time, errText string) error {
	return db.updatePendingOutbox(ctx, id, "mark outbox message failed",
		`UPDATE outbox SET failed_at = ?, attempts = attempts + 1, last_error = ? WHERE id = ? AND `+outboxPending,
		micros(at), errText, id)
}

func (db *DB) updatePendingOutbox(ctx context.Context, id, what, query string, args ...any) error {
	return db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		res, err := db.txExec(tx, (query), args...)
		if err != nil {
			return fmt.Errorf("%s %s: %w", what, id, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("%s %s: %w", what, id, err)
		}
		if n == 0 {
			return errcode.New(errcode.NotFound, "No pending outbox message %s.", id)
		}
		return nil
	})
}

// FindOutbox returns up to limit messages sent on behalf of a tenant's
// users, newest first, optionally of one status.
func (db *DB) FindOutbox(ctx context.Context, tenant identity.TenantID, f outbox.Filter, limit int) ([]outbox.Message, error) {
	return db.findOutbox(ctx, `tenant_id = ?`, []any{string(tenant)}, f, limit, "find outbox messages of "+string(tenant))
}

// FindOutboxTo returns up to limit messages to e-mail addresses in the
// domains of tenant to (every message when to is ""), newest first,
// optionally of one status.
func (db *DB) FindOutboxTo(ctx context.Context, to identity.TenantID, f outbox.Filter, limit int) ([]outbox.Message, error) {
	if to == "" {
		return db.findOutbox(ctx, `1 = 1`, nil, f, limit, "find outbox messages")
	}
	// Addresses are stored normalised (lower case, A-label domains), and a
	// domain holds no LIKE wildcard.
	return db.findOutbox(ctx, `EXISTS (SELECT 1 FROM tenant_domains d WHERE d.tenant_id = ? AND recipient LIKE ('%@' || d.domain))`,
		[]any{string(to)}, f, limit, "find outbox messages to "+string(to))
}

func (db *DB) findOutbox(ctx context.Context, where string, args []any, f outbox.Filter, limit int, what string) ([]outbox.Message, error) {
	// The status is derived as outbox.Message.Status derives it.
	switch f.Status {
	case "":
	case outbox.Pending:
		where += ` AND ` + outboxPending
	case outbox.Sent:
		where += ` AND sent_at <> 0 AND failed_at = 0 AND last_error NOT LIKE ?`
		args = append(args, outbox.LoggedPrefix+"%")
	case outbox.Logged:
		where += ` AND sent_at <> 0 AND failed_at = 0 AND last_error LIKE ?`
		args = append(args, outbox.LoggedPrefix+"%")
	case outbox.Failed:
		where += ` AND failed_at <> 0`
	default:
		return nil, errcode.New(errcode.BadRequest, "Status %q is not one of pending, sent, logged, failed.", f.Status)
	}
	args = append(args, limit)
	rows, err := db.query(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE `+where+` ORDER BY created_at DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return collectOutbox(rows, what)
}

func collectOutbox(rows *sql.Rows, what string) ([]outbox.Message, error) {
	defer rows.Close()
	var out []outbox.Message
	for rows.Next() {
		m, err := scanOutbox(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// OutboxDepth counts the messages waiting to go out (pending, retries
// included) and those given up (failed), for metrics.
func (db *DB) OutboxDepth(ctx context.Context) (pending, failed int64, err error) {
	err = db.queryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM outbox WHERE `+outboxPending+`),
		(SELECT COUNT(*) FROM outbox WHERE sent_at = 0 AND failed_at <> 0)`).Scan(&pending, &failed)
	if err != nil {
		return 0, 0, fmt.Errorf("count outbox: %w", err)
	}
	return pending, failed, nil
}
