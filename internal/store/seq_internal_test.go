package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
)

// TestSeqsStayGaplessWhenWritesFail: on SQLite the writer counts seqs in
// memory; writes that insert events and then fail (rolled back to their
// savepoint, in batches with writes that succeed) give their numbers back,
// so a user's seqs stay 1..n with no gap, and a reopened store continues.
func TestSeqsStayGaplessWhenWritesFail(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	db := openSQLite(t, path)
	user := identity.UserID("u1")
	errBoom := errors.New("boom")
	const n = 300
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := range n {
		wg.Go(func() {
			err := db.inWrite(ctx, func(tx *sql.Tx) error {
				if _, err := db.insertEvents(tx, []event.Draft{{UserID: user, Type: event.MessageCreated, Payload: []byte(`{}`)}}); err != nil {
					return err
				}
				if i%3 == 0 {
					return errBoom // after its event: must be rolled back
				}
				return nil
			})
			if err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			} else if !errors.Is(err, errBoom) {
				t.Errorf("write %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	check := func(d *DB, want int) {
		t.Helper()
		evs, err := d.FindEvents(ctx, user, 0, 10*n)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != want {
			t.Fatalf("got %d events, want %d", len(evs), want)
		}
		for i, e := range evs {
			if e.Seq != int64(i+1) {
				t.Fatalf("event %d has seq %d: gap", i, e.Seq)
			}
		}
		last, err := d.LastSeq(ctx, user)
		if err != nil || last != int64(want) {
			t.Fatalf("LastSeq = %d, %v; want %d", last, err, want)
		}
	}
	if ok != n-(n+2)/3 {
		t.Fatalf("%d writes succeeded, want %d", ok, n-(n+2)/3)
	}
	check(db, ok)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// A reopened store (a restart) continues from the events on disk.
	db2 := openSQLite(t, path)
	if err := db2.inWrite(ctx, func(tx *sql.Tx) error {
		_, err := db2.insertEvents(tx, []event.Draft{{UserID: user, Type: event.MessageCreated, Payload: []byte(`{}`)}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	check(db2, ok+1)
}

// openSQLite opens a SQLite store at path, closed at cleanup (Close is
// idempotent, so a test may close it first).
func openSQLite(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), Config{Dialect: SQLite, Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}
