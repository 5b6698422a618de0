package server_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
	"github.com/parleychat/parley/internal/server"
)

// Black-box tests of the rules an audit found broken (docs/rules.md §4 rule 7, §5):
// a guest in an external chat, a pending target changing the chat, links
// and images shown to a pending target, and a declined sender asking for
// the 1:1 chat again.

// auditGroup creates a group chat as c with the given members.
func auditGroup(c *parleytest.Client, topic string, members ...map[string]any) *parleytest.Response {
	ms := make([]any, len(members))
	for i, m := range members {
		ms[i] = m
	}
	return c.Do("POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": topic, "members": ms})
}

// auditGroupID creates a group chat as c and returns its id.
func auditGroupID(t *testing.T, c *parleytest.Client, topic string, members ...map[string]any) string {
	t.Helper()
	r := auditGroup(c, topic, members...)
	if r.Status != 201 {
		t.Fatalf("create group %q: %d %s", topic, r.Status, r.Body)
	}
	return r.Map(t)["id"].(string)
}

// auditRefused asserts r is the error status/code and that the snapshot
// taken by look is the same after the call as before it.
func auditRefused(t *testing.T, what string, r *parleytest.Response, status int, code string, before, after string) {
	t.Helper()
	if r.Status != status || r.ErrorCode() != code {
		t.Fatalf("%s: got %d %s, want %d %s", what, r.Status, r.Body, status, code)
	}
	if before != after {
		t.Fatalf("%s: a refused call changed something:\nbefore %s\nafter  %s", what, before, after)
	}
}

func auditMembers(c *parleytest.Client, chatID string) string {
	return c.Must(200, "GET", "/v1.0/chats/"+chatID+"/members", nil).Body2()
}

func auditChats(c *parleytest.Client) string {
	return c.Must(200, "GET", "/v1.0/me/chats", nil).Body2()
}

