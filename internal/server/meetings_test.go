package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
)

// meeting creates a meeting as c and returns its answer.
func meetingOf(t *testing.T, c *parleytest.Client, body map[string]any) map[string]any {
	t.Helper()
	return c.Must(201, "POST", "/v1.0/me/onlineMeetings", body).Map(t)
}

func threadOf(m map[string]any) string { return m["chatInfo"].(map[string]any)["threadId"].(string) }

// joinAs joins a meeting anonymously through its link and returns a client
// holding the session's token and the join answer.
func joinAs(t *testing.T, w *parleytest.World, link, name string) (*parleytest.Client, map[string]any) {
	t.Helper()
	r := w.Anonymous().Must(202, "POST", "/parley/v1/meetings/join", map[string]any{"joinWebUrl": link, "displayName": name})
	out := r.Map(t)
	c := w.Anonymous()
	c.Token = out["access_token"].(string)
	c.UserID = out["participantId"].(string)
	return c, out
}

func meetingConfig(t *testing.T, admin *parleytest.Client, patch map[string]any) {
	t.Helper()
	admin.Must(200, "PATCH", "/parley/v1/admin/meetingConfiguration", patch)
}

// expect401 asserts every request answers 401 unauthenticated, as for no token.
func expect401(t *testing.T, c *parleytest.Client, reqs [][2]string) {
	t.Helper()
	for _, q := range reqs {
		var body any
		if q[0] == "POST" || q[0] == "PATCH" {
			body = map[string]any{"body": map[string]any{"content": "x"}}
		}
		r := c.Do(q[0], q[1], body)
		if r.Status != 401 || r.ErrorCode() != "unauthenticated" {
			t.Errorf("%s %s with an anonymous meeting token: %d %s, want 401 unauthenticated", q[0], q[1], r.Status, r.Body)
		}
	}
}

func lobbyIDs(t *testing.T, c *parleytest.Client, meetingID string) []string {
	t.Helper()
	var out struct {
		Value []struct {
			ID             string `json:"id"`
			DisplayName    string `json:"displayName"`
			JoinedDateTime string `json:"joinedDateTime"`
		} `json:"value"`
	}
	c.Must(200, "GET", "/parley/v1/meetings/"+meetingID+"/lobby", nil).JSON(t, &out)
	var ids []string
	for _, v := range out.Value {
		if !strings.HasSuffix(v.DisplayName, " (Unverified)") || v.JoinedDateTime == "" {
			t.Fatalf("lobby entry %+v: want the typed name with (Unverified) and joinedDateTime", v)
		}
		ids = append(ids, v.ID)
	}
	return ids
}

