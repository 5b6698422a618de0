package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
)

// lobbyLine is one entry of GET /parley/v1/meetings/{id}/lobby.
type lobbyLine struct {
	ID               string  `json:"id"`
	DisplayName      string  `json:"displayName"`
	UserIdentityType string  `json:"userIdentityType"`
	JoinedDateTime   string  `json:"joinedDateTime"`
	UserID           *string `json:"userId"`
	Email            *string `json:"email"`
	TenantID         *string `json:"tenantId"`
	IsExternal       bool    `json:"isExternal"`
	IsGuest          bool    `json:"isGuest"`
}

func lobbyOf(t *testing.T, c *parleytest.Client, meetingID string) []lobbyLine {
	t.Helper()
	var out struct {
		Value []lobbyLine `json:"value"`
	}
	c.Must(200, "GET", "/parley/v1/meetings/"+meetingID+"/lobby", nil).JSON(t, &out)
	return out.Value
}

// joinLink joins by link with c's own token and returns the state, or the
// error code when the status is not 200.
func joinByLink(t *testing.T, c *parleytest.Client, link string, want int) string {
	t.Helper()
	r := joinSigned(c, link)
	if r.Status != want {
		t.Fatalf("join by link as %s: %d %s, want %d", c.UserID, r.Status, r.Body, want)
	}
	if want != 200 {
		return r.ErrorCode()
	}
	out := r.Map(t)
	if out["participantId"] != c.UserID {
		t.Fatalf("join answer %v: participantId is not the joiner's id", out)
	}
	return out["state"].(string)
}

// waitDecided waits for the joiner's lobbyDecided event with state.
func waitDecided(ev *parleytest.Conn, meetingID, state string) {
	ev.WaitFor("lobbyDecided "+state, 10*time.Second, func(evs []parleytest.Event) bool {
		for _, e := range evs {
			if e.Type == "lobbyDecided" && e.Raw["state"] == state && e.Raw["meetingId"] == meetingID {
				return true
			}
		}
		return false
	})
}

// memberNames returns the display names of a chat's members as c sees them.
func memberNames(t *testing.T, c *parleytest.Client, thread string) []string {
	t.Helper()
	var out struct {
		Value []struct {
			DisplayName string `json:"displayName"`
		} `json:"value"`
	}
	c.Must(200, "GET", "/v1.0/chats/"+thread+"/members", nil).JSON(t, &out)
	var names []string
	for _, v := range out.Value {
		names = append(names, v.DisplayName)
	}
	return names
}

func count(ss []string, s string) int {
	n := 0
	for _, x := range ss {
		if x == s {
			n++
		}
	}
	return n
}

