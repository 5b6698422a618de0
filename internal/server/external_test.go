package server_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
)

// external is a small world of two organisations and personal accounts.
type external struct {
	w                 *parleytest.World
	contoso, fabrikam *parleytest.Tenant
	alice, bob, guest *parleytest.Client // contoso member, member, guest
	erin              *parleytest.Client // fabrikam member
	pat, quinn        *parleytest.Client // personal accounts
}

func newExternal(t *testing.T, store string) *external {
	w := parleytest.StartWorld(t, store)
	e := &external{w: w}
	e.contoso = w.CreateTenant("Contoso", "contoso.com")
	e.fabrikam = w.CreateTenant("Fabrikam", "fabrikam.com")
	e.alice = w.User(e.contoso, "alice", false)
	e.bob = w.User(e.contoso, "bob", false)
	e.guest = w.User(e.contoso, "gus@gmail.com", true)
	e.erin = w.User(e.fabrikam, "erin", false)
	e.pat = w.Personal("pat@gmail.com")
	e.quinn = w.Personal("quinn@outlook.com")
	return e
}

func federation(t *testing.T, admin *parleytest.Client, patch map[string]any) {
	t.Helper()
	admin.Must(200, "PATCH", "/parley/v1/admin/federationConfiguration", patch)
}

func policyFor(t *testing.T, admin *parleytest.Client, name string, userID string, sw map[string]any) {
	t.Helper()
	body := map[string]any{"name": name}
	for k, v := range sw {
		body[k] = v
	}
	if r := admin.Do("POST", "/parley/v1/admin/externalAccessPolicies", body); r.Status != 201 {
		admin.Must(200, "PATCH", "/parley/v1/admin/externalAccessPolicies/"+name, sw)
	}
	admin.Must(204, "POST", "/parley/v1/admin/externalAccessPolicies/"+name+"/grant", map[string]any{"userIds": []string{userID}})
}

// expectRefused asserts a chat creation is refused with code and creates nothing.
func expectRefused(t *testing.T, c *parleytest.Client, member map[string]any, status int, code string) {
	t.Helper()
	before := c.Must(200, "GET", "/v1.0/me/chats", nil).Body
	r := c.ChatWith(member)
	if r.Status != status || r.ErrorCode() != code {
		t.Fatalf("got %d %s, want %d %s", r.Status, r.Body, status, code)
	}
	if after := c.Must(200, "GET", "/v1.0/me/chats", nil).Body; string(after) != string(before) {
		t.Fatalf("a refused creation changed the chat list")
	}
}

// expectRequest asserts the chat reaches the target as a request.
func expectRequest(t *testing.T, from, to *parleytest.Client, member map[string]any) string {
	t.Helper()
	r := from.ChatWith(member)
	if r.Status != 201 && r.Status != 200 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	id := r.Map(t)["id"].(string)
	from.Send(id, "hello")
	if !hasRequest(t, to, id) {
		t.Fatalf("target has no request for %s", id)
	}
	return id
}

// expectHeld asserts the chat is created for the sender (pending) and
// nothing reaches the target (docs/rules.md §4 rule of silence).
func expectHeld(t *testing.T, from, to *parleytest.Client, member map[string]any) string {
	t.Helper()
	r := from.ChatWith(member)
	if r.Status != 201 && r.Status != 200 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	id := r.Map(t)["id"].(string)
	from.Send(id, "hello")
	if hasRequest(t, to, id) {
		t.Fatalf("held request reached the target")
	}
	if r := to.Do("GET", "/v1.0/chats/"+id+"/messages", nil); r.Status != 404 {
		t.Fatalf("target reads a held chat: %d", r.Status)
	}
	return id
}