// TestAudit_S4_Rule7_GuestNeverInExternalChat: a guest chats only inside its
// host tenant and is never a party to an external chat (docs/rules.md §4 rule 7),
// whoever brings it there: adding a guest to a chat with anyone outside the
// host tenant, adding an outside person to a chat holding a guest, and
// creating a group with both are refused with forbiddenByPolicy and change
// nothing, so no chat turns read-only for everyone.
func TestAudit_S4_Rule7_GuestNeverInExternalChat(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		e := newExternal(t, store)
		guest := parleytest.Bind(e.guest.UserID, false)

		t.Run("adding a guest to an external group", func(t *testing.T) {
			id := auditGroupID(t, e.alice, "Partners", parleytest.Bind(e.bob.UserID, false), parleytest.ByEmail("erin@fabrikam.com"))
			e.alice.Send(id, "welcome")
			e.erin.Must(204, "POST", "/parley/v1/me/requests/"+id+"/accept", nil)
			for _, adder := range []*parleytest.Client{e.alice, e.bob} {
				before := auditMembers(e.alice, id)
				r := adder.Do("POST", "/v1.0/chats/"+id+"/members", guest)
				auditRefused(t, "add guest", r, 403, "forbiddenByPolicy", before, auditMembers(e.alice, id))
				if !strings.Contains(r.Body2(), "host organisation") {
					t.Fatalf("the refusal does not name the rule: %s", r.Body)
				}
			}
			if r := e.guest.Do("GET", "/v1.0/chats/"+id+"/messages", nil); r.Status != 404 {
				t.Fatalf("guest reads the external chat: %d", r.Status)
			}
			// The chat did not turn read-only.
			e.erin.Send(id, "still writable")
			e.alice.Send(id, "yes")
		})

		t.Run("creating a group with a guest and an outside person", func(t *testing.T) {
			outsiders := map[string]map[string]any{
				"member of another tenant":          parleytest.ByEmail("erin@fabrikam.com"),
				"personal account":                  parleytest.ByEmail("pat@gmail.com"),
				"address no account owns":           parleytest.ByEmail("stranger@example.org"),
				"phone no account owns":             parleytest.ByPhone("+14155550123"),
				"unknown address of another tenant": parleytest.ByEmail("nobody@fabrikam.com"),
			}
			requests := func() string {
				return e.erin.Must(200, "GET", "/parley/v1/me/requests", nil).Body2() + e.pat.Must(200, "GET", "/parley/v1/me/requests", nil).Body2()
			}
			for name, outsider := range outsiders {
				before, reqs := auditChats(e.alice)+auditChats(e.guest), requests()
				r := auditGroup(e.alice, "Mixed", guest, outsider)
				auditRefused(t, name, r, 403, "forbiddenByPolicy", before, auditChats(e.alice)+auditChats(e.guest))
				if requests() != reqs {
					t.Fatalf("%s: a refused group sent a request", name)
				}
			}
			// Inside the host tenant a guest is welcome.
			if r := auditGroup(e.alice, "Inside", guest, parleytest.Bind(e.bob.UserID, false)); r.Status != 201 {
				t.Fatalf("guest and colleague: %d %s", r.Status, r.Body)
			}
		})

		t.Run("adding an outside person to a chat holding a guest", func(t *testing.T) {
			id := e.alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "Team",
				"members": []any{parleytest.Bind(e.bob.UserID, false), guest}}).Map(t)["id"].(string)
			for name, outsider := range map[string]map[string]any{
				"member of another tenant": parleytest.ByEmail("erin@fabrikam.com"),
				"personal account":         parleytest.ByEmail("pat@gmail.com"),
				"address no account owns":  parleytest.ByEmail("stranger@example.org"),
			} {
				before := auditMembers(e.alice, id)
				r := e.alice.Do("POST", "/v1.0/chats/"+id+"/members", outsider)
				auditRefused(t, name, r, 403, "forbiddenByPolicy", before, auditMembers(e.alice, id))
			}
			carl := e.w.User(e.contoso, "carl", false)
			e.alice.Must(201, "POST", "/v1.0/chats/"+id+"/members", parleytest.Bind(carl.UserID, false))
		})

		t.Run("an external chat whose outside member left", func(t *testing.T) {
			id := auditGroupID(t, e.alice, "Was partners", parleytest.Bind(e.bob.UserID, false), parleytest.ByEmail("erin@fabrikam.com"))
			e.alice.Send(id, "hello")
			if hasRequest(t, e.erin, id) { // not when the pair accepted each other before
				e.erin.Must(204, "POST", "/parley/v1/me/requests/"+id+"/accept", nil)
			}
			e.erin.Must(204, "DELETE", "/v1.0/chats/"+id+"/members/"+e.erin.UserID, nil)
			// No one outside the host tenant is in it now: the guest may join.
			e.alice.Must(201, "POST", "/v1.0/chats/"+id+"/members", guest)
			// And then no one from outside may join it.
			before := auditMembers(e.alice, id)
			r := e.alice.Do("POST", "/v1.0/chats/"+id+"/members", parleytest.ByEmail("pat@gmail.com"))
			auditRefused(t, "outsider after guest", r, 403, "forbiddenByPolicy", before, auditMembers(e.alice, id))
		})

		t.Run("a pending typed address counts", func(t *testing.T) {
			id := auditGroupID(t, e.alice, "Invite", parleytest.Bind(e.bob.UserID, false), parleytest.ByEmail("someone@example.org"))
			before := auditMembers(e.alice, id)
			r := e.alice.Do("POST", "/v1.0/chats/"+id+"/members", guest)
			auditRefused(t, "add guest", r, 403, "forbiddenByPolicy", before, auditMembers(e.alice, id))
		})

		t.Run("a group a personal user started", func(t *testing.T) {
			id := auditGroupID(t, e.quinn, "Quinn's", parleytest.ByEmail("bob@contoso.com"))
			e.quinn.Send(id, "hi bob")
			e.bob.Must(204, "POST", "/parley/v1/me/requests/"+id+"/accept", nil)
			before := auditMembers(e.bob, id)
			r := e.bob.Do("POST", "/v1.0/chats/"+id+"/members", guest)
			auditRefused(t, "add guest", r, 403, "forbiddenByPolicy", before, auditMembers(e.bob, id))
			e.quinn.Send(id, "still writable")
		})
	})
}