// TestMeetingLobbySignedIn: signed-in people who join a meeting by its link
// wait in the lobby as the host's lobbyBypass says (organizer: everyone but
// the organiser; organization: everyone but the host's members; everyone:
// nobody), cannot reach the meeting chat while they wait, show in the lobby
// with what tells them from anonymous people, and are admitted (joining the
// chat as the organiser's invitation would add them), denied or removed,
// told by events; external people and guests are decided by docs/rules.md
// §4 (rule 7 for guests) before they wait and again when admitted; only
// people who may admit see and decide the lobby, for their own meeting's
// entries only. Both stores.
func TestMeetingLobbySignedIn(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		e := newExternal(t, store)
		w := e.w
		carol := w.User(e.contoso, "carol", false)
		dave := w.User(e.contoso, "dave", false)

		t.Run("organizer: everyone but the organiser waits", func(t *testing.T) {
			meetingConfig(t, e.contoso.Admin, map[string]any{"lobbyBypass": "organizer"})
			m := meetingOf(t, e.alice, map[string]any{"subject": "Lobby"})
			id, thread, link := m["id"].(string), threadOf(m), m["joinWebUrl"].(string)
			if s := joinByLink(t, e.alice, link, 200); s != "admitted" {
				t.Fatalf("the organiser joins: %s", s)
			}
			orgEv := e.alice.Events(-1)
			carolEv := carol.Events(-1)
			if s := joinByLink(t, carol, link, 200); s != "lobby" {
				t.Fatalf("a host member under organizer: %s", s)
			}
			if s := joinByLink(t, carol, link, 200); s != "lobby" {
				t.Fatalf("joining twice from the lobby: %s", s)
			}
			orgEv.WaitCount("lobbyUpdated", 1, 10*time.Second)
			lobby := lobbyOf(t, e.alice, id)
			if len(lobby) != 1 {
				t.Fatalf("lobby: %+v", lobby)
			}
			if l := lobby[0]; l.ID != carol.UserID || l.UserID == nil || *l.UserID != carol.UserID || l.DisplayName != "Carol" ||
				l.UserIdentityType != "aadUser" || l.IsExternal || l.IsGuest || l.Email == nil || *l.Email != "carol@contoso.com" || l.JoinedDateTime == "" {
				t.Fatalf("a signed-in person in the lobby: %+v", l)
			}
			// Waiting: the meeting chat is out of reach.
			if r := carol.Do("GET", "/v1.0/chats/"+thread, nil); r.Status != 404 {
				t.Fatalf("the chat from the lobby: %d %s", r.Status, r.Body)
			}
			if r := carol.Do("GET", "/v1.0/chats/"+thread+"/messages", nil); r.Status != 404 {
				t.Fatalf("the messages from the lobby: %d %s", r.Status, r.Body)
			}
			if r := carol.Do("POST", "/v1.0/chats/"+thread+"/messages", map[string]any{"body": map[string]any{"content": "let me in"}}); r.Status != 404 {
				t.Fatalf("a post from the lobby: %d %s", r.Status, r.Body)
			}
			// Object-level: someone not in the meeting, and the organiser of
			// another meeting naming this entry, get 404; the waiting person
			// cannot see or decide the lobby.
			other := meetingOf(t, e.bob, map[string]any{"subject": "Elsewhere"})
			for _, c := range []*parleytest.Client{e.bob, carol} {
				if r := c.Do("GET", "/parley/v1/meetings/"+id+"/lobby", nil); r.Status != 404 {
					t.Fatalf("the lobby by someone not in the meeting: %d", r.Status)
				}
				if r := c.Do("POST", "/parley/v1/meetings/"+id+"/lobby/"+carol.UserID+"/admit", nil); r.Status != 404 {
					t.Fatalf("an admit by someone not in the meeting: %d", r.Status)
				}
			}
			if r := e.bob.Do("POST", "/parley/v1/meetings/"+other["id"].(string)+"/lobby/"+carol.UserID+"/admit", nil); r.Status != 404 {
				t.Fatalf("an admit of another meeting's entry: %d", r.Status)
			}
			if r := e.bob.Do("DELETE", "/parley/v1/meetings/"+other["id"].(string)+"/participants/"+carol.UserID, nil); r.Status != 404 {
				t.Fatalf("a removal of another meeting's entry: %d", r.Status)
			}
			// Admitted: in the chat, told; a second admit finds nobody.
			e.alice.Must(204, "POST", "/parley/v1/meetings/"+id+"/lobby/"+carol.UserID+"/admit", nil)
			if r := e.alice.Do("POST", "/parley/v1/meetings/"+id+"/lobby/"+carol.UserID+"/admit", nil); r.Status != 404 {
				t.Fatalf("admitting twice: %d", r.Status)
			}
			waitDecided(carolEv, id, "admitted")
			carolEv.WaitCount("chatCreated", 1, 10*time.Second)
			carol.Send(thread, "in from the lobby")
			if texts(t, e.alice, thread)[0] != "in from the lobby" {
				t.Fatal("the organiser does not read the admitted person")
			}
			if len(lobbyOf(t, e.alice, id)) != 0 {
				t.Fatal("the admitted person still waits")
			}
			if s := joinByLink(t, carol, link, 200); s != "admitted" {
				t.Fatalf("joining again once in: %s", s)
			}
			// Denied: told, still out, and nothing more to decide.
			daveEv := dave.Events(-1)
			if s := joinByLink(t, dave, link, 200); s != "lobby" {
				t.Fatalf("dave: %s", s)
			}
			e.alice.Must(204, "POST", "/parley/v1/meetings/"+id+"/lobby/"+dave.UserID+"/deny", nil)
			waitDecided(daveEv, id, "denied")
			if r := dave.Do("GET", "/v1.0/chats/"+thread, nil); r.Status != 404 {
				t.Fatalf("a denied person reads the chat: %d", r.Status)
			}
			for _, d := range []string{"admit", "deny"} {
				if r := e.alice.Do("POST", "/parley/v1/meetings/"+id+"/lobby/"+dave.UserID+"/"+d, nil); r.Status != 404 {
					t.Fatalf("%s after a deny: %d", d, r.Status)
				}
			}
			// Knocking again is a new wait; the organiser may remove it.
			if s := joinByLink(t, dave, link, 200); s != "lobby" {
				t.Fatalf("knocking again: %s", s)
			}
			e.alice.Must(204, "DELETE", "/parley/v1/meetings/"+id+"/participants/"+dave.UserID, nil)
			waitDecided(daveEv, id, "removed")
			if len(lobbyOf(t, e.alice, id)) != 0 {
				t.Fatal("a removed person still waits")
			}
			// The roster has the person who waited and left.
			var roster struct {
				Value []struct {
					ID, DisplayName, Role, State string
				} `json:"value"`
			}
			e.alice.Must(200, "GET", "/parley/v1/meetings/"+id+"/attendance", nil).JSON(t, &roster)
			got := map[string]string{}
			for _, v := range roster.Value {
				got[v.DisplayName] = v.Role + "/" + v.State
			}
			if got["Dave"] != "attendee/removed" || got["Carol"] != "attendee/accepted" {
				t.Fatalf("roster: %v", got)
			}
		})

		t.Run("organization: host members go in, guests and external people wait", func(t *testing.T) {
			meetingConfig(t, e.contoso.Admin, map[string]any{"lobbyBypass": "organization"})
			m := meetingOf(t, e.alice, map[string]any{"subject": "Inside"})
			id, thread, link := m["id"].(string), threadOf(m), m["joinWebUrl"].(string)
			if s := joinByLink(t, dave, link, 200); s != "admitted" {
				t.Fatalf("a host member under organization: %s", s)
			}
			// A guest waits, marked as a guest; admitted, they are in.
			guestEv := e.guest.Events(-1)
			if s := joinByLink(t, e.guest, link, 200); s != "lobby" {
				t.Fatalf("a guest under organization: %s", s)
			}
			// A host member in the meeting sees the lobby too.
			lobby := lobbyOf(t, dave, id)
			if len(lobby) != 1 || !lobby[0].IsGuest || lobby[0].IsExternal || lobby[0].UserIdentityType != "aadUser" {
				t.Fatalf("a guest in the lobby: %+v", lobby)
			}
			dave.Must(204, "POST", "/parley/v1/meetings/"+id+"/lobby/"+e.guest.UserID+"/admit", nil)
			waitDecided(guestEv, id, "admitted")
			e.guest.Send(thread, "guest here")
			// A guest in the meeting may not manage its lobby.
			if r := e.guest.Do("GET", "/parley/v1/meetings/"+id+"/lobby", nil); r.Status != 403 {
				t.Fatalf("a guest reads the lobby: %d", r.Status)
			}
			// docs/rules.md §4 rule 7: with a guest in it, no external person
			// may wait for this meeting; nobody learns more, nothing waits.
			if c := joinByLink(t, e.erin, link, 403); c != "forbiddenByPolicy" {
				t.Fatalf("an external person into a meeting with a guest: %s", c)
			}
			if len(lobbyOf(t, e.alice, id)) != 0 {
				t.Fatal("a refused person waits")
			}

			// An external person waits, marked external, and is admitted as an
			// invitation adds them: a message request for the meeting chat.
			ext := meetingOf(t, e.alice, map[string]any{"subject": "With Fabrikam"})
			xid, xthread, xlink := ext["id"].(string), threadOf(ext), ext["joinWebUrl"].(string)
			erinEv := e.erin.Events(-1)
			if s := joinByLink(t, e.erin, xlink, 200); s != "lobby" {
				t.Fatalf("an external person under organization: %s", s)
			}
			// A guest waiting at the same time is refused when admitted
			// after the external person (rule 7 decided again at admission).
			guestEv2 := e.guest.Events(-1)
			if s := joinByLink(t, e.guest, xlink, 200); s != "lobby" {
				t.Fatalf("a guest before anyone external is in: %s", s)
			}
			lobby = lobbyOf(t, e.alice, xid)
			if len(lobby) != 2 || lobby[0].ID != e.erin.UserID || !lobby[0].IsExternal || lobby[0].UserIdentityType != "federatedUser" || lobby[0].TenantID == nil {
				t.Fatalf("an external person in the lobby: %+v", lobby)
			}
			e.alice.Must(204, "POST", "/parley/v1/meetings/"+xid+"/lobby/"+e.erin.UserID+"/admit", nil)
			waitDecided(erinEv, xid, "admitted")
			if !hasRequest(t, e.erin, xthread) {
				t.Fatal("the admitted external person has no request for the meeting chat")
			}
			e.erin.Must(204, "POST", "/parley/v1/me/requests/"+xthread+"/accept", nil)
			e.erin.Send(xthread, "hello from fabrikam")
			if r := e.alice.Do("POST", "/parley/v1/meetings/"+xid+"/lobby/"+e.guest.UserID+"/admit", nil); r.Status != 403 || r.ErrorCode() != "forbiddenByPolicy" {
				t.Fatalf("admitting a guest into an external meeting: %d %s", r.Status, r.Body)
			}
			waitDecided(guestEv2, xid, "denied")
			if r := e.guest.Do("GET", "/v1.0/chats/"+xthread, nil); r.Status != 404 {
				t.Fatalf("a guest refused at admission reads the chat: %d", r.Status)
			}
			if c := joinByLink(t, e.guest, xlink, 403); c != "forbiddenByPolicy" {
				t.Fatalf("a guest knocking on an external meeting: %s", c)
			}
		})

		t.Run("everyone: nobody waits", func(t *testing.T) {
			meetingConfig(t, e.contoso.Admin, map[string]any{"lobbyBypass": "everyone"})
			defer meetingConfig(t, e.contoso.Admin, map[string]any{"lobbyBypass": "organization"})
			m := meetingOf(t, e.alice, map[string]any{"subject": "Open"})
			id, thread, link := m["id"].(string), threadOf(m), m["joinWebUrl"].(string)
			if s := joinByLink(t, carol, link, 200); s != "admitted" {
				t.Fatalf("a host member under everyone: %s", s)
			}
			if s := joinByLink(t, e.pat, link, 200); s != "pending" || !hasRequest(t, e.pat, thread) {
				t.Fatalf("a personal account under everyone: %s", s)
			}
			// Refused by policy even so: the organiser's own side.
			federation(t, e.contoso.Admin, map[string]any{"allowTeamsConsumer": false})
			if c := joinByLink(t, e.quinn, link, 403); c != "forbiddenByPolicy" {
				t.Fatalf("a personal account when the host refuses them: %s", c)
			}
			federation(t, e.contoso.Admin, map[string]any{"allowTeamsConsumer": true})
			if len(lobbyOf(t, e.alice, id)) != 0 {
				t.Fatal("someone waits under everyone")
			}
		})

		t.Run("external people are decided by policy before they wait", func(t *testing.T) {
			m := meetingOf(t, e.alice, map[string]any{"subject": "Policy"})
			id, thread, link := m["id"].(string), threadOf(m), m["joinWebUrl"].(string)
			// Allowed: a personal account waits.
			if s := joinByLink(t, e.quinn, link, 200); s != "lobby" {
				t.Fatalf("a personal account under organization: %s", s)
			}
			// Refused by the other side's organisation: the joiner is told
			// only that they cannot join; the organiser sees nobody.
			federation(t, e.fabrikam.Admin, map[string]any{"blockedDomains": []string{"contoso.com"}})
			ivan := w.User(e.fabrikam, "ivan", false)
			if c := joinByLink(t, ivan, link, 403); c != "forbiddenByPolicy" {
				t.Fatalf("across a blocked domain: %s", c)
			}
			// Refused on the organiser's own side.
			federation(t, e.contoso.Admin, map[string]any{"allowTeamsConsumer": false})
			if c := joinByLink(t, e.pat, link, 403); c != "forbiddenByPolicy" {
				t.Fatalf("a personal account when the host refuses them: %s", c)
			}
			lobby := lobbyOf(t, e.alice, id)
			if len(lobby) != 1 || lobby[0].ID != e.quinn.UserID || lobby[0].UserIdentityType != "personalMicrosoftAccountUser" {
				t.Fatalf("lobby after refusals: %+v", lobby)
			}
			// A policy change while someone waits is decided at admission:
			// the admitter hears what an invitation would answer, the person
			// is sent away and nothing reaches them.
			if r := e.alice.Do("POST", "/parley/v1/meetings/"+id+"/lobby/"+e.quinn.UserID+"/admit", nil); r.Status != 403 || r.ErrorCode() != "forbiddenByPolicy" {
				t.Fatalf("admitting someone the host now refuses: %d %s", r.Status, r.Body)
			}
			if hasRequest(t, e.quinn, thread) || len(lobbyOf(t, e.alice, id)) != 0 {
				t.Fatal("a refused admission reached its person or left them waiting")
			}
			federation(t, e.contoso.Admin, map[string]any{"allowTeamsConsumer": true})
			federation(t, e.fabrikam.Admin, map[string]any{"blockedDomains": []string{}})
			// Audited: an outside person joining by link.
			if !strings.Contains(e.contoso.Admin.Must(200, "GET", "/parley/v1/admin/audit", nil).Body2(), "meeting.joinedByLink") {
				t.Error("audit has no meeting.joinedByLink")
			}
		})

		t.Run("a refusal the organiser may not learn: they wait, the admission is held", func(t *testing.T) {
			// The joiner's own policy refuses federation: account-level, so
			// silent to the organiser (docs/rules.md §4); the organiser sees a
			// person waiting and, admitted, pending as an invitation shows them.
			dora := w.User(e.fabrikam, "dora", false)
			policyFor(t, e.fabrikam.Admin, "NoFed", dora.UserID, map[string]any{"enableFederationAccess": false})
			m := meetingOf(t, e.alice, map[string]any{"subject": "Silence"})
			id, thread, link := m["id"].(string), threadOf(m), m["joinWebUrl"].(string)
			if s := joinByLink(t, dora, link, 200); s != "lobby" {
				t.Fatalf("a joiner whose own policy refuses: %s", s)
			}
			e.alice.Must(204, "POST", "/parley/v1/meetings/"+id+"/lobby/"+dora.UserID+"/admit", nil)
			if hasRequest(t, dora, thread) || dora.Do("GET", "/v1.0/chats/"+thread, nil).Status != 404 {
				t.Fatal("a held admission reached its person")
			}
			var roster struct {
				Value []struct{ DisplayName, State string } `json:"value"`
			}
			e.alice.Must(200, "GET", "/parley/v1/meetings/"+id+"/attendance", nil).JSON(t, &roster)
			found := false
			for _, v := range roster.Value {
				if v.State == "pending" && v.DisplayName == "dora@fabrikam.com" {
					found = true
				}
			}
			if !found {
				t.Fatalf("the held person in the roster: %+v", roster.Value)
			}
		})

		t.Run("the meeting's end ends the waits", func(t *testing.T) {
			meetingConfig(t, e.contoso.Admin, map[string]any{"lobbyBypass": "organizer"})
			defer meetingConfig(t, e.contoso.Admin, map[string]any{"lobbyBypass": "organization"})
			m := meetingOf(t, e.alice, map[string]any{"subject": "Short"})
			id, link := m["id"].(string), m["joinWebUrl"].(string)
			ev := dave.Events(-1)
			if s := joinByLink(t, dave, link, 200); s != "lobby" {
				t.Fatalf("dave: %s", s)
			}
			e.alice.Must(204, "DELETE", "/v1.0/me/onlineMeetings/"+id, nil)
			waitDecided(ev, id, "ended")
			if r := joinSigned(dave, link); r.Status != 404 {
				t.Fatalf("joining an ended meeting: %d", r.Status)
			}
		})
	})
}

