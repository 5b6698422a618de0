package server_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/config"
	"github.com/parleychat/parley/internal/parleytest"
)

// presenceOf returns "availability/activity" of user as c sees it, or the
// status when it is not 200.
func presenceOf(t *testing.T, c *parleytest.Client, userID string) string {
	t.Helper()
	r := c.Do("GET", "/v1.0/users/"+userID+"/presence", nil)
	if r.Status != 200 {
		return r.ErrorCode()
	}
	m := r.Map(t)
	if m["id"] != userID {
		t.Fatalf("presence id %v, want %s", m["id"], userID)
	}
	return m["availability"].(string) + "/" + m["activity"].(string)
}

// waitPresence polls until c sees want for user (alternatives: "a|b").
func waitPresence(t *testing.T, c *parleytest.Client, userID, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := presenceOf(t, c, userID)
		if slices.Contains(strings.Split(want, "|"), got) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("presence of %s: got %s, want %s", userID, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestS7_Presence: presence from open connections (available, away after
// idle, offline), a chosen status, and who sees it (docs/rules.md §7):
// one's organisation and people sharing an accepted chat; an external
// person only once the chat is accepted (§5), a blocker as offline (§4).
func TestS7_Presence(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		cfg := parleytest.Config(t, store)
		cfg.PresenceIdle = 600 * time.Millisecond
		d := newDailyWith(t, cfg)
		chat := d.alice.OneOnOne(d.bob.UserID)
		d.alice.Send(chat, "hi")

		t.Run("connections, idle, chosen status", func(t *testing.T) {
			waitPresence(t, d.bob, d.alice.UserID, "Offline/Offline")
			bobEvents := d.bob.EventsWithPresence()
			bobPlain := d.bob.Events(-1)
			conn := d.alice.Events(-1)
			waitPresence(t, d.bob, d.alice.UserID, "Available/Available")
			waitPresence(t, d.carol, d.alice.UserID, "Available/Available") // same organisation, no chat
			bobEvents.WaitFor("presenceChanged", 3*time.Second, func(evs []parleytest.Event) bool {
				for _, e := range evs {
					if e.Type == "presenceChanged" && e.Raw["userId"] == d.alice.UserID && e.Seq == 0 {
						return e.Raw["presence"].(map[string]any)["availability"] == "Available"
					}
				}
				return false
			})
			d.alice.Send(chat, "marker")
			for _, e := range bobPlain.WaitCount("messageCreated", 1, 3*time.Second) {
				if e.Type == "presenceChanged" {
					t.Fatalf("presence sent to a connection that did not ask: %v", e.Raw)
				}
			}
			if m := d.alice.Must(200, "GET", "/v1.0/me/presence", nil).Map(t); m["availability"] != "Available" || m["id"] != d.alice.UserID {
				t.Fatalf("own presence: %v", m)
			}
			// No call from alice for longer than the idle time: away.
			waitPresence(t, d.bob, d.alice.UserID, "Away/Away")
			d.alice.Must(200, "GET", "/v1.0/me", nil)
			waitPresence(t, d.bob, d.alice.UserID, "Available/Available")

			d.alice.Must(200, "POST", "/v1.0/me/presence/setUserPreferredPresence", map[string]any{"availability": "DoNotDisturb", "activity": "DoNotDisturb", "expirationDuration": "PT1H"})
			waitPresence(t, d.bob, d.alice.UserID, "DoNotDisturb/DoNotDisturb")
			for _, bad := range []map[string]any{
				{"availability": "Busy", "activity": "Available"},
				{"availability": "Sleeping", "activity": "Sleeping"},
				{"availability": "Busy", "activity": "Busy", "expirationDuration": "an hour"},
				{"availability": "Busy", "activity": "Busy", "expirationDuration": "P365D"},
			} {
				if r := d.alice.Do("POST", "/v1.0/me/presence/setUserPreferredPresence", bad); r.Status != 400 {
					t.Errorf("%v: %d %s", bad, r.Status, r.Body)
				}
			}
			waitPresence(t, d.bob, d.alice.UserID, "DoNotDisturb/DoNotDisturb")
			conn.Close()
			// A chosen status shows only while connected (as in Graph).
			waitPresence(t, d.bob, d.alice.UserID, "Offline/Offline")
			d.alice.Events(-1)
			waitPresence(t, d.bob, d.alice.UserID, "DoNotDisturb/DoNotDisturb")
			d.alice.Must(200, "POST", "/v1.0/me/presence/clearUserPreferredPresence", nil)
			waitPresence(t, d.bob, d.alice.UserID, "Available/Available")
		})

		t.Run("external people only once accepted", func(t *testing.T) {
			d.erin.Events(-1)
			waitPresence(t, d.carol, d.erin.UserID, "notFound") // an outsider: not visible at all
			id := d.erin.ChatWith(parleytest.ByEmail("carol@contoso.com")).Map(t)["id"].(string)
			d.erin.Send(id, "hello")
			carolEvents := d.carol.Events(-1)
			// The sender learns nothing of the pending target: the same 404 as an id no one has.
			if got, none := presenceOf(t, d.erin, d.carol.UserID), presenceOf(t, d.erin, "00000000-0000-7000-8000-000000000000"); got != "notFound" || none != "notFound" {
				t.Fatalf("sender asks the pending target's presence: %s (no such user: %s)", got, none)
			}
			// The target sees the sender, not their presence.
			if got := presenceOf(t, d.carol, d.erin.UserID); got != "PresenceUnknown/PresenceUnknown" {
				t.Fatalf("target asks the sender's presence: %s", got)
			}
			d.carol.Must(204, "POST", "/parley/v1/me/requests/"+id+"/accept", nil)
			waitPresence(t, d.erin, d.carol.UserID, "Available/Available|Away/Away")
			waitPresence(t, d.carol, d.erin.UserID, "Available/Available|Away/Away")
			_ = carolEvents
		})

		t.Run("pending target's connection tells the sender nothing", func(t *testing.T) {
			id := d.frank.ChatWith(parleytest.ByEmail("bob@contoso.com")).Map(t)["id"].(string)
			d.frank.Send(id, "hello bob")
			franks := d.frank.EventsWithPresence()
			d.bob.Events(-1)
			d.bob.Must(200, "POST", "/v1.0/me/presence/setUserPreferredPresence", map[string]any{"availability": "Busy", "activity": "Busy"})
			d.bob.Must(200, "POST", "/v1.0/me/presence/clearUserPreferredPresence", nil)
			d.frank.Send(id, "marker")
			evs := franks.WaitCount("messageCreated", 1, 3*time.Second)
			for _, e := range evs {
				if e.Type == "presenceChanged" && e.Raw["userId"] == d.bob.UserID {
					t.Fatalf("pending sender got the target's presence: %v", e.Raw)
				}
			}
		})

		t.Run("a blocker shows as offline", func(t *testing.T) {
			d.alice.Events(-1)
			waitPresence(t, d.carol, d.alice.UserID, "Available/Available|Away/Away")
			d.alice.Must(204, "POST", "/parley/v1/me/blockedUsers", map[string]any{"userId": d.carol.UserID})
			waitPresence(t, d.carol, d.alice.UserID, "Offline/Offline")
			d.alice.Must(204, "DELETE", "/parley/v1/me/blockedUsers/"+d.carol.UserID, nil)
			waitPresence(t, d.carol, d.alice.UserID, "Available/Available|Away/Away")
		})

		if r := d.s.Anonymous().Do("GET", "/v1.0/me/presence", nil); r.Status != 401 {
			t.Fatalf("anonymous presence: %d", r.Status)
		}
	})
}

// newDailyWith is newDaily on a configuration.
func newDailyWith(t *testing.T, cfg config.Config) *daily {
	s := parleytest.Start(t, cfg)
	d := &daily{s: s}
	d.contoso = s.CreateTenant("Contoso", "contoso.com")
	d.fabrikam = s.CreateTenant("Fabrikam", "fabrikam.com")
	d.alice = s.User(d.contoso, "alice", false)
	d.bob = s.User(d.contoso, "bob", false)
	d.carol = s.User(d.contoso, "carol", false)
	d.erin = s.User(d.fabrikam, "erin", false)
	d.frank = s.User(d.fabrikam, "frank", false)
	return d
}
