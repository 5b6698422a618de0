package store_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/store"
	"github.com/parleychat/parley/internal/store/storetest"
)

// TestBackup takes a backup of a store while its writer is busy and checks
// that the copy holds what was committed before it, and that an existing
// file is never overwritten.
func TestBackup(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		db := storetest.Open(t, d)
		users := mustTenantUsers(t, db, "backup.test", 3)

		// Writes go on while the backup runs.
		stop := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			defer close(done)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := db.SetSetting(ctx, "backup-test", time.Now().String()); err != nil {
					done <- err
					return
				}
			}
		}()
		out := filepath.Join(t.TempDir(), "backup")
		err := db.Backup(ctx, out)
		close(stop)
		if werr := <-done; werr != nil {
			t.Fatalf("writes beside the backup: %v", werr)
		}
		if err != nil {
			t.Fatalf("Backup: %v", err)
		}
		raw, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Backup(ctx, out); err == nil {
			t.Errorf("Backup to an existing file: got nil, want an error")
		}
		if again, _ := os.ReadFile(out); !bytes.Equal(again, raw) {
			t.Errorf("Backup to an existing file changed it")
		}
		if err := db.Backup(ctx, filepath.Join(t.TempDir(), "no-such-dir", "b")); err == nil {
			t.Errorf("Backup into a missing folder: got nil, want an error")
		}

		if d == store.Postgres {
			// pg_dump's custom format; restoring it needs a database of its
			// own, which pg_restore's round trip is not worth here.
			if !bytes.HasPrefix(raw, []byte("PGDMP")) {
				t.Fatalf("PostgreSQL backup: got %q…, want a pg_dump custom archive (PGDMP)", raw[:min(len(raw), 16)])
			}
			for _, want := range []string{"CREATE TABLE", "users", "messages", "events"} {
				if !bytes.Contains(raw, []byte(want)) {
					t.Errorf("PostgreSQL backup: the archive's table of contents lacks %q", want)
				}
			}
			return
		}
		// The SQLite copy is a database Parley opens as it is.
		restored, err := store.Open(ctx, store.Config{Dialect: store.SQLite, Path: out})
		if err != nil {
			t.Fatalf("open the backup: %v", err)
		}
		defer restored.Close() //nolint:errcheck // read only
		for _, u := range users {
			got, err := restored.FindUserByID(ctx, u.ID)
			if err != nil {
				t.Fatalf("user %s in the backup: %v", u.UPN, err)
			}
			if got.UPN != u.UPN {
				t.Errorf("user %s in the backup: got UPN %q", u.ID, got.UPN)
			}
		}
	})
}
