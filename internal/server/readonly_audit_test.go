package server_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleychat/parley/internal/parleytest"
)

// Reasons of a read-only chat, as the API words them (docs/rules.md §4: whose side's
// setting it is).
const (
	ownSideReason   = "Your organisation's settings"
	otherSideReason = "The other side's settings"
)

// waitNotice waits for a chatReadOnly or chatWritable event about a chat
// and returns it.
func waitNotice(t *testing.T, c *parleytest.Conn, typ, chatID string) parleytest.Event {
	t.Helper()
	evs := c.WaitFor(typ+" on "+chatID, 10*time.Second, func(evs []parleytest.Event) bool {
		return slices.ContainsFunc(evs, func(e parleytest.Event) bool { return e.Type == typ && e.ChatID == chatID })
	})
	return evs[slices.IndexFunc(evs, func(e parleytest.Event) bool { return e.Type == typ && e.ChatID == chatID })]
}

// readOnlyView is what a member sees of a chat's read-only state: the chat
// and the answer to a send.
type readOnlyView struct {
	IsReadOnly bool
	Reason     string
	Send       string
}

func viewReadOnly(t *testing.T, c *parleytest.Client, chatID string) readOnlyView {
	t.Helper()
	var ch struct {
		IsReadOnly     bool   `json:"isReadOnly"`
		ReadOnlyReason string `json:"readOnlyReason"`
	}
	c.Must(http.StatusOK, "GET", "/v1.0/chats/"+chatID, nil).JSON(t, &ch)
	r := c.Do("POST", "/v1.0/chats/"+chatID+"/messages", textBody("still there?"))
	v := readOnlyView{IsReadOnly: ch.IsReadOnly, Reason: ch.ReadOnlyReason, Send: http.StatusText(r.Status) + " " + r.ErrorCode()}
	if r.Status == http.StatusForbidden {
		v.Send += ": " + errMessageOf(t, r)
	}
	return v
}

// expectReadOnly asserts the chat says it is read-only with a reason naming
// side, and a send is refused with chatReadOnly and the same reason.
func expectReadOnly(t *testing.T, c *parleytest.Client, chatID, side string) readOnlyView {
	t.Helper()
	v := viewReadOnly(t, c, chatID)
	if !v.IsReadOnly || !strings.HasPrefix(v.Reason, side) || v.Send != "Forbidden chatReadOnly: "+v.Reason {
		t.Errorf("chat %s: %+v, want isReadOnly, a reason starting %q, and sends refused with chatReadOnly and that reason", chatID, v, side)
	}
	return v
}

// expectWritable asserts the chat says it is writable and takes a send.
func expectWritable(t *testing.T, c *parleytest.Client, chatID string) {
	t.Helper()
	if v := viewReadOnly(t, c, chatID); v.IsReadOnly || v.Reason != "" || v.Send != "Created " {
		t.Errorf("chat %s: %+v, want writable and a send accepted", chatID, v)
	}
}

// expectNoNotice asserts c was never told of a read-only change of the chat.
func expectNoNotice(t *testing.T, c *parleytest.Client, chatID, who string) {
	t.Helper()
	for _, e := range eventsUntilBarrier(t, c) {
		if e.ChatID == chatID && (e.Type == "chatReadOnly" || e.Type == "chatWritable") {
			t.Errorf("%s was told %s: %v", who, e.Type, e.Raw)
		}
	}
}

