package server_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleychat/parley/internal/parleytest"
)

// senderView is everything a sender sees of a chat started by address: the
// answers to creating it (twice), the chat, its members, the answers to the
// sends and the sender's own events about it, with ids and times masked and
// the typed address replaced by "<addr>".
type senderView struct {
	CreateStatus, AgainStatus int
	Created, Chat, Members    any
	Sends                     []string
	Events                    []any
}

// enumCase is one kind of target of TestS6_AntiEnumeration.
type enumCase struct {
	name   string
	addr   string
	target *parleytest.Client // nil: no account
	chatID string
	view   senderView
}

// TestS6_AntiEnumeration: whatever is behind an address — a personal
// account, no account, an account whose switch, block list or per-user
// policy refuses, an unknown address of an organisation's domain — the
// sender sees exactly the same (docs/rules.md §4 rule of silence, §6). Targets that
// refuse silently see nothing until the refusal is lifted, and then only
// what was sent after that moment.
func TestS6_AntiEnumeration(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := parleytest.StartWorld(t, store)
		contoso := w.CreateTenant("Contoso", "contoso.com")
		alice := w.User(contoso, "alice", false)
		fabrikam := w.CreateTenant("Fabrikam", "fabrikam.com")

		pat := w.Personal("pat@gmail.com")
		closed := w.Personal("closed@gmail.com")
		closed.Must(http.StatusOK, "PATCH", "/parley/v1/me/settings", map[string]any{"allowChatsFromOrganizations": false})
		blocker := w.Personal("blocker@gmail.com")
		mustBlockFromList(t, blocker, "blocker@gmail.com", alice)
		frank := w.User(fabrikam, "frank", false)
		fabrikam.Admin.Must(http.StatusCreated, "POST", "/parley/v1/admin/externalAccessPolicies", map[string]any{"name": "NoFederation", "enableFederationAccess": false})
		fabrikam.Admin.Must(http.StatusNoContent, "POST", "/parley/v1/admin/externalAccessPolicies/NoFederation/grant", map[string]any{"userIds": []string{frank.UserID}})
		// A refusing target can look alice up by id before anything happens;
		// the answer must stay the same after alice's held request.
		closedSeesAlice := closed.Do("GET", "/v1.0/users/"+alice.UserID, nil).Status

		cases := []*enumCase{
			{name: "a personal account", addr: "pat@gmail.com", target: pat},
			{name: "b no account", addr: "nobody-here@gmail.com"},
			{name: "c organisations switched off", addr: "closed@gmail.com", target: closed},
			{name: "d blocked from the list", addr: "blocker@gmail.com", target: blocker},
			{name: "e unknown address of an organisation", addr: "nobody@fabrikam.com"},
			{name: "f per-user policy refuses", addr: "frank@fabrikam.com", target: frank},
		}
		refusing := []*enumCase{cases[2], cases[3], cases[5]}

		send := func(c *enumCase, text string) {
			t.Helper()
			r := alice.Do("POST", "/v1.0/chats/"+c.chatID+"/messages", textBody(text))
			c.view.Sends = append(c.view.Sends, fmt.Sprintf("%d %s", r.Status, r.ErrorCode()))
		}

		for _, c := range cases {
			r := alice.ChatWith(parleytest.ByEmail(c.addr))
			c.view.CreateStatus = r.Status
			if r.Status != http.StatusCreated {
				t.Fatalf("%s: create: got %d %s, want 201", c.name, r.Status, r.Body)
			}
			created := r.Map(t)
			c.chatID = created["id"].(string)
			c.view.Created = masked(created, c.addr)
			again := alice.ChatWith(parleytest.ByEmail(c.addr))
			c.view.AgainStatus = again.Status
			if again.Status != http.StatusOK || again.Map(t)["id"] != c.chatID {
				t.Errorf("%s: create again: got %d %s, want 200 with chat %s", c.name, again.Status, again.Body, c.chatID)
			}
			c.view.Chat = masked(alice.Must(http.StatusOK, "GET", "/v1.0/chats/"+c.chatID, nil).Map(t), c.addr)
			var members struct {
				Value []map[string]any `json:"value"`
			}
			alice.Must(http.StatusOK, "GET", "/v1.0/chats/"+c.chatID+"/members", nil).JSON(t, &members)
			// Members of one join time come in random order: the caller first.
			slices.SortStableFunc(members.Value, func(x, y map[string]any) int {
				return cmpBool(y["userId"] == alice.UserID, x["userId"] == alice.UserID)
			})
			c.view.Members = masked(members.Value, c.addr)
			m := otherMember(t, alice, c.chatID)
			if m["displayName"] != c.addr || m["email"] != c.addr || m["userIdentityType"] != "emailUser" ||
				m["requestState"] != "pending" || m["userId"] != nil || m["tenantId"] != nil {
				t.Errorf("%s: pending member = %v, want exactly the typed address, emailUser, pending, no userId, no tenantId", c.name, m)
			}
			for i := range 3 {
				send(c, fmt.Sprintf("before %d", i+1))
			}
		}

		t.Run("silent refusals reach nobody", func(t *testing.T) {
			if _, ok := findRequest(mustRequests(t, pat), cases[0].chatID); !ok {
				t.Errorf("a: the personal account does not see the request")
			}
			for _, c := range refusing {
				if _, ok := findRequest(mustRequests(t, c.target), c.chatID); ok {
					t.Errorf("%s: the target sees the request", c.name)
				}
				for _, p := range []string{"", "/messages", "/members"} {
					if r := c.target.Do("GET", "/v1.0/chats/"+c.chatID+p, nil); r.Status != http.StatusNotFound {
						t.Errorf("%s: GET chat%s: got %d %s, want 404", c.name, p, r.Status, r.Body)
					}
				}
				if r := c.target.Do("POST", "/v1.0/chats/"+c.chatID+"/messages", textBody("hi?")); r.Status != http.StatusNotFound {
					t.Errorf("%s: send to the held chat: got %d %s, want 404", c.name, r.Status, r.Body)
				}
				if slices.Contains(chatIDs(t, c.target), c.chatID) {
					t.Errorf("%s: the chat is in the target's chat list", c.name)
				}
				for _, e := range eventsUntilBarrier(t, c.target) {
					if e.ChatID == c.chatID {
						t.Errorf("%s: the target got an event before its own barrier: %v", c.name, e.Raw)
					}
				}
			}
		})

		t.Run("held request does not make the sender visible", func(t *testing.T) {
			if got := closed.Do("GET", "/v1.0/users/"+alice.UserID, nil).Status; got != closedSeesAlice {
				t.Fatalf("a held request makes its sender visible to the target: GET /v1.0/users/{sender} answers %d, %d before", got, closedSeesAlice)
			}
		})

		// Nor does any admin's delivery list differ: TestS6_OutboxKeepsSilence.

		// Lift the refusals, then one message after the lift.
		closed.Must(http.StatusOK, "PATCH", "/parley/v1/me/settings", map[string]any{"allowChatsFromOrganizations": true})
		blocker.Must(http.StatusNoContent, "DELETE", "/parley/v1/me/blockedUsers/"+alice.UserID, nil)
		fabrikam.Admin.Must(http.StatusNoContent, "POST", "/parley/v1/admin/externalAccessPolicies/Global/grant", map[string]any{"userIds": []string{frank.UserID}})
		for _, c := range cases {
			send(c, "after the lift")
		}

		t.Run("lifted refusals deliver what follows", func(t *testing.T) {
			for _, c := range refusing {
				rq, ok := findRequest(mustRequests(t, c.target), c.chatID)
				if !ok {
					t.Errorf("%s: no request after the refusal was lifted", c.name)
					continue
				}
				if got := rq.previewTexts(); !slices.Equal(got, []string{"after the lift"}) {
					t.Errorf("%s: previews = %q, want only the message sent after the lift", c.name, got)
				}
				if rq.From.User["id"] != alice.UserID {
					t.Errorf("%s: request from %v, want alice", c.name, rq.From.User)
				}
				evs := c.target.Events(0).WaitFor("requestReceived", 5*time.Second, func(evs []parleytest.Event) bool {
					return slices.ContainsFunc(evs, func(e parleytest.Event) bool { return e.Type == "requestReceived" && e.ChatID == c.chatID })
				})
				for _, e := range evs {
					if e.Type == "messageCreated" && e.ChatID == c.chatID && strings.HasPrefix(messageText(e), "before") {
						t.Errorf("%s: the target got a message from before the lift: %v", c.name, e.Raw)
					}
				}
			}
			rq, _ := findRequest(mustRequests(t, pat), cases[0].chatID)
			if got := rq.previewTexts(); len(got) != 4 {
				t.Errorf("a: previews = %q, want all 4 messages", got)
			}
		})

		// Up to the cap of 10, and one more.
		for _, c := range cases {
			for i := range 7 {
				send(c, fmt.Sprintf("more %d", i+1))
			}
		}

		barrier := alice.OneOnOne(contoso.Admin.UserID)
		evs := alice.Events(0).WaitFor("the barrier chat", 10*time.Second, func(evs []parleytest.Event) bool {
			return slices.ContainsFunc(evs, func(e parleytest.Event) bool { return e.ChatID == barrier })
		})
		for _, c := range cases {
			for _, e := range evs {
				if e.ChatID == c.chatID {
					c.view.Events = append(c.view.Events, masked(e.Raw, c.addr))
				}
			}
		}

		want := cases[0].view
		if n := len(want.Sends); n != 11 || want.Sends[9] != "201 " || want.Sends[10] != "403 messageRequestLimitReached" {
			t.Errorf("a: sends = %q, want 10 × 201 then 403 messageRequestLimitReached", want.Sends)
		}
		var types []string
		for _, e := range want.Events {
			types = append(types, e.(map[string]any)["type"].(string))
		}
		if len(types) != 11 || types[0] != "chatCreated" || slices.ContainsFunc(types[1:], func(s string) bool { return s != "messageCreated" }) {
			t.Errorf("a: alice's events about the chat = %q, want chatCreated and 10 messageCreated, nothing about the target", types)
		}
		for _, c := range cases[1:] {
			if d := cmp.Diff(want, c.view); d != "" {
				t.Errorf("what alice sees of %q differs from %q (-%s +%s):\n%s", c.name, cases[0].name, cases[0].name, c.name, d)
			}
		}

		t.Run("creation latency", func(t *testing.T) {
			// Logged, not asserted (docs/decisions.md "Tests": no wall-clock assertions).
			const runs = 20
			var withAccount, without []time.Duration
			for i := range runs {
				sender := w.User(contoso, fmt.Sprintf("timer%02d", i), false)
				order := []bool{true, false}
				if i%2 == 1 {
					order = []bool{false, true}
				}
				for _, known := range order {
					addr := "timing-unknown@gmail.com"
					if known {
						addr = "pat@gmail.com"
					}
					start := time.Now()
					r := sender.ChatWith(parleytest.ByEmail(addr))
					d := time.Since(start)
					if r.Status != http.StatusCreated {
						t.Fatalf("create with %s: got %d %s", addr, r.Status, r.Body)
					}
					if known {
						withAccount = append(withAccount, d)
					} else {
						without = append(without, d)
					}
				}
			}
			t.Logf("%s: median creation time over %d runs: address with an account %v, without %v", store, runs, median(withAccount), median(without))
		})
	})
}

