package chat_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/graph"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/parleytest"
	"github.com/parleychat/parley/internal/policy"
	"github.com/parleychat/parley/internal/store"
)

// BenchmarkSend is a send below HTTP: chat.Service.Send with the real
// store, bus and encoder, as the server wires them. It finds the chat and
// its members, cleans the body, decides (an internal 1:1 chat: no policy
// round), stores the message with an event per member through the
// group-commit writer and publishes. 64 goroutines send at once into 64
// 1:1 chats of one tenant, as cmd/parley-load does (docs/performance.md).
func BenchmarkSend(b *testing.B) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			ctx := context.Background()
			cfg := store.Config{Dialect: d}
			if d == store.SQLite {
				cfg.Path = filepath.Join(b.TempDir(), "parley.db")
			} else {
				cfg.PostgresURL = parleytest.PostgresSchema(b)
			}
			db, err := store.Open(ctx, cfg)
			if err != nil {
				b.Fatalf("store.Open: %v", err)
			}
			b.Cleanup(func() {
				if err := db.Close(); err != nil {
					b.Errorf("close store: %v", err)
				}
			})
			now := func() time.Time { return time.Now().UTC() }
			svc := chat.NewService(chat.Deps{Store: db, Bus: event.NewLocal(), Encoder: graph.Encoder{}, Policy: &policy.Service{Store: db, Now: now}, Now: now})

			t := identity.Tenant{ID: identity.NewTenantID(), DisplayName: "Bench", Domains: []string{"bench.test"}, CreatedAt: now()}
			admin := identity.User{ID: identity.NewUserID(), TenantID: t.ID, Kind: identity.Member, Role: identity.RoleAdmin, DisplayName: "Admin",
				UPN: "admin@bench.test", Mail: "admin@bench.test", AllowChatsFromOrganizations: true, CreatedAt: now()}
			if err := db.CreateTenant(ctx, t, admin, "hash"); err != nil {
				b.Fatalf("CreateTenant: %v", err)
			}
			const pairs = 64
			users := make([]identity.User, 2*pairs)
			for i := range users {
				upn := fmt.Sprintf("u%d@bench.test", i)
				users[i] = identity.User{ID: identity.NewUserID(), TenantID: t.ID, Kind: identity.Member, Role: identity.RoleMember,
					DisplayName: fmt.Sprintf("User %d", i), UPN: upn, Mail: upn, AllowChatsFromOrganizations: true, CreatedAt: now()}
				if err := db.CreateUser(ctx, users[i], "hash"); err != nil {
					b.Fatalf("CreateUser: %v", err)
				}
			}
			chats := make([]chat.ID, pairs)
			for k := range chats {
				c, _, err := svc.Create(ctx, &users[2*k], chat.NewChat{Type: chat.OneOnOne, Members: []chat.NewMember{{UserID: users[2*k+1].ID}}})
				if err != nil {
					b.Fatalf("Create: %v", err)
				}
				chats[k] = c.ID
			}
			text := strings.Repeat("Lorem ipsum dolor sit amet ", 4)[:100]
			var next atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(32)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := int(next.Add(1))
					k := n % pairs
					from := &users[2*k+(n/pairs)%2]
					if _, err := svc.Send(ctx, from, chats[k], chat.Body{ContentType: "text", Content: text}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