// TestMeetingLobbyConcurrentDecisions: decisions on one lobby entry sent
// together from a barrier: exactly one admit wins (the others answer 404)
// and the person is in the meeting chat once; of admits and denies
// together, exactly one decides. Both stores.
func TestMeetingLobbyConcurrentDecisions(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := parleytest.StartStore(t, store)
		ten := w.CreateTenant("Contoso", "contoso.com")
		alice := w.User(ten, "alice", false)
		carol := w.User(ten, "carol", false)
		dave := w.User(ten, "dave", false)
		meetingConfig(t, ten.Admin, map[string]any{"lobbyBypass": "organizer"})
		m := meetingOf(t, alice, map[string]any{"subject": "Crowd"})
		id, thread, link := m["id"].(string), threadOf(m), m["joinWebUrl"].(string)
		const n = 12
		base := w.URL() + "/parley/v1/meetings/" + id + "/lobby/"

		if s := joinByLink(t, carol, link, 200); s != "lobby" {
			t.Fatalf("carol: %s", s)
		}
		var reqs []parleytest.Req
		for range n {
			reqs = append(reqs, parleytest.Req{Method: "POST", URL: base + carol.UserID + "/admit", Token: alice.Token})
		}
		if got := parleytest.Statuses(parleytest.Burst(t, reqs)); got[204] != 1 || got[404] != n-1 {
			t.Fatalf("%d admits at once: %v, want one 204 and the rest 404", n, got)
		}
		if names := memberNames(t, alice, thread); count(names, "Carol") != 1 {
			t.Fatalf("members after admits at once: %v", names)
		}

		if s := joinByLink(t, dave, link, 200); s != "lobby" {
			t.Fatalf("dave: %s", s)
		}
		reqs = reqs[:0]
		for i := range n {
			d := "admit"
			if i%2 == 1 {
				d = "deny"
			}
			reqs = append(reqs, parleytest.Req{Method: "POST", URL: base + dave.UserID + "/" + d, Token: alice.Token})
		}
		if got := parleytest.Statuses(parleytest.Burst(t, reqs)); got[204] != 1 || got[404] != n-1 {
			t.Fatalf("admits and denies at once: %v, want one 204 and the rest 404", got)
		}
		if names := memberNames(t, alice, thread); count(names, "Dave") > 1 {
			t.Fatalf("members after admits and denies at once: %v", names)
		}

		// Joins of one person at once enter the lobby once.
		erin := w.User(ten, "erin", false)
		reqs = reqs[:0]
		body := []byte(`{"joinWebUrl":"` + link + `"}`)
		for range 6 {
			reqs = append(reqs, parleytest.Req{Method: "POST", URL: w.URL() + "/parley/v1/meetings/join", Token: erin.Token, JSON: body})
		}
		if got := parleytest.Statuses(parleytest.Burst(t, reqs)); got[200] != 6 {
			t.Fatalf("joins at once: %v", got)
		}
		var lobby []string
		for _, l := range lobbyOf(t, alice, id) {
			lobby = append(lobby, l.ID)
		}
		if count(lobby, erin.UserID) != 1 {
			t.Fatalf("lobby after joins at once: %v", lobby)
		}
	})
}

