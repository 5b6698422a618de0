package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
)

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
		if err := db.txQueryRow(tx, (`SELECT COALESCE(MAX(seq), 0) FROM events WHERE user_id = ?`), user).Scan(&last); err != nil {
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
	// The events themselves are the truth on both stores (SQLite keeps no
	// counter in the users row).
	if err := db.queryRow(ctx, (`SELECT COALESCE(MAX(seq), 0) FROM events WHERE user_id = ?`), userID).Scan(&seq); err != nil {
		return 0, fmt.Errorf("last seq of %s: %w", userID, err)
	}
	return seq, nil
}