// TestAudit_S5_PendingTargetChangesNothing: while the request is pending the
// sender learns nothing from the target (docs/rules.md §5), so the target may not
// rename the chat or add or remove members; it is refused as its sends
// are. A read-only chat cannot be renamed either (docs/rules.md §4, chatReadOnly).
func TestAudit_S5_PendingTargetChangesNothing(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		e := newExternal(t, store)
		id := auditGroupID(t, e.alice, "Plans", parleytest.Bind(e.bob.UserID, false), parleytest.ByEmail("pat@gmail.com"))
		e.alice.Send(id, "hello pat")
		if !hasRequest(t, e.pat, id) {
			t.Fatal("pat has no request")
		}
		send := e.pat.Do("POST", "/v1.0/chats/"+id+"/messages", map[string]any{"body": map[string]string{"content": "hi"}})
		if send.Status != 403 {
			t.Fatalf("pending target's send: %d %s", send.Status, send.Body)
		}
		chatOf := func() string { return e.alice.Must(200, "GET", "/v1.0/chats/"+id, nil).Body2() }

		t.Run("rename", func(t *testing.T) {
			before := chatOf()
			r := e.pat.Do("PATCH", "/v1.0/chats/"+id, map[string]any{"topic": "Hijacked"})
			auditRefused(t, "rename", r, 403, send.ErrorCode(), before, chatOf())
		})
		t.Run("add a member", func(t *testing.T) {
			before := auditMembers(e.alice, id)
			r := e.pat.Do("POST", "/v1.0/chats/"+id+"/members", parleytest.ByEmail("quinn@outlook.com"))
			auditRefused(t, "add", r, 403, send.ErrorCode(), before, auditMembers(e.alice, id))
			if hasRequest(t, e.quinn, id) {
				t.Fatal("quinn got a request")
			}
		})
		t.Run("remove a member or leave", func(t *testing.T) {
			for _, who := range []string{e.bob.UserID, e.alice.UserID, e.pat.UserID} {
				before := auditMembers(e.alice, id)
				r := e.pat.Do("DELETE", "/v1.0/chats/"+id+"/members/"+who, nil)
				auditRefused(t, "remove", r, 403, send.ErrorCode(), before, auditMembers(e.alice, id))
			}
		})
		t.Run("after accepting, and in a read-only chat", func(t *testing.T) {
			e.pat.Must(204, "POST", "/parley/v1/me/requests/"+id+"/accept", nil)
			e.pat.Must(200, "PATCH", "/v1.0/chats/"+id, map[string]any{"topic": "Plans, with Pat"})
			federation(t, e.contoso.Admin, map[string]any{"allowTeamsConsumer": false})
			for _, c := range []*parleytest.Client{e.alice, e.bob, e.pat} {
				before := chatOf()
				r := c.Do("PATCH", "/v1.0/chats/"+id, map[string]any{"topic": "Renamed while read-only"})
				auditRefused(t, "rename read-only", r, 403, "chatReadOnly", before, chatOf())
			}
			federation(t, e.contoso.Admin, map[string]any{"allowTeamsConsumer": true})
			e.alice.Must(200, "PATCH", "/v1.0/chats/"+id, map[string]any{"topic": "Writable again"})
		})
	})
}

// TestAudit_S5_PendingTargetReadsPlainText: until the target accepts, links
// in the request's messages are plain text and images from the sender are
// not loaded (docs/rules.md §5) in the message list and a single message too, not
// only in live events and the requests list.
func TestAudit_S5_PendingTargetReadsPlainText(t *testing.T) {
	e := newExternal(t, "sqlite")
	id := e.alice.ChatWith(parleytest.ByEmail("pat@gmail.com")).Map(t)["id"].(string)
	card := `{"type":"AdaptiveCard","version":"1.5","body":[{"type":"Image","url":"https://phish.example/card.png"}]}`
	mid := e.alice.Must(201, "POST", "/v1.0/chats/"+id+"/messages", map[string]any{
		"body":        map[string]string{"contentType": "html", "content": `<p>Claim <a href="https://phish.example/x">your prize</a><img src="https://phish.example/p.png"></p>`},
		"attachments": []any{map[string]any{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}},
	}).Map(t)["id"].(string)

	type message struct {
		ID   string `json:"id"`
		Body struct {
			ContentType string `json:"contentType"`
			Content     string `json:"content"`
		} `json:"body"`
		Attachments []any `json:"attachments"`
	}
	plain := func(what string, m message) {
		t.Helper()
		if m.Body.ContentType != "text" || strings.Contains(m.Body.Content, "<") || !strings.Contains(m.Body.Content, "your prize") || len(m.Attachments) != 0 {
			t.Fatalf("%s: pending target gets %+v, want the plain preview", what, m)
		}
	}
	var list struct{ Value []message }
	r := e.pat.Must(200, "GET", "/v1.0/chats/"+id+"/messages", nil)
	if strings.Contains(r.Body2(), "phish.example") {
		t.Fatalf("message list shows the sender's links or images: %s", r.Body)
	}
	r.JSON(t, &list)
	if len(list.Value) != 1 || list.Value[0].ID != mid {
		t.Fatalf("message list: %s", r.Body)
	}
	plain("list", list.Value[0])
	var one message
	r = e.pat.Must(200, "GET", "/v1.0/chats/"+id+"/messages/"+mid, nil)
	if strings.Contains(r.Body2(), "phish.example") {
		t.Fatalf("message shows the sender's links or images: %s", r.Body)
	}
	r.JSON(t, &one)
	plain("one", one)

	// The sender sees what they sent; after accepting, so does the target.
	if !strings.Contains(e.alice.Must(200, "GET", "/v1.0/chats/"+id+"/messages/"+mid, nil).Body2(), "phish.example/x") {
		t.Fatal("the sender's own message lost its link")
	}
	e.pat.Must(204, "POST", "/parley/v1/me/requests/"+id+"/accept", nil)
	for _, path := range []string{"/v1.0/chats/" + id + "/messages", "/v1.0/chats/" + id + "/messages/" + mid} {
		if got := e.pat.Must(200, "GET", path, nil).Body2(); !strings.Contains(got, "phish.example/x") || !strings.Contains(got, "card.png") {
			t.Fatalf("accepted target, %s: %s", path, got)
		}
	}
}

