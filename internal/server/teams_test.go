package server_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
)

// teamsWorld is one server per store with two organisations, a guest and
// a personal account, shared by the subtests of TestS8_Teams.
type teamsWorld struct {
	s                                   *parleytest.World
	contoso, fabrikam                   *parleytest.Tenant
	alice, bob, carol, gina, eve, petra *parleytest.Client
}

func newTeamsWorld(t *testing.T, store string) *teamsWorld {
	s := parleytest.StartWorld(t, store)
	w := &teamsWorld{s: s, contoso: s.CreateTenant("Contoso", "contoso.com"), fabrikam: s.CreateTenant("Fabrikam", "fabrikam.com")}
	w.alice = s.User(w.contoso, "alice", false)
	w.bob = s.User(w.contoso, "bob", false)
	w.carol = s.User(w.contoso, "carol", false)
	w.gina = s.User(w.contoso, "gina@gmail.com", true) // Contoso's guest
	w.eve = s.User(w.fabrikam, "eve", false)
	w.petra = s.Personal("petra@outlook.com")
	return w
}

// createTeam creates a team as c and returns its id and General's id.
func createTeam(t *testing.T, c *parleytest.Client, name string) (string, string) {
	t.Helper()
	id := c.Must(201, "POST", "/v1.0/teams", map[string]any{"displayName": name, "description": "About " + name}).Map(t)["id"].(string)
	var chs struct {
		Value []map[string]any `json:"value"`
	}
	c.Must(200, "GET", "/v1.0/teams/"+id+"/channels", nil).JSON(t, &chs)
	if len(chs.Value) != 1 || chs.Value[0]["displayName"] != "General" || chs.Value[0]["membershipType"] != "standard" {
		t.Fatalf("channels of a new team = %v, want only General", chs.Value)
	}
	return id, chs.Value[0]["id"].(string)
}

func addMember(t *testing.T, owner *parleytest.Client, teamID, userID string, roles ...string) map[string]any {
	t.Helper()
	if roles == nil {
		roles = []string{}
	}
	m := parleytest.Bind(userID, false)
	m["roles"] = roles
	return owner.Must(201, "POST", "/v1.0/teams/"+teamID+"/members", m).Map(t)
}

func post(t *testing.T, c *parleytest.Client, path, text string) string {
	t.Helper()
	return c.Must(201, "POST", path, map[string]any{"body": map[string]string{"content": text}}).Map(t)["id"].(string)
}

type listPage struct {
	Value    []map[string]any `json:"value"`
	NextLink string           `json:"@odata.nextLink"`
}

func list(t *testing.T, c *parleytest.Client, path string) listPage {
	t.Helper()
	var p listPage
	c.Must(200, "GET", path, nil).JSON(t, &p)
	return p
}

func wantCode(t *testing.T, r *parleytest.Response, status int, code string) {
	t.Helper()
	if r.Status != status || r.ErrorCode() != code {
		t.Fatalf("got %d %s, want %d %s", r.Status, r.Body, status, code)
	}
}

