package server_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
)

// daily is the world of the daily-chat tests: two organisations, members
// in each.
type daily struct {
	s                 *parleytest.Server
	contoso, fabrikam *parleytest.Tenant
	alice, bob, carol *parleytest.Client // contoso
	erin, frank       *parleytest.Client // fabrikam
}

func newDaily(t *testing.T, store string) *daily {
	s := parleytest.StartStore(t, store)
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

// unread returns the caller's unreadMessageCount of a chat, from the chat
// list and from the chat itself, failing when they differ.
func unread(t *testing.T, c *parleytest.Client, chatID string) int {
	t.Helper()
	one := c.Must(200, "GET", "/v1.0/chats/"+chatID, nil).Map(t)
	n, ok := one["unreadMessageCount"].(float64)
	if !ok {
		t.Fatalf("no unreadMessageCount in %v", one)
	}
	var list struct {
		Value []map[string]any `json:"value"`
	}
	c.Must(200, "GET", "/v1.0/me/chats?$top=50", nil).JSON(t, &list)
	for _, ch := range list.Value {
		if ch["id"] == chatID {
			if ch["unreadMessageCount"] != n {
				t.Fatalf("chat list says %v unread, the chat says %v", ch["unreadMessageCount"], n)
			}
			return int(n)
		}
	}
	return int(n) // a pending target's chat is not in the list
}

func requestCount(t *testing.T, c *parleytest.Client) string {
	t.Helper()
	r := c.Must(200, "GET", "/parley/v1/me/requests/$count", nil)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("$count content type %q", ct)
	}
	return string(r.Body)
}

