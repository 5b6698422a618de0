package server_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestS7_SearchChannels: channel messages are searchable by the people of
// the team now (a guest in its teams only), not by anyone else, not after
// leaving, not once the channel is deleted; in: takes a channel's id or a
// piece of its name; a hit names its team and channel (chatId null).
func TestS7_SearchChannels(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		d := newDaily(t, store)
		gina := d.s.User(d.contoso, "gina@gmail.com", true) // Contoso's guest
		team, general := createTeam(t, d.alice, "Marketing")
		addMember(t, d.alice, team, d.bob.UserID)
		addMember(t, d.alice, team, gina.UserID, "guest")
		design := d.alice.Must(201, "POST", "/v1.0/teams/"+team+"/channels", map[string]any{"displayName": "Design"}).Map(t)["id"].(string)
		inGeneral := post(t, d.bob, "/v1.0/teams/"+team+"/channels/"+general+"/messages", "the pelican campaign starts monday")
		inDesign := post(t, d.alice, "/v1.0/teams/"+team+"/channels/"+design+"/messages", "pelican logo drafts")
		reply := post(t, gina, "/v1.0/teams/"+team+"/channels/"+general+"/messages/"+inGeneral+"/replies", "pelican copy is ready")
		chat := d.alice.OneOnOne(d.carol.UserID)
		inChat := d.alice.Send(chat, "pelican plush for carol")

		expectFound(t, d.alice, "pelican", inChat, reply, inDesign, inGeneral)
		expectFound(t, d.bob, "pelican", reply, inDesign, inGeneral)
		expectFound(t, gina, "pelican", reply, inDesign, inGeneral)
		expectFound(t, d.carol, "pelican", inChat) // not in the team
		expectFound(t, d.erin, "pelican")          // another organisation

		expectFound(t, d.bob, "in:"+design+" pelican", inDesign)
		expectFound(t, d.bob, "in:desi pelican", inDesign)
		expectFound(t, d.alice, "in:general pelican", reply, inGeneral)
		expectFound(t, d.bob, "pelican from:gina@gmail.com", reply)

		hits := graphSearch(t, gina, "logo")
		if len(hits) != 1 || hits[0].HitID != inDesign {
			t.Fatalf("graph search: %+v", hits)
		}
		var raw struct {
			Value []struct {
				Resource map[string]any `json:"resource"`
			} `json:"value"`
		}
		gina.Must(200, "GET", "/parley/v1/search/messages?q="+url.QueryEscape("logo"), nil).JSON(t, &raw)
		res := raw.Value[0].Resource
		ci, _ := res["channelIdentity"].(map[string]any)
		if res["chatId"] != nil || ci["teamId"] != team || ci["channelId"] != design {
			t.Fatalf("channel hit: chatId %v, channelIdentity %v", res["chatId"], ci)
		}
		var chatRaw struct {
			Value []struct {
				Resource map[string]any `json:"resource"`
			} `json:"value"`
		}
		d.alice.Must(200, "GET", "/parley/v1/search/messages?q="+url.QueryEscape("plush"), nil).JSON(t, &chatRaw)
		if res := chatRaw.Value[0].Resource; res["chatId"] != chat || res["channelIdentity"] != nil {
			t.Fatalf("chat hit: %v", res)
		}

		// Leaving the team, and a deleted channel, end it at once.
		d.bob.Must(204, "DELETE", "/v1.0/teams/"+team+"/members/"+d.bob.UserID, nil)
		expectFound(t, d.bob, "pelican")
		d.alice.Must(204, "DELETE", "/v1.0/teams/"+team+"/channels/"+design, nil)
		expectFound(t, gina, "pelican", reply, inGeneral)
		expectFound(t, d.alice, "pelican", inChat, reply, inGeneral)
	})
}

// TestS7_GraphPeopleSearch: Graph's GET /v1.0/users?$search="displayName:…"
// (ConsistencyLevel: eventual tolerated) answers only what people search
// may show: one's own organisation and accepted contacts, never an
// outsider, not even by the full address (docs/rules.md §4, §6).
func TestS7_GraphPeopleSearch(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		d := newDaily(t, store)
		users := func(c *parleytest.Client, search string) string {
			t.Helper()
			r := c.DoHeader("GET", "/v1.0/users?$search="+url.QueryEscape(search), nil, map[string]string{"ConsistencyLevel": "eventual"})
			if r.Status != 200 {
				return r.ErrorCode()
			}
			var out struct {
				Value []struct {
					UserPrincipalName string `json:"userPrincipalName"`
				} `json:"value"`
				NextLink string `json:"@odata.nextLink"`
			}
			r.JSON(t, &out)
			if out.NextLink != "" {
				t.Fatalf("people search pages: %s", out.NextLink)
			}
			var names []string
			for _, u := range out.Value {
				names = append(names, u.UserPrincipalName)
			}
			return strings.Join(names, " ")
		}
		if got := users(d.alice, `"displayName:bo"`); got != "bob@contoso.com" {
			t.Fatalf("own organisation: %q", got)
		}
		if got := users(d.alice, `"displayName:bob" OR "mail:carol@"`); got != "bob@contoso.com carol@contoso.com" {
			t.Fatalf("two clauses: %q", got)
		}
		for _, q := range []string{`"displayName:erin"`, `"mail:erin@fabrikam.com"`, `"userPrincipalName:erin@fabrikam.com"`, `"displayName:e"`} {
			if got := users(d.alice, q); got != "" {
				t.Fatalf("outsider suggested for %s: %q", q, got)
			}
		}
		id := d.erin.ChatWith(parleytest.ByEmail("alice@contoso.com")).Map(t)["id"].(string)
		d.erin.Send(id, "hi")
		if got := users(d.erin, `"displayName:alice"`); got != "" {
			t.Fatalf("pending target suggested to the sender: %q", got)
		}
		d.alice.Must(204, "POST", "/parley/v1/me/requests/"+id+"/accept", nil)
		if got := users(d.alice, `"displayName:erin"`); got != "erin@fabrikam.com" {
			t.Fatalf("accepted contact: %q", got)
		}
		for _, bad := range []string{`displayName:bob`, `"jobTitle:boss"`, `"displayName:"`, ``} {
			if got := users(d.alice, bad); got != "badRequest" {
				t.Errorf("$search=%s: %q", bad, got)
			}
		}
		if r := d.alice.Do("GET", "/v1.0/users?$search="+url.QueryEscape(`"displayName:bob"`)+"&$filter="+url.QueryEscape("userPrincipalName eq 'bob@contoso.com'"), nil); r.Status != 400 {
			t.Errorf("$search with $filter: %d", r.Status)
		}
	})
}
