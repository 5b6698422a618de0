package sqlitevfs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

func open(tb testing.TB, path, params string, conns int) *sql.DB {
	tb.Helper()
	if err := Register(); err != nil {
		tb.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+params)
	if err != nil {
		tb.Fatal(err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	tb.Cleanup(func() { db.Close() })
	return db
}

const writerParams = "vfs=" + Name + "&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=wal_autocheckpoint(0)&_txlock=immediate"

// row is what the test expects of a row of t.
type row struct {
	ver  int
	hash [32]byte
}

// model is every committed row of t, by id.
type model map[int64]row

func (m model) clone() model {
	c := make(model, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// check reads t through q in one read transaction and compares it with
// want (when not nil) and with the summary row the same transactions kept.
func check(ctx context.Context, db *sql.DB, want model) error {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n, sum int64
	if err := tx.QueryRowContext(ctx, `SELECT n, s FROM summary`).Scan(&n, &sum); err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, ver, payload, h FROM t`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var gotN, gotSum int64
	seen := 0
	for rows.Next() {
		var id int64
		var ver int
		var payload, h []byte
		if err := rows.Scan(&id, &ver, &payload, &h); err != nil {
			return err
		}
		sh := sha256.Sum256(payload)
		if !bytes.Equal(sh[:], h) {
			return fmt.Errorf("row %d: payload does not match its hash", id)
		}
		if want != nil {
			w, ok := want[id]
			if !ok || w.ver != ver || w.hash != sh {
				return fmt.Errorf("row %d ver %d: not the committed row (%v, ver %d)", id, ver, ok, w.ver)
			}
			seen++
		}
		gotN++
		gotSum += int64(ver)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if gotN != n || gotSum != sum {
		return fmt.Errorf("t has %d rows, versions %d; summary says %d, %d", gotN, gotSum, n, sum)
	}
	if want != nil && seen != len(want) {
		return fmt.Errorf("read %d rows, %d committed", seen, len(want))
	}
	return nil
}

func integrity(ctx context.Context, db *sql.DB) error {
	var s string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&s); err != nil {
		return err
	}
	if s != "ok" {
		return fmt.Errorf("integrity_check: %s", s)
	}
	return nil
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// TestWALThroughTheVFS runs random transactions (small ones, ones larger
// than the writer's cache so that SQLite spills pages into the WAL before the
// commit, rollbacks of both, in-place rewrites of spilled pages) on two
// writers while readers check every snapshot they see and a checkpointer runs
// PASSIVE, RESTART and TRUNCATE checkpoints. Now and then the writer stops
// and the files as they are on disk are copied and opened with the plain
// unix VFS, as after a crash: SQLite's recovery must find exactly the
// committed rows. At the end the database is reopened with the unix VFS.
func TestWALThroughTheVFS(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "t.db")
	// cache_size(-200): 200 KiB, so that the large transactions spill.
	w := open(t, path, writerParams+"&_pragma=cache_size(-200)", 1)
	// A second writer, as the store's pool has two connections: each has
	// its WAL file, and one's buffered frames must never reach the file
	// after the other wrote.
	w2 := open(t, path, writerParams+"&_pragma=cache_size(-200)", 1)
	if _, err := w.ExecContext(ctx, `CREATE TABLE t(id INTEGER PRIMARY KEY, ver INTEGER NOT NULL, payload BLOB NOT NULL, h BLOB NOT NULL);
		CREATE TABLE summary(n INTEGER NOT NULL, s INTEGER NOT NULL);
		INSERT INTO summary VALUES (0, 0)`); err != nil {
		t.Fatal(err)
	}
	r := open(t, path, "vfs="+Name+"&mode=ro&_pragma=busy_timeout(10000)&_pragma=query_only(1)", 2)
	c := open(t, path, "vfs="+Name+"&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=wal_autocheckpoint(0)", 1)

	txns := 200
	if testing.Short() {
		txns = 80
	}
	writes, through := walWrites.Load(), walThrough.Load()
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	var ckMu sync.Mutex // held by the checkpointer while it runs, and by the crash copy
	for i := range 2 {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-done:
					return
				case <-time.After(time.Duration(2+i) * time.Millisecond):
				}
				if err := check(ctx, r, nil); err != nil {
					errs <- fmt.Errorf("reader %d, check %d: %w", i, n, err)
					return
				}
			}
		})
	}
	ckpts := map[string]int{}
	wg.Go(func() {
		rnd := rand.New(rand.NewPCG(2, 2))
		for {
			select {
			case <-done:
				return
			case <-time.After(time.Duration(rnd.IntN(8)) * time.Millisecond):
			}
			k := rnd.IntN(6)
			mode := []string{"PASSIVE", "PASSIVE", "PASSIVE", "PASSIVE", "RESTART", "TRUNCATE"}[k]
			ckMu.Lock()
			var busy, log, copied int
			err := c.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &log, &copied)
			ckMu.Unlock()
			if err != nil {
				errs <- fmt.Errorf("checkpoint %s: %w", mode, err)
				return
			}
			ckpts[mode]++
		}
	})

	rnd := rand.New(rand.NewPCG(1, 1))
	committed := model{}
	var nextID int64 = 1
	payload := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rnd.Uint32())
		}
		return b
	}
	var commits, rollbacks, large int
	for i := 0; i < txns; i++ {
		if err := func() error {
			select {
			case err := <-errs:
				return err
			default:
			}
			next := committed.clone()
			id := nextID
			wi := w
			if rnd.IntN(2) == 0 {
				wi = w2
			}
			tx, err := wi.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			inserts := 1 + rnd.IntN(5)
			if rnd.IntN(8) == 0 {
				inserts = 100 + rnd.IntN(200) // 0.15-0.5 MB: larger than the cache
				large++
			}
			for range inserts {
				p := payload(100 + rnd.IntN(3000))
				h := sha256.Sum256(p)
				if _, err := tx.ExecContext(ctx, `INSERT INTO t(id, ver, payload, h) VALUES (?, 1, ?, ?)`, id, p, h[:]); err != nil {
					return err
				}
				next[id] = row{1, h}
				id++
			}
			for range rnd.IntN(4) {
				if id == 1 {
					break
				}
				u := 1 + rnd.Int64N(id-1)
				old, ok := next[u]
				if !ok {
					continue
				}
				p := payload(100 + rnd.IntN(4000))
				h := sha256.Sum256(p)
				if _, err := tx.ExecContext(ctx, `UPDATE t SET ver = ver + 1, payload = ?, h = ? WHERE id = ?`, p, h[:], u); err != nil {
					return err
				}
				next[u] = row{old.ver + 1, h}
			}
			if rnd.IntN(3) == 0 && id > 1 {
				// Deletes keep the table at a few thousand rows.
				for range 1 + rnd.IntN(150) {
					u := 1 + rnd.Int64N(id-1)
					if _, err := tx.ExecContext(ctx, `DELETE FROM t WHERE id = ?`, u); err != nil {
						return err
					}
					delete(next, u)
				}
			}
			var n, s int64
			for _, v := range next {
				n++
				s += int64(v.ver)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE summary SET n = ?, s = ?`, n, s); err != nil {
				return err
			}
			if rnd.IntN(6) == 0 {
				rollbacks++
				return tx.Rollback()
			}
			if err := tx.Commit(); err != nil {
				return err
			}
			commits++
			committed, nextID = next, id
			return nil
		}(); err != nil {
			close(done)
			wg.Wait()
			t.Fatalf("transaction %d: %v", i, err)
		}
		if i%50 == 49 {
			if err := crashCopy(ctx, t, &ckMu, path, committed); err != nil {
				close(done)
				wg.Wait()
				t.Fatalf("after transaction %d: %v", i, err)
			}
		}
	}
	close(done)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	if err := check(ctx, r, committed); err != nil {
		t.Fatalf("reader after the writes: %v", err)
	}
	if err := integrity(ctx, w); err != nil {
		t.Fatal(err)
	}
	writes, through = walWrites.Load()-writes, walThrough.Load()-through
	t.Logf("%d commits (%d large), %d rollbacks, %d rows, checkpoints %v; %d writes to the WAL, %d of them passed through", commits, large, rollbacks, len(committed), ckpts, writes, through)
	if large == 0 || through == 0 {
		t.Errorf("no large transaction rewrote a page it had spilled")
	}
	w.Close()
	w2.Close()
	r.Close()
	c.Close()

	plain := open(t, path, "_pragma=busy_timeout(10000)", 1)
	if err := integrity(ctx, plain); err != nil {
		t.Fatalf("reopened with the unix VFS: %v", err)
	}
	if err := check(ctx, plain, committed); err != nil {
		t.Fatalf("reopened with the unix VFS: %v", err)
	}
}

// crashCopy copies the WAL and then the database file as they are on disk
// while the writer is between transactions and no checkpoint runs, opens the
// copy with the unix VFS (SQLite recovers the WAL) and checks it holds want.
func crashCopy(ctx context.Context, t *testing.T, ckMu *sync.Mutex, path string, want model) error {
	dst := filepath.Join(t.TempDir(), "copy.db")
	ckMu.Lock()
	err := copyFile(dst+"-wal", path+"-wal")
	if err == nil {
		err = copyFile(dst, path)
	}
	ckMu.Unlock()
	if err != nil {
		return err
	}
	db, err := sql.Open("sqlite", "file:"+dst)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := integrity(ctx, db); err != nil {
		return fmt.Errorf("crash copy: %w", err)
	}
	if err := check(ctx, db, want); err != nil {
		return fmt.Errorf("crash copy: %w", err)
	}
	return nil
}

// TestCommitIsOneWrite checks the point of the VFS: once the WAL has its
// header, a commit of several pages reaches the WAL file with one write, and
// a database opened with psow=0 (where SQLite pads commits to a sector and
// the VFS passes writes through) still writes each frame's header and page.
func TestCommitIsOneWrite(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		params   string
		buffered bool
	}{{"", true}, {"&psow=0", false}} {
		t.Run("params="+tc.params, func(t *testing.T) {
			db := open(t, filepath.Join(t.TempDir(), "t.db"), writerParams+tc.params, 1)
			if _, err := db.ExecContext(ctx, `CREATE TABLE t(id INTEGER PRIMARY KEY, a BLOB, b BLOB); CREATE INDEX t_a ON t(a)`); err != nil {
				t.Fatal(err)
			}
			for i := range 20 {
				before := walWrites.Load()
				// Three pages at least: the table's leaf, the index's leaf
				// and the overflow page of a 5000-byte blob.
				if _, err := db.ExecContext(ctx, `INSERT INTO t(a, b) VALUES (randomblob(16), randomblob(5000))`); err != nil {
					t.Fatal(err)
				}
				n := walWrites.Load() - before
				if tc.buffered && n != 1 {
					t.Errorf("commit %d: %d writes to the WAL, want 1", i, n)
				}
				if !tc.buffered && n < 6 {
					t.Errorf("commit %d: %d writes to the WAL, want one per frame header and one per page", i, n)
				}
			}
		})
	}
}