func hasRequest(t *testing.T, c *parleytest.Client, chatID string) bool {
	t.Helper()
	var p struct {
		Value []struct {
			ChatID string `json:"chatId"`
		} `json:"value"`
	}
	c.Must(200, "GET", "/parley/v1/me/requests", nil).JSON(t, &p)
	for _, r := range p.Value {
		if r.ChatID == chatID {
			return true
		}
	}
	return false
}

// TestS4_Rules drives every rule of docs/rules.md §4 through the HTTP API with at
// least one allowed and one refused case each.
func TestS4_Rules(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		t.Run("rule 1 same tenant needs no request", func(t *testing.T) {
			e := newExternal(t, store)
			r := e.alice.ChatWith(parleytest.ByEmail("bob@contoso.com"))
			if r.Status != 201 || r.Map(t)["isExternal"] != false {
				t.Fatalf("got %d %s", r.Status, r.Body)
			}
			id := r.Map(t)["id"].(string)
			e.alice.Send(id, "hi")
			if texts(t, e.bob, id)[0] != "hi" {
				t.Fatal("bob does not see the message")
			}
			// Guests of the tenant too.
			e.alice.Send(e.alice.OneOnOne(e.guest.UserID), "hi guest")
		})
		t.Run("rule 2 managed to personal", func(t *testing.T) {
			e := newExternal(t, store)
			expectRequest(t, e.alice, e.pat, parleytest.ByEmail("pat@gmail.com"))
			// Own tenant switch: forbiddenByPolicy naming the rule.
			federation(t, e.contoso.Admin, map[string]any{"allowTeamsConsumer": false})
			r := e.bob.ChatWith(parleytest.ByEmail("quinn@outlook.com"))
			if r.Status != 403 || r.ErrorCode() != "forbiddenByPolicy" || !strings.Contains(r.Body2(), "personal accounts") {
				t.Fatalf("tenant switch off: %d %s", r.Status, r.Body)
			}
			federation(t, e.contoso.Admin, map[string]any{"allowTeamsConsumer": true})
			// Own policy.
			policyFor(t, e.contoso.Admin, "NoConsumer", e.bob.UserID, map[string]any{"enableTeamsConsumerAccess": false})
			expectRefused(t, e.bob, parleytest.ByEmail("quinn@outlook.com"), 403, "forbiddenByPolicy")
			// Target's personal switch: silent.
			e.quinn.Must(200, "PATCH", "/parley/v1/me/settings", map[string]any{"allowChatsFromOrganizations": false})
			expectHeld(t, e.alice, e.quinn, parleytest.ByEmail("quinn@outlook.com"))
		})
		t.Run("rule 3 personal to managed and the inbound-only case", func(t *testing.T) {
			e := newExternal(t, store)
			expectRequest(t, e.pat, e.alice, parleytest.ByEmail("alice@contoso.com"))
			// Inbound off: personal → managed refused, managed → personal works.
			federation(t, e.contoso.Admin, map[string]any{"allowTeamsConsumerInbound": false})
			expectRefused(t, e.quinn, parleytest.ByEmail("bob@contoso.com"), 403, "recipientUnavailable")
			expectRequest(t, e.bob, e.quinn, parleytest.ByEmail("quinn@outlook.com"))
			federation(t, e.contoso.Admin, map[string]any{"allowTeamsConsumerInbound": true, "allowTeamsConsumer": false})
			expectRefused(t, e.quinn, parleytest.ByEmail("alice@contoso.com"), 403, "recipientUnavailable")
			federation(t, e.contoso.Admin, map[string]any{"allowTeamsConsumer": true})
			// Target's per-user policy: silent.
			dave := e.w.User(e.contoso, "dave", false)
			policyFor(t, e.contoso.Admin, "NoInbound", dave.UserID, map[string]any{"enableTeamsConsumerInbound": false})
			expectHeld(t, e.quinn, dave, parleytest.ByEmail("dave@contoso.com"))
		})
		t.Run("rule 4 federation with domain lists", func(t *testing.T) {
			e := newExternal(t, store)
			expectRequest(t, e.alice, e.erin, parleytest.ByEmail("erin@fabrikam.com"))
			// Other side blocks our domain: recipientUnavailable, neutral.
			federation(t, e.fabrikam.Admin, map[string]any{"blockedDomains": []string{"contoso.com"}})
			r := e.bob.ChatWith(parleytest.ByEmail("erin@fabrikam.com"))
			if r.Status != 403 || r.ErrorCode() != "recipientUnavailable" || strings.Contains(strings.ToLower(r.Body2()), "domain") {
				t.Fatalf("other side blocked: %d %s", r.Status, r.Body)
			}
			federation(t, e.fabrikam.Admin, map[string]any{"blockedDomains": []string{}})
			// Own allow-list without fabrikam: forbiddenByPolicy; with it: allowed.
			federation(t, e.contoso.Admin, map[string]any{"allowAllKnownDomains": false, "allowedDomains": []string{"northwind.com"}})
			expectRefused(t, e.bob, parleytest.ByEmail("erin@fabrikam.com"), 403, "forbiddenByPolicy")
			federation(t, e.contoso.Admin, map[string]any{"allowedDomains": []string{"northwind.com", "fabrikam.com"}})
			expectRequest(t, e.bob, e.erin, parleytest.ByEmail("erin@fabrikam.com"))
			// Blocked wins over allowed.
			federation(t, e.contoso.Admin, map[string]any{"blockedDomains": []string{"fabrikam.com"}})
			e.w.User(e.contoso, "carl", false)
			carl := e.w.SignIn("carl@contoso.com", parleytest.Password)
			expectRefused(t, carl, parleytest.ByEmail("erin@fabrikam.com"), 403, "forbiddenByPolicy")
			federation(t, e.contoso.Admin, map[string]any{"blockedDomains": []string{}, "allowAllKnownDomains": true})
			// Other side's federation switch off.
			federation(t, e.fabrikam.Admin, map[string]any{"allowFederatedUsers": false})
			expectRefused(t, carl, parleytest.ByEmail("erin@fabrikam.com"), 403, "recipientUnavailable")
			federation(t, e.fabrikam.Admin, map[string]any{"allowFederatedUsers": true})
			// Own policy off: forbiddenByPolicy; target's policy off: silent.
			policyFor(t, e.contoso.Admin, "NoFed", carl.UserID, map[string]any{"enableFederationAccess": false})
			expectRefused(t, carl, parleytest.ByEmail("erin@fabrikam.com"), 403, "forbiddenByPolicy")
			dora := e.w.User(e.fabrikam, "dora", false)
			policyFor(t, e.fabrikam.Admin, "NoFed", dora.UserID, map[string]any{"enableFederationAccess": false})
			expectHeld(t, e.alice, dora, parleytest.ByEmail("dora@fabrikam.com"))
		})
		t.Run("rule 5 personal to personal", func(t *testing.T) {
			e := newExternal(t, store)
			expectRequest(t, e.pat, e.quinn, parleytest.ByEmail("quinn@outlook.com"))
		})
		t.Run("rule 6 blocks", func(t *testing.T) {
			e := newExternal(t, store)
			// A block from the blocked-people list is silent to the blocked one.
			mustBlockFromList(t, e.pat, "pat@gmail.com", e.quinn)
			expectHeld(t, e.quinn, e.pat, parleytest.ByEmail("pat@gmail.com"))
			// The blocker is told their own block.
			expectRefused(t, e.pat, parleytest.ByEmail("quinn@outlook.com"), 403, "forbiddenByPolicy")
			// Unblocking delivers the held request.
			e.pat.Must(204, "DELETE", "/parley/v1/me/blockedUsers/"+e.quinn.UserID, nil)
			var p struct {
				Value []struct {
					Previews []any `json:"previews"`
				} `json:"value"`
			}
			e.pat.Must(200, "GET", "/parley/v1/me/requests", nil).JSON(t, &p)
			if len(p.Value) != 1 || len(p.Value[0].Previews) != 0 {
				t.Fatalf("after unblock: %+v, want the request without the earlier message", p.Value)
			}
		})
		t.Run("rule 7 guests stay in their host tenant", func(t *testing.T) {
			e := newExternal(t, store)
			expectRefused(t, e.guest, parleytest.ByEmail("erin@fabrikam.com"), 403, "forbiddenByPolicy")
			expectRefused(t, e.guest, parleytest.ByEmail("pat@gmail.com"), 403, "forbiddenByPolicy")
		})
	})
}

