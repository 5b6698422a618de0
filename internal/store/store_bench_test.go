package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/app"
	"github.com/parleychat/parley/internal/auth"
	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/store"
	"github.com/parleychat/parley/internal/store/storetest"
)

// The benchmarks here hold the hot path of a send below HTTP: the reads
// every send makes (token, chat and members) and the write through the
// group-commit writer. They mirror cmd/parley-load's workload: 1:1 chats of
// one tenant, 64 concurrent senders, 100-byte texts (docs/performance.md).

// benchParallelism gives 32 goroutines per CPU: 64 senders on 2 cores.
const benchParallelism = 32

// benchFixture is a store with a tenant, pairs of users in 1:1 chats and a
// token per user.
type benchFixture struct {
	db     *store.DB
	users  []identity.User
	tokens [][]byte
	chats  []chat.ID
}

// newBenchFixture is a fixture on a fresh store that b closes: for the
// benchmarks that write.
func newBenchFixture(b *testing.B, d store.Dialect, pairs int) *benchFixture {
	b.Helper()
	return fixtureOn(b, storetest.Open(b, d), pairs)
}

// fixtureOn fills db with a tenant, 2*pairs users with a token each and
// their 1:1 chats.
func fixtureOn(b *testing.B, db *store.DB, pairs int) *benchFixture {
	b.Helper()
	ctx := context.Background()
	f := &benchFixture{db: db}
	now := time.Now().UTC()
	users := mustTenantUsers(b, f.db, "bench.test", 2*pairs+1)
	t := users[0].TenantID
	for _, u := range users[1:] {
		_, hash := auth.NewToken()
		if err := f.db.CreateToken(ctx, hash, u.ID, now.Add(time.Hour)); err != nil {
			b.Fatalf("CreateToken: %v", err)
		}
		f.users, f.tokens = append(f.users, u), append(f.tokens, hash)
	}
	for k := range pairs {
		a, o := f.users[2*k], f.users[2*k+1]
		c := chat.Chat{ID: chat.NewID(), Type: chat.OneOnOne, TenantID: t, CreatedBy: a.ID, CreatedAt: now, UpdatedAt: now, PairKey: chat.PairKey(a.ID, chat.UserPeer(o.ID))}
		var members []chat.Member
		for _, u := range []identity.User{a, o} {
			members = append(members, chat.Member{ID: chat.NewMemberID(), ChatID: c.ID, UserID: u.ID, Roles: []string{"owner"},
				JoinedAt: now, VisibleFrom: now, State: chat.Accepted, AddedBy: a.ID})
		}
		if _, err := f.db.CreateChat(ctx, c, members, nil, nil); err != nil {
			b.Fatalf("CreateChat: %v", err)
		}
		f.chats = append(f.chats, c.ID)
	}
	return f
}

// sharedFixtures holds the reading benchmarks' fixtures, one store per
// dialect and data set for the whole run (TestMain closes them): a
// benchmark's function runs again for each b.N round, and setting up the
// store each time took longer than the measuring.
var sharedFixtures struct {
	sync.Mutex
	m      map[string]*benchFixture
	closes []func() error
}

// sharedFixture returns the fixture of 64 pairs named set on dialect d,
// made on first use and then filled by fill (nil: nothing more). Only
// benchmarks that change nothing may use it.
func sharedFixture(b *testing.B, d store.Dialect, set string, fill func(f *benchFixture)) *benchFixture {
	b.Helper()
	if d == store.Postgres {
		storetest.RequirePostgres(b)
	}
	sharedFixtures.Lock()
	defer sharedFixtures.Unlock()
	key := string(d) + "/" + set
	if f := sharedFixtures.m[key]; f != nil {
		return f
	}
	cfg := store.Config{Dialect: d}
	switch d {
	case store.SQLite:
		dir, err := os.MkdirTemp("", "parley-bench-")
		if err != nil {
			b.Fatal(err)
		}
		sharedFixtures.closes = append(sharedFixtures.closes, func() error { return os.RemoveAll(dir) })
		cfg.Path = filepath.Join(dir, "parley.db")
	case store.Postgres:
		u, drop, err := storetest.NewPostgresSchema()
		if err != nil {
			b.Fatal(err)
		}
		sharedFixtures.closes = append(sharedFixtures.closes, drop)
		cfg.PostgresURL = u
	}
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		b.Fatalf("store.Open(%s): %v", d, err)
	}
	sharedFixtures.closes = append(sharedFixtures.closes, db.Close)
	f := fixtureOn(b, db, 64)
	if fill != nil {
		fill(f)
	}
	if sharedFixtures.m == nil {
		sharedFixtures.m = map[string]*benchFixture{}
	}
	sharedFixtures.m[key] = f
	return f
}

// TestMain closes the shared fixtures after the run.
func TestMain(m *testing.M) {
	code := m.Run()
	for i := len(sharedFixtures.closes) - 1; i >= 0; i-- { // the store before its directory or schema
		if err := sharedFixtures.closes[i](); err != nil {
			fmt.Fprintln(os.Stderr, "closing a benchmark fixture:", err)
			code = max(code, 1)
		}
	}
	os.Exit(code)
}

