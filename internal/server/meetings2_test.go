package server_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
)

// memberIDOf returns the id of the meeting chat member whose displayName
// (or, for an address-only invitee, email) is name, as c sees the members.
func memberIDOf(t *testing.T, c *parleytest.Client, thread, name string) string {
	t.Helper()
	var out struct {
		Value []struct {
			ID          string  `json:"id"`
			DisplayName string  `json:"displayName"`
			Email       *string `json:"email"`
		} `json:"value"`
	}
	c.Must(200, "GET", "/v1.0/chats/"+thread+"/members", nil).JSON(t, &out)
	for _, v := range out.Value {
		if v.DisplayName == name || (v.Email != nil && *v.Email == name) {
			return v.ID
		}
	}
	t.Fatalf("no member %q in %s", name, thread)
	return ""
}

// TestMeetingsGraphRemoval: the organiser removes people from a meeting
// through Graph's DELETE on its chat's members (an invited member, a
// pending address-only invitee, an admitted and a waiting anonymous
// person, whose sessions end); nobody else may, and the organiser cannot
// be removed. Both stores.
func TestMeetingsGraphRemoval(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		e := newExternal(t, store)
		w := e.w
		m := meetingOf(t, e.alice, map[string]any{"subject": "Remove", "participants": map[string]any{"attendees": []any{
			map[string]any{"upn": "bob@contoso.com"}, map[string]any{"upn": "erin@fabrikam.com"}, map[string]any{"email": "nobody@example.org"}}}})
		id, thread, link := m["id"].(string), threadOf(m), m["joinWebUrl"].(string)
		anna, _ := joinAs(t, w, link, "Anna")
		e.alice.Must(204, "POST", "/parley/v1/meetings/"+id+"/lobby/"+anna.UserID+"/admit", nil)
		ben, _ := joinAs(t, w, link, "Ben")
		anna.Must(200, "GET", "/v1.0/chats/"+thread, nil)
		ev := anna.Events(0)

		// Refused: an attendee removes someone else; someone outside the
		// meeting learns nothing; the organiser cannot be removed; a
		// member that does not exist.
		bobMember := memberIDOf(t, e.alice, thread, "Bob")
		annaMember := memberIDOf(t, e.alice, thread, "Anna (Unverified)")
		if r := e.bob.Do("DELETE", "/v1.0/chats/"+thread+"/members/"+annaMember, nil); r.Status != 403 {
			t.Fatalf("an attendee removes an anonymous person: %d %s", r.Status, r.Body)
		}
		if r := e.bob.Do("DELETE", "/v1.0/chats/"+thread+"/members/"+e.erin.UserID, nil); r.Status != 403 {
			t.Fatalf("an attendee removes another: %d %s", r.Status, r.Body)
		}
		if r := e.contoso.Admin.Do("DELETE", "/v1.0/chats/"+thread+"/members/"+bobMember, nil); r.Status != 404 {
			t.Fatalf("someone outside removes: %d %s", r.Status, r.Body)
		}
		if r := e.alice.Do("DELETE", "/v1.0/chats/"+thread+"/members/"+e.alice.UserID, nil); r.Status != 400 || r.ErrorCode() != "badRequest" {
			t.Fatalf("the organiser removes themselves: %d %s", r.Status, r.Body)
		}
		if r := e.alice.Do("DELETE", "/v1.0/chats/"+thread+"/members/nope", nil); r.Status != 404 {
			t.Fatalf("removing nobody: %d %s", r.Status, r.Body)
		}
		anna.Must(200, "GET", "/v1.0/chats/"+thread, nil) // the refusals changed nothing
		e.bob.Must(200, "GET", "/v1.0/chats/"+thread, nil)

		// Allowed: an invited member, by member id.
		e.alice.Must(204, "DELETE", "/v1.0/chats/"+thread+"/members/"+bobMember, nil)
		if r := e.bob.Do("GET", "/v1.0/chats/"+thread, nil); r.Status != 404 {
			t.Fatalf("a removed attendee still reads the meeting chat: %d", r.Status)
		}
		// A pending address-only invitee, by member id.
		pending := memberIDOf(t, e.alice, thread, "nobody@example.org")
		e.alice.Must(204, "DELETE", "/v1.0/chats/"+thread+"/members/"+pending, nil)
		if strings.Contains(e.alice.Must(200, "GET", "/v1.0/chats/"+thread+"/members", nil).Body2(), "nobody@example.org") {
			t.Fatal("the pending invitee is still a member")
		}
		// An admitted anonymous person, by member id: the session ends.
		e.alice.Must(204, "DELETE", "/v1.0/chats/"+thread+"/members/"+annaMember, nil)
		ev.WaitCount("sessionEnded", 1, 5*time.Second)
		expect401(t, anna, [][2]string{{"GET", "/v1.0/chats/" + thread}, {"POST", "/v1.0/chats/" + thread + "/messages"}})
		// A waiting one, by user id: the session ends, the lobby empties.
		e.alice.Must(204, "DELETE", "/v1.0/chats/"+thread+"/members/"+ben.UserID, nil)
		expect401(t, ben, [][2]string{{"GET", "/v1.0/chats/" + thread}})
		if ids := lobbyIDs(t, e.alice, id); len(ids) != 0 {
			t.Fatalf("lobby after removal: %v", ids)
		}
		if r := e.alice.Do("DELETE", "/v1.0/chats/"+thread+"/members/"+ben.UserID, nil); r.Status != 404 {
			t.Fatalf("removing twice: %d %s", r.Status, r.Body)
		}
		// An attendee may leave.
		e.erin.Must(204, "POST", "/parley/v1/me/requests/"+thread+"/accept", nil)
		erinMember := memberIDOf(t, e.alice, thread, "Erin")
		e.erin.Must(204, "DELETE", "/v1.0/chats/"+thread+"/members/"+erinMember, nil)
		if r := e.erin.Do("GET", "/v1.0/chats/"+thread, nil); r.Status != 404 {
			t.Fatalf("after leaving: %d", r.Status)
		}
	})
}

