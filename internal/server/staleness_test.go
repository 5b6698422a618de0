package server_test

import (
	"testing"
	"time"

	"github.com/parleychat/parley/internal/natsbus"
	"github.com/parleychat/parley/internal/parleytest"
)

// staleBound is the bound a change on one node must act on every node
// within (issue 11 item 10; docs/decisions.md, "Several nodes: staleness
// bound"), counted from the change's answer.
const staleBound = natsbus.DefaultMaxStaleness

// refusedByBound polls try, which calls node B, from just after the change
// was answered: try must report a refusal for every call that starts once
// the bound has passed. It polls rather than sleeps, so it passes as soon
// as B refuses; what it asserts is only that no call after the deadline is
// accepted.
func refusedByBound(t *testing.T, what string, answered time.Time, try func() (refused bool, got string)) {
	t.Helper()
	deadline := answered.Add(staleBound)
	for n := 1; ; n++ {
		start := time.Now()
		refused, got := try()
		if refused {
			t.Logf("%s: refused %v after the answer (try %d)", what, time.Since(answered).Round(time.Millisecond), n)
			return
		}
		if !start.Before(deadline) {
			t.Fatalf("%s: a call started %v after the change was answered was accepted (bound %v): %s",
				what, start.Sub(answered).Round(time.Millisecond), staleBound, got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func busOf(t *testing.T, s *parleytest.Server) *natsbus.Bus {
	t.Helper()
	nb, ok := s.Bus.(*natsbus.Bus)
	if !ok {
		t.Fatalf("node bus is %T, want *natsbus.Bus", s.Bus)
	}
	return nb
}

// TestS12_NoStaleYesAcrossNodes (issue 11 item 10): with two nodes on one
// PostgreSQL schema and NATS between them, a removal, a block, a sign-out
// and a policy change made on node A are refused on node B within the
// staleness bound of the answer, also while B is cut off from NATS (then B
// reads through to the database instead of trusting its caches); once NATS
// is back, B serves its caches again.
func TestS12_NoStaleYesAcrossNodes(t *testing.T) {
	parleytest.RequirePostgres(t)
	ns := startEmbeddedNATS(t)
	proxy := startProxy(t, ns.Addr().String())
	// B reaches NATS through the proxy.
	a, b := startTwoNodes(t, &clock{t: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}, ns.ClientURL(), proxy.URL())
	busB := busOf(t, b)
	current := func() bool { return busOf(t, a).Current() && busB.Current() }

	contoso := a.CreateTenant("Contoso", "contoso.com")
	fabrikam := a.CreateTenant("Fabrikam", "fabrikam.com")
	alice := a.User(contoso, "alice", false)
	bob := a.User(contoso, "bob", false)
	carol := a.User(contoso, "carol", false)
	dave := a.User(contoso, "dave", false)
	erin := a.User(fabrikam, "erin", false)
	fay := a.User(fabrikam, "fay", false)

	send := func(c *parleytest.Client, chatID, text string) func() (bool, string) {
		return func() (bool, string) {
			r := c.Do("POST", "/v1.0/chats/"+chatID+"/messages", map[string]any{"body": map[string]string{"content": text}})
			return r.Status >= 400, r.Body2()
		}
	}
	mustSend := func(c *parleytest.Client, chatID, text string) {
		t.Helper()
		if refused, got := send(c, chatID, text)(); refused {
			t.Fatalf("send %q: %s", text, got)
		}
	}
	// accepted returns an external 1:1 of from and to, accepted by to.
	accepted := func(from, to *parleytest.Client, toAddr string) string {
		t.Helper()
		id := from.ChatWith(parleytest.ByEmail(toAddr)).Map(t)["id"].(string)
		from.Send(id, "hello")
		to.Must(204, "POST", "/parley/v1/me/requests/"+id+"/accept", nil)
		return id
	}
	group := alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "Staleness",
		"members": []any{parleytest.Bind(bob.UserID, false), parleytest.Bind(carol.UserID, false)}}).Map(t)["id"].(string)
	aliceErin := accepted(alice, erin, "erin@fabrikam.com")
	daveFay := accepted(dave, fay, "fay@fabrikam.com")
	carolB, daveB, erinB := on(b, carol), on(b, dave), on(b, erin)
	removeCarol := func() {
		t.Helper()
		alice.Must(204, "DELETE", "/v1.0/chats/"+group+"/members/"+listMembers(t, alice, group)[carol.UserID], nil)
	}

	eventually(t, "both nodes trust their caches", current)

	t.Run("a: a member removed on A cannot post via B", func(t *testing.T) {
		mustSend(carolB, group, "carol on B, cached") // B now holds the chat and carol's token
		removeCarol()
		refusedByBound(t, "removed member's send on B", time.Now(), send(carolB, group, "carol on B, removed"))
		alice.Must(201, "POST", "/v1.0/chats/"+group+"/members", parleytest.Bind(carol.UserID, false))
		eventually(t, "B takes the re-added member's send", func() bool { r, _ := send(carolB, group, "back")(); return !r })
	})

	// cutB cuts B from NATS after warm has filled B's caches, runs the
	// change on A, then asserts B refuses by the bound; then NATS comes
	// back, B reconnects, and both nodes trust their caches again.
	cutB := func(t *testing.T, warm func(), change func(), what string, try func() (bool, string)) {
		t.Helper()
		warm()
		reconnects := busB.Stats().Reconnects
		proxy.cut()
		t.Cleanup(proxy.restore)
		change()
		refusedByBound(t, what, time.Now(), try)
		proxy.restore()
		eventually(t, "B reconnected and both nodes trust their caches again", func() bool {
			st := busB.Stats()
			return st.Connected && st.Reconnects > reconnects && current()
		})
	}

	t.Run("b: removal while B is cut off from NATS", func(t *testing.T) {
		cutB(t, func() { mustSend(carolB, group, "carol on B before the cut") }, removeCarol,
			"removed member's send on B", send(carolB, group, "carol on B, removed, no NATS"))
	})

	t.Run("b: block while B is cut off from NATS", func(t *testing.T) {
		cutB(t, func() { mustSend(daveB, daveFay, "dave on B before the cut") },
			func() { fay.Must(204, "POST", "/parley/v1/me/blockedUsers", map[string]any{"userId": dave.UserID}) },
			"blocked sender's send on B", send(daveB, daveFay, "dave on B, blocked, no NATS"))
	})

	t.Run("b: sign-out while B is cut off from NATS", func(t *testing.T) {
		tok := a.SignIn("bob@contoso.com", parleytest.Password)
		tokB := on(b, tok)
		cutB(t, func() { tokB.Must(200, "GET", "/v1.0/me", nil) }, // cached on B
			func() { tok.Must(204, "POST", "/parley/v1/signout", nil) },
			"signed-out token on B", func() (bool, string) {
				r := tokB.Do("GET", "/v1.0/me", nil)
				return r.Status == 401, r.Body2()
			})
	})

	t.Run("b: policy change while B is cut off from NATS", func(t *testing.T) {
		cutB(t, func() { mustSend(erinB, aliceErin, "erin on B before the cut") },
			func() {
				fabrikam.Admin.Must(200, "PATCH", "/parley/v1/admin/federationConfiguration", map[string]any{"allowFederatedUsers": false})
			},
			"send on B in a chat the policy made read-only", func() (bool, string) {
				r := erinB.Do("POST", "/v1.0/chats/"+aliceErin+"/messages", map[string]any{"body": map[string]string{"content": "no NATS"}})
				return r.Status == 403 && r.ErrorCode() == "chatReadOnly", r.Body2()
			})
	})

	t.Run("c: after NATS is back, B serves its caches again", func(t *testing.T) {
		mustSend(on(b, alice), group, "alice on B") // fills B's cache with the group
		eventually(t, "a send on B served from B's chat cache", func() bool {
			before := b.DB.UntrustedChatLookups()
			mustSend(on(b, alice), group, "alice on B, cached")
			return b.DB.UntrustedChatLookups() == before
		})
		if st := busB.Stats(); !st.Current || !st.Connected || st.Peers != 1 || st.Reset == 0 {
			t.Fatalf("B's bus after the outages: %+v; want connected, current, one peer, and resets", st)
		}
	})
}