// TestS4_PendingRequestTurnsReadOnly: a policy change that takes away the
// right to a request still pending makes the chat read-only at once, as for
// a chat both sides accepted (docs/rules.md §4): the chat says so, sends are refused
// with the same reason, the sender's open clients are told, and turning the
// switch on again makes it writable. Targets are not told (the chat is not
// theirs yet; a held one hears nothing, docs/rules.md §4 rule of silence), and the sender
// sees the same whatever is behind the address (docs/rules.md §6).
func TestS4_PendingRequestTurnsReadOnly(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		t.Run("the sender's own policy, whatever is behind the address", func(t *testing.T) {
			e := newExternal(t, store)
			// quinn refuses organisations: bob's request to her is held.
			e.quinn.Must(http.StatusOK, "PATCH", "/parley/v1/me/settings", map[string]any{"allowChatsFromOrganizations": false})
			targets := []struct {
				name, addr string
				target     *parleytest.Client // nil: no account (an invitation)
			}{
				{"a pending request", "pat@gmail.com", e.pat},
				{"an invitation", "nobody-here@gmail.com", nil},
				{"a held request", "quinn@outlook.com", e.quinn},
			}
			ids := make([]string, len(targets))
			for i, tg := range targets {
				ids[i] = e.bob.Must(http.StatusCreated, "POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne", "members": []any{parleytest.ByEmail(tg.addr)}}).Map(t)["id"].(string)
				e.bob.Send(ids[i], "hello")
			}
			bobEv := e.bob.Events(-1)

			policyFor(t, e.contoso.Admin, "NoConsumer", e.bob.UserID, map[string]any{"enableTeamsConsumerAccess": false})
			var want readOnlyView
			for i, tg := range targets {
				ev := waitNotice(t, bobEv, "chatReadOnly", ids[i])
				if r, _ := ev.Raw["reason"].(string); !strings.HasPrefix(r, ownSideReason) {
					t.Errorf("%s: bob's chatReadOnly says %q, want it to name his own side", tg.name, r)
				}
				v := expectReadOnly(t, e.bob, ids[i], ownSideReason)
				if i == 0 {
					want = v
				} else if d := cmp.Diff(want, v); d != "" {
					t.Errorf("bob sees %s differently from %s (-%s +%s):\n%s", tg.name, targets[0].name, targets[0].name, tg.name, d)
				}
			}
			for i, tg := range targets {
				if tg.target != nil {
					expectNoNotice(t, tg.target, ids[i], "the target of "+tg.name)
				}
			}

			e.contoso.Admin.Must(http.StatusNoContent, "POST", "/parley/v1/admin/externalAccessPolicies/Global/grant", map[string]any{"userIds": []string{e.bob.UserID}})
			for i := range targets {
				waitNotice(t, bobEv, "chatWritable", ids[i])
				expectWritable(t, e.bob, ids[i])
			}
		})

		t.Run("the target organisation's inbound switch", func(t *testing.T) {
			e := newExternal(t, store)
			id := expectRequest(t, e.pat, e.alice, parleytest.ByEmail("alice@contoso.com"))
			patEv := e.pat.Events(-1)

			federation(t, e.contoso.Admin, map[string]any{"allowTeamsConsumerInbound": false})
			waitNotice(t, patEv, "chatReadOnly", id)
			expectReadOnly(t, e.pat, id, otherSideReason)
			expectNoNotice(t, e.alice, id, "the pending target")

			federation(t, e.contoso.Admin, map[string]any{"allowTeamsConsumerInbound": true})
			waitNotice(t, patEv, "chatWritable", id)
			expectWritable(t, e.pat, id)
		})

		t.Run("a group chat is read-only for every member", func(t *testing.T) {
			// As when an accepted pair may no longer talk: the request bob
			// may no longer make stops alice's messages (which would reach
			// pat as the request's previews) too.
			e := newExternal(t, store)
			id := e.bob.Must(http.StatusCreated, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "Plans",
				"members": []any{parleytest.Bind(e.alice.UserID, false), parleytest.ByEmail("pat@gmail.com")}}).Map(t)["id"].(string)
			e.bob.Send(id, "hello")
			aliceEv := e.alice.Events(-1)

			policyFor(t, e.contoso.Admin, "NoConsumer", e.bob.UserID, map[string]any{"enableTeamsConsumerAccess": false})
			waitNotice(t, aliceEv, "chatReadOnly", id)
			expectReadOnly(t, e.alice, id, ownSideReason)
			expectReadOnly(t, e.bob, id, ownSideReason)

			e.contoso.Admin.Must(http.StatusNoContent, "POST", "/parley/v1/admin/externalAccessPolicies/Global/grant", map[string]any{"userIds": []string{e.bob.UserID}})
			waitNotice(t, aliceEv, "chatWritable", id)
			expectWritable(t, e.alice, id)
		})

		t.Run("a send corrects a stale flag", func(t *testing.T) {
			// Accepting makes the pair's chat an ordinary one, which the
			// inbound switch does not govern (mayTalk): the next send finds
			// the chat writable and says so.
			e := newExternal(t, store)
			id := expectRequest(t, e.pat, e.alice, parleytest.ByEmail("alice@contoso.com"))
			patEv := e.pat.Events(-1)
			federation(t, e.contoso.Admin, map[string]any{"allowTeamsConsumerInbound": false})
			waitNotice(t, patEv, "chatReadOnly", id)
			e.alice.Must(http.StatusNoContent, "POST", "/parley/v1/me/requests/"+id+"/accept", nil)
			e.pat.Send(id, "thanks")
			waitNotice(t, patEv, "chatWritable", id)
			expectWritable(t, e.pat, id)
			expectWritable(t, e.alice, id)
		})
	})
}

