package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/parleychat/parley/internal/search"
)

// The SQLite full-text index (messages_fts) follows the messages instead of
// being written in each send's commit. Written by a trigger, it cost every
// commit four to six FTS5 pages of the fifteen a lone message writes (a new
// segment, its index entry, the document size, merges). Now a send's commit
// writes no FTS5 page; the index takes the new messages in batches, in a
// write of its own:
//
//   - search_indexed.upto is the last message id the index holds (migration
//     0040). The indexer takes the messages above it, at most
//     searchIndexBatch at a time, every searchIndexEvery while messages
//     arrive, and at once when searchIndexBatch are waiting.
//   - A search first brings the index up to the newest message committed
//     when it started (catchUpSearch), so it finds every message stored
//     before it, as it did with the trigger.
//   - Edits and deletes keep the index in step (the triggers of 0040) for
//     the messages it holds; a message it does not hold yet is indexed with
//     its text as it is when its turn comes. Both run on the one writer, so
//     nothing falls between them.
//
// PostgreSQL keeps its generated tsvector column: GIN's pending list
// already batches the index's writes.

const (
	// searchIndexEvery bounds how long a message waits for the index when
	// nobody searches.
	searchIndexEvery = time.Second
	// searchIndexBatch caps the messages one index write takes, so a long
	// backlog does not hold the writer (and the sends behind it) for long.
	searchIndexBatch = 512
)

// openSearchIndex reads where the index stands and starts the indexer
// (SQLite).
func (db *DB) openSearchIndex(ctx context.Context, every time.Duration) error {
	var upto, top int64
	if err := db.read.QueryRowContext(ctx, `SELECT upto FROM search_indexed`).Scan(&upto); err != nil {
		return fmt.Errorf("read search index position: %w", err)
	}
	if err := db.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM messages`).Scan(&top); err != nil {
		return fmt.Errorf("read last message id: %w", err)
	}
	db.searchUpto.Store(upto)
	db.searchWanted.Store(top)
	db.searchKick = make(chan struct{}, 1)
	db.searchDone = make(chan struct{})
	go db.searchIndexer(every)
	return nil
}

// messagesCommitted tells the indexer that messages up to id are committed
// (the writer after COMMIT, and a channel message's writer after its job).
// It only raises the mark: a caller reporting after its job returns may
// come after a later commit reported a higher id.
func (db *DB) messagesCommitted(id int64) {
	if db.searchKick == nil {
		return
	}
	for cur := db.searchWanted.Load(); id > cur && !db.searchWanted.CompareAndSwap(cur, id); cur = db.searchWanted.Load() {
	}
	if id-db.searchUpto.Load() >= searchIndexBatch {
		select {
		case db.searchKick <- struct{}{}:
		default:
		}
	}
}

// searchIndexer brings the index up to date every interval, or at once
// when a batch is waiting.
func (db *DB) searchIndexer(every time.Duration) {
	defer close(db.searchDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-db.stop:
			return
		case <-t.C:
		case <-db.searchKick:
		}
		for db.searchUpto.Load() < db.searchWanted.Load() {
			if err := db.indexSearch(context.Background()); err != nil {
				db.log.Warn("search index", "err", err)
				break
			}
			select {
			case <-db.stop:
				return
			default:
			}
		}
	}
}

// catchUpSearch brings the SQLite index up to the newest message committed
// before the call, so a search of q's words finds every message stored
// before it began.
func (db *DB) catchUpSearch(ctx context.Context, q *search.Query) error {
	if db.searchKick == nil || len(q.Terms) == 0 {
		return nil // PostgreSQL writes the index with the message; no words, no index
	}
	want := db.searchWanted.Load()
	for db.searchUpto.Load() < want {
		if err := db.indexSearch(ctx); err != nil {
			return err
		}
	}
	return nil
}

// indexSearch adds the next messages (at most searchIndexBatch) to the
// index in one write.
func (db *DB) indexSearch(ctx context.Context) error {
	want := db.searchWanted.Load()
	var upto int64
	caughtUp := false
	err := db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		var from, top int64
		if err := db.txQueryRow(tx, `SELECT upto FROM search_indexed`).Scan(&from); err != nil {
			return fmt.Errorf("search index position: %w", err)
		}
		if err := db.txQueryRow(tx, `SELECT COALESCE(MAX(id), 0) FROM messages`).Scan(&top); err != nil {
			return fmt.Errorf("last message id: %w", err)
		}
		upto, caughtUp = from, top <= from+searchIndexBatch
		if top <= from {
			return nil
		}
		upto = min(top, from+searchIndexBatch)
		if _, err := db.txExec(tx, `INSERT INTO messages_fts (rowid, plain) SELECT id, plain FROM messages WHERE id > ? AND id <= ? ORDER BY id`, from, upto); err != nil {
			return fmt.Errorf("index messages: %w", err)
		}
		if _, err := db.txExec(tx, `UPDATE search_indexed SET upto = ?`, upto); err != nil {
			return fmt.Errorf("search index position: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if caughtUp {
		// Every message committed before want was read is indexed; ids a
		// rolled-back write reserved leave gaps no message fills.
		upto = max(upto, want)
	}
	for {
		cur := db.searchUpto.Load()
		if upto <= cur || db.searchUpto.CompareAndSwap(cur, upto) {
			return nil
		}
	}
}