// TestS5_Requests covers docs/rules.md §5: the cap, the answers and what the sender
// learns while pending.
func TestS5_Requests(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		e := newExternal(t, store)
		t.Run("ten messages while pending, the 11th refused", func(t *testing.T) {
			id := e.alice.ChatWith(parleytest.ByEmail("pat@gmail.com")).Map(t)["id"].(string)
			for i := range 10 {
				e.alice.Send(id, "m"+string(rune('0'+i)))
			}
			r := e.alice.Do("POST", "/v1.0/chats/"+id+"/messages", map[string]any{"body": map[string]string{"content": "eleven"}})
			if r.Status != 403 || r.ErrorCode() != "messageRequestLimitReached" {
				t.Fatalf("11th: %d %s", r.Status, r.Body)
			}
			// The target may not reply before accepting.
			if r := e.pat.Do("POST", "/v1.0/chats/"+id+"/messages", map[string]any{"body": map[string]string{"content": "hi"}}); r.Status != 403 {
				t.Fatalf("reply before accept: %d", r.Status)
			}
			// The request shows the sender's identity, organisation and previews.
			var p struct {
				Value []struct {
					ChatID string `json:"chatId"`
					From   struct {
						User map[string]any `json:"user"`
					} `json:"from"`
					OrganizationName *string          `json:"organizationName"`
					IsExternal       bool             `json:"isExternal"`
					Previews         []map[string]any `json:"previews"`
				} `json:"value"`
			}
			e.pat.Must(200, "GET", "/parley/v1/me/requests", nil).JSON(t, &p)
			if len(p.Value) != 1 {
				t.Fatalf("requests = %+v", p.Value)
			}
			rq := p.Value[0]
			if rq.ChatID != id || rq.From.User["id"] != e.alice.UserID || rq.From.User["userIdentityType"] != "federatedUser" || rq.OrganizationName == nil || *rq.OrganizationName != "Contoso" || !rq.IsExternal || len(rq.Previews) != 10 {
				t.Fatalf("request = %+v", rq)
			}
			// Pending requests are not in the chat list.
			if strings.Contains(e.pat.Must(200, "GET", "/v1.0/me/chats", nil).Body2(), id) {
				t.Fatal("pending request listed among chats")
			}
			// While pending the sender sees only the typed address.
			members := e.alice.Must(200, "GET", "/v1.0/chats/"+id+"/members", nil).Body2()
			if strings.Contains(members, e.pat.UserID) || strings.Contains(members, "Pat") {
				t.Fatalf("sender learns about the target: %s", members)
			}
			// Accept: the chat joins pat's list, both can talk, and the
			// member shows who it is.
			ev := e.alice.Events(-1)
			e.pat.Must(204, "POST", "/parley/v1/me/requests/"+id+"/accept", nil)
			ev.WaitCount("requestAccepted", 1, 2*time.Second)
			if !strings.Contains(e.pat.Must(200, "GET", "/v1.0/me/chats", nil).Body2(), id) {
				t.Fatal("accepted chat not listed")
			}
			e.pat.Send(id, "hi alice")
			e.alice.Send(id, "hi pat")
			if members := e.alice.Must(200, "GET", "/v1.0/chats/"+id+"/members", nil).Body2(); !strings.Contains(members, e.pat.UserID) {
				t.Fatalf("accepted member still hidden: %s", members)
			}
			// After an accept no new requests between the pair, either way.
			gid := e.pat.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "Us", "members": []any{parleytest.ByEmail("alice@contoso.com")}}).Map(t)["id"].(string)
			if hasRequest(t, e.alice, gid) || !strings.Contains(e.alice.Must(200, "GET", "/v1.0/me/chats", nil).Body2(), gid) {
				t.Fatal("a chat between accepted contacts became a request")
			}
		})
		t.Run("decline with cool-down, block, report spam", func(t *testing.T) {
			for _, answer := range []string{"decline", "block", "reportSpam"} {
				sender := e.w.User(e.contoso, "s-"+answer, false)
				id := sender.ChatWith(parleytest.ByEmail("quinn@outlook.com")).Map(t)["id"].(string)
				sender.Send(id, "buy now")
				e.quinn.Must(204, "POST", "/parley/v1/me/requests/"+id+"/"+answer, nil)
				if hasRequest(t, e.quinn, id) {
					t.Fatalf("%s: request still listed", answer)
				}
				if r := sender.Do("POST", "/v1.0/chats/"+id+"/messages", map[string]any{"body": map[string]string{"content": "again"}}); r.Status != 403 || r.ErrorCode() != "recipientUnavailable" {
					t.Fatalf("%s: send after: %d %s", answer, r.Status, r.Body)
				}
				// A new request from the same sender fails too.
				r := sender.Do("POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "x", "members": []any{parleytest.ByEmail("quinn@outlook.com")}})
				if r.Status != 403 || r.ErrorCode() != "recipientUnavailable" {
					t.Fatalf("%s: new request: %d %s", answer, r.Status, r.Body)
				}
				if e.quinn.Do("POST", "/parley/v1/me/requests/"+id+"/accept", nil).Status != 404 {
					t.Fatalf("%s: answered request can be accepted", answer)
				}
			}
		})
		t.Run("external people only in external group chats", func(t *testing.T) {
			internal := e.alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "Internal", "members": []any{parleytest.Bind(e.bob.UserID, false)}}).Map(t)["id"].(string)
			r := e.alice.Do("POST", "/v1.0/chats/"+internal+"/members", parleytest.ByEmail("erin@fabrikam.com"))
			if r.Status != 403 || r.ErrorCode() != "externalMemberNotAllowed" {
				t.Fatalf("external into internal: %d %s", r.Status, r.Body)
			}
			// An external group chat takes an accepted contact later.
			ext := e.alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "Partners", "members": []any{parleytest.Bind(e.bob.UserID, false), parleytest.ByEmail("erin@fabrikam.com")}}).Map(t)
			if ext["isExternal"] != true {
				t.Fatalf("group with erin not external: %v", ext)
			}
			e.alice.Must(201, "POST", "/v1.0/chats/"+ext["id"].(string)+"/members", parleytest.ByEmail("pat@gmail.com"))
			if hasRequest(t, e.pat, ext["id"].(string)) {
				t.Fatal("accepted contact got a request")
			}
			e.pat.Send(ext["id"].(string), "hello partners")
		})
	})
}

