package store_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/parleychat/parley/internal/natsbus"
	"github.com/parleychat/parley/internal/store"
)

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
	var next atomic.Int64
	before := f.db.UntrustedChatLookups()
	b.ReportAllocs()
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := int(next.Add(1)) % len(f.chats)
			if _, _, err := f.db.FindChat(ctx, f.chats[k], f.users[2*k].ID); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(f.db.UntrustedChatLookups()-before)/float64(b.N), "untrusted/op")
}