// auditActions returns the actions of the tenant's audit records whose
// target is target.
func auditActions(t *testing.T, admin *parleytest.Client, target string) []string {
	t.Helper()
	var recs struct {
		Value []map[string]any `json:"value"`
	}
	admin.Must(200, "GET", "/parley/v1/admin/audit?$top=50", nil).JSON(t, &recs)
	var out []string
	for _, r := range recs.Value {
		if r["target"] == target {
			out = append(out, r["action"].(string))
		}
	}
	return out
}

// TestMeetingObjectIDs: every meeting id, lobby entry and participant id in
// a path is checked against the caller and the meeting in the path: the
// organiser of one meeting cannot reach another's people through their own
// meeting's id, and someone not in a meeting gets 404 for all of it; the
// audit log records meetings with external and anonymous people and not
// internal ones. Both stores.
func TestMeetingObjectIDs(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		e := newExternal(t, store)
		meetingConfig(t, e.contoso.Admin, map[string]any{"lobbyBypass": "organizer"})
		a := meetingOf(t, e.alice, map[string]any{"subject": "A", "participants": map[string]any{"attendees": []any{map[string]any{"upn": "erin@fabrikam.com"}}}})
		aid, athread, alink := a["id"].(string), threadOf(a), a["joinWebUrl"].(string)
		b := meetingOf(t, e.bob, map[string]any{"subject": "B"})
		bid := b["id"].(string)
		anna, _ := joinAs(t, e.w, alink, "Anna") // waits in A
		carl, _ := joinAs(t, e.w, alink, "Carl") // admitted to A
		e.alice.Must(204, "POST", "/parley/v1/meetings/"+aid+"/lobby/"+carl.UserID+"/admit", nil)
		if s := joinByLink(t, e.pat, alink, 200); s != "lobby" { // a signed-in person waits in A
			t.Fatalf("pat: %s", s)
		}

		// B's organiser, through B's id, reaches nobody of A.
		for _, who := range []string{anna.UserID, carl.UserID, e.pat.UserID, e.erin.UserID, e.alice.UserID} {
			for _, d := range []string{"admit", "deny"} {
				if r := e.bob.Do("POST", "/parley/v1/meetings/"+bid+"/lobby/"+who+"/"+d, nil); r.Status != 404 {
					t.Errorf("%s of A's %s through B: %d %s", d, who, r.Status, r.Body)
				}
			}
			if r := e.bob.Do("DELETE", "/parley/v1/meetings/"+bid+"/participants/"+who, nil); r.Status != 404 {
				t.Errorf("removing A's %s through B: %d %s", who, r.Status, r.Body)
			}
		}
		// Someone not in A: 404 for every path of A.
		for _, q := range [][2]string{{"GET", "/v1.0/me/onlineMeetings/" + aid}, {"PATCH", "/v1.0/me/onlineMeetings/" + aid}, {"DELETE", "/v1.0/me/onlineMeetings/" + aid},
			{"GET", "/parley/v1/meetings/" + aid + "/lobby"}, {"GET", "/parley/v1/meetings/" + aid + "/attendance"},
			{"POST", "/parley/v1/meetings/" + aid + "/participants"}, {"DELETE", "/parley/v1/meetings/" + aid + "/participants/" + anna.UserID},
			{"POST", "/parley/v1/meetings/" + aid + "/renewJoinLink"}, {"POST", "/parley/v1/meetings/" + aid + "/lobby/" + anna.UserID + "/admit"},
			{"POST", "/parley/v1/meetings/" + aid + "/lobby/" + e.pat.UserID + "/deny"}, {"GET", "/v1.0/chats/" + athread}} {
			var body any
			switch {
			case q[0] == "PATCH":
				body = map[string]any{"subject": "x"}
			case strings.HasSuffix(q[1], "/participants"):
				body = map[string]any{"email": "dave@contoso.com"}
			}
			if r := e.bob.Do(q[0], q[1], body); r.Status != 404 {
				t.Errorf("%s %s by someone not in the meeting: %d %s", q[0], q[1], r.Status, r.Body)
			}
		}
		// Nothing changed: A's people are where they were.
		lobby := lobbyOf(t, e.alice, aid)
		if len(lobby) != 2 || lobby[0].ID != anna.UserID || lobby[1].ID != e.pat.UserID {
			t.Fatalf("A's lobby after the refusals: %+v", lobby)
		}
		carl.Must(200, "GET", "/v1.0/chats/"+athread, nil)
		// The allowed way, for comparison: A's organiser removes them.
		e.alice.Must(204, "DELETE", "/parley/v1/meetings/"+aid+"/participants/"+anna.UserID, nil)
		e.alice.Must(204, "DELETE", "/parley/v1/meetings/"+aid+"/participants/"+e.pat.UserID, nil)
		if len(lobbyOf(t, e.alice, aid)) != 0 {
			t.Fatal("A's lobby after its organiser removed them")
		}

		// Audit: A (external and anonymous people) is recorded, B (internal) is not.
		got := strings.Join(auditActions(t, e.contoso.Admin, aid), " ")
		for _, want := range []string{"meeting.externalCreated", "meeting.anonymousJoined", "meeting.lobbyAdmitted", "meeting.joinedByLink", "meeting.anonymousRemoved"} {
			if !strings.Contains(got, want) {
				t.Errorf("A's audit records %q lack %s", got, want)
			}
		}
		if got := auditActions(t, e.contoso.Admin, bid); len(got) != 0 {
			t.Errorf("an internal meeting nobody joined is audited: %v", got)
		}
	})
}