// TestS8_Teams covers teams and standard channels (docs/rules.md §8) with
// the rules of §4 rule 7 and §10 through the HTTP API, on both stores:
// each rule allowed and refused.
func TestS8_Teams(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := newTeamsWorld(t, store)
		alice, bob, carol, gina, eve, petra := w.alice, w.bob, w.carol, w.gina, w.eve, w.petra

		t.Run("create: a member creates, is owner, General exists; guests and personal accounts cannot", func(t *testing.T) {
			id, _ := createTeam(t, alice, "Launch")
			tm := alice.Must(200, "GET", "/v1.0/teams/"+id, nil).Map(t)
			if tm["displayName"] != "Launch" || tm["description"] != "About Launch" || tm["tenantId"] != w.contoso.ID || tm["visibility"] != "private" {
				t.Fatalf("team = %v", tm)
			}
			joined := list(t, alice, "/v1.0/me/joinedTeams")
			if !slices.ContainsFunc(joined.Value, func(m map[string]any) bool { return m["id"] == id }) {
				t.Fatalf("joinedTeams = %v, want %s", joined.Value, id)
			}
			ms := list(t, alice, "/v1.0/teams/"+id+"/members")
			if len(ms.Value) != 1 || ms.Value[0]["userId"] != alice.UserID || fmt.Sprint(ms.Value[0]["roles"]) != "[owner]" {
				t.Fatalf("members = %v, want alice as owner", ms.Value)
			}
			wantCode(t, gina.Do("POST", "/v1.0/teams", map[string]any{"displayName": "Guests' team"}), 403, "forbidden")
			wantCode(t, petra.Do("POST", "/v1.0/teams", map[string]any{"displayName": "Mine"}), 403, "forbidden")
			wantCode(t, alice.Do("POST", "/v1.0/teams", map[string]any{"displayName": "  "}), 400, "badRequest")
			wantCode(t, alice.Do("POST", "/v1.0/teams", map[string]any{"displayName": strings.Repeat("x", 257)}), 400, "badRequest")
			// A creator may list itself; nobody else at creation.
			wantCode(t, alice.Do("POST", "/v1.0/teams", map[string]any{"displayName": "X", "members": []any{parleytest.Bind(bob.UserID, true)}}), 400, "badRequest")
		})

		t.Run("members: owners add the tenant's members and guests; others are refused", func(t *testing.T) {
			id, _ := createTeam(t, alice, "Members")
			m := addMember(t, alice, id, bob.UserID)
			if fmt.Sprint(m["roles"]) != "[]" || m["userId"] != bob.UserID || m["@odata.type"] != "#microsoft.graph.aadUserConversationMember" {
				t.Fatalf("member = %v", m)
			}
			g := alice.Must(201, "POST", "/v1.0/teams/"+id+"/members", map[string]any{"email": "gina@gmail.com", "roles": []string{}}).Map(t)
			if fmt.Sprint(g["roles"]) != "[guest]" || g["userId"] != gina.UserID || g["userType"] != "Guest" {
				t.Fatalf("guest member = %v, want roles [guest]", g)
			}
			// A member is not an owner: adds nothing.
			wantCode(t, bob.Do("POST", "/v1.0/teams/"+id+"/members", parleytest.Bind(carol.UserID, false)), 403, "forbidden")
			// Already in: conflict.
			wantCode(t, alice.Do("POST", "/v1.0/teams/"+id+"/members", parleytest.Bind(bob.UserID, false)), 409, "conflict")
			// A guest is never an owner; "guest" is for guests.
			wantCode(t, alice.Do("PATCH", "/v1.0/teams/"+id+"/members/"+gina.UserID, map[string]any{"roles": []string{"owner"}}), 400, "badRequest")
			wantCode(t, alice.Do("POST", "/v1.0/teams/"+id+"/members", map[string]any{"user@odata.bind": bindURL(carol.UserID), "roles": []string{"guest"}}), 400, "badRequest")
			// Another organisation's user the caller cannot see: 404, as an unknown id.
			wantCode(t, alice.Do("POST", "/v1.0/teams/"+id+"/members", parleytest.Bind(eve.UserID, false)), 404, "notFound")
			wantCode(t, alice.Do("POST", "/v1.0/teams/"+id+"/members", parleytest.Bind("00000000-0000-7000-8000-000000000000", false)), 404, "notFound")
			// Once alice may see eve (an external chat), she is told eve cannot be in a team.
			chatID := alice.ChatWith(parleytest.ByEmail("eve@fabrikam.com")).Map(t)["id"].(string)
			eve.Must(204, "POST", "/parley/v1/me/requests/"+chatID+"/accept", nil)
			wantCode(t, alice.Do("POST", "/v1.0/teams/"+id+"/members", parleytest.Bind(eve.UserID, false)), 403, "externalMemberNotAllowed")
			// By address: people of other organisations and personal accounts, with or without an account.
			for _, addr := range []string{"eve@fabrikam.com", "petra@outlook.com", "nobody@fabrikam.com", "nobody@outlook.com"} {
				wantCode(t, alice.Do("POST", "/v1.0/teams/"+id+"/members", map[string]any{"email": addr}), 403, "externalMemberNotAllowed")
			}
			wantCode(t, alice.Do("POST", "/v1.0/teams/"+id+"/members", map[string]any{"email": "not an address"}), 400, "badRequest")
			wantCode(t, alice.Do("POST", "/v1.0/teams/"+id+"/members", map[string]any{"phoneNumber": "+14255550100"}), 400, "badRequest")
			if n := len(list(t, alice, "/v1.0/teams/"+id+"/members").Value); n != 3 {
				t.Fatalf("members = %d, want 3 (alice, bob, gina): refusals change nothing", n)
			}
		})

		t.Run("owners: the last owner cannot go or be demoted; members leave; only owners remove others", func(t *testing.T) {
			id, _ := createTeam(t, alice, "Owners")
			addMember(t, alice, id, bob.UserID)
			addMember(t, alice, id, carol.UserID)
			wantCode(t, alice.Do("DELETE", "/v1.0/teams/"+id+"/members/"+alice.UserID, nil), 400, "badRequest")
			wantCode(t, alice.Do("PATCH", "/v1.0/teams/"+id+"/members/"+alice.UserID, map[string]any{"roles": []string{}}), 400, "badRequest")
			wantCode(t, bob.Do("DELETE", "/v1.0/teams/"+id+"/members/"+carol.UserID, nil), 403, "forbidden")
			wantCode(t, bob.Do("PATCH", "/v1.0/teams/"+id+"/members/"+bob.UserID, map[string]any{"roles": []string{"owner"}}), 403, "forbidden")
			carol.Must(204, "DELETE", "/v1.0/teams/"+id+"/members/"+carol.UserID, nil) // leaves
			wantCode(t, carol.Do("GET", "/v1.0/teams/"+id, nil), 404, "notFound")
			r := alice.Must(200, "PATCH", "/v1.0/teams/"+id+"/members/"+bob.UserID, map[string]any{"roles": []string{"owner"}}).Map(t)
			if fmt.Sprint(r["roles"]) != "[owner]" {
				t.Fatalf("promoted = %v", r)
			}
			alice.Must(204, "DELETE", "/v1.0/teams/"+id+"/members/"+alice.UserID, nil) // another owner is left
			ms := list(t, bob, "/v1.0/teams/"+id+"/members")
			if len(ms.Value) != 1 || ms.Value[0]["userId"] != bob.UserID {
				t.Fatalf("members = %v, want bob alone", ms.Value)
			}
			wantCode(t, bob.Do("DELETE", "/v1.0/teams/"+id+"/members/nope", nil), 404, "notFound")
		})

		t.Run("the last owner holds when two owners demote each other at once", func(t *testing.T) {
			id, _ := createTeam(t, alice, "Race")
			addMember(t, alice, id, bob.UserID, "owner")
			body := []byte(`{"roles":[]}`)
			rs := parleytest.Burst(t, []parleytest.Req{
				{Method: "PATCH", URL: w.s.URL() + "/v1.0/teams/" + id + "/members/" + bob.UserID, Token: alice.Token, JSON: body},
				{Method: "PATCH", URL: w.s.URL() + "/v1.0/teams/" + id + "/members/" + alice.UserID, Token: bob.Token, JSON: body},
			})
			// The one that comes second is refused: as the last owner (400),
			// or, when the first committed before it read, as a member (403).
			if st := parleytest.Statuses(rs); st[200] != 1 || st[400]+st[403] != 1 {
				t.Fatalf("statuses = %v (%v), want one 200 and one refusal", st, rs)
			}
			owners := 0
			for _, m := range list(t, alice, "/v1.0/teams/"+id+"/members").Value {
				if fmt.Sprint(m["roles"]) == "[owner]" {
					owners++
				}
			}
			if owners != 1 {
				t.Fatalf("owners = %d, want 1", owners)
			}
		})

		t.Run("at once: one channel of a name, one membership of a person", func(t *testing.T) {
			id, _ := createTeam(t, alice, "Burst")
			var reqs []parleytest.Req
			for range 6 {
				reqs = append(reqs, parleytest.Req{Method: "POST", URL: w.s.URL() + "/v1.0/teams/" + id + "/channels", Token: alice.Token, JSON: []byte(`{"displayName":"Same"}`)})
			}
			if st := parleytest.Statuses(parleytest.Burst(t, reqs)); st[201] != 1 || st[409] != 5 {
				t.Fatalf("6 channels named alike at once: %v, want one 201 and five 409", st)
			}
			reqs = reqs[:0]
			add, _ := json.Marshal(parleytest.Bind(carol.UserID, false))
			for range 6 {
				reqs = append(reqs, parleytest.Req{Method: "POST", URL: w.s.URL() + "/v1.0/teams/" + id + "/members", Token: alice.Token, JSON: add})
			}
			if st := parleytest.Statuses(parleytest.Burst(t, reqs)); st[201] != 1 || st[409] != 5 {
				t.Fatalf("6 adds of carol at once: %v, want one 201 and five 409", st)
			}
			if n := len(list(t, alice, "/v1.0/teams/"+id+"/channels").Value); n != 2 {
				t.Fatalf("channels = %d, want General and Same", n)
			}
			if n := len(list(t, alice, "/v1.0/teams/"+id+"/members").Value); n != 2 {
				t.Fatalf("members = %d, want alice and carol", n)
			}
		})

		t.Run("team settings: owners change them, members cannot", func(t *testing.T) {
			id, _ := createTeam(t, alice, "Settings")
			addMember(t, alice, id, bob.UserID)
			alice.Must(204, "PATCH", "/v1.0/teams/"+id, map[string]any{"displayName": "Renamed"})
			if got := bob.Must(200, "GET", "/v1.0/teams/"+id, nil).Map(t)["displayName"]; got != "Renamed" {
				t.Fatalf("displayName = %v", got)
			}
			wantCode(t, bob.Do("PATCH", "/v1.0/teams/"+id, map[string]any{"displayName": "Mine"}), 403, "forbidden")
			wantCode(t, alice.Do("PATCH", "/v1.0/teams/"+id, map[string]any{"displayName": ""}), 400, "badRequest")
		})

		t.Run("channels: owners create, rename, delete; General stays; names are unique", func(t *testing.T) {
			id, general := createTeam(t, alice, "Channels")
			addMember(t, alice, id, bob.UserID)
			c := alice.Must(201, "POST", "/v1.0/teams/"+id+"/channels", map[string]any{"displayName": "Design", "description": "Pixels", "membershipType": "standard"}).Map(t)
			cid := c["id"].(string)
			if c["displayName"] != "Design" || c["membershipType"] != "standard" || c["isGeneral"] != false {
				t.Fatalf("channel = %v", c)
			}
			wantCode(t, alice.Do("POST", "/v1.0/teams/"+id+"/channels", map[string]any{"displayName": "design"}), 409, "conflict")
			wantCode(t, alice.Do("POST", "/v1.0/teams/"+id+"/channels", map[string]any{"displayName": "general"}), 409, "conflict")
			wantCode(t, alice.Do("POST", "/v1.0/teams/"+id+"/channels", map[string]any{"displayName": "a/b"}), 400, "badRequest")
			wantCode(t, alice.Do("POST", "/v1.0/teams/"+id+"/channels", map[string]any{"displayName": "Secret", "membershipType": "private"}), 400, "badRequest")
			wantCode(t, bob.Do("POST", "/v1.0/teams/"+id+"/channels", map[string]any{"displayName": "Bob's"}), 403, "forbidden")
			wantCode(t, bob.Do("PATCH", "/v1.0/teams/"+id+"/channels/"+cid, map[string]any{"displayName": "Art"}), 403, "forbidden")
			wantCode(t, bob.Do("DELETE", "/v1.0/teams/"+id+"/channels/"+cid, nil), 403, "forbidden")
			alice.Must(204, "PATCH", "/v1.0/teams/"+id+"/channels/"+cid, map[string]any{"displayName": "Art"})
			if got := bob.Must(200, "GET", "/v1.0/teams/"+id+"/channels/"+cid, nil).Map(t)["displayName"]; got != "Art" {
				t.Fatalf("renamed channel = %v", got)
			}
			wantCode(t, alice.Do("PATCH", "/v1.0/teams/"+id+"/channels/"+general, map[string]any{"displayName": "Lobby"}), 400, "badRequest")
			alice.Must(204, "PATCH", "/v1.0/teams/"+id+"/channels/"+general, map[string]any{"description": "Everyone"})
			wantCode(t, alice.Do("DELETE", "/v1.0/teams/"+id+"/channels/"+general, nil), 400, "badRequest")
			if p := alice.Must(200, "GET", "/v1.0/teams/"+id+"/primaryChannel", nil).Map(t); p["id"] != general || p["description"] != "Everyone" {
				t.Fatalf("primaryChannel = %v", p)
			}
			post(t, bob, "/v1.0/teams/"+id+"/channels/"+cid+"/messages", "in Art")
			alice.Must(204, "DELETE", "/v1.0/teams/"+id+"/channels/"+cid, nil)
			wantCode(t, bob.Do("GET", "/v1.0/teams/"+id+"/channels/"+cid, nil), 404, "notFound")
			wantCode(t, bob.Do("GET", "/v1.0/teams/"+id+"/channels/"+cid+"/messages", nil), 404, "notFound")
			wantCode(t, bob.Do("POST", "/v1.0/teams/"+id+"/channels/"+cid+"/messages", map[string]any{"body": map[string]string{"content": "x"}}), 404, "notFound")
			if n := len(list(t, bob, "/v1.0/teams/"+id+"/channels").Value); n != 1 {
				t.Fatalf("channels = %d, want General only", n)
			}
			// The name of a deleted channel is free again.
			alice.Must(201, "POST", "/v1.0/teams/"+id+"/channels", map[string]any{"displayName": "Art"})
		})

		t.Run("messages: members and guests post, threads, edits, soft deletes, paging", func(t *testing.T) {
			id, general := createTeam(t, alice, "Messages")
			addMember(t, alice, id, bob.UserID)
			addMember(t, alice, id, gina.UserID)
			base := "/v1.0/teams/" + id + "/channels/" + general + "/messages"
			root := bob.Must(201, "POST", base, map[string]any{"body": map[string]string{"contentType": "html", "content": "<p>Plan</p><script>x()</script>"}}).Map(t)
			rootID := root["id"].(string)
			ci := root["channelIdentity"].(map[string]any)
			if ci["teamId"] != id || ci["channelId"] != general || root["chatId"] != nil || root["replyToId"] != nil ||
				strings.Contains(root["body"].(map[string]any)["content"].(string), "script") {
				t.Fatalf("message = %v", root)
			}
			reply := gina.Must(201, "POST", base+"/"+rootID+"/replies", map[string]any{"body": map[string]string{"content": "Agreed"}}).Map(t)
			if reply["replyToId"] != rootID {
				t.Fatalf("reply = %v, want replyToId %s", reply, rootID)
			}
			replyID := reply["id"].(string)
			// A reply is not a thread of its own, nor a top-level message.
			wantCode(t, alice.Do("POST", base+"/"+replyID+"/replies", map[string]any{"body": map[string]string{"content": "x"}}), 404, "notFound")
			wantCode(t, alice.Do("GET", base+"/"+replyID, nil), 404, "notFound")
			if got := alice.Must(200, "GET", base+"/"+rootID+"/replies/"+replyID, nil).Map(t)["id"]; got != replyID {
				t.Fatalf("reply by path = %v", got)
			}
			for i := range 4 {
				post(t, alice, base, fmt.Sprintf("top %d", i))
			}
			// Top-level messages only, newest first, paged.
			p1 := list(t, alice, base+"?$top=3")
			if len(p1.Value) != 3 || p1.NextLink == "" || p1.Value[0]["body"].(map[string]any)["content"] != "top 3" {
				t.Fatalf("page 1 = %v (next %q)", p1.Value, p1.NextLink)
			}
			var p2 listPage
			alice.Must(200, "GET", p1.NextLink, nil).JSON(t, &p2)
			if len(p2.Value) != 2 || p2.NextLink != "" || p2.Value[1]["id"] != rootID {
				t.Fatalf("page 2 = %v (next %q), want top 0 and the root", p2.Value, p2.NextLink)
			}
			if rs := list(t, bob, base+"/"+rootID+"/replies"); len(rs.Value) != 1 || rs.Value[0]["id"] != replyID {
				t.Fatalf("replies = %v", rs.Value)
			}
			// With $expand=replies each top-level message carries its thread.
			ex := list(t, bob, base+"?$expand=replies&$top=50")
			for _, m := range ex.Value {
				rs := m["replies"].([]any)
				if want := map[bool]int{true: 1, false: 0}[m["id"] == rootID]; len(rs) != want {
					t.Fatalf("expanded %v: replies %v, want %d", m["id"], rs, want)
				}
			}
			wantCode(t, bob.Do("GET", base+"?$expand=members", nil), 400, "badRequest")
			wantCode(t, bob.Do("GET", base+"/"+rootID+"/replies?$expand=replies", nil), 400, "badRequest")
			if ms := list(t, gina, "/v1.0/teams/"+id+"/channels/"+general+"/members"); len(ms.Value) != 3 {
				t.Fatalf("channel members = %v, want the team's 3", ms.Value)
			}
			wantCode(t, alice.Do("GET", base+"?$skiptoken=abc", nil), 400, "badRequest")
			// Edits and deletes: the sender's own.
			wantCode(t, alice.Do("PATCH", base+"/"+rootID, map[string]any{"body": map[string]string{"content": "mine"}}), 403, "forbidden")
			bob.Must(204, "PATCH", base+"/"+rootID, map[string]any{"body": map[string]string{"content": "Plan B"}})
			got := alice.Must(200, "GET", base+"/"+rootID, nil).Map(t)
			if got["body"].(map[string]any)["content"] != "Plan B" || got["lastEditedDateTime"] == nil {
				t.Fatalf("edited = %v", got)
			}
			wantCode(t, bob.Do("DELETE", base+"/"+rootID+"/replies/"+replyID, nil), 403, "forbidden")
			gina.Must(204, "POST", base+"/"+rootID+"/replies/"+replyID+"/softDelete", nil)
			gone := alice.Must(200, "GET", base+"/"+rootID+"/replies/"+replyID, nil).Map(t)
			if gone["deletedDateTime"] == nil || gone["body"].(map[string]any)["content"] != "" {
				t.Fatalf("deleted reply = %v", gone)
			}
			bob.Must(204, "DELETE", base+"/"+rootID, nil)
			// The thread keeps its (deleted) reply.
			if rs := list(t, bob, base+"/"+rootID+"/replies"); len(rs.Value) != 1 {
				t.Fatalf("replies after deleting the root = %v", rs.Value)
			}
			wantCode(t, alice.Do("POST", base, map[string]any{"body": map[string]string{"content": ""}}), 400, "badRequest")
			wantCode(t, alice.Do("GET", base+"/999999999", nil), 404, "notFound")
			wantCode(t, alice.Do("GET", base+"/abc", nil), 404, "notFound")
		})

		t.Run("mentions: people of the team, @team and @channel; cards", func(t *testing.T) {
			id, general := createTeam(t, alice, "Mentions")
			addMember(t, alice, id, bob.UserID)
			base := "/v1.0/teams/" + id + "/channels/" + general + "/messages"
			msg := map[string]any{
				"body": map[string]string{"contentType": "html", "content": `<at id="0">Bob</at> <at id="1">Mentions</at> <at id="2">General</at>`},
				"mentions": []any{
					map[string]any{"id": 0, "mentionText": "Bob", "mentioned": map[string]any{"user": map[string]any{"id": bob.UserID}}},
					map[string]any{"id": 1, "mentionText": "Mentions", "mentioned": map[string]any{"conversation": map[string]any{"id": id, "conversationIdentityType": "team"}}},
					map[string]any{"id": 2, "mentionText": "General", "mentioned": map[string]any{"conversation": map[string]any{"id": general, "conversationIdentityType": "channel"}}},
				},
				"attachments": []any{map[string]any{"id": "c1", "contentType": "application/vnd.microsoft.card.adaptive",
					"content": `{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"Hi"}]}`}},
			}
			m := alice.Must(201, "POST", base, msg).Map(t)
			ms := m["mentions"].([]any)
			if len(ms) != 3 || len(m["attachments"].([]any)) != 1 {
				t.Fatalf("message = %v", m)
			}
			conv := ms[1].(map[string]any)["mentioned"].(map[string]any)["conversation"].(map[string]any)
			if conv["conversationIdentityType"] != "team" || conv["id"] != id {
				t.Fatalf("@team mention = %v", ms[1])
			}
			conv = ms[2].(map[string]any)["mentioned"].(map[string]any)["conversation"].(map[string]any)
			if conv["conversationIdentityType"] != "channel" || conv["id"] != general {
				t.Fatalf("@channel mention = %v", ms[2])
			}
			// Mentions name this team, this channel, and people in the team only.
			bad := func(mention map[string]any) {
				t.Helper()
				wantCode(t, alice.Do("POST", base, map[string]any{"body": map[string]string{"content": "x"}, "mentions": []any{mention}}), 400, "badRequest")
			}
			bad(map[string]any{"id": 0, "mentionText": "Carol", "mentioned": map[string]any{"user": map[string]any{"id": w.carol.UserID}}})
			bad(map[string]any{"id": 0, "mentionText": "Other", "mentioned": map[string]any{"conversation": map[string]any{"id": "someteam", "conversationIdentityType": "team"}}})
			bad(map[string]any{"id": 0, "mentionText": "Other", "mentioned": map[string]any{"conversation": map[string]any{"id": id, "conversationIdentityType": "channel"}}})
			bad(map[string]any{"id": 0, "mentionText": "Other", "mentioned": map[string]any{"conversation": map[string]any{"id": id, "conversationIdentityType": "meeting"}}})
			// A card with an unsafe link is refused, as in chats.
			wantCode(t, alice.Do("POST", base, map[string]any{"body": map[string]string{"content": "x"}, "attachments": []any{map[string]any{"contentType": "application/vnd.microsoft.card.adaptive",
				"content": `{"type":"AdaptiveCard","version":"1.5","actions":[{"type":"Action.OpenUrl","url":"javascript:alert(1)"}]}`}}}), 400, "badRequest")
			// A chat message cannot carry a conversation mention.
			chatID := alice.OneOnOne(bob.UserID)
			wantCode(t, alice.Do("POST", "/v1.0/chats/"+chatID+"/messages", map[string]any{"body": map[string]string{"content": "x"},
				"mentions": []any{map[string]any{"id": 0, "mentionText": "T", "mentioned": map[string]any{"conversation": map[string]any{"id": id, "conversationIdentityType": "team"}}}}}), 400, "badRequest")
		})

		t.Run("read state: unread counts and read marks per member", func(t *testing.T) {
			id, general := createTeam(t, alice, "Reads")
			addMember(t, alice, id, bob.UserID)
			base := "/v1.0/teams/" + id + "/channels/" + general
			post(t, alice, base+"/messages", "one")
			post(t, alice, base+"/messages", "two")
			c := bob.Must(200, "GET", base, nil).Map(t)
			if c["unreadCount"] != float64(2) || c["viewpoint"].(map[string]any)["lastMessageReadDateTime"] != nil {
				t.Fatalf("bob's channel = %v, want 2 unread", c)
			}
			if a := alice.Must(200, "GET", base, nil).Map(t); a["unreadCount"] != float64(0) {
				t.Fatalf("alice's own messages count as unread: %v", a)
			}
			bob.Must(204, "POST", "/parley/v1/teams/"+id+"/channels/"+general+"/markRead", nil)
			c = bob.Must(200, "GET", base, nil).Map(t)
			if c["unreadCount"] != float64(0) || c["viewpoint"].(map[string]any)["lastMessageReadDateTime"] == nil {
				t.Fatalf("after markRead = %v", c)
			}
			bob.Must(204, "POST", "/parley/v1/teams/"+id+"/channels/"+general+"/markUnread", nil)
			if c = bob.Must(200, "GET", base, nil).Map(t); c["unreadCount"] != float64(2) {
				t.Fatalf("after markUnread = %v", c)
			}
			wantCode(t, w.carol.Do("POST", "/parley/v1/teams/"+id+"/channels/"+general+"/markRead", nil), 404, "notFound")
		})

		t.Run("not a member: every id in a path is notFound, never forbidden", func(t *testing.T) {
			id, general := createTeam(t, alice, "Private")
			addMember(t, alice, id, bob.UserID)
			mid := post(t, bob, "/v1.0/teams/"+id+"/channels/"+general+"/messages", "secret")
			base := "/v1.0/teams/" + id
			cbase := base + "/channels/" + general
			for _, outsider := range []*parleytest.Client{carol, gina, eve, petra} {
				for _, rq := range []struct{ method, path string }{
					{"GET", base}, {"PATCH", base}, {"GET", base + "/members"}, {"POST", base + "/members"}, {"GET", base + "/members/" + bob.UserID},
					{"DELETE", base + "/members/" + bob.UserID}, {"GET", base + "/channels"}, {"POST", base + "/channels"}, {"GET", base + "/primaryChannel"},
					{"GET", cbase}, {"PATCH", cbase}, {"DELETE", cbase}, {"GET", cbase + "/messages"}, {"POST", cbase + "/messages"},
					{"GET", cbase + "/messages/" + mid}, {"PATCH", cbase + "/messages/" + mid}, {"DELETE", cbase + "/messages/" + mid},
					{"GET", cbase + "/messages/" + mid + "/replies"}, {"POST", cbase + "/messages/" + mid + "/replies"},
					{"POST", "/parley/v1/teams/" + id + "/channels/" + general + "/markRead"},
				} {
					var body any
					switch {
					case strings.HasSuffix(rq.path, "/markRead"):
					case rq.method == "POST", rq.method == "PATCH":
						body = map[string]any{"displayName": "x", "body": map[string]string{"content": "x"}, "roles": []string{}, "user@odata.bind": bindURL(outsider.UserID)}
					}
					r := outsider.Do(rq.method, rq.path, body)
					if r.Status != 404 || r.ErrorCode() != "notFound" {
						t.Errorf("%s %s as an outsider: got %d %s, want 404 notFound", rq.method, rq.path, r.Status, r.Body)
					}
				}
			}
			// The same answer as for a team that does not exist.
			a := carol.Do("GET", base, nil)
			b := carol.Do("GET", "/v1.0/teams/00000000-0000-7000-8000-000000000000", nil)
			if a.Status != b.Status || strings.Replace(string(a.Body), id, "X", 1) != strings.Replace(string(b.Body), "00000000-0000-7000-8000-000000000000", "X", 1) {
				t.Errorf("existing team %s vs unknown %s", a.Body, b.Body)
			}
			// A channel is no chat: the chat paths do not reach it, even for its members.
			for _, rq := range []struct{ method, path string }{
				{"GET", "/v1.0/chats/" + general}, {"GET", "/v1.0/chats/" + general + "/messages"}, {"GET", "/v1.0/chats/" + general + "/members"},
				{"POST", "/v1.0/chats/" + general + "/messages"}, {"PATCH", "/v1.0/chats/" + general + "/messages/" + mid},
			} {
				var body any
				if rq.method != "GET" {
					body = map[string]any{"body": map[string]string{"content": "x"}}
				}
				if r := bob.Do(rq.method, rq.path, body); r.Status != 404 {
					t.Errorf("%s %s as a member of the team: got %d %s, want 404", rq.method, rq.path, r.Status, r.Body)
				}
			}
			// A channel of another team through this team's path: notFound.
			other, otherGeneral := createTeam(t, alice, "Other")
			wantCode(t, alice.Do("GET", "/v1.0/teams/"+other+"/channels/"+general, nil), 404, "notFound")
			wantCode(t, alice.Do("GET", "/v1.0/teams/"+id+"/channels/"+otherGeneral+"/messages", nil), 404, "notFound")
			wantCode(t, alice.Do("GET", "/v1.0/teams/"+other+"/channels/"+otherGeneral+"/messages/"+mid, nil), 404, "notFound")
		})

		t.Run("guests see only the teams they are in, and those teams' people", func(t *testing.T) {
			id, _ := createTeam(t, alice, "With guest")
			createTeam(t, alice, "Without guest")
			if n := len(list(t, gina, "/v1.0/me/joinedTeams").Value); n != 0 {
				// gina was added to teams of earlier subtests; count only this one's.
				_ = n
			}
			before := list(t, gina, "/v1.0/teams").Value
			addMember(t, alice, id, gina.UserID)
			addMember(t, alice, id, carol.UserID)
			after := list(t, gina, "/v1.0/teams").Value
			if len(after) != len(before)+1 || !slices.ContainsFunc(after, func(m map[string]any) bool { return m["id"] == id }) ||
				slices.ContainsFunc(after, func(m map[string]any) bool { return m["displayName"] == "Without guest" }) {
				t.Fatalf("guest's teams = %v, want those it is in", after)
			}
			// Sharing a team makes its people visible to the guest; others stay hidden.
			gina.Must(200, "GET", "/v1.0/users/"+carol.UserID, nil)
			x := w.s.User(w.contoso, "xavier", false)
			wantCode(t, gina.Do("GET", "/v1.0/users/"+x.UserID, nil), 404, "notFound")
			var users listPage
			gina.Must(200, "GET", "/v1.0/users", nil).JSON(t, &users)
			for _, u := range users.Value {
				if u["id"] == x.UserID {
					t.Fatalf("guest's directory shows xavier, who shares nothing with it: %v", users.Value)
				}
			}
		})

		t.Run("the admin lists the organisation's teams; nobody else, no other organisation's", func(t *testing.T) {
			id, _ := createTeam(t, alice, "Audited")
			all := list(t, w.contoso.Admin, "/parley/v1/admin/teams?$top=50")
			if !slices.ContainsFunc(all.Value, func(m map[string]any) bool { return m["id"] == id }) {
				t.Fatalf("admin's teams = %v, want %s", all.Value, id)
			}
			if ft := list(t, w.fabrikam.Admin, "/parley/v1/admin/teams").Value; len(ft) != 0 {
				t.Fatalf("Fabrikam's admin sees %v", ft)
			}
			wantCode(t, bob.Do("GET", "/parley/v1/admin/teams", nil), 403, "forbidden")
			// Paging follows nextLink to the end without repeats.
			seen := map[string]bool{}
			next := "/parley/v1/admin/teams?$top=2"
			for next != "" {
				var p listPage
				w.contoso.Admin.Must(200, "GET", next, nil).JSON(t, &p)
				for _, tm := range p.Value {
					if seen[tm["id"].(string)] {
						t.Fatalf("team %v twice", tm["id"])
					}
					seen[tm["id"].(string)] = true
				}
				next = p.NextLink
			}
			if len(seen) != len(all.Value) {
				t.Fatalf("paged %d teams, want %d", len(seen), len(all.Value))
			}
		})

		t.Run("audit: team created, members added (guests flagged) and removed, channels created and deleted", func(t *testing.T) {
			id, _ := createTeam(t, alice, "Audit trail")
			addMember(t, alice, id, gina.UserID)
			cid := alice.Must(201, "POST", "/v1.0/teams/"+id+"/channels", map[string]any{"displayName": "Temp"}).Map(t)["id"].(string)
			alice.Must(204, "DELETE", "/v1.0/teams/"+id+"/channels/"+cid, nil)
			alice.Must(204, "DELETE", "/v1.0/teams/"+id+"/members/"+gina.UserID, nil)
			var recs listPage
			w.contoso.Admin.Must(200, "GET", "/parley/v1/admin/audit?$top=50", nil).JSON(t, &recs)
			found := map[string]map[string]any{}
			for _, r := range recs.Value {
				d, _ := r["details"].(map[string]any)
				if r["target"] == id || (d != nil && d["teamId"] == id) {
					found[r["action"].(string)] = r
				}
			}
			for _, a := range []string{"team.created", "team.memberAdded", "team.channelCreated", "team.channelDeleted", "team.memberRemoved"} {
				if found[a] == nil {
					t.Errorf("no %s record for the team in %v", a, recs.Value)
				}
			}
			if d := found["team.memberAdded"]["details"].(map[string]any); d["guest"] != true || d["userId"] != gina.UserID {
				t.Errorf("memberAdded details = %v, want the guest flagged", d)
			}
			if found["team.created"]["actor"] != alice.UserID {
				t.Errorf("created by %v", found["team.created"]["actor"])
			}
		})

		t.Run("real time: members get channel and team events with team and channel ids, and replay", func(t *testing.T) {
			id, general := createTeam(t, alice, "Live")
			ev := bob.Events(-1)
			addMember(t, alice, id, bob.UserID)
			added := ev.WaitFor("memberAdded of the team", 5*time.Second, func(es []parleytest.Event) bool {
				return slices.ContainsFunc(es, func(e parleytest.Event) bool { return e.Type == "memberAdded" && e.Raw["teamId"] == id })
			})
			// The memberAdded's seq (ephemeral events, presence, have none).
			since := added[slices.IndexFunc(added, func(e parleytest.Event) bool { return e.Type == "memberAdded" && e.Raw["teamId"] == id })].Seq
			mid := post(t, alice, "/v1.0/teams/"+id+"/channels/"+general+"/messages", "hello team")
			evs := ev.WaitFor("messageCreated in General", 5*time.Second, func(es []parleytest.Event) bool {
				return slices.ContainsFunc(es, func(e parleytest.Event) bool { return e.Type == "messageCreated" && e.ChatID == general })
			})
			e := evs[slices.IndexFunc(evs, func(e parleytest.Event) bool { return e.Type == "messageCreated" && e.ChatID == general })]
			msg := e.Raw["message"].(map[string]any)
			if e.Raw["teamId"] != id || e.Raw["channelId"] != general || msg["id"] != mid {
				t.Fatalf("event = %v", e.Raw)
			}
			alice.Must(201, "POST", "/v1.0/teams/"+id+"/channels", map[string]any{"displayName": "Ops"})
			ev.WaitFor("channelCreated", 5*time.Second, func(es []parleytest.Event) bool {
				return slices.ContainsFunc(es, func(e parleytest.Event) bool { return e.Type == "channelCreated" && e.Raw["teamId"] == id })
			})
			ev.Close()
			// A reconnect replays what came after since.
			re := bob.Events(since)
			got := re.WaitFor("replay", 5*time.Second, func(es []parleytest.Event) bool {
				return slices.ContainsFunc(es, func(e parleytest.Event) bool { return e.Type == "channelCreated" })
			})
			got = slices.DeleteFunc(got, func(e parleytest.Event) bool { return e.Seq == 0 })
			if got[0].Type != "messageCreated" || got[0].Seq != since+1 {
				t.Fatalf("replay = %v, want messageCreated at %d first", got, since+1)
			}
			// Outsiders get nothing of it.
			for _, e := range carol.Events(0).Events() {
				if e.Raw["teamId"] == id {
					t.Fatalf("carol got %v", e.Raw)
				}
			}
		})

		t.Run("reactions and typing: everyone in the team, as in chats; outsiders 404", func(t *testing.T) {
			id, general := createTeam(t, alice, "Reactions")
			addMember(t, alice, id, gina.UserID)
			base := "/v1.0/teams/" + id + "/channels/" + general + "/messages"
			root := post(t, alice, base, "vote")
			reply := post(t, alice, base+"/"+root+"/replies", "here")
			ev := alice.Events(-1)
			gina.Must(204, "POST", base+"/"+root+"/setReaction", map[string]any{"reactionType": "like"})
			gina.Must(204, "POST", base+"/"+root+"/setReaction", map[string]any{"reactionType": "like"}) // again: no change
			gina.Must(204, "POST", base+"/"+root+"/replies/"+reply+"/setReaction", map[string]any{"reactionType": "👍"})
			m := alice.Must(200, "GET", base+"/"+root, nil).Map(t)
			rs := m["reactions"].([]any)
			if len(rs) != 1 || rs[0].(map[string]any)["reactionType"] != "like" {
				t.Fatalf("reactions = %v", m["reactions"])
			}
			if rs := alice.Must(200, "GET", base+"/"+root+"/replies/"+reply, nil).Map(t)["reactions"].([]any); len(rs) != 1 {
				t.Fatalf("reply's reactions = %v", rs)
			}
			evs := ev.WaitCount("messageUpdated", 2, 5*time.Second)
			if n := parleytest.Count(evs, "messageUpdated"); n != 2 {
				t.Fatalf("messageUpdated events = %d, want 2 (a repeated reaction changes nothing)", n)
			}
			if e := evs[len(evs)-1]; e.Raw["teamId"] != id || e.Raw["message"].(map[string]any)["replyToId"] != root {
				t.Fatalf("reply's reaction event = %v", e.Raw)
			}
			gina.Must(204, "POST", base+"/"+root+"/unsetReaction", map[string]any{"reactionType": "like"})
			if rs := alice.Must(200, "GET", base+"/"+root, nil).Map(t)["reactions"].([]any); len(rs) != 0 {
				t.Fatalf("after unset = %v", rs)
			}
			wantCode(t, gina.Do("POST", base+"/"+root+"/setReaction", map[string]any{"reactionType": "not an emoji"}), 400, "badRequest")
			wantCode(t, gina.Do("POST", base+"/"+reply+"/setReaction", map[string]any{"reactionType": "like"}), 404, "notFound")
			wantCode(t, carol.Do("POST", base+"/"+root+"/setReaction", map[string]any{"reactionType": "like"}), 404, "notFound")
			// Typing reaches the others, ephemeral.
			gina.Must(204, "POST", "/parley/v1/teams/"+id+"/channels/"+general+"/typing", nil)
			typing := ev.WaitCount("typing", 1, 5*time.Second)
			e := typing[slices.IndexFunc(typing, func(e parleytest.Event) bool { return e.Type == "typing" })]
			if e.Seq != 0 || e.Raw["channelId"] != general || e.Raw["user"].(map[string]any)["id"] != gina.UserID {
				t.Fatalf("typing = %v", e.Raw)
			}
			wantCode(t, carol.Do("POST", "/parley/v1/teams/"+id+"/channels/"+general+"/typing", nil), 404, "notFound")
		})

		t.Run("bad input changes nothing", func(t *testing.T) {
			id, general := createTeam(t, alice, "Input")
			wantCode(t, alice.Do("POST", "/v1.0/teams", "{"), 400, "badRequest")
			wantCode(t, alice.Do("POST", "/v1.0/teams/"+id+"/members", `{"roles":"owner"}`), 400, "badRequest")
			wantCode(t, alice.Do("PATCH", "/v1.0/teams/"+id+"/members/"+alice.UserID, map[string]any{"roles": []string{"admin"}}), 400, "badRequest")
			wantCode(t, alice.Do("POST", "/v1.0/teams/"+id+"/channels/"+general+"/messages", map[string]any{}), 400, "badRequest")
			wantCode(t, alice.Do("GET", "/v1.0/teams/"+id+"/members?$skiptoken=zz", nil), 400, "badRequest")
			wantCode(t, alice.Do("GET", "/v1.0/teams?$top=-1", nil), 400, "badRequest")
			wantCode(t, alice.Do("POST", "/parley/v1/teams/"+id+"/channels/"+general+"/markRead", `{"x":1}`), 400, "badRequest")
		})
	})
}

func bindURL(id string) string {
	return "https://graph.microsoft.com/v1.0/users('" + url.PathEscape(id) + "')"
}
