package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
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
	at := micros(now)
	if db.dialect == Postgres && len(drafts) <= smallEvents {
		return db.insertEventsOnce(tx, drafts, now)
	}
	seqs, err := db.assignSeqs(tx, drafts)
	if err != nil {
		return nil, err
	}
	out := make([]event.Event, len(drafts))
	if db.canCopy(tx, len(drafts)) {
		c := &db.copy
		c.reset()
		for i := range drafts {
			d := &drafts[i]
			c.row(6)
			c.text(string(d.UserID))
			c.int8(seqs[i])
			c.text(string(d.Type))
			c.text(d.ChatID)
			c.bytes(d.Payload)
			c.int8(at)
			out[i] = event.Event{UserID: d.UserID, Seq: seqs[i], Type: d.Type, ChatID: d.ChatID, Payload: d.Payload, CreatedAt: now}
		}
		if err := db.copyIn(eventsCopy); err != nil {
			return nil, fmt.Errorf("insert events: %w", err)
		}
		return out, nil
	}
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

// eventChunk caps the events of one INSERT (see multiRowSQL).
const eventChunk = 64

// eventRow is the columns an event is stored with, by eventInserts and,
// on PostgreSQL, by eventsCopy.
const eventRow = `(user_id, seq, type, chat_id, payload, created_at)`

// eventsCopy stores a large group's events on PostgreSQL (copyIn).
const eventsCopy = `COPY events ` + eventRow + ` FROM STDIN BINARY`

var (
	eventInserts = multiRowSQL(`INSERT INTO events `+eventRow,
		`(?, ?, ?, ?, ?, ?)`, ``, eventChunk)
	seqReservations = multiRowSQL(`UPDATE users SET event_seq = users.event_seq + v.column2 FROM (`,
		`(CAST(? AS TEXT), CAST(? AS BIGINT))`, `) AS v WHERE users.id = v.column1 RETURNING users.id, users.event_seq`, pairChunk)
)

// smallEvents is the most events PostgreSQL stores with their seqs in one
// statement (insertEventsOnce); a 1:1 message has two.
const smallEvents = 2 * smallGroup

// insertEventsOnce's statement: seqsReserved[users] + eventsAfterSeqs[drafts].
var (
	seqsReserved = multiRowSQL(`WITH s AS (UPDATE users SET event_seq = users.event_seq + v.column2 FROM (`,
		`(CAST(? AS TEXT), CAST(? AS BIGINT))`, `) AS v WHERE users.id = v.column1 RETURNING users.id, users.event_seq - v.column2 AS base) `, smallEvents)
	eventsAfterSeqs = multiRowSQL(`INSERT INTO events `+eventRow+` SELECT s.id, s.base + d.column2, d.column3, d.column4, d.column5, d.column6 FROM (`,
		`(CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT))`, `) AS d JOIN s ON s.id = d.column1 RETURNING user_id, seq`, smallEvents)
)

// insertEventsOnce is insertEvents on PostgreSQL for a few drafts: the
// users' seq ranges are reserved (as assignSeqs does) and the events
// stored in one statement, one round trip instead of two.
func (db *DB) insertEventsOnce(tx *sql.Tx, drafts []event.Draft, now time.Time) ([]event.Event, error) {
	need := make(map[identity.UserID]int64, len(drafts))
	rank := make([]int64, len(drafts)) // the draft's place among its user's
	users := make([]identity.UserID, 0, len(drafts))
	for i, d := range drafts {
		if need[d.UserID] == 0 {
			users = append(users, d.UserID)
		}
		need[d.UserID]++
		rank[i] = need[d.UserID]
	}
	slices.Sort(users) // lock the rows in one order, as assignSeqs
	args := make([]any, 0, 2*len(users)+6*len(drafts))
	for _, u := range users {
		args = append(args, string(u), need[u])
	}
	at := micros(now)
	for i, d := range drafts {
		args = append(args, string(d.UserID), rank[i], string(d.Type), d.ChatID, string(d.Payload), at)
	}
	rows, err := db.txQuery(tx, seqsReserved[len(users)]+eventsAfterSeqs[len(drafts)], args...)
	if err != nil {
		return nil, fmt.Errorf("insert events: %w", err)
	}
	defer rows.Close()
	base := make(map[identity.UserID]int64, len(users)) // the seq before the user's first new one
	n := 0
	for rows.Next() {
		var u identity.UserID
		var seq int64
		if err := rows.Scan(&u, &seq); err != nil {
			return nil, fmt.Errorf("insert events: %w", err)
		}
		if b, ok := base[u]; !ok || seq-1 < b {
			base[u] = seq - 1
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insert events: %w", err)
	}
	if n != len(drafts) {
		return nil, fmt.Errorf("insert events: stored %d of %d (a user that does not exist)", n, len(drafts))
	}
	out := make([]event.Event, len(drafts))
	for i, d := range drafts {
		out[i] = event.Event{UserID: d.UserID, Seq: base[d.UserID] + rank[i], Type: d.Type, ChatID: d.ChatID, Payload: d.Payload, CreatedAt: now}
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

// nextSeq gives a user's next event seq on SQLite. SQLite has exactly one
// writer, this process's writer goroutine, so the counter lives in its
// memory: no write to the users row per recipient, and readers' page caches
// survive. A job's seqs count only once it succeeded, and a batch's only
// once it commits (see runBatch), so a rolled-back write gives its numbers
// back and seqs stay gapless.
func (db *DB) nextSeq(tx *sql.Tx, user identity.UserID) (int64, error) {
	last, ok := db.seq.job[user]
	if !ok {
		last, ok = db.seq.batch[user]
	}
	if !ok {
		last, ok = db.seq.done[user]
	}
	if !ok {
		if err := db.txQueryRow(tx, `SELECT COALESCE(MAX(seq), 0) FROM events WHERE user_id = ?`, user).Scan(&last); err != nil {
			return 0, fmt.Errorf("last seq of %s: %w", user, err)
		}
	}
	db.seq.job[user] = last + 1
	return last + 1, nil
}

// seqs is the writer goroutine's SQLite seq counter: done holds committed
// values, batch those of released jobs in the open transaction, job those
// of the running job. Only the writer goroutine touches it.
type seqs struct {
	done, batch, job map[identity.UserID]int64
}

func newSeqs() seqs {
	return seqs{done: map[identity.UserID]int64{}, batch: map[identity.UserID]int64{}, job: map[identity.UserID]int64{}}
}

// jobEnded keeps (ok) or drops the running job's seqs.
func (s *seqs) jobEnded(ok bool) {
	if ok {
		for u, v := range s.job {
			s.batch[u] = v
		}
	}
	clear(s.job)
}

// batchEnded keeps (committed) or drops the batch's seqs.
func (s *seqs) batchEnded(committed bool) {
	if committed {
		for u, v := range s.batch {
			s.done[u] = v
		}
	}
	clear(s.batch)
}

// FindEvents returns a user's events with seq above since, oldest first.
func (db *DB) FindEvents(ctx context.Context, userID identity.UserID, since int64, limit int) ([]event.Event, error) {
	rows, err := db.query(ctx, `SELECT seq, type, chat_id, payload, created_at FROM events WHERE user_id = ? AND seq > ? ORDER BY seq LIMIT ?`, userID, since, limit)
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
	// The events themselves are the truth on both stores (SQLite keeps no
	// counter in the users row).
	if err := db.queryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events WHERE user_id = ?`, userID).Scan(&seq); err != nil {
		return 0, fmt.Errorf("last seq of %s: %w", userID, err)
	}
	return seq, nil
}
