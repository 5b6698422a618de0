package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

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
	// plain is the text the search index reads (search.PlainText),
	// computed before the write is queued.
	plain string
	build func(*chat.Message) []event.Draft
	// hasID: m.ID was given out as the write was queued (SQLite,
	// inWriteMessage). ready, when set, closes once the caller has built
	// drafts for it, so the writer does not build them.
	hasID  bool
	ready  chan struct{}
	drafts []event.Draft
	// capped > 0: the sender may have at most capped messages in the chat
	// (a pending request's cap), counted inside the write.
	capped int
	evs    []event.Event // the stored events, set by writeMessages
	err    error         // set by writeMessages when the cap refused it
}

// messageChunk caps the messages of one INSERT (see multiRowSQL).
const messageChunk = 64

// smallGroup is the largest group of messages whose statements PostgreSQL
// gets combined, a round trip fewer each (writeMessages, assignSeqs): the
// groups of low load, where every round trip is a wake-up of the writer.
// Larger groups keep one statement text per row count, so the prepared
// statements stay few.
const smallGroup = 4

var (
	messageInserts = multiRowSQL(`INSERT INTO messages `+messageRow,
		`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ``, messageChunk)
	// (id, time) pairs: see pairChunk.
	// loneMessage stores one message with the next id of the sequence and
	// moves its chat's time, returning the id (PostgreSQL).
	loneMessage = `WITH m AS (` + strings.Replace(messageInserts[1], `VALUES (?, `, `VALUES (nextval('messages_id_seq'), `, 1) +
		` RETURNING id), c AS (` + chatTouches[1] + `) SELECT id FROM m`
	chatTouches = multiRowSQL(`UPDATE chats SET updated_at = CASE WHEN chats.updated_at > v.column2 THEN chats.updated_at ELSE v.column2 END FROM (`,
		`(CAST(? AS TEXT), CAST(? AS BIGINT))`, `) AS v WHERE chats.id = v.column1`, pairChunk)
)

// writeMessages stores messages with their ids, moves their chats' activity
// time forward (never back: senders' clocks are read before they queue),
// and stores the events each message's build returns.
func (db *DB) writeMessages(tx *sql.Tx, ws []*msgWrite) error {
	ws, err := db.capMessages(tx, ws)
	if err != nil || len(ws) == 0 {
		return err
	}
	// A lone message on PostgreSQL takes its id in the statement that
	// stores it (loneMessage): one round trip fewer.
	lone := db.dialect == Postgres && len(ws) == 1
	ids := []int64{0}
	if !lone {
		if ids, err = db.nextMessageIDs(tx, ws); err != nil {
			return err
		}
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
	var args []any
	messageArgs := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			m := ws[i].m
			if !lone {
				args = append(args, ids[i])
			}
			args = append(args, m.ChatID, m.SenderID, micros(m.CreatedAt), micros(m.ModifiedAt), m.ContentType, m.Content, ws[i].mentions, ws[i].atts, ws[i].plain, m.App.DisplayName, m.Via.ID, m.Via.DisplayName)
		}
	}
	touchArgs := func(lo, hi int) {
		for _, id := range order[lo:hi] {
			args = append(args, string(id), latest[id])
		}
	}
	if lone {
		messageArgs(0, 1)
		touchArgs(0, 1)
		if err := db.txQueryRow(tx, loneMessage, args...).Scan(&ids[0]); err != nil {
			return fmt.Errorf("insert message and touch chat: %w", err)
		}
	} else if db.dialect == Postgres && len(ws) <= smallGroup {
		// One round trip for both: the INSERT runs in full as a WITH of the
		// UPDATE even though the UPDATE does not read it.
		messageArgs(0, len(ws))
		touchArgs(0, len(order))
		if _, err := db.txExec(tx, `WITH m AS (`+messageInserts[len(ws)]+`) `+chatTouches[len(order)], args...); err != nil {
			return fmt.Errorf("insert messages and touch chats: %w", err)
		}
	} else {
		if db.canCopy(tx, len(ws)) {
			err = db.copyMessages(ws, ids)
		} else {
			err = chunks(len(ws), messageChunk, func(lo, hi int) error {
				args = args[:0]
				messageArgs(lo, hi)
				if _, err := db.txExec(tx, messageInserts[hi-lo], args...); err != nil {
					return fmt.Errorf("insert messages: %w", err)
				}
				return nil
			})
		}
		if err != nil {
			return err
		}
		err = chunks(len(order), pairChunk, func(lo, hi int) error {
			args = args[:0]
			touchArgs(lo, hi)
			if _, err := db.txExec(tx, chatTouches[hi-lo], args...); err != nil {
				return fmt.Errorf("touch chats: %w", err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	var drafts []event.Draft
	counts := make([]int, len(ws))
	for i, w := range ws {
		var ds []event.Draft
		if w.ready != nil {
			<-w.ready
			ds = w.drafts
		} else {
			w.m.ID = chat.MessageID(ids[i])
			ds = w.build(w.m)
		}
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

// messageRow is the columns a new message is stored with, by
// messageInserts and, on PostgreSQL, by messagesCopy.
const messageRow = `(id, chat_id, sender_id, created_at, modified_at, content_type, content, mentions, attachments, plain, sender_app, via_app_id, via_app_name)`

// messagesCopy stores a large group's messages on PostgreSQL (copyIn).
const messagesCopy = `COPY messages ` + messageRow + ` FROM STDIN BINARY`

// copyMessages stores ws with their ids by COPY (PostgreSQL).
func (db *DB) copyMessages(ws []*msgWrite, ids []int64) error {
	c := &db.copy
	c.reset()
	for i, w := range ws {
		m := w.m
		c.row(13)
		c.int8(ids[i])
		c.text(string(m.ChatID))
		c.text(string(m.SenderID))
		c.int8(micros(m.CreatedAt))
		c.int8(micros(m.ModifiedAt))
		c.text(m.ContentType)
		c.text(m.Content)
		c.text(w.mentions)
		c.text(w.atts)
		c.text(w.plain)
		c.text(m.App.DisplayName)
		c.text(m.Via.ID)
		c.text(m.Via.DisplayName)
	}
	if err := db.copyIn(messagesCopy); err != nil {
		return fmt.Errorf("insert messages: %w", err)
	}
	return nil
}

// capMessages returns the writes that their caps let through and marks the
// others refused (err). A capped write counts the sender's messages in the
// chat inside the transaction, the group's earlier writes included, so
// sends that arrive together are counted one by one; on PostgreSQL the
// sender's member row is locked first (in order, so two nodes never wait
// for each other in a cycle), and another node's send waits for this
// COMMIT.
func (db *DB) capMessages(tx *sql.Tx, ws []*msgWrite) ([]*msgWrite, error) {
	type key struct {
		chat   chat.ID
		sender string
	}
	var keys []key
	for _, w := range ws {
		w.err = nil
		if w.capped > 0 {
			keys = append(keys, key{w.m.ChatID, string(w.m.SenderID)})
		}
	}
	if len(keys) == 0 {
		return ws, nil
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := strings.Compare(string(a.chat), string(b.chat)); c != 0 {
			return c
		}
		return strings.Compare(a.sender, b.sender)
	})
	keys = slices.Compact(keys)
	counts := make(map[key]int, len(keys))
	for _, k := range keys {
		if err := db.lockRow(tx, `SELECT id FROM chat_members WHERE chat_id = ? AND user_id = ?`, k.chat, k.sender); err != nil {
			return nil, fmt.Errorf("lock sender: %w", err)
		}
		var n int
		if err := db.txQueryRow(tx, `SELECT COUNT(*) FROM messages WHERE chat_id = ? AND sender_id = ?`, k.chat, k.sender).Scan(&n); err != nil {
			return nil, fmt.Errorf("count messages: %w", err)
		}
		counts[k] = n
	}
	kept := make([]*msgWrite, 0, len(ws))
	for _, w := range ws {
		if w.capped > 0 {
			k := key{w.m.ChatID, string(w.m.SenderID)}
			if counts[k] >= w.capped {
				w.err = chat.RequestCapReached(w.capped)
				continue
			}
			counts[k]++
		}
		kept = append(kept, w)
	}
	return kept, nil
}

// nextMessageIDs returns the ids of n messages, growing with commit order:
// on SQLite they were given out as the writes were queued (inWriteMessage),
// on PostgreSQL they come from the table's sequence in one round trip (the
// single writer takes them in commit order too). A rolled-back write leaves
// a gap, which is harmless: ids only need to grow.
func (db *DB) nextMessageIDs(tx *sql.Tx, ws []*msgWrite) ([]int64, error) {
	n := len(ws)
	ids := make([]int64, n)
	if db.dialect == SQLite {
		for i, w := range ws {
			if !w.hasID {
				// An id given out now could be below one given to a write
				// still queued, and the search index takes ids in order.
				return nil, fmt.Errorf("message write queued without an id (use inWriteMessage)")
			}
			ids[i] = int64(w.m.ID)
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

// inWriteMessage runs j, the write of w's new message, and returns its
// result. On SQLite it gives the message its id as it queues the write, in
// one step under idMu, so ids grow in queue order, which is commit order
// (the search index relies on it: searchindex.go); then, if w.ready is
// set, it builds the message's events on the caller's goroutine while the
// write waits, off the single writer. The writer waits for them (ready)
// only if it reaches the write first. PostgreSQL's writer takes ids from
// the sequence and builds the events itself.
func (db *DB) inWriteMessage(ctx context.Context, j *job, w *msgWrite) error {
	if db.dialect != SQLite {
		return db.inWriteJob(ctx, j)
	}
	db.idMu.Lock()
	db.giveID(w)
	err := db.queue(ctx, j)
	db.idMu.Unlock()
	if err != nil {
		if w.ready != nil {
			close(w.ready)
		}
		return err // the id is never used: a gap, which is harmless
	}
	if w.ready != nil {
		func() {
			defer close(w.ready) // a panicking build leaves a message without events
			w.drafts = w.build(w.m)
		}()
	}
	return db.await(j)
}

// giveID gives w's message the next SQLite message id (idMu held).
func (db *DB) giveID(w *msgWrite) {
	db.lastMessageID++
	w.m.ID = chat.MessageID(db.lastMessageID)
	w.hasID = true
}
