package store

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
)

// TestCheckpointsRunBesideTheWriter: the writer never checkpoints (its
// connection has wal_autocheckpoint 0), so committed pages reach the
// database file only through the checkpointer, while the store is open.
func TestCheckpointsRunBesideTheWriter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	db := openSQLite(t, path)
	size := func() int64 {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	before := size()
	payload := []byte(`{"text":"` + strings.Repeat("x", 2000) + `"}`)
	for i := range 20 {
		if err := db.inWrite(ctx, func(tx *sql.Tx) error {
			drafts := make([]event.Draft, 50)
			for k := range drafts {
				drafts[k] = event.Draft{UserID: identity.UserID("u" + string(rune('a'+i))), Type: event.MessageCreated, Payload: payload}
			}
			_, err := db.insertEvents(tx, drafts)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	// 1,000 events of 2 KB: about 2 MB in the WAL, then in the file.
	deadline := time.Now().Add(10 * time.Second)
	for size() < before+1<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("database file %d bytes after 10 s (was %d): no checkpoint ran", size(), before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWALStartsOverUnderSteadyWrites: with writes arriving all the time the
// checkpointer never finds the WAL fully copied at the start of a write, so
// without the writer's restart the log would only grow.
func TestWALStartsOverUnderSteadyWrites(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t, filepath.Join(t.TempDir(), "p.db"))
	db.walRestartFrames = 256 // before the first write: the job channel orders it
	db.ckptPages.Store(256)
	payload := []byte(`{"text":"` + strings.Repeat("x", 2000) + `"}`)
	const batches = 300 // 15,000 events of 2 KB: ~8,000 pages of WAL without restarts
	for i := range batches {
		if err := db.inWrite(ctx, func(tx *sql.Tx) error {
			drafts := make([]event.Draft, 50)
			for k := range drafts {
				drafts[k] = event.Draft{UserID: identity.UserID("u" + string(rune('a'+i%26))), Type: event.MessageCreated, Payload: payload}
			}
			_, err := db.insertEvents(tx, drafts)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	frames, err := checkpoint(db.ckpt)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("WAL frames at the end: %d", frames)
	if frames > 4000 {
		t.Fatalf("the WAL holds %d frames after %d batches: it never started over", frames, batches)
	}
}
