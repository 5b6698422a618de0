// Package store persists every domain of Parley in SQLite (the default,
// embedded) or PostgreSQL, behind the narrow interfaces the domain packages
// declare. It holds SQL and nothing else: no authorisation, no validation
// beyond constraints, no event publishing. Only internal/server and tests
// import it.
//
// Writes go through one writer goroutine that groups concurrent writes into
// one transaction (group commit): each write runs inside its own savepoint,
// so a failing write rolls back alone, and every caller is answered only
// after the COMMIT that made its write durable. With synchronous=FULL this
// costs one fsync per batch instead of one per message.
package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"               // registers the "sqlite" database/sql driver

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/store/sqlitevfs"
)

// Dialect names a database.
type Dialect string

// Dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Config says which database to open.
type Config struct {
	Dialect     Dialect
	Path        string // SQLite file
	PostgresURL string
	// MaxBatch caps the writes grouped into one transaction.
	MaxBatch int
	Logger   *slog.Logger
	// OnGroup, when set, is told of every group the writer ran: how many
	// writes it held and how long its transaction took, begin to commit
	// (metrics). It runs on the writer goroutine: keep it cheap.
	OnGroup func(writes int, took time.Duration)
	// SearchIndexEvery is how often the SQLite search index takes the new
	// messages when nobody searches (0: every second; see searchindex.go).
	SearchIndexEvery time.Duration
}

// DB is an open store.
type DB struct {
	dialect Dialect
	write   *sql.DB // SQLite: one connection; Postgres: the pool
	read    *sql.DB
	ckpt    *sql.DB // SQLite: the checkpointer's connection
	pgURL   string  // PostgreSQL: for pg_dump (Backup)
	log     *slog.Logger

	jobs     chan *job
	maxBatch int
	stop     chan struct{}
	done     chan struct{}
	ckptDone chan struct{}
	wconn    *sql.Conn // the writer goroutine's
	// lastMessageID is the last SQLite message id given out (see
	// CreateMessage); idMu orders giving one out with queueing its write.
	idMu          sync.Mutex
	lastMessageID int64
	once          sync.Once
	rebinds       sync.Map // query text -> dialect text

	readStmts, writeStmts sync.Map // query text -> *sql.Stmt

	writes, commits, messages atomic.Int64
	onGroup                   func(writes int, took time.Duration)
	// walFrames is the WAL's length at the checkpointer's last run;
	// walPages counts the pages the writer's commits wrote to the WAL.
	walFrames        atomic.Int64
	walPages         atomic.Int64
	ckptPages        atomic.Int64 // checkpointPages; tests lower it
	walRestartFrames int64
	arrivals         arrivals // the writer goroutine's
	seq              seqs     // the writer goroutine's, SQLite only
	copy             copyRows // the writer goroutine's, PostgreSQL only
	// writerTx is the writer's open transaction; any other (atomically's
	// own transactions on PostgreSQL) runs its statements unprepared, since
	// preparing on the pool could wait for a connection that a transaction
	// waiting for this one's lock holds.
	writerTx atomic.Pointer[sql.Tx]
	chats    *chatCache
	// The SQLite search index (searchindex.go): the newest committed
	// message id, and the last one the index holds. searchKick wakes the
	// indexer; nil on PostgreSQL.
	searchWanted, searchUpto atomic.Int64
	searchKick               chan struct{}
	searchDone               chan struct{}
}

// WriteStats counts the writes acknowledged and the transactions that
// committed them: with group commit, commits < writes under concurrency.
// Messages counts the chat messages among the writes; Queued is how many
// writes wait for the writer now.
type WriteStats struct {
	Writes, Commits, Messages int64
	Queued                    int
}

// Stats returns the write counters.
func (db *DB) Stats() WriteStats {
	return WriteStats{Writes: db.writes.Load(), Commits: db.commits.Load(), Messages: db.messages.Load(), Queued: len(db.jobs)}
}

// Ping reports whether the database answers a query (readiness).
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping %s: %w", db.dialect, err)
	}
	return nil
}

type job struct {
	ctx   context.Context
	fn    func(tx *sql.Tx) error
	msg   *msgWrite // a new message: the writer stores a group's together
	touch touch
	done  chan error
}

