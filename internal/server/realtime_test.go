package server_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestS7_RealTime: every change a member may see reaches all their open
// connections, with a per-user increasing seq; ?since= replays; a
// reconnecting client ends with every event exactly once.
func TestS7_RealTime(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		s := parleytest.StartStore(t, store)
		contoso := s.CreateTenant("Contoso", "contoso.com")
		alice := s.User(contoso, "alice", false)
		bob := s.User(contoso, "bob", false)
		carol := s.User(contoso, "carol", false)

		t.Run("events reach every connection of every member", func(t *testing.T) {
			b1, b2 := bob.Events(-1), bob.Events(-1)
			a1 := alice.Events(-1)
			c1 := carol.Events(-1)
			id := alice.OneOnOne(bob.UserID)
			mid := alice.Send(id, "hi bob")
			for _, w := range []*parleytest.Conn{b1, b2, a1} {
				evs := w.WaitCount("messageCreated", 1, 5*time.Second)
				var got map[string]any
				for _, e := range evs {
					if e.Type == "messageCreated" {
						got = e.Raw
					}
				}
				msg := got["message"].(map[string]any)
				if got["chatId"] != id || msg["id"] != mid || msg["body"].(map[string]any)["content"] != "hi bob" {
					t.Errorf("event = %v", got)
				}
			}
			alice.Must(204, "PATCH", "/v1.0/chats/"+id+"/messages/"+mid, map[string]any{"body": map[string]string{"content": "hi bob!"}})
			alice.Must(204, "DELETE", "/v1.0/chats/"+id+"/messages/"+mid, nil)
			b1.WaitCount("messageDeleted", 1, 5*time.Second)
			evs := b2.WaitCount("messageDeleted", 1, 5*time.Second)
			if parleytest.Count(evs, "messageUpdated") != 1 {
				t.Errorf("no messageUpdated: %v", evs)
			}
			// Seq is strictly increasing by one per user.
			for i := 1; i < len(evs); i++ {
				if evs[i].Seq != evs[i-1].Seq+1 {
					t.Fatalf("seq gap: %v", evs)
				}
			}
			// Carol is in none of it.
			time.Sleep(100 * time.Millisecond)
			if n := len(c1.Events()); n != 0 {
				t.Errorf("carol got %d events: %v", n, c1.Events())
			}
		})

		t.Run("member events", func(t *testing.T) {
			a := alice.Events(-1)
			c := carol.Events(-1)
			id := alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "T", "members": []any{parleytest.Bind(bob.UserID, false)}}).Map(t)["id"].(string)
			alice.Must(201, "POST", "/v1.0/chats/"+id+"/members", parleytest.Bind(carol.UserID, false))
			// The event's member carries what the members list shows,
			// organizationName included.
			for _, w := range []*parleytest.Conn{a, c} {
				for _, e := range w.WaitCount("memberAdded", 1, 5*time.Second) {
					if e.Type != "memberAdded" {
						continue
					}
					if m, _ := e.Raw["member"].(map[string]any); m["userId"] != carol.UserID || m["organizationName"] != "Contoso" {
						t.Errorf("memberAdded member = %v, want carol with organizationName Contoso", e.Raw["member"])
					}
				}
			}
			members := listMembers(t, alice, id)
			alice.Must(204, "DELETE", "/v1.0/chats/"+id+"/members/"+members[carol.UserID], nil)
			a.WaitCount("memberRemoved", 1, 5*time.Second)
			c.WaitCount("memberRemoved", 1, 5*time.Second)
		})

		t.Run("reconnect with since gets every event exactly once", func(t *testing.T) {
			dave := s.User(contoso, "dave", false)
			erin := s.User(contoso, "erin", false)
			id := dave.OneOnOne(erin.UserID)
			first := erin.Events(0)
			const total = 60
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range total {
					dave.Send(id, fmt.Sprintf("n%d", i))
				}
			}()
			// Drop the connection midway, then reconnect from the last seq seen.
			evs := first.WaitCount("messageCreated", total/3, 10*time.Second)
			first.Close()
			last := evs[len(evs)-1].Seq
			second := erin.Events(last)
			wg.Wait()
			all := append(evs, second.WaitCount("messageCreated", total-parleytest.Count(evs, "messageCreated"), 10*time.Second)...)
			seen := map[int64]bool{}
			for i, e := range all {
				if seen[e.Seq] {
					t.Fatalf("seq %d delivered twice", e.Seq)
				}
				seen[e.Seq] = true
				if i > 0 && e.Seq != all[i-1].Seq+1 {
					t.Fatalf("seq jumps from %d to %d", all[i-1].Seq, e.Seq)
				}
			}
			texts := map[string]bool{}
			for _, e := range all {
				if e.Type == "messageCreated" {
					texts[e.Raw["message"].(map[string]any)["body"].(map[string]any)["content"].(string)] = true
				}
			}
			if len(texts) != total {
				t.Fatalf("got %d distinct messages, want %d", len(texts), total)
			}
			// A fresh connection with since=0 replays the whole history in order.
			full := erin.Events(0).WaitCount("messageCreated", total, 10*time.Second)
			if full[0].Seq != 1 {
				t.Fatalf("replay starts at %d", full[0].Seq)
			}
		})

		t.Run("bad token and bad since are refused before the upgrade", func(t *testing.T) {
			r := s.Anonymous().Do("GET", "/parley/v1/events", nil)
			if r.Status != http.StatusUnauthorized || r.ErrorCode() != "unauthenticated" {
				t.Errorf("no token: %d %s", r.Status, r.Body)
			}
			r = alice.Do("GET", "/parley/v1/events?since=-4", nil)
			if r.Status != http.StatusBadRequest || r.ErrorCode() != "badRequest" {
				t.Errorf("bad since: %d %s", r.Status, r.Body)
			}
		})
	})
}