// TestS7_UnreadCounts: unread counts are kept on the server (docs/rules.md
// §7): others' messages after one's read mark, not deleted, within one's
// visible history; mark read and mark unread move them; they survive a new
// sign-in; the Requests badge counts delivered requests only.
func TestS7_UnreadCounts(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		d := newDaily(t, store)
		t.Run("counts, read, unread, delete, sign-in", func(t *testing.T) {
			id := d.alice.OneOnOne(d.bob.UserID)
			if n := unread(t, d.bob, id); n != 0 {
				t.Fatalf("new chat: %d unread, want 0", n)
			}
			var mids []string
			for i := range 3 {
				mids = append(mids, d.alice.Send(id, fmt.Sprintf("m%d", i)))
			}
			if n := unread(t, d.bob, id); n != 3 {
				t.Fatalf("bob: %d unread, want 3", n)
			}
			if n := unread(t, d.alice, id); n != 0 {
				t.Fatalf("alice's own messages: %d unread, want 0", n)
			}
			d.alice.Must(204, "DELETE", "/v1.0/chats/"+id+"/messages/"+mids[0], nil)
			if n := unread(t, d.bob, id); n != 2 {
				t.Fatalf("after a delete: %d unread, want 2", n)
			}
			d.bob.Must(204, "POST", "/v1.0/chats/"+id+"/markChatReadForUser", map[string]any{"user": map[string]any{"id": d.bob.UserID}})
			if n := unread(t, d.bob, id); n != 0 {
				t.Fatalf("after mark read: %d unread, want 0", n)
			}
			time.Sleep(2 * time.Millisecond)
			d.alice.Send(id, "later")
			if n := unread(t, d.bob, id); n != 1 {
				t.Fatalf("after one more: %d unread, want 1", n)
			}
			// A new sign-in sees the same count (kept on the server).
			again := d.s.SignIn("bob@contoso.com", parleytest.Password)
			if n := unread(t, again, id); n != 1 {
				t.Fatalf("new sign-in: %d unread, want 1", n)
			}
			// Mark unread from a moment: messages after it are unread again.
			var msgs struct {
				Value []map[string]any `json:"value"`
			}
			d.bob.Must(200, "GET", "/v1.0/chats/"+id+"/messages", nil).JSON(t, &msgs)
			second := msgs.Value[len(msgs.Value)-2]["createdDateTime"].(string) // m1
			at, _ := time.Parse(time.RFC3339Nano, second)
			d.bob.Must(204, "POST", "/v1.0/chats/"+id+"/markChatUnreadForUser", map[string]any{"lastMessageReadDateTime": at.Add(-time.Millisecond).Format(time.RFC3339Nano)})
			if n := unread(t, d.bob, id); n != 3 {
				t.Fatalf("unread from m1: %d, want 3 (m1, m2, later)", n)
			}
			if vp := d.bob.Must(200, "GET", "/v1.0/chats/"+id, nil).Map(t)["viewpoint"].(map[string]any); vp["lastMessageReadDateTime"] == nil {
				t.Fatalf("viewpoint lost the read mark: %v", vp)
			}
			// Refused: a time in the future, a time that is not one.
			for _, bad := range []string{time.Now().Add(time.Hour).Format(time.RFC3339), "yesterday"} {
				r := d.bob.Do("POST", "/v1.0/chats/"+id+"/markChatUnreadForUser", map[string]any{"lastMessageReadDateTime": bad})
				if r.Status != 400 || r.ErrorCode() != "badRequest" {
					t.Fatalf("mark unread from %q: %d %s", bad, r.Status, r.Body)
				}
			}
			if n := unread(t, d.bob, id); n != 3 {
				t.Fatalf("a refused mark changed the count: %d", n)
			}
			// Without a time the whole chat is unread.
			d.bob.Must(204, "POST", "/v1.0/chats/"+id+"/markChatUnreadForUser", map[string]any{})
			if n := unread(t, d.bob, id); n != 3 {
				t.Fatalf("whole chat unread: %d, want 3 (the deleted one never counts)", n)
			}
			// Someone else's chat is 404, marked or counted.
			if r := d.carol.Do("GET", "/v1.0/chats/"+id, nil); r.Status != 404 {
				t.Fatalf("carol reads bob's chat: %d", r.Status)
			}
			if r := d.carol.Do("POST", "/v1.0/chats/"+id+"/markChatUnreadForUser", map[string]any{"lastMessageReadDateTime": second}); r.Status != 404 {
				t.Fatalf("carol marks bob's chat: %d", r.Status)
			}
		})

		t.Run("visible history bounds the count", func(t *testing.T) {
			g := d.alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "History",
				"members": []any{parleytest.Bind(d.alice.UserID, true), parleytest.Bind(d.bob.UserID, false)}}).Map(t)["id"].(string)
			d.alice.Send(g, "before carol")
			d.bob.Send(g, "before carol too")
			time.Sleep(2 * time.Millisecond)
			d.alice.Must(201, "POST", "/v1.0/chats/"+g+"/members", parleytest.Bind(d.carol.UserID, false))
			time.Sleep(2 * time.Millisecond)
			d.bob.Send(g, "after carol")
			if n := unread(t, d.carol, g); n != 1 {
				t.Fatalf("carol: %d unread, want 1 (history starts at her joining)", n)
			}
			if n := unread(t, d.alice, g); n != 2 {
				t.Fatalf("alice: %d unread, want 2 (bob's)", n)
			}
		})

		t.Run("requests badge", func(t *testing.T) {
			if got := requestCount(t, d.alice); got != "0" {
				t.Fatalf("no requests: %q", got)
			}
			r := d.erin.ChatWith(parleytest.ByEmail("alice@contoso.com"))
			id := r.Map(t)["id"].(string)
			d.erin.Send(id, "hello from fabrikam")
			if got := requestCount(t, d.alice); got != "1" {
				t.Fatalf("one request: %q", got)
			}
			if got := requestCount(t, d.erin); got != "0" {
				t.Fatalf("the sender's own request counts for them: %q", got)
			}
			// A pending target's chat counts the request's messages.
			if n := unread(t, d.alice, id); n != 1 {
				t.Fatalf("request chat: %d unread, want 1", n)
			}
			// A held request (the target's own policy refuses: silent) is not counted.
			policyFor(t, d.contoso.Admin, "NoFederation", d.bob.UserID, map[string]any{"enableFederationAccess": false})
			h := d.frank.ChatWith(parleytest.ByEmail("bob@contoso.com")).Map(t)["id"].(string)
			d.frank.Send(h, "you will not see this")
			if got := requestCount(t, d.bob); got != "0" {
				t.Fatalf("held request counted: %q", got)
			}
			if r := d.bob.Do("GET", "/v1.0/chats/"+h, nil); r.Status != 404 {
				t.Fatalf("held request's chat: %d", r.Status)
			}
			if r := d.alice.Do("GET", "/parley/v1/me/requests/$count?filter=nope", nil); r.Status != 400 {
				t.Fatalf("bad filter: %d", r.Status)
			}
			if got := d.alice.Must(200, "GET", "/parley/v1/me/requests/$count?filter=filtered", nil).Body2(); got != "0" {
				t.Fatalf("filtered count: %q", got)
			}
			d.alice.Must(204, "POST", "/parley/v1/me/requests/"+id+"/accept", nil)
			if got := requestCount(t, d.alice); got != "0" {
				t.Fatalf("after accept: %q", got)
			}
			if n := unread(t, d.alice, id); n != 1 {
				t.Fatalf("accepted chat: %d unread, want 1", n)
			}
			if r := d.s.Anonymous().Do("GET", "/parley/v1/me/requests/$count", nil); r.Status != 401 {
				t.Fatalf("anonymous count: %d", r.Status)
			}
		})
	})
}