// TestMeetingGuestsStayInside: docs/rules.md §4 rule 7 for meetings the
// organiser invites to: a guest of the host is invited into an internal
// meeting (allowed) but not into one with people of another organisation
// or personal accounts, and no outside person into a meeting that holds a
// guest (refused, forbiddenByPolicy, nothing added), whether at creation or
// later. Both stores.
func TestMeetingGuestsStayInside(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		e := newExternal(t, store)
		// Allowed: a guest in an internal meeting reads and posts.
		in := meetingOf(t, e.alice, map[string]any{"subject": "Inside", "participants": map[string]any{"attendees": []any{map[string]any{"upn": "gus@gmail.com"}}}})
		e.guest.Send(threadOf(in), "guest here")
		// Refused later: an outside person into a meeting with a guest.
		for _, addr := range []string{"erin@fabrikam.com", "pat@gmail.com"} {
			r := e.alice.Do("POST", "/parley/v1/meetings/"+in["id"].(string)+"/participants", map[string]any{"email": addr})
			if r.Status != 403 || r.ErrorCode() != "forbiddenByPolicy" {
				t.Fatalf("inviting %s into a meeting with a guest: %d %s", addr, r.Status, r.Body)
			}
		}
		if hasRequest(t, e.erin, threadOf(in)) || hasRequest(t, e.pat, threadOf(in)) {
			t.Fatal("a refused invitation reached its person")
		}
		// Refused later: a guest into a meeting with an outside person.
		ext := meetingOf(t, e.alice, map[string]any{"subject": "With Fabrikam", "participants": map[string]any{"attendees": []any{map[string]any{"upn": "erin@fabrikam.com"}}}})
		r := e.alice.Do("POST", "/parley/v1/meetings/"+ext["id"].(string)+"/participants", map[string]any{"userId": e.guest.UserID})
		if r.Status != 403 || r.ErrorCode() != "forbiddenByPolicy" {
			t.Fatalf("inviting a guest into an external meeting: %d %s", r.Status, r.Body)
		}
		if e.guest.Do("GET", "/v1.0/chats/"+threadOf(ext), nil).Status != 404 {
			t.Fatal("a refused guest reads the external meeting chat")
		}
		// Refused at creation: both at once.
		r = e.alice.Do("POST", "/v1.0/me/onlineMeetings", map[string]any{"subject": "Mixed", "participants": map[string]any{"attendees": []any{
			map[string]any{"upn": "gus@gmail.com"}, map[string]any{"upn": "erin@fabrikam.com"}}}})
		if r.Status != 403 || r.ErrorCode() != "forbiddenByPolicy" {
			t.Fatalf("creating a meeting with a guest and an outside person: %d %s", r.Status, r.Body)
		}
	})
}