// TestS4_PolicyChangesActAtOnce: turning a switch off makes affected chats
// read-only within a second (403 chatReadOnly and an event), history stays
// readable, and turning it on makes them writable.
func TestS4_PolicyChangesActAtOnce(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		e := newExternal(t, store)
		id := e.alice.ChatWith(parleytest.ByEmail("pat@gmail.com")).Map(t)["id"].(string)
		e.alice.Send(id, "before")
		e.pat.Must(204, "POST", "/parley/v1/me/requests/"+id+"/accept", nil)
		fid := e.alice.ChatWith(parleytest.ByEmail("erin@fabrikam.com")).Map(t)["id"].(string)
		e.erin.Must(204, "POST", "/parley/v1/me/requests/"+fid+"/accept", nil)
		aliceEv, patEv := e.alice.Events(-1), e.pat.Events(-1)

		federation(t, e.contoso.Admin, map[string]any{"allowTeamsConsumer": false})
		aliceEv.WaitCount("chatReadOnly", 1, time.Second)
		evs := patEv.WaitCount("chatReadOnly", 1, time.Second)
		if evs[len(evs)-1].ChatID != id || !strings.Contains(evs[len(evs)-1].Raw["reason"].(string), "other side") {
			t.Fatalf("pat's event: %v", evs[len(evs)-1].Raw)
		}
		for _, c := range []*parleytest.Client{e.alice, e.pat} {
			r := c.Do("POST", "/v1.0/chats/"+id+"/messages", map[string]any{"body": map[string]string{"content": "now?"}})
			if r.Status != 403 || r.ErrorCode() != "chatReadOnly" {
				t.Fatalf("send in read-only chat: %d %s", r.Status, r.Body)
			}
		}
		if !strings.Contains(e.alice.Must(200, "GET", "/v1.0/chats/"+id, nil).Body2(), `"isReadOnly":true`) {
			t.Fatal("chat does not say it is read-only")
		}
		if got := texts(t, e.pat, id); len(got) != 1 || got[0] != "before" {
			t.Fatalf("history: %v", got)
		}
		// The federated chat is untouched.
		e.alice.Send(fid, "still fine")

		federation(t, e.contoso.Admin, map[string]any{"allowTeamsConsumer": true})
		patEv.WaitCount("chatWritable", 1, time.Second)
		e.pat.Send(id, "back")

		// A per-user policy change acts the same way.
		policyFor(t, e.contoso.Admin, "NoFed", e.alice.UserID, map[string]any{"enableFederationAccess": false})
		e.erin.Events(0).WaitFor("chatReadOnly on the federated chat", time.Second, func(evs []parleytest.Event) bool {
			for _, ev := range evs {
				if ev.Type == "chatReadOnly" && ev.ChatID == fid {
					return true
				}
			}
			return false
		})
		if r := e.erin.Do("POST", "/v1.0/chats/"+fid+"/messages", map[string]any{"body": map[string]string{"content": "x"}}); r.ErrorCode() != "chatReadOnly" {
			t.Fatalf("federated send after policy change: %d %s", r.Status, r.Body)
		}
	})
}