// TestMeetingsList: GET /v1.0/me/onlineMeetings lists the meetings the
// caller organises, oldest first, paged with @odata.nextLink; ended ones
// are gone, other people's are not shown; a bad $skiptoken is refused.
// Both stores.
func TestMeetingsList(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		e := newExternal(t, store)
		var want []string
		for _, s := range []string{"one", "two", "three", "four", "five"} {
			want = append(want, meetingOf(t, e.alice, map[string]any{"subject": s})["id"].(string))
		}
		meetingOf(t, e.bob, map[string]any{"subject": "bob's"})
		e.alice.Must(204, "DELETE", "/v1.0/me/onlineMeetings/"+want[2], nil)
		want = append(want[:2], want[3:]...)
		var got []string
		path := "/v1.0/me/onlineMeetings?$top=2"
		pages := 0
		for path != "" {
			var out struct {
				Value []struct {
					ID         string `json:"id"`
					JoinWebURL string `json:"joinWebUrl"`
				} `json:"value"`
				Next string `json:"@odata.nextLink"`
			}
			e.alice.Must(200, "GET", path, nil).JSON(t, &out)
			pages++
			for _, v := range out.Value {
				if v.JoinWebURL == "" {
					t.Fatalf("listed meeting without joinWebUrl: %+v", v)
				}
				got = append(got, v.ID)
			}
			path = ""
			if out.Next != "" {
				u, err := url.Parse(out.Next)
				if err != nil || !strings.Contains(u.RawQuery, "$skiptoken=") {
					t.Fatalf("nextLink %q", out.Next)
				}
				path = u.RequestURI()
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") || pages != 2 {
			t.Fatalf("listed %v in %d pages, want %v in 2", got, pages, want)
		}
		if n := len(e.erin.Must(200, "GET", "/v1.0/me/onlineMeetings", nil).Map(t)["value"].([]any)); n != 0 {
			t.Fatalf("someone who organises nothing lists %d meetings", n)
		}
		for _, q := range []string{"$skiptoken=garbage", "$top=0"} {
			if r := e.alice.Do("GET", "/v1.0/me/onlineMeetings?"+q, nil); r.Status != 400 || r.ErrorCode() != "badRequest" {
				t.Fatalf("%s: %d %s", q, r.Status, r.Body)
			}
		}
	})
}