// TestMeetingSignedInJoinLimit: joins by link with a token count against
// the same per-address limit as anonymous joins (docs/rules.md §10):
// allowed within it, 429 rateLimited past it, nothing joined. Both stores.
func TestMeetingSignedInJoinLimit(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := parleytest.StartStore(t, store)
		ten := w.CreateTenant("Contoso", "contoso.com")
		alice := w.User(ten, "alice", false)
		carol := w.User(ten, "carol", false)
		dave := w.User(ten, "dave", false)
		var links []string
		for range 2 {
			links = append(links, meetingOf(t, alice, map[string]any{"subject": "m"})["joinWebUrl"].(string))
		}
		if s := joinByLink(t, carol, links[0], 200); s != "admitted" {
			t.Fatalf("carol within the limit: %s", s)
		}
		for i := range 29 {
			w.Anonymous().Must(202, "POST", "/parley/v1/meetings/join", map[string]any{"joinWebUrl": links[i%2], "displayName": "Guest"})
		}
		r := joinSigned(dave, links[1])
		if r.Status != 429 || r.ErrorCode() != "rateLimited" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("a signed-in join past the per-address limit: %d %s", r.Status, r.Body)
		}
		if strings.Contains(dave.Must(200, "GET", "/v1.0/me/chats", nil).Body2(), `"chatType":"meeting"`) {
			t.Fatal("a refused join added dave to a meeting chat")
		}
	})
}