// Open opens (creating if needed) the database and applies migrations.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	db := &DB{dialect: cfg.Dialect, log: cfg.Logger, jobs: make(chan *job, 4096), maxBatch: cfg.MaxBatch, onGroup: cfg.OnGroup,
		stop: make(chan struct{}), done: make(chan struct{}), seq: newSeqs(), chats: newChatCache(chatCacheSize, chatCacheMembers), walRestartFrames: walRestartFrames}
	var err error
	switch cfg.Dialect {
	case SQLite:
		err = db.openSQLite(ctx, cfg.Path)
	case Postgres:
		err = db.openPostgres(ctx, cfg.PostgresURL)
	default:
		err = fmt.Errorf("unknown store %q", cfg.Dialect)
	}
	if err != nil {
		db.closeDBs()
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.closeDBs()
		return nil, err
	}
	if db.dialect == SQLite {
		// Message ids are given out before the writer runs (inWriteMessage).
		if err := db.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM messages`).Scan(&db.lastMessageID); err != nil {
			db.closeDBs()
			return nil, fmt.Errorf("read last message id: %w", err)
		}
	}
	go db.writer()
	if db.ckpt != nil {
		db.ckptPages.Store(checkpointPages)
		db.ckptDone = make(chan struct{})
		go db.checkpointer(checkpointEvery)
		if err := db.openSearchIndex(ctx, cmp.Or(cfg.SearchIndexEvery, searchIndexEvery)); err != nil {
			return nil, errors.Join(err, db.Close())
		}
	}
	return db, nil
}

func (db *DB) openSQLite(ctx context.Context, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	// Pragmas are set in the DSN so every pooled connection gets them, and
	// read back below: a silently ignored journal mode costs 10x (STACK.md).
	// wal_autocheckpoint(0): the writer never checkpoints inside a commit;
	// the checkpointer does it beside it (see checkpointer).
	// vfs=parley-wal: SQLite's unix VFS with the WAL's writes gathered into
	// one pwrite per commit (see package sqlitevfs).
	if err := sqlitevfs.Register(); err != nil {
		return fmt.Errorf("open sqlite %s: %w", path, err)
	}
	dsn := "file:" + path + "?vfs=" + sqlitevfs.Name + "&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_pragma=cache_size(-32768)&_pragma=wal_autocheckpoint(0)&_pragma=journal_size_limit(67108864)&_pragma=temp_store(MEMORY)&_txlock=immediate"
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// Writes are serialised by the writer goroutine; the second connection
	// only parses statements for the prepared-statement cache while the
	// first holds the writer's transaction.
	w.SetMaxOpenConns(2)
	w.SetMaxIdleConns(2)
	w.SetConnMaxLifetime(0)
	db.write = w
	var mode string
	var sync int
	if err := w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if err := w.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		return fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if mode != "wal" || sync != 2 {
		return fmt.Errorf("open sqlite %s: journal_mode=%s synchronous=%d, want wal and 2 (FULL)", path, mode, sync)
	}
	r, err := sql.Open("sqlite", "file:"+path+"?vfs="+sqlitevfs.Name+"&mode=ro&_pragma=busy_timeout(10000)&_pragma=cache_size(-16384)&_pragma=query_only(1)")
	if err != nil {
		return fmt.Errorf("open sqlite %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	db.read = r
	c, err := sql.Open("sqlite", "file:"+path+"?vfs="+sqlitevfs.Name+"&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=wal_autocheckpoint(0)")
	if err != nil {
		return fmt.Errorf("open sqlite %s for checkpoints: %w", path, err)
	}
	c.SetMaxOpenConns(1)
	db.ckpt = c
	return nil
}

// The checkpointer looks every checkpointEvery and copies the WAL once the
// writer has written checkpointPages pages to it since the last copy, or
// checkpointAtMost after that with fewer. Under load that is every look or
// every other; at 200 messages a second (9 pages a message) about once a
// second instead of ten times, and the pages that every lone commit writes
// again (the chat's row, the newest leaves) are copied and synced once,
// not ten times: the checkpointer's share of the CPU at that rate went
// from 4.2 % to 0.9 % (BenchmarkCreateMessagePaced, perf).
const (
	checkpointEvery  = 100 * time.Millisecond
	checkpointPages  = 2048
	checkpointAtMost = time.Second
)

// checkpointer copies the WAL into the database file on its own connection.
// SQLite's automatic checkpoint would run inside the writer's COMMIT every
// 1,000 pages, and the writer is the one goroutine every write queues for:
// it took a quarter of the writer's time. A PASSIVE checkpoint never blocks
// the writer or the readers, and pages written many times between two runs
// are copied once.
func (db *DB) checkpointer(every time.Duration) {
	defer close(db.ckptDone)
	t := time.NewTicker(every)
	defer t.Stop()
	var seen int64
	last := time.Now()
	for {
		select {
		case <-db.stop:
			return
		case <-t.C:
		}
		n := db.walPages.Load()
		if n == seen || n-seen < db.ckptPages.Load() && time.Since(last) < checkpointAtMost {
			continue
		}
		seen, last = n, time.Now()
		if frames, err := checkpoint(db.ckpt); err != nil {
			db.log.Warn("checkpoint", "err", err)
		} else {
			db.walFrames.Store(frames)
		}
	}
}

// checkpoint runs a PASSIVE checkpoint on q and returns the WAL's length
// in frames.
func checkpoint(q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var busy, frames, copied int64
	if err := q.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil {
		return 0, fmt.Errorf("checkpoint: %w", err)
	}
	return frames, nil
}

func (db *DB) openPostgres(ctx context.Context, url string) error {
	p, err := sql.Open("pgx", url)
	if err != nil {
		return fmt.Errorf("open postgres: %w", err)
	}
	p.SetMaxOpenConns(16)
	p.SetMaxIdleConns(16)
	if err := p.PingContext(ctx); err != nil {
		_ = p.Close() // the ping error is the one to report
		return fmt.Errorf("open postgres: %w", err)
	}
	db.write, db.read, db.pgURL = p, p, url
	return nil
}

// Dialect returns the database kind.
func (db *DB) Dialect() Dialect { return db.dialect }

// Close stops the writer after pending writes and closes the database.
// It is idempotent.
func (db *DB) Close() error {
	var err error
	db.once.Do(func() {
		close(db.stop)
		<-db.done
		if db.ckptDone != nil {
			<-db.ckptDone
		}
		if db.searchDone != nil {
			<-db.searchDone
		}
		err = db.closeDBs()
	})
	return err
}

func (db *DB) closeDBs() error {
	closeStmts(&db.readStmts)
	closeStmts(&db.writeStmts)
	var errs []error
	if db.read != nil && db.read != db.write {
		errs = append(errs, db.read.Close())
	}
	if db.ckpt != nil {
		errs = append(errs, db.ckpt.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	return errors.Join(errs...)
}

// q rewrites a query written with ? placeholders for the dialect.
func (db *DB) q(query string) string {
	if db.dialect != Postgres {
		return query
	}
	if v, ok := db.rebinds.Load(query); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	out := b.String()
	db.rebinds.Store(query, out)
	return out
}

// The chat cache keeps at most chatCacheSize chats and chatCacheMembers
// members (about 0.5 KB each with the account: ~100 MB at most).
const (
	chatCacheSize    = 100_000
	chatCacheMembers = 200_000
)

// inWrite runs fn in the writer's transaction and returns once it is
// committed (or failed). fn must only use tx and must not block on I/O
// other than tx. It may change anything, so it empties the chat cache;
// writes that know what they change use inWriteTouching.
func (db *DB) inWrite(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return db.inWriteTouching(ctx, touchAll, fn)
}

// inWriteTouching is inWrite for a write that changes only what t names.
func (db *DB) inWriteTouching(ctx context.Context, t touch, fn func(tx *sql.Tx) error) error {
	return db.inWriteJob(ctx, &job{ctx: ctx, fn: fn, touch: t})
}

// inWriteJob queues j and waits for its result.
func (db *DB) inWriteJob(ctx context.Context, j *job) error {
	if err := db.queue(ctx, j); err != nil {
		return err
	}
	return db.await(j)
}

// queue hands j to the writer.
func (db *DB) queue(ctx context.Context, j *job) error {
	j.done = make(chan error, 1)
	select {
	case db.jobs <- j:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-db.stop:
		return errors.New("store is closed")
	}
}

// await waits for the result of a queued job.
func (db *DB) await(j *job) error {
	// Wait even if ctx ends: the write may already be committed, and the
	// caller must not report failure for an acknowledged write. A job queued
	// after the writer stopped is never run.
	select {
	case err := <-j.done:
		return err
	case <-db.done:
		select {
		case err := <-j.done:
			return err
		default:
			return errors.New("store is closed")
		}
	}
}

// A group that already has company waits up to groupLinger for lingerFill
// writes: 300 µs took 10 % more messages per second than none (load tool,
// in-process, SQLite) and lowered the median send latency. A lone write
// waits only as arrivals says.
const (
	groupLinger = 300 * time.Microsecond
	lingerFill  = 32
)

// arrivals estimates how often writes arrive, so that at low load a lone
// write can wait for the next one and share its commit. A commit costs
// most of a lone message's CPU (the fsync, the WAL pages both messages
// share, the writer's wake-ups), so pairing writes at 200 a second saves
// CPU for at most loneLingerMax of latency. Writes further apart than
// loneLingerMax never wait, and neither do the writes of one client that
// waits for each answer before it writes again (an import, a test): when
// most waits of a window found no company, the next window waits only
// for one lone write in lingerProbe, to notice when company comes back.
type arrivals struct {
	since  time.Time // start of the current window
	n      int       // writes in it
	gap    time.Duration
	waits  int  // lone writes that waited, this window
	joined int  // … and found company
	futile bool // most waits of the last window found none
	probe  int
}

const (
	loneLingerMax  = 6 * time.Millisecond
	arrivalsWindow = 250 * time.Millisecond
	lingerProbe    = 16
)

// count adds a group's writes, and every arrivalsWindow turns the count
// into the mean gap between writes.
func (a *arrivals) count(n int, now time.Time) {
	if a.since.IsZero() {
		a.since = now
	}
	a.n += n
	if el := now.Sub(a.since); el >= arrivalsWindow {
		a.gap = el / time.Duration(a.n)
		a.futile = a.waits > 0 && a.joined*2 < a.waits
		a.since, a.n, a.waits, a.joined = now, 0, 0, 0
	}
}

// linger is how long a lone write waits for company: a little more than
// the mean gap, at most loneLingerMax, when the gap is under
// loneLingerMax; zero otherwise. queued is the writes already waiting,
// if any, which need no wait.
func (a *arrivals) linger(queued int, now time.Time) time.Duration {
	if queued > 0 || a.gap <= 0 || a.since.IsZero() || now.Sub(a.since) > 2*arrivalsWindow || a.gap > loneLingerMax {
		return 0
	}
	if a.futile {
		if a.probe++; a.probe%lingerProbe != 0 {
			return 0
		}
	}
	return min(a.gap*6/5, loneLingerMax)
}

// lingered records whether a lone write's wait found company.
func (a *arrivals) lingered(joined bool) {
	a.waits++
	if joined {
		a.joined++
	}
}

func (db *DB) writer() {
	defer close(db.done)
	defer func() {
		if db.wconn != nil {
			_ = db.wconn.Close() // back to the pool, which Close closes
		}
	}()
	batch := make([]*job, 0, db.maxBatch)
	linger := time.NewTimer(groupLinger)
	linger.Stop()
	for {
		select {
		case j := <-db.jobs:
			batch = append(batch[:0], j)
		case <-db.stop:
			// Drain what is queued so no caller waits forever.
			for {
				select {
				case j := <-db.jobs:
					db.runBatch([]*job{j})
				default:
					return
				}
			}
		}
	fill:
		for len(batch) < db.maxBatch {
			select {
			case j := <-db.jobs:
				batch = append(batch, j)
			default:
				break fill
			}
		}
		if len(batch) == 1 {
			if d := db.arrivals.linger(len(db.jobs), time.Now()); d > 0 {
				// Writes arrive every few milliseconds: wait for the next,
				// and no longer, so two share a commit (see arrivals).
				linger.Reset(d)
				select {
				case j := <-db.jobs:
					batch = append(batch, j)
				case <-linger.C:
				}
				linger.Stop()
				db.arrivals.lingered(len(batch) > 1)
			}
		} else if len(batch) < lingerFill {
			// Writers are coming in together: wait a moment for more, since
			// a commit costs about the same for 2 writes as for 20.
			linger.Reset(groupLinger)
		wait:
			for len(batch) < lingerFill {
				select {
				case j := <-db.jobs:
					batch = append(batch, j)
				case <-linger.C:
					break wait
				}
			}
			linger.Stop()
		}
		db.arrivals.count(len(batch), time.Now())
		db.runBatch(batch)
		if db.walFrames.Load() >= db.walRestartFrames {
			db.restartWAL()
		}
	}
}

// walRestartFrames is the WAL length (pages) at which the writer brings
// the checkpointer's work to an end (see restartWAL).
const walRestartFrames = 8192

// restartWAL lets the WAL start over from its beginning. SQLite does that
// when a write transaction begins with every frame checkpointed, which
// under a steady stream of writes the checkpointer beside the writer never
// sees: the writer has always committed more by the time it finishes. So
// once the WAL is long, the writer checkpoints between two transactions
// (only the frames since the checkpointer's last run are left to copy),
// and its next transaction restarts the log; journal_size_limit then
// truncates the file.
func (db *DB) restartWAL() {
	conn, err := db.writerConn()
	if err == nil {
		_, err = checkpoint(conn)
	}
	if err != nil {
		db.log.Warn("restart WAL", "err", err)
	}
	db.walFrames.Store(0)
}

// writerConn is the connection every write transaction runs on. A pool
// would hand the writer its two SQLite connections in turn, and each would
// then find the other's commit and throw its page cache away (a quarter of
// the writer's time went to that).
func (db *DB) writerConn() (*sql.Conn, error) {
	if db.wconn != nil {
		return db.wconn, nil
	}
	c, err := db.write.Conn(context.Background())
	if err != nil {
		return nil, fmt.Errorf("writer connection: %w", err)
	}
	db.wconn = c
	return c, nil
}

// begin starts a write transaction on the writer's connection, replacing
// the connection once if it broke (PostgreSQL restarts, network).
func (db *DB) begin() (*sql.Tx, error) {
	for attempt := 0; ; attempt++ {
		conn, err := db.writerConn()
		if err != nil {
			return nil, err
		}
		tx, err := conn.BeginTx(context.Background(), nil)
		if err == nil || attempt == 1 {
			db.writerTx.Store(tx)
			return tx, err
		}
		_ = conn.Close() // broken: the pool discards it
		db.wconn = nil
	}
}

// runBatch commits a group of writes. It first runs them back to back in
// one transaction; only when one fails does it roll back and run them again
// each in its own savepoint, so the failure is isolated. A failure is rare
// (a conflict, a vanished row), so the common group pays for no savepoints.
func (db *DB) runBatch(batch []*job) {
	if db.onGroup != nil {
		start := time.Now()
		defer func() { db.onGroup(len(batch), time.Since(start)) }()
	}
	if len(batch) > 1 && db.runTogether(batch) {
		return
	}
	db.runIsolated(batch)
}

// runTogether runs the batch without savepoints and reports whether it
// answered the jobs; false means a job failed and nothing was committed.
func (db *DB) runTogether(batch []*job) bool {
	tx, err := db.begin()
	if err != nil {
		return false // runIsolated reports it
	}
	fail := func() bool {
		db.seq.jobEnded(false)
		db.seq.batchEnded(false)
		if rerr := tx.Rollback(); rerr != nil {
			db.log.Error("rollback", "err", rerr)
		}
		return false
	}
	results := make([]error, len(batch))
	var msgs []*msgWrite
	for i, j := range batch {
		if err := j.ctx.Err(); err != nil {
			results[i] = err // never run: nothing to undo
		} else if j.msg != nil {
			msgs = append(msgs, j.msg)
		}
	}
	if len(msgs) > 0 {
		if err := db.writeMessages(tx, msgs); err != nil {
			return fail()
		}
		db.seq.jobEnded(true)
		for i, j := range batch {
			if j.msg != nil && results[i] == nil {
				results[i] = j.msg.err // refused by its cap: nothing stored
			}
		}
	}
	for i, j := range batch {
		if results[i] != nil || j.msg != nil {
			continue
		}
		if err := j.fn(tx); err != nil {
			return fail()
		}
		db.seq.jobEnded(true)
	}
	db.commit(tx, batch, results)
	return true
}

// runIsolated runs each job in its own savepoint (a lone job needs none):
// a failing job rolls back alone.
func (db *DB) runIsolated(batch []*job) {
	tx, err := db.begin()
	if err != nil {
		for _, j := range batch {
			j.done <- fmt.Errorf("begin: %w", err)
		}
		return
	}
	results := make([]error, len(batch))
	single := len(batch) == 1
	for i, j := range batch {
		if j.ctx.Err() != nil {
			results[i] = j.ctx.Err()
			continue
		}
		if single {
			results[i] = j.fn(tx)
			db.seq.jobEnded(results[i] == nil)
			continue
		}
		if _, err := tx.Exec("SAVEPOINT w"); err != nil {
			results[i] = fmt.Errorf("savepoint: %w", err)
			continue
		}
		if err := j.fn(tx); err != nil {
			db.seq.jobEnded(false)
			results[i] = err
			if _, rerr := tx.Exec("ROLLBACK TO SAVEPOINT w"); rerr != nil {
				results[i] = errors.Join(err, fmt.Errorf("rollback to savepoint: %w", rerr))
			}
			if _, rerr := tx.Exec("RELEASE SAVEPOINT w"); rerr != nil {
				results[i] = errors.Join(results[i], fmt.Errorf("release savepoint: %w", rerr))
			}
			continue
		}
		if _, err := tx.Exec("RELEASE SAVEPOINT w"); err != nil {
			results[i] = fmt.Errorf("release savepoint: %w", err)
		}
		db.seq.jobEnded(results[i] == nil)
	}
	if single && results[0] != nil {
		if err := tx.Rollback(); err != nil {
			db.log.Error("rollback", "err", err)
		}
		db.seq.batchEnded(false)
		batch[0].done <- results[0]
		return
	}
	db.commit(tx, batch, results)
}

// commit commits the batch's transaction and answers every job.
func (db *DB) commit(tx *sql.Tx, batch []*job, results []error) {
	if err := tx.Commit(); err != nil {
		db.seq.batchEnded(false)
		for _, j := range batch {
			j.done <- fmt.Errorf("commit: %w", err)
		}
		return
	}
	db.seq.batchEnded(true)
	db.commits.Add(1)
	db.countWALPages()
	db.writes.Add(int64(len(batch)))
	msgs := 0
	for i, j := range batch {
		if j.msg != nil && results[i] == nil {
			msgs++
		}
	}
	if msgs > 0 {
		db.messages.Add(int64(msgs))
		if db.dialect == SQLite {
			var top chat.MessageID
			for i, j := range batch {
				if j.msg != nil && results[i] == nil {
					top = max(top, j.msg.m.ID)
				}
			}
			db.messagesCommitted(int64(top))
		}
	}
	// Invalidate after COMMIT and before answering: a reader that starts
	// after the answer reads the new rows, one that raced holds a ticket
	// this voids.
	for i, j := range batch {
		if results[i] == nil {
			db.applyTouch(&j.touch)
		}
	}
	db.announceTouches()
	for i, j := range batch {
		j.done <- results[i]
	}
}

// countWALPages adds the pages the writer's last commit wrote (SQLite's
// DBSTATUS_CACHE_WRITE of its connection, read and reset) to walPages.
func (db *DB) countWALPages() {
	if db.dialect != SQLite || db.wconn == nil {
		return
	}
	err := db.wconn.Raw(func(c any) error {
		s, ok := c.(sqlite.DBStatus)
		if !ok {
			return fmt.Errorf("%T has no Status", c)
		}
		n, _, err := s.Status(sqlite.DBStatusCacheWrite, true)
		db.walPages.Add(int64(n))
		return err
	})
	if err != nil {
		db.log.Warn("count WAL pages", "err", err)
	}
}

// lockRow runs query (a SELECT of one row) with FOR UPDATE on PostgreSQL,
// so that the rest of tx decides with no other node's write of that row in
// between; on SQLite the one writer already runs one write at a time. A
// missing row is no error.
func (db *DB) lockRow(tx *sql.Tx, query string, args ...any) error {
	if db.dialect != Postgres {
		return nil
	}
	rows, err := db.txQuery(tx, query+` FOR UPDATE`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}

// now truncates a time to the stored precision (microseconds).
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// notFound turns sql.ErrNoRows into the notFound code.
func notFound(err error, what string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return errcode.New(errcode.NotFound, what, args...)
	}
	return err
}

// isUnique reports whether err is a unique-constraint violation.
func isUnique(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505") || strings.Contains(s, "duplicate key value")
}

// Prepared statements: parsing SQL was a fifth of the CPU of a send, so
// every query is prepared once per connection and reused. database/sql
// re-prepares a Stmt lazily on each pooled connection, and a Stmt used in
// the writer's transaction (tx.Stmt) reuses the statement already prepared
// on the writer's connection.

func (db *DB) prepared(pool *sql.DB, cache *sync.Map, query string) (*sql.Stmt, error) {
	if st, ok := cache.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := pool.Prepare(db.q(query))
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if prev, loaded := cache.LoadOrStore(query, st); loaded {
		_ = st.Close() // another goroutine prepared it first
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// queryRow runs a single-row read on the reader pool.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := db.prepared(db.read, &db.readStmts, query)
	if err != nil {
		// Unprepared fallback keeps the error in the *sql.Row (Scan returns it).
		return db.read.QueryRowContext(ctx, db.q(query), args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// query runs a read on the reader pool.
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := db.prepared(db.read, &db.readStmts, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// txStmt returns the writer's prepared statement bound to tx.
func (db *DB) txStmt(tx *sql.Tx, query string) (*sql.Stmt, error) {
	st, err := db.prepared(db.write, &db.writeStmts, query)
	if err != nil {
		return nil, err
	}
	return tx.Stmt(st), nil
}

// txExec runs a write statement in the writer's transaction.
func (db *DB) txExec(tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if tx != db.writerTx.Load() {
		return tx.Exec(db.q(query), args...)
	}
	st, err := db.txStmt(tx, query)
	if err != nil {
		return nil, err
	}
	return st.Exec(args...)
}

// txQueryRow runs a single-row query in the writer's transaction.
func (db *DB) txQueryRow(tx *sql.Tx, query string, args ...any) *sql.Row {
	if tx != db.writerTx.Load() {
		return tx.QueryRow(db.q(query), args...)
	}
	st, err := db.txStmt(tx, query)
	if err != nil {
		return tx.QueryRow(db.q(query), args...)
	}
	return st.QueryRow(args...)
}

// txQuery runs a query in the writer's transaction.
func (db *DB) txQuery(tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	if tx != db.writerTx.Load() {
		return tx.Query(db.q(query), args...)
	}
	st, err := db.txStmt(tx, query)
	if err != nil {
		return nil, err
	}
	return st.Query(args...)
}

func closeStmts(m *sync.Map) {
	m.Range(func(_, v any) bool {
		_ = v.(*sql.Stmt).Close() // closing at shutdown; the DB close reports errors
		return true
	})
}

// Multi-row statements: one statement text per row count, so the
// prepared-statement cache holds at most max texts for each.
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

// chunks calls f for each run of at most size items of n.
func chunks(n, size int, f func(lo, hi int) error) error {
	for lo := 0; lo < n; lo += size {
		if err := f(lo, min(lo+size, n)); err != nil {
			return err
		}
	}
	return nil
}

// pairChunk caps the rows of a statement over (id, value) pairs written as
// a VALUES list, whose columns SQLite and PostgreSQL both name column1 and
// column2.
const pairChunk = 64