// auditClock is a settable clock for the server.
type auditClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *auditClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *auditClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// TestAudit_S5_DeclineRefusesTheOneOnOneAgain: after the target declines,
// asking for the 1:1 chat again is a new request from the same sender and
// fails with recipientUnavailable for the cool-down (docs/rules.md §5), as a new
// group does; after the cool-down the existing chat is returned as before.
// A block on the request refuses it until unblocked.
func TestAudit_S5_DeclineRefusesTheOneOnOneAgain(t *testing.T) {
	clk := &auditClock{t: time.Now().UTC()}
	srv := server.New(parleytest.Config(t, "sqlite"), nil, nil)
	srv.Now = clk.Now
	if err := srv.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	s := &parleytest.Server{Server: srv, TB: t}
	contoso := s.CreateTenant("Contoso", "contoso.com")
	fabrikam := s.CreateTenant("Fabrikam", "fabrikam.com")
	alice := s.User(contoso, "alice", false)
	carl := s.User(contoso, "carl", false)
	erin := s.User(fabrikam, "erin", false)

	oneOnOne := func(c *parleytest.Client, member map[string]any) *parleytest.Response {
		return c.Do("POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne", "members": []any{member}})
	}
	id := alice.ChatWith(parleytest.ByEmail("erin@fabrikam.com")).Map(t)["id"].(string)
	alice.Send(id, "hello erin")
	erin.Must(204, "POST", "/parley/v1/me/requests/"+id+"/decline", nil)
	blocked := carl.ChatWith(parleytest.ByEmail("erin@fabrikam.com")).Map(t)["id"].(string)
	carl.Send(blocked, "hello erin")
	erin.Must(204, "POST", "/parley/v1/me/requests/"+blocked+"/block", nil)

	for _, c := range []*parleytest.Client{alice, carl} {
		before := auditChats(c)
		auditRefused(t, "oneOnOne again", oneOnOne(c, parleytest.ByEmail("erin@fabrikam.com")), 403, "recipientUnavailable", before, auditChats(c))
		before = auditChats(c)
		auditRefused(t, "new group", auditGroup(c, "Again", parleytest.ByEmail("erin@fabrikam.com")), 403, "recipientUnavailable", before, auditChats(c))
	}

	// After the cool-down: the existing chat, as before; the block holds.
	clk.Add(31 * 24 * time.Hour)
	alice = s.SignIn("alice@contoso.com", parleytest.Password)
	carl = s.SignIn("carl@contoso.com", parleytest.Password)
	r := alice.Must(200, "POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne", "members": []any{parleytest.ByEmail("erin@fabrikam.com")}})
	if got := r.Map(t)["id"]; got != id {
		t.Fatalf("after the cool-down: chat %v, want the existing %s", got, id)
	}
	before := auditChats(carl)
	auditRefused(t, "blocked, after the cool-down", oneOnOne(carl, parleytest.ByEmail("erin@fabrikam.com")), 403, "recipientUnavailable", before, auditChats(carl))
}
