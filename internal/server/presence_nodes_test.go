package server_test

import (
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestPresenceAcrossNodes: two nodes on one PostgreSQL database with NATS
// between them (docs/rules.md §12): presence set on node A (a connection
// there, a chosen status) is seen on node B, by a colleague at once and by
// a person of another organisation only once their chat is accepted
// (docs/rules.md §7, §5), both by asking and as presenceChanged events on
// a WebSocket held on node B.
func TestPresenceAcrossNodes(t *testing.T) {
	parleytest.RequirePostgres(t)
	a, b := startTwoNodes(t, &clock{t: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)})

	contoso := a.CreateTenant("Contoso", "contoso.com")
	fabrikam := a.CreateTenant("Fabrikam", "fabrikam.com")
	alice := a.User(contoso, "alice", false)
	bobB := on(b, a.User(contoso, "bob", false))
	erinB := on(b, a.User(fabrikam, "erin", false))
	sees := func(c *parleytest.Client, want string) {
		t.Helper()
		eventually(t, c.UserID+" sees "+want, func() bool { return presenceOf(t, c, alice.UserID) == want })
	}

	sees(bobB, "Offline/Offline")
	conn := alice.Events(-1) // alice connects on A
	defer conn.Close()
	sees(bobB, "Available/Available")
	alice.Must(200, "POST", "/v1.0/me/presence/setUserPreferredPresence", map[string]any{"availability": "Busy", "activity": "Busy"})
	sees(bobB, "Busy/Busy")

	// Erin, of another organisation, on B: nothing before a chat, then
	// PresenceUnknown while the request is pending, then the status.
	if got := presenceOf(t, erinB, alice.UserID); got != "notFound" {
		t.Fatalf("an outsider with no chat: %s", got)
	}
	erinEvents := erinB.EventsWithPresence()
	defer erinEvents.Close()
	id := alice.ChatWith(parleytest.ByEmail("erin@fabrikam.com")).Map(t)["id"].(string)
	alice.Send(id, "hello from node A")
	erinEvents.WaitCount("messageCreated", 1, 30*time.Second) // the request reached B
	if got := presenceOf(t, erinB, alice.UserID); got != "PresenceUnknown/PresenceUnknown" {
		t.Fatalf("pending target on B: %s", got)
	}
	// A change while pending does not reach her; the marker proves the
	// socket delivered everything sent before it.
	alice.Must(200, "POST", "/v1.0/me/presence/setUserPreferredPresence", map[string]any{"availability": "DoNotDisturb", "activity": "DoNotDisturb"})
	sees(bobB, "DoNotDisturb/DoNotDisturb")
	alice.Send(id, "marker")
	for _, e := range erinEvents.WaitCount("messageCreated", 2, 30*time.Second) {
		if e.Type == "presenceChanged" && e.Raw["userId"] == alice.UserID {
			t.Fatalf("pending target got the sender's presence: %v", e.Raw)
		}
	}

	erinB.Must(204, "POST", "/parley/v1/me/requests/"+id+"/accept", nil)
	sees(erinB, "DoNotDisturb/DoNotDisturb")
	alice.Must(200, "POST", "/v1.0/me/presence/setUserPreferredPresence", map[string]any{"availability": "BeRightBack", "activity": "BeRightBack"})
	erinEvents.WaitFor("alice's presenceChanged on node B", 30*time.Second, func(evs []parleytest.Event) bool {
		for _, e := range evs {
			if e.Type == "presenceChanged" && e.Raw["userId"] == alice.UserID && e.Seq == 0 {
				if p, _ := e.Raw["presence"].(map[string]any); p["availability"] == "BeRightBack" {
					return true
				}
			}
		}
		return false
	})
	sees(erinB, "BeRightBack/BeRightBack")
	conn.Close()
	sees(erinB, "Offline/Offline")
}
