package store_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/natsbus"
	"github.com/parleychat/parley/internal/policy"
	"github.com/parleychat/parley/internal/store"
	"github.com/parleychat/parley/internal/store/storetest"
)

// TestInvalidationAnnouncedBeforeAnswer: the staleness bound runs from a
// change's answer, so a write's invalidation must be handed to the other
// nodes (OnInvalidate, which publishes it) before the write returns: a
// removal names its chat, a block (which may change anything) names all.
func TestInvalidationAnnouncedBeforeAnswer(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := testContext(t)
		db := storetest.Open(t, d)
		var mu sync.Mutex
		var got []store.Invalidation
		db.OnInvalidate(func(inv store.Invalidation) {
			mu.Lock()
			got = append(got, inv)
			mu.Unlock()
		})
		announced := func() []store.Invalidation {
			mu.Lock()
			defer mu.Unlock()
			out := slices.Clone(got)
			got = nil
			return out
		}
		us := mustTenantUsers(t, db, "announce.test", 3)
		now := time.Now().UTC().Truncate(time.Microsecond)
		c := chat.Chat{ID: chat.NewID(), Type: chat.Group, TenantID: us[0].TenantID, CreatedBy: us[0].ID, CreatedAt: now, UpdatedAt: now}
		var members []chat.Member
		for _, u := range us {
			members = append(members, chat.Member{ID: chat.NewMemberID(), ChatID: c.ID, UserID: u.ID, Roles: []string{"owner"},
				JoinedAt: now, VisibleFrom: now, State: chat.Accepted, AddedBy: us[0].ID})
		}
		if _, err := db.CreateChat(ctx, c, members, nil, nil); err != nil {
			t.Fatal(err)
		}
		announced()

		if _, err := db.RemoveMember(ctx, c.ID, members[2].ID, nil); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]store.Invalidation{{Chats: []chat.ID{c.ID}}}, announced()); diff != "" {
			t.Fatalf("announced when RemoveMember returned (-want +got):\n%s", diff)
		}
		if err := db.SaveBlock(ctx, us[1].ID, us[0].ID, policy.SilentBlock, now); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]store.Invalidation{{All: true}}, announced()); diff != "" {
			t.Fatalf("announced when SaveBlock returned (-want +got):\n%s", diff)
		}
	})
}

// BenchmarkFindChatTrusted is BenchmarkFindChat (SQLite) on a node of
// several: before each lookup the chat cache asks a real natsbus.Bus
// whether it may serve (docs/decisions.md, "Several nodes: staleness
// bound"). The difference to BenchmarkFindChat/sqlite is the cost of the
// bound on the hottest read; untrusted/op counts lookups that read the
// database because the node's proof had run out (load on the machine can
// delay the marks).
func BenchmarkFindChatTrusted(b *testing.B) {
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		b.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(20 * time.Second) {
		b.Fatal("nats server did not start")
	}
	b.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	ctx := context.Background()
	bus, err := natsbus.Connect(ctx, ns.ClientURL(), natsbus.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = bus.Close() })
	f := newBenchFixture(b, store.SQLite, 64)
	f.db.TrustCachedChatsWhile(bus.Current)
	for deadline := time.Now().Add(20 * time.Second); !bus.Current(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("the bus never became current")
		}
	}
	before := f.db.UntrustedChatLookups()
	parallelOps(b, len(f.chats), func(k int) error {
		_, _, err := f.db.FindChat(ctx, f.chats[k], f.users[2*k].ID)
		return err
	})
	b.StopTimer()
	b.ReportMetric(float64(f.db.UntrustedChatLookups()-before)/float64(b.N), "untrusted/op")
}