// TestS5_MentionsCarryIdentity: a mentioned user carries the identity type,
// tenant and External flag relative to the viewer, like the sender does
// (docs/rules.md §5), in the message list and in the live event.
func TestS5_MentionsCarryIdentity(t *testing.T) {
	e := newExternal(t, "sqlite")
	mention := func(n int, name, userID string) map[string]any {
		return map[string]any{"id": n, "mentionText": name, "mentioned": map[string]any{"user": map[string]any{"id": userID}}}
	}
	type identity struct {
		ID, Type string
		TenantID any
		External bool
	}
	mentioned := func(msg map[string]any) []identity {
		var out []identity
		for _, m := range msg["mentions"].([]any) {
			u := m.(map[string]any)["mentioned"].(map[string]any)["user"].(map[string]any)
			out = append(out, identity{u["id"].(string), u["userIdentityType"].(string), u["tenantId"], u["isExternal"].(bool)})
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		sender *parleytest.Client
		addr   string
		want   []identity // as alice sees them: herself, then the sender
	}{
		{"another organisation", e.erin, "erin@fabrikam.com", []identity{
			{e.alice.UserID, "aadUser", e.contoso.ID, false}, {e.erin.UserID, "federatedUser", e.fabrikam.ID, true}}},
		{"a personal account", e.pat, "pat@gmail.com", []identity{
			{e.alice.UserID, "aadUser", e.contoso.ID, false}, {e.pat.UserID, "personalMicrosoftAccountUser", nil, true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := expectRequest(t, e.alice, tc.sender, parleytest.ByEmail(tc.addr))
			tc.sender.Must(http.StatusNoContent, "POST", "/parley/v1/me/requests/"+id+"/accept", nil)
			ev := e.alice.Events(-1)
			tc.sender.Must(http.StatusCreated, "POST", "/v1.0/chats/"+id+"/messages", map[string]any{
				"body":     map[string]string{"contentType": "html", "content": `<at id="0">Alice</at>, <at id="1">me</at> here`},
				"mentions": []any{mention(0, "Alice", e.alice.UserID), mention(1, "me", tc.sender.UserID)}})
			var list struct {
				Value []map[string]any `json:"value"`
			}
			e.alice.Must(http.StatusOK, "GET", "/v1.0/chats/"+id+"/messages", nil).JSON(t, &list)
			if d := cmp.Diff(tc.want, mentioned(list.Value[0])); d != "" {
				t.Errorf("mentions in alice's list (-want +got):\n%s", d)
			}
			evs := ev.WaitCount("messageCreated", 1, 10*time.Second)
			live := evs[slices.IndexFunc(evs, func(e parleytest.Event) bool { return e.Type == "messageCreated" })]
			if d := cmp.Diff(tc.want, mentioned(live.Raw["message"].(map[string]any))); d != "" {
				t.Errorf("mentions in alice's event (-want +got):\n%s", d)
			}
		})
	}
}

// TestS6_PendingPhoneMemberShowsTypedAddress: a pending member added by
// phone number shows the number (E.164) as displayName and email, as a
// pending member added by e-mail shows the address (API.md).
func TestS6_PendingPhoneMemberShowsTypedAddress(t *testing.T) {
	e := newExternal(t, "sqlite")
	const e164 = "+12065550123"
	id := e.alice.Must(http.StatusCreated, "POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne", "members": []any{parleytest.ByPhone("(206) 555-0123")}}).Map(t)["id"].(string)
	m := otherMember(t, e.alice, id)
	if m["displayName"] != e164 || m["email"] != e164 || m["userIdentityType"] != "phoneUser" || m["requestState"] != "pending" || m["userId"] != nil || m["tenantId"] != nil {
		t.Errorf("pending member = %v, want exactly %s as displayName and email, phoneUser, pending, no userId, no tenantId", m, e164)
	}
}

// TestS11_EventsRefusalsInErrorShape: what the events endpoint refuses
// before the upgrade is answered in the API's error shape, with the
// status of the refusal (426 for a request that is no WebSocket upgrade).
func TestS11_EventsRefusalsInErrorShape(t *testing.T) {
	s := parleytest.StartStore(t, "sqlite")
	alice := s.User(s.CreateTenant("Contoso", "contoso.com"), "alice", false)
	upgrade := map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
	for _, tc := range []struct {
		name   string
		header map[string]string
		status int
		code   string
	}{
		{"a plain GET", nil, http.StatusUpgradeRequired, "badRequest"},
		{"a WebSocket version not spoken", map[string]string{"Sec-WebSocket-Version": "8"}, http.StatusUpgradeRequired, "badRequest"},
		{"no WebSocket version", map[string]string{"Sec-WebSocket-Version": ""}, http.StatusBadRequest, "badRequest"},
		{"a bad key", map[string]string{"Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "short"}, http.StatusBadRequest, "badRequest"},
		{"a browser on another origin", map[string]string{"Sec-WebSocket-Version": "13", "Origin": "https://evil.example"}, http.StatusForbidden, "forbidden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			if tc.header != nil {
				for k, v := range upgrade {
					h[k] = v
				}
				for k, v := range tc.header {
					h[k] = v
				}
			}
			r := alice.DoHeader("GET", "/parley/v1/events", nil, h)
			var body struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			r.JSON(t, &body)
			if r.Status != tc.status || body.Error.Code != tc.code || body.Error.Message == "" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				t.Errorf("got %d %s %s, want %d and the error shape with code %s", r.Status, r.Header.Get("Content-Type"), r.Body, tc.status, tc.code)
			}
		})
	}
}
