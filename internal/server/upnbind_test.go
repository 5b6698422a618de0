package server_test

import (
	"fmt"
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
)

// bindUPN is a Graph member bound by sign-in name, as Graph accepts:
// users('bob@contoso.com').
func bindUPN(upn string) map[string]any {
	return map[string]any{"@odata.type": "#microsoft.graph.aadUserConversationMember",
		"user@odata.bind": fmt.Sprintf("https://graph.microsoft.com/v1.0/users('%s')", upn), "roles": []string{"owner"}}
}

// memberView is what a sender sees of one member, without the ids that
// differ between chats.
type memberView struct {
	UserID, DisplayName, Email, RequestState string
	External                                 bool
}

func membersOf(t *testing.T, c *parleytest.Client, chatID string) map[string]memberView {
	t.Helper()
	var out struct {
		Value []struct {
			UserID       *string `json:"userId"`
			DisplayName  string  `json:"displayName"`
			Email        string  `json:"email"`
			RequestState string  `json:"requestState"`
			IsExternal   bool    `json:"isExternal"`
		} `json:"value"`
	}
	c.Must(200, "GET", "/v1.0/chats/"+chatID+"/members", nil).JSON(t, &out)
	m := map[string]memberView{}
	for _, v := range out.Value {
		id := ""
		if v.UserID != nil {
			id = *v.UserID
		}
		m[v.Email] = memberView{id, v.DisplayName, v.Email, v.RequestState, v.IsExternal}
	}
	return m
}

// typed replaces the address in a member view by "typed" where it is the
// address the sender typed, so views of different addresses compare.
func typed(v memberView, addr string) memberView {
	if v.Email == addr {
		v.Email = "typed"
	}
	if v.DisplayName == addr {
		v.DisplayName = "typed"
	}
	return v
}