// TestMeetingChatReadOnlyAtOnce: docs/rules.md §4 on a meeting chat with an
// external person: when the other side's organisation stops accepting the
// host's, the meeting chat turns read-only at once for both sides (sends
// refused with chatReadOnly, open clients told), history stays readable,
// and turning it back makes it writable (told too). A person let in from
// the lobby is held to it like one invited. Both stores.
func TestMeetingChatReadOnlyAtOnce(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		e := newExternal(t, store)
		m := meetingOf(t, e.alice, map[string]any{"subject": "Across"})
		id, thread, link := m["id"].(string), threadOf(m), m["joinWebUrl"].(string)
		if s := joinByLink(t, e.erin, link, 200); s != "lobby" {
			t.Fatalf("erin: %s", s)
		}
		e.alice.Must(204, "POST", "/parley/v1/meetings/"+id+"/lobby/"+e.erin.UserID+"/admit", nil)
		e.erin.Must(204, "POST", "/parley/v1/me/requests/"+thread+"/accept", nil)
		e.erin.Send(thread, "before")
		aliceEv, erinEv := e.alice.Events(-1), e.erin.Events(-1)

		federation(t, e.fabrikam.Admin, map[string]any{"allowFederatedUsers": false})
		aliceEv.WaitCount("chatReadOnly", 1, 10*time.Second)
		erinEv.WaitCount("chatReadOnly", 1, 10*time.Second)
		for _, c := range []*parleytest.Client{e.alice, e.erin} {
			r := c.Do("POST", "/v1.0/chats/"+thread+"/messages", map[string]any{"body": map[string]any{"content": "blocked?"}})
			if r.Status != 403 || r.ErrorCode() != "chatReadOnly" {
				t.Fatalf("a send in the read-only meeting chat: %d %s", r.Status, r.Body)
			}
			if texts(t, c, thread)[0] != "before" {
				t.Fatal("history is not readable in the read-only meeting chat")
			}
		}

		federation(t, e.fabrikam.Admin, map[string]any{"allowFederatedUsers": true})
		aliceEv.WaitCount("chatWritable", 1, 10*time.Second)
		erinEv.WaitCount("chatWritable", 1, 10*time.Second)
		e.erin.Send(thread, "after")
		e.alice.Send(thread, "welcome back")
	})
}