// reactionsOf returns a message's reactions as "type:userId" in order.
func reactionsOf(t *testing.T, c *parleytest.Client, chatID, mid string) []string {
	t.Helper()
	var m struct {
		Reactions []struct {
			ReactionType    string  `json:"reactionType"`
			CreatedDateTime *string `json:"createdDateTime"`
			User            struct {
				User struct {
					ID               string `json:"id"`
					UserIdentityType string `json:"userIdentityType"`
				} `json:"user"`
			} `json:"user"`
		} `json:"reactions"`
	}
	c.Must(200, "GET", "/v1.0/chats/"+chatID+"/messages/"+mid, nil).JSON(t, &m)
	out := []string{}
	for _, r := range m.Reactions {
		if r.CreatedDateTime == nil || r.User.User.UserIdentityType == "" {
			t.Fatalf("reaction without time or identity: %+v", r)
		}
		out = append(out, r.ReactionType+":"+r.User.User.ID)
	}
	return out
}

func react(c *parleytest.Client, chatID, mid, typ string, set bool) *parleytest.Response {
	verb := "unsetReaction"
	if set {
		verb = "setReaction"
	}
	return c.Do("POST", "/v1.0/chats/"+chatID+"/messages/"+mid+"/"+verb, map[string]any{"reactionType": typ})
}