// TestS5_SilenceWhilePending: while a request is pending the sender gets no
// read receipt and no typing from the target, nor the target from the
// sender; after an accept both flow both ways. On both stores.
func TestS5_SilenceWhilePending(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		e := newExternal(t, store)
		id := e.alice.ChatWith(parleytest.ByEmail("pat@gmail.com")).Map(t)["id"].(string)
		e.alice.Send(id, "hello")
		ev := e.alice.Events(-1)
		patEv := e.pat.Events(-1)
		// To the pending target: the sender's typing and read mark do not reach them.
		e.alice.Must(204, "POST", "/parley/v1/chats/"+id+"/typing", nil)
		e.alice.Must(204, "POST", "/v1.0/chats/"+id+"/markChatReadForUser", map[string]any{})
		e.alice.Send(id, "marker for pat")
		if evs := patEv.WaitCount("messageCreated", 1, 2*time.Second); parleytest.Count(evs, "readReceipt")+parleytest.Count(evs, "typing") != 0 {
			t.Fatalf("pending target got the sender's typing or read receipt: %v", evs)
		}
		// From the pending target: nothing reaches the sender.
		e.pat.Must(204, "POST", "/v1.0/chats/"+id+"/markChatReadForUser", map[string]any{})
		if r := e.pat.Do("POST", "/parley/v1/chats/"+id+"/typing", nil); r.Status != 403 {
			t.Fatalf("typing while pending: %d %s", r.Status, r.Body)
		}
		// A marker event proves the connection delivered everything before it.
		e.alice.Send(id, "marker")
		evs := ev.WaitCount("messageCreated", 1, 2*time.Second)
		if parleytest.Count(evs, "readReceipt")+parleytest.Count(evs, "typing") != 0 {
			t.Fatalf("sender learned of the pending target: %v", evs)
		}
		e.pat.Must(204, "POST", "/parley/v1/me/requests/"+id+"/accept", nil)
		e.pat.Must(204, "POST", "/v1.0/chats/"+id+"/markChatReadForUser", map[string]any{})
		e.pat.Must(204, "POST", "/parley/v1/chats/"+id+"/typing", nil)
		evs = ev.WaitCount("typing", 1, 2*time.Second)
		if parleytest.Count(evs, "readReceipt") != 1 {
			t.Fatalf("no read receipt after accept: %v", evs)
		}
		for _, x := range evs {
			if x.Type == "typing" && (x.Seq != 0 || x.Raw["user"].(map[string]any)["id"] != e.pat.UserID) {
				t.Fatalf("typing event: %v", x.Raw)
			}
		}
		// And the other way once accepted.
		e.alice.Must(204, "POST", "/parley/v1/chats/"+id+"/typing", nil)
		patEv.WaitCount("typing", 1, 2*time.Second)
		patEv.Close()
	})
}