// TestMeetings drives docs/rules.md §8 meetings through the HTTP API on both stores:
// the onlineMeeting resource, invitations decided by docs/rules.md §4 (allowed, held
// silently, refused), the meeting chat, anonymous join under the host's
// settings, the lobby, the scoped anonymous session and its end, link
// renewal and read-only after a policy change.
func TestMeetings(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		e := newExternal(t, store)
		w := e.w
		start := time.Now().UTC().Add(time.Hour).Truncate(time.Second)

		t.Run("create get patch delete", func(t *testing.T) {
			m := meetingOf(t, e.alice, map[string]any{"subject": "Plan", "startDateTime": start.Format(time.RFC3339), "endDateTime": start.Add(30 * time.Minute).Format(time.RFC3339)})
			id, thread := m["id"].(string), threadOf(m)
			if m["subject"] != "Plan" || !strings.Contains(m["joinWebUrl"].(string), "/meet/") || !strings.HasPrefix(thread, "19:meeting_") {
				t.Fatalf("meeting: %v", m)
			}
			org := m["participants"].(map[string]any)["organizer"].(map[string]any)["identity"].(map[string]any)["user"].(map[string]any)
			if org["id"] != e.alice.UserID {
				t.Fatalf("organizer: %v", org)
			}
			c := e.alice.Must(200, "GET", "/v1.0/chats/"+thread, nil).Map(t)
			if c["chatType"] != "meeting" || c["topic"] != "Plan" {
				t.Fatalf("meeting chat: %v", c)
			}
			e.alice.Send(thread, "agenda")
			if !strings.Contains(e.alice.Must(200, "GET", "/v1.0/me/chats", nil).Body2(), thread) {
				t.Fatal("the meeting chat is not in the organiser's chat list")
			}
			// Only the organiser sees the meeting; anyone else: 404.
			for _, c := range []*parleytest.Client{e.bob, e.erin, e.contoso.Admin} {
				for _, method := range []string{"GET", "PATCH", "DELETE"} {
					if r := c.Do(method, "/v1.0/me/onlineMeetings/"+id, map[string]any{"subject": "x"}); r.Status != 404 {
						t.Fatalf("%s by another user: %d %s", method, r.Status, r.Body)
					}
				}
				if r := c.Do("GET", "/v1.0/chats/"+thread, nil); r.Status != 404 {
					t.Fatalf("the meeting chat by someone not in it: %d", r.Status)
				}
			}
			got := e.alice.Must(200, "PATCH", "/v1.0/me/onlineMeetings/"+id, map[string]any{"subject": "Plan B"}).Map(t)
			if got["subject"] != "Plan B" || got["startDateTime"] != m["startDateTime"] {
				t.Fatalf("patch: %v", got)
			}
			if c := e.alice.Must(200, "GET", "/v1.0/chats/"+thread, nil).Map(t); c["topic"] != "Plan B" {
				t.Fatalf("the chat topic does not follow the subject: %v", c["topic"])
			}
			// Bad input changes nothing.
			for _, body := range []map[string]any{{"endDateTime": start.Add(-time.Hour).Format(time.RFC3339)}, {"startDateTime": "tomorrow"}, {"subject": strings.Repeat("x", 300)}} {
				if r := e.alice.Do("PATCH", "/v1.0/me/onlineMeetings/"+id, body); r.Status != 400 || r.ErrorCode() != "badRequest" {
					t.Fatalf("bad patch %v: %d %s", body, r.Status, r.Body)
				}
			}
			if g := e.alice.Must(200, "GET", "/v1.0/me/onlineMeetings/"+id, nil).Map(t); g["subject"] != "Plan B" || g["endDateTime"] != m["endDateTime"] {
				t.Fatalf("a refused patch changed the meeting: %v", g)
			}
			e.alice.Must(204, "DELETE", "/v1.0/me/onlineMeetings/"+id, nil)
			e.alice.Must(404, "GET", "/v1.0/me/onlineMeetings/"+id, nil)
			// The chat stays with its history.
			if texts(t, e.alice, thread)[0] != "agenda" {
				t.Fatal("the meeting chat lost its history")
			}
		})

		t.Run("invitations are decided as chats", func(t *testing.T) {
			// Allowed: a host member joins at once, an external person gets a request.
			m := meetingOf(t, e.alice, map[string]any{"subject": "Review", "participants": map[string]any{"attendees": []any{
				map[string]any{"upn": "bob@contoso.com"}, map[string]any{"upn": "erin@fabrikam.com"}}}})
			thread := threadOf(m)
			if as := m["participants"].(map[string]any)["attendees"].([]any); len(as) != 2 {
				t.Fatalf("attendees: %v", as)
			}
			e.alice.Send(thread, "welcome")
			if texts(t, e.bob, thread)[0] != "welcome" {
				t.Fatal("an invited host member does not read the meeting chat")
			}
			if !hasRequest(t, e.erin, thread) {
				t.Fatal("the external invitee has no request")
			}
			e.erin.Must(204, "POST", "/parley/v1/me/requests/"+thread+"/accept", nil)
			e.erin.Send(thread, "hi from fabrikam")
			// Held silently: the target's own policy refuses; the organiser
			// sees the address pending, as for any chat (docs/rules.md §4 rule of silence).
			dora := w.User(e.fabrikam, "dora", false)
			policyFor(t, e.fabrikam.Admin, "NoFed", dora.UserID, map[string]any{"enableFederationAccess": false})
			mid := m["id"].(string)
			mem := e.alice.Must(201, "POST", "/parley/v1/meetings/"+mid+"/participants", map[string]any{"email": "dora@fabrikam.com"}).Map(t)
			if mem["requestState"] != "pending" || mem["displayName"] != "dora@fabrikam.com" || mem["userId"] != nil {
				t.Fatalf("held invitee as the organiser sees them: %v", mem)
			}
			if hasRequest(t, dora, thread) || dora.Do("GET", "/v1.0/chats/"+thread, nil).Status != 404 {
				t.Fatal("a held invitation reached its target")
			}
			// A personal account is invited as a chat would invite it.
			e.alice.Must(201, "POST", "/parley/v1/meetings/"+mid+"/participants", map[string]any{"email": "pat@gmail.com"})
			if !hasRequest(t, e.pat, thread) {
				t.Fatal("the personal invitee has no request")
			}
			// Refused, organisation-wide on the other side: recipientUnavailable, nothing added.
			federation(t, e.fabrikam.Admin, map[string]any{"blockedDomains": []string{"contoso.com"}})
			ivan := w.User(e.fabrikam, "ivan", false)
			r := e.alice.Do("POST", "/parley/v1/meetings/"+mid+"/participants", map[string]any{"email": "ivan@fabrikam.com"})
			if r.Status != 403 || r.ErrorCode() != "recipientUnavailable" {
				t.Fatalf("invite across a blocked domain: %d %s", r.Status, r.Body)
			}
			if hasRequest(t, ivan, thread) {
				t.Fatal("a refused invitation reached its target")
			}
			// docs/rules.md §4: the accepted external person's chat is read-only now, with the reason on their side.
			r = e.erin.Do("POST", "/v1.0/chats/"+thread+"/messages", map[string]any{"body": map[string]any{"content": "still here?"}})
			if r.Status != 403 || r.ErrorCode() != "chatReadOnly" {
				t.Fatalf("send after the other side blocked: %d %s", r.Status, r.Body)
			}
			federation(t, e.fabrikam.Admin, map[string]any{"blockedDomains": []string{}})
			e.erin.Send(thread, "back")
			// Refused on the organiser's own side: forbiddenByPolicy through the Graph members path too.
			federation(t, e.contoso.Admin, map[string]any{"allowTeamsConsumer": false})
			r = e.alice.Do("POST", "/v1.0/chats/"+thread+"/members", parleytest.ByEmail("quinn@outlook.com"))
			if r.Status != 403 || r.ErrorCode() != "forbiddenByPolicy" {
				t.Fatalf("own side refuses personal accounts: %d %s", r.Status, r.Body)
			}
			federation(t, e.contoso.Admin, map[string]any{"allowTeamsConsumer": true})
			// Only the organiser invites.
			if r := e.bob.Do("POST", "/v1.0/chats/"+thread+"/members", parleytest.ByEmail("carol@contoso.com")); r.Status != 403 {
				t.Fatalf("an attendee invites: %d %s", r.Status, r.Body)
			}
			if r := e.bob.Do("POST", "/parley/v1/meetings/"+mid+"/participants", map[string]any{"email": "carol@contoso.com"}); r.Status != 404 {
				t.Fatalf("an attendee invites through the meeting: %d %s", r.Status, r.Body)
			}
		})

		t.Run("anonymous join, lobby, scope and end", func(t *testing.T) {
			m := meetingOf(t, e.alice, map[string]any{"subject": "Open house", "participants": map[string]any{"attendees": []any{
				map[string]any{"upn": "bob@contoso.com"}, map[string]any{"upn": "gus@gmail.com"}}}})
			id, thread, link := m["id"].(string), threadOf(m), m["joinWebUrl"].(string)
			other := e.alice.OneOnOne(e.bob.UserID)

			// Default lobbyBypass organization: anonymous people wait.
			anna, out := joinAs(t, w, link, "Anna")
			if out["state"] != "lobby" || out["chatInfo"].(map[string]any)["threadId"] != thread {
				t.Fatalf("join: %v", out)
			}
			for _, p := range []string{"/v1.0/chats/" + thread, "/v1.0/chats/" + thread + "/messages", "/v1.0/chats/" + thread + "/members"} {
				if r := anna.Do("GET", p, nil); r.Status != 403 {
					t.Fatalf("%s from the lobby: %d %s", p, r.Status, r.Body)
				}
			}
			if ids := lobbyIDs(t, e.alice, id); len(ids) != 1 || ids[0] != anna.UserID {
				t.Fatalf("lobby: %v", ids)
			}
			// A host member in the meeting sees the lobby; a guest in it is
			// forbidden; a host member not in it gets 404.
			lobbyIDs(t, e.bob, id)
			if r := e.guest.Do("GET", "/parley/v1/meetings/"+id+"/lobby", nil); r.Status != 403 {
				t.Fatalf("a guest reads the lobby: %d", r.Status)
			}
			if r := e.contoso.Admin.Do("GET", "/parley/v1/meetings/"+id+"/lobby", nil); r.Status != 404 {
				t.Fatalf("someone not in the meeting reads the lobby: %d", r.Status)
			}
			if r := e.contoso.Admin.Do("POST", "/parley/v1/meetings/"+id+"/lobby/"+anna.UserID+"/admit", nil); r.Status != 404 {
				t.Fatalf("someone not in the meeting admits: %d", r.Status)
			}
			ev := anna.Events(0)
			e.bob.Must(204, "POST", "/parley/v1/meetings/"+id+"/lobby/"+anna.UserID+"/admit", nil)
			if r := e.alice.Do("POST", "/parley/v1/meetings/"+id+"/lobby/"+anna.UserID+"/admit", nil); r.Status != 404 {
				t.Fatalf("admitting twice: %d", r.Status)
			}
			ev.WaitCount("chatCreated", 1, 5*time.Second)
			anna.Send(thread, "hello from the web")
			if got := texts(t, e.alice, thread)[0]; got != "hello from the web" {
				t.Fatalf("the organiser reads %q", got)
			}
			var msgs struct {
				Value []struct {
					From struct {
						User struct {
							DisplayName      string `json:"displayName"`
							UserIdentityType string `json:"userIdentityType"`
						} `json:"user"`
					} `json:"from"`
				} `json:"value"`
			}
			e.alice.Must(200, "GET", "/v1.0/chats/"+thread+"/messages", nil).JSON(t, &msgs)
			if u := msgs.Value[0].From.User; u.DisplayName != "Anna (Unverified)" || u.UserIdentityType != "anonymousGuest" {
				t.Fatalf("anonymous sender shows as %+v", u)
			}
			e.alice.Send(thread, "welcome Anna")
			if texts(t, anna, thread)[0] != "welcome Anna" {
				t.Fatal("the admitted anonymous person does not read the chat")
			}
			members := anna.Must(200, "GET", "/v1.0/chats/"+thread+"/members", nil).Body2()
			if !strings.Contains(members, `"anonymousGuest"`) || !strings.Contains(members, "Anna (Unverified)") {
				t.Fatalf("members: %s", members)
			}
			// Everything else answers as for no token.
			expect401(t, anna, [][2]string{{"GET", "/v1.0/me"}, {"GET", "/v1.0/me/chats"}, {"GET", "/v1.0/chats"}, {"GET", "/v1.0/chats/" + other},
				{"GET", "/v1.0/chats/" + other + "/messages"}, {"POST", "/v1.0/chats/" + other + "/messages"}, {"GET", "/v1.0/users"},
				{"GET", "/v1.0/users/" + e.alice.UserID}, {"POST", "/v1.0/chats"}, {"POST", "/v1.0/chats/" + thread + "/members"},
				{"PATCH", "/v1.0/chats/" + thread}, {"GET", "/parley/v1/me/requests"}, {"GET", "/parley/v1/admin/meetingConfiguration"},
				{"PATCH", "/parley/v1/admin/meetingConfiguration"}, {"GET", "/parley/v1/admin/federationConfiguration"}, {"GET", "/parley/v1/admin/audit"},
				{"GET", "/parley/v1/meetings/" + id + "/lobby"}, {"GET", "/parley/v1/meetings/" + id + "/attendance"},
				{"GET", "/v1.0/me/onlineMeetings/" + id}, {"POST", "/v1.0/me/onlineMeetings"}})
			// Nobody binds an anonymous person into another chat.
			if r := e.alice.Do("POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne", "members": []any{parleytest.Bind(e.alice.UserID, true), parleytest.Bind(anna.UserID, true)}}); r.Status != 404 {
				t.Fatalf("a chat with an anonymous person outside the meeting: %d %s", r.Status, r.Body)
			}

			// Deny: the session ends.
			ben, _ := joinAs(t, w, link, "Ben")
			e.alice.Must(204, "POST", "/parley/v1/meetings/"+id+"/lobby/"+ben.UserID+"/deny", nil)
			expect401(t, ben, [][2]string{{"GET", "/v1.0/chats/" + thread}, {"GET", "/v1.0/chats/" + thread + "/messages"}})
			if ids := lobbyIDs(t, e.alice, id); len(ids) != 0 {
				t.Fatalf("lobby after admit and deny: %v", ids)
			}

			// Removal: the token is refused and the open connection closed.
			e.alice.Must(204, "DELETE", "/parley/v1/meetings/"+id+"/participants/"+anna.UserID, nil)
			ev.WaitCount("sessionEnded", 1, 5*time.Second)
			expect401(t, anna, [][2]string{{"GET", "/v1.0/chats/" + thread}, {"POST", "/v1.0/chats/" + thread + "/messages"}, {"GET", "/parley/v1/events"}})
			if strings.Contains(e.alice.Must(200, "GET", "/v1.0/chats/"+thread+"/members", nil).Body2(), "Anna (Unverified)") {
				t.Fatal("a removed anonymous person is still a member")
			}

			// Roster: who was invited, who came, when.
			var roster struct {
				Value []struct {
					DisplayName, Role, State string
					UserIdentityType         string  `json:"userIdentityType"`
					JoinedDateTime           *string `json:"joinedDateTime"`
				} `json:"value"`
			}
			e.alice.Must(200, "GET", "/parley/v1/meetings/"+id+"/attendance", nil).JSON(t, &roster)
			states := map[string]string{}
			for _, v := range roster.Value {
				states[v.DisplayName] = v.Role + "/" + v.State
			}
			if states["Anna (Unverified)"] != "anonymous/removed" || states["Ben (Unverified)"] != "anonymous/denied" || states["Bob"] != "attendee/accepted" || states["Alice"] != "organizer/accepted" {
				t.Fatalf("roster: %v", states)
			}

			// The meeting ends: every anonymous session ends.
			cleo, _ := joinAs(t, w, link, "Cleo")
			e.alice.Must(204, "POST", "/parley/v1/meetings/"+id+"/lobby/"+cleo.UserID+"/admit", nil)
			dan, _ := joinAs(t, w, link, "Dan")
			cleo.Must(200, "GET", "/v1.0/chats/"+thread, nil)
			e.alice.Must(204, "DELETE", "/v1.0/me/onlineMeetings/"+id, nil)
			expect401(t, cleo, [][2]string{{"GET", "/v1.0/chats/" + thread}, {"GET", "/v1.0/chats/" + thread + "/messages"}})
			expect401(t, dan, [][2]string{{"GET", "/v1.0/chats/" + thread}})
			if r := w.Anonymous().Do("POST", "/parley/v1/meetings/join", map[string]any{"joinWebUrl": link, "displayName": "Late"}); r.Status != 404 {
				t.Fatalf("join after the end: %d %s", r.Status, r.Body)
			}
			// The invited people keep the chat.
			e.bob.Send(thread, "thanks all")
		})

		t.Run("settings: anonymous join and lobby bypass", func(t *testing.T) {
			m := meetingOf(t, e.alice, map[string]any{"subject": "Settings"})
			id, link := m["id"].(string), m["joinWebUrl"].(string)
			cfg := e.contoso.Admin.Must(200, "GET", "/parley/v1/admin/meetingConfiguration", nil).Map(t)
			if cfg["allowAnonymousUsersToJoinMeeting"] != true || cfg["lobbyBypass"] != "organization" || cfg["anonymousUsersCanInteractWithApps"] != true {
				t.Fatalf("defaults: %v", cfg)
			}
			if r := e.bob.Do("PATCH", "/parley/v1/admin/meetingConfiguration", map[string]any{"lobbyBypass": "everyone"}); r.Status != 403 {
				t.Fatalf("a member changes meeting settings: %d", r.Status)
			}
			for _, bad := range []map[string]any{{"lobbyBypass": "nobody"}, {"allowAnonymous": true}, {"lobbyBypass": 3}} {
				if r := e.contoso.Admin.Do("PATCH", "/parley/v1/admin/meetingConfiguration", bad); r.Status != 400 {
					t.Fatalf("bad settings %v: %d %s", bad, r.Status, r.Body)
				}
			}
			// everyone: anonymous people go straight in.
			meetingConfig(t, e.contoso.Admin, map[string]any{"lobbyBypass": "everyone"})
			if m := e.alice.Must(200, "GET", "/v1.0/me/onlineMeetings/"+id, nil).Map(t); m["lobbyBypassSettings"].(map[string]any)["scope"] != "everyone" {
				t.Fatalf("lobbyBypassSettings: %v", m["lobbyBypassSettings"])
			}
			eve, out := joinAs(t, w, link, "Eve")
			if out["state"] != "admitted" {
				t.Fatalf("join with bypass everyone: %v", out)
			}
			eve.Send(threadOf(m), "in at once")
			// organizer: they wait again.
			meetingConfig(t, e.contoso.Admin, map[string]any{"lobbyBypass": "organizer"})
			if _, out := joinAs(t, w, link, "Fay"); out["state"] != "lobby" {
				t.Fatalf("join with bypass organizer: %v", out)
			}
			// Anonymous join off: refused, naming the host's setting.
			meetingConfig(t, e.contoso.Admin, map[string]any{"allowAnonymousUsersToJoinMeeting": false})
			r := w.Anonymous().Do("POST", "/parley/v1/meetings/join", map[string]any{"joinWebUrl": link, "displayName": "Gil"})
			if r.Status != 403 || r.ErrorCode() != "forbiddenByPolicy" {
				t.Fatalf("join with anonymous off: %d %s", r.Status, r.Body)
			}
			meetingConfig(t, e.contoso.Admin, map[string]any{"allowAnonymousUsersToJoinMeeting": true, "lobbyBypass": "organization"})
			// Audited.
			audit := e.contoso.Admin.Must(200, "GET", "/parley/v1/admin/audit", nil).Body2()
			for _, action := range []string{"meetingConfiguration.updated", "meeting.anonymousJoined", "meeting.lobbyAdmitted", "meeting.lobbyDenied", "meeting.ended",
				"meeting.externalCreated", "meeting.externalInvited", "meeting.anonymousRemoved"} {
				if !strings.Contains(audit, action) {
					t.Errorf("audit has no %s", action)
				}
			}
			// Bad joins change nothing.
			for _, bad := range []map[string]any{{"joinWebUrl": link}, {"joinWebUrl": link, "displayName": "  "}, {"joinWebUrl": link, "displayName": "a\u200bb"},
				{"displayName": "Hal"}, {"joinWebUrl": link, "token": "x", "displayName": "Hal"}, {"joinWebUrl": link, "displayName": "Hal", "extra": 1}} {
				if r := w.Anonymous().Do("POST", "/parley/v1/meetings/join", bad); r.Status != 400 {
					t.Fatalf("bad join %v: %d %s", bad, r.Status, r.Body)
				}
			}
			if r := w.Anonymous().Do("POST", "/parley/v1/meetings/join", map[string]any{"token": "no-such-link", "displayName": "Hal"}); r.Status != 404 {
				t.Fatalf("join with an unknown link: %d", r.Status)
			}
		})

		t.Run("renew join link", func(t *testing.T) {
			m := meetingOf(t, e.alice, map[string]any{"subject": "Renew"})
			id, old := m["id"].(string), m["joinWebUrl"].(string)
			if r := e.bob.Do("POST", "/parley/v1/meetings/"+id+"/renewJoinLink", nil); r.Status != 404 {
				t.Fatalf("renew by someone else: %d", r.Status)
			}
			n := e.alice.Must(200, "POST", "/parley/v1/meetings/"+id+"/renewJoinLink", nil).Map(t)
			link := n["joinWebUrl"].(string)
			if link == old {
				t.Fatal("the link did not change")
			}
			if r := w.Anonymous().Do("POST", "/parley/v1/meetings/join", map[string]any{"joinWebUrl": old, "displayName": "Ida"}); r.Status != 404 {
				t.Fatalf("join with the old link: %d %s", r.Status, r.Body)
			}
			token := link[strings.LastIndex(link, "/")+1:]
			w.Anonymous().Must(202, "POST", "/parley/v1/meetings/join", map[string]any{"token": token, "displayName": "Ida"})
		})
	})
}

