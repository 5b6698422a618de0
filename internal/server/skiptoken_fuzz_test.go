package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
)

// FuzzListSkipToken sends arbitrary $skiptokens to every paged list of
// the API, through the real routes: every list reads the one token format
// of paging.go, and a token is answered with 200 and a page, or 400
// badRequest, never 5xx; the seeds are the real nextLink tokens, and each
// list is also sent every other list's (a token of the wrong shape).
func FuzzListSkipToken(f *testing.F) {
	s := parleytest.StartStore(f, "sqlite")
	contoso := s.CreateTenant("Contoso", "contoso.com")
	admin := contoso.Admin
	alice := s.User(contoso, "alice", false)
	bob := s.User(contoso, "bob", false)
	chat := admin.OneOnOne(alice.UserID)
	admin.OneOnOne(bob.UserID)
	for _, text := range []string{"one", "two", "three"} {
		admin.Send(chat, text)
	}
	// Two requests to the admin from another organisation, two blocks and
	// a policy beside Global: every list has a second page.
	fabrikam := s.CreateTenant("Fabrikam", "fabrikam.com")
	for _, n := range []string{"erin", "frank"} {
		c := s.User(fabrikam, n, false)
		r := c.ChatWith(parleytest.ByEmail("admin@contoso.com"))
		if r.Status != http.StatusCreated {
			f.Fatalf("request to the admin: %d %s", r.Status, r.Body)
		}
		c.Send(r.Map(f)["id"].(string), "hello")
	}
	for _, u := range []*parleytest.Client{alice, bob} {
		admin.Must(http.StatusNoContent, "POST", "/parley/v1/me/blockedUsers", map[string]any{"userId": u.UserID})
	}
	admin.Must(http.StatusCreated, "POST", "/parley/v1/admin/externalAccessPolicies", map[string]any{"name": "Partners", "enableFederationAccess": false})
	// Two teams, two members, two channels, two messages with two replies.
	team := admin.Must(http.StatusCreated, "POST", "/v1.0/teams", map[string]any{"displayName": "One"}).Map(f)["id"].(string)
	admin.Must(http.StatusCreated, "POST", "/v1.0/teams", map[string]any{"displayName": "Two"})
	admin.Must(http.StatusCreated, "POST", "/v1.0/teams/"+team+"/members", parleytest.Bind(alice.UserID, false))
	channel := admin.Must(http.StatusCreated, "POST", "/v1.0/teams/"+team+"/channels", map[string]any{"displayName": "Second"}).Map(f)["id"].(string)
	msgs := "/v1.0/teams/" + team + "/channels/" + channel + "/messages"
	var root string
	for _, text := range []string{"one", "two"} {
		root = admin.Must(http.StatusCreated, "POST", msgs, map[string]any{"body": map[string]string{"content": text}}).Map(f)["id"].(string)
		admin.Must(http.StatusCreated, "POST", msgs+"/"+root+"/replies", map[string]any{"body": map[string]string{"content": text}})
		admin.Must(http.StatusCreated, "POST", msgs+"/"+root+"/replies", map[string]any{"body": map[string]string{"content": text}})
	}
	lists := []string{
		"/v1.0/me/joinedTeams?$top=1",
		"/v1.0/teams/" + team + "/members?$top=1",
		"/v1.0/teams/" + team + "/channels?$top=1",
		msgs + "?$top=1",
		msgs + "/" + root + "/replies?$top=1",
		"/parley/v1/admin/teams?$top=1",
		"/v1.0/me/chats?$top=1",
		"/v1.0/chats/" + chat + "/messages?$top=1",
		"/v1.0/chats/" + chat + "/members?$top=1",
		"/v1.0/users?$top=1",
		"/parley/v1/admin/audit?$top=1",
		"/parley/v1/me/requests?$top=1",
		"/parley/v1/me/blockedUsers?$top=1",
		"/parley/v1/admin/externalAccessPolicies?$top=1",
	}
	var real []string
	for _, l := range lists {
		var p struct {
			NextLink string `json:"@odata.nextLink"`
		}
		admin.Must(http.StatusOK, "GET", l, nil).JSON(f, &p)
		if p.NextLink == "" {
			f.Fatalf("GET %s: no nextLink; the seeds need a real token of every list", l)
		}
		u, err := url.Parse(p.NextLink)
		if err != nil {
			f.Fatal(err)
		}
		real = append(real, u.Query().Get("$skiptoken"))
	}
	for i := range lists {
		for _, tok := range real {
			f.Add(uint8(i), tok)
		}
		for _, junk := range []string{"", "x", "0", "-1", "MTcwMDAwMDAwMDAwMDAwMHw", "fA", "WyIxIiwiIl0", "WyJhIiwiYiJd", "9223372036854775808"} {
			f.Add(uint8(i), junk)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, tok string) {
		c := *admin
		c.TB = t
		path := lists[int(which)%len(lists)] + "&$skiptoken=" + url.QueryEscape(tok)
		r := c.Do("GET", path, nil)
		switch r.Status {
		case http.StatusOK:
			var p struct {
				Value    []json.RawMessage `json:"value"`
				NextLink string            `json:"@odata.nextLink"`
			}
			if err := json.Unmarshal(r.Body, &p); err != nil || p.Value == nil {
				t.Fatalf("GET %s: 200 with %s, want a page", path, r.Body)
			}
			if p.NextLink != "" {
				if next := c.Do("GET", p.NextLink, nil); next.Status != http.StatusOK {
					t.Fatalf("GET %s: its nextLink %s answers %d %s", path, p.NextLink, next.Status, next.Body)
				}
			}
		case http.StatusBadRequest:
			if r.ErrorCode() != "badRequest" {
				t.Fatalf("GET %s: 400 with %s, want badRequest", path, r.Body)
			}
		default:
			t.Fatalf("GET %s: got %d %s, want 200 or 400", path, r.Status, r.Body)
		}
	})
}
