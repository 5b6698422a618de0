package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestS7_Chats covers docs/rules.md §7 chats and messages through the HTTP API, on
// both stores.
func TestS7_Chats(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		s := parleytest.StartStore(t, store)
		contoso := s.CreateTenant("Contoso", "contoso.com")
		alice := s.User(contoso, "alice", false)
		bob := s.User(contoso, "bob", false)
		carol := s.User(contoso, "carol", false)
		fabrikam := s.CreateTenant("Fabrikam", "fabrikam.com")
		eve := s.User(fabrikam, "eve", false)

		t.Run("oneOnOne is one per pair and idempotent", func(t *testing.T) {
			r1 := alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne", "members": []any{parleytest.Bind(alice.UserID, true), parleytest.Bind(bob.UserID, true)}})
			c1 := r1.Map(t)
			if c1["chatType"] != "oneOnOne" || c1["id"] == "" || c1["createdDateTime"] == nil {
				t.Fatalf("chat = %v", c1)
			}
			// Again, from the other side, without listing the caller: the same chat.
			r2 := bob.Must(200, "POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne", "members": []any{parleytest.Bind(alice.UserID, true)}})
			if got := r2.Map(t)["id"]; got != c1["id"] {
				t.Fatalf("second create: got id %v, want %v", got, c1["id"])
			}
		})

		t.Run("group chat with topic, owners, members", func(t *testing.T) {
			r := alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "Launch",
				"members": []any{parleytest.Bind(alice.UserID, true), parleytest.Bind(bob.UserID, false)}})
			c := r.Map(t)
			if c["topic"] != "Launch" || c["chatType"] != "group" {
				t.Fatalf("chat = %v", c)
			}
			id := c["id"].(string)
			var members struct {
				Value []map[string]any `json:"value"`
			}
			bob.Must(200, "GET", "/v1.0/chats/"+id+"/members", nil).JSON(t, &members)
			if len(members.Value) != 2 {
				t.Fatalf("members = %v", members.Value)
			}
			roles := map[string]string{}
			for _, m := range members.Value {
				roles[m["userId"].(string)] = fmt.Sprint(m["roles"])
				if m["requestState"] != "accepted" || m["isExternal"] != false || m["tenantId"] != contoso.ID {
					t.Errorf("member = %v", m)
				}
			}
			if roles[alice.UserID] != "[owner]" || roles[bob.UserID] != "[]" {
				t.Errorf("roles = %v, want alice owner, bob none", roles)
			}
			// Topic change reaches everyone.
			bob.Must(200, "PATCH", "/v1.0/chats/"+id, map[string]any{"topic": "Launch 2"})
			if got := alice.Must(200, "GET", "/v1.0/chats/"+id, nil).Map(t)["topic"]; got != "Launch 2" {
				t.Errorf("topic = %v", got)
			}
		})

		t.Run("member added later sees history from the time chosen", func(t *testing.T) {
			id := alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "History",
				"members": []any{parleytest.Bind(bob.UserID, false)}}).Map(t)["id"].(string)
			alice.Send(id, "before carol")
			time.Sleep(5 * time.Millisecond)
			cut := time.Now().UTC()
			time.Sleep(5 * time.Millisecond)
			alice.Send(id, "after cut")
			// Default: from joining — carol sees nothing sent before.
			m := parleytest.Bind(carol.UserID, false)
			alice.Must(201, "POST", "/v1.0/chats/"+id+"/members", m)
			if got := texts(t, carol, id); strings.Join(got, ",") != "" {
				t.Fatalf("carol (default) sees %v, want nothing", got)
			}
			// Remove and re-add with a chosen start: she sees from then on.
			members := listMembers(t, alice, id)
			alice.Must(204, "DELETE", "/v1.0/chats/"+id+"/members/"+members[carol.UserID], nil)
			carol.Must(404, "GET", "/v1.0/chats/"+id+"/messages", nil)
			m["visibleHistoryStartDateTime"] = cut.Format(time.RFC3339Nano)
			alice.Must(201, "POST", "/v1.0/chats/"+id+"/members", m)
			if got := texts(t, carol, id); strings.Join(got, ",") != "after cut" {
				t.Fatalf("carol sees %v, want [after cut]", got)
			}
			m["visibleHistoryStartDateTime"] = "2001-01-01T00:00:00Z"
			members = listMembers(t, alice, id)
			alice.Must(204, "DELETE", "/v1.0/chats/"+id+"/members/"+members[carol.UserID], nil)
			alice.Must(201, "POST", "/v1.0/chats/"+id+"/members", m)
			if got := texts(t, carol, id); strings.Join(got, ",") != "after cut,before carol" {
				t.Fatalf("carol sees %v, want all", got)
			}
			// Only owners remove others; anyone may leave.
			members = listMembers(t, alice, id)
			bob.Must(403, "DELETE", "/v1.0/chats/"+id+"/members/"+members[carol.UserID], nil)
			carol.Must(204, "DELETE", "/v1.0/chats/"+id+"/members/"+members[carol.UserID], nil)
		})

		t.Run("messages newest first, paged, edited, soft-deleted", func(t *testing.T) {
			id := alice.OneOnOne(carol.UserID)
			var ids []string
			for i := range 5 {
				ids = append(ids, alice.Send(id, fmt.Sprintf("m%d", i)))
			}
			if got := texts(t, carol, id); strings.Join(got, ",") != "m4,m3,m2,m1,m0" {
				t.Fatalf("got %v", got)
			}
			// Paging with $top follows @odata.nextLink.
			var pages [][]string
			next := "/v1.0/chats/" + id + "/messages?$top=2"
			for next != "" {
				var p struct {
					Value []struct {
						Body struct{ Content string } `json:"body"`
					} `json:"value"`
					Next string `json:"@odata.nextLink"`
				}
				carol.Must(200, "GET", next, nil).JSON(t, &p)
				var texts []string
				for _, m := range p.Value {
					texts = append(texts, m.Body.Content)
				}
				pages = append(pages, texts)
				next = p.Next
				if next != "" && !strings.HasPrefix(next, s.URL()) {
					t.Fatalf("nextLink %q does not start with %s", next, s.URL())
				}
			}
			if fmt.Sprint(pages) != "[[m4 m3] [m2 m1] [m0]]" {
				t.Fatalf("pages = %v", pages)
			}
			// Edit: PATCH answers 204; the message shows the new body and lastEditedDateTime.
			alice.Must(204, "PATCH", "/v1.0/chats/"+id+"/messages/"+ids[1], map[string]any{"body": map[string]string{"content": "m1 edited"}})
			m := carol.Must(200, "GET", "/v1.0/chats/"+id+"/messages/"+ids[1], nil).Map(t)
			if m["body"].(map[string]any)["content"] != "m1 edited" || m["lastEditedDateTime"] == nil {
				t.Fatalf("edited = %v", m)
			}
			// Only the sender edits or deletes.
			carol.Must(403, "PATCH", "/v1.0/chats/"+id+"/messages/"+ids[1], map[string]any{"body": map[string]string{"content": "hijack"}})
			carol.Must(403, "DELETE", "/v1.0/chats/"+id+"/messages/"+ids[1], nil)
			// Soft delete: still listed, with deletedDateTime and no content.
			alice.Must(204, "DELETE", "/v1.0/chats/"+id+"/messages/"+ids[2], nil)
			m = carol.Must(200, "GET", "/v1.0/chats/"+id+"/messages/"+ids[2], nil).Map(t)
			if m["deletedDateTime"] == nil || m["body"].(map[string]any)["content"] != "" {
				t.Fatalf("deleted = %v", m)
			}
			alice.Must(404, "PATCH", "/v1.0/chats/"+id+"/messages/"+ids[2], map[string]any{"body": map[string]string{"content": "undead"}})
		})

		t.Run("message shape and identity types", func(t *testing.T) {
			id := alice.OneOnOne(bob.UserID)
			m := alice.Must(201, "POST", "/v1.0/chats/"+id+"/messages", map[string]any{"body": map[string]string{"contentType": "text", "content": "hello"}}).Map(t)
			for _, k := range []string{"id", "chatId", "createdDateTime", "from", "body"} {
				if m[k] == nil {
					t.Errorf("message has no %s: %v", k, m)
				}
			}
			from := m["from"].(map[string]any)["user"].(map[string]any)
			if from["id"] != alice.UserID || from["displayName"] != "Alice" || from["userIdentityType"] != "aadUser" || from["tenantId"] != contoso.ID {
				t.Errorf("from.user = %v", from)
			}
			if m["chatId"] != id {
				t.Errorf("chatId = %v", m["chatId"])
			}
		})

		t.Run("html is sanitised with a real sanitiser, mentions kept", func(t *testing.T) {
			id := alice.OneOnOne(bob.UserID)
			m := alice.Must(201, "POST", "/v1.0/chats/"+id+"/messages", map[string]any{
				"body":     map[string]string{"contentType": "html", "content": `<p onclick="x()">Hi <at id="0">Bob</at><script>alert(1)</script><img src=x onerror=alert(1)><a href="javascript:alert(1)">x</a></p>`},
				"mentions": []any{map[string]any{"id": 0, "mentionText": "Bob", "mentioned": map[string]any{"user": map[string]any{"id": bob.UserID}}}},
			}).Map(t)
			content := m["body"].(map[string]any)["content"].(string)
			for _, bad := range []string{"<script", "onclick", "onerror", "javascript:"} {
				if strings.Contains(content, bad) {
					t.Errorf("content keeps %q: %s", bad, content)
				}
			}
			if !strings.Contains(content, `<at id="0">Bob</at>`) {
				t.Errorf("mention tag lost: %s", content)
			}
			mentions := m["mentions"].([]any)
			if len(mentions) != 1 || mentions[0].(map[string]any)["mentioned"].(map[string]any)["user"].(map[string]any)["id"] != bob.UserID {
				t.Errorf("mentions = %v", mentions)
			}
			// A mention of someone outside the chat is refused.
			r := alice.Do("POST", "/v1.0/chats/"+id+"/messages", map[string]any{"body": map[string]string{"content": "hi"},
				"mentions": []any{map[string]any{"id": 0, "mentionText": "Carol", "mentioned": map[string]any{"user": map[string]any{"id": carol.UserID}}}}})
			if r.Status != 400 || r.ErrorCode() != "badRequest" {
				t.Errorf("foreign mention: %d %s", r.Status, r.Body)
			}
		})

		t.Run("adaptive card attachments", func(t *testing.T) {
			id := alice.OneOnOne(bob.UserID)
			card := `{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"Approve?"}]}`
			m := alice.Must(201, "POST", "/v1.0/chats/"+id+"/messages", map[string]any{"body": map[string]string{"contentType": "html", "content": `<attachment id="c1"></attachment>`},
				"attachments": []any{map[string]any{"id": "c1", "contentType": "application/vnd.microsoft.card.adaptive", "content": card}}}).Map(t)
			atts := m["attachments"].([]any)
			if len(atts) != 1 || atts[0].(map[string]any)["content"] != card {
				t.Fatalf("attachments = %v", atts)
			}
			r := alice.Do("POST", "/v1.0/chats/"+id+"/messages", map[string]any{"body": map[string]string{"content": "x"},
				"attachments": []any{map[string]any{"contentType": "application/vnd.microsoft.card.adaptive", "content": `{"type":"NotACard"}`}}})
			if r.Status != 400 {
				t.Errorf("bad card: %d %s", r.Status, r.Body)
			}
		})

		t.Run("read state per member", func(t *testing.T) {
			id := alice.OneOnOne(bob.UserID)
			alice.Send(id, "read me")
			if vp := bob.Must(200, "GET", "/v1.0/chats/"+id, nil).Map(t)["viewpoint"].(map[string]any); vp["lastMessageReadDateTime"] != nil {
				t.Fatalf("unread chat has read mark %v", vp)
			}
			bob.Must(204, "POST", "/v1.0/chats/"+id+"/markChatReadForUser", map[string]any{"user": map[string]any{"id": bob.UserID}})
			if vp := bob.Must(200, "GET", "/v1.0/chats/"+id, nil).Map(t)["viewpoint"].(map[string]any); vp["lastMessageReadDateTime"] == nil {
				t.Fatalf("read mark not set: %v", vp)
			}
			if vp := alice.Must(200, "GET", "/v1.0/chats/"+id, nil).Map(t)["viewpoint"].(map[string]any); vp["lastMessageReadDateTime"] != nil {
				t.Fatalf("bob's read mark shows for alice: %v", vp)
			}
			bob.Must(204, "POST", "/v1.0/chats/"+id+"/markChatUnreadForUser", map[string]any{})
			if vp := bob.Must(200, "GET", "/v1.0/chats/"+id, nil).Map(t)["viewpoint"].(map[string]any); vp["lastMessageReadDateTime"] != nil {
				t.Fatalf("unread mark not cleared: %v", vp)
			}
		})

		t.Run("chat list is paged with nextLink and ordered by activity", func(t *testing.T) {
			dave := s.User(contoso, "dave", false)
			var want []string
			for _, u := range []*parleytest.Client{alice, bob, carol} {
				want = append([]string{dave.OneOnOne(u.UserID)}, want...)
			}
			// Activity moves the oldest chat to the top.
			dave.Send(want[2], "bump")
			want = append([]string{want[2]}, want[:2]...)
			var got []string
			next := "/v1.0/me/chats?$top=2"
			for next != "" {
				var p struct {
					Value []struct{ ID string } `json:"value"`
					Next  string                `json:"@odata.nextLink"`
				}
				dave.Must(200, "GET", next, nil).JSON(t, &p)
				for _, c := range p.Value {
					got = append(got, c.ID)
				}
				next = p.Next
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("chats = %v, want %v", got, want)
			}
		})

		t.Run("users: admins create, visibility is limited", func(t *testing.T) {
			// Only admins create users.
			r := alice.Do("POST", "/v1.0/users", map[string]any{"displayName": "X", "userPrincipalName": "x@contoso.com", "passwordProfile": map[string]string{"password": parleytest.Password}})
			if r.Status != 403 {
				t.Fatalf("member creates user: %d %s", r.Status, r.Body)
			}
			// A member's address must be in the tenant's domain; a guest's must not.
			r = contoso.Admin.Do("POST", "/v1.0/users", map[string]any{"displayName": "X", "userPrincipalName": "x@elsewhere.com", "passwordProfile": map[string]string{"password": parleytest.Password}})
			if r.Status != 400 || r.ErrorCode() != "badRequest" {
				t.Fatalf("member outside domain: %d %s", r.Status, r.Body)
			}
			g := contoso.Admin.Must(201, "POST", "/v1.0/users", map[string]any{"displayName": "Gus", "userPrincipalName": "gus@gmail.com", "userType": "Guest",
				"passwordProfile": map[string]string{"password": parleytest.Password}}).Map(t)
			if g["userType"] != "Guest" || g["tenantId"] != contoso.ID || g["userPrincipalName"] != "gus@gmail.com" || g["mail"] != "gus@gmail.com" {
				t.Fatalf("guest = %v", g)
			}
			// Duplicate sign-in name in the tenant.
			r = contoso.Admin.Do("POST", "/v1.0/users", map[string]any{"displayName": "A2", "userPrincipalName": "alice@contoso.com", "passwordProfile": map[string]string{"password": parleytest.Password}})
			if r.Status != 409 {
				t.Fatalf("duplicate upn: %d %s", r.Status, r.Body)
			}
			// Same tenant: visible. Other tenant with no shared chat: 404.
			alice.Must(200, "GET", "/v1.0/users/"+bob.UserID, nil)
			if r := alice.Do("GET", "/v1.0/users/"+eve.UserID, nil); r.Status != 404 || r.ErrorCode() != "notFound" {
				t.Fatalf("other tenant user: %d %s", r.Status, r.Body)
			}
			me := alice.Must(200, "GET", "/v1.0/me", nil).Map(t)
			if me["id"] != alice.UserID || me["userType"] != "Member" || me["tenantId"] != contoso.ID {
				t.Fatalf("me = %v", me)
			}
		})

		t.Run("a chat the caller is not in is 404, never 403", func(t *testing.T) {
			frank, gina := s.User(contoso, "frank", false), s.User(contoso, "gina", false)
			id := frank.OneOnOne(gina.UserID)
			msg := frank.Send(id, "private")
			for _, c := range []*parleytest.Client{carol, eve} {
				for _, req := range [][2]string{{"GET", ""}, {"GET", "/messages"}, {"GET", "/messages/" + msg}, {"GET", "/members"}} {
					if r := c.Do(req[0], "/v1.0/chats/"+id+req[1], nil); r.Status != 404 || r.ErrorCode() != "notFound" {
						t.Errorf("%s %s: got %d %s, want 404 notFound", req[0], req[1], r.Status, r.Body)
					}
				}
				if r := c.Do("POST", "/v1.0/chats/"+id+"/messages", map[string]any{"body": map[string]string{"content": "intrude"}}); r.Status != 404 {
					t.Errorf("send to foreign chat: %d", r.Status)
				}
				if r := c.Do("DELETE", "/v1.0/chats/"+id+"/messages/"+msg, nil); r.Status != 404 {
					t.Errorf("delete in foreign chat: %d", r.Status)
				}
			}
			if got := texts(t, gina, id); len(got) != 1 || got[0] != "private" {
				t.Errorf("chat changed: %v", got)
			}
		})
	})
}

func texts(t *testing.T, c *parleytest.Client, chatID string) []string {
	t.Helper()
	var p struct {
		Value []struct {
			Body struct{ Content string } `json:"body"`
		} `json:"value"`
	}
	c.Must(200, "GET", "/v1.0/chats/"+chatID+"/messages?$top=50", nil).JSON(t, &p)
	out := []string{}
	for _, m := range p.Value {
		out = append(out, m.Body.Content)
	}
	return out
}

// listMembers returns userId → member id.
func listMembers(t *testing.T, c *parleytest.Client, chatID string) map[string]string {
	t.Helper()
	var p struct {
		Value []map[string]any `json:"value"`
	}
	c.Must(200, "GET", "/v1.0/chats/"+chatID+"/members", nil).JSON(t, &p)
	out := map[string]string{}
	for _, m := range p.Value {
		if uid, ok := m["userId"].(string); ok {
			out[uid] = m["id"].(string)
		}
	}
	return out
}
