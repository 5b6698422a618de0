package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/presence"
)

var _ presence.Store = (*DB)(nil)

// SavePresenceNode renews a node's liveness and forgets dead nodes.
func (db *DB) SavePresenceNode(ctx context.Context, node string, at, forgetBefore time.Time) error {
	return db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		if _, err := db.txExec(tx, `INSERT INTO presence_nodes (node, seen_at) VALUES (?, ?) ON CONFLICT (node) DO UPDATE SET seen_at = excluded.seen_at`, node, micros(at)); err != nil {
			return fmt.Errorf("presence node: %w", err)
		}
		if _, err := db.txExec(tx, `DELETE FROM presence_sessions WHERE node IN (SELECT node FROM presence_nodes WHERE seen_at < ?)`, micros(forgetBefore)); err != nil {
			return fmt.Errorf("forget dead nodes: %w", err)
		}
		if _, err := db.txExec(tx, `DELETE FROM presence_nodes WHERE seen_at < ?`, micros(forgetBefore)); err != nil {
			return fmt.Errorf("forget dead nodes: %w", err)
		}
		return nil
	})
}

// ForgetPresenceNode removes a node and its sessions.
func (db *DB) ForgetPresenceNode(ctx context.Context, node string) error {
	return db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		if _, err := db.txExec(tx, `DELETE FROM presence_sessions WHERE node = ?`, node); err != nil {
			return fmt.Errorf("forget node: %w", err)
		}
		if _, err := db.txExec(tx, `DELETE FROM presence_nodes WHERE node = ?`, node); err != nil {
			return fmt.Errorf("forget node: %w", err)
		}
		return nil
	})
}

// SavePresenceSession stores or removes a user's connections on a node.
func (db *DB) SavePresenceSession(ctx context.Context, node string, user identity.UserID, conns int, activeAt time.Time) error {
	return db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		var err error
		if conns <= 0 {
			_, err = db.txExec(tx, `DELETE FROM presence_sessions WHERE node = ? AND user_id = ?`, node, user)
		} else {
			_, err = db.txExec(tx, `INSERT INTO presence_sessions (node, user_id, connections, active_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (node, user_id) DO UPDATE SET connections = excluded.connections, active_at = excluded.active_at`, node, user, conns, micros(activeAt))
		}
		if err != nil {
			return fmt.Errorf("presence session: %w", err)
		}
		return nil
	})
}

// SavePresenceActivity moves a user's activity forward on every node.
func (db *DB) SavePresenceActivity(ctx context.Context, user identity.UserID, at time.Time) error {
	return db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		if _, err := db.txExec(tx, `UPDATE presence_sessions SET active_at = ? WHERE user_id = ? AND active_at < ?`, micros(at), user, micros(at)); err != nil {
			return fmt.Errorf("presence activity: %w", err)
		}
		return nil
	})
}

// FindPresence returns a user's live connections and chosen status.
func (db *DB) FindPresence(ctx context.Context, user identity.UserID, fresh time.Time) (presence.Sessions, *presence.Preferred, error) {
	var ss presence.Sessions
	var active int64
	if err := db.queryRow(ctx, `SELECT COALESCE(SUM(s.connections), 0), COALESCE(MAX(s.active_at), 0) FROM presence_sessions s
		JOIN presence_nodes n ON n.node = s.node WHERE s.user_id = ? AND n.seen_at >= ?`, user, micros(fresh)).Scan(&ss.Connections, &active); err != nil {
		return ss, nil, fmt.Errorf("find presence: %w", err)
	}
	ss.ActiveAt = fromMicros(active)
	var p presence.Preferred
	var avail, act string
	var until int64
	err := db.queryRow(ctx, `SELECT availability, activity, until_at FROM presence_preferred WHERE user_id = ?`, user).Scan(&avail, &act, &until)
	if errors.Is(err, sql.ErrNoRows) {
		return ss, nil, nil
	}
	if err != nil {
		return ss, nil, fmt.Errorf("find presence: %w", err)
	}
	p.Availability, p.Activity, p.Until = presence.Availability(avail), presence.Activity(act), fromMicros(until)
	return ss, &p, nil
}

// SavePreferredPresence stores or clears a chosen status.
func (db *DB) SavePreferredPresence(ctx context.Context, user identity.UserID, p *presence.Preferred) error {
	return db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		var err error
		if p == nil {
			_, err = db.txExec(tx, `DELETE FROM presence_preferred WHERE user_id = ?`, user)
		} else {
			_, err = db.txExec(tx, `INSERT INTO presence_preferred (user_id, availability, activity, until_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (user_id) DO UPDATE SET availability = excluded.availability, activity = excluded.activity, until_at = excluded.until_at`,
				user, string(p.Availability), string(p.Activity), micros(p.Until))
		}
		if err != nil {
			return fmt.Errorf("preferred presence: %w", err)
		}
		return nil
	})
}

// FindPresenceWatchers returns the people sharing an accepted chat with user.
func (db *DB) FindPresenceWatchers(ctx context.Context, user identity.UserID) ([]identity.User, error) {
	rows, err := db.query(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id <> ? AND u.id IN (SELECT b.user_id FROM chat_members a
		JOIN chat_members b ON b.chat_id = a.chat_id WHERE a.user_id = ? AND a.state = 'accepted' AND b.state = 'accepted')`, user, user)
	if err != nil {
		return nil, fmt.Errorf("presence watchers: %w", err)
	}
	defer rows.Close()
	var out []identity.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("presence watchers: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// SharesAcceptedChat reports whether a and b are accepted members of one chat.
func (db *DB) SharesAcceptedChat(ctx context.Context, a, b identity.UserID) (bool, error) {
	var n int
	if err := db.queryRow(ctx, `SELECT COUNT(*) FROM chat_members x JOIN chat_members y ON y.chat_id = x.chat_id
		WHERE x.user_id = ? AND y.user_id = ? AND x.state = 'accepted' AND y.state = 'accepted'`, a, b).Scan(&n); err != nil {
		return false, fmt.Errorf("shares accepted chat: %w", err)
	}
	return n > 0, nil
}