// TestS7_Reactions: Graph's setReaction/unsetReaction (docs/rules.md §7),
// never from the target of a pending request and never reaching them
// (§5), not in a read-only chat (§4), limited per message even when the
// reactions arrive together.
func TestS7_Reactions(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		d := newDaily(t, store)
		t.Run("set, repeat, unset, live", func(t *testing.T) {
			id := d.alice.OneOnOne(d.bob.UserID)
			mid := d.alice.Send(id, "react to me")
			ev := d.alice.Events(-1)
			if r := react(d.bob, id, mid, "like", true); r.Status != 204 {
				t.Fatalf("setReaction: %d %s", r.Status, r.Body)
			}
			evs := ev.WaitCount("messageUpdated", 1, 2*time.Second)
			raw, _ := json.Marshal(evs[len(evs)-1].Raw)
			if !strings.Contains(string(raw), `"reactionType":"like"`) {
				t.Fatalf("messageUpdated without the reaction: %s", raw)
			}
			react(d.bob, id, mid, "like", true) // again: no change
			if r := react(d.bob, id, mid, "👍🏽", true); r.Status != 204 {
				t.Fatalf("emoji with a skin tone: %d %s", r.Status, r.Body)
			}
			if r := react(d.alice, id, mid, "❤️", true); r.Status != 204 {
				t.Fatalf("emoji with a variation selector: %d %s", r.Status, r.Body)
			}
			got := strings.Join(reactionsOf(t, d.alice, id, mid), " ")
			want := "like:" + d.bob.UserID + " 👍🏽:" + d.bob.UserID + " ❤️:" + d.alice.UserID
			if got != want {
				t.Fatalf("reactions = %s, want %s", got, want)
			}
			d.bob.Must(204, "POST", "/v1.0/chats/"+id+"/messages/"+mid+"/unsetReaction", map[string]any{"reactionType": "like"})
			d.bob.Must(204, "POST", "/v1.0/chats/"+id+"/messages/"+mid+"/unsetReaction", map[string]any{"reactionType": "like"})
			if got := len(reactionsOf(t, d.bob, id, mid)); got != 2 {
				t.Fatalf("after unset: %d reactions, want 2", got)
			}
			// In the list too.
			list := d.bob.Must(200, "GET", "/v1.0/chats/"+id+"/messages", nil).Body2()
			if !strings.Contains(list, "👍🏽") {
				t.Fatalf("message list lacks reactions: %s", list)
			}
			// An edit keeps them; a delete drops them.
			d.alice.Must(204, "PATCH", "/v1.0/chats/"+id+"/messages/"+mid, map[string]any{"body": map[string]string{"content": "edited"}})
			if got := len(reactionsOf(t, d.bob, id, mid)); got != 2 {
				t.Fatalf("after edit: %d reactions, want 2", got)
			}
			d.alice.Must(204, "DELETE", "/v1.0/chats/"+id+"/messages/"+mid, nil)
			if got := len(reactionsOf(t, d.bob, id, mid)); got != 0 {
				t.Fatalf("deleted message shows %d reactions", got)
			}
			if r := react(d.bob, id, mid, "like", true); r.Status != 404 {
				t.Fatalf("react to a deleted message: %d %s", r.Status, r.Body)
			}
		})

		t.Run("refused input and ids", func(t *testing.T) {
			id := d.alice.OneOnOne(d.carol.UserID)
			mid := d.alice.Send(id, "x")
			for _, bad := range []string{"", "xx", "Like", "👍 👍", "a👍", "<script>", "\u200d", strings.Repeat("👍", 20)} {
				if r := react(d.carol, id, mid, bad, true); r.Status != 400 || r.ErrorCode() != "badRequest" {
					t.Errorf("reactionType %q: %d %s", bad, r.Status, r.Body)
				}
			}
			if r := d.carol.Do("POST", "/v1.0/chats/"+id+"/messages/"+mid+"/setReaction", map[string]any{}); r.Status != 400 {
				t.Errorf("no reactionType: %d", r.Status)
			}
			for _, c := range []struct {
				who  *parleytest.Client
				path string
			}{
				{d.bob, "/v1.0/chats/" + id + "/messages/" + mid},          // not a member
				{d.carol, "/v1.0/chats/" + id + "/messages/999999"},        // no such message
				{d.carol, "/v1.0/chats/" + id + "/messages/abc"},           // not an id
				{d.carol, "/v1.0/chats/19:nope@thread.v2/messages/" + mid}, // no such chat
			} {
				if r := c.who.Do("POST", c.path+"/setReaction", map[string]any{"reactionType": "like"}); r.Status != 404 {
					t.Errorf("%s: %d %s", c.path, r.Status, r.Body)
				}
			}
			if got := len(reactionsOf(t, d.alice, id, mid)); got != 0 {
				t.Fatalf("refused reactions stored: %d", got)
			}
			// A message in another chat of the same member is not in this one.
			other := d.alice.OneOnOne(d.bob.UserID)
			omid := d.alice.Send(other, "elsewhere")
			if r := react(d.carol, id, omid, "like", true); r.Status != 404 {
				t.Fatalf("message of another chat: %d", r.Status)
			}
		})

		t.Run("pending target cannot react, sees none", func(t *testing.T) {
			id := d.erin.ChatWith(parleytest.ByEmail("carol@contoso.com")).Map(t)["id"].(string)
			mid := d.erin.Send(id, "hello carol")
			if r := react(d.carol, id, mid, "like", true); r.Status != 403 || r.ErrorCode() != "forbidden" {
				t.Fatalf("pending target reacts: %d %s", r.Status, r.Body)
			}
			ev := d.carol.Events(-1)
			d.erin.Must(204, "POST", "/v1.0/chats/"+id+"/messages/"+mid+"/setReaction", map[string]any{"reactionType": "heart"})
			if got := len(reactionsOf(t, d.erin, id, mid)); got != 1 {
				t.Fatalf("sender's reaction not stored: %d", got)
			}
			if got := len(reactionsOf(t, d.carol, id, mid)); got != 0 {
				t.Fatalf("pending target sees the sender's reaction")
			}
			list := d.carol.Must(200, "GET", "/parley/v1/me/requests", nil).Body2()
			if strings.Contains(list, "heart") {
				t.Fatalf("request previews show reactions: %s", list)
			}
			d.erin.Send(id, "marker")
			evs := ev.WaitCount("messageCreated", 1, 2*time.Second)
			if parleytest.Count(evs, "messageUpdated") != 0 {
				t.Fatalf("pending target got the reaction live: %v", evs)
			}
			d.carol.Must(204, "POST", "/parley/v1/me/requests/"+id+"/accept", nil)
			if got := len(reactionsOf(t, d.carol, id, mid)); got != 1 {
				t.Fatalf("after accept: %d reactions, want 1", got)
			}
			if r := react(d.carol, id, mid, "like", true); r.Status != 204 {
				t.Fatalf("after accept: %d %s", r.Status, r.Body)
			}
		})

		t.Run("read-only chat", func(t *testing.T) {
			id := d.frank.ChatWith(parleytest.ByEmail("alice@contoso.com")).Map(t)["id"].(string)
			mid := d.frank.Send(id, "hi alice")
			d.alice.Must(204, "POST", "/parley/v1/me/requests/"+id+"/accept", nil)
			d.alice.Must(204, "POST", "/v1.0/chats/"+id+"/messages/"+mid+"/setReaction", map[string]any{"reactionType": "like"})
			d.fabrikam.Admin.Must(200, "PATCH", "/parley/v1/admin/federationConfiguration", map[string]any{"allowFederatedUsers": false})
			defer d.fabrikam.Admin.Must(200, "PATCH", "/parley/v1/admin/federationConfiguration", map[string]any{"allowFederatedUsers": true})
			for _, c := range []*parleytest.Client{d.alice, d.frank} {
				if r := react(c, id, mid, "sad", true); r.Status != 403 || r.ErrorCode() != "chatReadOnly" {
					t.Fatalf("read-only chat: %d %s", r.Status, r.Body)
				}
			}
			if r := react(d.alice, id, mid, "like", false); r.Status != 403 || r.ErrorCode() != "chatReadOnly" {
				t.Fatalf("unset in a read-only chat: %d %s", r.Status, r.Body)
			}
		})

		t.Run("distinct reactions cap holds under concurrency", func(t *testing.T) {
			g := d.alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "Cap",
				"members": []any{parleytest.Bind(d.alice.UserID, true), parleytest.Bind(d.bob.UserID, false), parleytest.Bind(d.carol.UserID, false)}}).Map(t)["id"].(string)
			mid := d.alice.Send(g, "react a lot")
			var reqs []parleytest.Req
			for i, c := range []*parleytest.Client{d.alice, d.bob, d.carol} {
				for k := range 10 {
					body, _ := json.Marshal(map[string]string{"reactionType": string(rune(0x1F600 + i*10 + k))})
					reqs = append(reqs, parleytest.Req{Method: "POST", URL: d.s.URL() + "/v1.0/chats/" + url.PathEscape(g) + "/messages/" + mid + "/setReaction", Token: c.Token, JSON: body})
				}
			}
			got := parleytest.Statuses(parleytest.Burst(t, reqs))
			if got[204] != 20 || got[400] != 10 {
				t.Fatalf("30 distinct reactions at once: %v, want 20 stored and 10 refused", got)
			}
			if n := len(reactionsOf(t, d.alice, g, mid)); n != 20 {
				t.Fatalf("stored %d reactions, want 20", n)
			}
			// The 21st distinct reaction is refused, whoever adds it.
			if r := react(d.carol, g, mid, "🚀", true); r.Status != 400 || r.ErrorCode() != "badRequest" {
				t.Fatalf("21st distinct reaction: %d %s", r.Status, r.Body)
			}
			// One person's limit: 10 reactions on one message.
			one := d.alice.Send(g, "per person")
			for k := range 10 {
				d.bob.Must(204, "POST", "/v1.0/chats/"+g+"/messages/"+one+"/setReaction", map[string]any{"reactionType": string(rune(0x1F600 + k))})
			}
			if r := react(d.bob, g, one, "like", true); r.Status != 400 {
				t.Fatalf("bob's 11th reaction: %d %s", r.Status, r.Body)
			}
			if r := react(d.carol, g, one, "like", true); r.Status != 204 {
				t.Fatalf("carol's first: %d %s", r.Status, r.Body)
			}
		})
	})
}

