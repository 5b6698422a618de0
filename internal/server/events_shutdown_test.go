package server_test

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/parleytest"
)

// TestS7_ShutdownClosesEvents: net/http's Shutdown does not see hijacked
// connections, so Close ends the open WebSockets itself: each client gets
// 1001 (going away), no subscription and no realtime goroutine is left.
func TestS7_ShutdownClosesEvents(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		s := parleytest.StartStore(t, store)
		contoso := s.CreateTenant("Contoso", "contoso.com")
		alice := s.User(contoso, "alice", false)
		bob := s.User(contoso, "bob", false)
		// A live connection that has had traffic, and an idle one.
		a := alice.Events(-1)
		alice.Send(alice.OneOnOne(bob.UserID), "before the shutdown")
		a.WaitCount("messageCreated", 1, 10*time.Second)

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		u := strings.Replace(s.URL(), "http", "ws", 1) + "/parley/v1/events"
		c, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + bob.Token}}})
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer c.CloseNow()
		status := make(chan websocket.StatusCode, 1)
		go func() {
			for {
				if _, _, err := c.Read(ctx); err != nil {
					status <- websocket.CloseStatus(err)
					return
				}
			}
		}()

		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if got := <-status; got != websocket.StatusGoingAway {
			t.Errorf("got close status %d, want %d (going away)", got, websocket.StatusGoingAway)
		}
		if n := s.Bus.(*event.Local).Connections(); n != 0 {
			t.Errorf("got %d subscriptions after Close, want 0", n)
		}
		buf := make([]byte, 1<<20)
		if stacks := string(buf[:runtime.Stack(buf, true)]); strings.Contains(stacks, "internal/realtime.(*") {
			t.Errorf("realtime goroutines left after Close:\n%s", stacks)
		}
	})
}