// TestMeetingsOver: a meeting is over an hour after its endDateTime. Its
// link stops working, an anonymous token lives at most until then, and
// moving the end into the past ends every anonymous session at once (the
// open connection told); the organiser still sees the meeting and may
// move it again. Both stores.
func TestMeetingsOver(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		e := newExternal(t, store)
		w := e.w
		now := time.Now().UTC().Truncate(time.Second)
		meetingConfig(t, e.contoso.Admin, map[string]any{"lobbyBypass": "everyone"})

		// The token lives until the meeting is over, not a day.
		m := meetingOf(t, e.alice, map[string]any{"subject": "Short", "startDateTime": now.Add(-time.Hour).Format(time.RFC3339), "endDateTime": now.Add(10 * time.Minute).Format(time.RFC3339)})
		id, thread, link := m["id"].(string), threadOf(m), m["joinWebUrl"].(string)
		anna, out := joinAs(t, w, link, "Anna")
		if ttl := out["expires_in"].(float64); ttl > (70*time.Minute).Seconds() || ttl < (65*time.Minute).Seconds() {
			t.Fatalf("expires_in %v, want about 70 minutes (the end and an hour's grace)", ttl)
		}
		anna.Must(200, "GET", "/v1.0/chats/"+thread+"/messages", nil)
		ev := anna.Events(0)

		// Moved into the past: over now; the session ends, the link fails.
		e.alice.Must(200, "PATCH", "/v1.0/me/onlineMeetings/"+id, map[string]any{"startDateTime": now.Add(-4 * time.Hour).Format(time.RFC3339), "endDateTime": now.Add(-2 * time.Hour).Format(time.RFC3339)})
		ev.WaitCount("sessionEnded", 1, 5*time.Second)
		expect401(t, anna, [][2]string{{"GET", "/v1.0/chats/" + thread}, {"GET", "/v1.0/chats/" + thread + "/messages"}})
		if r := w.Anonymous().Do("POST", "/parley/v1/meetings/join", map[string]any{"joinWebUrl": link, "displayName": "Late"}); r.Status != 404 {
			t.Fatalf("join a meeting that is over: %d %s", r.Status, r.Body)
		}
		if strings.Contains(e.alice.Must(200, "GET", "/v1.0/chats/"+thread+"/members", nil).Body2(), "Anna (Unverified)") {
			t.Fatal("an anonymous person stays in the chat of a meeting that is over")
		}
		// The organiser still has it, and moving it back opens the link.
		e.alice.Must(200, "GET", "/v1.0/me/onlineMeetings/"+id, nil)
		e.alice.Must(200, "PATCH", "/v1.0/me/onlineMeetings/"+id, map[string]any{"endDateTime": now.Add(time.Hour).Format(time.RFC3339)})
		ben, _ := joinAs(t, w, link, "Ben")
		ben.Must(200, "GET", "/v1.0/chats/"+thread, nil)

		// Created already over: the link never works.
		old := meetingOf(t, e.alice, map[string]any{"subject": "Old", "startDateTime": now.Add(-5 * time.Hour).Format(time.RFC3339), "endDateTime": now.Add(-61 * time.Minute).Format(time.RFC3339)})
		if r := w.Anonymous().Do("POST", "/parley/v1/meetings/join", map[string]any{"joinWebUrl": old["joinWebUrl"], "displayName": "X"}); r.Status != 404 {
			t.Fatalf("join a meeting over since it was made: %d %s", r.Status, r.Body)
		}
		// Within the grace it still does.
		late := meetingOf(t, e.alice, map[string]any{"subject": "Late", "startDateTime": now.Add(-2 * time.Hour).Format(time.RFC3339), "endDateTime": now.Add(-50 * time.Minute).Format(time.RFC3339)})
		_, out = joinAs(t, w, late["joinWebUrl"].(string), "Y")
		if ttl := out["expires_in"].(float64); ttl > (10*time.Minute).Seconds() || ttl < (9*time.Minute).Seconds() {
			t.Fatalf("expires_in %v within the grace, want about 10 minutes", ttl)
		}
	})
}

// joinSigned joins a meeting by its link with c's own token.
func joinSigned(c *parleytest.Client, link string) *parleytest.Response {
	return c.Do("POST", "/parley/v1/meetings/join", map[string]any{"joinWebUrl": link})
}

