package store

import (
	"database/sql"
	"fmt"
	"slices"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/event"
)

// msgWrite is one CreateMessage waiting in the writer's queue. The writer
// stores all the messages of a group together (writeMessages): a handful of
// multi-row statements per group instead of four per message, which on
// PostgreSQL are as many round trips.
type msgWrite struct {
	m              *chat.Message
	mentions, atts string
	build          func(*chat.Message) []event.Draft
	evs            []event.Event // the stored events, set by writeMessages
}

// messageChunk caps the messages of one INSERT (see multiRowSQL).
const messageChunk = 64

var (
	messageInserts = multiRowSQL(`INSERT INTO messages (id, chat_id, sender_id, created_at, modified_at, content_type, content, mentions, attachments)`,
		`(?, ?, ?, ?, ?, ?, ?, ?, ?)`, ``, messageChunk)
	// (id, time) pairs: see pairChunk.
	chatTouches = multiRowSQL(`UPDATE chats SET updated_at = CASE WHEN chats.updated_at > v.column2 THEN chats.updated_at ELSE v.column2 END FROM (`,
		`(CAST(? AS TEXT), CAST(? AS BIGINT))`, `) AS v WHERE chats.id = v.column1`, pairChunk)
)

// writeMessages stores messages with their ids, moves their chats' activity
// time forward (never back: senders' clocks are read before they queue),
// and stores the events each message's build returns.
func (db *DB) writeMessages(tx *sql.Tx, ws []*msgWrite) error {
	ids, err := db.nextMessageIDs(tx, len(ws))
	if err != nil {
		return err
	}
	var args []any
	err = chunks(len(ws), messageChunk, func(lo, hi int) error {
		args = args[:0]
		for i := lo; i < hi; i++ {
			m := ws[i].m
			args = append(args, ids[i], m.ChatID, m.SenderID, micros(m.CreatedAt), micros(m.ModifiedAt), m.ContentType, m.Content, ws[i].mentions, ws[i].atts)
		}
		if _, err := db.txExec(tx, messageInserts[hi-lo], args...); err != nil {
			return fmt.Errorf("insert messages: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Each chat's activity time once, the latest.
	latest := make(map[chat.ID]int64, len(ws))
	order := make([]chat.ID, 0, len(ws))
	for _, w := range ws {
		t, seen := latest[w.m.ChatID]
		if !seen {
			order = append(order, w.m.ChatID)
		}
		latest[w.m.ChatID] = max(t, micros(w.m.CreatedAt))
	}
	err = chunks(len(order), pairChunk, func(lo, hi int) error {
		args = args[:0]
		for _, id := range order[lo:hi] {
			args = append(args, string(id), latest[id])
		}
		if _, err := db.txExec(tx, chatTouches[hi-lo], args...); err != nil {
			return fmt.Errorf("touch chats: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var drafts []event.Draft
	counts := make([]int, len(ws))
	for i, w := range ws {
		w.m.ID = chat.MessageID(ids[i])
		ds := w.build(w.m)
		counts[i] = len(ds)
		drafts = append(drafts, ds...)
	}
	evs, err := db.insertEvents(tx, drafts)
	if err != nil {
		return err
	}
	for i, w := range ws {
		w.evs, evs = evs[:counts[i]:counts[i]], evs[counts[i]:]
	}
	return nil
}

// nextMessageIDs reserves n message ids, growing with commit order: on
// SQLite the writer counts them in memory (it is the only writer), on
// PostgreSQL they come from the table's sequence in one round trip (the
// single writer takes them in commit order too). A rolled-back write leaves
// a gap, which is harmless: ids only need to grow.
func (db *DB) nextMessageIDs(tx *sql.Tx, n int) ([]int64, error) {
	ids := make([]int64, n)
	if db.dialect == SQLite {
		if db.lastMessageID == 0 {
			if err := db.txQueryRow(tx, `SELECT COALESCE(MAX(id), 0) FROM messages`).Scan(&db.lastMessageID); err != nil {
				return nil, fmt.Errorf("last message id: %w", err)
			}
		}
		for i := range ids {
			db.lastMessageID++
			ids[i] = db.lastMessageID
		}
		return ids, nil
	}
	rows, err := db.txQuery(tx, `SELECT nextval('messages_id_seq') FROM generate_series(1, ?)`, n)
	if err != nil {
		return nil, fmt.Errorf("message ids: %w", err)
	}
	defer rows.Close()
	ids = ids[:0]
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("message ids: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("message ids: %w", err)
	}
	if len(ids) != n {
		return nil, fmt.Errorf("message ids: got %d of %d", len(ids), n)
	}
	slices.Sort(ids)
	return ids, nil
}