// A sign-in name in user@odata.bind finds the person the email form finds,
// with the same visibility and the same silence; the caller may list
// themself by it.
func TestUPNBind(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, st string) {
		e := newExternal(t, st)

		t.Run("own organisation, caller listed by sign-in name", func(t *testing.T) {
			r := e.alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne",
				"members": []any{bindUPN("alice@contoso.com"), bindUPN("bob@contoso.com")}})
			id := r.Map(t)["id"].(string)
			if got := membersOf(t, e.alice, id)["bob@contoso.com"]; got.UserID != e.bob.UserID || got.RequestState != "accepted" {
				t.Fatalf("bob as a member: %+v", got)
			}
			// The id form names the same pair: the same chat.
			r = e.alice.Must(200, "POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne",
				"members": []any{parleytest.Bind(e.alice.UserID, true), parleytest.Bind(e.bob.UserID, true)}})
			if r.Map(t)["id"] != id {
				t.Fatalf("id form gave another chat: %s", r.Body)
			}
			// Percent-encoded, path form, other case: still bob.
			r = e.bob.Must(200, "POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne", "members": []any{map[string]any{
				"@odata.type": "#microsoft.graph.aadUserConversationMember", "roles": []string{"owner"},
				"user@odata.bind": "https://graph.microsoft.com/v1.0/users/Alice%40Contoso.com"}}})
			if r.Map(t)["id"] != id {
				t.Fatalf("encoded form gave another chat: %s", r.Body)
			}
		})

		t.Run("two other people in a oneOnOne is refused", func(t *testing.T) {
			before := e.alice.Must(200, "GET", "/v1.0/me/chats", nil).Body
			r := e.alice.Do("POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne",
				"members": []any{bindUPN("bob@contoso.com"), bindUPN("erin@fabrikam.com")}})
			if r.Status != 400 || r.ErrorCode() != "badRequest" {
				t.Fatalf("got %d %s, want 400 badRequest", r.Status, r.Body)
			}
			if after := e.alice.Must(200, "GET", "/v1.0/me/chats", nil).Body; string(after) != string(before) {
				t.Fatal("a refused chat changed the chat list")
			}
			r = e.alice.Do("POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne", "members": []any{bindUPN("alice@contoso.com")}})
			if r.Status != 400 || r.ErrorCode() != "badRequest" {
				t.Fatalf("only the caller: got %d %s, want 400 badRequest", r.Status, r.Body)
			}
		})

		t.Run("outside address behaves as the email form", func(t *testing.T) {
			// erin exists, nobody@fabrikam.com does not: alice cannot tell.
			var views []memberView
			for _, addr := range []string{"erin@fabrikam.com", "nobody@fabrikam.com"} {
				r := e.alice.Do("POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne", "members": []any{bindUPN("alice@contoso.com"), bindUPN(addr)}})
				if r.Status != 201 {
					t.Fatalf("bind %s: got %d %s, want 201 as for the email form", addr, r.Status, r.Body)
				}
				views = append(views, typed(membersOf(t, e.alice, r.Map(t)["id"].(string))[addr], addr))
			}
			// The email form, for a third address of each kind.
			for _, addr := range []string{"nobody2@fabrikam.com"} {
				r := e.bob.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne", "members": []any{parleytest.ByEmail(addr)}})
				views = append(views, typed(membersOf(t, e.bob, r.Map(t)["id"].(string))[addr], addr))
			}
			for _, v := range views {
				if v != views[0] || v.RequestState != "pending" || v.UserID != "" || v.DisplayName != "typed" || v.Email != "typed" {
					t.Fatalf("the sender's views differ or show more than the typed address: %+v", views)
				}
			}
			// And erin got the request, as with the email form.
			var reqs struct {
				Value []map[string]any `json:"value"`
			}
			e.erin.Must(200, "GET", "/parley/v1/me/requests", nil).JSON(t, &reqs)
			if len(reqs.Value) != 1 {
				t.Fatalf("erin's requests: %+v", reqs.Value)
			}
		})

		t.Run("a guest of another organisation is not found by its sign-in name", func(t *testing.T) {
			// gus is contoso's guest: erin (fabrikam) may not see him, so the
			// bind acts as the email form for an unowned address, not 404.
			r := e.erin.Do("POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne", "members": []any{bindUPN("gus@gmail.com")}})
			if r.Status != 201 {
				t.Fatalf("got %d %s, want 201", r.Status, r.Body)
			}
			if v := membersOf(t, e.erin, r.Map(t)["id"].(string))["gus@gmail.com"]; v.UserID != "" || v.RequestState != "pending" {
				t.Fatalf("erin sees the guest: %+v", v)
			}
		})

		t.Run("group chat and member add", func(t *testing.T) {
			r := e.bob.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "upn",
				"members": []any{bindUPN("bob@contoso.com"), bindUPN("alice@contoso.com"), bindUPN("pat@gmail.com")}})
			id := r.Map(t)["id"].(string)
			ms := membersOf(t, e.bob, id)
			if ms["alice@contoso.com"].UserID != e.alice.UserID || len(ms) != 3 {
				t.Fatalf("members: %+v", ms)
			}
			e.bob.Must(201, "POST", "/v1.0/chats/"+id+"/members", bindUPN("quinn@outlook.com"))
			if r := e.bob.Do("POST", "/v1.0/chats/"+id+"/members", bindUPN("alice@contoso.com")); r.Status != 409 {
				t.Fatalf("adding alice twice: got %d %s, want 409", r.Status, r.Body)
			}
			if n := len(membersOf(t, e.bob, id)); n != 4 {
				t.Fatalf("members after adds: %d, want 4", n)
			}
		})

		t.Run("unknown id and empty key", func(t *testing.T) {
			r := e.alice.ChatWith(parleytest.Bind("0190f0f0-0000-7000-8000-000000000000", true))
			if r.Status != 404 || r.ErrorCode() != "notFound" {
				t.Fatalf("unknown id: got %d %s, want 404", r.Status, r.Body)
			}
			r = e.alice.ChatWith(bindUPN(""))
			if r.Status != 400 || r.ErrorCode() != "badRequest" {
				t.Fatalf("empty key: got %d %s, want 400", r.Status, r.Body)
			}
		})
	})
}