// TestMeetingsSignedInJoin: signed-in people join by link as lobbyBypass
// lets them (organizer: only the organiser; organization: the host's
// members, not its guests; everyone: guests and external people too, an
// external person decided by docs/rules.md §4 as if the organiser added
// them); those who would wait wait in the lobby (TestMeetingLobbySignedIn
// goes on from there) and go in when the setting lets them; a refusal by
// policy tells the joiner nothing more; an anonymous token joins nothing.
// Both stores.
func TestMeetingsSignedInJoin(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		e := newExternal(t, store)
		state := func(c *parleytest.Client, link string, want int) string {
			t.Helper()
			r := joinSigned(c, link)
			if r.Status != want {
				t.Fatalf("join by link as %s: %d %s, want %d", c.UserID, r.Status, r.Body, want)
			}
			if want != 200 {
				return r.ErrorCode()
			}
			out := r.Map(t)
			if _, ok := out["access_token"]; ok {
				t.Fatalf("a signed-in join issued a token: %v", out)
			}
			return out["state"].(string)
		}
		m := meetingOf(t, e.alice, map[string]any{"subject": "By link"})
		thread, link := threadOf(m), m["joinWebUrl"].(string)

		// organizer: only the organiser; a host member waits in the lobby.
		meetingConfig(t, e.contoso.Admin, map[string]any{"lobbyBypass": "organizer"})
		if s := state(e.alice, link, 200); s != "admitted" {
			t.Fatalf("organiser: %s", s)
		}
		if s := state(e.bob, link, 200); s != "lobby" {
			t.Fatalf("host member under organizer: %s", s)
		}
		if r := e.bob.Do("GET", "/v1.0/chats/"+thread, nil); r.Status != 404 {
			t.Fatalf("a joiner in the lobby reads the chat: %d", r.Status)
		}

		// organization: host members go in; guests and external people wait.
		meetingConfig(t, e.contoso.Admin, map[string]any{"lobbyBypass": "organization"})
		if s := state(e.bob, link, 200); s != "admitted" {
			t.Fatalf("host member under organization: %s", s)
		}
		e.bob.Send(thread, "joined by link")
		if s := state(e.bob, link, 200); s != "admitted" {
			t.Fatalf("joining twice: %s", s)
		}
		if s := state(e.guest, link, 200); s != "lobby" {
			t.Fatalf("guest under organization: %s", s)
		}
		if s := state(e.erin, link, 200); s != "lobby" {
			t.Fatalf("external under organization: %s", s)
		}

		// everyone: a guest goes in; an external person gets the meeting
		// chat's message request, as if the organiser added them.
		meetingConfig(t, e.contoso.Admin, map[string]any{"lobbyBypass": "everyone"})
		if s := state(e.erin, link, 200); s != "pending" || !hasRequest(t, e.erin, thread) {
			t.Fatalf("external under everyone: %s", s)
		}
		e.erin.Must(204, "POST", "/parley/v1/me/requests/"+thread+"/accept", nil)
		if s := state(e.erin, link, 200); s != "admitted" {
			t.Fatalf("external after accepting: %s", s)
		}
		// docs/rules.md §4 rule 7: a guest never joins anything external.
		if c := state(e.guest, link, 403); c != "forbiddenByPolicy" {
			t.Fatalf("guest into an external meeting: %s", c)
		}
		internal := meetingOf(t, e.alice, map[string]any{"subject": "Inside"})
		if s := state(e.guest, internal["joinWebUrl"].(string), 200); s != "admitted" {
			t.Fatalf("guest under everyone: %s", s)
		}
		e.guest.Must(200, "GET", "/v1.0/chats/"+threadOf(internal), nil)
		e.erin.Send(thread, "hi from fabrikam")

		// Refused by the other side's organisation: forbiddenByPolicy,
		// nothing reaches them, the organiser sees nobody.
		federation(t, e.fabrikam.Admin, map[string]any{"blockedDomains": []string{"contoso.com"}})
		ivan := e.w.User(e.fabrikam, "ivan", false)
		if c := state(ivan, link, 403); c != "forbiddenByPolicy" {
			t.Fatalf("joining across a blocked domain: %s", c)
		}
		if hasRequest(t, ivan, thread) || strings.Contains(e.alice.Must(200, "GET", "/v1.0/chats/"+thread+"/members", nil).Body2(), "Ivan") {
			t.Fatal("a refused joiner was added")
		}
		federation(t, e.fabrikam.Admin, map[string]any{"blockedDomains": []string{}})

		// An anonymous session cannot join another meeting; a bad link is 404.
		anna, _ := joinAs(t, e.w, link, "Anna")
		other := meetingOf(t, e.alice, map[string]any{"subject": "Other"})
		if r := joinSigned(anna, other["joinWebUrl"].(string)); r.Status != 401 {
			t.Fatalf("an anonymous token joins another meeting: %d %s", r.Status, r.Body)
		}
		if r := joinSigned(e.bob, link+"x"); r.Status != 404 {
			t.Fatalf("a wrong link: %d %s", r.Status, r.Body)
		}
	})
}