// TestMeetingJoinRateLimit sends joins together from one barrier: per client
// address and per join link, exactly the limit passes (docs/rules.md §10), on both
// stores.
func TestMeetingJoinRateLimit(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := parleytest.StartStore(t, store)
		ten := w.CreateTenant("Contoso", "contoso.com")
		alice := w.User(ten, "alice", false)
		meetingConfig(t, ten.Admin, map[string]any{"lobbyBypass": "everyone"})
		join := w.URL() + "/parley/v1/meetings/join"
		body := func(link any) []byte {
			b, _ := json.Marshal(map[string]any{"joinWebUrl": link, "displayName": "Guest"})
			return b
		}
		// Per client address: 30 at once from 127.0.0.1, spread over 8 links.
		var links []any
		for range 8 {
			links = append(links, meetingOf(t, alice, map[string]any{"subject": "m"})["joinWebUrl"])
		}
		var reqs []parleytest.Req
		for i := range 36 {
			reqs = append(reqs, parleytest.Req{Method: "POST", URL: join, JSON: body(links[i%len(links)])})
		}
		if got := parleytest.Statuses(parleytest.Burst(t, reqs)); got[202] != 30 || got[429] != 6 {
			t.Fatalf("per client address: %v, want 30×202 and 6×429", got)
		}
		// Per link: 50 at once from 60 addresses (127.0.0.2 …).
		link := meetingOf(t, alice, map[string]any{"subject": "crowded"})["joinWebUrl"]
		got := map[int]int{}
		for _, st := range burstFrom(t, join, body(link), 60) {
			got[st]++
		}
		if got[202] != 50 || got[429] != 10 {
			t.Fatalf("per link: %v, want 50×202 and 10×429", got)
		}
	})
}

// burstFrom POSTs body to url n times at the same instant, each from its own
// loopback address (127.0.0.2, 127.0.0.3, …) on a warmed connection, and
// returns the statuses.
func burstFrom(t *testing.T, url string, body []byte, n int) []int {
	t.Helper()
	out := make([]int, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, byte(i/250), byte(2+i%250))}}
			c := &http.Client{Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 1}}
			defer c.CloseIdleConnections()
			base := url[:strings.Index(url, "/parley/")]
			if resp, err := c.Get(base + "/healthz"); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
			ready.Done()
			<-start
			resp, err := c.Post(url, "application/json", bytes.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			out[i] = resp.StatusCode
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return out
}