// TestS7_QuotedReplies: a reply quotes a message with a messageReference
// attachment (Graph's quoted reply), which the server fills from the quoted
// message; only a message the sender may see in that chat can be quoted.
func TestS7_QuotedReplies(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		d := newDaily(t, store)
		g := d.alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "Replies",
			"members": []any{parleytest.Bind(d.alice.UserID, true), parleytest.Bind(d.bob.UserID, false)}}).Map(t)["id"].(string)
		old := d.alice.Must(201, "POST", "/v1.0/chats/"+g+"/messages", map[string]any{"body": map[string]string{"contentType": "html", "content": "<b>the plan</b> is ready"}}).Map(t)["id"].(string)
		gone := d.alice.Send(g, "soon deleted")
		d.alice.Must(204, "DELETE", "/v1.0/chats/"+g+"/messages/"+gone, nil)
		time.Sleep(2 * time.Millisecond)
		d.alice.Must(201, "POST", "/v1.0/chats/"+g+"/members", parleytest.Bind(d.carol.UserID, false))
		time.Sleep(2 * time.Millisecond)
		recent := d.bob.Send(g, "welcome carol")
		other := d.alice.OneOnOne(d.bob.UserID)
		elsewhere := d.alice.Send(other, "private")

		reply := func(c *parleytest.Client, chatID, quoted string, extra ...map[string]any) *parleytest.Response {
			atts := []any{map[string]any{"id": quoted, "contentType": "messageReference", "content": `{"messagePreview":"forged"}`}}
			for _, e := range extra {
				atts = append(atts, e)
			}
			return c.Do("POST", "/v1.0/chats/"+chatID+"/messages", map[string]any{
				"body": map[string]string{"contentType": "html", "content": `<attachment id="` + quoted + `"></attachment>agreed`}, "attachments": atts})
		}
		r := reply(d.bob, g, old)
		if r.Status != 201 {
			t.Fatalf("reply: %d %s", r.Status, r.Body)
		}
		var m struct {
			ID          string `json:"id"`
			Attachments []struct {
				ID          string `json:"id"`
				ContentType string `json:"contentType"`
				Content     string `json:"content"`
			} `json:"attachments"`
		}
		d.carol.Must(200, "GET", "/v1.0/chats/"+g+"/messages/"+r.Map(t)["id"].(string), nil).JSON(t, &m)
		if len(m.Attachments) != 1 || m.Attachments[0].ContentType != "messageReference" || m.Attachments[0].ID != old {
			t.Fatalf("attachments = %+v", m.Attachments)
		}
		var ref struct {
			MessageID      string `json:"messageId"`
			MessagePreview string `json:"messagePreview"`
			MessageSender  struct {
				User struct {
					ID          string `json:"id"`
					DisplayName string `json:"displayName"`
				} `json:"user"`
			} `json:"messageSender"`
		}
		if err := json.Unmarshal([]byte(m.Attachments[0].Content), &ref); err != nil {
			t.Fatalf("reference content %q: %v", m.Attachments[0].Content, err)
		}
		if ref.MessageID != old || ref.MessagePreview != "the plan is ready" || ref.MessageSender.User.ID != d.alice.UserID || ref.MessageSender.User.DisplayName != "Alice" {
			t.Fatalf("reference = %+v (the server writes it, not the client)", ref)
		}
		// Carol, whose history starts at her joining, may quote what she sees only.
		if r := reply(d.carol, g, recent); r.Status != 201 {
			t.Fatalf("carol quotes a visible message: %d %s", r.Status, r.Body)
		}
		for name, c := range map[string]struct {
			who    *parleytest.Client
			chat   string
			quoted string
		}{
			"before carol's history": {d.carol, g, old},
			"deleted":                {d.bob, g, gone},
			"in another chat":        {d.bob, g, elsewhere},
			"no such message":        {d.bob, g, "999999"},
			"not an id":              {d.bob, g, "abc"},
		} {
			if r := reply(c.who, c.chat, c.quoted); r.Status != 400 || r.ErrorCode() != "badRequest" {
				t.Errorf("%s: %d %s", name, r.Status, r.Body)
			}
		}
		if r := reply(d.bob, g, old, map[string]any{"id": recent, "contentType": "messageReference"}); r.Status != 400 {
			t.Errorf("two quotes: %d %s", r.Status, r.Body)
		}
		// Edit may quote too, with the same checks.
		mine := d.bob.Send(g, "edit me")
		if r := d.bob.Do("PATCH", "/v1.0/chats/"+g+"/messages/"+mine, map[string]any{"body": map[string]string{"content": "x"},
			"attachments": []any{map[string]any{"id": elsewhere, "contentType": "messageReference"}}}); r.Status != 400 {
			t.Errorf("edit quoting another chat: %d %s", r.Status, r.Body)
		}
	})
}
