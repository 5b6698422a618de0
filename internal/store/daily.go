package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
)

var _ chat.DailyStore = (*DB)(nil)

// unreadChunk caps the chats of one unread count statement (a page of the
// chat list is at most chat.MaxPageSize).
const unreadChunk = 50

// unreadCounts are the statements for 1…unreadChunk chats: each chat's
// count is a scan of messages_chat_time from the later of the read mark
// and the visible history's start, stopped at the cap.
var unreadCounts = func() []string {
	qs := make([]string, unreadChunk+1)
	for n := 1; n <= unreadChunk; n++ {
		qs[n] = `SELECT m.chat_id, (SELECT COUNT(*) FROM (SELECT 1 FROM messages x WHERE x.chat_id = m.chat_id
			AND x.created_at > m.last_read_at AND x.created_at >= m.visible_from AND x.sender_id <> m.user_id AND x.deleted_at = 0 LIMIT ?) AS u)
			FROM chat_members m WHERE m.user_id = ? AND m.chat_id IN (?` + strings.Repeat(", ?", n-1) + `)`
	}
	return qs
}()

// CountUnread returns the viewer's unread messages in each chat named.
func (db *DB) CountUnread(ctx context.Context, viewer identity.UserID, chats []chat.ID, max int) (map[chat.ID]int, error) {
	out := make(map[chat.ID]int, len(chats))
	err := chunks(len(chats), unreadChunk, func(lo, hi int) error {
		args := make([]any, 0, hi-lo+2)
		args = append(args, max, viewer)
		for _, id := range chats[lo:hi] {
			args = append(args, id)
		}
		rows, err := db.query(ctx, unreadCounts[hi-lo], args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id chat.ID
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				return err
			}
			out[id] = n
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("count unread: %w", err)
	}
	return out, nil
}

// CountPendingRequests counts the delivered requests waiting for user in
// the main list (filtered=false) or the filtered one.
func (db *DB) CountPendingRequests(ctx context.Context, user identity.UserID, filtered bool) (int, error) {
	var n int
	err := db.queryRow(ctx, `SELECT COUNT(*) FROM chat_members WHERE user_id = ? AND state = 'pending' AND held = 0 AND filtered = ? AND request_from <> ''`,
		user, boolInt(filtered)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count requests: %w", err)
	}
	return n, nil
}

// UpdateReactions changes a message's reactions inside the write.
func (db *DB) UpdateReactions(ctx context.Context, chatID chat.ID, id chat.MessageID, change func(*chat.Message) error, build func(*chat.Message) []event.Draft) ([]event.Event, error) {
	var evs []event.Event
	err := db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		if err := db.lockRow(tx, `SELECT id FROM messages WHERE chat_id = ? AND id = ?`, chatID, id); err != nil {
			return fmt.Errorf("lock message: %w", err)
		}
		m, err := scanMessage(db.txQueryRow(tx, `SELECT `+messageColumns+` FROM messages x LEFT JOIN users u ON u.id = x.sender_id WHERE x.chat_id = ? AND x.id = ?`, chatID, id))
		if err != nil {
			return notFound(err, "No message %d in this chat.", id)
		}
		before := len(m.Reactions)
		if err := change(&m); err != nil {
			return err
		}
		drafts := build(&m)
		if len(drafts) == 0 && len(m.Reactions) == before {
			return nil // nothing changed
		}
		enc, err := encodeReactions(m.Reactions)
		if err != nil {
			return err
		}
		if _, err := db.txExec(tx, `UPDATE messages SET reactions = ? WHERE chat_id = ? AND id = ?`, enc, chatID, id); err != nil {
			return fmt.Errorf("update reactions: %w", err)
		}
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}

// wireReaction is a reaction as stored in messages.reactions.
type wireReaction struct {
	Type   string `json:"t"`
	User   string `json:"u"`
	Name   string `json:"n,omitempty"`
	Kind   string `json:"k,omitempty"`
	Tenant string `json:"o,omitempty"`
	At     int64  `json:"a"`
}

func encodeReactions(rs []chat.Reaction) (string, error) {
	if len(rs) == 0 {
		return "", nil
	}
	ws := make([]wireReaction, len(rs))
	for i, r := range rs {
		ws[i] = wireReaction{Type: r.Type, User: string(r.UserID), Name: r.User.DisplayName, Kind: string(r.User.Kind), Tenant: string(r.User.TenantID), At: micros(r.CreatedAt)}
	}
	b, err := json.Marshal(ws)
	if err != nil {
		return "", fmt.Errorf("encode reactions: %w", err)
	}
	return string(b), nil
}

func decodeReactions(m *chat.Message, s string) error {
	if s == "" {
		return nil
	}
	var ws []wireReaction
	if err := json.Unmarshal([]byte(s), &ws); err != nil {
		return fmt.Errorf("decode reactions of %d: %w", m.ID, err)
	}
	m.Reactions = make([]chat.Reaction, len(ws))
	for i, w := range ws {
		u := identity.UserID(w.User)
		m.Reactions[i] = chat.Reaction{Type: w.Type, UserID: u, CreatedAt: fromMicros(w.At),
			User: identity.User{ID: u, DisplayName: w.Name, Kind: identity.Kind(w.Kind), TenantID: identity.TenantID(w.Tenant)}}
	}
	return nil
}