// fillMessages sends n messages from 64 goroutines, message i into chat
// i mod 64 from its second member, with the text text(i) and no events.
func fillMessages(b *testing.B, f *benchFixture, n int, text func(i int) string) {
	b.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			for i := g; i < n; i += 64 {
				k := i % len(f.chats)
				m := &chat.Message{ChatID: f.chats[k], SenderID: f.users[2*k+1].ID, CreatedAt: time.Now().UTC(), ContentType: "text", Content: text(i)}
				m.ModifiedAt = m.CreatedAt
				if _, err := f.db.CreateMessage(ctx, m, 0, func(*chat.Message) []event.Draft { return nil }); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func benchDialects(b *testing.B, f func(b *testing.B, d store.Dialect)) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		b.Run(string(d), func(b *testing.B) { f(b, d) })
	}
}

// parallelOps runs op from benchParallelism goroutines per CPU over the
// indexes 0..n-1 in turn, reporting allocations and failing the benchmark
// on the first error.
func parallelOps(b *testing.B, n int, op func(k int) error) {
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := op(int(next.Add(1)) % n); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkCreateMessage stores a message and its two events (one per
// member, each taking the member's next seq) through the group-commit
// writer, from 64 goroutines at once. Each op is one acknowledged, durable
// message; commits/op shows how well writes group, and cpu-µs/op (the
// process's CPU per message, getrusage) what a message costs the machine
// whatever the machine's load does to the time per op.
func BenchmarkCreateMessage(b *testing.B) {
	benchDialects(b, func(b *testing.B, d store.Dialect) {
		f := newBenchFixture(b, d, 64)
		ctx := context.Background()
		content := strings.Repeat("Lorem ipsum dolor sit amet ", 4)[:100]
		payload := []byte(`{"type":"messageCreated","chatId":"c","message":{"body":{"content":"` + content + `"}}}`)
		before := f.db.Stats()
		cpu0 := processCPU(b)
		parallelOps(b, len(f.chats), func(k int) error {
			sender, other := f.users[2*k], f.users[2*k+1]
			m := &chat.Message{ChatID: f.chats[k], SenderID: sender.ID, Sender: sender, CreatedAt: time.Now().UTC(), ContentType: "text", Content: content}
			m.ModifiedAt = m.CreatedAt
			_, err := f.db.CreateMessage(ctx, m, 0, func(*chat.Message) []event.Draft {
				return []event.Draft{
					{UserID: sender.ID, Type: event.MessageCreated, ChatID: string(m.ChatID), Payload: payload},
					{UserID: other.ID, Type: event.MessageCreated, ChatID: string(m.ChatID), Payload: payload},
				}
			})
			return err
		})
		b.StopTimer()
		b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N)/1e3, "cpu-µs/op")
		st := f.db.Stats()
		if w := st.Writes - before.Writes; w > 0 {
			b.ReportMetric(float64(st.Commits-before.Commits)/float64(w), "commits/op")
		}
	})
}

// BenchmarkFindChat is the read every send starts with: the chat as the
// sender sees it, and its members with their accounts.
func BenchmarkFindChat(b *testing.B) {
	benchDialects(b, func(b *testing.B, d store.Dialect) {
		f := sharedFixture(b, d, "chats", nil)
		ctx := context.Background()
		parallelOps(b, len(f.chats), func(k int) error {
			_, _, err := f.db.FindChat(ctx, f.chats[k], f.users[2*k].ID)
			return err
		})
	})
}

// BenchmarkAuthenticate is the two reads of every authenticated request:
// the token's user and expiry, then the user.
func BenchmarkAuthenticate(b *testing.B) {
	benchDialects(b, func(b *testing.B, d store.Dialect) {
		f := sharedFixture(b, d, "chats", nil)
		ctx := context.Background()
		parallelOps(b, len(f.users), func(k int) error {
			uid, _, err := f.db.FindToken(ctx, f.tokens[k])
			if err == nil {
				_, err = f.db.FindUserByID(ctx, uid)
			}
			return err
		})
	})
}

// silentBots is an app.Notifier for a benchmark whose chats have no bot:
// nothing is ever handed to it.
type silentBots struct{ app.Notifier }

// BenchmarkDeliveredNoBots is what every send of a person costs the bots
// code after the message is stored (app.Service.Delivered) in a 1:1 chat
// with no app installed, the common case: the chat comes from the chat
// cache, which also says whether anything is installed in it.
func BenchmarkDeliveredNoBots(b *testing.B) {
	benchDialects(b, func(b *testing.B, d store.Dialect) {
		f := sharedFixture(b, d, "chats", nil)
		s := &app.Service{Store: f.db, Notify: silentBots{}}
		ctx := context.Background()
		for _, id := range f.chats { // a send has read its chat before (chat.Service.Send)
			if _, _, err := f.db.FindChatAny(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
		parallelOps(b, len(f.chats), func(k int) error {
			sender := f.users[2*k]
			s.Delivered(ctx, &sender, &chat.Message{ChatID: f.chats[k], SenderID: sender.ID, Sender: sender, Content: "hello"})
			return nil
		})
	})
}

// BenchmarkFindChatReadThrough is the chat's read when the cache is not
// served (a miss, or a node that cannot prove it is current): the query
// that fills the cache, with the chat's members and whether an app is
// installed in it.
func BenchmarkFindChatReadThrough(b *testing.B) {
	benchDialects(b, func(b *testing.B, d store.Dialect) {
		f := newBenchFixture(b, d, 64)
		f.db.TrustCachedChatsWhile(func() bool { return false })
		ctx := context.Background()
		parallelOps(b, len(f.chats), func(k int) error {
			_, _, err := f.db.FindChatAny(ctx, f.chats[k])
			return err
		})
	})
}