// TestRolledBackSpillAndAnotherWriter is the case where a buffer could
// outlive its transaction: a writer spills pages of a large transaction into
// the WAL and rolls it back, the frames it still holds are beyond the
// committed ones, and then another connection commits over those offsets (or
// a TRUNCATE checkpoint starts the WAL over) before the first one touches its
// WAL again. The first writer's frames must reach the file before it gives
// up the write lock, never after.
func TestRolledBackSpillAndAnotherWriter(t *testing.T) {
	ctx := context.Background()
	for _, truncate := range []bool{false, true} {
		t.Run(fmt.Sprintf("truncate=%v", truncate), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "t.db")
			w1 := open(t, path, writerParams+"&_pragma=cache_size(-100)", 1)
			w2 := open(t, path, writerParams, 1)
			if _, err := w1.ExecContext(ctx, `CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB NOT NULL)`); err != nil {
				t.Fatal(err)
			}
			for round := range 5 {
				// An empty WAL: rolling back, w1 reads no page from it
				// (which would flush what it holds).
				if _, err := w2.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
					t.Fatal(err)
				}
				// Spill and roll back on w1.
				tx, err := w1.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := tx.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 300) INSERT INTO t(v) SELECT randomblob(3000) FROM n`); err != nil {
					t.Fatal(err)
				}
				if err := tx.Rollback(); err != nil {
					t.Fatal(err)
				}
				if truncate {
					if _, err := w2.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
						t.Fatal(err)
					}
				}
				// Commit over the same offsets on w2.
				if _, err := w2.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 400) INSERT INTO t(v) SELECT randomblob(3000) FROM n`); err != nil {
					t.Fatal(err)
				}
				// w1 reads (through its WAL file), then both check.
				var n int
				if err := w1.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if want := 400 * (round + 1); n != want {
					t.Fatalf("round %d: w1 counts %d rows, want %d", round, n, want)
				}
				if err := integrity(ctx, w2); err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
			}
			w1.Close()
			w2.Close()
			plain := open(t, path, "", 1)
			if err := integrity(ctx, plain); err != nil {
				t.Fatalf("reopened with the unix VFS: %v", err)
			}
		})
	}
}