// TestS6_UserByIDAcrossTenants: a user of another tenant with no shared
// chat is not found by id, with the same answer as an id nobody has.
func TestS6_UserByIDAcrossTenants(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		s := parleytest.StartStore(t, store)
		contoso := s.CreateTenant("Contoso", "contoso.com")
		alice := s.User(contoso, "alice", false)
		fabrikam := s.CreateTenant("Fabrikam", "fabrikam.com")
		eve := s.User(fabrikam, "eve", false)
		const nobody = "01900000-0000-7000-8000-000000000000"
		r := alice.Do("GET", "/v1.0/users/"+eve.UserID, nil)
		if r.Status != http.StatusNotFound || r.ErrorCode() != "notFound" {
			t.Fatalf("GET another tenant's user: got %d %s, want 404 notFound", r.Status, r.Body)
		}
		u := alice.Do("GET", "/v1.0/users/"+nobody, nil)
		if got, want := strings.ReplaceAll(string(r.Body), eve.UserID, "<id>"), strings.ReplaceAll(string(u.Body), nobody, "<id>"); u.Status != r.Status || got != want {
			t.Errorf("another tenant's user: %d %s; an unknown id: %d %s; want the same answer", r.Status, got, u.Status, want)
		}
		if r := eve.Do("GET", "/v1.0/users/"+alice.UserID, nil); r.Status != http.StatusNotFound {
			t.Errorf("the other way: got %d %s, want 404", r.Status, r.Body)
		}
		if r := alice.Do("GET", "/v1.0/users/"+fabrikam.Admin.UserID, nil); r.Status != http.StatusNotFound {
			t.Errorf("another tenant's admin: got %d %s, want 404", r.Status, r.Body)
		}
	})
}

