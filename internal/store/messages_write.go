package store

import (
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
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

// Rows per multi-row statement: they bound the distinct statement texts
// the prepared-statement cache holds, and the parameters per statement.
const (
	messageChunk = 64
	eventChunk   = 64
	pairChunk    = 64
)

// multiRowSQL returns the statement for 1..max rows: head VALUES row, row, …
func multiRowSQL(head, row, tail string, max int) []string {
	qs := make([]string, max+1)
	q := head + " VALUES " + row
	for n := 1; n <= max; n++ {
		qs[n] = q + tail
		q += ", " + row
	}
	return qs
}

var (
	messageInserts = multiRowSQL(`INSERT INTO messages (id, chat_id, sender_id, created_at, modified_at, content_type, content, mentions, attachments)`,
		`(?, ?, ?, ?, ?, ?, ?, ?, ?)`, ``, messageChunk)
	eventInserts = multiRowSQL(`INSERT INTO events (user_id, seq, type, chat_id, payload, created_at)`,
		`(?, ?, ?, ?, ?, ?)`, ``, eventChunk)
	// (id, time) pairs; column1/column2 are the names both SQLite and
	// PostgreSQL give the columns of a VALUES list.
	chatTouches = multiRowSQL(`UPDATE chats SET updated_at = CASE WHEN chats.updated_at > v.column2 THEN chats.updated_at ELSE v.column2 END FROM (`,
		`(CAST(? AS TEXT), CAST(? AS BIGINT))`, `) AS v WHERE chats.id = v.column1`, pairChunk)
	seqReservations = multiRowSQL(`UPDATE users SET event_seq = users.event_seq + v.column2 FROM (`,
		`(CAST(? AS TEXT), CAST(? AS BIGINT))`, `) AS v WHERE users.id = v.column1 RETURNING users.id, users.event_seq`, pairChunk)
)

// chunks calls f for each run of at most size items of n.
func chunks(n, size int, f func(lo, hi int) error) error {
	for lo := 0; lo < n; lo += size {
		if err := f(lo, min(lo+size, n)); err != nil {
			return err
		}
	}
	return nil
}

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

// insertEvents gives each draft the next seq of its user and stores it, in
// the transaction of the change it describes.
func (db *DB) insertEvents(tx *sql.Tx, drafts []event.Draft) ([]event.Event, error) {
	if len(drafts) == 0 {
		return nil, nil
	}
	seqs, err := db.assignSeqs(tx, drafts)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	at := micros(now)
	out := make([]event.Event, len(drafts))
	args := make([]any, 0, 6*min(len(drafts), eventChunk))
	err = chunks(len(drafts), eventChunk, func(lo, hi int) error {
		args = args[:0]
		for i := lo; i < hi; i++ {
			d := &drafts[i]
			args = append(args, d.UserID, seqs[i], string(d.Type), d.ChatID, string(d.Payload), at)
			out[i] = event.Event{UserID: d.UserID, Seq: seqs[i], Type: d.Type, ChatID: d.ChatID, Payload: d.Payload, CreatedAt: now}
		}
		if _, err := db.txExec(tx, eventInserts[hi-lo], args...); err != nil {
			return fmt.Errorf("insert events: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// assignSeqs gives each draft the next seq of its user, in draft order.
// SQLite counts in the writer's memory (nextSeq). PostgreSQL counts in the
// users rows, whose locks order concurrent writers (several nodes may share
// a database one day): one UPDATE … RETURNING reserves each user's range.
func (db *DB) assignSeqs(tx *sql.Tx, drafts []event.Draft) ([]int64, error) {
	seqs := make([]int64, len(drafts))
	if db.dialect == SQLite {
		for i := range drafts {
			s, err := db.nextSeq(tx, drafts[i].UserID)
			if err != nil {
				return nil, err
			}
			seqs[i] = s
		}
		return seqs, nil
	}
	need := make(map[identity.UserID]int64, len(drafts))
	users := make([]identity.UserID, 0, len(drafts))
	for _, d := range drafts {
		if need[d.UserID] == 0 {
			users = append(users, d.UserID)
		}
		need[d.UserID]++
	}
	// Lock the rows in one order, whatever the drafts' order.
	slices.Sort(users)
	next := make(map[identity.UserID]int64, len(users)) // the user's first new seq
	var args []any
	err := chunks(len(users), pairChunk, func(lo, hi int) error {
		args = args[:0]
		for _, u := range users[lo:hi] {
			args = append(args, string(u), need[u])
		}
		rows, err := db.txQuery(tx, seqReservations[hi-lo], args...)
		if err != nil {
			return fmt.Errorf("reserve seqs: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var u identity.UserID
			var top int64
			if err := rows.Scan(&u, &top); err != nil {
				return fmt.Errorf("reserve seqs: %w", err)
			}
			next[u] = top - need[u] + 1
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	for i, d := range drafts {
		s, ok := next[d.UserID]
		if !ok {
			return nil, fmt.Errorf("next seq of %s: no such user", d.UserID)
		}
		seqs[i] = s
		next[d.UserID] = s + 1
	}
	return seqs, nil
}