// TestS5_RequestShowsPlainText: while a request is pending, its target gets
// messages in the preview form (no links, no images) live as well as in
// the requests list, and the request names the sender's verified address.
func TestS5_RequestShowsPlainText(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		e := newExternal(t, store)
		ev := e.pat.Events(-1)
		id := e.alice.ChatWith(parleytest.ByEmail("pat@gmail.com")).Map(t)["id"].(string)
		e.alice.Must(201, "POST", "/v1.0/chats/"+id+"/messages", map[string]any{"body": map[string]string{"contentType": "html",
			"content": `<p>Claim <a href="https://phish.example/x">your prize</a><img src="https://phish.example/p.png"></p>`}})
		evs := ev.WaitCount("messageCreated", 1, 2*time.Second)
		body := evs[len(evs)-1].Raw["message"].(map[string]any)["body"].(map[string]any)
		if body["contentType"] != "text" || strings.Contains(body["content"].(string), "<") || !strings.Contains(body["content"].(string), "your prize") {
			t.Fatalf("pending target's live message: %v", body)
		}
		r := e.pat.Must(200, "GET", "/parley/v1/me/requests", nil).Body2()
		if strings.Contains(r, "phish.example") || !strings.Contains(r, `"email":"alice@contoso.com"`) {
			t.Fatalf("request: %s", r)
		}
		// After accepting, the message is the real one.
		e.pat.Must(204, "POST", "/parley/v1/me/requests/"+id+"/accept", nil)
		if !strings.Contains(e.pat.Must(200, "GET", "/v1.0/chats/"+id+"/messages", nil).Body2(), "phish.example") {
			t.Fatal("accepted chat lost the original message")
		}
	})
}

// TestS6_SignInWithPhoneInAnyFormat: a phone-only personal account signs in
// with its number typed as people type it.
func TestS6_SignInWithPhoneInAnyFormat(t *testing.T) {
	w := parleytest.StartWorld(t, "sqlite")
	w.Anonymous().Must(202, "POST", "/parley/v1/signup", map[string]any{"phoneNumber": "+1 415 555 0177", "displayName": "Phil", "password": parleytest.Password})
	code := regexp.MustCompile(`\d{6}`).FindString(w.SMSTo("+14155550177", 1))
	w.Anonymous().Must(201, "POST", "/parley/v1/signup/verify", map[string]any{"phoneNumber": "(415) 555-0177", "code": code})
	for _, typed := range []string{"+14155550177", "(415) 555-0177", "415.555.0177"} {
		w.SignIn(typed, parleytest.Password)
	}
}