// eventsUntilBarrier has c start a chat of its own (the barrier), replays
// all of c's events from the start and returns those before the barrier's
// chatCreated: events are stored with their change and replayed in order,
// so anything c was ever sent before the barrier is in the list.
func eventsUntilBarrier(t *testing.T, c *parleytest.Client) []parleytest.Event {
	t.Helper()
	r := c.ChatWith(parleytest.ByEmail(fmt.Sprintf("barrier-%d@example.net", time.Now().UnixNano())))
	if r.Status != http.StatusCreated {
		t.Fatalf("barrier chat: got %d %s, want 201", r.Status, r.Body)
	}
	id := r.Map(t)["id"].(string)
	evs := c.Events(0).WaitFor("the barrier chat", 10*time.Second, func(evs []parleytest.Event) bool {
		return slices.ContainsFunc(evs, func(e parleytest.Event) bool { return e.ChatID == id })
	})
	i := slices.IndexFunc(evs, func(e parleytest.Event) bool { return e.ChatID == id })
	return evs[:i]
}

func messageText(e parleytest.Event) string {
	m, _ := e.Raw["message"].(map[string]any)
	b, _ := m["body"].(map[string]any)
	s, _ := b["content"].(string)
	return s
}

// masked returns a JSON value with ids, seqs and times masked (kept only
// as present or null) and the typed address replaced by "<addr>".
func masked(v any, addr string) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			switch {
			case val == nil:
				out[k] = nil
			case k == "id" || k == "chatId" || k == "etag" || k == "seq" || strings.HasSuffix(k, "DateTime"):
				out[k] = "<" + k + ">"
			default:
				out[k] = masked(val, addr)
			}
		}
		return out
	case []map[string]any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = masked(x[i], addr)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = masked(x[i], addr)
		}
		return out
	case string:
		return strings.ReplaceAll(x, addr, "<addr>")
	}
	return v
}

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
