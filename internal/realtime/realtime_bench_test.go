package realtime_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley/internal/auth"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/realtime"
	"github.com/parleychat/parley/internal/store"
)

// BenchmarkFanout is the delivery half of a send: events published on the
// in-process bus reach the users' WebSocket connections through the real
// Handler (authenticated by a real token, subscribed, framed, written).
// Each op publishes one event to every one of conns users, each with one
// connection, and waits until every client has read its frame; frames/s is
// the rate at which the server side writes (client and server share this
// process and its CPUs). conns=1 is low load's shape: one event for an idle
// connection.
func BenchmarkFanout(b *testing.B) {
	for _, conns := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			benchFanout(b, conns)
		})
	}
}

func benchFanout(b *testing.B, conns int) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Dialect: store.SQLite, Path: filepath.Join(b.TempDir(), "parley.db")})
	if err != nil {
		b.Fatalf("store.Open: %v", err)
	}
	b.Cleanup(func() {
		if err := db.Close(); err != nil {
			b.Errorf("close store: %v", err)
		}
	})
	now := time.Now().UTC()
	t := identity.Tenant{ID: identity.NewTenantID(), DisplayName: "Bench", Domains: []string{"bench.test"}, CreatedAt: now}
	admin := identity.User{ID: identity.NewUserID(), TenantID: t.ID, Kind: identity.Member, Role: identity.RoleAdmin, DisplayName: "Admin",
		UPN: "admin@bench.test", Mail: "admin@bench.test", AllowChatsFromOrganizations: true, CreatedAt: now}
	if err := db.CreateTenant(ctx, t, admin, "hash"); err != nil {
		b.Fatalf("CreateTenant: %v", err)
	}
	users := make([]identity.UserID, conns)
	tokens := make([]string, conns)
	for i := range users {
		upn := fmt.Sprintf("u%d@bench.test", i)
		u := identity.User{ID: identity.NewUserID(), TenantID: t.ID, Kind: identity.Member, Role: identity.RoleMember, DisplayName: upn,
			UPN: upn, Mail: upn, AllowChatsFromOrganizations: true, CreatedAt: now}
		if err := db.CreateUser(ctx, u, "hash"); err != nil {
			b.Fatalf("CreateUser: %v", err)
		}
		tok, hash := auth.NewToken()
		if err := db.CreateToken(ctx, hash, u.ID, now.Add(time.Hour)); err != nil {
			b.Fatalf("CreateToken: %v", err)
		}
		users[i], tokens[i] = u.ID, tok
	}
	bus := event.NewLocal()
	h := &realtime.Handler{
		Auth: &auth.Service{Store: db, Now: time.Now, TokenTTL: time.Hour, Throttle: auth.NewThrottle(db)},
		Bus:  bus, Store: db, Log: slog.New(slog.DiscardHandler),
		Token: func(r *http.Request) string { return r.URL.Query().Get("access_token") },
		WriteError: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, err.Error(), http.StatusUnauthorized)
		},
	}
	srv := httptest.NewServer(h)
	// The HTTP server shuts down, then the handler closes the WebSockets
	// (cleanups run last first), as internal/server does.
	b.Cleanup(func() {
		if err := h.Close(); err != nil {
			b.Errorf("close handler: %v", err)
		}
	})
	b.Cleanup(srv.Close)

	// Every client counts its frames into received; an op waits for conns.
	received := make(chan struct{}, conns)
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	b.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/?access_token="
	for i := range users {
		c, _, err := websocket.Dial(ctx, wsURL+url.QueryEscape(tokens[i]), nil)
		if err != nil {
			b.Fatalf("dial %d: %v", i, err)
		}
		wg.Go(func() {
			defer c.CloseNow() //nolint:errcheck // the benchmark is over
			for {
				_, r, err := c.Reader(rctx)
				if err != nil {
					return
				}
				if _, err := io.Copy(io.Discard, r); err != nil {
					return
				}
				received <- struct{}{}
			}
		})
	}
	// The handler subscribes before it answers the upgrade; wait until
	// every subscription is on the bus.
	for deadline := time.Now().Add(30 * time.Second); bus.Connections() < conns; {
		if time.Now().After(deadline) {
			b.Fatalf("got %d subscriptions, want %d", bus.Connections(), conns)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A subscribed connection may not be upgraded yet, and replays the
	// store first: a stored event published meanwhile is left to that
	// replay, and these are not stored. An ephemeral event is never left
	// to it, and once every client has read one, every connection is live.
	ready := make([]event.Event, conns)
	for i := range ready {
		ready[i] = event.Event{UserID: users[i], Type: event.Typing, ChatID: "19:bench@thread.v2", Payload: []byte(`{"type":"typing"}`)}
	}
	if err := bus.Publish(ctx, ready); err != nil {
		b.Fatal(err)
	}
	for range conns {
		<-received
	}
	payload := []byte(`{"type":"messageCreated","chatId":"19:bench@thread.v2","message":{"id":"1","body":{"contentType":"text","content":"` +
		strings.Repeat("x", 100) + `"}}}`)
	evs := make([]event.Event, conns)
	b.ReportAllocs()
	b.ResetTimer()
	seq := int64(0)
	for b.Loop() {
		seq++
		for i := range evs {
			evs[i] = event.Event{UserID: users[i], Seq: seq, Type: event.MessageCreated, ChatID: "19:bench@thread.v2", Payload: payload}
		}
		if err := bus.Publish(ctx, evs); err != nil {
			b.Fatal(err)
		}
		for range conns {
			<-received
		}
	}
	b.ReportMetric(float64(b.N)*float64(conns)/b.Elapsed().Seconds(), "frames/s")
}
